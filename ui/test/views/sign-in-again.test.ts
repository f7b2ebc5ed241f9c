// The token card's sign-in lifetime (Schwab's 7 days) and "Sign in again", which renews the
// shown connection's grant in place through a browser sign-in; and the same button wherever a
// refused grant (invalid_grant) shows on the dashboard.
import { describe, expect, it, vi } from "vitest";
import type { ProfileView } from "../../src/bindings/ProfileView";
import { connectedScreen, initialState, update } from "../../src/state";
import { tokenCardView } from "../../src/views/token";
import {
  $,
  announced,
  CUSTOM_PROFILE,
  cmds,
  deferred,
  emitEvent,
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

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const HOUR = 3600;
const DAY = 24 * HOUR;
const SCHWAB: ProfileView = {
  ...PROFILE,
  id: "s1",
  broker: "schwab",
  environment: "production",
  environment_label: "Production",
  label: "Schwab main",
  scopes: ["api"],
  signed_in_at: NOW / 1000 - 2 * DAY,
  sign_in_expires_at: NOW / 1000 + 5 * DAY,
  sign_in_lifetime_days: 7,
};
const REFUSED = {
  kind: "invalid_grant",
  message:
    "The sign-in expired: Charles Schwab ends refresh tokens 7 days after the browser sign-in, and this one's ended 2 days ago. Press Sign in again to renew it; the connection keeps its name and settings.",
};

function card(profile: ProfileView, now = NOW) {
  const a = recordingActions();
  const el = renderView(tokenCardView(connectedScreen(profile), a, now));
  return { a, el, q: (sel: string) => el.querySelector<HTMLElement>(sel) };
}

describe("the sign-in's lifetime on the token card", () => {
  it("says how many days are left, plainly, for a broker whose grant ends after the sign-in", () => {
    const { q } = card(SCHWAB);
    expect(q("#sign-in-expiry-text")?.textContent).toBe("Sign-in expires in 5 days");
    expect(q("#sign-in-row")?.classList.contains("warning")).toBe(false);
    expect(q("#sign-in-expiry")?.textContent).not.toContain("Warning");
  });

  it("warns in words, not only colour, when less than a day is left or it is over", () => {
    const soon = card({ ...SCHWAB, sign_in_expires_at: NOW / 1000 + 5 * HOUR });
    expect(soon.q("#sign-in-expiry-text")?.textContent).toBe("Sign-in expires in 5 hours");
    expect(soon.q("#sign-in-row")?.classList.contains("warning")).toBe(true);
    expect(soon.q("#sign-in-expiry")?.textContent).toMatch(/^\s*Warning: Sign-in expires in 5 hours/);
    expect(soon.q("#sign-in-expiry")?.textContent).toContain("Sign in again so your scripts keep working");
    expect(soon.q("#sign-in-again")?.classList.contains("primary")).toBe(true);
    const over = card({ ...SCHWAB, sign_in_expires_at: NOW / 1000 - 60 });
    expect(over.q("#sign-in-expiry-text")?.textContent).toBe("Sign-in expired");
    expect(over.q("#sign-in-expiry")?.textContent).toContain("Warning:");
  });

  it("says the date is unknown for a pasted grant, and nothing for brokers whose grants do not end so", () => {
    const unknown = card({ ...SCHWAB, signed_in_at: undefined, sign_in_expires_at: undefined });
    expect(unknown.q("#sign-in-expiry-text")?.textContent).toMatch(/^Sign-in date unknown/);
    const tt = card(PROFILE);
    expect(tt.q("#sign-in-expiry")).toBeNull();
  });

  it("offers Sign in again for every broker", () => {
    for (const p of [SCHWAB, PROFILE, CUSTOM_PROFILE]) {
      const { a, q } = card(p);
      const button = q("#sign-in-again");
      expect(button?.textContent).toBe("Sign in again");
      button?.click();
      expect(a.log).toEqual(["signInAgain"]);
    }
  });

  it("follows the page's clock on the dashboard", async () => {
    vi.useFakeTimers({ now: NOW, toFake: ["Date"] });
    await start(RETURNING(SCHWAB));
    expect($("#sign-in-expiry-text").textContent).toBe("Sign-in expires in 5 days");
  });
});

describe("Sign in again", () => {
  it("waits for the browser like Connect, with the certificate's fingerprint, then shows the renewed connection", async () => {
    await start(RETURNING(SCHWAB));
    const pending = deferred<ProfileView>();
    ipc.handlers.sign_in_again = () => pending.promise;
    $("#sign-in-again").click();
    await flush();
    expect(cmds()).toContain("sign_in_again");
    expect($("#waiting").textContent).toContain("Waiting for your browser");
    expect($("#renewing").textContent).toContain("Schwab main");
    expect(document.querySelector(".steps")).toBeNull();
    emitEvent("sign-in-waiting", {
      authorize_url: "https://api.schwabapi.com/v1/oauth/authorize?state=s",
      browser_opened: true,
      certificate_fingerprint: "12:34:AB",
    });
    await flush();
    expect($("#cert-fingerprint").textContent).toBe("12:34:AB");
    expect($("#trouble #pasted-address")).toBeTruthy();
    const listsBefore = cmds().filter((c) => c === "list_accounts").length;
    pending.resolve({ ...SCHWAB, sign_in_expires_at: NOW / 1000 + 7 * DAY });
    await flush();
    expect($("#token-card").textContent).toContain("Schwab main");
    expect($("#note").textContent).toContain("Signed in again");
    expect(announced()).toContain("Signed in again");
    expect(cmds().filter((c) => c === "list_accounts").length).toBe(listsBefore + 1);
    expect($("#accounts tbody tr")).toBeTruthy();
  });

  it("a cancelled or failed sign-in goes back to the connection and says why", async () => {
    await start(RETURNING(SCHWAB));
    const pending = deferred<ProfileView>();
    ipc.handlers.sign_in_again = () => pending.promise;
    $("#sign-in-again").click();
    await flush();
    ipc.handlers.cancel_connect = () => {
      pending.reject({ kind: "cancelled", message: "Sign-in cancelled. Nothing was saved." });
      return true;
    };
    $("#cancel").click();
    await flush();
    expect($("#token-card").textContent).toContain("Schwab main");
    expect($("#note").textContent).toBe("Sign-in cancelled. Nothing was saved.");
    expect($("#note").className).toBe("info");
    expect(document.querySelector("#grant-refused")).toBeNull();
  });

  it("is offered where a refused grant shows: the accounts, an account, and a refresh", async () => {
    ipc.handlers.list_accounts = () => {
      throw REFUSED;
    };
    await start(RETURNING(SCHWAB));
    expect($("#accounts-error").textContent).toContain("The sign-in expired");
    // "Try again" cannot help a refused grant: Sign in again instead.
    expect([...document.querySelectorAll("#accounts-error button")].map((b) => b.textContent)).toEqual([
      "Sign in again",
    ]);
    ipc.handlers.sign_in_again = () => SCHWAB;
    ipc.handlers.list_accounts = () => [];
    $("#accounts-sign-in-again").click();
    await flush();
    expect(cmds()).toContain("sign_in_again");
    expect($("#accounts-empty")).toBeTruthy();
  });

  it("an account's refused grant offers it on that account", async () => {
    ipc.handlers.account_detail = () => {
      throw REFUSED;
    };
    await start(RETURNING(SCHWAB));
    $("#toggle-5WX01234").click();
    expect($("#sign-in-again-5WX01234").textContent).toBe("Sign in again");
  });

  it("a refresh refused as an invalid grant shows the reason with the button", async () => {
    ipc.handlers.refresh_now = () => {
      throw REFUSED;
    };
    await start(RETURNING({ ...CUSTOM_PROFILE, sign_in_lifetime_days: null }));
    $("#refresh-now").click();
    await flush();
    expect($("#grant-refused").getAttribute("role")).toBe("alert");
    expect($("#note").textContent).toContain("Press Sign in again");
    ipc.handlers.sign_in_again = () => CUSTOM_PROFILE;
    $("#note-sign-in-again").click();
    await flush();
    expect(cmds()).toContain("sign_in_again");
    expect(document.querySelector("#grant-refused")).toBeNull();
    // Other errors stay a plain note.
    ipc.handlers.refresh_now = () => {
      throw { kind: "network", message: "No network." };
    };
    $("#refresh-now").click();
    await flush();
    expect($("#note").textContent).toBe("No network.");
    expect(document.querySelector("#grant-refused")).toBeNull();
  });

  it("an answer for another connection, or with no sign-in waiting, changes nothing", () => {
    const connected = { ...initialState(), screen: connectedScreen(SCHWAB) };
    expect(update(connected, { type: "signedInAgain", profile: SCHWAB })).toBe(connected);
    const waiting = update(connected, { type: "signInAgainStarted" });
    expect(waiting.screen).toMatchObject({ name: "waiting", renew: { id: "s1" }, choice: "schwab" });
    expect(update(waiting, { type: "signedInAgain", profile: PROFILE })).toBe(waiting);
    expect(update(waiting, { type: "signInAgainFailed", profile: PROFILE, error: REFUSED as never })).toBe(waiting);
    const back = update(waiting, { type: "signInAgainFailed", profile: SCHWAB, error: REFUSED as never });
    expect(back.screen).toMatchObject({ name: "connected", note: REFUSED.message, noteError: REFUSED });
  });
});
