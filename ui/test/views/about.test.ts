// The About box in the footer.
import { describe, expect, it } from "vitest";
import { $, FRESH, start, useBackend } from "../harness";

useBackend();

describe("about", () => {
  it("has an About box with the version, license and where secrets are kept", async () => {
    await start(FRESH);
    expect($("#about-toggle").getAttribute("aria-expanded")).toBe("false");
    $("#about-toggle").click();
    expect($("#about").textContent).toContain("Keygrant 0.1.0");
    expect($("#about").textContent).toContain("MIT");
    expect($("#about").textContent).toContain("keyring");
    expect($("#about-toggle").textContent).toBe("Close");
    expect($("#about-toggle").getAttribute("aria-expanded")).toBe("true");
    $("#about-toggle").click();
    expect(document.querySelector("#about")).toBeNull();
  });
});
