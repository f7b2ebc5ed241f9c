//! A connected profile's session: the access token lives here, in memory only, and is
//! refreshed from the keyring's refresh token when it is missing or about to expire. One
//! refresh at a time: callers that find the token stale queue on the same lock and reuse the
//! result. A rotated refresh token is written to the keyring before the old one is dropped.

use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{Mutex, Semaphore};

use crate::brokers::portfolio::AccountDetail;
use crate::brokers::{self, Account, Endpoints};
use crate::error::{ErrorKind, Result};
use crate::oauth::{self, TokenField, TokenSet};
use crate::profiles::Profile;
use crate::secret::{AccessToken, RefreshToken};
use crate::vault::Vault;

/// Refresh this long before the broker's expiry (the Tastytrade SDK uses 60 s too).
const EARLY: Duration = Duration::from_secs(60);
/// When a token response has no `expires_in`: Tastytrade's documented 15 minutes.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(900);
/// At most this many API requests in flight per session: enough for a 20-account dashboard's
/// balances and positions in one wave, and a bound on what a very large login sends at once.
pub const MAX_CONCURRENT_REQUESTS: usize = 40;

struct Cached {
    token: AccessToken,
    expires_at: Instant,
    /// Wall-clock times for the UI's token health.
    obtained: SystemTime,
    expires_wall: SystemTime,
    fields: Vec<TokenField>,
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
}

fn cached(set: &TokenSet) -> Cached {
    let lifetime = set.expires_in.unwrap_or(DEFAULT_LIFETIME);
    let now = SystemTime::now();
    Cached {
        token: set.access_token.clone(),
        expires_at: Instant::now() + lifetime,
        obtained: now,
        expires_wall: now + lifetime,
        fields: set.fields.clone(),
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
        }
    }

    /// A valid access token, refreshing it if needed (single flight).
    pub async fn access_token(&self) -> Result<AccessToken> {
        // A rotated refresh token the keyring refused earlier is offered to it on every call.
        self.save_pending();
        let mut slot = self.access.lock().await;
        if let Some(c) = slot.as_ref() {
            if c.expires_at > Instant::now() + EARLY {
                return Ok(c.token.clone());
            }
        }
        let id = &self.profile.id;
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
        .await?;
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
        let token = c.token.clone();
        *slot = Some(c);
        Ok(token)
    }

    /// Forgets `token` if it is still the cached one (after the broker refused it).
    async fn invalidate(&self, token: &AccessToken) {
        let mut slot = self.access.lock().await;
        if slot.as_ref().is_some_and(|c| c.token == *token) {
            *slot = None;
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

    /// The access token's health and the last token response, without refreshing. Does not
    /// wait for a refresh in flight: it reports what is known now.
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

    /// Refreshes now, even if the cached token is still good (the user's "Refresh now").
    pub async fn refresh_now(&self) -> Result<()> {
        {
            let mut slot = self.access.lock().await;
            *slot = None;
        }
        self.access_token().await.map(drop)
    }

    /// Runs an API call with a valid access token, within the session's request bound. A 401
    /// leads to one refresh and one retry, never a loop; concurrent 401s share one refresh.
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
        let token = self.access_token().await?;
        match call(token.clone()).await {
            Err(e) if e.kind == ErrorKind::Unauthorized => {
                self.invalidate(&token).await;
                call(self.access_token().await?).await
            }
            other => other,
        }
    }

    /// The account list.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        let list = self
            .authorized(|t| async move {
                brokers::fetch_accounts(&self.http, &self.endpoints, &t).await
            })
            .await?;
        *self.accounts.lock().unwrap_or_else(|p| p.into_inner()) = list.clone();
        Ok(list)
    }

    /// One account's balances and positions, fetched concurrently. Failures are reported in
    /// the result, never as an error, so one account cannot blank the others.
    pub async fn account_detail(&self, number: &str) -> AccountDetail {
        let failed = |e| AccountDetail {
            number: number.into(),
            balances: None,
            positions: None,
            error: Some(e),
        };
        let known = self
            .accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|a| a.number == number)
            .cloned();
        let account = match known {
            Some(a) => a,
            None => match self
                .accounts()
                .await
                .map(|l| l.into_iter().find(|a| a.number == number))
            {
                Ok(Some(a)) => a,
                Ok(None) => {
                    return failed(crate::error::AppError::new(
                        ErrorKind::InvalidInput,
                        format!(
                            "Account {number} is not in this login's account list. Press Refresh."
                        ),
                    ))
                }
                Err(e) => return failed(e),
            },
        };
        let account = &account;
        let (balances, positions) = futures::join!(
            self.authorized(|t| async move {
                brokers::fetch_balances(&self.http, &self.endpoints, &t, account).await
            }),
            self.authorized(|t| async move {
                brokers::fetch_positions(&self.http, &self.endpoints, &t, account).await
            }),
        );
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
}
