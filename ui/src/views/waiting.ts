// Step 3: waiting for the browser (or for the broker to accept a pasted refresh token); also
// the wait of "Sign in again". With an HTTPS callback (Schwab) it explains the browser's
// certificate warning and shows the certificate's fingerprint.
import { html, nothing, type TemplateResult } from "lit-html";
import type { Actions } from "../controller";
import { CERTIFICATE_STEPS } from "../help";
import { NO_BROWSER, type UiState, type WaitingScreen } from "../state";
import { type Part, steps, textField } from "./widgets";

/** The certificate warning the browser shows for Keygrant's HTTPS callback: why, that it is
 *  safe, how to go on, and the fingerprint to compare (selectable). */
export function certificateHelp(fingerprint: string | null | undefined): Part {
  if (!fingerprint) return nothing;
  return html`<aside class="caution" id="cert-help">
    <strong>Your browser will warn that the connection is not private. Here it is safe to continue.</strong>
    <p>
      After you approve, the broker sends your browser back to https://127.0.0.1, which is this computer. Keygrant
      answers there with a certificate it made on this computer for this sign-in. No certificate authority signs such a
      certificate, so the browser warns ("Your connection is not private", "Warning: Potential Security Risk Ahead").
      Nothing leaves this computer. To continue:
    </p>
    <ul id="cert-steps">
      ${CERTIFICATE_STEPS.map(([browser, step]) => html`<li><strong>${browser}:</strong> ${step}</li>`)}
    </ul>
    <p>To check it is Keygrant's certificate, open the warning's certificate details and compare the SHA-256 fingerprint with this one:</p>
    <code id="cert-fingerprint" class="fingerprint">${fingerprint}</code>
  </aside>`;
}

export function waitingView(s: UiState, redirectUri: string | undefined, a: Actions): TemplateResult {
  const renew = s.screen.name === "waiting" ? s.screen.renew : undefined;
  if (s.form.mode === "grant" && !renew) {
    return html`<section class="card center" id="waiting">
      <div class="spinner"></div>
      <h1>Checking your refresh token…</h1>
      <p class="muted">Keygrant asks the broker for one access token with it before saving anything.</p>
    </section>`;
  }
  const w = s.screen.name === "waiting" ? s.screen : undefined;
  const noBrowser = w?.signIn !== undefined && !w.signIn.browser_opened;
  const deepLink = redirectUri !== undefined && redirectUri === s.app?.deep_link_redirect;
  const redirectHint = redirectUri
    ? html`<p class="muted small" id="redirect-sent">${deepLink ? "The broker sends you back to a keygrant:// link, which your system hands to Keygrant. " : ""}If the broker's page reports a redirect URI mismatch, register exactly <code>${redirectUri}</code> with your OAuth application, or enter the one you registered.</p>`
    : nothing;
  const cancel = html`<button id="cancel" @click=${() => void a.cancel()}>Cancel</button>`;
  const cert = certificateHelp(w?.signIn?.certificate_fingerprint);
  // "Sign in again" is no wizard step: it names the connection being renewed instead.
  const top = renew
    ? html`<p class="muted small" id="renewing">Signing in again to <strong>${renew.label}</strong>: its refresh token is replaced when you approve; its name and settings stay.</p>`
    : steps(2);
  if (noBrowser && w) {
    return html`<section class="card center" id="waiting">
      ${top}
      <h1>Open this address in your browser</h1>
      <p id="no-browser">${NO_BROWSER}</p>
      ${cert}
      ${fallback(w, a)}
      ${redirectHint}
      ${cancel}
    </section>`;
  }
  return html`<section class="card center" id="waiting">
    ${top}
    <div class="spinner"></div>
    <h1>Waiting for your browser…</h1>
    <p class="muted" id="browser-status">${
      // Only the backend's `browser_opened` says a browser started; until its event arrives
      // the page says it is being opened, never that it was.
      w?.signIn?.browser_opened
        ? "Your web browser opened the broker's sign-in page. Approve Keygrant there; this window continues by itself."
        : "Opening the broker's sign-in page in your web browser… Approve Keygrant there; this window continues by itself."
    }</p>
    ${cert}
    ${redirectHint}
    ${
      w?.signIn
        ? html`<details id="trouble" class="trouble">
            <summary>The browser did not open, or did not come back?</summary>
            ${fallback(w, a)}
          </details>`
        : nothing
    }
    ${cancel}
  </section>`;
}

/** The authorize address with Copy and Open again, and the box for the address the browser
 *  ended on. */
function fallback(w: WaitingScreen, a: Actions): TemplateResult {
  return html`<div class="sign-in-fallback">
    <label class="field" for="sign-in-address">
      <span class="label">Sign-in address</span>
      <textarea id="sign-in-address" class="address" readonly rows="4" spellcheck="false">${w.signIn?.authorize_url ?? ""}</textarea>
    </label>
    <div class="row">
      <button id="copy-address" @click=${() => void a.copySignInAddress()}>Copy address</button>
      <button id="open-again" @click=${() => void a.openSignInAgain()}>Open again</button>
    </div>
    ${w.note ? html`<p class="muted small" id="waiting-note">${w.note}</p>` : nothing}
    ${textField({
      id: "pasted-address",
      label: "Address your browser ended on",
      help: "After approving, the broker sends your browser back to Keygrant. If that page did not load (or the browser is on another computer), copy its whole address from the address bar and paste it here.",
      value: w.pasted,
      onInput: (text) => a.dispatch({ type: "pasteTyped", text }),
      onEnter: () => void a.finishSignIn(),
      error: w.pasteError,
    })}
    <button id="finish-sign-in" class="primary" ?disabled=${w.pasted.trim() === ""} @click=${() => void a.finishSignIn()}>
      Finish sign-in
    </button>
  </div>`;
}
