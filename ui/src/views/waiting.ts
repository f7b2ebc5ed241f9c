// Step 3: waiting for the browser (or for the broker to accept a pasted refresh token).
import { html, nothing, type TemplateResult } from "lit-html";
import type { Actions } from "../controller";
import { NO_BROWSER, type UiState, type WaitingScreen } from "../state";
import { steps, textField } from "./widgets";

export function waitingView(s: UiState, redirectUri: string | undefined, a: Actions): TemplateResult {
  if (s.form.mode === "grant") {
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
  if (noBrowser && w) {
    return html`<section class="card center" id="waiting">
      ${steps(2)}
      <h1>Open this address in your browser</h1>
      <p id="no-browser">${NO_BROWSER}</p>
      ${fallback(w, a)}
      ${redirectHint}
      ${cancel}
    </section>`;
  }
  return html`<section class="card center" id="waiting">
    ${steps(2)}
    <div class="spinner"></div>
    <h1>Waiting for your browser…</h1>
    <p class="muted">Your web browser opened the broker's sign-in page. Approve Keygrant there; this window continues by itself.</p>
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
