// Puts the page into `root`: a controller whose every state change renders `rootView` there.
// After a render that shows a new field error, that field is scrolled into view and focused.
import { render } from "lit-html";
import type { AppError } from "./bindings/AppError";
import { Controller } from "./controller";
import { fieldErrorOf, revealFieldError } from "./reveal";
import { rootView } from "./views/root";

export function mount(root: HTMLElement): Controller {
  let revealed: AppError | undefined;
  const controller = new Controller((state) => {
    render(rootView(state, controller), root);
    // Once per error: typing in the field afterwards re-renders without moving anything.
    const error = fieldErrorOf(state);
    if (error && error !== revealed) revealFieldError(root);
    revealed = error;
  });
  void controller.init();
  return controller;
}
