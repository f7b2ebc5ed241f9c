// A custom provider's last token response, tokens masked, with "Refresh now". Shown instead of
// the accounts: Keygrant knows no account API for a custom provider.
import { html, type TemplateResult } from "lit-html";
import { repeat } from "lit-html/directives/repeat.js";
import type { ProfileView } from "../bindings/ProfileView";
import type { Actions } from "../controller";

export function tokenResponseView(p: ProfileView, a: Actions): TemplateResult {
  const body =
    p.token_fields.length === 0
      ? html`<p class="muted" id="token-fields-empty">Press Refresh now to ask the provider for a new access token and see its answer.</p>`
      : html`<table id="token-fields">
          <thead><tr><th>Field</th><th>Value</th></tr></thead>
          <tbody>
            ${repeat(
              p.token_fields,
              (f) => f.name,
              (f) =>
                html`<tr><td class="mono">${f.name}</td><td class=${f.masked ? "mono muted" : "mono"}>${f.value}</td></tr>`,
            )}
          </tbody>
        </table>`;
  return html`<section class="card" id="token-response">
    <div class="row-between">
      <h2>Token response</h2>
      <button id="refresh-now" @click=${() => void a.refreshNow()}>Refresh now</button>
    </div>
    <p class="muted small">What the provider returned, tokens masked. Keygrant has no dashboard for a custom provider: use the refresh token in your own code.</p>
    ${body}
  </section>`;
}
