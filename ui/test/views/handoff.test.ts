// Hand-off snippets for the user's own code.
import { describe, expect, it } from "vitest";
import { $, announced, argsOf, flush, ipc, PROFILE, RETURNING, start, TOKEN, useBackend } from "../harness";

useBackend();

describe("hand-off snippets", () => {
  it("show placeholders and copy with secrets through the backend", async () => {
    ipc.handlers.copy_snippet = () => 45;
    await start(RETURNING(PROFILE));
    const order = [...document.querySelectorAll("#handoff .snippet")].map((e) => e.id);
    expect(order).toEqual(["snippet-exec", "snippet-env", "snippet-curl"]);
    expect($("#copy-snippet-exec").textContent).toBe("Copy");
    expect($("#copy-snippet-env").textContent).toBe("Copy with secrets");
    expect($("#handoff").textContent).toContain("puts the real client secret and refresh token");
    expect($("#snippet-env").textContent).toContain("TT_SECRET=<paste: Copy with secrets>");
    $("#copy-snippet-curl").click();
    await flush();
    expect(argsOf("copy_snippet")).toEqual({ kind: "curl" });
    expect($("#note").textContent).toContain("cleared in 45 seconds");
    expect(announced()).toBe("Copied with your secrets. The clipboard will be cleared in 45 seconds.");
    expect(document.body.innerHTML).not.toContain(TOKEN);
  });

  it("copy the keygrant exec snippet without claiming secrets", async () => {
    ipc.handlers.copy_snippet = () => 45;
    await start(RETURNING(PROFILE));
    $("#copy-snippet-exec").click();
    await flush();
    expect(argsOf("copy_snippet")).toEqual({ kind: "exec" });
    expect(announced()).toBe("Copied. The clipboard will be cleared in 45 seconds.");
  });

  it("name a Schwab connection's secret as Schwab does", async () => {
    await start(RETURNING({ ...PROFILE, broker: "schwab" }));
    expect($("#handoff").textContent).toContain("puts the real app's Secret and refresh token");
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
