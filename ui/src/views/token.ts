// The token card: the refresh token, masked until revealed, copy, token health, how long the
// sign-in lasts where the broker ends it (Schwab's 7 days), Sign in again, keyring trouble and
// the answer to the last action.
import { html, nothing, type TemplateResult } from "lit-html";
import type { Actions } from "../controller";
import { signInExpiry, tokenHealth } from "../format";
import { credentialWords, UNSAVED_REFRESH_TOKEN } from "../help";
import type { ConnectedScreen } from "../state";
import { diagnoseView } from "./diagnose";

/** "Sign in again": a new browser sign-in that renews the shown connection's grant in place. */
export function signInAgainButton(a: Actions, id: string, primary = false): TemplateResult {
  return html`<button id=${id} class=${primary ? "primary" : ""} @click=${() => void a.signInAgain()}>Sign in again</button>`;
}

/** `now` is the page's clock (ms), which the sign-in's remaining time is counted from. */
export function tokenCardView(s: ConnectedScreen, a: Actions, now: number): TemplateResult {
  const p = s.profile;
  const shown = s.revealed !== undefined;
  const health = tokenHealth(p);
  const expiry = signInExpiry(p, now);
  const refused = s.noteError?.kind === "invalid_grant";
  const words = credentialWords(p.broker);
  return html`<section class="card" id="token-card">
    <h2>Your refresh token</h2>
    <p class="muted" id="token-client">${p.label} · ${words.clientId} <code>${p.client_id}</code></p>
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
    <p class="muted small">Kept in your system keyring with the ${words.secretInText}. Never written to a file.</p>
    ${health ? html`<p class="muted small" id="token-health">${health}</p>` : nothing}
    <div class=${expiry?.warning ? "sign-in-row warning" : "sign-in-row"} id="sign-in-row">
      ${
        expiry
          ? html`<p id="sign-in-expiry">
              ${expiry.warning ? html`<strong class="warning-label">Warning:</strong> ` : nothing}<span id="sign-in-expiry-text">${expiry.text}</span>${
                expiry.at ? html` <span class="muted small">(${expiry.at})</span>` : nothing
              }${expiry.warning ? ". Sign in again so your scripts keep working." : "."}
            </p>`
          : html`<p class="muted small">A new sign-in in your browser replaces this refresh token; the connection keeps its name and settings.</p>`
      }
      ${signInAgainButton(a, "sign-in-again", expiry?.warning === true)}
    </div>
    ${
      p.refresh_token_unsaved
        ? html`<div class="error banner" id="unsaved" role="alert">
            <p>${UNSAVED_REFRESH_TOKEN}</p>
            <button id="unsaved-copy" @click=${() => void a.copyRefreshToken()}>Copy</button>
            <button id="retry-save" @click=${() => void a.retrySaveRefreshToken()}>Retry save</button>
          </div>`
        : nothing
    }
    ${
      refused
        ? html`<div class="error banner" id="grant-refused" role="alert">
            <p id="note">${s.note}</p>
            ${signInAgainButton(a, "note-sign-in-again", true)}
          </div>`
        : s.note
          ? html`<p class=${s.noteError?.kind === "cancelled" ? "info" : "note"} id="note">${s.note}</p>`
          : nothing
    }
    ${diagnoseView(s, a)}
  </section>`;
}
