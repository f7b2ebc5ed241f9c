// The only module that talks to the backend, through the generated `commands` and `events`.
// Each user intent becomes backend calls and state events; `update` (state.ts) computes the new
// state and `onChange` renders it.
import type { UnlistenFn } from "@tauri-apps/api/event";
import { commands, events } from "./bindings/commands";
import type { SnippetKind } from "./bindings/SnippetKind";
import { asAppError, waitOver } from "./errors";
import {
  ADDRESS_COPIED,
  type Choice,
  COPIED,
  COPIED_WITH_SECRETS,
  connectCall,
  initialState,
  type ShownNotice,
  sentRedirectUri,
  type UiEvent,
  type UiState,
  update,
  validAutoRefresh,
} from "./state";

/** Token health is re-read this often, so it follows the backend's own refreshes. */
export const HEALTH_INTERVAL_MS = 60_000;
/** The freshness labels ("updated 12 s ago") follow this clock. */
export const CLOCK_INTERVAL_MS = 1_000;
/** Where the auto-refresh choice is remembered. */
export const AUTO_REFRESH_KEY = "keygrant.autoRefreshMinutes";

/** The remembered auto-refresh interval in minutes (0, off, when none or not a choice). */
function readAutoRefresh(): number {
  try {
    return validAutoRefresh(globalThis.localStorage?.getItem(AUTO_REFRESH_KEY));
  } catch {
    return 0;
  }
}

function saveAutoRefresh(minutes: number): void {
  try {
    globalThis.localStorage?.setItem(AUTO_REFRESH_KEY, String(minutes));
  } catch {
    // Not remembered (storage disabled); the choice still holds for this session.
  }
}

/** What the views may ask for. `dispatch` is for changes that need no backend. */
export interface Actions {
  dispatch(event: UiEvent): void;
  start(): Promise<void>;
  chooseBroker(choice: Choice): void;
  connect(): Promise<void>;
  signInAgain(): Promise<void>;
  cancel(): Promise<void>;
  openSignInAgain(): Promise<void>;
  copySignInAddress(): Promise<void>;
  finishSignIn(): Promise<void>;
  openAppSettings(): Promise<void>;
  loadAccounts(): Promise<void>;
  setAutoRefresh(minutes: number): void;
  retryDetail(number: string): Promise<void>;
  toggleReveal(): Promise<void>;
  copyRefreshToken(): Promise<void>;
  copySnippet(kind: SnippetKind, hasSecrets: boolean): Promise<void>;
  refreshNow(): Promise<void>;
  diagnose(): Promise<void>;
  retrySaveRefreshToken(): Promise<void>;
  selectProfile(id: string): Promise<void>;
  saveRename(): Promise<void>;
  disconnect(): Promise<void>;
  dismissNotice(notice: ShownNotice): void;
}

/** Ends a listener; `UnlistenFn` says void but returns a promise, which may reject. */
function stopListening(unlisten: UnlistenFn): void {
  void Promise.resolve(unlisten()).catch(() => undefined);
}

export class Controller implements Actions {
  state: UiState = initialState();
  private timer: ReturnType<typeof setInterval> | undefined;
  private clock: ReturnType<typeof setInterval> | undefined;
  private autoRefresh: ReturnType<typeof setInterval> | undefined;
  private unlisten: UnlistenFn[] = [];
  private closed = false;

  constructor(private readonly onChange: (state: UiState) => void) {}

  dispatch(event: UiEvent): void {
    this.state = update(this.state, event);
    this.onChange(this.state);
  }

  /** Shows the first screen, listens for the backend's events, starts the health timer and
   *  reads the state. */
  init(): Promise<void> {
    this.state = update(this.state, { type: "clockTicked", now: Date.now() });
    this.state = update(this.state, { type: "autoRefreshSet", minutes: readAutoRefresh() });
    this.onChange(this.state);
    this.timer ??= setInterval(() => void this.tick(), HEALTH_INTERVAL_MS);
    this.clock ??= setInterval(() => this.clockTick(), CLOCK_INTERVAL_MS);
    this.scheduleAutoRefresh();
    this.listen(events.notice((notice) => this.dispatch({ type: "noticeArrived", notice })));
    this.listen(events.signInWaiting((signIn) => this.dispatch({ type: "signInWaiting", signIn })));
    return this.start();
  }

  private listen(started: Promise<UnlistenFn>): void {
    started.then(
      (unlisten) => {
        if (this.closed) stopListening(unlisten);
        else this.unlisten.push(unlisten);
      },
      () => undefined,
    );
  }

  /** Stops the timer and the listeners (tests, or a page being torn down). */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    clearInterval(this.clock);
    this.clock = undefined;
    clearInterval(this.autoRefresh);
    this.autoRefresh = undefined;
    for (const unlisten of this.unlisten) stopListening(unlisten);
    this.unlisten = [];
  }

  /** Reads the backend's state: the connected screen for a returning user, the wizard otherwise. */
  async start(): Promise<void> {
    try {
      this.dispatch({ type: "started", app: await commands.getState() });
      this.afterProfileShown(false);
    } catch (e) {
      this.dispatch({ type: "startFailed", error: asAppError(e) });
    }
  }

  /** The one-minute tick: re-reads the shown profile so token health follows background refreshes. */
  async tick(): Promise<void> {
    if (this.state.screen.name !== "connected") return;
    try {
      this.dispatch({ type: "healthRead", app: await commands.getState() });
    } catch {
      // The next tick tries again; the dashboard reports its own errors.
    }
  }

  /** The one-second clock: moves the freshness labels and a rate limit's countdown on, and
   *  when a rate limit's wait is over, tries again by itself. Only while a connection is shown;
   *  lit-html then patches just those labels' text, so focus and typing are untouched. */
  clockTick(): void {
    const s = this.state.screen;
    if (s.name !== "connected" || s.accounts.status === "loading") return;
    this.dispatch({ type: "clockTicked", now: Date.now() });
    this.retryWhenWaitIsOver();
  }

  /** The accounts, or each account's details, whose rate limit's wait is over: asked again
   *  once (the new request replaces the error, so the next tick does not ask twice). */
  private retryWhenWaitIsOver(): void {
    const s = this.state.screen;
    if (s.name !== "connected") return;
    const acc = s.accounts;
    const now = this.state.now;
    if (acc.status === "error") {
      if (waitOver(acc.error, now)) void this.loadAccounts();
      return;
    }
    if (acc.status !== "ready" || acc.refreshing) return;
    if (waitOver(acc.refreshError, now)) {
      void this.loadAccounts();
      return;
    }
    for (const [number, d] of Object.entries(acc.details)) {
      if (d.status === "error" && waitOver(d.error, now)) void this.loadDetail(s.profile.id, number);
    }
  }

  /** Chooses (and remembers) the auto-refresh interval; anything but a choice turns it off. */
  setAutoRefresh(minutes: number): void {
    const valid = validAutoRefresh(minutes);
    saveAutoRefresh(valid);
    this.dispatch({ type: "autoRefreshSet", minutes: valid });
    this.scheduleAutoRefresh();
  }

  private scheduleAutoRefresh(): void {
    clearInterval(this.autoRefresh);
    this.autoRefresh = undefined;
    const minutes = this.state.autoRefreshMinutes;
    if (this.closed || minutes < 1) return;
    this.autoRefresh = setInterval(() => void this.autoRefreshTick(), minutes * 60_000);
  }

  /** An automatic refresh: only for a shown dashboard that is not already loading. */
  async autoRefreshTick(): Promise<void> {
    const s = this.state.screen;
    if (s.name !== "connected" || !s.profile.has_dashboard) return;
    if (s.accounts.status === "loading" || (s.accounts.status === "ready" && s.accounts.refreshing)) return;
    await this.loadAccounts();
  }

  /** A profile was just shown: its accounts, its snippets and (when asked) the profile list. */
  private afterProfileShown(reloadProfiles: boolean): void {
    const s = this.state.screen;
    if (s.name !== "connected") return;
    if (s.profile.has_dashboard) void this.loadAccounts();
    void this.loadSnippets(s.profile.id);
    if (reloadProfiles) void this.reloadProfiles();
  }

  /** Re-reads the profile list for the switcher (after connecting, renaming, switching). */
  private async reloadProfiles(): Promise<void> {
    try {
      this.dispatch({ type: "profilesRead", app: await commands.getState() });
    } catch {
      // The switcher keeps the list it has; the dashboard reports its own errors.
    }
  }

  chooseBroker(choice: Choice): void {
    void commands.rememberChoice(choice).catch(() => undefined);
    this.dispatch({ type: "brokerChosen", choice });
  }

  async connect(): Promise<void> {
    const s = this.state;
    if (s.screen.name !== "credentials") return;
    const choice = s.screen.choice;
    const call = connectCall(s);
    this.dispatch({ type: "connectStarted", redirectUri: sentRedirectUri(call) });
    try {
      const profile =
        call.kind === "grant" ? await commands.connectWithGrant(call.request) : await commands.connect(call.request);
      this.dispatch({ type: "connected", profile });
      this.afterProfileShown(true);
    } catch (e) {
      this.dispatch({ type: "connectFailed", choice, error: asAppError(e) });
    }
  }

  /** "Sign in again": a new browser sign-in renewing the shown connection's grant in place. The
   *  waiting screen shows meanwhile (the `sign-in-waiting` event fills it as for Connect); the
   *  dashboard comes back with the renewed connection, or with why it failed. */
  async signInAgain(): Promise<void> {
    const s = this.state.screen;
    if (s.name !== "connected") return;
    const profile = s.profile;
    this.dispatch({ type: "signInAgainStarted" });
    try {
      this.dispatch({ type: "signedInAgain", profile: await commands.signInAgain() });
      this.afterProfileShown(true);
    } catch (e) {
      this.dispatch({ type: "signInAgainFailed", profile, error: asAppError(e) });
      this.afterProfileShown(false);
    }
  }

  async cancel(): Promise<void> {
    try {
      await commands.cancelConnect();
    } catch (e) {
      this.dispatch({ type: "localNotice", message: asAppError(e).message });
    }
  }

  /** "Open again": the backend tries the browser once more (the event updates the page). */
  async openSignInAgain(): Promise<void> {
    try {
      const signIn = await commands.openSignInPage();
      this.dispatch({ type: "signInWaiting", signIn });
    } catch (e) {
      this.dispatch({ type: "waitingNoted", text: asAppError(e).message });
    }
  }

  /** Copies the authorize address (not a secret) to the clipboard. */
  async copySignInAddress(): Promise<void> {
    try {
      await commands.copySignInAddress();
      this.dispatch({ type: "waitingNoted", text: ADDRESS_COPIED });
    } catch (e) {
      this.dispatch({ type: "waitingNoted", text: asAppError(e).message });
    }
  }

  /** Hands the pasted address to the waiting sign-in; `connect` then finishes as usual. */
  async finishSignIn(): Promise<void> {
    const s = this.state.screen;
    if (s.name !== "waiting") return;
    try {
      await commands.finishSignIn(s.pasted);
    } catch (e) {
      this.dispatch({ type: "pasteRefused", error: asAppError(e) });
    }
  }

  /** The backend opens the broker's OAuth applications page in the system browser. */
  async openAppSettings(): Promise<void> {
    if (this.state.screen.name !== "credentials") return;
    const { broker, environment } = this.state.form;
    try {
      await commands.openAppSettings(broker, environment);
    } catch (e) {
      this.dispatch({ type: "localNotice", message: asAppError(e).message });
    }
  }

  /** The account list, then every account's balances and positions at once. */
  async loadAccounts(): Promise<void> {
    const s = this.state.screen;
    if (s.name !== "connected") return;
    const profileId = s.profile.id;
    this.dispatch({ type: "accountsLoading", profileId });
    let accounts: Awaited<ReturnType<typeof commands.listAccounts>>;
    try {
      accounts = await commands.listAccounts();
    } catch (e) {
      this.dispatch({ type: "accountsFailed", profileId, error: asAppError(e), at: Date.now() });
      return;
    }
    this.dispatch({ type: "accountsLoaded", profileId, accounts, at: new Date() });
    await Promise.all(accounts.map((a) => this.loadDetail(profileId, a.number)));
  }

  private async loadDetail(profileId: string, number: string): Promise<void> {
    this.dispatch({ type: "detailLoading", profileId, number });
    try {
      const detail = await commands.accountDetail(number);
      this.dispatch({ type: "detailLoaded", profileId, number, detail, at: new Date() });
    } catch (e) {
      this.dispatch({ type: "detailFailed", profileId, number, error: asAppError(e), at: Date.now() });
    }
  }

  async retryDetail(number: string): Promise<void> {
    const s = this.state.screen;
    if (s.name === "connected") await this.loadDetail(s.profile.id, number);
  }

  private async loadSnippets(profileId: string): Promise<void> {
    let snippets: Awaited<ReturnType<typeof commands.snippets>> = [];
    try {
      snippets = await commands.snippets();
    } catch {
      // No snippets: the hand-off card stays hidden.
    }
    this.dispatch({ type: "snippetsLoaded", profileId, snippets });
  }

  async toggleReveal(): Promise<void> {
    const s = this.state.screen;
    if (s.name !== "connected") return;
    if (s.revealed !== undefined) {
      this.dispatch({ type: "tokenHidden" });
      return;
    }
    try {
      this.dispatch({ type: "tokenRevealed", token: await commands.revealRefreshToken() });
    } catch (e) {
      this.dispatch({ type: "noted", text: asAppError(e).message });
    }
  }

  /** Copies in the backend; the token never enters the page. */
  async copyRefreshToken(): Promise<void> {
    try {
      this.dispatch({ type: "noted", text: COPIED(await commands.copyRefreshToken()) });
    } catch (e) {
      this.dispatch({ type: "noted", text: asAppError(e).message });
    }
  }

  /** Copies a snippet with the secrets filled in (where it has any), in the backend. */
  async copySnippet(kind: SnippetKind, hasSecrets: boolean): Promise<void> {
    try {
      const secs = await commands.copySnippet(kind);
      this.dispatch({ type: "noted", text: hasSecrets ? COPIED_WITH_SECRETS(secs) : COPIED(secs) });
    } catch (e) {
      this.dispatch({ type: "noted", text: asAppError(e).message });
    }
  }

  /** Runs the doctor's checks on the shown connection (the token card's Diagnose button). Its
   *  refresh may renew the access token, so token health is re-read afterwards. */
  async diagnose(): Promise<void> {
    const s = this.state.screen;
    if (s.name !== "connected" || s.diagnose?.status === "loading") return;
    const profileId = s.profile.id;
    this.dispatch({ type: "diagnoseStarted", profileId });
    try {
      this.dispatch({ type: "diagnosed", profileId, diagnosis: await commands.diagnose() });
    } catch (e) {
      this.dispatch({ type: "diagnoseFailed", profileId, error: asAppError(e) });
      return;
    }
    await this.tick();
  }

  /** Offers the refresh token the keyring refused to it again ("Retry save"). */
  async retrySaveRefreshToken(): Promise<void> {
    try {
      this.dispatch({ type: "refreshTokenSaved", profile: await commands.retrySaveRefreshToken() });
    } catch (e) {
      this.dispatch({ type: "noted", text: asAppError(e).message });
    }
  }

  /** Gets a new access token now: proves the grant works and shows the new response. */
  async refreshNow(): Promise<void> {
    try {
      this.dispatch({ type: "refreshed", profile: await commands.refreshNow() });
    } catch (e) {
      const error = asAppError(e);
      this.dispatch({ type: "noted", text: error.message, error });
    }
  }

  async selectProfile(id: string): Promise<void> {
    try {
      this.dispatch({ type: "profileShown", profile: await commands.selectProfile(id) });
      this.afterProfileShown(true);
    } catch (e) {
      this.dispatch({ type: "noted", text: asAppError(e).message });
    }
  }

  async saveRename(): Promise<void> {
    const s = this.state.screen;
    if (s.name !== "connected" || s.renaming === undefined) return;
    const id = s.profile.id;
    const label = s.renaming;
    try {
      await commands.renameProfile(id, label);
      this.dispatch({ type: "renamed", id, label });
      await this.reloadProfiles();
    } catch (e) {
      this.dispatch({ type: "noted", text: asAppError(e).message });
    }
  }

  /** First press asks for confirmation; the second removes the connection and its secrets. */
  async disconnect(): Promise<void> {
    const s = this.state.screen;
    if (s.name !== "connected") return;
    if (!s.confirmDisconnect) {
      this.dispatch({ type: "disconnectAsked" });
      return;
    }
    try {
      await commands.disconnect();
      this.dispatch({ type: "disconnected", app: await commands.getState() });
      this.afterProfileShown(false);
    } catch (e) {
      this.dispatch({ type: "disconnectFailed", message: asAppError(e).message });
    }
  }

  /** Hides a notice; the backend forgets its own notices when told. */
  dismissNotice(notice: ShownNotice): void {
    this.dispatch({ type: "noticeDismissed", id: notice.id });
    if (!notice.local) void commands.dismissNotice(notice.id).catch(() => undefined);
  }
}
