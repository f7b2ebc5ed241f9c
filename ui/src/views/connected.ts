// The connected screen: switcher, token card, accounts (or the token response for a custom
// provider), hand-off snippets and Disconnect.
import { html, nothing, type TemplateResult } from "lit-html";
import type { Actions } from "../controller";
import { CONFIRM_DISCONNECT, type ConnectedScreen, type UiState } from "../state";
import { accountsView } from "./accounts";
import { handoffView } from "./handoff";
import { switcherView } from "./switcher";
import { tokenCardView } from "./token";
import { tokenResponseView } from "./token-response";

export function connectedView(state: UiState, s: ConnectedScreen, a: Actions): TemplateResult {
  const p = s.profile;
  return html`<div class="stack" id="connected">
    ${switcherView(s, state.app?.profiles ?? [], a)}
    ${tokenCardView(s, a, state.now)}
    ${p.has_dashboard ? accountsView(s.accounts, { ...s.dashboard, now: state.now, autoRefreshMinutes: state.autoRefreshMinutes }, a) : tokenResponseView(p, a)}
    ${handoffView(s.snippets, s.profile.broker, a)}
    <section class="card row-between">
      <span class="muted">${s.confirmDisconnect ? CONFIRM_DISCONNECT : "Done with this connection?"}</span>
      <div class="actions">
        ${s.confirmDisconnect ? html`<button id="keep" @click=${() => a.dispatch({ type: "disconnectKept" })}>Keep</button>` : nothing}
        <button class="danger" id="disconnect" @click=${() => void a.disconnect()}>${s.confirmDisconnect ? "Remove" : "Disconnect"}</button>
      </div>
    </section>
  </div>`;
}
