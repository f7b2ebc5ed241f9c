// Hand-off snippets for the user's own code.
import { describe, expect, it } from "vitest";
import { $, announced, argsOf, flush, ipc, PROFILE, RETURNING, start, TOKEN, useBackend } from "../harness";

useBackend();

describe("hand-off snippets", () => {
  it("show placeholders and copy with secrets through the backend", async () => {
    ipc.handlers.copy_snippet = () => 45;
    await start(RETURNING(PROFILE));
    expect($("#snippet-env").textContent).toContain("TASTY_CLIENT_SECRET=<paste: Copy with secrets>");
    $("#copy-snippet-curl").click();
    await flush();
    expect(argsOf("copy_snippet")).toEqual({ kind: "curl" });
    expect($("#note").textContent).toContain("cleared in 45 seconds");
    expect(announced()).toBe("Copied with your secrets. The clipboard will be cleared in 45 seconds.");
    expect(document.body.innerHTML).not.toContain(TOKEN);
  });

  it("are left out when the backend has none to give", async () => {
    ipc.handlers.snippets = () => {
      throw { kind: "internal", message: "no" };
    };
    await start(RETURNING(PROFILE));
    expect(document.querySelector("#handoff")).toBeNull();
    expect($("#token-card")).toBeTruthy();
  });
});
