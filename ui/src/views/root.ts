// The whole page: the live region, the notices, the current screen and the footer. Rendered
// again on every state change; lit-html patches only the parts whose values changed.
import { html, type TemplateResult } from "lit-html";
import { keyed } from "lit-html/directives/keyed.js";
import type { Actions } from "../controller";
import type { UiState } from "../state";
import { aboutView } from "./about";
import { brokerView } from "./broker";
import { connectedView } from "./connected";
import { credentialsView } from "./credentials";
import { noticesView } from "./notices";
import { waitingView } from "./waiting";

export function rootView(s: UiState, a: Actions): TemplateResult {
  return html`<div id="announcer" class="visually-hidden" role="status" aria-live="polite" aria-atomic="true">${keyed(s.announcement.seq, s.announcement.text)}</div>
    ${noticesView(s.notices, a)}
    ${screenView(s, a)}
    ${aboutView(s, a)}`;
}

function screenView(s: UiState, a: Actions): TemplateResult {
  const screen = s.screen;
  switch (screen.name) {
    case "starting":
      return html`<section class="card center" aria-busy="true"><div class="spinner"></div><p>Starting…</p></section>`;
    case "broker":
      return brokerView(s, a);
    case "credentials":
      return credentialsView(s, screen.choice, screen.error, a);
    case "waiting":
      return waitingView(s, screen.redirectUri, a);
    case "connected":
      return connectedView(s, screen, a);
    case "failed":
      return html`<section class="card">
        <h1>Keygrant could not start</h1>
        <p class="error" id="banner">${screen.error.message}</p>
        <button class="primary" @click=${() => void a.start()}>Try again</button>
      </section>`;
  }
}
