// The custom OAuth 2 provider's fields, and what Connect sends for them.
import { describe, expect, it } from "vitest";
import { $, argsOf, CUSTOM_PROFILE, FRESH, flush, input, ipc, start, type, useBackend } from "../harness";

useBackend();

describe("custom OAuth 2 provider", () => {
  it("sends the provider's description, typed scopes and extra parameters", async () => {
    ipc.handlers.connect = () => ({
      ...CUSTOM_PROFILE,
      access_token_obtained_at: 1_700_000_000,
      access_token_expires_at: 1_700_003_600,
      token_fields: [
        { name: "access_token", value: "••••••••••••WXYZ", masked: true },
        { name: "expires_in", value: "3600", masked: false },
      ],
    });
    await start(FRESH);
    $("#broker-custom").click();
    expect(document.querySelector("#environment")).toBeNull();
    type("#authorize-url", " https://id.example.com/authorize ");
    type("#token-url", "https://id.example.com/oauth/token");
    type("#scopes-text", "openid offline_access");
    type("#client-id", "my-client");
    type("#client-secret", "my-secret-123456");
    $("#client-auth-basic").click();
    expect($("#client-auth-basic").getAttribute("aria-pressed")).toBe("true");
    input("#pkce").click();
    const extra = $("#extra-params") as HTMLTextAreaElement;
    extra.value = "audience = https://api.example.com\n\naccess_type=offline";
    extra.dispatchEvent(new Event("input"));
    $("#connect").click();
    await flush();
    const req = argsOf("connect")?.request as Record<string, unknown>;
    expect(req.broker).toBe("custom");
    expect(req.scopes).toEqual(["openid offline_access"]);
    expect(req.redirect_uri).toBe("");
    expect(req.custom).toEqual({
      authorize_url: " https://id.example.com/authorize ",
      token_url: "https://id.example.com/oauth/token",
      client_auth: "basic",
      pkce: false,
      extra_params: [
        { name: "audience", value: "https://api.example.com" },
        { name: "access_type", value: "offline" },
      ],
    });
    // No dashboard: the token response, masked, and no account request.
    expect($("#token-fields").textContent).toContain("expires_in");
    expect($("#token-fields").textContent).toContain("••••••••••••WXYZ");
    expect($("#token-health").textContent).toContain("expires");
    expect(document.querySelector("#accounts-card")).toBeNull();
    expect(ipc.calls.some((c) => c.cmd === "list_accounts")).toBe(false);
  });

  it("shows a refused URL on its field and keeps what was typed", async () => {
    ipc.handlers.connect = () => {
      throw { kind: "invalid_input", message: "The token URL must start with https://", field: "token_url" };
    };
    await start(FRESH);
    $("#broker-custom").click();
    type("#token-url", "http://id.example.com/token");
    $("#connect").click();
    await flush();
    expect($("#error-token_url").textContent).toContain("https://");
    expect(input("#token-url").value).toBe("http://id.example.com/token");
  });

  it("shows a scopes error on the typed scopes and an extra-parameter error on its box", async () => {
    let error = { kind: "invalid_input", message: "Add offline_access.", field: "scopes" };
    ipc.handlers.connect = () => {
      throw error;
    };
    await start(FRESH);
    $("#broker-custom").click();
    $("#connect").click();
    await flush();
    expect($("#error-scopes_text").textContent).toBe("Add offline_access.");
    expect($("#scopes-text").getAttribute("aria-invalid")).toBe("true");
    error = { kind: "invalid_input", message: "Bad parameter name.", field: "extra_params" };
    $("#connect").click();
    await flush();
    expect($("#error-extra_params").textContent).toBe("Bad parameter name.");
    expect($("#extra-params").getAttribute("aria-invalid")).toBe("true");
  });
});
