// Step 3: waiting for the browser, Cancel, and the redirect that was sent.
import { describe, expect, it } from "vitest";
import type { ProfileView } from "../../src/bindings/ProfileView";
import { initialState, type UiState } from "../../src/state";
import { waitingView } from "../../src/views/waiting";
import {
  $,
  announced,
  argsOf,
  cmds,
  deferred,
  emitEvent,
  FRESH,
  flush,
  ipc,
  PROFILE,
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
    // Cancelling is what the user asked for: a neutral notice, not an error.
    expect($("#cancelled").textContent).toContain("Sign-in cancelled");
    expect($("#cancelled").className).toBe("info");
    expect($("#cancelled").getAttribute("role")).toBe("status");
    expect(document.querySelector("#banner, #wizard .error")).toBeNull();
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

  const ADDRESS =
    "http://127.0.0.1:41234/auth.html?response_type=code&client_id=cid&state=st-1&redirect_uri=http%3A%2F%2F127.0.0.1%3A5000%2Fcallback";

  async function waitingForBrowser() {
    await start(FRESH);
    $("#broker-demo").click();
    const pending = deferred<ProfileView>();
    ipc.handlers.connect = () => pending.promise;
    $("#connect").click();
    await flush();
    return pending;
  }

  it("with no browser, shows the address in plain words with Copy, Open again and the paste box", async () => {
    await waitingForBrowser();
    emitEvent("sign-in-waiting", { authorize_url: ADDRESS, browser_opened: false });
    await flush();
    const page = $("#waiting").textContent ?? "";
    expect(page).toContain("Open this address in your browser");
    expect(page).toContain("could not open a web browser");
    expect(page).not.toMatch(/Launcher|ExitStatus|gio/);
    expect(($("#sign-in-address") as HTMLTextAreaElement).value).toBe(ADDRESS);
    expect(announced()).toContain("could not open a web browser");

    ipc.handlers.copy_sign_in_address = () => null;
    $("#copy-address").click();
    await flush();
    expect(cmds()).toContain("copy_sign_in_address");
    expect($("#waiting-note").textContent).toContain("Address copied");

    // Open again: this time a browser starts, and the page goes back to waiting for it.
    ipc.handlers.open_sign_in_page = () => ({ authorize_url: ADDRESS, browser_opened: true });
    $("#open-again").click();
    await flush();
    expect(cmds()).toContain("open_sign_in_page");
    expect($("#waiting").textContent).toContain("Waiting for your browser");
    expect(($("#trouble") as HTMLDetailsElement).open).toBe(false);
    expect($("#trouble #sign-in-address")).toBeTruthy();
  });

  it("says the browser opened only when the backend says it did", async () => {
    await waitingForBrowser();
    // Before the sign-in-waiting event: the page is being opened, not yet opened.
    expect($("#browser-status").textContent).toContain("Opening the broker's sign-in page");
    expect($("#waiting").textContent).not.toContain("browser opened");
    emitEvent("sign-in-waiting", { authorize_url: ADDRESS, browser_opened: true, certificate_fingerprint: null });
    await flush();
    expect($("#browser-status").textContent).toContain("Your web browser opened the broker's sign-in page");
    emitEvent("sign-in-waiting", { authorize_url: ADDRESS, browser_opened: false, certificate_fingerprint: null });
    await flush();
    expect(document.querySelector("#browser-status")).toBeNull();
    expect($("#waiting").textContent).not.toContain("browser opened");
    expect($("#no-browser").textContent).toContain("could not open a web browser");
  });

  it("a pasted address finishes the sign-in; a refused one shows why on the field and keeps waiting", async () => {
    const pending = await waitingForBrowser();
    emitEvent("sign-in-waiting", { authorize_url: ADDRESS, browser_opened: false });
    await flush();
    expect(($("#finish-sign-in") as HTMLButtonElement).disabled).toBe(true);

    const wrong = "This address belongs to another sign-in (its state does not match this one), so it was not used.";
    ipc.handlers.finish_sign_in = () =>
      Promise.reject({ kind: "invalid_input", message: wrong, field: "pasted_address" });
    type("#pasted-address", "http://127.0.0.1:5000/callback?code=x&state=other");
    $("#finish-sign-in").click();
    await flush();
    expect($("#error-pasted_address").textContent).toBe(wrong);
    expect($("#pasted-address").getAttribute("aria-invalid")).toBe("true");
    expect($("#waiting")).toBeTruthy();

    // Typing again clears the error; Enter finishes with what was typed.
    ipc.handlers.finish_sign_in = () => null;
    const real = "http://127.0.0.1:5000/callback?code=abc&state=st-1";
    type("#pasted-address", real);
    expect(document.querySelector("#error-pasted_address")).toBeNull();
    $("#pasted-address").dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await flush();
    const finishes = ipc.calls.filter((c) => c.cmd === "finish_sign_in").map((c) => c.args);
    expect(finishes.at(-1)).toEqual({ address: real });
    pending.resolve(PROFILE);
    await flush();
    expect(document.querySelector("#waiting")).toBeNull();
  });

  const FINGERPRINT = Array.from({ length: 32 }, (_, i) =>
    (i * 7 + 16).toString(16).toUpperCase().padStart(2, "0"),
  ).join(":");

  it("with an HTTPS callback, explains the certificate warning and shows the fingerprint to compare", async () => {
    await waitingForBrowser();
    emitEvent("sign-in-waiting", {
      authorize_url: ADDRESS,
      browser_opened: true,
      certificate_fingerprint: FINGERPRINT,
    });
    await flush();
    const help = $("#cert-help").textContent ?? "";
    expect(help).toContain("https://127.0.0.1");
    expect(help).toContain("safe");
    expect(help).toContain("certificate it made on this computer");
    expect(help).toContain('"Advanced", then "Proceed to 127.0.0.1');
    expect(help).toContain("Accept the Risk and Continue");
    const fp = $("#cert-fingerprint");
    expect(fp.textContent).toBe(FINGERPRINT);
    expect(fp.tagName).toBe("CODE");
    expect(fp.classList.contains("fingerprint")).toBe(true);
    // The paste-the-address fallback stays.
    expect($("#trouble #pasted-address")).toBeTruthy();
  });

  it("shows the certificate explanation with no browser too, and none for a plain-HTTP callback", async () => {
    await waitingForBrowser();
    emitEvent("sign-in-waiting", {
      authorize_url: ADDRESS,
      browser_opened: false,
      certificate_fingerprint: FINGERPRINT,
    });
    await flush();
    expect($("#no-browser")).toBeTruthy();
    expect($("#cert-fingerprint").textContent).toBe(FINGERPRINT);
    expect($("#pasted-address")).toBeTruthy();
    emitEvent("sign-in-waiting", { authorize_url: ADDRESS, browser_opened: true, certificate_fingerprint: null });
    await flush();
    expect(document.querySelector("#cert-help")).toBeNull();
  });
});
