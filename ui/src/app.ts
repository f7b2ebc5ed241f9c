// The UI: setup wizard -> waiting for the browser -> token card and accounts.
// Plain DOM, no framework; every screen is a function of `state`, re-rendered on each change.
import { asAppError, type Api } from "./api";
import type { Account } from "./bindings/Account";
import type { AppError } from "./bindings/AppError";
import type { BrokerKind } from "./bindings/BrokerKind";
import type { DemoInfo } from "./bindings/DemoInfo";
import type { ProfileView } from "./bindings/ProfileView";

type AccountsState =
  | { status: "loading" }
  | { status: "ready"; accounts: Account[]; updatedAt: Date }
  | { status: "error"; error: AppError };

export type Screen =
  | { name: "starting" }
  | { name: "broker" }
  | { name: "credentials"; broker: BrokerKind; error?: AppError }
  | { name: "waiting"; broker: BrokerKind }
  | {
      name: "connected";
      profile: ProfileView;
      accounts: AccountsState;
      revealed?: string;
      note?: string;
      confirmDisconnect: boolean;
    }
  | { name: "failed"; error: AppError };

interface BrokerChoice {
  kind: BrokerKind;
  title: string;
  blurb: string;
  available: boolean;
  /** Where a new user should start. */
  featured?: boolean;
}

export const BROKERS: BrokerChoice[] = [
  { kind: "tastytrade", title: "Tastytrade", blurb: "Production and sandbox (cert).", available: false },
  { kind: "trade_station", title: "TradeStation", blurb: "Live and simulated trading.", available: false },
  {
    kind: "demo",
    title: "Demo broker",
    blurb: "A built-in practice broker. Try the whole flow with no account and no network.",
    available: true,
    featured: true,
  },
];

const ENV_LABEL = { production: "Production", sandbox: "Sandbox" } as const;

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
  demo: DemoInfo | null = null;
  /** What the user typed, kept across re-renders. The secret never leaves this object
   *  except in the one connect call. */
  form = { clientId: "", clientSecret: "" };

  constructor(
    private root: HTMLElement,
    private api: Api,
  ) {}

  async start(): Promise<void> {
    this.render();
    try {
      const state = await this.api.getState();
      this.demo = state.demo;
      if (state.profile) this.showConnected(state.profile);
      else this.go({ name: "broker" });
    } catch (e) {
      this.go({ name: "failed", error: asAppError(e) });
    }
  }

  go(screen: Screen): void {
    this.screen = screen;
    this.render();
  }

  chooseBroker(kind: BrokerKind): void {
    const choice = BROKERS.find((b) => b.kind === kind);
    if (!choice?.available) return;
    this.go({ name: "credentials", broker: kind });
  }

  fillDemo(): void {
    if (!this.demo) return;
    this.form.clientId = this.demo.client_id;
    this.form.clientSecret = this.demo.client_secret;
    this.render();
  }

  async connect(): Promise<void> {
    if (this.screen.name !== "credentials") return;
    const broker = this.screen.broker;
    this.go({ name: "waiting", broker });
    try {
      const profile = await this.api.connect({
        broker,
        environment: "sandbox",
        client_id: this.form.clientId,
        client_secret: this.form.clientSecret,
      });
      this.form = { clientId: "", clientSecret: "" };
      this.showConnected(profile);
    } catch (e) {
      this.go({ name: "credentials", broker, error: asAppError(e) });
    }
  }

  async cancel(): Promise<void> {
    await this.api.cancelConnect();
  }

  showConnected(profile: ProfileView): void {
    this.go({ name: "connected", profile, accounts: { status: "loading" }, confirmDisconnect: false });
    void this.loadAccounts();
  }

  private patchConnected(patch: Partial<Extract<Screen, { name: "connected" }>>): void {
    if (this.screen.name !== "connected") return;
    this.go({ ...this.screen, ...patch });
  }

  async loadAccounts(): Promise<void> {
    this.patchConnected({ accounts: { status: "loading" } });
    try {
      const accounts = await this.api.listAccounts();
      this.patchConnected({ accounts: { status: "ready", accounts, updatedAt: new Date() } });
    } catch (e) {
      this.patchConnected({ accounts: { status: "error", error: asAppError(e) } });
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
      this.go({ name: "broker" });
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
        view = this.credentialsView(s.broker, s.error);
        break;
      case "waiting":
        view = this.waitingView();
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
    this.root.replaceChildren(view);
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
              class: `broker${b.available ? "" : " soon"}${b.featured ? " featured" : ""}`,
              id: `broker-${b.kind}`,
              disabled: !b.available,
              onclick: () => this.chooseBroker(b.kind),
            },
            h("strong", {}, b.title),
            h("span", {}, b.blurb),
            b.available ? null : h("em", { class: "badge" }, "Coming soon"),
            b.featured ? h("em", { class: "badge start" }, "Start here") : null,
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
    const name = id.replace("-", "_");
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

  private credentialsView(broker: BrokerKind, error?: AppError): HTMLElement {
    const general = error && !error.field ? error : undefined;
    const demo =
      broker === "demo" && this.demo
        ? h(
            "aside",
            { class: "hint", id: "demo-hint" },
            h("strong", {}, "The Demo broker accepts these credentials"),
            h("div", {}, "Client ID: ", h("code", { id: "demo-client-id" }, this.demo.client_id)),
            h("div", {}, "Client secret: ", h("code", { id: "demo-client-secret" }, this.demo.client_secret)),
            h("button", { class: "link", id: "fill-demo", onclick: () => this.fillDemo() }, "Fill them in for me"),
          )
        : null;
    return h(
      "section",
      { class: "card", id: "wizard" },
      this.steps(1),
      h("h1", {}, `Connect ${BROKERS.find((b) => b.kind === broker)?.title ?? broker}`),
      h(
        "p",
        { class: "muted" },
        "Paste the client ID and client secret of your OAuth application. Spaces around them are removed for you.",
      ),
      demo,
      general ? h("p", { class: "error banner", id: "banner", role: "alert" }, general.message) : null,
      this.field(
        "client-id",
        "Client ID",
        "The public identifier of your OAuth application.",
        this.form.clientId,
        (v) => (this.form.clientId = v),
        error,
      ),
      this.field(
        "client-secret",
        "Client secret",
        "Shown once when the application was created. It goes straight to your system keyring.",
        this.form.clientSecret,
        (v) => (this.form.clientSecret = v),
        error,
        "password",
      ),
      h(
        "div",
        { class: "actions" },
        h("button", { id: "back", onclick: () => this.go({ name: "broker" }) }, "Back"),
        h("button", { class: "primary", id: "connect", onclick: () => void this.connect() }, "Connect"),
      ),
    );
  }

  private waitingView(): HTMLElement {
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
        `${p.label} · ${ENV_LABEL[p.environment]} · client ID `,
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
      s.note ? h("p", { class: "note", id: "note", role: "status" }, s.note) : null,
    );
    return h(
      "div",
      { class: "stack", id: "connected" },
      token,
      this.accountsView(s.accounts),
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

export function mount(root: HTMLElement, api: Api): App {
  const app = new App(root, api);
  void app.start();
  return app;
}
