// Step 3: waiting for the browser (or for the broker to accept a pasted refresh token).
import { html, nothing, type TemplateResult } from "lit-html";
import type { Actions } from "../controller";
import type { UiState } from "../state";
import { steps } from "./widgets";

export function waitingView(s: UiState, redirectUri: string | undefined, a: Actions): TemplateResult {
  if (s.form.mode === "grant") {
    return html`<section class="card center" id="waiting">
      <div class="spinner"></div>
      <h1>Checking your refresh token…</h1>
      <p class="muted">Keygrant asks the broker for one access token with it before saving anything.</p>
    </section>`;
  }
  const deepLink = redirectUri !== undefined && redirectUri === s.app?.deep_link_redirect;
  return html`<section class="card center" id="waiting">
    ${steps(2)}
    <div class="spinner"></div>
    <h1>Waiting for your browser…</h1>
    <p class="muted">Your web browser opened the broker's sign-in page. Approve Keygrant there; this window continues by itself.</p>
    ${
      redirectUri
        ? html`<p class="muted small" id="redirect-sent">${deepLink ? "The broker sends you back to a keygrant:// link, which your system hands to Keygrant. " : ""}If the broker's page reports a redirect URI mismatch, register exactly <code>${redirectUri}</code> with your OAuth application, or enter the one you registered.</p>`
        : nothing
    }
    <button id="cancel" @click=${() => void a.cancel()}>Cancel</button>
  </section>`;
}
