// The UI's own logic, with Tauri's IPC mocked: the real api.ts calls go through mockIPC.
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tauriApi } from "../src/api";
import { mount } from "../src/app";
import type { Account } from "../src/bindings/Account";
import type { AppState } from "../src/bindings/AppState";
import type { ProfileView } from "../src/bindings/ProfileView";
import type { AccountDetail } from "../src/bindings/AccountDetail";
import type { Snippet } from "../src/bindings/Snippet";
import { formatMoney, formatQuantity } from "../src/app";

const DEMO = { client_id: "demo-id-1234", client_secret: "demo-secret-abcdef" };
const scope = (name: string, dflt: boolean, required = false) => ({ name, description: `${name} scope`, default: dflt, required });
const BROKERS: AppState["brokers"] = [
  {
    broker: "tastytrade",
    name: "Tastytrade",
    environments: [
      { environment: "production", label: "Production" },
      { environment: "sandbox", label: "Sandbox (cert)" },
    ],
    default_redirect_uri: "http://localhost:8000",
    app_settings_url: "https://my.tastytrade.com/app.html#/manage/api-access/oauth-applications",
    scopes: [scope("read", true, true), scope("trade", false), scope("openid", true)],
  },
  {
    broker: "trade_station",
    name: "TradeStation",
    environments: [
      { environment: "production", label: "Live" },
      { environment: "sandbox", label: "Simulated (sim)" },
    ],
    default_redirect_uri: "http://localhost:3001",
    app_settings_url: "https://developer.tradestation.com/",
    scopes: [scope("openid", true, true), scope("offline_access", true, true), scope("ReadAccount", true, true), scope("Trade", false)],
  },
];
const ABOUT = { name: "Keygrant", version: "0.1.0", identifier: "app.keygrant.desktop", license: "MIT", description: "Broker OAuth" };
const FRESH: AppState = { demo: DEMO, brokers: BROKERS, deep_link_redirect: "keygrant://callback", profiles: [], about: ABOUT };
const RETURNING = (profile: ProfileView): AppState => ({
  ...FRESH,
  profile,
  profiles: [{ id: profile.id, label: profile.label, broker: profile.broker, environment_label: profile.environment_label, active: true }],
});
const TOKEN = "demo-rt-THE-FULL-REFRESH-TOKEN-VALUE.tag";
const PROFILE: ProfileView = {
  id: "p1",
  broker: "tastytrade",
  environment: "demo",
  environment_label: "Demo broker",
  client_id: DEMO.client_id,
  label: "Tastytrade · Demo broker",
  scopes: ["read", "openid"],
  refresh_token_masked: "••••••••••••.tag",
  has_dashboard: true,
  token_fields: [],
  refresh_token_unsaved: false,
};
const ACCOUNTS: Account[] = [
  { number: "5WX01234", nickname: "Individual Margin", account_type: "Individual", margin_or_cash: "Margin", currency: "USD" },
  { number: "5WX05678", nickname: "Roth IRA", account_type: "Roth IRA", margin_or_cash: "Cash", currency: "USD" },
];

const SNIPPETS: Snippet[] = [
  { kind: "env", title: ".env", hint: "Save as .env", text: "TASTY_CLIENT_SECRET=<paste: Copy with secrets>\n" },
  { kind: "curl", title: "curl", hint: "Run it", text: "curl -sS -X POST 'https://api.tastyworks.com/oauth/token'\n" },
];

function detailFor(number: string): AccountDetail {
  return {
    number,
    balances: {
      currency: "USD",
      lines: [
        { key: "net_liquidating_value", label: "Net liquidating value", value: "1234567.5" },
        { key: "cash", label: "Cash balance", value: "-12.05" },
      ],
    },
    positions:
      number === "5WX01234"
        ? [
            {
              symbol: "SPY   261218P00550000",
              instrument_type: "Equity Option",
              quantity: "2.000",
              direction: "short",
              average_price: "7.85",
              mark: "6.05",
              market_value: null,
            },
          ]
        : [],
  };
}

type Handler = (args: Record<string, unknown>) => unknown;
let calls: { cmd: string; args: Record<string, unknown> }[];
let handlers: Record<string, Handler>;

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function flush() {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
}

function $(sel: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(sel);
  if (!el) throw new Error(`no element ${sel} in:\n${document.body.innerHTML}`);
  return el;
}

function type(sel: string, value: string) {
  const input = $(sel) as HTMLInputElement;
  input.value = value;
  input.dispatchEvent(new Event("input"));
}

async function start(state: AppState) {
  handlers.get_state = () => state;
  document.body.innerHTML = '<main id="app"></main>';
  const app = mount($("#app"), tauriApi);
  await flush();
  return app;
}

beforeEach(() => {
  calls = [];
  handlers = {
    list_accounts: () => ACCOUNTS,
    account_detail: (args) => detailFor(args.number as string),
    snippets: () => SNIPPETS,
    reveal_refresh_token: () => TOKEN,
    copy_refresh_token: () => 45,
    disconnect: () => null,
    cancel_connect: () => true,
    "plugin:event|listen": () => 1,
    remember_choice: () => null,
    open_app_settings: () => null,
  };
  mockIPC((cmd, args) => {
    calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
    const handler = handlers[cmd];
    if (!handler) throw new Error(`unexpected command ${cmd}`);
    return handler((args ?? {}) as Record<string, unknown>);
  });
});

afterEach(() => clearMocks());

describe("wizard", () => {
  it("opens on the broker choice with the Demo broker marked as the place to start", async () => {
    await start(FRESH);
    expect($("#wizard").textContent).toContain("Which broker");
    expect(document.querySelectorAll(".brokers button").length).toBe(4);
    expect($("#broker-demo").textContent).toContain("Start here");
    $("#broker-demo").click();
    expect($("#demo-client-id").textContent).toBe(DEMO.client_id);
    expect($("#demo-client-secret").textContent).toBe(DEMO.client_secret);
  });

  it("sends what was typed, waits for the browser, then shows the token card and accounts", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    type("#client-id", `  ${DEMO.client_id} `);
    type("#client-secret", DEMO.client_secret);
    const pending = deferred<ProfileView>();
    handlers.connect = () => pending.promise;
    $("#connect").click();
    await flush();
    expect($("#waiting").textContent).toContain("Waiting for your browser");
    expect(calls.find((c) => c.cmd === "connect")?.args).toEqual({
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
    const rows = [...document.querySelectorAll("#accounts tbody tr")].map((r) =>
      [...r.querySelectorAll("td")].map((td) => td.textContent),
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
    expect(($("#client-id") as HTMLInputElement).value).toBe(DEMO.client_id);
    expect(($("#client-secret") as HTMLInputElement).value).toBe(DEMO.client_secret);
  });

  it("shows a field error under its field and keeps what was typed", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    type("#client-id", "abc");
    type("#client-secret", "has spaces inside");
    handlers.connect = () => {
      throw { kind: "invalid_input", field: "client_secret", message: "The client secret contains spaces." };
    };
    $("#connect").click();
    await flush();
    expect($("#error-client_secret").textContent).toBe("The client secret contains spaces.");
    expect($("#client-secret").getAttribute("aria-invalid")).toBe("true");
    expect(($("#client-id") as HTMLInputElement).value).toBe("abc");
    expect(document.querySelector("#banner")).toBeNull();
  });

  it("shows a flow error such as a denial as a banner", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    handlers.connect = () => {
      throw { kind: "access_denied", message: "Access was denied in the browser." };
    };
    $("#connect").click();
    await flush();
    expect($("#banner").textContent).toBe("Access was denied in the browser.");
    expect($("#connect")).toBeTruthy();
  });

  it("Cancel asks the backend to stop the waiting flow", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    const pending = deferred<ProfileView>();
    handlers.connect = () => pending.promise;
    $("#connect").click();
    await flush();
    handlers.cancel_connect = () => {
      pending.reject({ kind: "cancelled", message: "Sign-in cancelled. Nothing was saved." });
      return true;
    };
    $("#cancel").click();
    await flush();
    expect(calls.map((c) => c.cmd)).toContain("cancel_connect");
    expect($("#banner").textContent).toContain("Sign-in cancelled");
  });
});

describe("real brokers", () => {
  it("Tastytrade: environment, registered redirect URI and scopes go to connect", async () => {
    await start(FRESH);
    $("#broker-tastytrade").click();
    expect(($("#redirect-uri") as HTMLInputElement).value).toBe("http://localhost:8000");
    expect($("#wizard").textContent).toContain("my.tastytrade.com");
    expect(($("#scope-read") as HTMLInputElement).disabled).toBe(true);
    $("#environment-sandbox").click();
    expect($("#environment-sandbox").getAttribute("aria-pressed")).toBe("true");
    ($("#scope-trade") as HTMLInputElement).click();
    type("#client-id", "cid-1");
    type("#client-secret", "secret-12345");
    type("#redirect-uri", "http://localhost:8765");
    const pending = deferred<ProfileView>();
    handlers.connect = () => pending.promise;
    $("#connect").click();
    await flush();
    expect($("#redirect-sent").textContent).toContain("http://localhost:8765");
    expect(calls.find((c) => c.cmd === "connect")?.args).toEqual({
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
    expect(($("#redirect-uri") as HTMLInputElement).value).toBe("http://localhost:3001");
    expect(($("#scope-offline_access") as HTMLInputElement).disabled).toBe(true);
  });

  it("the Demo broker can speak TradeStation", async () => {
    await start(FRESH);
    $("#broker-demo").click();
    $("#dialect-trade_station").click();
    $("#fill-demo").click();
    handlers.connect = () => PROFILE;
    $("#connect").click();
    await flush();
    const req = calls.find((c) => c.cmd === "connect")?.args.request as Record<string, unknown>;
    expect(req.broker).toBe("trade_station");
    expect(req.environment).toBe("demo");
    expect(req.scopes).toEqual(["openid", "offline_access", "ReadAccount"]);
  });

  it("a pasted personal grant is sent for verification, and a wrong environment is shown on its field", async () => {
    await start(FRESH);
    $("#broker-tastytrade").click();
    $("#mode-grant").click();
    expect(document.querySelector("#redirect-uri")).toBeNull();
    expect($("#connect").textContent).toBe("Verify and save");
    type("#client-id", "cid-1");
    type("#client-secret", "secret-12345");
    type("#refresh-token", "rt-0123456789abcdef");
    handlers.connect_with_grant = () => {
      throw { kind: "wrong_environment", field: "environment", message: "These credentials belong to Tastytrade Sandbox (cert)." };
    };
    $("#connect").click();
    await flush();
    expect(calls.find((c) => c.cmd === "connect_with_grant")?.args).toEqual({
      request: { broker: "tastytrade", environment: "production", client_id: "cid-1", client_secret: "secret-12345", refresh_token: "rt-0123456789abcdef" },
    });
    expect($("#error-environment").textContent).toContain("Sandbox (cert)");
    expect(($("#refresh-token") as HTMLInputElement).value).toBe("rt-0123456789abcdef");
  });
});

describe("deep links", () => {
  it("the deep-link redirect sends keygrant://callback and hides the loopback field", async () => {
    await start(FRESH);
    $("#broker-trade_station").click();
    $("#redirect-deeplink").click();
    expect(document.querySelector("#redirect-uri")).toBeNull();
    type("#client-id", "cid-1");
    type("#client-secret", "secret-12345");
    const pending = deferred<ProfileView>();
    handlers.connect = () => pending.promise;
    $("#connect").click();
    await flush();
    const req = calls.find((c) => c.cmd === "connect")?.args.request as Record<string, unknown>;
    expect(req.redirect_uri).toBe("keygrant://callback");
    expect($("#redirect-sent").textContent).toContain("keygrant:// link");
  });

  it("subscribes to the refused-link event", async () => {
    await start(FRESH);
    const listen = calls.find((c) => c.cmd === "plugin:event|listen");
    expect(listen?.args.event).toBe("deep-link-refused");
  });

  it("shows a refused link's message above any screen until dismissed", async () => {
    handlers.get_state = () => FRESH;
    let refused: ((m: string) => void) | undefined;
    document.body.innerHTML = '<main id="app"></main>';
    mount($("#app"), { ...tauriApi, onDeepLinkRefused: async (h) => void (refused = h) });
    await flush();
    refused!("A sign-in link arrived, but no sign-in is waiting for one, so it was ignored.");
    expect($("#notice").textContent).toContain("no sign-in is waiting");
    expect($("#wizard")).toBeTruthy();
    ($("#notice button") as HTMLButtonElement).click();
    expect(document.querySelector("#notice")).toBeNull();
  });
});

describe("connected", () => {
  it("a returning user goes straight to the accounts", async () => {
    await start(RETURNING(PROFILE));
    expect(document.querySelector("#wizard")).toBeNull();
    expect(document.querySelectorAll("#accounts tbody tr").length).toBe(2);
    expect($("#updated").textContent).toMatch(/^Updated /);
  });

  it("reveals the token only on request and hides it again", async () => {
    await start(RETURNING(PROFILE));
    expect(document.body.innerHTML).not.toContain(TOKEN);
    $("#reveal").click();
    await flush();
    expect($("#token").textContent).toBe(TOKEN);
    $("#reveal").click();
    await flush();
    expect($("#token").textContent).toBe(PROFILE.refresh_token_masked);
    expect(document.body.innerHTML).not.toContain(TOKEN);
  });

  it("copies through the backend without the token entering the page", async () => {
    await start(RETURNING(PROFILE));
    $("#copy").click();
    await flush();
    expect(calls.map((c) => c.cmd)).toContain("copy_refresh_token");
    expect($("#note").textContent).toContain("cleared in 45 seconds");
    expect(document.body.innerHTML).not.toContain(TOKEN);
  });

  it("an account error says what to do and Try again reloads", async () => {
    let fail = true;
    handlers.list_accounts = () => {
      if (fail) throw { kind: "unauthorized", message: "Check that your OAuth application has the read scope." };
      return ACCOUNTS;
    };
    await start(RETURNING(PROFILE));
    expect($("#accounts-error").textContent).toContain("read scope");
    fail = false;
    ($("#accounts-error button") as HTMLButtonElement).click();
    await flush();
    expect(document.querySelectorAll("#accounts tbody tr").length).toBe(2);
  });

  it("shows the empty state when the login has no accounts", async () => {
    handlers.list_accounts = () => [];
    await start(RETURNING(PROFILE));
    expect($("#accounts-empty").textContent).toContain("no open accounts");
  });

    it("disconnect asks for confirmation, then returns to the wizard", async () => {
    await start(RETURNING(PROFILE));
    handlers.disconnect = () => {
      handlers.get_state = () => FRESH;
      return null;
    };
    $("#disconnect").click();
    await flush();
    expect(calls.map((c) => c.cmd)).not.toContain("disconnect");
    expect($("#disconnect").textContent).toBe("Remove");
    $("#disconnect").click();
    await flush();
    expect(calls.map((c) => c.cmd)).toContain("disconnect");
    expect($("#wizard").textContent).toContain("Which broker");
  });
});

describe("custom OAuth 2 provider", () => {
  const CUSTOM_PROFILE: ProfileView = {
    ...PROFILE,
    id: "c1",
    broker: "custom",
    environment: "production",
    environment_label: "Custom provider",
    label: "Custom · id.example.com",
    has_dashboard: false,
    token_fields: [],
  };

  it("sends the provider's description, typed scopes and extra parameters", async () => {
    handlers.connect = () => ({
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
    ($("#pkce") as HTMLInputElement).click();
    const extra = $("#extra-params") as HTMLTextAreaElement;
    extra.value = "audience = https://api.example.com\n\naccess_type=offline";
    extra.dispatchEvent(new Event("input"));
    $("#connect").click();
    await flush();
    const req = calls.find((c) => c.cmd === "connect")!.args.request as Record<string, unknown>;
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
    expect(calls.some((c) => c.cmd === "list_accounts")).toBe(false);
  });

  it("shows a refused URL on its field and keeps what was typed", async () => {
    handlers.connect = () => {
      throw { kind: "invalid_input", message: "The token URL must start with https://", field: "token_url" };
    };
    await start(FRESH);
    $("#broker-custom").click();
    type("#token-url", "http://id.example.com/token");
    $("#connect").click();
    await flush();
    expect($("#error-token_url").textContent).toContain("https://");
    expect(($("#token-url") as HTMLInputElement).value).toBe("http://id.example.com/token");
  });

  it("Refresh now asks the backend and shows the new response", async () => {
    handlers.refresh_now = () => ({ ...CUSTOM_PROFILE, token_fields: [{ name: "token_type", value: "Bearer", masked: false }] });
    await start(RETURNING(CUSTOM_PROFILE));
    expect($("#token-fields-empty").textContent).toContain("Refresh now");
    $("#refresh-now").click();
    await flush();
    expect($("#token-fields").textContent).toContain("Bearer");
    expect($("#note").textContent).toContain("accepted");
  });
});

describe("dashboard", () => {
  it("formats decimal strings as money and quantities without floats", () => {
    expect(formatMoney("1234567.5", "USD")).toBe("$1,234,567.50");
    expect(formatMoney("-12.05", "USD")).toBe("-$12.05".replace("-$", "-$"));
    expect(formatMoney("0.1", "EUR")).toBe("0.10 EUR");
    expect(formatMoney("12345678901234567890.123", "USD")).toBe("$12,345,678,901,234,567,890.123");
    expect(formatQuantity("100.000")).toBe("100");
    expect(formatQuantity("0.50")).toBe("0.5");
  });

  it("asks for every account's details at once and shows balances, positions and the empty state", async () => {
    const pending: Record<string, ReturnType<typeof deferred<AccountDetail>>> = {};
    handlers.account_detail = (args) => {
      pending[args.number as string] = deferred<AccountDetail>();
      return pending[args.number as string].promise;
    };
    await start(RETURNING(PROFILE));
    // Both requests are out before either answers; each account shows its placeholder.
    expect(Object.keys(pending).sort()).toEqual(["5WX01234", "5WX05678"]);
    expect($("#detail-5WX01234").textContent).toContain("Loading balances and positions");
    pending["5WX05678"].resolve(detailFor("5WX05678"));
    await flush();
    expect($("#detail-5WX05678").textContent).toContain("No open positions");
    expect($("#detail-5WX01234").textContent).toContain("Loading");
    pending["5WX01234"].resolve(detailFor("5WX01234"));
    await flush();
    const d = $("#detail-5WX01234");
    expect(d.querySelector('dd[data-key="net_liquidating_value"]')!.textContent).toBe("$1,234,567.50");
    expect(d.querySelector("dt")!.textContent).toBe("Net liquidating value");
    const cells = [...d.querySelectorAll(".positions tbody td")].map((c) => c.textContent);
    expect(cells).toEqual(["SPY   261218P00550000", "Equity Option", "2", "Short", "$7.85", "$6.05", "—"]);
  });

  it("an account that fails shows its own error and retry while the others show their numbers", async () => {
    let failures = 1;
    handlers.account_detail = (args) =>
      args.number === "5WX05678" && failures-- > 0
        ? { number: "5WX05678", error: { kind: "broker", message: "Tastytrade answered 500 for the balances. Try again in a minute." } }
        : detailFor(args.number as string);
    await start(RETURNING(PROFILE));
    expect($("#detail-5WX05678 .error-box").textContent).toContain("Try again in a minute");
    expect($("#detail-5WX01234").textContent).toContain("$1,234,567.50");
    ($("#detail-5WX05678 .retry") as HTMLButtonElement).click();
    await flush();
    expect(document.querySelector("#detail-5WX05678 .error-box")).toBeNull();
    expect($("#detail-5WX05678").textContent).toContain("Net liquidating value");
  });

  it("switches, renames and adds connections", async () => {
    const TS_PROFILE: ProfileView = { ...PROFILE, id: "p2", broker: "trade_station", label: "TradeStation · Demo broker" };
    const state = RETURNING(PROFILE);
    state.profiles.push({ id: "p2", label: TS_PROFILE.label, broker: "trade_station", environment_label: "Demo broker", active: false });
    handlers.select_profile = () => TS_PROFILE;
    handlers.rename_profile = () => null;
    await start(state);
    const select = $("#profile-switcher") as HTMLSelectElement;
    expect([...select.options].map((o) => o.textContent)).toEqual(["Tastytrade · Demo broker (Demo broker)", "TradeStation · Demo broker (Demo broker)"]);
    select.value = "p2";
    select.dispatchEvent(new Event("change"));
    await flush();
    expect(calls.find((c) => c.cmd === "select_profile")!.args).toEqual({ id: "p2" });
    expect($("#token-card").textContent).toContain("TradeStation");

    $("#rename").click();
    type("#rename-input", "  Swing account ");
    $("#rename-save").click();
    await flush();
    expect(calls.find((c) => c.cmd === "rename_profile")!.args).toEqual({ id: "p2", label: "  Swing account " });
    expect($("#token-card").textContent).toContain("Swing account");

    $("#add-connection").click();
    expect($("#wizard").textContent).toContain("Which broker");
    expect($("#to-dashboard")).toBeTruthy();
  });

  it("hand-off snippets show placeholders and copy with secrets through the backend", async () => {
    handlers.copy_snippet = () => 45;
    await start(RETURNING(PROFILE));
    expect($("#snippet-env").textContent).toContain("TASTY_CLIENT_SECRET=<paste: Copy with secrets>");
    $("#copy-snippet-curl").click();
    await flush();
    expect(calls.find((c) => c.cmd === "copy_snippet")!.args).toEqual({ kind: "curl" });
    expect($("#note").textContent).toContain("cleared in 45 seconds");
    expect(document.body.innerHTML).not.toContain(TOKEN);
  });
});

describe("token health", () => {
  it("shows when the access token was obtained and follows background refreshes", async () => {
    const at = (h: number, m: number) => new Date(2026, 10, 25, h, m, 0).getTime() / 1000;
    const first = { ...PROFILE, access_token_obtained_at: at(9, 0), access_token_expires_at: at(9, 15) };
    const app = await start(RETURNING(first));
    const before = $("#token-health").textContent;
    expect(before).toContain(new Date(at(9, 15) * 1000).toLocaleTimeString());
    handlers.get_state = () => RETURNING({ ...PROFILE, access_token_obtained_at: at(9, 14), access_token_expires_at: at(9, 29) });
    await app.refreshHealth();
    expect($("#token-health").textContent).toContain(new Date(at(9, 29) * 1000).toLocaleTimeString());
    expect($("#detail-5WX01234").textContent).toContain("Net liquidating value");
  });
});

describe("keyring trouble", () => {
  it("says when a rotated refresh token is waiting for the keyring", async () => {
    await start(RETURNING({ ...PROFILE, refresh_token_unsaved: true }));
    expect($("#unsaved").textContent).toContain("unlock the keyring");
  });
});

describe("first run", () => {
  it("explains the four words, links to the broker's page through the backend, and remembers the broker", async () => {
    await start(FRESH);
    expect(document.querySelector("#last-used")).toBeNull();
    $("#broker-trade_station").click();
    await flush();
    expect(calls.find((c) => c.cmd === "remember_choice")!.args).toEqual({ choice: "trade_station" });
    const terms = [...document.querySelectorAll("#glossary dt")].map((d) => d.textContent);
    expect(terms).toEqual(["Client ID", "Client secret", "Redirect URI", "Refresh token"]);
    for (const dd of document.querySelectorAll("#glossary dd")) {
      expect(dd.textContent!.split(/[.!?](\s|$)/).filter((x) => x && x.trim()).length).toBe(2);
    }
    $("#environment-sandbox").click();
    $("#open-settings").click();
    await flush();
    expect(calls.find((c) => c.cmd === "open_app_settings")!.args).toEqual({ broker: "trade_station", environment: "sandbox" });
    $("#back").click();
    expect($("#last-used").parentElement!.id).toBe("broker-trade_station");
  });

  it("marks the broker chosen last time", async () => {
    await start({ ...FRESH, last_choice: "demo" });
    expect($("#broker-demo").textContent).toContain("Last used");
  });

  it("has an About box with the version, license and where secrets are kept", async () => {
    await start(FRESH);
    $("#about-toggle").click();
    expect($("#about").textContent).toContain("Keygrant 0.1.0");
    expect($("#about").textContent).toContain("MIT");
    expect($("#about").textContent).toContain("keyring");
  });
});
