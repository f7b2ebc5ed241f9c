// The accounts card: the list, every account's balances and positions, errors and retries.
import { describe, expect, it, vi } from "vitest";
import type { AccountDetail } from "../../src/bindings/AccountDetail";
import { CLOCK_INTERVAL_MS } from "../../src/controller";
import { accountsView, dashboardOptions } from "../../src/views/accounts";
import {
  $,
  ACCOUNTS,
  deferred,
  detailFor,
  flush,
  ipc,
  PROFILE,
  RETURNING,
  recordingActions,
  renderView,
  start,
  useBackend,
} from "../harness";

useBackend();

describe("accounts", () => {
  it("a returning user goes straight to the accounts", async () => {
    await start(RETURNING(PROFILE));
    expect(document.querySelector("#wizard")).toBeNull();
    expect(document.querySelectorAll("#accounts tbody tr").length).toBe(2);
    expect($("#updated").textContent).toMatch(/^Updated /);
  });

  it("an account error says what to do and Try again reloads", async () => {
    let fail = true;
    ipc.handlers.list_accounts = () => {
      if (fail) throw { kind: "unauthorized", message: "Check that your OAuth application has the read scope." };
      return ACCOUNTS;
    };
    await start(RETURNING(PROFILE));
    expect($("#accounts-error").textContent).toContain("read scope");
    fail = false;
    ($("#accounts-error button") as HTMLButtonElement).click();
    await flush();
    expect(document.querySelectorAll("#accounts tbody tr").length).toBe(2);
  });

  it("shows the empty state when the login has no accounts", async () => {
    ipc.handlers.list_accounts = () => [];
    await start(RETURNING(PROFILE));
    expect($("#accounts-empty").textContent).toContain("no open accounts");
  });

  it("asks for every account's details at once and shows balances, positions and the empty state", async () => {
    const pending: Record<string, ReturnType<typeof deferred<AccountDetail>>> = {};
    ipc.handlers.account_detail = (args) => {
      pending[args.number as string] = deferred<AccountDetail>();
      return pending[args.number as string].promise;
    };
    await start(RETURNING(PROFILE));
    // Both requests are out before either answers; each account shows its placeholder.
    expect(Object.keys(pending).sort()).toEqual(["5WX01234", "5WX05678"]);
    expect($("#detail-5WX01234").textContent).toContain("Loading balances and positions");
    pending["5WX05678"].resolve(detailFor("5WX05678"));
    await flush();
    expect($("#detail-5WX05678").textContent).toContain("No open positions");
    expect($("#detail-5WX01234").textContent).toContain("Loading");
    pending["5WX01234"].resolve(detailFor("5WX01234"));
    await flush();
    const d = $("#detail-5WX01234");
    expect(d.querySelector('dd[data-key="net_liquidating_value"]')?.textContent).toBe("$1,234,567.50");
    expect(d.querySelector("dt")?.textContent).toBe("Net liquidating value");
    const cells = [...d.querySelectorAll(".positions tbody td")].map((c) => c.textContent);
    expect(cells.slice(0, 6)).toEqual(["SPY   261218P00550000", "Equity Option", "2", "Short", "$7.85", "$6.05"]);
    // No market value nor P/L from the broker in this fixture: empty cells that say why, not a number.
    expect(cells.slice(6, 9)).toEqual(Array(3).fill("—not given by the broker"));
  });

  it("patches one account's details without replacing the other accounts' elements", async () => {
    const pending: Record<string, ReturnType<typeof deferred<AccountDetail>>> = {};
    ipc.handlers.account_detail = (args) => {
      pending[args.number as string] = deferred<AccountDetail>();
      return pending[args.number as string].promise;
    };
    await start(RETURNING(PROFILE));
    pending["5WX05678"].resolve(detailFor("5WX05678"));
    await flush();
    const table = $("#accounts");
    const other = $("#detail-5WX05678");
    pending["5WX01234"].resolve(detailFor("5WX01234"));
    await flush();
    expect($("#accounts")).toBe(table);
    expect($("#detail-5WX05678")).toBe(other);
  });

  it("an account that fails shows its own error and retry while the others show their numbers", async () => {
    let failures = 1;
    ipc.handlers.account_detail = (args) =>
      args.number === "5WX05678" && failures-- > 0
        ? {
            number: "5WX05678",
            error: { kind: "broker", message: "Tastytrade answered 500 for the balances. Try again in a minute." },
          }
        : detailFor(args.number as string);
    await start(RETURNING(PROFILE));
    expect($("#detail-5WX05678 .error-box").textContent).toContain("Try again in a minute");
    expect($("#detail-5WX01234").textContent).toContain("$1,234,567.50");
    ($("#detail-5WX05678 .retry") as HTMLButtonElement).click();
    await flush();
    expect(document.querySelector("#detail-5WX05678 .error-box")).toBeNull();
    expect($("#detail-5WX05678").textContent).toContain("Net liquidating value");
  });

  it("disables Refresh while loading, and Refresh reloads", () => {
    const a = recordingActions();
    const loading = renderView(accountsView({ status: "loading" }, dashboardOptions(), a));
    expect((loading.querySelector("#refresh") as HTMLButtonElement).disabled).toBe(true);
    expect(loading.querySelector("#accounts-loading")?.textContent).toBe("Loading accounts…");
    const ready = renderView(
      accountsView({ status: "ready", accounts: ACCOUNTS, details: {}, updatedAt: new Date() }, dashboardOptions(), a),
    );
    const refresh = ready.querySelector("#refresh") as HTMLButtonElement;
    expect(refresh.disabled).toBe(false);
    refresh.click();
    expect(a.log).toEqual(["loadAccounts"]);
    // An account without an answer yet shows its placeholder.
    expect(ready.querySelector("#detail-5WX01234")?.classList.contains("loading")).toBe(true);
  });

  it("a balance object with none of the usual figures shows that, not an error", async () => {
    ipc.handlers.account_detail = (args) => ({
      ...detailFor(args.number as string),
      balances: { currency: "USD", lines: args.number === "5WX05678" ? [] : (detailFor("x").balances?.lines ?? []) },
    });
    await start(RETURNING(PROFILE));
    const empty = $("#detail-5WX05678");
    expect(empty.querySelector(".balances-empty")?.textContent).toBe("No balance figures reported.");
    expect(empty.querySelector(".error-box")).toBeNull();
    expect(empty.querySelector("dl.balances")).toBeNull();
    const full = $("#detail-5WX01234");
    expect(full.querySelector(".balances-empty")).toBeNull();
    expect(full.querySelectorAll("dl.balances dt").length).toBe(2);
  });

  it("a 403 offers no Try again; a rate limit counts its wait down, then asks again by itself", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    const asked: string[] = [];
    ipc.handlers.account_detail = (args) => {
      const number = args.number as string;
      asked.push(number);
      if (number === "5WX05678") {
        return {
          number,
          error: {
            kind: "forbidden",
            message:
              "Tastytrade does not allow Keygrant to read the balances. The likely cause: the grant lacks the scope for reading accounts (read).",
          },
        };
      }
      return asked.filter((n) => n === number).length === 1
        ? {
            number,
            error: {
              kind: "rate_limited",
              message:
                "Tastytrade is limiting how often Keygrant may ask (429). Nothing was lost; Keygrant can try again in 3 s.",
              retry_after_secs: 3,
            },
          }
        : detailFor(number);
    };
    await start(RETURNING(PROFILE));
    expect($("#detail-5WX05678 .error-box").textContent).toContain("scope for reading accounts");
    expect(document.querySelector("#detail-5WX05678 .retry")).toBeNull();
    expect($("#detail-5WX01234 .retry").textContent).toBe("Trying again in 3 s");
    vi.advanceTimersByTime(CLOCK_INTERVAL_MS);
    await flush();
    expect($("#detail-5WX01234 .retry").textContent).toBe("Trying again in 2 s");
    vi.advanceTimersByTime(CLOCK_INTERVAL_MS);
    await flush();
    expect($("#detail-5WX01234 .retry").textContent).toBe("Trying again in 1 s");
    expect(asked.filter((n) => n === "5WX01234").length).toBe(1);
    // The wait is over: asked once more, by itself; the 403 is not asked again.
    vi.advanceTimersByTime(CLOCK_INTERVAL_MS);
    await flush();
    expect(asked.filter((n) => n === "5WX01234").length).toBe(2);
    expect($("#detail-5WX01234").textContent).toContain("Net liquidating value");
    expect(document.querySelector("#detail-5WX01234 .error-box")).toBeNull();
    vi.advanceTimersByTime(5 * CLOCK_INTERVAL_MS);
    await flush();
    expect(asked.filter((n) => n === "5WX05678").length).toBe(1);
    expect(asked.filter((n) => n === "5WX01234").length).toBe(2);
  });

  it("a rate-limited account list counts down and loads by itself; pressing the button asks at once", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    const limited = {
      kind: "rate_limited",
      message:
        "Tastytrade is limiting how often Keygrant may ask (429). Nothing was lost; Keygrant can try again in 2 s.",
      retry_after_secs: 2,
    };
    let lists = 0;
    ipc.handlers.list_accounts = () => {
      lists += 1;
      return lists === 1 || lists === 3 ? Promise.reject(limited) : ACCOUNTS;
    };
    await start(RETURNING(PROFILE));
    expect($("#accounts-error").textContent).toContain("limiting how often");
    expect($("#accounts-error button").textContent).toBe("Trying again in 2 s");
    vi.advanceTimersByTime(2 * CLOCK_INTERVAL_MS);
    await flush();
    expect(lists).toBe(2);
    expect(document.querySelector("#accounts-error")).toBeNull();
    expect(document.querySelectorAll("#accounts tbody tr").length).toBe(ACCOUNTS.length);

    // Refresh is limited this time: the list stays, and the wait can be cut short by hand.
    $("#refresh").click();
    await flush();
    expect(lists).toBe(3);
    expect($("#accounts-error").textContent).toContain("The figures below are from before.");
    expect($("#accounts-error button").textContent).toBe("Trying again in 2 s");
    ($("#accounts-error button") as HTMLButtonElement).click();
    await flush();
    expect(lists).toBe(4);
    expect(document.querySelector("#accounts-error")).toBeNull();
  });
});
