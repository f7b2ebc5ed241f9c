// Step 2: credentials, environment, mode, redirect and scopes, and what Connect sends.
import { describe, expect, it } from "vitest";
import type { ProfileView } from "../../src/bindings/ProfileView";
import {
  $,
  announced,
  argsOf,
  cmds,
  DEMO,
  deferred,
  FRESH,
  flush,
  input,
  ipc,
  PROFILE,
  start,
  type,
  useBackend,
} from "../harness";

useBackend();

describe("credentials", () => {
  it("sends what was typed, waits for the browser, then shows the token card and accounts", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    type("#client-id", `  ${DEMO.client_id} `);
    type("#client-secret", DEMO.client_secret);
    const pending = deferred<ProfileView>();
    ipc.handlers.connect = () => pending.promise;
    $("#connect").click();
    await flush();
    expect($("#waiting").textContent).toContain("Waiting for your browser");
    expect(argsOf("connect")).toEqual({
      request: {
        broker: "tastytrade",
        environment: "demo",
        client_id: `  ${DEMO.client_id} `,
        client_secret: DEMO.client_secret,
        redirect_uri: undefined,
        scopes: ["read", "openid"],
      },
    });
    pending.resolve(PROFILE);
    await flush();
    expect($("#token").textContent).toBe(PROFILE.refresh_token_masked);
    // The overview's first four cells name each account; its figures follow.
    const rows = [...document.querySelectorAll("#accounts tbody tr")].map((r) =>
      [...r.querySelectorAll("td")].slice(0, 4).map((td) => td.textContent),
    );
    expect(rows).toEqual([
      ["5WX01234", "Individual Margin", "Individual", "Margin"],
      ["5WX05678", "Roth IRA", "Roth IRA", "Cash"],
    ]);
    expect(document.body.innerHTML).not.toContain(DEMO.client_secret);
  });

  it("fills the Demo credentials on request", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    $("#fill-demo").click();
    expect(input("#client-id").value).toBe(DEMO.client_id);
    expect(input("#client-secret").value).toBe(DEMO.client_secret);
  });

  it("shows a field error under its field and keeps what was typed", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    type("#client-id", "abc");
    type("#client-secret", "has spaces inside");
    ipc.handlers.connect = () => {
      throw { kind: "invalid_input", field: "client_secret", message: "The client secret contains spaces." };
    };
    $("#connect").click();
    await flush();
    expect($("#error-client_secret").textContent).toBe("The client secret contains spaces.");
    expect($("#client-secret").getAttribute("aria-invalid")).toBe("true");
    expect($("#client-secret").getAttribute("aria-describedby")).toBe("client-secret-help error-client_secret");
    expect(input("#client-id").value).toBe("abc");
    expect(document.querySelector("#banner")).toBeNull();
    expect(announced()).toBe("The client secret contains spaces.");
  });

  it("shows a flow error such as a denial as a banner", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    ipc.handlers.connect = () => {
      throw { kind: "access_denied", message: "Access was denied in the browser." };
    };
    $("#connect").click();
    await flush();
    expect($("#banner").textContent).toBe("Access was denied in the browser.");
    expect($("#connect")).toBeTruthy();
  });

  it("Enter in a field connects", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    $("#fill-demo").click();
    ipc.handlers.connect = () => PROFILE;
    $("#client-secret").dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await flush();
    expect(cmds()).toContain("connect");
    expect($("#token-card")).toBeTruthy();
  });
});

describe("real brokers", () => {
  it("Tastytrade: environment, registered redirect URI and scopes go to connect", async () => {
    await start(FRESH);
    $("#broker-tastytrade").click();
    expect(input("#redirect-uri").value).toBe("http://localhost:8000");
    expect($("#wizard").textContent).toContain("my.tastytrade.com");
    expect(input("#scope-read").disabled).toBe(true);
    $("#environment-sandbox").click();
    expect($("#environment-sandbox").getAttribute("aria-pressed")).toBe("true");
    input("#scope-trade").click();
    type("#client-id", "cid-1");
    type("#client-secret", "secret-12345");
    type("#redirect-uri", "http://localhost:8765");
    const pending = deferred<ProfileView>();
    ipc.handlers.connect = () => pending.promise;
    $("#connect").click();
    await flush();
    expect($("#redirect-sent").textContent).toContain("http://localhost:8765");
    expect(argsOf("connect")).toEqual({
      request: {
        broker: "tastytrade",
        environment: "sandbox",
        client_id: "cid-1",
        client_secret: "secret-12345",
        redirect_uri: "http://localhost:8765",
        scopes: ["read", "openid", "trade"],
      },
    });
  });

  it("TradeStation offers live and sim and its own redirect default", async () => {
    await start(FRESH);
    $("#broker-trade_station").click();
    expect($("#environment-production").textContent).toBe("Live");
    expect($("#environment-sandbox").textContent).toBe("Simulated (sim)");
    expect(input("#redirect-uri").value).toBe("http://localhost:3001");
    expect(input("#scope-offline_access").disabled).toBe(true);
  });

  it("the Demo broker can speak TradeStation", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    $("#dialect-trade_station").click();
    $("#fill-demo").click();
    ipc.handlers.connect = () => PROFILE;
    $("#connect").click();
    await flush();
    const req = argsOf("connect")?.request as Record<string, unknown>;
    expect(req.broker).toBe("trade_station");
    expect(req.environment).toBe("demo");
    expect(req.scopes).toEqual(["openid", "offline_access", "ReadAccount"]);
  });

  it("a pasted personal grant is sent for verification, and a wrong environment is shown on its field", async () => {
    await start(FRESH);
    $("#broker-tastytrade").click();
    expect($("#mode-grant").textContent).toBe("Paste a refresh token (personal grant)");
    $("#mode-grant").click();
    expect($("#refresh-token-help").textContent).toContain('"Create Grant"');
    expect(document.querySelector("#redirect-uri")).toBeNull();
    expect($("#connect").textContent).toBe("Verify and save");
    type("#client-id", "cid-1");
    type("#client-secret", "secret-12345");
    type("#refresh-token", "rt-0123456789abcdef");
    ipc.handlers.connect_with_grant = () => {
      throw {
        kind: "wrong_environment",
        field: "environment",
        message: "These credentials belong to Tastytrade Sandbox (cert).",
      };
    };
    $("#connect").click();
    await flush();
    expect(argsOf("connect_with_grant")).toEqual({
      request: {
        broker: "tastytrade",
        environment: "production",
        client_id: "cid-1",
        client_secret: "secret-12345",
        refresh_token: "rt-0123456789abcdef",
      },
    });
    expect($("#error-environment").textContent).toContain("Sandbox (cert)");
    expect(input("#refresh-token").value).toBe("rt-0123456789abcdef");
  });
});

describe("first run", () => {
  it("explains the four words, links to the broker's page through the backend, and remembers the broker", async () => {
    await start(FRESH);
    expect(document.querySelector("#last-used")).toBeNull();
    $("#broker-trade_station").click();
    await flush();
    expect(argsOf("remember_choice")).toEqual({ choice: "trade_station" });
    const terms = [...document.querySelectorAll("#glossary dt")].map((d) => d.textContent);
    expect(terms).toEqual(["Client ID", "Client secret", "Redirect URI", "Refresh token"]);
    for (const dd of document.querySelectorAll("#glossary dd")) {
      expect((dd.textContent ?? "").split(/[.!?](\s|$)/).filter((x) => x?.trim()).length).toBe(2);
    }
    $("#environment-sandbox").click();
    $("#open-settings").click();
    await flush();
    expect(argsOf("open_app_settings")).toEqual({ broker: "trade_station", environment: "sandbox" });
    $("#back").click();
    expect($("#last-used").parentElement?.id).toBe("broker-trade_station");
  });

  it("keeps the glossary open while the form changes around it", async () => {
    await start(FRESH);
    $("#broker-tastytrade").click();
    const details = $("#glossary") as HTMLDetailsElement;
    details.open = true;
    $("#environment-sandbox").click();
    type("#client-id", "cid");
    expect($("#glossary")).toBe(details);
    expect(details.open).toBe(true);
  });

  it("a Schwab connection is not sent to a Create Grant page it does not have", async () => {
    await start(FRESH);
    $("#broker-schwab").click();
    expect($("#mode-grant").textContent).toBe("Paste a refresh token you already have");
    $("#mode-grant").click();
    const help = $("#refresh-token-help").textContent ?? "";
    expect(help).not.toContain("Create Grant");
    expect(help).toContain("7 days run from that sign-in");
  });
});
