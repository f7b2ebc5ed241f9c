// The token card: the refresh token, masked until revealed, copy, token health, keyring trouble
// and the answer to the last action.
import { html, nothing, type TemplateResult } from "lit-html";
import type { Actions } from "../controller";
import { tokenHealth } from "../format";
import { UNSAVED_REFRESH_TOKEN } from "../help";
import type { ConnectedScreen } from "../state";
import { diagnoseView } from "./diagnose";

export function tokenCardView(s: ConnectedScreen, a: Actions): TemplateResult {
  const p = s.profile;
  const shown = s.revealed !== undefined;
  const health = tokenHealth(p);
  return html`<section class="card" id="token-card">
    <h2>Your refresh token</h2>
    <p class="muted">${p.label} · client ID <code>${p.client_id}</code></p>
    <div class="token-row">
      <code id="token" class=${shown ? "token revealed" : "token"}>${s.revealed ?? p.refresh_token_masked}</code>
      <button id="reveal" aria-pressed=${shown ? "true" : "false"} @click=${() => void a.toggleReveal()}>${shown ? "Hide" : "Reveal"}</button>
      <button id="copy" @click=${() => void a.copyRefreshToken()}>Copy</button>
      <button
        id="diagnose"
        ?disabled=${s.diagnose?.status === "loading"}
        aria-expanded=${s.diagnose ? "true" : "false"}
        aria-controls="diagnose-panel"
        @click=${() => void a.diagnose()}
      >Diagnose</button>
    </div>
    <p class="muted small">Kept in your system keyring with the client secret. Never written to a file.</p>
    ${health ? html`<p class="muted small" id="token-health">${health}</p>` : nothing}
    ${
      p.refresh_token_unsaved
        ? html`<div class="error banner" id="unsaved" role="alert">
            <p>${UNSAVED_REFRESH_TOKEN}</p>
            <button id="unsaved-copy" @click=${() => void a.copyRefreshToken()}>Copy</button>
            <button id="retry-save" @click=${() => void a.retrySaveRefreshToken()}>Retry save</button>
          </div>`
        : nothing
    }
    ${s.note ? html`<p class="note" id="note">${s.note}</p>` : nothing}
    ${diagnoseView(s, a)}
  </section>`;
}
