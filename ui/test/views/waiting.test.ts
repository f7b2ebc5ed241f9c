// Step 3: waiting for the browser, Cancel, and the redirect that was sent.
import { describe, expect, it } from "vitest";
import type { ProfileView } from "../../src/bindings/ProfileView";
import { initialState, type UiState } from "../../src/state";
import { waitingView } from "../../src/views/waiting";
import {
  $,
  argsOf,
  cmds,
  deferred,
  FRESH,
  flush,
  ipc,
  recordingActions,
  renderView,
  start,
  type,
  useBackend,
} from "../harness";

useBackend();

describe("waiting", () => {
  it("Cancel asks the backend to stop the waiting flow", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    const pending = deferred<ProfileView>();
    ipc.handlers.connect = () => pending.promise;
    $("#connect").click();
    await flush();
    ipc.handlers.cancel_connect = () => {
      pending.reject({ kind: "cancelled", message: "Sign-in cancelled. Nothing was saved." });
      return true;
    };
    $("#cancel").click();
    await flush();
    expect(cmds()).toContain("cancel_connect");
    expect($("#banner").textContent).toContain("Sign-in cancelled");
  });

  it("the deep-link redirect sends keygrant://callback and hides the loopback field", async () => {
    await start(FRESH);
    $("#broker-trade_station").click();
    $("#redirect-deeplink").click();
    expect(document.querySelector("#redirect-uri")).toBeNull();
    type("#client-id", "cid-1");
    type("#client-secret", "secret-12345");
    const pending = deferred<ProfileView>();
    ipc.handlers.connect = () => pending.promise;
    $("#connect").click();
    await flush();
    const req = argsOf("connect")?.request as Record<string, unknown>;
    expect(req.redirect_uri).toBe("keygrant://callback");
    expect($("#redirect-sent").textContent).toContain("keygrant:// link");
  });

  it("says it is checking a pasted refresh token, with no browser step", () => {
    const s: UiState = { ...initialState(), app: FRESH };
    const grant = renderView(waitingView({ ...s, form: { ...s.form, mode: "grant" } }, undefined, recordingActions()));
    expect(grant.textContent).toContain("Checking your refresh token");
    expect(grant.querySelector(".steps")).toBeNull();
    const a = recordingActions();
    const browser = renderView(waitingView(s, undefined, a));
    expect(browser.querySelector("#redirect-sent")).toBeNull();
    (browser.querySelector("#cancel") as HTMLButtonElement).click();
    expect(a.log).toEqual(["cancel"]);
  });
});
