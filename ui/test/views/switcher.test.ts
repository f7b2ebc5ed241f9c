// The profile switcher: switch, rename, add; and the rename field surviving updates.
import { describe, expect, it, vi } from "vitest";
import type { AccountDetail } from "../../src/bindings/AccountDetail";
import type { ProfileView } from "../../src/bindings/ProfileView";
import { CLOCK_INTERVAL_MS, HEALTH_INTERVAL_MS } from "../../src/controller";
import {
  $,
  announced,
  argsOf,
  cmds,
  deferred,
  detailFor,
  flush,
  input,
  ipc,
  PROFILE,
  RETURNING,
  start,
  type,
  useBackend,
} from "../harness";

useBackend();

describe("profile switcher", () => {
  it("switches, renames and adds connections", async () => {
    const TS_PROFILE: ProfileView = {
      ...PROFILE,
      id: "p2",
      broker: "trade_station",
      label: "TradeStation · Demo broker",
    };
    const state = RETURNING(PROFILE);
    state.profiles.push({
      id: "p2",
      label: TS_PROFILE.label,
      broker: "trade_station",
      environment_label: "Demo broker",
      active: false,
    });
    ipc.handlers.select_profile = () => TS_PROFILE;
    ipc.handlers.rename_profile = () => null;
    await start(state);
    const select = $("#profile-switcher") as HTMLSelectElement;
    expect([...select.options].map((o) => o.textContent)).toEqual([
      "Tastytrade · Demo broker (Demo broker)",
      "TradeStation · Demo broker (Demo broker)",
    ]);
    expect(select.value).toBe("p1");
    select.value = "p2";
    select.dispatchEvent(new Event("change"));
    await flush();
    expect(argsOf("select_profile")).toEqual({ id: "p2" });
    expect($("#token-card").textContent).toContain("TradeStation");

    $("#rename").click();
    type("#rename-input", "  Swing account ");
    $("#rename-save").click();
    await flush();
    expect(argsOf("rename_profile")).toEqual({ id: "p2", label: "  Swing account " });
    expect($("#token-card").textContent).toContain("Swing account");
    expect(announced()).toBe("Renamed to Swing account.");

    $("#add-connection").click();
    expect($("#wizard").textContent).toContain("Which broker");
    expect($("#to-dashboard")).toBeTruthy();
  });

  it("a single connection shows its name; Rename focuses the field; Escape and Cancel leave it", async () => {
    await start(RETURNING(PROFILE));
    expect(document.querySelector("#profile-switcher")).toBeNull();
    expect($("#profile-label").textContent).toBe(PROFILE.label);
    $("#rename").click();
    await flush();
    expect(document.activeElement).toBe($("#rename-input"));
    expect(input("#rename-input").value).toBe(PROFILE.label);
    $("#rename-input").dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
    expect(document.querySelector("#rename-input")).toBeNull();
    $("#rename").click();
    $("#rename-cancel").click();
    expect(document.querySelector("#rename-input")).toBeNull();
    expect(cmds()).not.toContain("rename_profile");
  });

  it("Enter in the rename field saves", async () => {
    ipc.handlers.rename_profile = () => null;
    await start(RETURNING(PROFILE));
    $("#rename").click();
    type("#rename-input", "Main");
    $("#rename-input").dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await flush();
    expect(argsOf("rename_profile")).toEqual({ id: "p1", label: "Main" });
    expect($("#profile-label").textContent).toBe("Main");
  });

  it("keeps focus, typed text and caret in the rename field while details arrive and the timer ticks", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const at = (h: number, m: number) => new Date(2026, 10, 25, h, m, 0).getTime() / 1000;
    const pending: Record<string, ReturnType<typeof deferred<AccountDetail>>> = {};
    ipc.handlers.account_detail = (args) => {
      pending[args.number as string] = deferred<AccountDetail>();
      return pending[args.number as string].promise;
    };
    await start(RETURNING({ ...PROFILE, access_token_obtained_at: at(9, 0), access_token_expires_at: at(9, 15) }));
    expect($("#detail-5WX01234").textContent).toContain("Loading");

    // The user starts renaming and is mid-word, caret after "Swing".
    $("#rename").click();
    const field = input("#rename-input");
    field.focus();
    field.value = "Swing acc";
    field.dispatchEvent(new Event("input"));
    field.setSelectionRange(5, 5);

    // The accounts' details arrive while the user is typing.
    pending["5WX01234"].resolve(detailFor("5WX01234"));
    pending["5WX05678"].resolve(detailFor("5WX05678"));
    await flush();
    expect($("#detail-5WX01234").textContent).toContain("Net liquidating value");
    expect($("#rename-input")).toBe(field);
    expect(document.activeElement).toBe(field);
    expect(field.value).toBe("Swing acc");
    expect(field.selectionStart).toBe(5);
    expect(field.selectionEnd).toBe(5);

    // Then the one-minute health tick re-reads the state and re-renders the page.
    ipc.handlers.get_state = () =>
      RETURNING({ ...PROFILE, access_token_obtained_at: at(9, 14), access_token_expires_at: at(9, 29) });
    const reads = cmds().filter((c) => c === "get_state").length;
    vi.advanceTimersByTime(HEALTH_INTERVAL_MS);
    await flush();
    expect(cmds().filter((c) => c === "get_state").length).toBe(reads + 1);
    expect($("#token-health").textContent).toContain(new Date(at(9, 29) * 1000).toLocaleTimeString());
    expect($("#rename-input")).toBe(field);
    expect(document.activeElement).toBe(field);
    expect(field.value).toBe("Swing acc");
    expect(field.selectionStart).toBe(5);

    // And what was typed is what is saved.
    ipc.handlers.rename_profile = () => null;
    $("#rename-save").click();
    await flush();
    expect(argsOf("rename_profile")).toEqual({ id: "p1", label: "Swing acc" });
  });

  it("a field emptied without typing (a change event alone) stays empty when the clock re-renders", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    ipc.handlers.rename_profile = () => null;
    await start(RETURNING(PROFILE));
    $("#rename").click();
    await flush();
    const field = input("#rename-input");
    // An autofill, a password manager or a script: the value goes and only
    // `change` is fired.
    field.value = "";
    field.dispatchEvent(new Event("change"));
    vi.advanceTimersByTime(CLOCK_INTERVAL_MS);
    await flush();
    expect(field.value).toBe("");
    // Typing after it is what is saved, not the old name with the typing appended.
    type("#rename-input", "Main");
    vi.advanceTimersByTime(CLOCK_INTERVAL_MS);
    await flush();
    $("#rename-save").click();
    await flush();
    expect(argsOf("rename_profile")).toEqual({ id: "p1", label: "Main" });
  });
});
