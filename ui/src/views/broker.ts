// Step 1: which broker the OAuth application is at.
import { html, nothing, type TemplateResult } from "lit-html";
import type { Actions } from "../controller";
import { brokerCards } from "../help";
import type { UiState } from "../state";
import { steps } from "./widgets";

export function brokerView(s: UiState, a: Actions): TemplateResult {
  const hasProfiles = (s.app?.profiles.length ?? 0) > 0;
  const last = s.app?.last_choice;
  return html`<section class="card" id="wizard">
    ${steps(0)}
    ${
      hasProfiles
        ? html`<button class="link" id="to-dashboard" @click=${() => void a.start()}>← Back to your connections</button>`
        : nothing
    }
    <h1>Which broker is your OAuth application at?</h1>
    <p class="muted">Keygrant turns the OAuth application you created at your broker into a working refresh token, kept in your system keyring.</p>
    <div class="brokers">
      ${brokerCards(s.app?.brokers ?? []).map(
        (b) =>
          html`<button class=${b.featured ? "broker featured" : "broker"} id="broker-${b.kind}" @click=${() => a.chooseBroker(b.kind)}>
            <strong>${b.title}</strong>
            <span>${b.blurb}</span>
            ${b.featured ? html`<em class="badge start">Start here</em>` : nothing}
            ${last === b.kind ? html`<em class="badge last" id="last-used">Last used</em>` : nothing}
          </button>`,
      )}
    </div>
  </section>`;
}
