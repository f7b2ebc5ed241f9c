// After a render: brings a new field error into view. The window is small (1200×820) and the
// form long, so an error on a field (the backend's `AppError.field`, e.g. the Callback URL) could
// otherwise show only as a red border with its message out of sight. The field is scrolled to
// the middle of the window and its control focused, so keyboard and screen-reader users land
// on it too (the control's `aria-describedby` reads the message).
import type { AppError } from "./bindings/AppError";
import type { UiState } from "./state";

/** The error on a field the shown screen holds, if any: Connect's on the credentials step, or
 *  the pasted address's on the waiting screen. */
export function fieldErrorOf(s: UiState): AppError | undefined {
  const e =
    s.screen.name === "credentials" ? s.screen.error : s.screen.name === "waiting" ? s.screen.pasteError : undefined;
  return e?.field ? e : undefined;
}

/** Scrolls the first field with an error message (`#error-<field>`) into view and focuses its
 *  control: the invalid input, the pressed choice of a row of buttons, or its first control.
 *  When the message is not on a field (the backend named one this form does not show), the
 *  banner is brought into view instead. Returns the element focused, if any. */
export function revealFieldError(root: ParentNode): HTMLElement | undefined {
  const message = root.querySelector<HTMLElement>('[id^="error-"]');
  const field = message?.closest<HTMLElement>(".field, fieldset") ?? message;
  const control =
    field?.querySelector<HTMLElement>('[aria-invalid="true"]') ??
    field?.querySelector<HTMLElement>('[aria-pressed="true"]') ??
    field?.querySelector<HTMLElement>("input:not([disabled]), textarea, select, button:not([disabled])") ??
    root.querySelector<HTMLElement>("#banner") ??
    undefined;
  const shown = field ?? control;
  if (!shown || !control) return undefined;
  if (control.id === "banner") control.tabIndex = -1;
  // Focus first without scrolling, then centre the whole field: label, input and message.
  control.focus({ preventScroll: true });
  if (typeof shown.scrollIntoView === "function") shown.scrollIntoView({ block: "center" });
  return control;
}
