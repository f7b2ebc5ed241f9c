// The token card: reveal, copy, token health and keyring trouble.
import { describe, expect, it } from "vitest";
import { $, announced, cmds, flush, ipc, PROFILE, RETURNING, start, TOKEN, useBackend } from "../harness";

useBackend();

describe("token card", () => {
  it("reveals the token only on request and hides it again", async () => {
    await start(RETURNING(PROFILE));
    expect(document.body.innerHTML).not.toContain(TOKEN);
    expect($("#token-client").textContent).toBe(`${PROFILE.label} · Client ID ${PROFILE.client_id}`);
    $("#reveal").click();
    await flush();
    expect($("#token").textContent).toBe(TOKEN);
    expect($("#reveal").textContent).toBe("Hide");
    expect($("#reveal").getAttribute("aria-pressed")).toBe("true");
    expect(announced()).toBe("Refresh token shown.");
    $("#reveal").click();
    await flush();
    expect($("#token").textContent).toBe(PROFILE.refresh_token_masked);
    expect($("#reveal").textContent).toBe("Reveal");
    expect(document.body.innerHTML).not.toContain(TOKEN);
  });

  it("copies through the backend without the token entering the page", async () => {
    await start(RETURNING(PROFILE));
    $("#copy").click();
    await flush();
    expect(cmds()).toContain("copy_refresh_token");
    expect($("#note").textContent).toContain("cleared in 45 seconds");
    expect(document.body.innerHTML).not.toContain(TOKEN);
  });

  it("shows a failed copy's reason as the note", async () => {
    ipc.handlers.copy_refresh_token = () => {
      throw { kind: "keyring", message: "The keyring is locked." };
    };
    await start(RETURNING(PROFILE));
    $("#copy").click();
    await flush();
    expect($("#note").textContent).toBe("The keyring is locked.");
    expect(announced()).toBe("The keyring is locked.");
  });

  it("shows when the access token was obtained and follows background refreshes", async () => {
    const at = (h: number, m: number) => new Date(2026, 10, 25, h, m, 0).getTime() / 1000;
    const first = { ...PROFILE, access_token_obtained_at: at(9, 0), access_token_expires_at: at(9, 15) };
    const app = await start(RETURNING(first));
    const before = $("#token-health").textContent;
    expect(before).toContain(new Date(at(9, 15) * 1000).toLocaleTimeString());
    ipc.handlers.get_state = () =>
      RETURNING({ ...PROFILE, access_token_obtained_at: at(9, 14), access_token_expires_at: at(9, 29) });
    await app.tick();
    expect($("#token-health").textContent).toContain(new Date(at(9, 29) * 1000).toLocaleTimeString());
    expect($("#detail-5WX01234").textContent).toContain("Net liquidating value");
  });

  it("says when a rotated refresh token is waiting for the keyring", async () => {
    await start(RETURNING({ ...PROFILE, refresh_token_unsaved: true }));
    expect($("#unsaved").textContent).toContain("unlock the keyring");
  });

  it("retries saving the unsaved refresh token until the keyring takes it", async () => {
    ipc.handlers.retry_save_refresh_token = () => {
      throw { kind: "keyring", message: "The system keyring is locked." };
    };
    await start(RETURNING({ ...PROFILE, refresh_token_unsaved: true }));
    $("#retry-save").click();
    await flush();
    expect(cmds()).toContain("retry_save_refresh_token");
    expect($("#note").textContent).toBe("The system keyring is locked.");
    expect($("#unsaved")).not.toBeNull();
    $("#unsaved-copy").click();
    await flush();
    expect(cmds()).toContain("copy_refresh_token");
    expect(document.body.innerHTML).not.toContain(TOKEN);
    ipc.handlers.retry_save_refresh_token = () => ({ ...PROFILE, refresh_token_unsaved: false });
    $("#retry-save").click();
    await flush();
    expect(document.querySelector("#unsaved")).toBeNull();
    expect($("#note").textContent).toContain("Saved");
  });
});
