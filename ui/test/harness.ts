// Shared by the UI tests: fixtures, Tauri's IPC mocked (the real generated `commands` and
// `events` go through mockIPC), and the page mounted for real.
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { render } from "lit-html";
import { afterEach, beforeEach, vi } from "vitest";
import type { Account } from "../src/bindings/Account";
import type { AccountDetail } from "../src/bindings/AccountDetail";
import type { AppState } from "../src/bindings/AppState";
import type { DemoInfo } from "../src/bindings/DemoInfo";
import type { ProfileView } from "../src/bindings/ProfileView";
import type { Snippet } from "../src/bindings/Snippet";
import type { Actions, Controller } from "../src/controller";
import { mount } from "../src/mount";
import type { UiEvent } from "../src/state";

export const DEMO: DemoInfo = {
  client_id: "demo-id-1234",
  client_secret: "demo-secret-abcdef",
  schwab_app_key: "SchwabDemoAppKey0000000000000001",
  schwab_secret: "SchwabDemoSecret",
};
const scope = (name: string, dflt: boolean, required = false) => ({
  name,
  description: `${name} scope`,
  default: dflt,
  required,
});
export const BROKERS: AppState["brokers"] = [
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
    scopes: [
      scope("openid", true, true),
      scope("offline_access", true, true),
      scope("ReadAccount", true, true),
      scope("Trade", false),
    ],
  },
  {
    broker: "schwab",
    name: "Charles Schwab",
    environments: [{ environment: "production", label: "Production" }],
    default_redirect_uri: "https://127.0.0.1:8182",
    app_settings_url: "https://developer.schwab.com/dashboard/apps",
    scopes: [],
  },
];
export const ABOUT = {
  name: "Keygrant",
  version: "0.1.0",
  identifier: "app.keygrant.desktop",
  license: "MIT",
  description: "Broker OAuth",
};
export const FRESH: AppState = {
  demo: DEMO,
  brokers: BROKERS,
  deep_link_redirect: "keygrant://callback",
  profiles: [],
  about: ABOUT,
  notices: [],
};
export const RETURNING = (profile: ProfileView): AppState => ({
  ...FRESH,
  profile,
  profiles: [
    {
      id: profile.id,
      label: profile.label,
      broker: profile.broker,
      environment_label: profile.environment_label,
      active: true,
    },
  ],
});
export const TOKEN = "demo-rt-THE-FULL-REFRESH-TOKEN-VALUE.tag";
export const PROFILE: ProfileView = {
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
  sign_in_lifetime_days: null,
};
export const CUSTOM_PROFILE: ProfileView = {
  ...PROFILE,
  id: "c1",
  broker: "custom",
  environment: "production",
  environment_label: "Custom provider",
  label: "Custom · id.example.com",
  has_dashboard: false,
  token_fields: [],
};
export const ACCOUNTS: Account[] = [
  {
    number: "5WX01234",
    nickname: "Individual Margin",
    account_type: "Individual",
    margin_or_cash: "Margin",
    currency: "USD",
  },
  { number: "5WX05678", nickname: "Roth IRA", account_type: "Roth IRA", margin_or_cash: "Cash", currency: "USD" },
];
export const SNIPPETS: Snippet[] = [
  {
    kind: "exec",
    title: "keygrant exec (recommended)",
    hint: "Recommended.",
    text: "keygrant exec -- python bot.py\n",
    has_secrets: false,
  },
  {
    kind: "env",
    title: ".env",
    hint: "Save as .env",
    text: "TT_SECRET=<paste: Copy with secrets>\nTASTY_CLIENT_SECRET=<paste: Copy with secrets>\n",
    has_secrets: true,
  },
  {
    kind: "curl",
    title: "curl",
    hint: "Run it",
    text: "curl -sS -X POST 'https://api.tastyworks.com/oauth/token'\n",
    has_secrets: true,
  },
];

export function detailFor(number: string): AccountDetail {
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
              multiplier: "100",
              price_kind: null,
              market_value_source: null,
              unrealized_pl: null,
              unrealized_pl_percent: null,
              unrealized_pl_source: null,
              day_pl: null,
              missing: null,
            },
          ]
        : [],
  };
}

type Handler = (args: Record<string, unknown>) => unknown;
export interface Call {
  cmd: string;
  args: Record<string, unknown>;
}

/** The mocked backend: every call made, and the handler answering each command. */
export const ipc = {
  calls: [] as Call[],
  handlers: {} as Record<string, Handler>,
};

/** The commands called so far, by name. */
export function cmds(): string[] {
  return ipc.calls.map((c) => c.cmd);
}

/** The arguments of the first call of `cmd`. */
export function argsOf(cmd: string): Record<string, unknown> | undefined {
  return ipc.calls.find((c) => c.cmd === cmd)?.args;
}

export function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets pending backend answers and the renders they cause run. */
export async function flush() {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
}

export function $(sel: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(sel);
  if (!el) throw new Error(`no element ${sel} in:\n${document.body.innerHTML}`);
  return el;
}

export function input(sel: string): HTMLInputElement {
  return $(sel) as HTMLInputElement;
}

/** Types into a field the way the browser reports it: the value, then an input event. */
export function type(sel: string, value: string) {
  const el = input(sel);
  el.value = value;
  el.dispatchEvent(new Event("input"));
}

/** The live region's text. */
export function announced(): string {
  return $("#announcer").textContent ?? "";
}

/** Delivers a backend event to the page's listeners, as Tauri would. */
export function emitEvent(event: string, payload: unknown) {
  const internals = (window as unknown as { __TAURI_INTERNALS__: { runCallback(id: number, data: unknown): void } })
    .__TAURI_INTERNALS__;
  for (const c of ipc.calls) {
    if (c.cmd === "plugin:event|listen" && c.args.event === event) {
      internals.runCallback(c.args.handler as number, { event, id: 1, payload });
    }
  }
}

let mounted: Controller[] = [];

/** Mounts the page on a fresh `<main id="app">` with `get_state` answering `state`. */
export async function start(state: AppState): Promise<Controller> {
  ipc.handlers.get_state = () => state;
  document.body.innerHTML = '<main id="app"></main>';
  const app = mount($("#app"));
  mounted.push(app);
  await flush();
  return app;
}

/** Renders one view function into a fresh container, for tests of a view on its own. */
export function renderView(view: unknown): HTMLElement {
  document.body.innerHTML = '<div id="view"></div>';
  const container = $("#view");
  render(view, container);
  return container;
}

/** Actions that record what a view asked for, for tests of a view on its own. */
export function recordingActions(): Actions & { log: string[]; events: UiEvent[] } {
  const log: string[] = [];
  const events: UiEvent[] = [];
  const rec =
    (name: string) =>
    async (...args: unknown[]) => {
      log.push(args.length ? `${name}(${args.map((a) => JSON.stringify(a)).join(", ")})` : name);
    };
  return {
    log,
    events,
    dispatch: (e) => void events.push(e),
    start: rec("start"),
    chooseBroker: (c) => void rec("chooseBroker")(c),
    connect: rec("connect"),
    signInAgain: rec("signInAgain"),
    cancel: rec("cancel"),
    openSignInAgain: rec("openSignInAgain"),
    copySignInAddress: rec("copySignInAddress"),
    finishSignIn: rec("finishSignIn"),
    openAppSettings: rec("openAppSettings"),
    loadAccounts: rec("loadAccounts"),
    setAutoRefresh: (m) => void rec("setAutoRefresh")(m),
    retryDetail: rec("retryDetail"),
    toggleReveal: rec("toggleReveal"),
    copyRefreshToken: rec("copyRefreshToken"),
    copySnippet: rec("copySnippet"),
    refreshNow: rec("refreshNow"),
    diagnose: rec("diagnose"),
    retrySaveRefreshToken: rec("retrySaveRefreshToken"),
    selectProfile: rec("selectProfile"),
    saveRename: rec("saveRename"),
    disconnect: rec("disconnect"),
    dismissNotice: (n) => void rec("dismissNotice")(n.id),
  };
}

/** Installs the mocked backend before each test and tears the page down after it. */
export function useBackend() {
  beforeEach(() => {
    ipc.calls = [];
    ipc.handlers = {
      list_accounts: () => ACCOUNTS,
      account_detail: (args) => detailFor(args.number as string),
      snippets: () => SNIPPETS,
      reveal_refresh_token: () => TOKEN,
      copy_refresh_token: () => 45,
      disconnect: () => null,
      cancel_connect: () => true,
      "plugin:event|listen": () => 1,
      "plugin:event|unlisten": () => null,
      remember_choice: () => null,
      open_app_settings: () => null,
      dismiss_notice: () => null,
    };
    mockIPC((cmd, args) => {
      ipc.calls.push({ cmd, args: (args ?? {}) as Record<string, unknown> });
      const handler = ipc.handlers[cmd];
      if (!handler) throw new Error(`unexpected command ${cmd}`);
      return handler((args ?? {}) as Record<string, unknown>);
    });
  });

  afterEach(() => {
    for (const app of mounted) app.close();
    mounted = [];
    vi.useRealTimers();
    clearMocks();
  });
}
