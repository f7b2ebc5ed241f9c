// A custom provider's token response instead of accounts, and Refresh now.
import { describe, expect, it } from "vitest";
import { tokenResponseView } from "../../src/views/token-response";
import {
  $,
  announced,
  CUSTOM_PROFILE,
  cmds,
  flush,
  ipc,
  RETURNING,
  recordingActions,
  renderView,
  start,
  useBackend,
} from "../harness";

useBackend();

describe("token response", () => {
  it("Refresh now asks the backend and shows the new response", async () => {
    ipc.handlers.refresh_now = () => ({
      ...CUSTOM_PROFILE,
      token_fields: [{ name: "token_type", value: "Bearer", masked: false }],
    });
    await start(RETURNING(CUSTOM_PROFILE));
    expect($("#token-fields-empty").textContent).toContain("Refresh now");
    expect(cmds()).not.toContain("list_accounts");
    $("#refresh-now").click();
    await flush();
    expect($("#token-fields").textContent).toContain("Bearer");
    expect($("#note").textContent).toContain("accepted");
    expect(announced()).toContain("accepted");
  });

  it("shows masked values muted", () => {
    const view = renderView(
      tokenResponseView(
        {
          ...CUSTOM_PROFILE,
          token_fields: [
            { name: "access_token", value: "••••WXYZ", masked: true },
            { name: "expires_in", value: "3600", masked: false },
          ],
        },
        recordingActions(),
      ),
    );
    const cells = [...view.querySelectorAll("#token-fields tbody td")].map((td) => [td.textContent, td.className]);
    expect(cells).toEqual([
      ["access_token", "mono"],
      ["••••WXYZ", "mono muted"],
      ["expires_in", "mono"],
      ["3600", "mono"],
    ]);
  });
});
