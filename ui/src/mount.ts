// Puts the page into `root`: a controller whose every state change renders `rootView` there.
import { render } from "lit-html";
import { Controller } from "./controller";
import { rootView } from "./views/root";

export function mount(root: HTMLElement): Controller {
  const controller = new Controller((state) => render(rootView(state, controller), root));
  void controller.init();
  return controller;
}
