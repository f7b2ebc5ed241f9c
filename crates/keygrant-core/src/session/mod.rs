//! A connected profile's session: the access token lives here, in memory only, and is
//! refreshed from the keyring's refresh token when it is missing or about to expire. One
//! refresh at a time: callers that find the token stale queue on the same lock and reuse the
//! result. A rotated refresh token is written to the keyring before the old one is dropped.

pub mod shared;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{Mutex, Semaphore};

use crate::brokers::http::{rate_limited, RETRY};
use crate::brokers::portfolio::{AccountDetail, Balances, Position};
use crate::brokers::{self, Account, Endpoints};
use crate::error::{AppError, ErrorKind, Result};
use crate::oauth::{self, TokenField, TokenSet};
use crate::profiles::Profile;
use crate::secret::{AccessToken, Expose, IdToken, RefreshToken};
use crate::vault::Vault;

/// The most an access token is refreshed before its expiry (the Tastytrade SDK uses 60 s,
/// docs/brokers.md#tastytrade-tokens-and-lifetimes).
pub const MAX_MARGIN: Duration = Duration::from_secs(60);
/// When a token response has no `expires_in`: Tastytrade's documented 15 minutes
/// (docs/brokers.md#tastytrade-tokens-and-lifetimes).
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(900);
/// The shortest lifetime believed: a shorter `expires_in` (0, negative) is read as this, so
/// a broker's odd answer cannot make every API call refresh.
pub const MIN_LIFETIME: Duration = Duration::from_secs(60);
/// The longest lifetime believed (24 h): a larger `expires_in` (up to `u64::MAX`, `1e30`)
/// is read as this, so no deadline overflows and a token is re-checked at least daily.
pub const MAX_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// How long an access token is used, and how long before that it is refreshed, from the
/// token response's `expires_in` (`None` when absent; docs/brokers.md#oauth-2-token-response).
///
/// Returns `(lifetime, margin)`: the lifetime is `expires_in` (or [`DEFAULT_LIFETIME`])
/// clamped to [`MIN_LIFETIME`] ..= [`MAX_LIFETIME`]; the margin is the smaller of 10 % of
/// that lifetime and [`MAX_MARGIN`] (60 s), so a 60 s token is used for 54 s and a 15-minute
/// one for 14 minutes. Never panics, for any input.
pub fn lifetime_and_margin(expires_in: Option<Duration>) -> (Duration, Duration) {
    let lifetime = expires_in
        .unwrap_or(DEFAULT_LIFETIME)
        .clamp(MIN_LIFETIME, MAX_LIFETIME);
    (lifetime, (lifetime / 10).min(MAX_MARGIN))
}
/// At most this many API requests in flight per session: enough for a 20-account dashboard's
/// balances and positions in one wave, and a bound on what a very large login sends at once.
pub const MAX_CONCURRENT_REQUESTS: usize = 40;
/// How long a batch of account details (brokers answering many accounts per request) serves
/// the detail requests of one dashboard load.
const WAVE_FRESH: Duration = Duration::from_secs(10);

/// The details of one dashboard load for a broker that answers many accounts per request:
/// fetched once, handed out one account at a time.
struct Wave {
    /// The account list generation it was fetched for.
    generation: u64,
    fetched: Instant,
    /// Not yet handed out, by account number.
    details: HashMap<String, AccountDetail>,
}

struct Cached {
    token: AccessToken,
    expires_at: Instant,
    /// Refreshed this long before `expires_at` ([`lifetime_and_margin`]).
    margin: Duration,
    /// Wall-clock times for the UI's token health.
    obtained: SystemTime,
    expires_wall: SystemTime,
    fields: Vec<TokenField>,
    /// The response's `id_token` and `scope`, for the doctor.
    id_token: Option<IdToken>,
    scope: Option<String>,
}

/// What the doctor reads from the token response that gave the cached access token.
#[derive(Debug, Clone, Default)]
pub struct LastTokenResponse {
    /// Its `id_token`, when sent.
    pub id_token: Option<IdToken>,
    /// Its `scope` (space-separated), when sent.
    pub scope: Option<String>,
}

/// What the UI may know about the access token: when it was obtained and when it expires,
/// and the last token response's fields, masked.
#[derive(Debug, Clone, Default)]
pub struct TokenStatus {
    /// When the current access token was obtained; `None` before the first refresh.
    pub obtained: Option<SystemTime>,
    /// When it expires (wall clock).
    pub expires: Option<SystemTime>,
    /// The last token response's fields, masked.
    pub fields: Vec<TokenField>,
    /// A rotated refresh token is held in memory because the keyring refused it.
    pub unsaved_refresh_token: bool,
}

/// One connected profile while the app runs: the access token in memory, refreshed one at a
/// time (single flight), rotated refresh tokens saved before use, the account API calls.
pub struct Session {
    /// The saved connection this session serves.
    pub profile: Profile,
    endpoints: Endpoints,
    vault: Vault,
    http: reqwest::Client,
    access: Mutex<Option<Cached>>,
    slots: Semaphore,
    /// A rotated refresh token the keyring has not taken yet (it refused the write).
    pending_refresh_token: std::sync::Mutex<Option<RefreshToken>>,
    /// The last account list, for the account each detail request names.
    accounts: std::sync::Mutex<Vec<Account>>,
    /// Bumped by every account list: details fetched for an older one are not handed out.
    generation: AtomicU64,
    /// Batched details of the current dashboard load (single flight: held while fetching).
    wave: Mutex<Option<Wave>>,
    /// Until when the broker's rate limit holds this session's requests back.
    limited_until: std::sync::Mutex<Option<Instant>>,
    /// Where the cross-process refresh lock lives ([`shared`]); `None`: this process only.
    lock_dir: Option<PathBuf>,
}

impl Cached {
    /// Still usable without a refresh: not within its margin of expiry.
    fn fresh(&self) -> bool {
        self.expires_at > Instant::now() + self.margin
    }
}

fn cached(set: &TokenSet) -> Cached {
    let (lifetime, margin) = lifetime_and_margin(set.expires_in);
    let now = SystemTime::now();
    Cached {
        token: set.access_token.clone(),
        expires_at: Instant::now() + lifetime,
        margin,
        obtained: now,
        expires_wall: now + lifetime,
        fields: set.fields.clone(),
        id_token: set.id_token.clone(),
        scope: set.scope.clone(),
    }
}

impl Session {
    /// A session for `profile` against `endpoints`; holds no access token until the first call.
    pub fn new(
        profile: Profile,
        endpoints: Endpoints,
        vault: Vault,
        http: reqwest::Client,
        tokens: Option<&TokenSet>,
    ) -> Self {
        Session {
            profile,
            endpoints,
            vault,
            http,
            access: Mutex::new(tokens.map(cached)),
            slots: Semaphore::new(MAX_CONCURRENT_REQUESTS),
            pending_refresh_token: Default::default(),
            accounts: Default::default(),
            generation: AtomicU64::new(0),
            wave: Mutex::new(None),
            limited_until: Default::default(),
            lock_dir: None,
        }
    }

    /// Shares refreshes with other Keygrant processes through a lock file under `config_dir`
    /// and the keyring's shared access token ([`shared`]).
    pub fn with_lock_dir(mut self, config_dir: PathBuf) -> Self {
        self.lock_dir = Some(config_dir);
        self
    }

    /// Leaves the access token of the sign-in this session was made from in the keyring for
    /// other processes, so they use it instead of refreshing (which, at a broker that rotates,
    /// retires the refresh token the window holds). Best effort, like every share.
    pub fn share_sign_in(&self) {
        if let Ok(slot) = self.access.try_lock() {
            if let Some(c) = slot.as_ref() {
                self.share(c);
            }
        }
    }

    /// The access token another process left in the keyring, if it is not due yet.
    fn shared_token(&self) -> Option<Cached> {
        let stored =
            shared::SharedToken::parse(&self.vault.shared_access_token(&self.profile.id)?)?;
        let left = stored.usable_for(SystemTime::now())?;
        let lifetime = Duration::from_secs(stored.expires.saturating_sub(stored.obtained));
        let (_, margin) = lifetime_and_margin(Some(lifetime));
        let obtained = std::time::UNIX_EPOCH + Duration::from_secs(stored.obtained);
        Some(Cached {
            token: AccessToken::new(stored.access_token),
            expires_at: Instant::now() + left + margin,
            margin,
            obtained,
            expires_wall: std::time::UNIX_EPOCH + Duration::from_secs(stored.expires),
            // The id_token is not shared; the doctor refreshes for its own.
            id_token: None,
            scope: stored
                .fields
                .iter()
                .find(|f| f.name == "scope" && !f.masked)
                .map(|f| f.value.clone()),
            fields: stored.fields,
        })
    }

    /// Leaves `c` in the keyring for other processes (best effort: they refresh otherwise).
    fn share(&self, c: &Cached) {
        if self.lock_dir.is_none() {
            return;
        }
        let lifetime = c
            .expires_wall
            .duration_since(c.obtained)
            .unwrap_or_default();
        let stored = shared::SharedToken::new(&c.token, c.obtained, lifetime, &c.fields);
        if let Err(e) = self
            .vault
            .set_shared_access_token(&self.profile.id, &stored.to_json())
        {
            tracing::debug!(kind = ?e.kind, "could not share the access token; other processes will refresh");
        }
    }

    /// A valid access token, refreshing it if needed (single flight).
    pub async fn access_token(&self) -> Result<AccessToken> {
        self.token(false).await
    }

    /// The cached access token unless it is due (or `force`), else one refresh. A failed
    /// refresh leaves the cached token in place: while it has not expired, calls go on using it.
    async fn token(&self, force: bool) -> Result<AccessToken> {
        // A rotated refresh token the keyring refused earlier is offered to it on every call.
        self.save_pending();
        let mut slot = self.access.lock().await;
        if let Some(c) = slot.as_ref() {
            if !force && c.fresh() {
                return Ok(c.token.clone());
            }
        }
        let id = &self.profile.id;
        // One refresh across processes: wait for the others, then use what they obtained.
        let _lock = match &self.lock_dir {
            Some(dir) => Some(shared::RefreshLock::acquire(dir, id).await?),
            None => None,
        };
        if !force && self.lock_dir.is_some() {
            if let Some(c) = self.shared_token() {
                tracing::debug!(profile = %id, "using the access token another process obtained");
                let token = c.token.clone();
                *slot = Some(c);
                return Ok(token);
            }
        }
        // The newest refresh token: one the keyring has not taken yet, else the keyring's.
        let pending = self
            .pending_refresh_token
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let refresh_token = match pending {
            Some(p) => p,
            None => self.vault.refresh_token(id)?,
        };
        let client_secret = self.vault.client_secret(id)?;
        tracing::info!(profile = %id, "refreshing the access token");
        let set = oauth::refresh(
            &self.http,
            &self.profile.client_id,
            &client_secret,
            &self.endpoints,
            &refresh_token,
        )
        .await
        .map_err(|e| crate::expiry::explain_refusal(&self.profile, e, crate::expiry::now_unix()))?;
        if let Some(rotated) = set.refresh_token.as_ref().filter(|r| **r != refresh_token) {
            // Persist the new refresh token before the old one goes out of scope. If the
            // keyring refuses, the token is kept here and written on every later call until
            // the keyring takes it: it is never dropped.
            *self
                .pending_refresh_token
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(rotated.clone());
            self.save_pending();
        }
        let c = cached(&set);
        self.share(&c);
        let token = c.token.clone();
        *slot = Some(c);
        Ok(token)
    }

    /// The `id_token` and `scope` of the response that gave the cached access token; `None`
    /// when no token is cached. Never refreshes.
    pub async fn last_token_response(&self) -> Option<LastTokenResponse> {
        self.access
            .lock()
            .await
            .as_ref()
            .map(|c| LastTokenResponse {
                id_token: c.id_token.clone(),
                scope: c.scope.clone(),
            })
    }

    /// The cached access token, if any, without refreshing (the doctor keeps it out of its
    /// report).
    pub async fn cached_access_token(&self) -> Option<AccessToken> {
        self.access.lock().await.as_ref().map(|c| c.token.clone())
    }

    /// Forgets `token` if it is still the cached one (after the broker refused it).
    async fn invalidate(&self, token: &AccessToken) {
        let mut slot = self.access.lock().await;
        if slot.as_ref().is_some_and(|c| c.token == *token) {
            *slot = None;
        }
        // Other processes must not be handed it either.
        if self.lock_dir.is_some() {
            let stored = self
                .vault
                .shared_access_token(&self.profile.id)
                .and_then(|json| shared::SharedToken::parse(&json));
            if stored.is_some_and(|s| s.access_token == token.expose()) {
                let _ = self.vault.delete_shared_access_token(&self.profile.id);
            }
        }
    }

    /// The broker endpoints this session calls.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Seconds until the cached access token expires, if there is one.
    pub async fn expires_in(&self) -> Option<Duration> {
        self.access
            .lock()
            .await
            .as_ref()
            .map(|c| c.expires_at.saturating_duration_since(Instant::now()))
    }

    /// Writes a rotated refresh token the keyring refused earlier, if any. Returns whether one
    /// is still waiting.
    pub fn save_pending(&self) -> bool {
        let mut pending = self
            .pending_refresh_token
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let Some(token) = pending.as_ref() else {
            return false;
        };
        match self.vault.set_refresh_token(&self.profile.id, token) {
            Ok(()) => {
                tracing::info!(profile = %self.profile.id, "stored a rotated refresh token");
                *pending = None;
                false
            }
            Err(e) => {
                tracing::warn!(profile = %self.profile.id, kind = ?e.kind, "the keyring refused the rotated refresh token; kept in memory, retrying on the next call");
                true
            }
        }
    }

    /// Holds `token` as a refresh token the keyring has not taken yet (it refused the write
    /// of a token the broker just issued); shown as unsaved until a write succeeds.
    pub fn keep_unsaved_refresh_token(&self, token: RefreshToken) {
        *self
            .pending_refresh_token
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(token);
    }

    /// Writes the refresh token waiting for the keyring now (the user's "Retry save"). Ok when
    /// none is waiting. Errors: the keyring's [`crate::error::ErrorKind::Keyring`], the token
    /// still held.
    pub fn try_save_pending(&self) -> Result<()> {
        let mut pending = self
            .pending_refresh_token
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(token) = pending.as_ref() {
            self.vault.set_refresh_token(&self.profile.id, token)?;
            tracing::info!(profile = %self.profile.id, "stored the waiting refresh token");
            *pending = None;
        }
        Ok(())
    }

    /// The newest refresh token: one waiting for the keyring, else the keyring's.
    pub fn newest_refresh_token(&self) -> Result<RefreshToken> {
        let pending = self
            .pending_refresh_token
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match pending {
            Some(t) => Ok(t),
            None => self.vault.refresh_token(&self.profile.id),
        }
    }

    /// Whether a rotated refresh token is waiting for the keyring.
    pub fn has_unsaved_refresh_token(&self) -> bool {
        self.pending_refresh_token
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// The access token's health without waiting for a refresh in progress.
    pub fn status(&self) -> TokenStatus {
        let mut status = match self.access.try_lock() {
            Ok(slot) => slot
                .as_ref()
                .map(|c| TokenStatus {
                    obtained: Some(c.obtained),
                    expires: Some(c.expires_wall),
                    fields: c.fields.clone(),
                    unsaved_refresh_token: false,
                })
                .unwrap_or_default(),
            Err(_) => TokenStatus::default(),
        };
        status.unsaved_refresh_token = self.has_unsaved_refresh_token();
        status
    }

    /// Refreshes in the background when the cached token expires within `within`, so calls
    /// never wait for a refresh. Does nothing without a cached token (nothing is in use).
    pub async fn refresh_if_expiring(&self, within: Duration) -> Result<bool> {
        let due = {
            let slot = self.access.lock().await;
            slot.as_ref()
                .is_some_and(|c| c.expires_at <= Instant::now() + within)
        };
        if due {
            self.refresh_now().await?;
        }
        Ok(due)
    }

    /// Refreshes now, even if the cached token is still good (the user's "Refresh now"). If
    /// the refresh fails, the cached token is kept for the calls that follow.
    pub async fn refresh_now(&self) -> Result<()> {
        self.token(true).await.map(drop)
    }

    /// Runs an API call with a valid access token, within the session's request bound.
    ///
    /// A 401 leads to one refresh and one retry, never a loop; concurrent 401s share one
    /// refresh; a 403 is returned as it is (never refreshed). A 429 holds the whole session
    /// back until the limit resets ([`Session::hold_back`]): a short limit (up to
    /// [`RETRY`]`.max_retry_after`) is waited out once, a longer one fails this call and every
    /// later one until then without sending anything, [`ErrorKind::RateLimited`] with the
    /// seconds left (docs/brokers.md#tradestation-rate-limits).
    async fn authorized<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(AccessToken) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let _slot = self
            .slots
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let (mut refreshed, mut waited) = (false, false);
        loop {
            waited |= self.wait_out_limit().await?;
            let token = self.access_token().await?;
            match call(token.clone()).await {
                Err(e) if e.kind == ErrorKind::Unauthorized && !refreshed => {
                    refreshed = true;
                    self.invalidate(&token).await;
                }
                Err(e) if e.kind == ErrorKind::RateLimited => {
                    let wait = e
                        .retry_after_secs
                        .map(Duration::from_secs)
                        .unwrap_or(if waited {
                            RETRY.unknown_limit
                        } else {
                            RETRY.backoff(1)
                        });
                    self.hold_back(wait);
                    if waited || wait > RETRY.max_retry_after {
                        return Err(self.limit_error(wait));
                    }
                }
                other => return other,
            }
        }
    }

    /// Holds every request of this session back for `wait` (or longer, if already held).
    fn hold_back(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut slot = self.limited_until.lock().unwrap_or_else(|p| p.into_inner());
        if !slot.is_some_and(|u| u >= until) {
            *slot = Some(until);
        }
        tracing::info!(
            profile = %self.profile.id,
            secs = wait.as_secs(),
            "rate limited; holding this session's requests back"
        );
    }

    /// Before a request: nothing when no limit holds; a short one is slept out (`true`); a
    /// longer one is [`ErrorKind::RateLimited`] with the seconds left, nothing sent.
    async fn wait_out_limit(&self) -> Result<bool> {
        let left = self
            .limited_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map_or(Duration::ZERO, |u| {
                u.saturating_duration_since(Instant::now())
            });
        if left.is_zero() {
            return Ok(false);
        }
        if left > RETRY.max_retry_after {
            return Err(self.limit_error(left));
        }
        tokio::time::sleep(left).await;
        Ok(true)
    }

    fn limit_error(&self, wait: Duration) -> AppError {
        rate_limited(self.endpoints.broker.display_name(), Some(wait))
    }

    /// The account list. Starts a new dashboard load: batched details of the previous list
    /// are not handed out any more.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        let list = self
            .authorized(|t| async move {
                brokers::fetch_accounts(&self.http, &self.endpoints, &t).await
            })
            .await?;
        *self.accounts.lock().unwrap_or_else(|p| p.into_inner()) = list.clone();
        self.generation.fetch_add(1, Ordering::SeqCst);
        Ok(list)
    }

    /// One account's balances and positions. Failures are reported in the result, never as
    /// an error, so one account cannot blank the others. For a broker answering many accounts
    /// per request (`BrokerApi::accounts_per_call` > 1, TradeStation) the first call of a
    /// dashboard load fetches every known account's details at once and later calls are
    /// served from that batch; otherwise the account's balances and positions are fetched
    /// together.
    pub async fn account_detail(&self, number: &str) -> AccountDetail {
        let account = match self.known_account(number).await {
            Ok(a) => a,
            Err(e) => return detail(number, Err(e.clone()), Err(e)),
        };
        let per_call = self
            .endpoints
            .broker
            .api()
            .map_or(1, |api| api.accounts_per_call);
        if per_call > 1 {
            self.detail_from_wave(&account).await
        } else {
            let mut one = self.fetch_details(std::slice::from_ref(&account)).await;
            one.remove(number)
                .expect("fetch_details answers every account")
        }
    }

    /// The account `number` of the last list, fetching the list if it is not there. Errors:
    /// those of the list, or [`ErrorKind::InvalidInput`] for an account not in it.
    async fn known_account(&self, number: &str) -> Result<Account> {
        let find = |list: &[Account]| list.iter().find(|a| a.number == number).cloned();
        let known = find(&self.accounts.lock().unwrap_or_else(|p| p.into_inner()));
        if let Some(a) = known {
            return Ok(a);
        }
        find(&self.accounts().await?).ok_or_else(|| {
            AppError::new(
                ErrorKind::InvalidInput,
                format!("Account {number} is not in this login's account list. Press Refresh."),
            )
        })
    }

    /// `account`'s detail from the current batch, or from a new batch of every known account
    /// (single flight: concurrent callers wait for the one fetch).
    async fn detail_from_wave(&self, account: &Account) -> AccountDetail {
        let mut wave = self.wave.lock().await;
        let generation = self.generation.load(Ordering::SeqCst);
        if !wave
            .as_ref()
            .is_some_and(|w| w.generation == generation && w.fetched.elapsed() < WAVE_FRESH)
        {
            *wave = None;
        }
        if let Some(w) = wave.as_mut() {
            if let Some(d) = w.details.remove(&account.number) {
                if w.details.is_empty() {
                    *wave = None;
                }
                return d;
            }
        }
        let mut accounts = self
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if !accounts.iter().any(|a| a.number == account.number) {
            accounts.push(account.clone());
        }
        let mut details = self.fetch_details(&accounts).await;
        let mine = details
            .remove(&account.number)
            .expect("fetch_details answers every account");
        *wave = (!details.is_empty()).then(|| Wave {
            generation,
            fetched: Instant::now(),
            details,
        });
        mine
    }

    /// Balances and positions of `accounts`, the two requests (or batches) concurrently; one
    /// detail per account, each with its own error.
    async fn fetch_details(&self, accounts: &[Account]) -> HashMap<String, AccountDetail> {
        let combined = self
            .endpoints
            .broker
            .api()
            .is_ok_and(|api| api.details.is_some());
        if combined {
            // One request answers both (Schwab's `accounts?fields=positions`).
            let both = self
                .authorized(|t| async move {
                    brokers::fetch_details(&self.http, &self.endpoints, &t, accounts)
                        .await
                        .unwrap_or_else(|| Err(AppError::internal("no combined details request")))
                })
                .await
                .map(|v| v.into_iter().map(Ok).collect::<Vec<Result<_>>>());
            let mut both = spread(both, accounts.len()).into_iter();
            return accounts
                .iter()
                .map(|a| {
                    let (b, p) = match both.next().unwrap_or_else(too_few) {
                        Ok((b, p)) => (b, p),
                        Err(e) => (Err(e.clone()), Err(e)),
                    };
                    (a.number.clone(), detail(&a.number, b, p))
                })
                .collect();
        }
        let (balances, positions) = futures::join!(
            self.authorized(|t| async move {
                brokers::fetch_balances(&self.http, &self.endpoints, &t, accounts).await
            }),
            self.authorized(|t| async move {
                brokers::fetch_positions(&self.http, &self.endpoints, &t, accounts).await
            }),
        );
        let mut balances = spread(balances, accounts.len()).into_iter();
        let mut positions = spread(positions, accounts.len()).into_iter();
        accounts
            .iter()
            .map(|a| {
                let b = balances.next().unwrap_or_else(too_few);
                let p = positions.next().unwrap_or_else(too_few);
                (a.number.clone(), detail(&a.number, b, p))
            })
            .collect()
    }
}

/// A broker module answered fewer results than accounts asked (a bug).
fn too_few<T>() -> Result<T> {
    Err(AppError::internal(
        "The broker module answered too few accounts; please report this.",
    ))
}

/// One result per account: the call's own, or its failure for each of `n` accounts.
fn spread<T>(r: Result<Vec<Result<T>>>, n: usize) -> Vec<Result<T>> {
    match r {
        Ok(v) => v,
        Err(e) => (0..n).map(|_| Err(e.clone())).collect(),
    }
}

/// An account's detail from its balances and positions; the first failure is its error.
fn detail(
    number: &str,
    balances: Result<Balances>,
    positions: Result<Vec<Position>>,
) -> AccountDetail {
    let error = balances
        .as_ref()
        .err()
        .or(positions.as_ref().err())
        .cloned();
    AccountDetail {
        number: number.into(),
        balances: balances.ok(),
        positions: positions.ok(),
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_clamped_and_the_margin_is_a_tenth_up_to_a_minute() {
        let secs = Duration::from_secs;
        let of = |s: u64| lifetime_and_margin(Some(secs(s)));
        // Absent: Tastytrade's 15 minutes, refreshed a minute early.
        assert_eq!(lifetime_and_margin(None), (secs(900), secs(60)));
        // 0, 1, 30, 59: clamped up to 60 s, refreshed 6 s early.
        for s in [0, 1, 30, 59, 60] {
            assert_eq!(of(s), (secs(60), secs(6)), "{s}");
        }
        assert_eq!(of(61), (secs(61), Duration::from_millis(6100)));
        assert_eq!(of(599), (secs(599), Duration::from_millis(59900)));
        assert_eq!(of(600), (secs(600), secs(60)));
        assert_eq!(of(1200), (secs(1200), secs(60)));
        // Past a day, and the largest values: clamped to 24 h, no overflow.
        for s in [86_400, 86_401, u64::MAX / 2, u64::MAX] {
            assert_eq!(of(s), (secs(86_400), secs(60)), "{s}");
        }
        assert_eq!(
            lifetime_and_margin(Some(Duration::MAX)),
            (secs(86_400), secs(60))
        );
        // Whatever the input, a deadline can be computed and the token is used a while.
        for s in [0, 30, 900, u64::MAX] {
            let (lifetime, margin) = of(s);
            let _ = Instant::now() + lifetime;
            assert!(lifetime - margin >= secs(54));
        }
    }
}
