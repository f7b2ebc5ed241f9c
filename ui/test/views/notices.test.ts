// Notices above every screen: from the backend's state, from its `notice` event, and the page's own.
import { describe, expect, it } from "vitest";
import { noticesView } from "../../src/views/notices";
import {
  $,
  announced,
  argsOf,
  cmds,
  emitEvent,
  FRESH,
  flush,
  ipc,
  recordingActions,
  renderView,
  start,
  useBackend,
} from "../harness";

useBackend();

const REFUSED = "A sign-in link arrived, but no sign-in is waiting for one, so it was ignored.";

describe("notices", () => {
  it("subscribes to the notice event", async () => {
    await start(FRESH);
    const listen = ipc.calls.find((c) => c.cmd === "plugin:event|listen");
    expect(listen?.args.event).toBe("notice");
  });

  it("shows a refused link's message above any screen until dismissed, and tells the backend", async () => {
    await start(FRESH);
    emitEvent("notice", { id: 7, message: REFUSED });
    expect($(".notice").textContent).toContain("no sign-in is waiting");
    expect(announced()).toBe(REFUSED);
    expect($("#wizard")).toBeTruthy();
    ($(".notice button") as HTMLButtonElement).click();
    expect(document.querySelector(".notice")).toBeNull();
    await flush();
    expect(argsOf("dismiss_notice")).toEqual({ id: 7 });
  });

  it("shows the notices the state lists, once each, and not again after dismissing", async () => {
    const state = { ...FRESH, notices: [{ id: 1, message: REFUSED }] };
    const app = await start(state);
    expect(document.querySelectorAll(".notice").length).toBe(1);
    emitEvent("notice", { id: 1, message: REFUSED });
    expect(document.querySelectorAll(".notice").length).toBe(1);
    ($(".notice button") as HTMLButtonElement).click();
    // A state read that started before the dismissal still lists it: it stays dismissed.
    await app.start();
    expect(document.querySelector(".notice")).toBeNull();
  });

  it("shows a browser that would not open as the page's own notice, dismissed without the backend", async () => {
    ipc.handlers.open_app_settings = () => {
      throw { kind: "internal", message: "No browser could be opened." };
    };
    await start(FRESH);
    $("#broker-tastytrade").click();
    $("#open-settings").click();
    await flush();
    expect($(".notice").textContent).toContain("No browser could be opened.");
    ($(".notice button") as HTMLButtonElement).click();
    await flush();
    expect(document.querySelector(".notice")).toBeNull();
    expect(cmds()).not.toContain("dismiss_notice");
  });

  it("renders each notice with its own Dismiss", () => {
    const a = recordingActions();
    const view = renderView(
      noticesView(
        [
          { id: 3, message: "First" },
          { id: 4, message: "Second" },
        ],
        a,
      ),
    );
    const buttons = [...view.querySelectorAll<HTMLButtonElement>(".notice button")];
    expect(buttons.map((b) => b.getAttribute("aria-label"))).toEqual(["Dismiss: First", "Dismiss: Second"]);
    buttons[1].click();
    expect(a.log).toEqual(["dismissNotice(4)"]);
  });
});
