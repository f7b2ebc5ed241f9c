// The page as a whole: starting, a failed start, and the live region.
import { describe, expect, it } from "vitest";
import indexHtml from "../../index.html?raw";
import { mount } from "../../src/mount";
import { $, announced, cmds, FRESH, flush, ipc, PROFILE, RETURNING, start, useBackend } from "../harness";

useBackend();

describe("page", () => {
  it("says when Keygrant could not start, and Try again reads the state again", async () => {
    ipc.handlers.get_state = () => {
      throw { kind: "internal", message: "The profile store could not be read." };
    };
    document.body.innerHTML = '<main id="app"></main>';
    const app = mount($("#app"));
    await flush();
    expect($("#banner").textContent).toBe("The profile store could not be read.");
    expect(announced()).toBe("The profile store could not be read.");
    ipc.handlers.get_state = () => FRESH;
    ($("section.card button.primary") as HTMLButtonElement).click();
    await flush();
    expect($("#wizard")).toBeTruthy();
    app.close();
  });

  it("announces what changed in the live region, not the screen's whole text", async () => {
    await start(RETURNING(PROFILE));
    const region = $("#announcer");
    expect(region.getAttribute("role")).toBe("status");
    expect(region.getAttribute("aria-live")).toBe("polite");
    // The only live region on the page: the screen itself is not one.
    expect(document.querySelectorAll("[aria-live]").length).toBe(1);
    expect(indexHtml).toMatch(/<main id="app">/);
    expect(indexHtml).not.toContain("aria-live");

    $("#copy").click();
    await flush();
    expect(region.textContent).toBe("Copied. The clipboard will be cleared in 45 seconds.");
    expect(region.textContent).not.toContain("Your refresh token");
    expect(region.textContent).not.toContain("5WX01234");
    // The same element, patched.
    expect($("#announcer")).toBe(region);

    // A repeated announcement is a new text node, so screen readers read it again.
    const node = region.lastChild;
    $("#copy").click();
    await flush();
    expect(region.textContent).toBe("Copied. The clipboard will be cleared in 45 seconds.");
    expect(region.lastChild).not.toBe(node);
  });

  it("announces the connection when the browser flow ends", async () => {
    ipc.handlers.connect = () => PROFILE;
    await start(FRESH);
    $("#broker-demo").click();
    $("#fill-demo").click();
    $("#connect").click();
    expect(announced()).toBe("Waiting for your browser…");
    await flush();
    expect(announced()).toBe(`Connected: ${PROFILE.label}.`);
    expect(cmds()).toContain("list_accounts");
  });
});
