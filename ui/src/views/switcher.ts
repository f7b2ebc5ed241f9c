// The profile switcher: every connection, rename, add another. The rename field is patched in
// place, so what is being typed, the caret and the focus survive updates from elsewhere. A
// `change` alone (autofill, a password manager, a script emptying the field) counts as
// typing too, or the next re-render would put the old name back.
import { html, type TemplateResult } from "lit-html";
import { live } from "lit-html/directives/live.js";
import { ref } from "lit-html/directives/ref.js";
import { repeat } from "lit-html/directives/repeat.js";
import type { ProfileSummary } from "../bindings/ProfileSummary";
import type { Actions } from "../controller";
import type { ConnectedScreen } from "../state";

/** Focuses the rename field once, when it appears (the same callback is not called again for
 *  the same element). lit-html calls it before the new element is in the document, hence the
 *  microtask. */
function focusOnAppear(el: Element | undefined): void {
  if (el instanceof HTMLInputElement) queueMicrotask(() => el.focus());
}

export function switcherView(s: ConnectedScreen, profiles: ProfileSummary[], a: Actions): TemplateResult {
  const current =
    profiles.length > 1
      ? html`<select
          id="profile-switcher"
          aria-label="Connection"
          @change=${(ev: Event) => void a.selectProfile((ev.target as HTMLSelectElement).value)}
        >
          ${repeat(
            profiles,
            (p) => p.id,
            (p) =>
              html`<option value=${p.id} .selected=${live(p.id === s.profile.id)}>${p.label} (${p.environment_label})</option>`,
          )}
        </select>`
      : html`<strong id="profile-label">${s.profile.label}</strong>`;
  const rename =
    s.renaming !== undefined
      ? html`<span class="actions">
          <input
            id="rename-input"
            aria-label="New name"
            .value=${live(s.renaming)}
            ${ref(focusOnAppear)}
            @input=${(ev: Event) => a.dispatch({ type: "renameTyped", text: (ev.target as HTMLInputElement).value })}
            @change=${(ev: Event) => a.dispatch({ type: "renameTyped", text: (ev.target as HTMLInputElement).value })}
            @keydown=${(ev: KeyboardEvent) => {
              if (ev.key === "Enter") void a.saveRename();
              if (ev.key === "Escape") a.dispatch({ type: "renameCancelled" });
            }}
          />
          <button id="rename-save" class="primary" @click=${() => void a.saveRename()}>Save</button>
          <button id="rename-cancel" @click=${() => a.dispatch({ type: "renameCancelled" })}>Cancel</button>
        </span>`
      : html`<button id="rename" @click=${() => a.dispatch({ type: "renameStarted" })}>Rename</button>`;
  return html`<section class="card row-between switcher">
    ${current}
    <div class="actions">
      ${rename}
      <button id="add-connection" @click=${() => a.dispatch({ type: "brokersShown" })}>Add connection</button>
    </div>
  </section>`;
}
