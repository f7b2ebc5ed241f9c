// Small pieces several views share: the wizard's step list, a labelled text field and a row
// of toggle buttons. Values are bound with `live` so an update never overwrites what is being
// typed (nor moves the caret) unless the state really differs from the field.
import { html, nothing, type TemplateResult } from "lit-html";
import { live } from "lit-html/directives/live.js";
import type { AppError } from "../bindings/AppError";

/** What a view may render in a slot: a template or nothing at all. */
export type Part = TemplateResult | typeof nothing;

const STEPS = ["Broker", "Credentials", "Authorize"];

/** The wizard's three steps, the current one marked. */
export function steps(active: number): TemplateResult {
  return html`<ol class="steps">
    ${STEPS.map(
      (n, i) =>
        html`<li class=${i === active ? "active" : i < active ? "done" : ""} aria-current=${i === active ? "step" : "false"}>${i + 1}. ${n}</li>`,
    )}
  </ol>`;
}

export interface FieldOptions {
  id: string;
  label: string;
  help: string;
  value: string;
  onInput: (value: string) => void;
  /** Enter in the field: the form's main action. */
  onEnter: () => void;
  /** Shown under the field when its `field` is this field's name (the id with `_`). */
  error?: AppError;
  type?: "text" | "password";
}

/** A labelled text input with its help line and, when the backend refused it, its error. Both
 *  `input` and `change` report the value, so a value set without key presses (autofill, a
 *  password manager) is not undone by the next re-render. */
export function textField(o: FieldOptions): TemplateResult {
  const name = o.id.replaceAll("-", "_");
  const err = o.error?.field === name ? o.error.message : undefined;
  return html`<label class="field" for=${o.id}>
    <span class="label">${o.label}</span>
    <input
      id=${o.id}
      type=${o.type ?? "text"}
      .value=${live(o.value)}
      autocomplete="off"
      spellcheck="false"
      aria-invalid=${err ? "true" : "false"}
      aria-describedby=${err ? `${o.id}-help error-${name}` : `${o.id}-help`}
      @input=${(ev: Event) => o.onInput((ev.target as HTMLInputElement).value)}
      @change=${(ev: Event) => o.onInput((ev.target as HTMLInputElement).value)}
      @keydown=${(ev: KeyboardEvent) => {
        if (ev.key === "Enter") o.onEnter();
      }}
    />
    <small id="${o.id}-help" class="muted">${o.help}</small>
    ${err ? html`<span class="error" id="error-${name}">${err}</span>` : nothing}
  </label>`;
}

/** A row of toggle buttons; the chosen one is pressed. */
export function segmented<T extends string>(
  id: string,
  label: string,
  options: { value: T; label: string }[],
  current: T,
  pick: (value: T) => void,
  error?: AppError,
): TemplateResult {
  const err = error?.field === id ? error.message : undefined;
  return html`<div class="field">
    <span class="label" id="${id}-label">${label}</span>
    <div class="segmented" role="group" id=${id} aria-labelledby="${id}-label">
      ${options.map(
        (o) =>
          html`<button
            id="${id}-${o.value}"
            class=${o.value === current ? "on" : ""}
            aria-pressed=${o.value === current ? "true" : "false"}
            @click=${() => pick(o.value)}
          >${o.label}</button>`,
      )}
    </div>
    ${err ? html`<span class="error" id="error-${id}">${err}</span>` : nothing}
  </div>`;
}
