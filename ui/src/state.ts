// The page's whole state and its transitions: `update(state, event)` returns the next state and
// never calls the backend or touches the DOM (the controller does both), so every transition is
// unit-tested on plain objects. What the live region announces is part of the state too.
import type { Account } from "./bindings/Account";
import type { AccountDetail } from "./bindings/AccountDetail";
import type { AppError } from "./bindings/AppError";
import type { AppState } from "./bindings/AppState";
import type { BrokerKind } from "./bindings/BrokerKind";
import type { ClientAuth } from "./bindings/ClientAuth";
import type { ConnectRequest } from "./bindings/ConnectRequest";
import type { CustomProvider } from "./bindings/CustomProvider";
import type { DemoInfo } from "./bindings/DemoInfo";
import type { Diagnosis } from "./bindings/Diagnosis";
import type { Environment } from "./bindings/Environment";
import type { GrantRequest } from "./bindings/GrantRequest";
import type { Notice } from "./bindings/Notice";
import type { ProfileView } from "./bindings/ProfileView";
import type { SignInWaiting } from "./bindings/SignInWaiting";
import type { Snippet } from "./bindings/Snippet";
import { received, type ShownError } from "./errors";
import { parseExtraParams } from "./format";

/** A card on the first step: a real broker, any OAuth 2 provider ("custom"), or the Demo broker. */
export type Choice = BrokerKind | "demo";
export type Mode = "browser" | "grant";
export type RedirectKind = "loopback" | "deeplink";

/** The custom provider's description, as typed. */
export interface CustomForm {
  authorizeUrl: string;
  tokenUrl: string;
  scopes: string;
  clientAuth: ClientAuth;
  pkce: boolean;
  /** One name=value per line. */
  extraParams: string;
}

/** What the user typed in the wizard. Secrets never leave it except in the one connect call,
 *  and are cleared once connected. */
export interface Form {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  redirectUri: string;
  /** The broker whose dialect the Demo broker speaks; the real broker otherwise. */
  broker: BrokerKind;
  environment: Environment;
  scopes: string[];
  mode: Mode;
  redirectKind: RedirectKind;
  custom: CustomForm;
}

/** Figures as they arrived, and when. */
export interface Figures {
  detail: AccountDetail;
  at: Date;
}

/** One account's balances and positions: asked for every account at once. A refresh keeps the
 *  figures on screen (`refreshing`) until the new ones arrive; an error keeps the last figures
 *  (`last`) so they can be shown as they were, with their time. */
export type DetailState =
  | { status: "loading" }
  | ({ status: "ready"; refreshing?: boolean } & Figures)
  | { status: "error"; error: ShownError; last?: Figures };

export type AccountsState =
  | { status: "loading" }
  | {
      status: "ready";
      accounts: Account[];
      details: Record<string, DetailState>;
      updatedAt: Date;
      /** The list is being read again; what is shown stays until the answer. */
      refreshing?: boolean;
      /** Why the last refresh of the list failed (the previous list stays shown). */
      refreshError?: ShownError;
    }
  | { status: "error"; error: ShownError };

/** A positions column the user can sort by. */
export type SortColumn =
  | "symbol"
  | "instrument_type"
  | "quantity"
  | "side"
  | "average_price"
  | "mark"
  | "market_value"
  | "unrealized_pl"
  | "unrealized_pl_percent"
  | "day_pl";

export interface PositionSort {
  column: SortColumn;
  direction: "ascending" | "descending";
}

/** How the dashboard is being looked at: which accounts are open, the positions' order and
 *  the symbol filter (shared by every account's table). */
export interface Dashboard {
  expanded: string[];
  sort?: PositionSort;
  filter: string;
}

/** The auto-refresh choices, in minutes; 0 is off. Never below one minute. */
export const AUTO_REFRESH_CHOICES: readonly number[] = [0, 1, 5, 15];

/** A remembered or chosen interval, kept only if it is one of the choices; off otherwise. */
export function validAutoRefresh(minutes: unknown): number {
  const n = typeof minutes === "string" && minutes.trim() !== "" ? Number(minutes) : minutes;
  return typeof n === "number" && AUTO_REFRESH_CHOICES.includes(n) ? n : 0;
}

/** The token card's Diagnose panel: running, its checks, or why it could not run. */
export type DiagnoseState =
  | { status: "loading" }
  | { status: "ready"; diagnosis: Diagnosis }
  | { status: "error"; error: AppError };

export interface ConnectedScreen {
  name: "connected";
  profile: ProfileView;
  accounts: AccountsState;
  /** The refresh token, while the user asked to see it. */
  revealed?: string;
  /** The answer to the last action on this screen (copied, refreshed, an error). */
  note?: string;
  /** The error the note reports, if it reports one (a refused grant offers Sign in again). */
  noteError?: AppError;
  confirmDisconnect: boolean;
  /** The new name being typed, while renaming. */
  renaming?: string;
  snippets?: Snippet[];
  /** The Diagnose panel, while open. */
  diagnose?: DiagnoseState;
  dashboard: Dashboard;
}

/** Step 3: waiting for the browser's answer (or for a pasted grant to be checked); also the
 *  wait of "Sign in again" on a connection (`renew`). */
export interface WaitingScreen {
  name: "waiting";
  choice: Choice;
  /** The connection whose grant "Sign in again" is renewing; the dashboard comes back to it. */
  renew?: ProfileView;
  redirectUri?: string;
  /** The authorize address and whether a browser opened with it, once the backend tried. */
  signIn?: SignInWaiting;
  /** The address the user is pasting from the browser, and why the last one was refused. */
  pasted: string;
  pasteError?: AppError;
  /** The answer to Copy or Open again. */
  note?: string;
}

export type Screen =
  | { name: "starting" }
  | { name: "broker" }
  | { name: "credentials"; choice: Choice; error?: AppError }
  | WaitingScreen
  | ConnectedScreen
  | { name: "failed"; error: AppError };

/** A notice shown above every screen: the backend's (dismissed through it) or the page's own. */
export type ShownNotice = Notice & { local?: boolean };

/** The live region's text; `seq` changes with every announcement so a repeated text is
 *  announced again. */
export interface Announcement {
  text: string;
  seq: number;
}

export interface UiState {
  /** The backend's state as last read: profiles, brokers, Demo credentials, About. */
  app: AppState | null;
  screen: Screen;
  form: Form;
  notices: ShownNotice[];
  /** Backend notices the user dismissed, so a state read in flight does not bring them back. */
  dismissed: number[];
  aboutOpen: boolean;
  announcement: Announcement;
  /** The clock the freshness labels count from (ms since the epoch), ticked by the controller. */
  now: number;
  /** Minutes between automatic refreshes of the dashboard; 0 is off. */
  autoRefreshMinutes: number;
}

export type UiEvent =
  | { type: "started"; app: AppState }
  | { type: "startFailed"; error: AppError }
  | { type: "brokerChosen"; choice: Choice }
  | { type: "brokersShown" }
  | { type: "dialectChosen"; broker: BrokerKind }
  | { type: "formEdited"; patch: Partial<Omit<Form, "custom" | "broker">> }
  | { type: "customEdited"; patch: Partial<CustomForm> }
  | { type: "scopeToggled"; name: string; on: boolean }
  | { type: "demoFilled" }
  | { type: "connectStarted"; redirectUri?: string }
  | { type: "connected"; profile: ProfileView }
  | { type: "connectFailed"; choice: Choice; error: AppError }
  | { type: "profileShown"; profile: ProfileView }
  | { type: "profilesRead"; app: AppState }
  | { type: "healthRead"; app: AppState }
  | { type: "accountsLoading"; profileId: string }
  | { type: "accountsLoaded"; profileId: string; accounts: Account[]; at: Date }
  /** `at`: when the error arrived (ms since the epoch), which a rate limit's wait counts from. */
  | { type: "accountsFailed"; profileId: string; error: AppError; at: number }
  | { type: "detailLoading"; profileId: string; number: string }
  | { type: "detailLoaded"; profileId: string; number: string; detail: AccountDetail; at: Date }
  | { type: "detailFailed"; profileId: string; number: string; error: AppError; at: number }
  | { type: "clockTicked"; now: number }
  | { type: "autoRefreshSet"; minutes: number }
  | { type: "accountToggled"; number: string }
  | { type: "allAccountsToggled"; open: boolean }
  | { type: "positionsSorted"; column: SortColumn }
  | { type: "positionsFiltered"; text: string }
  | { type: "snippetsLoaded"; profileId: string; snippets: Snippet[] }
  | { type: "tokenRevealed"; token: string }
  | { type: "tokenHidden" }
  | { type: "noted"; text: string; error?: AppError }
  | { type: "signInAgainStarted" }
  | { type: "signedInAgain"; profile: ProfileView }
  | { type: "signInAgainFailed"; profile: ProfileView; error: AppError }
  | { type: "refreshed"; profile: ProfileView }
  | { type: "refreshTokenSaved"; profile: ProfileView }
  | { type: "diagnoseStarted"; profileId: string }
  | { type: "diagnosed"; profileId: string; diagnosis: Diagnosis }
  | { type: "diagnoseFailed"; profileId: string; error: AppError }
  | { type: "diagnoseClosed" }
  | { type: "renameStarted" }
  | { type: "renameTyped"; text: string }
  | { type: "renameCancelled" }
  | { type: "renamed"; id: string; label: string }
  | { type: "disconnectAsked" }
  | { type: "disconnectKept" }
  | { type: "disconnectFailed"; message: string }
  | { type: "disconnected"; app: AppState }
  | { type: "signInWaiting"; signIn: SignInWaiting }
  | { type: "pasteTyped"; text: string }
  | { type: "pasteRefused"; error: AppError }
  | { type: "waitingNoted"; text: string }
  | { type: "noticeArrived"; notice: Notice }
  | { type: "localNotice"; message: string }
  | { type: "noticeDismissed"; id: number }
  | { type: "aboutToggled" };

export const COPIED = (secs: number) => `Copied. The clipboard will be cleared in ${secs} seconds.`;
export const COPIED_WITH_SECRETS = (secs: number) =>
  `Copied with your secrets. The clipboard will be cleared in ${secs} seconds.`;
export const NO_BROWSER =
  "Keygrant could not open a web browser. Open the address below in any browser, approve, and this window continues.";
export const ADDRESS_COPIED = "Address copied. Paste it into your browser's address bar.";
export const REFRESHED = "Refreshed: the provider accepted the refresh token.";
export const REFRESH_TOKEN_SAVED = "Saved: the system keyring now holds the new refresh token.";
export const DIAGNOSING = "Running the checks: one token refresh and a few lookups…";
export const SIGNED_IN_AGAIN = (label: string) =>
  `Signed in again: ${label} has a new refresh token and keeps its name and settings.`;

/** Whether `broker`'s callback is HTTPS on 127.0.0.1 (Schwab): no keygrant:// deep link, and
 *  the browser meets Keygrant's own certificate. */
export function httpsCallback(app: AppState | null, broker: BrokerKind): boolean {
  return app?.brokers.find((b) => b.broker === broker)?.default_redirect_uri.startsWith("https://") ?? false;
}

/** One line on a finished diagnosis: all passed, or the counts that need attention. */
export function diagnosisSummary(d: Diagnosis): string {
  const count = (v: string) => d.checks.filter((c) => c.verdict === v).length;
  const [fail, warn, skipped] = [count("fail"), count("warn"), count("skipped")];
  if (fail === 0 && warn === 0) {
    return skipped === 0
      ? `All ${d.checks.length} checks passed.`
      : `No problem found (${skipped} ${skipped === 1 ? "check" : "checks"} skipped).`;
  }
  const parts = [
    fail > 0 ? `${fail} failed` : "",
    warn > 0 ? `${warn} ${warn === 1 ? "warning" : "warnings"}` : "",
  ].filter(Boolean);
  return `${parts.join(", ")}: see the fixes below.`;
}

export const CONFIRM_DISCONNECT = "Remove this connection and its keyring entries?";

export function initialForm(): Form {
  return {
    clientId: "",
    clientSecret: "",
    refreshToken: "",
    redirectUri: "",
    broker: "tastytrade",
    environment: "production",
    scopes: [],
    mode: "browser",
    redirectKind: "loopback",
    custom: { authorizeUrl: "", tokenUrl: "", scopes: "", clientAuth: "request_body", pkce: true, extraParams: "" },
  };
}

export function initialState(): UiState {
  return {
    app: null,
    screen: { name: "starting" },
    form: initialForm(),
    notices: [],
    dismissed: [],
    aboutOpen: false,
    announcement: { text: "", seq: 0 },
    now: 0,
    autoRefreshMinutes: 0,
  };
}

/** The connected screen as it opens for a profile: accounts loading, nothing revealed. */
export function connectedScreen(profile: ProfileView): ConnectedScreen {
  return {
    name: "connected",
    profile,
    accounts: { status: "loading" },
    confirmDisconnect: false,
    dashboard: { expanded: [], filter: "" },
  };
}

function announce(s: UiState, text: string): UiState {
  return { ...s, announcement: { text, seq: s.announcement.seq + 1 } };
}

/** Switches the dialect or broker and resets what depends on it: the broker's usual redirect
 *  URI and its default scopes. */
export function withBroker(form: Form, app: AppState | null, broker: BrokerKind): Form {
  const info = app?.brokers.find((b) => b.broker === broker);
  return {
    ...form,
    broker,
    redirectUri: info?.default_redirect_uri ?? "",
    scopes: info?.scopes.filter((sc) => sc.default).map((sc) => sc.name) ?? [],
  };
}

/** The backend's notices merged into the shown ones: new ones added, dismissed ones left out,
 *  the page's own kept. */
function mergeNotices(s: UiState, incoming: Notice[]): ShownNotice[] {
  const shown = [...s.notices];
  for (const n of incoming) {
    if (s.dismissed.includes(n.id) || shown.some((m) => !m.local && m.id === n.id)) continue;
    shown.push(n);
  }
  return shown;
}

function newNotices(before: ShownNotice[], after: ShownNotice[]): ShownNotice[] {
  return after.filter((n) => !before.includes(n));
}

/** A new backend state: profiles and notices follow it; new notices are announced. */
function withApp(s: UiState, app: AppState): UiState {
  const notices = mergeNotices(s, app.notices);
  const next = { ...s, app, notices };
  const added = newNotices(s.notices, notices);
  return added.length > 0 ? announce(next, added.map((n) => n.message).join(" ")) : next;
}

/** Applies `patch` to the connected screen, when it is the one shown (and, with `profileId`,
 *  still shows that profile: late answers for a profile switched away from are dropped). */
function patchConnected(s: UiState, patch: Partial<ConnectedScreen>, profileId?: string): UiState {
  if (s.screen.name !== "connected") return s;
  if (profileId !== undefined && s.screen.profile.id !== profileId) return s;
  return { ...s, screen: { ...s.screen, ...patch } };
}

/** Sets one account's detail from its previous one (late answers for another profile, or for
 *  a list no longer shown, are dropped). */
function setDetail(
  s: UiState,
  profileId: string,
  number: string,
  next: (prev: DetailState | undefined) => DetailState,
): UiState {
  const screen = s.screen;
  if (screen.name !== "connected" || screen.profile.id !== profileId || screen.accounts.status !== "ready") return s;
  const detail = next(screen.accounts.details[number]);
  const accounts = { ...screen.accounts, details: { ...screen.accounts.details, [number]: detail } };
  return patchConnected(s, { accounts });
}

/** The Demo broker's published credentials for `broker`'s dialect: Schwab's App Key and Secret
 *  have Schwab's shape, the others share one client ID and secret. */
export function demoCredentials(demo: DemoInfo, broker: BrokerKind): { clientId: string; clientSecret: string } {
  return broker === "schwab"
    ? { clientId: demo.schwab_app_key, clientSecret: demo.schwab_secret }
    : { clientId: demo.client_id, clientSecret: demo.client_secret };
}

/** `f` without the Demo broker's published credentials where they cannot work: filled in for
 *  the Demo and then carried to a real broker (or to another dialect, whose are different),
 *  they would only be refused there. Anything the user typed is kept. */
function withoutStaleDemoCredentials(f: Form, app: AppState | null): Form {
  if (!app) return f;
  const demo = app.demo;
  const fits = f.environment === "demo" ? demoCredentials(demo, f.broker) : undefined;
  const published = [demo.client_id, demo.client_secret, demo.schwab_app_key, demo.schwab_secret];
  const stale = (v: string, fitting: string | undefined) => published.includes(v) && v !== fitting;
  return {
    ...f,
    clientId: stale(f.clientId, fits?.clientId) ? "" : f.clientId,
    clientSecret: stale(f.clientSecret, fits?.clientSecret) ? "" : f.clientSecret,
  };
}

/** The figures a detail state still has to show: its own, or the last ones before an error. */
export function figuresOf(d: DetailState | undefined): Figures | undefined {
  if (d?.status === "ready") return { detail: d.detail, at: d.at };
  if (d?.status === "error") return d.last;
  return undefined;
}

/** Loading again: figures on screen stay, marked refreshing. */
function reloading(prev: DetailState | undefined): DetailState {
  const f = figuresOf(prev);
  return f ? { status: "ready", ...f, refreshing: true } : { status: "loading" };
}

function failed(prev: DetailState | undefined, error: ShownError): DetailState {
  return { status: "error", error, last: figuresOf(prev) };
}

function patchDashboard(s: UiState, patch: (d: Dashboard) => Partial<Dashboard>): UiState {
  if (s.screen.name !== "connected") return s;
  return patchConnected(s, { dashboard: { ...s.screen.dashboard, ...patch(s.screen.dashboard) } });
}

/** The next state after `event`. Pure: same inputs, same result. */
export function update(s: UiState, event: UiEvent): UiState {
  switch (event.type) {
    case "started": {
      const next = withApp(s, event.app);
      return { ...next, screen: event.app.profile ? connectedScreen(event.app.profile) : { name: "broker" } };
    }
    case "startFailed":
      return announce({ ...s, screen: { name: "failed", error: event.error } }, event.error.message);
    case "brokerChosen": {
      const c = event.choice;
      const dialect: BrokerKind = s.form.broker === "custom" ? "tastytrade" : s.form.broker;
      let form = withBroker(s.form, s.app, c === "demo" ? dialect : c);
      form = { ...form, environment: c === "demo" ? "demo" : "production", mode: c === "demo" ? "browser" : form.mode };
      const app = s.app ? { ...s.app, last_choice: c } : s.app;
      return { ...s, app, form: withoutStaleDemoCredentials(form, s.app), screen: { name: "credentials", choice: c } };
    }
    case "brokersShown":
      return { ...s, screen: { name: "broker" } };
    case "dialectChosen":
      return { ...s, form: withoutStaleDemoCredentials(withBroker(s.form, s.app, event.broker), s.app) };
    case "formEdited": {
      const form = { ...s.form, ...event.patch };
      return { ...s, form: event.patch.environment ? withoutStaleDemoCredentials(form, s.app) : form };
    }
    case "customEdited":
      return { ...s, form: { ...s.form, custom: { ...s.form.custom, ...event.patch } } };
    case "scopeToggled": {
      const rest = s.form.scopes.filter((x) => x !== event.name);
      return { ...s, form: { ...s.form, scopes: event.on ? [...rest, event.name] : rest } };
    }
    case "demoFilled":
      if (!s.app) return s;
      return { ...s, form: { ...s.form, ...demoCredentials(s.app.demo, s.form.broker) } };
    case "connectStarted": {
      if (s.screen.name !== "credentials") return s;
      const screen: Screen = { name: "waiting", choice: s.screen.choice, redirectUri: event.redirectUri, pasted: "" };
      const notices = s.notices.filter((n) => !n.local);
      const text = s.form.mode === "grant" ? "Checking your refresh token…" : "Waiting for your browser…";
      return announce({ ...s, screen, notices }, text);
    }
    case "connected": {
      const form = { ...s.form, clientSecret: "", refreshToken: "" };
      return announce({ ...s, form, screen: connectedScreen(event.profile) }, `Connected: ${event.profile.label}.`);
    }
    case "connectFailed":
      if (s.screen.name !== "waiting") return s;
      return announce(
        { ...s, screen: { name: "credentials", choice: event.choice, error: event.error } },
        event.error.message,
      );
    case "profileShown":
      return announce({ ...s, screen: connectedScreen(event.profile) }, `Showing ${event.profile.label}.`);
    case "profilesRead":
      return withApp(s, event.app);
    case "healthRead": {
      const next = withApp(s, event.app);
      const profile = event.app.profile;
      if (!profile || next.screen.name !== "connected" || next.screen.profile.id !== profile.id) return next;
      return patchConnected(next, { profile });
    }
    case "accountsLoading": {
      // A refresh keeps the list and the figures on screen; a first load shows the placeholder.
      const cur = s.screen.name === "connected" ? s.screen.accounts : undefined;
      const accounts: AccountsState =
        cur?.status === "ready" ? { ...cur, refreshing: true, refreshError: undefined } : { status: "loading" };
      return patchConnected(s, { accounts }, event.profileId);
    }
    case "accountsLoaded": {
      const cur = s.screen.name === "connected" ? s.screen.accounts : undefined;
      const previous = cur?.status === "ready" ? cur.details : {};
      const details: Record<string, DetailState> = {};
      for (const a of event.accounts) details[a.number] = previous[a.number] ?? { status: "loading" };
      const accounts: AccountsState = { status: "ready", accounts: event.accounts, details, updatedAt: event.at };
      const next = patchConnected(s, { accounts }, event.profileId);
      return next === s ? s : { ...next, now: Math.max(s.now, event.at.getTime()) };
    }
    case "accountsFailed": {
      const cur = s.screen.name === "connected" ? s.screen.accounts : undefined;
      const error = received(event.error, event.at);
      const accounts: AccountsState =
        cur?.status === "ready" ? { ...cur, refreshing: false, refreshError: error } : { status: "error", error };
      const next = patchConnected(s, { accounts }, event.profileId);
      return next === s ? s : announce({ ...next, now: Math.max(s.now, event.at) }, error.message);
    }
    case "detailLoading":
      return setDetail(s, event.profileId, event.number, reloading);
    case "detailLoaded": {
      const error = event.detail.error;
      if (!error) {
        const next = setDetail(s, event.profileId, event.number, () => ({
          status: "ready",
          detail: event.detail,
          at: event.at,
        }));
        return next === s ? s : { ...next, now: Math.max(s.now, event.at.getTime()) };
      }
      const at = event.at.getTime();
      const next = setDetail(s, event.profileId, event.number, (prev) => failed(prev, received(error, at)));
      return next === s
        ? s
        : announce({ ...next, now: Math.max(s.now, at) }, `Account ${event.number}: ${error.message}`);
    }
    case "detailFailed": {
      const next = setDetail(s, event.profileId, event.number, (prev) => failed(prev, received(event.error, event.at)));
      return next === s
        ? s
        : announce({ ...next, now: Math.max(s.now, event.at) }, `Account ${event.number}: ${event.error.message}`);
    }
    case "clockTicked":
      return event.now === s.now ? s : { ...s, now: event.now };
    case "autoRefreshSet":
      return { ...s, autoRefreshMinutes: validAutoRefresh(event.minutes) };
    case "accountToggled":
      return patchDashboard(s, (d) => ({
        expanded: d.expanded.includes(event.number)
          ? d.expanded.filter((n) => n !== event.number)
          : [...d.expanded, event.number],
      }));
    case "allAccountsToggled": {
      if (s.screen.name !== "connected") return s;
      const acc = s.screen.accounts;
      const all = acc.status === "ready" ? acc.accounts.map((a) => a.number) : [];
      return patchDashboard(s, () => ({ expanded: event.open ? all : [] }));
    }
    case "positionsSorted":
      return patchDashboard(s, (d) => ({
        sort: {
          column: event.column,
          direction: d.sort?.column === event.column && d.sort.direction === "ascending" ? "descending" : "ascending",
        },
      }));
    case "positionsFiltered":
      return patchDashboard(s, () => ({ filter: event.text }));
    case "snippetsLoaded":
      return patchConnected(s, { snippets: event.snippets }, event.profileId);
    case "tokenRevealed": {
      const next = patchConnected(s, { revealed: event.token, note: undefined, noteError: undefined });
      // The token itself is never announced.
      return next === s ? s : announce(next, "Refresh token shown.");
    }
    case "tokenHidden": {
      const next = patchConnected(s, { revealed: undefined });
      return next === s ? s : announce(next, "Refresh token hidden.");
    }
    case "noted": {
      const next = patchConnected(s, { note: event.text, noteError: event.error });
      return next === s ? s : announce(next, event.text);
    }
    case "signInAgainStarted": {
      if (s.screen.name !== "connected") return s;
      const profile = s.screen.profile;
      const choice: Choice = profile.environment === "demo" ? "demo" : profile.broker;
      const screen: Screen = { name: "waiting", choice, renew: profile, pasted: "" };
      return announce({ ...s, screen }, "Waiting for your browser…");
    }
    case "signedInAgain": {
      if (s.screen.name !== "waiting" || s.screen.renew?.id !== event.profile.id) return s;
      const text = SIGNED_IN_AGAIN(event.profile.label);
      return announce({ ...s, screen: { ...connectedScreen(event.profile), note: text } }, text);
    }
    case "signInAgainFailed": {
      if (s.screen.name !== "waiting" || s.screen.renew?.id !== event.profile.id) return s;
      const screen = { ...connectedScreen(event.profile), note: event.error.message, noteError: event.error };
      return announce({ ...s, screen }, event.error.message);
    }
    case "refreshTokenSaved": {
      const next = patchConnected(
        s,
        { profile: event.profile, note: REFRESH_TOKEN_SAVED, noteError: undefined },
        event.profile.id,
      );
      return next === s ? s : announce(next, REFRESH_TOKEN_SAVED);
    }
    case "refreshed": {
      const next = patchConnected(
        s,
        { profile: event.profile, note: REFRESHED, noteError: undefined },
        event.profile.id,
      );
      return next === s ? s : announce(next, REFRESHED);
    }
    case "diagnoseStarted": {
      const next = patchConnected(s, { diagnose: { status: "loading" } }, event.profileId);
      return next === s ? s : announce(next, DIAGNOSING);
    }
    case "diagnosed": {
      const next = patchConnected(s, { diagnose: { status: "ready", diagnosis: event.diagnosis } }, event.profileId);
      return next === s ? s : announce(next, diagnosisSummary(event.diagnosis));
    }
    case "diagnoseFailed": {
      const next = patchConnected(s, { diagnose: { status: "error", error: event.error } }, event.profileId);
      return next === s ? s : announce(next, event.error.message);
    }
    case "diagnoseClosed":
      return patchConnected(s, { diagnose: undefined });
    case "renameStarted":
      if (s.screen.name !== "connected") return s;
      return patchConnected(s, { renaming: s.screen.profile.label });
    case "renameTyped":
      if (s.screen.name !== "connected" || s.screen.renaming === undefined) return s;
      return patchConnected(s, { renaming: event.text });
    case "renameCancelled":
      return patchConnected(s, { renaming: undefined });
    case "renamed": {
      if (s.screen.name !== "connected" || s.screen.profile.id !== event.id) return s;
      const label = event.label.trim();
      const next = patchConnected(s, { renaming: undefined, profile: { ...s.screen.profile, label } });
      return announce(next, `Renamed to ${label}.`);
    }
    case "disconnectAsked": {
      const next = patchConnected(s, { confirmDisconnect: true });
      return next === s ? s : announce(next, `${CONFIRM_DISCONNECT} Press Remove, or Keep.`);
    }
    case "disconnectKept":
      return patchConnected(s, { confirmDisconnect: false });
    case "disconnectFailed": {
      const next = patchConnected(s, { note: event.message, noteError: undefined, confirmDisconnect: false });
      return next === s ? s : announce(next, event.message);
    }
    case "disconnected": {
      const next = withApp(s, event.app);
      const profile = event.app.profile;
      const screen: Screen = profile ? connectedScreen(profile) : { name: "broker" };
      return announce(
        { ...next, screen },
        profile ? `Connection removed. Showing ${profile.label}.` : "Connection removed.",
      );
    }
    case "signInWaiting": {
      if (s.screen.name !== "waiting") return s;
      const screen = { ...s.screen, signIn: event.signIn, note: undefined };
      return event.signIn.browser_opened ? { ...s, screen } : announce({ ...s, screen }, NO_BROWSER);
    }
    case "pasteTyped":
      if (s.screen.name !== "waiting") return s;
      return { ...s, screen: { ...s.screen, pasted: event.text, pasteError: undefined } };
    case "pasteRefused":
      if (s.screen.name !== "waiting") return s;
      return announce({ ...s, screen: { ...s.screen, pasteError: event.error } }, event.error.message);
    case "waitingNoted":
      if (s.screen.name !== "waiting") return s;
      return announce({ ...s, screen: { ...s.screen, note: event.text } }, event.text);
    case "noticeArrived": {
      const notices = mergeNotices(s, [event.notice]);
      return notices.length === s.notices.length ? s : announce({ ...s, notices }, event.notice.message);
    }
    case "localNotice": {
      const id = Math.min(0, ...s.notices.filter((n) => n.local).map((n) => n.id)) - 1;
      return announce({ ...s, notices: [...s.notices, { id, message: event.message, local: true }] }, event.message);
    }
    case "noticeDismissed": {
      const gone = s.notices.find((n) => n.id === event.id);
      if (!gone) return s;
      const notices = s.notices.filter((n) => n !== gone);
      return { ...s, notices, dismissed: gone.local ? s.dismissed : [...s.dismissed, gone.id] };
    }
    case "aboutToggled":
      return { ...s, aboutOpen: !s.aboutOpen };
  }
}

/** The custom provider as the backend takes it; the backend trims and checks it. */
export function customProvider(c: CustomForm): CustomProvider {
  return {
    authorize_url: c.authorizeUrl,
    token_url: c.tokenUrl,
    client_auth: c.clientAuth,
    pkce: c.pkce,
    extra_params: parseExtraParams(c.extraParams),
  };
}

/** The backend call the wizard's Connect button makes, from what was typed. */
export type ConnectCall = { kind: "grant"; request: GrantRequest } | { kind: "browser"; request: ConnectRequest };

export function connectCall(s: UiState): ConnectCall {
  const f = s.form;
  const custom = f.broker === "custom" ? customProvider(f.custom) : undefined;
  if (f.mode === "grant") {
    return {
      kind: "grant",
      request: {
        broker: f.broker,
        environment: f.environment,
        client_id: f.clientId,
        client_secret: f.clientSecret,
        refresh_token: f.refreshToken,
        custom,
      },
    };
  }
  // A broker whose callback is HTTPS (Schwab) takes no keygrant:// link.
  const deepLink = f.redirectKind === "deeplink" && !httpsCallback(s.app, f.broker);
  const redirectUri = deepLink
    ? (s.app?.deep_link_redirect ?? "")
    : f.environment === "demo"
      ? undefined
      : f.redirectUri;
  return {
    kind: "browser",
    request: {
      broker: f.broker,
      environment: f.environment,
      client_id: f.clientId,
      client_secret: f.clientSecret,
      redirect_uri: redirectUri,
      scopes: f.broker === "custom" ? [f.custom.scopes] : f.scopes,
      custom,
    },
  };
}

/** The redirect URI the waiting screen names, trimmed as the backend will use it. */
export function sentRedirectUri(call: ConnectCall): string | undefined {
  return call.kind === "browser" ? call.request.redirect_uri?.trim() : undefined;
}
