// The pure transitions: state + event -> state, no backend, no DOM.
import { describe, expect, it } from "vitest";
import type { AppState } from "../src/bindings/AppState";
import {
  type ConnectedScreen,
  connectCall,
  connectedScreen,
  initialState,
  REFRESHED,
  sentRedirectUri,
  type UiEvent,
  type UiState,
  update,
} from "../src/state";
import { ACCOUNTS, CUSTOM_PROFILE, DEMO, detailFor, FRESH, PROFILE, RETURNING, TOKEN } from "./harness";

/** Applies events in order. */
function run(s: UiState, ...events: UiEvent[]): UiState {
  return events.reduce(update, s);
}

const fresh = (): UiState => run(initialState(), { type: "started", app: FRESH });
const connected = (): UiState => run(initialState(), { type: "started", app: RETURNING(PROFILE) });

function screen(s: UiState): ConnectedScreen {
  if (s.screen.name !== "connected") throw new Error(`not connected: ${s.screen.name}`);
  return s.screen;
}

describe("starting", () => {
  it("opens the wizard for a new user and the connected screen for a returning one", () => {
    expect(initialState().screen).toEqual({ name: "starting" });
    expect(fresh().screen).toEqual({ name: "broker" });
    expect(connected().screen).toEqual(connectedScreen(PROFILE));
    expect(screen(connected()).accounts).toEqual({ status: "loading" });
  });

  it("a failed start shows the error and announces it", () => {
    const s = update(initialState(), { type: "startFailed", error: { kind: "internal", message: "Broken." } });
    expect(s.screen).toEqual({ name: "failed", error: { kind: "internal", message: "Broken." } });
    expect(s.announcement.text).toBe("Broken.");
  });

  it("does not change the state it is given", () => {
    const before = fresh();
    const copy = structuredClone(before);
    update(before, { type: "brokerChosen", choice: "demo" });
    update(before, { type: "formEdited", patch: { clientId: "x" } });
    expect(before).toEqual(copy);
  });
});

describe("wizard", () => {
  it("choosing the Demo broker picks the demo environment, the browser and the dialect's scopes", () => {
    const s = run(fresh(), { type: "formEdited", patch: { mode: "grant" } }, { type: "brokerChosen", choice: "demo" });
    expect(s.screen).toEqual({ name: "credentials", choice: "demo" });
    expect(s.form.environment).toBe("demo");
    expect(s.form.mode).toBe("browser");
    expect(s.form.broker).toBe("tastytrade");
    expect(s.form.scopes).toEqual(["read", "openid"]);
    expect(s.form.redirectUri).toBe("http://localhost:8000");
    expect(s.app?.last_choice).toBe("demo");
  });

  it("a real broker picks production and its own redirect URI and default scopes", () => {
    const s = run(fresh(), { type: "brokerChosen", choice: "trade_station" });
    expect(s.form.broker).toBe("trade_station");
    expect(s.form.environment).toBe("production");
    expect(s.form.redirectUri).toBe("http://localhost:3001");
    expect(s.form.scopes).toEqual(["openid", "offline_access", "ReadAccount"]);
  });

  it("the Demo broker keeps the dialect last used, but not custom", () => {
    const ts = run(
      fresh(),
      { type: "brokerChosen", choice: "trade_station" },
      { type: "brokerChosen", choice: "demo" },
    );
    expect(ts.form.broker).toBe("trade_station");
    const custom = run(fresh(), { type: "brokerChosen", choice: "custom" }, { type: "brokerChosen", choice: "demo" });
    expect(custom.form.broker).toBe("tastytrade");
  });

  it("toggles scopes, in the order they were turned on", () => {
    const s = run(
      fresh(),
      { type: "brokerChosen", choice: "tastytrade" },
      { type: "scopeToggled", name: "trade", on: true },
      { type: "scopeToggled", name: "openid", on: false },
    );
    expect(s.form.scopes).toEqual(["read", "trade"]);
  });

  it("fills the Demo credentials", () => {
    const s = run(fresh(), { type: "brokerChosen", choice: "demo" }, { type: "demoFilled" });
    expect(s.form.clientId).toBe(DEMO.client_id);
    expect(s.form.clientSecret).toBe(DEMO.client_secret);
    expect(update(initialState(), { type: "demoFilled" })).toEqual(initialState());
  });

  it("drops the Demo credentials where they cannot work, and keeps what the user typed", () => {
    const filled = run(fresh(), { type: "brokerChosen", choice: "demo" }, { type: "demoFilled" });
    // Carried to a real broker's form (Add connection, then Schwab): refused there, so gone.
    const schwab = update(filled, { type: "brokerChosen", choice: "schwab" });
    expect([schwab.form.clientId, schwab.form.clientSecret]).toEqual(["", ""]);
    // The Schwab dialect has its own: the Tastytrade ones go, its own fill in.
    const dialect = update(filled, { type: "dialectChosen", broker: "schwab" });
    expect([dialect.form.clientId, dialect.form.clientSecret]).toEqual(["", ""]);
    const refilled = update(dialect, { type: "demoFilled" });
    expect([refilled.form.clientId, refilled.form.clientSecret]).toEqual([DEMO.schwab_app_key, DEMO.schwab_secret]);
    // Production picked on the same card: gone too.
    const production = update(filled, { type: "formEdited", patch: { environment: "production" } });
    expect(production.form.clientId).toBe("");
    // The Demo card again, same dialect: kept.
    expect(update(filled, { type: "brokerChosen", choice: "demo" }).form.clientId).toBe(DEMO.client_id);
    // The user's own values stay wherever they go.
    const own = run(
      fresh(),
      { type: "brokerChosen", choice: "tastytrade" },
      { type: "formEdited", patch: { clientId: "my-app-id", clientSecret: "my-secret-123" } },
      { type: "brokerChosen", choice: "schwab" },
    );
    expect([own.form.clientId, own.form.clientSecret]).toEqual(["my-app-id", "my-secret-123"]);
  });

  it("builds the browser request: the Demo broker sends no redirect URI, a deep link sends the app's", () => {
    const demo = run(fresh(), { type: "brokerChosen", choice: "demo" }, { type: "demoFilled" });
    expect(connectCall(demo)).toEqual({
      kind: "browser",
      request: {
        broker: "tastytrade",
        environment: "demo",
        client_id: DEMO.client_id,
        client_secret: DEMO.client_secret,
        redirect_uri: undefined,
        scopes: ["read", "openid"],
        custom: undefined,
      },
    });
    const deep = run(
      fresh(),
      { type: "brokerChosen", choice: "tastytrade" },
      { type: "formEdited", patch: { redirectKind: "deeplink" } },
    );
    const call = connectCall(deep);
    expect(call.kind === "browser" && call.request.redirect_uri).toBe("keygrant://callback");
    const loopback = run(
      fresh(),
      { type: "brokerChosen", choice: "tastytrade" },
      { type: "formEdited", patch: { redirectUri: " http://localhost:9000 " } },
    );
    expect(sentRedirectUri(connectCall(loopback))).toBe("http://localhost:9000");
  });

  it("builds the grant request and the custom provider's description", () => {
    const grant = run(
      fresh(),
      { type: "brokerChosen", choice: "custom" },
      { type: "formEdited", patch: { mode: "grant", clientId: "c", clientSecret: "s", refreshToken: "rt" } },
      {
        type: "customEdited",
        patch: { authorizeUrl: "https://a", tokenUrl: "https://t", extraParams: "x=1", pkce: false },
      },
    );
    const call = connectCall(grant);
    expect(call).toEqual({
      kind: "grant",
      request: {
        broker: "custom",
        environment: "production",
        client_id: "c",
        client_secret: "s",
        refresh_token: "rt",
        custom: {
          authorize_url: "https://a",
          token_url: "https://t",
          client_auth: "request_body",
          pkce: false,
          extra_params: [{ name: "x", value: "1" }],
        },
      },
    });
    expect(sentRedirectUri(call)).toBeUndefined();
  });

  it("connecting waits, then clears the secrets and opens the connected screen", () => {
    const typed = run(fresh(), { type: "brokerChosen", choice: "demo" }, { type: "demoFilled" });
    const waiting = update(typed, { type: "connectStarted" });
    expect(waiting.screen).toEqual({ name: "waiting", choice: "demo", redirectUri: undefined, pasted: "" });
    expect(waiting.announcement.text).toBe("Waiting for your browser…");
    const done = update(waiting, { type: "connected", profile: PROFILE });
    expect(done.form.clientSecret).toBe("");
    expect(done.form.refreshToken).toBe("");
    expect(done.form.clientId).toBe(DEMO.client_id);
    expect(done.screen).toEqual(connectedScreen(PROFILE));
    expect(done.announcement.text).toBe(`Connected: ${PROFILE.label}.`);
  });

  it("a failed connect goes back to the form with the error; a late failure does not", () => {
    const waiting = run(fresh(), { type: "brokerChosen", choice: "demo" }, { type: "connectStarted" });
    const error = { kind: "access_denied" as const, message: "Denied." };
    const failed = update(waiting, { type: "connectFailed", choice: "demo", error });
    expect(failed.screen).toEqual({ name: "credentials", choice: "demo", error });
    expect(failed.announcement.text).toBe("Denied.");
    expect(update(connected(), { type: "connectFailed", choice: "demo", error })).toEqual(connected());
  });

  it("Connect clears the page's own notices but keeps the backend's", () => {
    const s = run(
      fresh(),
      { type: "brokerChosen", choice: "demo" },
      { type: "localNotice", message: "No browser." },
      { type: "noticeArrived", notice: { id: 2, message: "Refused link." } },
      { type: "connectStarted" },
    );
    expect(s.notices).toEqual([{ id: 2, message: "Refused link." }]);
  });
});

describe("connected", () => {
  it("loads the accounts, then each account's details, each on its own", () => {
    const at = new Date(2026, 0, 1);
    const s = run(
      connected(),
      { type: "accountsLoaded", profileId: "p1", accounts: ACCOUNTS, at },
      { type: "detailLoaded", profileId: "p1", number: "5WX01234", detail: detailFor("5WX01234"), at },
    );
    const accounts = screen(s).accounts;
    expect(accounts.status).toBe("ready");
    if (accounts.status !== "ready") return;
    expect(accounts.updatedAt).toBe(at);
    expect(accounts.details["5WX01234"]).toEqual({ status: "ready", detail: detailFor("5WX01234"), at });
    expect(accounts.details["5WX05678"]).toEqual({ status: "loading" });
  });

  it("an account's error in its detail is that account's error, announced with its number", () => {
    const error = { kind: "broker" as const, message: "Try again in a minute." };
    const s = run(
      connected(),
      { type: "accountsLoaded", profileId: "p1", accounts: ACCOUNTS, at: new Date() },
      {
        type: "detailLoaded",
        profileId: "p1",
        number: "5WX05678",
        detail: { number: "5WX05678", error },
        at: new Date(),
      },
    );
    const accounts = screen(s).accounts;
    expect(accounts.status === "ready" && accounts.details["5WX05678"]).toEqual({
      status: "error",
      error,
      last: undefined,
    });
    expect(s.announcement.text).toBe("Account 5WX05678: Try again in a minute.");
  });

  it("a refresh keeps the list and each account's figures, marked refreshing, until new ones arrive", () => {
    const t0 = new Date(2026, 0, 1, 9, 0, 0);
    const t1 = new Date(2026, 0, 1, 9, 5, 0);
    const loaded = run(
      connected(),
      { type: "accountsLoaded", profileId: "p1", accounts: ACCOUNTS, at: t0 },
      { type: "detailLoaded", profileId: "p1", number: "5WX01234", detail: detailFor("5WX01234"), at: t0 },
    );
    expect(loaded.now).toBe(t0.getTime());
    const refreshing = run(
      loaded,
      { type: "accountsLoading", profileId: "p1" },
      { type: "accountsLoaded", profileId: "p1", accounts: ACCOUNTS, at: t1 },
      { type: "detailLoading", profileId: "p1", number: "5WX01234" },
      { type: "detailLoading", profileId: "p1", number: "5WX05678" },
    );
    const acc = screen(refreshing).accounts;
    if (acc.status !== "ready") throw new Error("the list stays shown");
    expect(acc.details["5WX01234"]).toEqual({
      status: "ready",
      detail: detailFor("5WX01234"),
      at: t0,
      refreshing: true,
    });
    // An account that had no figures yet shows its placeholder.
    expect(acc.details["5WX05678"]).toEqual({ status: "loading" });
    const error = { kind: "broker" as const, message: "500" };
    const failedAgain = update(refreshing, {
      type: "detailFailed",
      profileId: "p1",
      number: "5WX01234",
      error,
      at: 0,
    });
    const after = screen(failedAgain).accounts;
    expect(after.status === "ready" && after.details["5WX01234"]).toEqual({
      status: "error",
      error,
      last: { detail: detailFor("5WX01234"), at: t0 },
    });
    // Try again shows the last figures while it loads.
    const retried = update(failedAgain, { type: "detailLoading", profileId: "p1", number: "5WX01234" });
    const r = screen(retried).accounts;
    expect(r.status === "ready" && r.details["5WX01234"].status).toBe("ready");
  });

  it("opens accounts, sorts and filters positions, and keeps the auto-refresh to its choices", () => {
    let s = run(connected(), { type: "accountsLoaded", profileId: "p1", accounts: ACCOUNTS, at: new Date() });
    s = run(s, { type: "accountToggled", number: "5WX05678" });
    expect(screen(s).dashboard.expanded).toEqual(["5WX05678"]);
    s = run(s, { type: "accountToggled", number: "5WX05678" }, { type: "allAccountsToggled", open: true });
    expect(screen(s).dashboard.expanded).toEqual(["5WX01234", "5WX05678"]);
    s = run(s, { type: "positionsSorted", column: "day_pl" });
    expect(screen(s).dashboard.sort).toEqual({ column: "day_pl", direction: "ascending" });
    s = run(s, { type: "positionsSorted", column: "day_pl" });
    expect(screen(s).dashboard.sort).toEqual({ column: "day_pl", direction: "descending" });
    s = run(s, { type: "positionsSorted", column: "symbol" }, { type: "positionsFiltered", text: "spy" });
    expect(screen(s).dashboard).toMatchObject({ sort: { column: "symbol", direction: "ascending" }, filter: "spy" });
    expect(run(s, { type: "autoRefreshSet", minutes: 5 }).autoRefreshMinutes).toBe(5);
    for (const bad of [0.1, -1, 2, Number.NaN]) {
      expect(run(s, { type: "autoRefreshSet", minutes: bad }).autoRefreshMinutes).toBe(0);
    }
    // Switching profiles starts a fresh dashboard.
    expect(screen(run(s, { type: "profileShown", profile: PROFILE })).dashboard).toEqual({ expanded: [], filter: "" });
  });

  it("drops answers for a profile switched away from", () => {
    const s = connected();
    const other = { profileId: "p2" };
    expect(update(s, { type: "accountsLoaded", ...other, accounts: ACCOUNTS, at: new Date() })).toBe(s);
    expect(update(s, { type: "accountsFailed", ...other, error: { kind: "internal", message: "x" }, at: 0 })).toBe(s);
    expect(update(s, { type: "snippetsLoaded", ...other, snippets: [] })).toBe(s);
    expect(
      update(s, {
        type: "detailLoaded",
        profileId: "p1",
        number: "5WX01234",
        detail: detailFor("5WX01234"),
        at: new Date(),
      }),
    ).toBe(s);
  });

  it("reveals without announcing the token, and hides it", () => {
    const shown = update(connected(), { type: "tokenRevealed", token: TOKEN });
    expect(screen(shown).revealed).toBe(TOKEN);
    expect(shown.announcement.text).toBe("Refresh token shown.");
    expect(JSON.stringify(shown.announcement)).not.toContain(TOKEN);
    const hidden = update(shown, { type: "tokenHidden" });
    expect(screen(hidden).revealed).toBeUndefined();
  });

  it("a note is shown and announced; the same note twice is announced twice", () => {
    const once = update(connected(), { type: "noted", text: "Copied." });
    const twice = update(once, { type: "noted", text: "Copied." });
    expect(screen(twice).note).toBe("Copied.");
    expect(twice.announcement.text).toBe("Copied.");
    expect(twice.announcement.seq).toBe(once.announcement.seq + 1);
  });

  it("Refresh now shows the provider's new answer", () => {
    const s = run(initialState(), { type: "started", app: RETURNING(CUSTOM_PROFILE) });
    const fields = [{ name: "token_type", value: "Bearer", masked: false }];
    const next = update(s, { type: "refreshed", profile: { ...CUSTOM_PROFILE, token_fields: fields } });
    expect(screen(next).profile.token_fields).toEqual(fields);
    expect(screen(next).note).toBe(REFRESHED);
  });

  it("renames: typed text is kept, the label is trimmed when saved", () => {
    const typing = run(connected(), { type: "renameStarted" }, { type: "renameTyped", text: "  Swing " });
    expect(screen(typing).renaming).toBe("  Swing ");
    const saved = update(typing, { type: "renamed", id: "p1", label: "  Swing " });
    expect(screen(saved).renaming).toBeUndefined();
    expect(screen(saved).profile.label).toBe("Swing");
    expect(screen(update(typing, { type: "renameCancelled" })).renaming).toBeUndefined();
    // Typing is ignored when not renaming.
    expect(update(connected(), { type: "renameTyped", text: "x" })).toEqual(connected());
  });

  it("the health tick follows the shown profile only, and keeps what is being typed", () => {
    const typing = run(connected(), { type: "renameStarted" }, { type: "renameTyped", text: "Swi" });
    const later = { ...PROFILE, access_token_expires_at: 1_800_000_000 };
    const s = update(typing, { type: "healthRead", app: RETURNING(later) });
    expect(screen(s).profile).toEqual(later);
    expect(screen(s).renaming).toBe("Swi");
    const otherProfile = update(typing, { type: "healthRead", app: RETURNING({ ...later, id: "p9" }) });
    expect(screen(otherProfile).profile).toEqual(PROFILE);
  });

  it("disconnect asks first, then shows the next profile or the wizard", () => {
    const asked = update(connected(), { type: "disconnectAsked" });
    expect(screen(asked).confirmDisconnect).toBe(true);
    expect(screen(update(asked, { type: "disconnectKept" })).confirmDisconnect).toBe(false);
    expect(update(asked, { type: "disconnected", app: FRESH }).screen).toEqual({ name: "broker" });
    const other = { ...PROFILE, id: "p2", label: "Other" };
    const next = update(asked, { type: "disconnected", app: RETURNING(other) });
    expect(next.screen).toEqual(connectedScreen(other));
    expect(next.announcement.text).toBe("Connection removed. Showing Other.");
    const failed = update(asked, { type: "disconnectFailed", message: "Locked." });
    expect(screen(failed).confirmDisconnect).toBe(false);
    expect(screen(failed).note).toBe("Locked.");
  });
});

describe("notices", () => {
  const withNotices = (notices: AppState["notices"]): AppState => ({ ...FRESH, notices });

  it("shows the state's notices and new event notices, each once, and announces them", () => {
    const s = run(initialState(), { type: "started", app: withNotices([{ id: 1, message: "One." }]) });
    expect(s.notices).toEqual([{ id: 1, message: "One." }]);
    expect(s.announcement.text).toBe("One.");
    const again = update(s, { type: "noticeArrived", notice: { id: 1, message: "One." } });
    expect(again).toBe(s);
    const two = update(s, { type: "noticeArrived", notice: { id: 2, message: "Two." } });
    expect(two.notices.map((n) => n.id)).toEqual([1, 2]);
    expect(two.announcement.text).toBe("Two.");
  });

  it("a dismissed notice stays dismissed when a later state read still lists it", () => {
    const s = run(
      initialState(),
      { type: "started", app: withNotices([{ id: 1, message: "One." }]) },
      { type: "noticeDismissed", id: 1 },
      { type: "profilesRead", app: withNotices([{ id: 1, message: "One." }]) },
    );
    expect(s.notices).toEqual([]);
    expect(s.dismissed).toEqual([1]);
  });

  it("the page's own notices get their own ids and are not remembered as dismissed", () => {
    const s = run(fresh(), { type: "localNotice", message: "A." }, { type: "localNotice", message: "B." });
    expect(s.notices).toEqual([
      { id: -1, message: "A.", local: true },
      { id: -2, message: "B.", local: true },
    ]);
    const d = update(s, { type: "noticeDismissed", id: -1 });
    expect(d.notices.map((n) => n.message)).toEqual(["B."]);
    expect(d.dismissed).toEqual([]);
  });

  it("toggles the About box", () => {
    expect(update(fresh(), { type: "aboutToggled" }).aboutOpen).toBe(true);
  });
});
