// Notices above every screen (a refused keygrant:// link, a browser that would not open), each
// until the user dismisses it.
import { html, nothing } from "lit-html";
import { repeat } from "lit-html/directives/repeat.js";
import type { Actions } from "../controller";
import type { ShownNotice } from "../state";
import type { Part } from "./widgets";

export function noticesView(notices: ShownNotice[], a: Actions): Part {
  if (notices.length === 0) return nothing;
  return html`<div class="notices" id="notices">
    ${repeat(
      notices,
      (n) => `${n.local ? "local" : "backend"}-${n.id}`,
      (n) =>
        html`<div class="notice" data-notice-id=${n.id}>
          <span>${n.message}</span>
          <button class="link" aria-label="Dismiss: ${n.message}" @click=${() => a.dismissNotice(n)}>Dismiss</button>
        </div>`,
    )}
  </div>`;
}
