// The UI: setup wizard -> waiting for the browser -> token card and accounts.
// Plain DOM, no framework; every screen is a function of `state`, re-rendered on each change.
import { asAppError, type Api } from "./api";
import type { Account } from "./bindings/Account";
import type { AccountDetail } from "./bindings/AccountDetail";
import type { Snippet } from "./bindings/Snippet";
import type { SnippetKind } from "./bindings/SnippetKind";
import type { AppError } from "./bindings/AppError";
import type { AppState } from "./bindings/AppState";
import type { BrokerKind } from "./bindings/BrokerKind";
import type { ClientAuth } from "./bindings/ClientAuth";
import type { CustomProvider } from "./bindings/CustomProvider";
import type { Environment } from "./bindings/Environment";
import type { ProfileView } from "./bindings/ProfileView";

/** One account's balances and positions: asked for every account at once. */
export type DetailState = { status: "loading" } | { status: "ready"; detail: AccountDetail } | { status: "error"; error: AppError };

type AccountsState =
  | { status: "loading" }
  | { status: "ready"; accounts: Account[]; details: Record<string, DetailState>; updatedAt: Date }
  | { status: "error"; error: AppError };

export type Screen =
  | { name: "starting" }
  | { name: "broker" }
  | { name: "credentials"; choice: Choice; error?: AppError }
  | { name: "waiting"; choice: Choice; redirectUri?: string }
  | {
      name: "connected";
      profile: ProfileView;
      accounts: AccountsState;
            revealed?: string;
      note?: string;
      confirmDisconnect: boolean;
      /** The new name being typed, while renaming. */
      renaming?: string;
      snippets?: Snippet[];
    }
  | { name: "failed"; error: AppError };

/** A card on the first step: a real broker, any OAuth 2 provider, or the Demo broker. */
export type Choice = "tastytrade" | "trade_station" | "custom" | "demo";

interface BrokerChoice {
  kind: Choice;
  title: string;
  blurb: string;
  /** Where a new user should start. */
  featured?: boolean;
}

export const BROKERS: BrokerChoice[] = [
  { kind: "tastytrade", title: "Tastytrade", blurb: "Production and sandbox (cert)." },
  { kind: "trade_station", title: "TradeStation", blurb: "Live and simulated (sim) trading." },
  {
    kind: "custom",
    title: "Any OAuth 2 provider",
    blurb: "Enter its authorize and token URLs. You get the refresh token; there is no dashboard.",
  },
  {
    kind: "demo",
    title: "Demo broker",
    blurb: "A built-in practice broker. Try the whole flow with no account and no network.",
    featured: true,
  },
];

export type Mode = "browser" | "grant";
export type RedirectKind = "loopback" | "deeplink";

/** A small element builder: h("div", {class: "x"}, child, "text"). */
function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | ((ev: Event) => void)> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

export class App {
  screen: Screen = { name: "starting" };
  state: AppState | null = null;
  /** What the user typed, kept across re-renders. Secrets never leave this object except
   *  in the one connect call. */
  form = {
    clientId: "",
    clientSecret: "",
    refreshToken: "",
    redirectUri: "",
    /** The broker whose dialect the Demo broker speaks; the real broker otherwise. */
    broker: "tastytrade" as BrokerKind,
    environment: "production" as Environment,
    scopes: [] as string[],
    mode: "browser" as Mode,
    redirectKind: "loopback" as RedirectKind,
    /** The custom provider's description. */
    custom: {
      authorizeUrl: "",
      tokenUrl: "",
      scopes: "",
      clientAuth: "request_body" as ClientAuth,
      pkce: true,
      /** One name=value per line. */
      extraParams: "",
    },
  };
  /** A message that is not about any one field, shown above the current screen. */
  notice: string | null = null;

  constructor(
    private root: HTMLElement,
    private api: Api,
  ) {}

    private healthTimer: ReturnType<typeof setInterval> | undefined;

  /** Re-reads the shown profile each minute so token health follows background refreshes. */
  async refreshHealth(): Promise<void> {
    if (this.screen.name !== "connected") return;
    try {
      const state = await this.api.getState();
      if (this.screen.name === "connected" && state.profile?.id === this.screen.profile.id) {
        this.state = state;
        this.patchConnected({ profile: state.profile });
      }
    } catch {
      // The next tick tries again; the dashboard reports its own errors.
    }
  }

  async start(): Promise<void> {
    this.healthTimer ??= setInterval(() => void this.refreshHealth(), 60_000);
    this.render();
    void this.api.onDeepLinkRefused((message) => this.showNotice(message)).catch(() => undefined);
    try {
      const state = await this.api.getState();
      this.state = state;
      if (state.notice) this.notice = state.notice;
      if (state.profile) this.showConnected(state.profile);
      else this.go({ name: "broker" });
    } catch (e) {
      this.go({ name: "failed", error: asAppError(e) });
    }
  }

  /** The custom provider as the backend takes it; the backend trims and checks it. */
  customProvider(): CustomProvider {
    const c = this.form.custom;
    return {
      authorize_url: c.authorizeUrl,
      token_url: c.tokenUrl,
      client_auth: c.clientAuth,
      pkce: c.pkce,
      extra_params: parseExtraParams(c.extraParams),
    };
  }

  deepLinkRedirect(): string {
    return this.state?.deep_link_redirect ?? "";
  }

  showNotice(message: string | null): void {
    this.notice = message;
    this.render();
  }

  go(screen: Screen): void {
    this.screen = screen;
    this.render();
  }

    chooseBroker(kind: Choice): void {
    void this.api.rememberChoice(kind).catch(() => undefined);
    if (this.state) this.state = { ...this.state, last_choice: kind };
    const dialect: BrokerKind = this.form.broker === "custom" ? "tastytrade" : this.form.broker;
    const broker: BrokerKind = kind === "demo" ? dialect : kind;
    this.form.environment = kind === "demo" ? "demo" : "production";
    this.setBroker(broker);
    if (kind === "demo") this.form.mode = "browser";
    this.go({ name: "credentials", choice: kind });
  }

  /** Switches the dialect or broker and resets what depends on it. */
  setBroker(broker: BrokerKind): void {
    this.form.broker = broker;
    const info = this.state?.brokers.find((b) => b.broker === broker);
    this.form.redirectUri = info?.default_redirect_uri ?? "";
    this.form.scopes = info?.scopes.filter((s) => s.default).map((s) => s.name) ?? [];
  }

  fillDemo(): void {
    if (!this.state) return;
    this.form.clientId = this.state.demo.client_id;
    this.form.clientSecret = this.state.demo.client_secret;
    this.render();
  }

  async connect(): Promise<void> {
    if (this.screen.name !== "credentials") return;
    const choice = this.screen.choice;
    const f = this.form;
    const isDemo = f.environment === "demo";
    const isCustom = f.broker === "custom";
    const deepLink = f.mode === "browser" && f.redirectKind === "deeplink";
    const redirectUri = deepLink ? this.deepLinkRedirect() : isDemo ? undefined : f.redirectUri;
    const custom = isCustom ? this.customProvider() : undefined;
    this.notice = null;
    this.go({ name: "waiting", choice, redirectUri: redirectUri?.trim() });
    try {
      const profile =
        f.mode === "grant"
          ? await this.api.connectWithGrant({
              broker: f.broker,
              environment: f.environment,
              client_id: f.clientId,
              client_secret: f.clientSecret,
              refresh_token: f.refreshToken,
              custom,
            })
          : await this.api.connect({
              broker: f.broker,
              environment: f.environment,
              client_id: f.clientId,
              client_secret: f.clientSecret,
              redirect_uri: redirectUri,
              scopes: isCustom ? [f.custom.scopes] : f.scopes,
              custom,
            });
      this.form.clientSecret = "";
      this.form.refreshToken = "";
      this.showConnected(profile);
    } catch (e) {
      this.go({ name: "credentials", choice, error: asAppError(e) });
    }
  }

  async cancel(): Promise<void> {
    await this.api.cancelConnect();
  }

    showConnected(profile: ProfileView): void {
    this.go({ name: "connected", profile, accounts: { status: "loading" }, confirmDisconnect: false });
    if (profile.has_dashboard) void this.loadAccounts();
    void this.loadSnippets();
    void this.reloadProfiles();
  }

  /** Re-reads the profile list for the switcher (after connecting, renaming, removing). */
  async reloadProfiles(): Promise<void> {
    try {
      const state = await this.api.getState();
      this.state = state;
      this.render();
    } catch {
      // The switcher keeps the list it has; the dashboard reports its own errors.
    }
  }

  async loadSnippets(): Promise<void> {
    try {
      this.patchConnected({ snippets: await this.api.snippets() });
    } catch {
      this.patchConnected({ snippets: [] });
    }
  }

  async copySnippet(kind: SnippetKind): Promise<void> {
    try {
      const secs = await this.api.copySnippet(kind);
      this.patchConnected({ note: `Copied with your secrets. The clipboard will be cleared in ${secs} seconds.` });
    } catch (e) {
      this.patchConnected({ note: asAppError(e).message });
    }
  }

  async selectProfile(id: string): Promise<void> {
    try {
      const profile = await this.api.selectProfile(id);
      this.showConnected(profile);
    } catch (e) {
      this.patchConnected({ note: asAppError(e).message });
    }
  }

  async saveRename(): Promise<void> {
    if (this.screen.name !== "connected" || this.screen.renaming === undefined) return;
    const id = this.screen.profile.id;
    const label = this.screen.renaming;
    try {
      await this.api.renameProfile(id, label);
      this.patchConnected({ renaming: undefined, profile: { ...this.screen.profile, label: label.trim() } });
      await this.reloadProfiles();
    } catch (e) {
      this.patchConnected({ note: asAppError(e).message });
    }
  }

  /** Back to the wizard to connect one more broker, keeping the current ones. */
  addConnection(): void {
    this.notice = null;
    this.go({ name: "broker" });
  }

  /** Gets a new access token now: proves the grant works and shows the new response. */
  async refreshNow(): Promise<void> {
    try {
      const profile = await this.api.refreshNow();
      this.patchConnected({ profile, note: "Refreshed: the provider accepted the refresh token." });
    } catch (e) {
      this.patchConnected({ note: asAppError(e).message });
    }
  }

  private patchConnected(patch: Partial<Extract<Screen, { name: "connected" }>>): void {
    if (this.screen.name !== "connected") return;
    this.go({ ...this.screen, ...patch });
  }

    /** The account list, then every account's balances and positions at once; each account
   *  shows its own placeholder and its own error. */
  async loadAccounts(): Promise<void> {
    if (this.screen.name !== "connected") return;
    const profileId = this.screen.profile.id;
    this.patchConnected({ accounts: { status: "loading" } });
    let accounts: Account[];
    try {
      accounts = await this.api.listAccounts();
    } catch (e) {
      this.patchConnected({ accounts: { status: "error", error: asAppError(e) } });
      return;
    }
    const details: Record<string, DetailState> = {};
    for (const a of accounts) details[a.number] = { status: "loading" };
    this.patchConnected({ accounts: { status: "ready", accounts, details, updatedAt: new Date() } });
    await Promise.all(accounts.map((a) => this.loadDetail(profileId, a.number)));
  }

  async loadDetail(profileId: string, number: string): Promise<void> {
    const set = (d: DetailState) => {
      const s = this.screen;
      if (s.name !== "connected" || s.profile.id !== profileId || s.accounts.status !== "ready") return;
      this.patchConnected({ accounts: { ...s.accounts, details: { ...s.accounts.details, [number]: d } } });
    };
    set({ status: "loading" });
    try {
      const detail = await this.api.accountDetail(number);
      set(detail.error ? { status: "error", error: detail.error } : { status: "ready", detail });
    } catch (e) {
      set({ status: "error", error: asAppError(e) });
    }
  }

  async toggleReveal(): Promise<void> {
    if (this.screen.name !== "connected") return;
    if (this.screen.revealed !== undefined) {
      this.patchConnected({ revealed: undefined });
      return;
    }
    try {
      this.patchConnected({ revealed: await this.api.revealRefreshToken(), note: undefined });
    } catch (e) {
      this.patchConnected({ note: asAppError(e).message });
    }
  }

  async copy(): Promise<void> {
    try {
      const secs = await this.api.copyRefreshToken();
      this.patchConnected({ note: `Copied. The clipboard will be cleared in ${secs} seconds.` });
    } catch (e) {
      this.patchConnected({ note: asAppError(e).message });
    }
  }

  async disconnect(): Promise<void> {
    if (this.screen.name !== "connected") return;
    if (!this.screen.confirmDisconnect) {
      this.patchConnected({ confirmDisconnect: true });
      return;
    }
        try {
      await this.api.disconnect();
      const state = await this.api.getState();
      this.state = state;
      if (state.profile) this.showConnected(state.profile);
      else this.go({ name: "broker" });
    } catch (e) {
      this.patchConnected({ note: asAppError(e).message, confirmDisconnect: false });
    }
  }

  render(): void {
    const s = this.screen;
    let view: HTMLElement;
    switch (s.name) {
      case "starting":
        view = h("section", { class: "card center" }, h("div", { class: "spinner" }), h("p", {}, "Starting…"));
        break;
      case "broker":
        view = this.brokerView();
        break;
      case "credentials":
        view = this.credentialsView(s.choice, s.error);
        break;
      case "waiting":
        view = this.waitingView(s.redirectUri);
        break;
      case "connected":
        view = this.connectedView(s);
        break;
      case "failed":
        view = h(
          "section",
          { class: "card" },
          h("h1", {}, "Keygrant could not start"),
          h("p", { class: "error", id: "banner" }, s.error.message),
          h("button", { class: "primary", onclick: () => void this.start() }, "Try again"),
        );
        break;
    }
    const notice = this.notice
      ? h(
          "div",
          { class: "notice", id: "notice", role: "alert" },
          h("span", {}, this.notice),
          h("button", { class: "link", onclick: () => this.showNotice(null) }, "Dismiss"),
        )
      : null;
        this.root.replaceChildren(...(notice ? [notice, view] : [view]), this.footer());
  }

  aboutOpen = false;

  /** The About box: name, version, license, identifier, and where secrets are kept. */
  private footer(): HTMLElement {
    const a = this.state?.about;
    return h(
      "footer",
      { class: "footer" },
      h(
        "button",
        { class: "link", id: "about-toggle", onclick: () => { this.aboutOpen = !this.aboutOpen; this.render(); } },
        this.aboutOpen ? "Close" : "About Keygrant",
      ),
      this.aboutOpen && a
        ? h(
            "section",
            { class: "card about", id: "about" },
            h("h2", {}, `${a.name} ${a.version}`),
            h("p", {}, a.description),
            h("p", { class: "muted small" }, `License ${a.license} · ${a.identifier}`),
            h(
              "p",
              { class: "muted small" },
              "Your client secrets and refresh tokens are kept in your system keyring (GNOME Keyring or KWallet, macOS Keychain, Windows Credential Manager), never in a file. Access tokens stay in memory.",
            ),
          )
        : null,
    );
  }

  async openAppSettings(): Promise<void> {
    if (this.screen.name !== "credentials") return;
    try {
      await this.api.openAppSettings(this.form.broker, this.form.environment);
    } catch (e) {
      this.showNotice(asAppError(e).message);
    }
  }

  private steps(active: number): HTMLElement {
    const names = ["Broker", "Credentials", "Authorize"];
    return h(
      "ol",
      { class: "steps" },
      ...names.map((n, i) =>
        h("li", { class: i === active ? "active" : i < active ? "done" : "" }, `${i + 1}. ${n}`),
      ),
    );
  }

  private brokerView(): HTMLElement {
    return h(
      "section",
      { class: "card", id: "wizard" },
      this.steps(0),
            this.state && this.state.profiles.length > 0
        ? h("button", { class: "link", id: "to-dashboard", onclick: () => void this.start() }, "← Back to your connections")
        : null,
      h("h1", {}, "Which broker is your OAuth application at?"),
      h(
        "p",
        { class: "muted" },
        "Keygrant turns the OAuth application you created at your broker into a working refresh token, kept in your system keyring.",
      ),
      h(
        "div",
        { class: "brokers" },
        ...BROKERS.map((b) =>
          h(
            "button",
            {
              class: `broker${b.featured ? " featured" : ""}`,
              id: `broker-${b.kind}`,
              onclick: () => this.chooseBroker(b.kind),
            },
            h("strong", {}, b.title),
            h("span", {}, b.blurb),
                        b.featured ? h("em", { class: "badge start" }, "Start here") : null,
            this.state?.last_choice === b.kind ? h("em", { class: "badge last", id: "last-used" }, "Last used") : null,
          ),
        ),
      ),
    );
  }

  private field(
    id: string,
    label: string,
    help: string,
    value: string,
    onInput: (v: string) => void,
    error: AppError | undefined,
    type = "text",
  ): HTMLElement {
    const name = id.replaceAll("-", "_");
    const err = error?.field === name ? error.message : null;
    const input = h("input", {
      id,
      type,
      value,
      autocomplete: "off",
      spellcheck: "false",
      "aria-invalid": err ? "true" : "false",
      "aria-describedby": `${id}-help`,
    });
    input.value = value;
    input.addEventListener("input", () => onInput(input.value));
    input.addEventListener("keydown", (ev) => {
      if ((ev as KeyboardEvent).key === "Enter") void this.connect();
    });
    return h(
      "label",
      { class: "field", for: id },
      h("span", { class: "label" }, label),
      input,
      h("small", { id: `${id}-help`, class: "muted" }, help),
      err ? h("span", { class: "error", id: `error-${name}`, role: "alert" }, err) : null,
    );
  }

  /** A row of toggle buttons; the chosen one is pressed. */
  private segmented<T extends string>(
    id: string,
    label: string,
    options: { value: T; label: string }[],
    current: T,
    pick: (v: T) => void,
    error?: AppError,
  ): HTMLElement {
    const err = error?.field === id ? error.message : null;
    return h(
      "div",
      { class: "field" },
      h("span", { class: "label" }, label),
      h(
        "div",
        { class: "segmented", role: "group", id },
        ...options.map((o) =>
          h(
            "button",
            {
              id: `${id}-${o.value}`,
              class: o.value === current ? "on" : "",
              "aria-pressed": o.value === current ? "true" : "false",
              onclick: () => {
                pick(o.value);
                this.render();
              },
            },
            o.label,
          ),
        ),
      ),
      err ? h("span", { class: "error", id: `error-${id}`, role: "alert" }, err) : null,
    );
  }

  private credentialsView(choice: Choice, error?: AppError): HTMLElement {
    const f = this.form;
    const isDemo = choice === "demo";
    const isCustom = choice === "custom";
    const info = this.state?.brokers.find((b) => b.broker === f.broker);
    const inlineFields = [
      "client_id",
      "client_secret",
      "redirect_uri",
      "refresh_token",
      "environment",
      "scopes",
      "authorize_url",
      "token_url",
      "extra_params",
    ];
    const general = error && !(error.field && inlineFields.includes(error.field)) ? error : undefined;
    const title = BROKERS.find((b) => b.kind === choice)?.title ?? choice;
    const demoHint =
      isDemo && this.state
        ? h(
            "aside",
            { class: "hint", id: "demo-hint" },
            h("strong", {}, "The Demo broker accepts these credentials"),
            h("div", {}, "Client ID: ", h("code", { id: "demo-client-id" }, this.state.demo.client_id)),
            h("div", {}, "Client secret: ", h("code", { id: "demo-client-secret" }, this.state.demo.client_secret)),
            h("button", { class: "link", id: "fill-demo", onclick: () => this.fillDemo() }, "Fill them in for me"),
          )
        : null;
        const where =
      !isDemo && info
        ? h(
            "p",
            { class: "muted small", id: "where" },
            "Create the OAuth application, and register its redirect URI, at ",
            h("code", {}, info.app_settings_url),
            ". ",
            h("button", { class: "link", id: "open-settings", onclick: () => void this.openAppSettings() }, "Open it in your browser"),
          )
        : null;
    const scopeBoxes =
      f.mode === "browser" && info
        ? h(
            "fieldset",
            { class: "scopes", id: "scopes" },
            h("legend", { class: "label" }, "Scopes"),
            ...info.scopes.map((sc) => {
              const box = h("input", {
                type: "checkbox",
                id: `scope-${sc.name}`,
                checked: sc.required || f.scopes.includes(sc.name),
                disabled: sc.required,
              });
              box.addEventListener("change", () => {
                f.scopes = (box as HTMLInputElement).checked
                  ? [...f.scopes, sc.name]
                  : f.scopes.filter((x) => x !== sc.name);
              });
              return h(
                "label",
                { class: "scope", for: `scope-${sc.name}` },
                box,
                h("code", {}, sc.name),
                h("span", { class: "muted small" }, sc.required ? `${sc.description} (required)` : sc.description),
              );
            }),
            error?.field === "scopes" ? h("span", { class: "error", id: "error-scopes", role: "alert" }, error.message) : null,
          )
        : null;
    return h(
      "section",
      { class: "card", id: "wizard" },
      this.steps(1),
      h("h1", {}, `Connect ${title}`),
      h(
        "p",
        { class: "muted" },
        "Paste the client ID and client secret of your OAuth application. Spaces around them are removed for you.",
      ),
            demoHint,
      glossary(),
      where,
      general ? h("p", { class: "error banner", id: "banner", role: "alert" }, general.message) : null,
      isCustom ? this.customFields(error) : null,
      isCustom
        ? null
        : isDemo
        ? this.segmented<BrokerKind>(
            "dialect",
            "The Demo broker speaks like",
            [
              { value: "tastytrade", label: "Tastytrade" },
              { value: "trade_station", label: "TradeStation" },
            ],
            f.broker,
            (b) => this.setBroker(b),
          )
        : this.segmented<Environment>(
            "environment",
            "Environment",
            (info?.environments ?? []).map((e) => ({ value: e.environment, label: e.label })),
            f.environment,
            (e) => (f.environment = e),
            error,
          ),
      isDemo
        ? null
        : this.segmented<Mode>(
            "mode",
            "How do you want to connect?",
            [
              { value: "browser", label: "Sign in with the browser" },
              { value: "grant", label: "Paste a refresh token (personal grant)" },
            ],
            f.mode,
            (m) => (f.mode = m),
          ),
      this.field("client-id", "Client ID", "The public identifier of your OAuth application.", f.clientId, (v) => (f.clientId = v), error),
      this.field(
        "client-secret",
        "Client secret",
        "Shown once when the application was created. It goes straight to your system keyring.",
        f.clientSecret,
        (v) => (f.clientSecret = v),
        error,
        "password",
      ),
      f.mode === "grant"
        ? this.field(
            "refresh-token",
            "Refresh token",
            "From your broker's \"Create Grant\" page. Keygrant checks it with one refresh before saving it.",
            f.refreshToken,
            (v) => (f.refreshToken = v),
            error,
            "password",
          )
        : null,
      f.mode === "browser"
        ? this.segmented<RedirectKind>(
            "redirect",
            "Redirect back to Keygrant by",
            [
              { value: "loopback", label: isDemo ? "Loopback (127.0.0.1)" : "Loopback (http://localhost…)" },
              { value: "deeplink", label: `Deep link (${this.deepLinkRedirect()})` },
            ],
            f.redirectKind,
            (k) => (f.redirectKind = k),
          )
        : null,
      f.mode === "browser" && !isDemo && f.redirectKind === "loopback"
        ? this.field(
            "redirect-uri",
            "Redirect URI",
            isCustom
              ? "As registered with the provider. Leave it empty if the provider accepts any port on http://127.0.0.1 (RFC 8252); Keygrant then picks one."
              : "Exactly as registered with your OAuth application. Keygrant listens on its port on this computer only.",
            f.redirectUri,
            (v) => (f.redirectUri = v),
            error,
          )
        : null,
      scopeBoxes,
      h(
        "div",
        { class: "actions" },
        h("button", { id: "back", onclick: () => this.go({ name: "broker" }) }, "Back"),
        h(
          "button",
          { class: "primary", id: "connect", onclick: () => void this.connect() },
          f.mode === "grant" ? "Verify and save" : "Connect",
        ),
      ),
    );
  }

  /** The custom provider's description: endpoints, scopes, client authentication, PKCE and
   *  extra authorize parameters. */
  private customFields(error?: AppError): HTMLElement {
    const c = this.form.custom;
    const extraErr = error?.field === "extra_params" ? error.message : null;
    const extra = h("textarea", {
      id: "extra-params",
      rows: "2",
      spellcheck: "false",
      placeholder: "audience=https://api.example.com",
      "aria-invalid": extraErr ? "true" : "false",
    });
    extra.value = c.extraParams;
    extra.addEventListener("input", () => (c.extraParams = extra.value));
    const pkce = h("input", { type: "checkbox", id: "pkce", checked: c.pkce });
    pkce.addEventListener("change", () => (c.pkce = (pkce as HTMLInputElement).checked));
    return h(
      "div",
      { class: "custom", id: "custom-provider" },
      this.field(
        "authorize-url",
        "Authorize URL",
        "The provider's authorization endpoint (see its documentation or .well-known/openid-configuration).",
        c.authorizeUrl,
        (v) => (c.authorizeUrl = v),
        error,
      ),
      this.field("token-url", "Token URL", "The provider's token endpoint. https:// only, except on this computer.", c.tokenUrl, (v) => (c.tokenUrl = v), error),
      this.field(
        "scopes-text",
        "Scopes",
        "Separated by spaces. Many providers issue a refresh token only with a scope such as offline_access.",
        c.scopes,
        (v) => (c.scopes = v),
        error?.field === "scopes" ? { ...error, field: "scopes_text" } : undefined,
      ),
      this.segmented<ClientAuth>(
        "client-auth",
        "Send the client secret",
        [
          { value: "request_body", label: "In the request body" },
          { value: "basic", label: "As HTTP Basic authentication" },
        ],
        c.clientAuth,
        (v) => (c.clientAuth = v),
      ),
      h("label", { class: "scope", for: "pkce" }, pkce, h("span", {}, "Use PKCE (S256)"), h("span", { class: "muted small" }, "Turn off only if the provider refuses it.")),
      h(
        "label",
        { class: "field", for: "extra-params" },
        h("span", { class: "label" }, "Extra authorize parameters"),
        extra,
        h("small", { class: "muted" }, "Optional, one name=value per line, e.g. audience=… or access_type=offline."),
        extraErr ? h("span", { class: "error", id: "error-extra_params", role: "alert" }, extraErr) : null,
      ),
    );
  }

  private waitingView(redirectUri?: string): HTMLElement {
    if (this.form.mode === "grant") {
      return h(
        "section",
        { class: "card center", id: "waiting" },
        h("div", { class: "spinner" }),
        h("h1", {}, "Checking your refresh token…"),
        h("p", { class: "muted" }, "Keygrant asks the broker for one access token with it before saving anything."),
      );
    }
    return h(
      "section",
      { class: "card center", id: "waiting" },
      this.steps(2),
      h("div", { class: "spinner" }),
      h("h1", {}, "Waiting for your browser…"),
      h(
        "p",
        { class: "muted" },
        "Your web browser opened the broker's sign-in page. Approve Keygrant there; this window continues by itself.",
      ),
      redirectUri
        ? h(
            "p",
            { class: "muted small", id: "redirect-sent" },
            redirectUri === this.deepLinkRedirect()
              ? "The broker sends you back to a keygrant:// link, which your system hands to Keygrant. "
              : "",
            "If the broker's page reports a redirect URI mismatch, register exactly ",
            h("code", {}, redirectUri),
            " with your OAuth application, or enter the one you registered.",
          )
        : null,
      h("button", { id: "cancel", onclick: () => void this.cancel() }, "Cancel"),
    );
  }

  private connectedView(s: Extract<Screen, { name: "connected" }>): HTMLElement {
    const p = s.profile;
    const token = h(
      "section",
      { class: "card", id: "token-card" },
      h("h2", {}, "Your refresh token"),
      h(
        "p",
        { class: "muted" },
        `${p.label} · client ID `,
        h("code", {}, p.client_id),
      ),
      h(
        "div",
        { class: "token-row" },
        h(
          "code",
          { id: "token", class: s.revealed !== undefined ? "token revealed" : "token" },
          s.revealed ?? p.refresh_token_masked,
        ),
        h("button", { id: "reveal", onclick: () => void this.toggleReveal() }, s.revealed !== undefined ? "Hide" : "Reveal"),
        h("button", { id: "copy", onclick: () => void this.copy() }, "Copy"),
      ),
      h("p", { class: "muted small" }, "Kept in your system keyring with the client secret. Never written to a file."),
            tokenHealth(p),
      p.refresh_token_unsaved
        ? h(
            "p",
            { class: "error banner", id: "unsaved", role: "alert" },
            "Your broker issued a new refresh token and the system keyring did not accept it (is it locked?). Keygrant keeps it in memory and saves it as soon as the keyring works: unlock the keyring, and keep Keygrant open until this message goes away.",
          )
        : null,
      s.note ? h("p", { class: "note", id: "note", role: "status" }, s.note) : null,
    );
        return h(
      "div",
      { class: "stack", id: "connected" },
      this.switcherView(s),
      token,
      p.has_dashboard ? this.accountsView(s.accounts) : this.tokenFieldsView(p),
      this.handoffView(s.snippets),
      h(
        "section",
        { class: "card row-between" },
        h("span", { class: "muted" }, s.confirmDisconnect ? "Remove this connection and its keyring entries?" : "Done with this connection?"),
        h(
          "div",
          { class: "actions" },
          s.confirmDisconnect
            ? h("button", { id: "keep", onclick: () => this.patchConnected({ confirmDisconnect: false }) }, "Keep")
            : null,
          h(
            "button",
            { class: "danger", id: "disconnect", onclick: () => void this.disconnect() },
            s.confirmDisconnect ? "Remove" : "Disconnect",
          ),
        ),
      ),
    );
  }

    /** The profile switcher: every connection, rename, add another. */
  private switcherView(s: Extract<Screen, { name: "connected" }>): HTMLElement {
    const profiles = this.state?.profiles ?? [];
    const select = h(
      "select",
      { id: "profile-switcher", "aria-label": "Connection" },
      ...profiles.map((p) =>
        h("option", { value: p.id, selected: p.id === s.profile.id }, `${p.label} (${p.environment_label})`),
      ),
    );
    select.addEventListener("change", () => void this.selectProfile((select as HTMLSelectElement).value));
    let rename: HTMLElement;
    if (s.renaming !== undefined) {
      const input = h("input", { id: "rename-input", value: s.renaming, "aria-label": "New name" });
      input.value = s.renaming;
      input.addEventListener("input", () => {
        if (this.screen.name === "connected") this.screen.renaming = input.value;
      });
      input.addEventListener("keydown", (ev) => {
        if ((ev as KeyboardEvent).key === "Enter") void this.saveRename();
      });
      rename = h(
        "span",
        { class: "actions" },
        input,
        h("button", { id: "rename-save", class: "primary", onclick: () => void this.saveRename() }, "Save"),
        h("button", { id: "rename-cancel", onclick: () => this.patchConnected({ renaming: undefined }) }, "Cancel"),
      );
    } else {
      rename = h("button", { id: "rename", onclick: () => this.patchConnected({ renaming: s.profile.label }) }, "Rename");
    }
    return h(
      "section",
      { class: "card row-between switcher" },
      profiles.length > 1 ? select : h("strong", { id: "profile-label" }, s.profile.label),
      h("div", { class: "actions" }, rename, h("button", { id: "add-connection", onclick: () => this.addConnection() }, "Add connection")),
    );
  }

  /** Copy-ready snippets for the user's own code; secrets go in only on the way to the clipboard. */
  private handoffView(snippets: Snippet[] | undefined): HTMLElement | null {
    if (!snippets || snippets.length === 0) return null;
    return h(
      "section",
      { class: "card", id: "handoff" },
      h("h2", {}, "Use it in your own code"),
      h(
        "p",
        { class: "muted small" },
        "Shown with placeholders. Copy with secrets puts the real client secret and refresh token on your clipboard only, and clears it after a short time.",
      ),
      ...snippets.map((sn) =>
        h(
          "div",
          { class: "snippet", id: `snippet-${sn.kind}` },
          h(
            "div",
            { class: "row-between" },
            h("strong", {}, sn.title),
            h("button", { id: `copy-snippet-${sn.kind}`, onclick: () => void this.copySnippet(sn.kind) }, "Copy with secrets"),
          ),
          h("pre", { class: "mono" }, sn.text),
          h("small", { class: "muted" }, sn.hint),
        ),
      ),
    );
  }

  /** A custom provider's last token response, tokens masked, with "Refresh now". */
  private tokenFieldsView(p: ProfileView): HTMLElement {
    const body =
      p.token_fields.length === 0
        ? h("p", { class: "muted", id: "token-fields-empty" }, "Press Refresh now to ask the provider for a new access token and see its answer.")
        : h(
            "table",
            { id: "token-fields" },
            h("thead", {}, h("tr", {}, h("th", {}, "Field"), h("th", {}, "Value"))),
            h(
              "tbody",
              {},
              ...p.token_fields.map((f) =>
                h("tr", {}, h("td", { class: "mono" }, f.name), h("td", { class: f.masked ? "mono muted" : "mono" }, f.value)),
              ),
            ),
          );
    return h(
      "section",
      { class: "card", id: "token-response" },
      h(
        "div",
        { class: "row-between" },
        h("h2", {}, "Token response"),
        h("button", { id: "refresh-now", onclick: () => void this.refreshNow() }, "Refresh now"),
      ),
      h("p", { class: "muted small" }, "What the provider returned, tokens masked. Keygrant has no dashboard for a custom provider: use the refresh token in your own code."),
      body,
    );
  }

    /** One account's balances and positions, its placeholder, or its own error. */
  private detailView(acc: Account, d: DetailState): HTMLElement {
    const head = h("h3", {}, h("span", { class: "mono" }, acc.number), acc.nickname ? ` · ${acc.nickname}` : "");
    const id = `detail-${acc.number}`;
    if (d.status === "loading") {
      return h("div", { class: "detail loading", id }, head, h("p", { class: "muted placeholder" }, "Loading balances and positions…"));
    }
    if (d.status === "error") {
      return h(
        "div",
        { class: "detail", id },
        head,
        h(
          "div",
          { class: "error-box", role: "alert" },
          h("p", {}, d.error.message),
          h("button", { class: "retry", onclick: () => this.retryDetail(acc.number) }, "Try again"),
        ),
      );
    }
    const b = d.detail.balances;
    const currency = b?.currency ?? acc.currency;
    const balances = b
      ? h(
          "dl",
          { class: "balances" },
                    ...b.lines.map((l) =>
            h(
              "div",
              {},
              h("dt", { "data-key": l.key }, l.label),
              h("dd", { class: "mono", "data-key": l.key }, formatMoney(l.value, currency)),
            ),
          ),
        )
      : null;
    const positions = d.detail.positions ?? [];
    const table =
      positions.length === 0
        ? h("p", { class: "muted small positions-empty" }, "No open positions.")
        : h(
            "table",
            { class: "positions" },
            h(
              "thead",
              {},
              h("tr", {}, ...["Symbol", "Type", "Quantity", "Side", "Avg price", "Mark", "Market value"].map((t) => h("th", {}, t))),
            ),
            h(
              "tbody",
              {},
              ...positions.map((p) =>
                h(
                  "tr",
                  {},
                  h("td", { class: "mono" }, p.symbol),
                  h("td", {}, p.instrument_type),
                  h("td", { class: "mono num" }, formatQuantity(p.quantity)),
                  h("td", {}, p.direction === "short" ? "Short" : p.direction === "long" ? "Long" : "Flat"),
                  h("td", { class: "mono num" }, p.average_price === null ? "—" : formatMoney(p.average_price, currency)),
                  h("td", { class: "mono num" }, p.mark === null ? "—" : formatMoney(p.mark, currency)),
                  h("td", { class: "mono num" }, p.market_value === null ? "—" : formatMoney(p.market_value, currency)),
                ),
              ),
            ),
          );
    return h("div", { class: "detail", id }, head, balances, table);
  }

  private retryDetail(number: string): void {
    if (this.screen.name === "connected") void this.loadDetail(this.screen.profile.id, number);
  }

  private accountsView(a: AccountsState): HTMLElement {
    let body: HTMLElement;
    if (a.status === "loading") {
      body = h("p", { class: "muted", id: "accounts-loading" }, "Loading accounts…");
    } else if (a.status === "error") {
      body = h(
        "div",
        { class: "error-box", id: "accounts-error", role: "alert" },
        h("p", {}, a.error.message),
        h("button", { onclick: () => void this.loadAccounts() }, "Try again"),
      );
    } else if (a.accounts.length === 0) {
      body = h(
        "p",
        { class: "muted", id: "accounts-empty" },
        "This login has no open accounts. Open or fund an account at your broker, then press Refresh.",
      );
    } else {
      body = h(
        "table",
        { id: "accounts" },
        h("thead", {}, h("tr", {}, h("th", {}, "Account"), h("th", {}, "Nickname"), h("th", {}, "Type"), h("th", {}, "Cash / margin"))),
        h(
          "tbody",
          {},
          ...a.accounts.map((acc) =>
            h(
              "tr",
              {},
              h("td", { class: "mono" }, acc.number),
              h("td", {}, acc.nickname || "—"),
              h("td", {}, acc.account_type || "—"),
                            h("td", {}, acc.margin_or_cash || "—"),
            ),
          ),
        ),
      );
      body = h("div", {}, body, ...a.accounts.map((acc) => this.detailView(acc, a.details[acc.number] ?? { status: "loading" })));
    }
    return h(
      "section",
      { class: "card", id: "accounts-card" },
      h(
        "div",
        { class: "row-between" },
        h("h2", {}, "Accounts"),
        h(
          "div",
          { class: "actions" },
          a.status === "ready" ? h("span", { class: "muted small", id: "updated" }, `Updated ${a.updatedAt.toLocaleTimeString()}`) : null,
          h("button", { id: "refresh", disabled: a.status === "loading", onclick: () => void this.loadAccounts() }, "Refresh"),
        ),
      ),
      body,
    );
  }
}

/** The four words a first-time user meets, two sentences each. */
export const GLOSSARY: [string, string][] = [
  [
    "Client ID",
    "The public name of the OAuth application you created at your broker. It tells the broker which application is asking.",
  ],
  [
    "Client secret",
    "The application's password, shown once when you created it. Keygrant keeps it in your system keyring and sends it only to the broker.",
  ],
  [
    "Redirect URI",
    "The address the broker sends your browser back to after you approve. It must match one registered with your application exactly, such as http://localhost:8000.",
  ],
  [
    "Refresh token",
    "What you get at the end: a long-lived key your own code trades for short-lived access tokens. Keep it as secret as a password; Keygrant stores it in your keyring.",
  ],
];

function glossary(): HTMLElement {
  return h(
    "details",
    { class: "glossary", id: "glossary" },
    h("summary", {}, "What are these?"),
    h("dl", {}, ...GLOSSARY.flatMap(([term, text]) => [h("dt", {}, term), h("dd", {}, text)])),
  );
}

/** `name=value` lines into parameters; blank lines are skipped, a line without `=` is a
 *  name with an empty value (the backend refuses bad names on the field). */
export function parseExtraParams(text: string): { name: string; value: string }[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const i = line.indexOf("=");
      return i < 0 ? { name: line.trim(), value: "" } : { name: line.slice(0, i).trim(), value: line.slice(i + 1).trim() };
    });
}

/** When the access token was obtained and when it expires; nothing before the first refresh. */
function tokenHealth(p: ProfileView): HTMLElement | null {
  if (p.access_token_obtained_at === undefined || p.access_token_expires_at === undefined) return null;
  const t = (secs: number) => new Date(secs * 1000).toLocaleTimeString();
  return h(
    "p",
    { class: "muted small", id: "token-health" },
    `Access token obtained ${t(p.access_token_obtained_at)}, expires ${t(p.access_token_expires_at)}; Keygrant refreshes it by itself.`,
  );
}

/** A decimal string as money, grouped in thousands, never through a float:
 *  ("12345.5", "USD") -> "$12,345.50"; negative values keep their sign. */
export function formatMoney(value: string, currency: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(value.trim());
  if (!m) return `${value} ${currency}`;
  const [, sign, int, frac = ""] = m;
  const grouped = (int || "0").replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const cents = (frac + "00").slice(0, Math.max(2, frac.replace(/0+$/, "").length));
  const symbol = currency === "USD" ? "$" : "";
  const suffix = symbol ? "" : ` ${currency}`;
  return `${sign}${symbol}${grouped}.${cents}${suffix}`;
}

/** A decimal quantity without trailing zeros: "100.000" -> "100", "0.50" -> "0.5". */
export function formatQuantity(value: string): string {
  return value.includes(".") ? value.replace(/0+$/, "").replace(/\.$/, "") : value;
}

export function mount(root: HTMLElement, api: Api): App {
  const app = new App(root, api);
  void app.start();
  return app;
}
