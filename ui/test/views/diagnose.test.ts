// The token card's Diagnose panel: the button, the running state, each check with its verdict,
// detail and fix, a failure to run, closing, and running again.
import { describe, expect, it } from "vitest";
import type { Diagnosis } from "../../src/bindings/Diagnosis";
import { initialState, type UiState, update } from "../../src/state";
import { diagnoseView } from "../../src/views/diagnose";
import {
  $,
  announced,
  cmds,
  deferred,
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

const check = (id: string, verdict: Diagnosis["checks"][number]["verdict"], fix = "") => ({
  id,
  name: `${id} check`,
  verdict,
  detail: `${id} detail`,
  fix,
});

const HEALTHY: Diagnosis = {
  connection: "Tastytrade · Demo broker, client ID ••••1234",
  checks: ["endpoint", "client_secret", "refresh_token", "ownership", "scopes", "keyring", "handler"].map((id) =>
    check(id, "pass"),
  ),
};

const BROKEN: Diagnosis = {
  connection: "Tastytrade · Production, client ID ••••1234",
  checks: [
    check("endpoint", "warn", "Turn on automatic date and time."),
    check("client_secret", "pass"),
    check("refresh_token", "fail", "Disconnect and connect again."),
    check("ownership", "fail", "Connect again with the environment set to Sandbox (cert)."),
    check("scopes", "skipped"),
    check("keyring", "pass"),
    check("handler", "skipped"),
  ],
};

describe("diagnose panel", () => {
  it("is closed until Diagnose is pressed, then shows it running", async () => {
    const answer = deferred<Diagnosis>();
    ipc.handlers.diagnose = () => answer.promise;
    await start(RETURNING(PROFILE));
    expect(document.querySelector("#diagnose-panel")).toBeNull();
    expect($("#diagnose").getAttribute("aria-expanded")).toBe("false");
    $("#diagnose").click();
    await flush();
    expect($("#diagnose-loading").textContent).toContain("Running the checks");
    expect($("#diagnose-panel").getAttribute("aria-busy")).toBe("true");
    expect(($("#diagnose") as HTMLButtonElement).disabled).toBe(true);
    expect(announced()).toContain("Running the checks");
    answer.resolve(HEALTHY);
    await flush();
    expect(document.querySelector("#diagnose-loading")).toBeNull();
    expect($("#diagnose-summary").textContent).toContain("All 7 checks passed.");
    expect(($("#diagnose") as HTMLButtonElement).disabled).toBe(false);
    expect(cmds().filter((c) => c === "diagnose")).toHaveLength(1);
  });

  it("lists every check with its verdict, detail and fix", async () => {
    ipc.handlers.diagnose = () => BROKEN;
    await start(RETURNING(PROFILE));
    $("#diagnose").click();
    await flush();
    expect(document.querySelectorAll("#diagnose-checks li")).toHaveLength(7);
    const own = $("#check-ownership");
    expect(own.classList.contains("check-fail")).toBe(true);
    expect(own.querySelector(".verdict")?.textContent).toBe("Failed");
    expect(own.querySelector(".check-name")?.textContent).toBe("ownership check");
    expect(own.querySelector(".check-detail")?.textContent).toBe("ownership detail");
    expect(own.querySelector(".check-fix")?.textContent).toContain("Sandbox (cert)");
    expect($("#check-endpoint .verdict").textContent).toBe("Warning");
    expect($("#check-scopes .verdict").textContent).toBe("Skipped");
    // A passing check has no fix line.
    expect(document.querySelector("#check-keyring .check-fix")).toBeNull();
    expect($("#diagnose-summary").textContent).toContain("2 failed, 1 warning");
    expect(announced()).toContain("2 failed, 1 warning");
    expect($("#diagnose-connection").textContent).toContain("••••1234");
  });

  it("says why it could not run and tries again", async () => {
    let calls = 0;
    ipc.handlers.diagnose = () => {
      calls += 1;
      if (calls === 1) throw { kind: "not_connected", message: "No broker is connected yet." };
      return HEALTHY;
    };
    await start(RETURNING(PROFILE));
    $("#diagnose").click();
    await flush();
    expect($("#diagnose-error").textContent).toContain("No broker is connected yet.");
    expect(announced()).toBe("No broker is connected yet.");
    $("#diagnose-retry").click();
    await flush();
    expect(document.querySelector("#diagnose-error")).toBeNull();
    expect($("#diagnose-summary").textContent).toContain("All 7 checks passed.");
  });

  it("closes, runs again, and re-reads token health after its refresh", async () => {
    ipc.handlers.diagnose = () => HEALTHY;
    await start(RETURNING(PROFILE));
    const before = cmds().filter((c) => c === "get_state").length;
    $("#diagnose").click();
    await flush();
    expect(cmds().filter((c) => c === "get_state").length).toBe(before + 1);
    $("#diagnose-again").click();
    await flush();
    expect(cmds().filter((c) => c === "diagnose")).toHaveLength(2);
    $("#diagnose-close").click();
    await flush();
    expect(document.querySelector("#diagnose-panel")).toBeNull();
    expect($("#diagnose").getAttribute("aria-expanded")).toBe("false");
  });
});

describe("diagnose state", () => {
  const connected = (): UiState => update(initialState(), { type: "started", app: RETURNING(PROFILE) });

  it("drops another connection's answer and closes on request", () => {
    let s = update(connected(), { type: "diagnoseStarted", profileId: PROFILE.id });
    expect(s.screen.name === "connected" && s.screen.diagnose).toEqual({ status: "loading" });
    const other = update(s, { type: "diagnosed", profileId: "someone-else", diagnosis: HEALTHY });
    expect(other).toBe(s);
    s = update(s, { type: "diagnosed", profileId: PROFILE.id, diagnosis: BROKEN });
    expect(s.screen.name === "connected" && s.screen.diagnose?.status).toBe("ready");
    s = update(s, { type: "diagnoseClosed" });
    expect(s.screen.name === "connected" && s.screen.diagnose).toBeUndefined();
  });

  it("renders nothing while closed and Close dispatches diagnoseClosed", () => {
    const a = recordingActions();
    const s = update(connected(), { type: "diagnosed", profileId: PROFILE.id, diagnosis: HEALTHY });
    if (s.screen.name !== "connected") throw new Error("not connected");
    const closed = renderView(diagnoseView({ ...s.screen, diagnose: undefined }, a));
    expect(closed.textContent?.trim()).toBe("");
    renderView(diagnoseView(s.screen, a));
    $("#diagnose-close").click();
    expect(a.events).toEqual([{ type: "diagnoseClosed" }]);
    $("#diagnose-again").click();
    expect(a.log).toEqual(["diagnose"]);
  });
});
