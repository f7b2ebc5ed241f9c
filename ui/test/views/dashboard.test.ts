// The dashboard (issue 14): overview rows and exact totals, accounts opening by keyboard,
// positions sorted and filtered, computed and missing figures, freshness, auto-refresh, and a
// refresh that keeps the figures on screen.
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { AccountDetail } from "../../src/bindings/AccountDetail";
import type { Position } from "../../src/bindings/Position";
import { AUTO_REFRESH_KEY } from "../../src/controller";
import { $, ACCOUNTS, cmds, deferred, flush, input, ipc, PROFILE, RETURNING, start, useBackend } from "../harness";

useBackend();

beforeEach(() => localStorage.clear());

const pos = (over: Partial<Position>): Position => ({
  symbol: "AAPL",
  instrument_type: "Equity",
  quantity: "10",
  direction: "long",
  average_price: "150",
  mark: "160",
  market_value: "1600",
  multiplier: "1",
  price_kind: "mark",
  market_value_source: "broker",
  unrealized_pl: "100",
  unrealized_pl_percent: "6.6667",
  unrealized_pl_source: "broker",
  day_pl: "12.5",
  missing: null,
  ...over,
});

const POSITIONS: Position[] = [
  pos({}),
  pos({
    symbol: "SPY   261218P00550000",
    instrument_type: "Equity Option",
    quantity: "2",
    direction: "short",
    average_price: "7.85",
    mark: "6.05",
    multiplier: "100",
    market_value: "-1210",
    market_value_source: "computed",
    unrealized_pl: "360",
    unrealized_pl_percent: "22.93",
    unrealized_pl_source: "computed",
    day_pl: null,
  }),
  pos({
    symbol: "XYZ",
    mark: null,
    price_kind: null,
    market_value: null,
    market_value_source: null,
    unrealized_pl: null,
    unrealized_pl_percent: null,
    unrealized_pl_source: null,
    day_pl: null,
    missing: "no price from the broker",
  }),
  pos({ symbol: "MSFT", quantity: "3", market_value: "1200", unrealized_pl: "-30.5", unrealized_pl_percent: "-2.48" }),
];

function rich(number: string, nlv = "1234567.50"): AccountDetail {
  const first = number === "5WX01234";
  return {
    number,
    balances: {
      currency: "USD",
      lines: first
        ? [
            { key: "net_liquidating_value", label: "Net liquidating value", value: nlv },
            { key: "cash", label: "Cash balance", value: "0.10" },
            { key: "buying_power", label: "Buying power", value: "2000" },
            { key: "day_profit_loss", label: "Day P/L", value: "-350.25" },
          ]
        : [
            { key: "net_liquidating_value", label: "Net liquidating value", value: "-12.05" },
            { key: "cash", label: "Cash balance", value: "0.2" },
            { key: "day_profit_loss", label: "Day P/L", value: "100.25" },
          ],
    },
    positions: first ? POSITIONS : [],
  };
}

/** What a browser does for a focused <button>: Enter (on keydown) and Space (on keyup) click
 *  it. happy-dom does not, so the click the browser would make is made here. */
function press(el: HTMLElement, key: "Enter" | " ") {
  el.focus();
  const down = new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true });
  el.dispatchEvent(down);
  expect(el.tagName).toBe("BUTTON");
  if (!down.defaultPrevented) el.click();
  el.dispatchEvent(new KeyboardEvent("keyup", { key, bubbles: true }));
}

const cellTexts = (row: Element) => [...row.querySelectorAll("td, th")].map((c) => c.textContent?.trim());
const symbols = () =>
  [...document.querySelectorAll("#detail-5WX01234 .positions tbody tr td:first-child")].map((c) => c.textContent);

describe("dashboard overview", () => {
  it("shows one row per account with its figures, and a total per currency summed exactly", async () => {
    ipc.handlers.account_detail = (args) => rich(args.number as string);
    await start(RETURNING(PROFILE));
    const rows = [...document.querySelectorAll("#accounts tbody tr")];
    expect(cellTexts(rows[0]).slice(0, 8)).toEqual([
      "5WX01234",
      "Individual Margin",
      "Individual",
      "Margin",
      "$1,234,567.50",
      "$0.10",
      "$2,000.00",
      "▼ −$350.25",
    ]);
    // The second account reports no buying power: its cell says so, it is not a number.
    const second = rows[1].querySelectorAll("td");
    expect(second[6].querySelector(".missing")?.getAttribute("title")).toBe("not reported by the broker");
    expect(second[7].querySelector(".gain")?.textContent).toBe("▲ +$100.25");

    const total = $("#accounts tfoot tr.total");
    expect(total.dataset.currency).toBe("USD");
    const t = total.querySelectorAll("td");
    expect(total.querySelector("th")?.getAttribute("scope")).toBe("row");
    expect(total.querySelector("th")?.textContent).toBe("Total USD (2 accounts)");
    expect(t[0].textContent).toBe("$1,234,555.45"); // 1234567.50 + -12.05, exactly
    expect(t[1].textContent).toBe("$0.30"); // 0.10 + 0.2, not 0.30000000000000004
    expect(t[2].querySelector(".missing")?.getAttribute("title")).toBe("only 1 of 2 accounts reported it");
    expect(t[3].textContent?.trim()).toBe("▼ −$250.00");
    expect($("#accounts caption").textContent).toContain("Overview");
    expect([...document.querySelectorAll("#accounts thead th")].every((th) => th.getAttribute("scope") === "col")).toBe(
      true,
    );
  });

  it("opens and closes an account by keyboard, with aria-expanded; Expand all opens every account", async () => {
    ipc.handlers.account_detail = (args) => rich(args.number as string);
    await start(RETURNING(PROFILE));
    const toggle = $("#toggle-5WX01234") as HTMLButtonElement;
    expect(toggle.type).toBe("button");
    expect(toggle.getAttribute("aria-controls")).toBe("detail-5WX01234");
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    expect($("#detail-5WX01234").hidden).toBe(true);
    press(toggle, "Enter");
    expect(toggle.getAttribute("aria-expanded")).toBe("true");
    expect($("#detail-5WX01234").hidden).toBe(false);
    expect($("#detail-5WX05678").hidden).toBe(true);
    expect(document.activeElement).toBe(toggle);
    press(toggle, " ");
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    expect($("#detail-5WX01234").hidden).toBe(true);
    press($("#expand-all"), "Enter");
    expect(ACCOUNTS.every((x) => !$(`#detail-${x.number}`).hidden)).toBe(true);
    expect($("#expand-all").textContent).toBe("Collapse all");
  });
});

describe("positions", () => {
  async function opened() {
    ipc.handlers.account_detail = (args) => rich(args.number as string);
    await start(RETURNING(PROFILE));
    $("#toggle-5WX01234").click();
  }
  const header = (col: string) => $(`#detail-5WX01234 button.sort[data-column="${col}"]`);
  const sortOf = (col: string) => header(col).closest("th")?.getAttribute("aria-sort");

  it("sorts by any column, ascending then descending, with aria-sort; empty values last", async () => {
    await opened();
    expect(symbols()).toEqual(["AAPL", "SPY   261218P00550000", "XYZ", "MSFT"]);
    expect(sortOf("market_value")).toBe("none");
    press(header("market_value"), "Enter");
    expect(sortOf("market_value")).toBe("ascending");
    expect(sortOf("symbol")).toBe("none");
    expect(symbols()).toEqual(["SPY   261218P00550000", "MSFT", "AAPL", "XYZ"]);
    press(header("market_value"), " ");
    expect(sortOf("market_value")).toBe("descending");
    expect(symbols()).toEqual(["AAPL", "MSFT", "SPY   261218P00550000", "XYZ"]);
    header("symbol").click();
    expect(sortOf("symbol")).toBe("ascending");
    expect(sortOf("market_value")).toBe("none");
    expect(symbols()).toEqual(["AAPL", "MSFT", "SPY   261218P00550000", "XYZ"]);
    header("quantity").click(); // a short sorts below a long
    expect(symbols()[0]).toBe("SPY   261218P00550000");
    expect($("#detail-5WX01234 .positions caption").textContent).toContain("Positions in account 5WX01234");
  });

  it("filters by symbol as typed, keeping the field's focus", async () => {
    await opened();
    const field = input("#position-filter");
    field.focus();
    field.value = "spy";
    field.dispatchEvent(new Event("input"));
    expect(symbols()).toEqual(["SPY   261218P00550000"]);
    expect(document.activeElement).toBe(field);
    expect($("#position-filter")).toBe(field);
    field.value = "zzz";
    field.dispatchEvent(new Event("input"));
    expect($("#detail-5WX01234 .positions-none-match").textContent).toContain("No position matches “zzz”");
    // An account without positions still says so.
    expect($("#detail-5WX05678 .positions-empty").textContent).toBe("No open positions.");
    field.value = "";
    field.dispatchEvent(new Event("input"));
    expect(symbols().length).toBe(4);
  });

  it("marks computed figures, says why a cell is empty, and shows gains and losses with a sign", async () => {
    await opened();
    const rows = [...document.querySelectorAll("#detail-5WX01234 .positions tbody tr")];
    const cells = (i: number) => rows[i].querySelectorAll("td");
    // AAPL: the broker's figures, no marker; a gain with its arrow and plus sign.
    expect(cells(0)[6].textContent).toBe("$1,600.00");
    expect(cells(0)[6].querySelector(".computed")).toBeNull();
    expect(cells(0)[7].querySelector(".gain")?.textContent).toBe("▲ +$100.00");
    expect(cells(0)[8].textContent).toBe("▲ +6.67 %");
    expect(cells(0)[9].textContent).toBe("▲ +$12.50");
    // SPY short: computed from the mark price, marked with a tooltip and screen-reader text.
    const mv = cells(1)[6];
    expect(mv.textContent).toBe("-$1,210.00≈(computed from the mark price)");
    expect(mv.querySelector(".computed")?.getAttribute("title")).toBe("computed from the mark price");
    expect(mv.querySelector(".computed .visually-hidden")?.textContent).toBe("(computed from the mark price)");
    expect(cells(1)[7].querySelector(".computed")?.getAttribute("title")).toBe(
      "computed from the mark price and the average open price",
    );
    expect(cells(1)[9].querySelector(".missing")?.getAttribute("title")).toBe("no day P/L from the broker");
    // XYZ: no price, so no value and no P/L: the reason, never a number.
    for (const i of [5, 6, 7, 8]) {
      const m = cells(2)[i].querySelector(".missing");
      expect(m?.getAttribute("title")).toBe("no price from the broker");
      expect(m?.querySelector(".visually-hidden")?.textContent).toBe("no price from the broker");
      expect(cells(2)[i].textContent).not.toMatch(/\d/);
    }
    // MSFT: a loss, with the minus sign and a down arrow as well as the colour.
    expect(cells(3)[7].querySelector(".loss")?.textContent).toBe("▼ −$30.50");
    expect(cells(3)[8].textContent).toBe("▼ −2.48 %");
  });
});

describe("freshness and refresh", () => {
  it("says how long ago each account was updated, ticking without disturbing typing", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    vi.setSystemTime(new Date(2026, 10, 25, 9, 0, 0));
    ipc.handlers.account_detail = (args) => rich(args.number as string);
    await start(RETURNING(PROFILE));
    const fresh = () => $("#accounts tbody tr td:last-child").textContent;
    expect(fresh()).toBe("updated just now");
    const field = input("#position-filter");
    field.focus();
    field.value = "SP";
    field.dispatchEvent(new Event("input"));
    field.setSelectionRange(1, 1);
    vi.advanceTimersByTime(12_000);
    expect(fresh()).toBe("updated 12 s ago");
    expect($("#detail-5WX01234 h3 time").textContent).toBe("updated 12 s ago");
    expect($("#position-filter")).toBe(field);
    expect(document.activeElement).toBe(field);
    expect(field.value).toBe("SP");
    expect(field.selectionStart).toBe(1);
    vi.advanceTimersByTime(3 * 60_000);
    expect(fresh()).toBe("updated 3 min ago");
    // No automatic refresh by default.
    expect(cmds().filter((c) => c === "list_accounts").length).toBe(1);
  });

  it("auto-refreshes at the chosen interval, remembered across launches; never below a minute", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const first = await start(RETURNING(PROFILE));
    const select = $("#auto-refresh") as HTMLSelectElement;
    expect(select.value).toBe("0");
    expect([...select.options].map((o) => o.textContent)).toEqual([
      "Off",
      "Every 1 min",
      "Every 5 min",
      "Every 15 min",
    ]);
    select.value = "5";
    select.dispatchEvent(new Event("change"));
    expect(localStorage.getItem(AUTO_REFRESH_KEY)).toBe("5");
    const lists = () => cmds().filter((c) => c === "list_accounts").length;
    vi.advanceTimersByTime(4 * 60_000);
    expect(lists()).toBe(1);
    vi.advanceTimersByTime(60_000);
    await flush();
    expect(lists()).toBe(2);
    vi.advanceTimersByTime(5 * 60_000);
    await flush();
    expect(lists()).toBe(3);

    // A new launch remembers the choice.
    first.close();
    const second = await start(RETURNING(PROFILE));
    expect(($("#auto-refresh") as HTMLSelectElement).value).toBe("5");

    // Off stops it; a remembered value that is not a choice (here 6 s) is off.
    ($("#auto-refresh") as HTMLSelectElement).value = "0";
    $("#auto-refresh").dispatchEvent(new Event("change"));
    expect(localStorage.getItem(AUTO_REFRESH_KEY)).toBe("0");
    second.close();
    localStorage.setItem(AUTO_REFRESH_KEY, "0.1");
    await start(RETURNING(PROFILE));
    expect(($("#auto-refresh") as HTMLSelectElement).value).toBe("0");
    const before = lists();
    vi.advanceTimersByTime(30 * 60_000);
    await flush();
    expect(lists()).toBe(before);
  });

  it("Refresh keeps the figures on screen while the new ones load, then shows them", async () => {
    ipc.handlers.account_detail = (args) => rich(args.number as string);
    await start(RETURNING(PROFILE));
    $("#toggle-5WX01234").click();
    const nlv = () => $('#detail-5WX01234 dd[data-key="net_liquidating_value"]').textContent;
    expect(nlv()).toBe("$1,234,567.50");
    const list = deferred<typeof ACCOUNTS>();
    const pending: Record<string, ReturnType<typeof deferred<AccountDetail>>> = {};
    ipc.handlers.list_accounts = () => list.promise;
    ipc.handlers.account_detail = (args) => {
      pending[args.number as string] = deferred<AccountDetail>();
      return pending[args.number as string].promise;
    };
    $("#refresh").click();
    await flush();
    // The list is being read again: everything stays, the card says it is busy.
    expect($("#accounts-card").getAttribute("aria-busy")).toBe("true");
    expect(($("#refresh") as HTMLButtonElement).disabled).toBe(true);
    expect(document.querySelectorAll("#accounts tbody tr").length).toBe(2);
    expect(nlv()).toBe("$1,234,567.50");
    list.resolve(ACCOUNTS);
    await flush();
    // The details are being read again: the old figures stay, marked refreshing.
    expect(nlv()).toBe("$1,234,567.50");
    expect($("#detail-5WX01234").getAttribute("aria-busy")).toBe("true");
    expect($("#accounts tbody tr td:last-child").textContent).toBe("refreshing…");
    expect(document.querySelector("#detail-5WX01234 .placeholder")).toBeNull();
    pending["5WX01234"].resolve(rich("5WX01234", "1300000.00"));
    pending["5WX05678"].resolve(rich("5WX05678"));
    await flush();
    expect(nlv()).toBe("$1,300,000.00");
    expect($("#detail-5WX01234").getAttribute("aria-busy")).toBe("false");
    expect($("#accounts tfoot td").textContent).toBe("$1,299,987.95");
  });

  it("a failed refresh says so and keeps the last figures, with their time", async () => {
    ipc.handlers.account_detail = (args) => rich(args.number as string);
    await start(RETURNING(PROFILE));
    ipc.handlers.account_detail = (args) => ({
      number: args.number,
      error: { kind: "broker", message: "Tastytrade answered 500 for the balances." },
    });
    $("#refresh").click();
    await flush();
    const d = $("#detail-5WX01234");
    expect(d.querySelector(".error-box")?.textContent).toContain("answered 500");
    expect(d.querySelector(".retry")).not.toBeNull();
    expect(d.querySelector('dd[data-key="net_liquidating_value"]')?.textContent).toBe("$1,234,567.50");
    expect($("#accounts tbody tr td:last-child").textContent).toMatch(/^failed; figures /);
    // The overview keeps the last figures too.
    expect($("#accounts tbody tr td:nth-child(5)").textContent).toBe("$1,234,567.50");

    // The list itself failing keeps the list shown, with the error and Try again.
    ipc.handlers.list_accounts = () => {
      throw { kind: "network", message: "No connection." };
    };
    $("#refresh").click();
    await flush();
    expect($("#accounts-error").textContent).toContain("No connection.");
    expect(document.querySelectorAll("#accounts tbody tr").length).toBe(2);
  });
});

describe("Schwab's figures", () => {
  const SCHWAB_KIND = "market value ÷ quantity";
  /** Schwab sends doubles: its figures arrive with binary-rounding noise. */
  function schwab(number: string): AccountDetail {
    const first = number === "5WX01234";
    return {
      number,
      balances: {
        currency: "USD",
        lines: [
          { key: "net_liquidating_value", label: "Liquidation value", value: first ? "10000.004999" : "2000.1" },
          { key: "cash", label: "Cash balance", value: first ? "0.30000000000000004" : "-0.005" },
          {
            key: "day_profit_loss",
            label: "Day P/L (sum of positions)",
            value: first ? "116.940000000001" : "4.895076",
          },
        ],
      },
      positions: first
        ? [
            pos({
              symbol: "AAPL",
              quantity: "14.0846",
              average_price: "150.123456",
              mark: "190.121",
              price_kind: SCHWAB_KIND,
              market_value: "2677.778323000001",
              unrealized_pl: "-0.005",
              unrealized_pl_percent: null,
              day_pl: "36.840000000001",
            }),
            pos({
              symbol: "SPY   261218C00600000",
              instrument_type: "OPTION",
              quantity: "2",
              mark: "2.8125",
              multiplier: "100",
              price_kind: SCHWAB_KIND,
              market_value: "562.5",
              unrealized_pl: "80.100000000002",
              unrealized_pl_percent: null,
              day_pl: "80.1",
            }),
          ]
        : [],
    };
  }

  async function shown() {
    ipc.handlers.account_detail = (args) => schwab(args.number as string);
    await start(RETURNING(PROFILE));
    $("#toggle-5WX01234").click();
  }

  it("shows money in cents (half away from zero), prices to 4 places, quantities as given", async () => {
    await shown();
    const rows = [...document.querySelectorAll("#accounts tbody tr")];
    expect(cellTexts(rows[0]).slice(4, 8)).toEqual([
      "$10,000.00",
      "$0.30",
      "—not reported by the broker",
      "▲ +$116.94",
    ]);
    expect(cellTexts(rows[1])[5]).toBe("-$0.01");
    expect(cellTexts(rows[1])[7]).toBe("▲ +$4.90");
    // The totals are summed exactly, then rounded: 116.940000000001 + 4.895076 = 121.835076...
    const t = [...document.querySelectorAll("#accounts tfoot tr.total td")].map((c) => c.textContent?.trim());
    expect(t.slice(0, 4)).toEqual(["$12,000.10", "$0.30", "—only 0 of 2 accounts reported it", "▲ +$121.84"]);
    // The account's balances.
    expect($('#detail-5WX01234 dd[data-key="day_profit_loss"]').textContent).toBe("▲ +$116.94");
    expect($('#detail-5WX01234 dd[data-key="cash"]').textContent).toBe("$0.30");

    const cells = [...document.querySelectorAll("#detail-5WX01234 .positions tbody tr")].map((r) =>
      [...r.querySelectorAll("td")].map((c) => c.textContent),
    );
    const aapl = cells[0];
    expect(aapl[2]).toBe("14.0846");
    expect(aapl[4]).toBe("$150.1235");
    expect(aapl[5]).toBe(`$190.121*(price: ${SCHWAB_KIND})`);
    expect(aapl[6]).toBe("$2,677.78");
    expect(aapl[7]).toBe("▼ −$0.01");
    expect(aapl[9]).toBe("▲ +$36.84");
    const option = cells[1];
    expect(option[5]).toBe(`$2.8125*(price: ${SCHWAB_KIND})`);
    expect(option[6]).toBe("$562.50");
    expect(option[7]).toBe("▲ +$80.10");
    expect(document.body.textContent).not.toMatch(/0000000000|\.\d{5,}/);
  });

  it("marks a derived price compactly: a marker with its kind in a tooltip and for screen readers, explained once", async () => {
    await shown();
    const marks = [...document.querySelectorAll("#detail-5WX01234 .positions tbody .price-kind")];
    expect(marks.length).toBe(2);
    for (const m of marks) {
      expect(m.getAttribute("title")).toBe(`price: ${SCHWAB_KIND}`);
      expect(m.querySelector('[aria-hidden="true"]')?.textContent).toBe("*");
      expect(m.querySelector(".visually-hidden")?.textContent).toBe(`(price: ${SCHWAB_KIND})`);
    }
    // The kind's words are not repeated in every row: the note under the table says it once.
    const notes = document.querySelectorAll("#detail-5WX01234 .price-kind-note");
    expect(notes.length).toBe(1);
    expect(notes[0].textContent).toBe(`* Price: ${SCHWAB_KIND}.`);
    // The broker's mark has no marker and no note.
    ipc.handlers.account_detail = (args) => rich(args.number as string);
    await start(RETURNING(PROFILE));
    $("#toggle-5WX01234").click();
    expect(document.querySelectorAll("#detail-5WX01234 .price-kind, #detail-5WX01234 .price-kind-note").length).toBe(0);
  });

  it("several kinds of price: each row's marker names its own, the note lists them", async () => {
    ipc.handlers.account_detail = (args) => {
      const d = schwab(args.number as string);
      const [a, b] = d.positions ?? [];
      return {
        ...d,
        positions:
          a && b
            ? [
                { ...a, price_kind: "close" },
                { ...b, price_kind: "last" },
              ]
            : [],
      };
    };
    await start(RETURNING(PROFILE));
    $("#toggle-5WX01234").click();
    const marks = [...document.querySelectorAll("#detail-5WX01234 .positions tbody .price-kind")];
    expect(marks.map((m) => m.getAttribute("title"))).toEqual(["price: previous close", "price: last trade"]);
    expect($("#detail-5WX01234 .price-kind-note").textContent).toBe(
      "* Price: previous close or last trade; point at a marked price for which.",
    );
  });
});
