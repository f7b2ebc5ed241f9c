// The connected screen as a whole: Disconnect with its confirmation.
import { describe, expect, it } from "vitest";
import { $, announced, cmds, FRESH, flush, ipc, PROFILE, RETURNING, start, useBackend } from "../harness";

useBackend();

describe("connected", () => {
  it("disconnect asks for confirmation, then returns to the wizard", async () => {
    await start(RETURNING(PROFILE));
    ipc.handlers.disconnect = () => {
      ipc.handlers.get_state = () => FRESH;
      return null;
    };
    $("#disconnect").click();
    await flush();
    expect(cmds()).not.toContain("disconnect");
    expect($("#disconnect").textContent).toBe("Remove");
    $("#disconnect").click();
    await flush();
    expect(cmds()).toContain("disconnect");
    expect($("#wizard").textContent).toContain("Which broker");
    expect(announced()).toBe("Connection removed.");
  });

  it("Keep takes the question back", async () => {
    await start(RETURNING(PROFILE));
    $("#disconnect").click();
    expect(announced()).toContain("Remove this connection");
    $("#keep").click();
    expect($("#disconnect").textContent).toBe("Disconnect");
    expect(document.querySelector("#keep")).toBeNull();
  });

  it("a failed disconnect says why and asks again next time", async () => {
    ipc.handlers.disconnect = () => {
      throw { kind: "keyring", message: "The keyring is locked." };
    };
    await start(RETURNING(PROFILE));
    $("#disconnect").click();
    $("#disconnect").click();
    await flush();
    expect($("#note").textContent).toBe("The keyring is locked.");
    expect($("#disconnect").textContent).toBe("Disconnect");
  });
});
