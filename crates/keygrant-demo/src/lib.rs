//! The Demo broker: a faithful fake of the brokers' OAuth and REST APIs on 127.0.0.1, so a
//! new user and every test can run the whole flow with no account and no network.
//!
//! Three dialects on one server (docs/brokers.md#demo-broker):
//! - Tastytrade at the root: `GET /auth.html` (consent page with Approve and Deny),
//!   `POST /oauth/token` (form or JSON body, client credentials in the body,
//!   `User-Agent: <product>/<version>` required), `GET /customers/me`,
//!   `GET /customers/me/accounts` (kebab-case JSON in `data.items`).
//! - TradeStation under `/ts/`: `GET /ts/authorize` (needs `audience` and the `openid`
//!   scope), `POST /ts/oauth/token` (form body; a refresh token only with `offline_access`;
//!   `id_token` always), `GET /ts/v3/brokerage/accounts` (PascalCase JSON).
//! - Charles Schwab under `/schwab/`: `GET /schwab/v1/oauth/authorize` (an `https://127.0.0.1`
//!   redirect only; the code in the redirect ends with `@`, sent as `%40`, and lives 30 s),
//!   `POST /schwab/v1/oauth/token` (HTTP Basic client authentication only; access tokens
//!   30 minutes; the refresh token dies 7 days after the sign-in and a newer sign-in
//!   supersedes it), `GET /schwab/trader/v1/accounts/accountNumbers` (number to hash),
//!   `GET /schwab/trader/v1/accounts[/{hash}]?fields=positions`,
//!   `GET /schwab/trader/v1/userPreference` (camelCase JSON, numbers as JSON numbers; 120 API
//!   requests a minute, then 429; every response carries `Schwab-Client-CorrelId`).
//!
//! [`DemoBroker::advance_clock`] moves the Demo broker's "now" forward (code and token
//! lifetimes, the Schwab 7 days and rate-limit window), so tests need not wait.
//!
//! Refresh tokens are self-verifying (an HMAC under a key fixed for the Demo broker), so a
//! restarted Demo broker, such as the one inside a reopened app, accepts the tokens an earlier
//! one issued, the way a real broker's refresh tokens outlive a session. They are shaped like
//! the real ones (docs/brokers.md#demo-broker): Tastytrade's are JWTs with header
//! `typ: rt+jwt` and claims `iss`, `aud` (the client ID), `sub`, `iat`, `jti`, `scope`;
//! TradeStation's are opaque (`demo-ts-rt-<nonce>.<mac>`), and its token responses carry an
//! `id_token` JWT whose `aud` is the client ID. Schwab's are `demo-schwab-rt-<claims>.<mac>`,
//! the claims (base64url JSON) carrying the sign-in time (`auth_time`, Unix seconds).

#![warn(missing_docs)]

mod pages;
mod portfolio;
pub use pages::escape as escape_html;
#[cfg(feature = "faults")]
mod faults;
#[cfg(feature = "faults")]
pub use faults::FAULTS;
mod schwab;
mod tasty;
mod ts;
pub use schwab::{SCHWAB_ACCESS_TOKEN_SECS, SCHWAB_CODE_SECS, SCHWAB_REFRESH_TOKEN_SECS};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

/// The client ID the Demo broker accepts. Shown in the wizard so the user can paste it.
pub const DEMO_CLIENT_ID: &str = "5a3c0d2e-demo-4b1f-9c7a-keygrant0001";
/// The client secret the Demo broker accepts (a published fake, not a credential).
pub const DEMO_CLIENT_SECRET: &str = "demo-secret-7f3a9c2b41d84e0f9b6a5c1d2e3f4a5b";
/// The App Key the Schwab dialect accepts: 32 letters and digits, the shape of a Schwab App Key
/// (docs/brokers.md#schwab-oauth), so Keygrant's App Key check passes on it as on a real one.
pub const DEMO_SCHWAB_APP_KEY: &str = "KGDEMOSCHWAB5a3c0d2e4b1f9c7a0001";
/// The Secret the Schwab dialect accepts: 16 letters and digits (a published fake).
pub const DEMO_SCHWAB_SECRET: &str = "KGDEMOsecret7f3a";
/// An HMAC-SHA256 keyed by `purpose` and `secret`.
fn mac_keyed(purpose: &str, secret: &str) -> Hmac<Sha256> {
    let key = Sha256::digest(format!("{purpose}:{secret}"));
    Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length")
}

/// The `iss` of the tokens a Demo broker issues unless [`DemoConfig::issuer`] names another
/// (an instance standing in for a real broker's environment takes that broker's issuer).
pub const DEMO_ISSUER: &str = "keygrant-demo";
/// Access tokens the Demo broker issues last as long as Tastytrade's: 15 minutes.
pub const ACCESS_TOKEN_SECS: u64 = 900;

/// Which OAuth application the Demo broker knows. Two instances with different secrets stand
/// in for a broker's production and sandbox, whose credentials do not work on each other.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// The client ID it accepts.
    pub client_id: String,
    /// The client secret it accepts.
    pub client_secret: String,
    /// The App Key its Schwab dialect accepts (Schwab's shape, unlike `client_id`).
    pub schwab_app_key: String,
    /// The Secret its Schwab dialect accepts.
    pub schwab_secret: String,
    /// How many accounts each login has: the three seeded ones per dialect when `None`, else
    /// that many generated ones (the benchmark asks for 20).
    pub accounts: Option<usize>,
    /// The `iss` claim of its JWTs (refresh tokens, ID tokens); [`DEMO_ISSUER`] when `None`.
    /// Tests give the instance standing in for production or sandbox that environment's
    /// issuer, so a token says where it came from as a real one does.
    pub issuer: Option<String>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: DEMO_CLIENT_SECRET.into(),
            schwab_app_key: DEMO_SCHWAB_APP_KEY.into(),
            schwab_secret: DEMO_SCHWAB_SECRET.into(),
            accounts: None,
            issuer: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Tasty,
    Ts,
    Schwab,
}

impl Dialect {
    /// A short name for the dialect inside self-verifying access tokens.
    fn tag(self) -> &'static str {
        match self {
            Dialect::Tasty => "tt",
            Dialect::Ts => "ts",
            Dialect::Schwab => "sw",
        }
    }

    fn refresh_prefix(self) -> &'static str {
        match self {
            Dialect::Tasty => "demo-rt-",
            Dialect::Ts => "demo-ts-rt-",
            Dialect::Schwab => "demo-schwab-rt-",
        }
    }

    /// How long its authorization codes live.
    fn code_lifetime(self) -> Duration {
        match self {
            Dialect::Schwab => Duration::from_secs(SCHWAB_CODE_SECS),
            _ => CODE_LIFETIME,
        }
    }
}

pub(crate) struct PendingCode {
    dialect: Dialect,
    redirect_uri: String,
    code_challenge: Option<String>,
    scope: String,
    issued: Instant,
}

#[derive(Default)]
pub(crate) struct DemoState {
    codes: HashMap<String, PendingCode>,
    access_tokens: HashMap<String, (Dialect, Instant)>,
    /// Counts of requests by path, for tests that check what the app sent.
    pub(crate) hits: HashMap<String, u64>,
    token_requests: Vec<TokenRequestRecord>,
    /// Added to every response's time (switchable while running).
    latency: Duration,
    /// Accounts whose balances and positions fail (per-account failure isolation).
    failing_accounts: Vec<String>,
    in_flight: usize,
    max_in_flight: usize,
    /// Faults for the next API requests (not the sign-in pages or token endpoints), in order.
    api_faults: std::collections::VecDeque<ApiFault>,
    /// Every refresh answers `invalid_grant` (the user deleted the grant).
    revoked: bool,
    /// Every refresh returns a new refresh token. The one it replaces keeps working until the
    /// new one is first used (a grace like Auth0's reuse interval), then is revoked.
    rotate: bool,
    /// Code exchanges answer without `refresh_token`.
    omit_refresh_token: bool,
    /// Rotated refresh token -> the one it replaced.
    parents: HashMap<String, String>,
    retired: std::collections::HashSet<String>,
    /// Faults for the next token requests (either dialect), in order.
    token_faults: std::collections::VecDeque<TokenFault>,
    /// How successful token responses are reshaped, when set.
    token_shape: Option<TokenShape>,
    /// API requests received (every one, faulted or not; sign-in and token endpoints not).
    api_requests: u64,
    /// A rate-limit window: every API request is answered 429 while it lasts.
    limit: Option<LimitWindow>,
    /// API reads answer 403 (a grant without the read scope, a restricted account).
    forbidden: bool,
    /// Tastytrade dialect: the `Accept-Version` values accepted (a missing header always is);
    /// any other is answered 406. `None` accepts every value.
    accept_versions: Option<Vec<String>>,
    /// Tastytrade dialect: every API request is answered 406, with or without a version.
    reject_every_version: bool,
    /// Tastytrade dialect: the `Accept-Version` of every API request, in order.
    versions_seen: Vec<Option<String>>,
    /// Sparse payloads: balances with few or none of the usual fields, quantities as numbers.
    pub(crate) sparse: bool,
    /// How far [`DemoBroker::advance_clock`] has moved the Demo broker's "now" ahead.
    clock: Duration,
    /// Schwab dialect: the sign-in (code exchange) whose refresh tokens are alive, by its
    /// `sid`; an earlier sign-in's tokens are superseded. Empty after a restart, when every
    /// verified token within its 7 days is accepted.
    schwab_sign_in: Option<String>,
    /// Schwab dialect: the sliding rate-limit window of its API requests.
    schwab_window: schwab::RateWindow,
}

impl DemoState {
    /// The Demo broker's "now": the real time plus what [`DemoBroker::advance_clock`] added.
    fn now(&self) -> Instant {
        Instant::now() + self.clock
    }
}

/// A fault the Demo broker can put on a token request (`/oauth/token`, `/ts/oauth/token`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFault {
    /// Answer with this status (503, 502, 429, ...) and an HTML body, as a proxy or CDN does.
    Status(u16),
    /// 400 `{"error_code": "invalid_request", "error_description": "User is not a TastyTrade
    /// customer"}`, the intermittent sandbox refusal that clears on retry
    /// (docs/brokers.md#tastytrade-token-errors, tastyware/tastytrade#351).
    NotACustomer,
}

/// How the Demo broker reshapes its successful token responses, to play the odd token
/// servers of docs/brokers.md#oauth-2-token-response.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenShape {
    /// JSON fields replaced (`Some`, any JSON value, e.g. `"3600"`, `-5`, `1e30`) or removed
    /// (`None`) in the answer's body.
    pub fields: Vec<(String, Option<serde_json::Value>)>,
    /// The `Content-Type` to answer with instead of `application/json`.
    pub content_type: Option<String>,
    /// The 2xx status to answer with instead of 200.
    pub status: Option<u16>,
}

impl Shared {
    /// Whether the `sparse` switch is on.
    pub(crate) fn sparse(&self) -> bool {
        self.lock().sparse
    }
}

/// A rate-limit window of the Demo broker (fault switch `rate_limit`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct LimitWindow {
    /// API requests still let through before the window starts.
    pub(crate) budget: u64,
    /// How long the window lasts once it starts.
    pub(crate) length: Duration,
    /// When it ends; set by the first limited request.
    pub(crate) until: Option<Instant>,
    /// Which header tells the client when to come back.
    pub(crate) header: LimitHeader,
}

/// How a 429 says when the limit resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitHeader {
    /// `Retry-After: <seconds>` (RFC 9110 section 10.2.3).
    RetryAfter,
    /// `X-RateLimit-Reset: <seconds>`, as TradeStation reportedly sends
    /// (docs/brokers.md#tradestation-rate-limits).
    ResetSeconds,
    /// `X-RateLimit-Reset: <Unix time of the reset>`, the other convention of that header.
    ResetEpoch,
}

/// A fault the Demo broker can put on an API request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiFault {
    /// Answer with this status (500, 502, 503, ...) and an error body.
    Status(u16),
    /// 429 with `Retry-After: <seconds>`.
    RateLimited(u64),
    /// 429 with `X-RateLimit-Reset: <seconds>` and no `Retry-After` (TradeStation's way,
    /// docs/brokers.md#tradestation-rate-limits).
    RateLimitReset(u64),
    /// Start a 200 answer, then drop the connection mid-body.
    Reset,
    /// Answer only after this long (longer than the client waits: a timeout).
    Stall(Duration),
}

/// What a client sent to a token endpoint, minus the values: for wire-format tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequestRecord {
    /// The token endpoint's path, e.g. `/oauth/token`.
    pub path: String,
    /// The request's `Content-Type`.
    pub content_type: String,
    /// The request's `User-Agent`.
    pub user_agent: String,
    /// Whether HTTP Basic client authentication was sent.
    pub has_authorization_header: bool,
    /// The `grant_type` parameter (`authorization_code` or `refresh_token`).
    pub grant_type: String,
    /// The body's parameter names, sorted.
    pub fields: Vec<String>,
}

#[derive(Clone)]
pub(crate) struct Shared {
    state: Arc<Mutex<DemoState>>,
    config: Arc<DemoConfig>,
    accounts: Arc<[Vec<OwnedAccount>; 3]>,
}

/// An account a Demo login sees.
#[derive(Debug, Clone)]
pub(crate) struct OwnedAccount {
    pub number: String,
    pub nickname: String,
    pub type_name: String,
    pub margin_or_cash: String,
    /// Its place in the login's list (portfolio seeding).
    pub index: usize,
}

impl OwnedAccount {
    pub fn positions(&self) -> Vec<portfolio::DemoPosition> {
        portfolio::positions(&self.number, self.index)
    }

    pub fn balances(&self) -> portfolio::DemoBalances {
        portfolio::balances(
            &self.number,
            self.margin_or_cash == "Margin",
            &self.positions(),
        )
    }
}

fn account_list(dialect: Dialect, count: Option<usize>) -> Vec<OwnedAccount> {
    let seeds = match dialect {
        Dialect::Tasty => SEED_ACCOUNTS,
        Dialect::Ts => TS_SEED_ACCOUNTS,
        Dialect::Schwab => SCHWAB_SEED_ACCOUNTS,
    };
    match count {
        None => seeds
            .iter()
            .enumerate()
            .map(|(index, a)| OwnedAccount {
                number: a.number.into(),
                nickname: a.nickname.into(),
                type_name: a.type_name.into(),
                margin_or_cash: a.margin_or_cash.into(),
                index,
            })
            .collect(),
        Some(n) => (0..n)
            .map(|index| {
                let margin = index % 2 == 0;
                OwnedAccount {
                    number: match dialect {
                        Dialect::Tasty => format!("5WY{index:05}"),
                        Dialect::Ts => format!("1190{index:04}"),
                        Dialect::Schwab => format!("2877{index:04}"),
                    },
                    // Schwab: every third account has no nickname, as some real ones.
                    nickname: if dialect == Dialect::Schwab && index % 3 == 2 {
                        String::new()
                    } else {
                        format!("Demo account {}", index + 1)
                    },
                    type_name: match (dialect, margin) {
                        (Dialect::Tasty, _) => "Individual".into(),
                        (Dialect::Ts, true) => "Margin".into(),
                        (Dialect::Ts, false) => "Cash".into(),
                        (Dialect::Schwab, true) => "MARGIN".into(),
                        (Dialect::Schwab, false) => "CASH".into(),
                    },
                    margin_or_cash: if margin {
                        "Margin".into()
                    } else {
                        "Cash".into()
                    },
                    index,
                }
            })
            .collect(),
    }
}

const CODE_LIFETIME: Duration = Duration::from_secs(600);

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, DemoState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn count(&self, path: &str) {
        *self.lock().hits.entry(path.to_string()).or_default() += 1;
    }

    /// The Demo broker's "now" (see [`DemoBroker::advance_clock`]).
    fn now(&self) -> Instant {
        self.lock().now()
    }

    /// The Demo broker's "now" in seconds since the Unix epoch.
    fn unix_now(&self) -> u64 {
        unix_now() + self.lock().clock.as_secs()
    }

    pub(crate) fn accounts(&self, dialect: Dialect) -> &[OwnedAccount] {
        match dialect {
            Dialect::Tasty => &self.accounts[0],
            Dialect::Ts => &self.accounts[1],
            Dialect::Schwab => &self.accounts[2],
        }
    }

    pub(crate) fn account(&self, dialect: Dialect, number: &str) -> Option<&OwnedAccount> {
        self.accounts(dialect).iter().find(|a| a.number == number)
    }

    pub(crate) fn is_failing(&self, number: &str) -> bool {
        self.lock().failing_accounts.iter().any(|n| n == number)
    }

    fn record_token_request(&self, path: &str, headers: &HeaderMap, p: &HashMap<String, String>) {
        let h = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let mut fields: Vec<String> = p.keys().cloned().collect();
        fields.sort();
        self.lock().token_requests.push(TokenRequestRecord {
            path: path.into(),
            content_type: h(header::CONTENT_TYPE),
            user_agent: h(header::USER_AGENT),
            has_authorization_header: headers.contains_key(header::AUTHORIZATION),
            grant_type: p.get("grant_type").cloned().unwrap_or_default(),
            fields,
        });
    }

    /// Keyed by the secret of the client the dialect knows (the Schwab dialect's own Secret),
    /// so another app's refresh tokens do not verify.
    fn refresh_mac(&self, dialect: Dialect) -> Hmac<Sha256> {
        let secret = match dialect {
            Dialect::Schwab => &self.config.schwab_secret,
            Dialect::Tasty | Dialect::Ts => &self.config.client_secret,
        };
        mac_keyed(
            &format!("keygrant-demo-refresh-v1:{}", dialect.refresh_prefix()),
            secret,
        )
    }

    /// An HMAC keyed by `purpose` and the client secret: fixed for the Demo broker, so a
    /// restarted one verifies what an earlier one with the same secret issued.
    fn mac_for(&self, purpose: &str) -> Hmac<Sha256> {
        mac_keyed(purpose, &self.config.client_secret)
    }

    /// The issuer its JWTs name.
    pub(crate) fn issuer(&self) -> &str {
        self.config.issuer.as_deref().unwrap_or(DEMO_ISSUER)
    }

    /// A JWT `header.payload.signature`, base64url without padding, signed with HMAC-SHA256
    /// under the key for `purpose`.
    fn jwt(&self, purpose: &str, header: serde_json::Value, claims: serde_json::Value) -> String {
        let signing = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let mut mac = self.mac_for(purpose);
        mac.update(signing.as_bytes());
        format!("{signing}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    /// The claims of a JWT signed under `purpose`'s key, if the signature verifies.
    fn verified_claims(&self, purpose: &str, token: &str) -> Option<serde_json::Value> {
        let (signing, tag) = token.rsplit_once('.')?;
        let (_, payload) = signing.split_once('.')?;
        let tag = B64.decode(tag).ok()?;
        let mut mac = self.mac_for(purpose);
        mac.update(signing.as_bytes());
        mac.verify_slice(&tag).ok()?;
        serde_json::from_slice(&B64.decode(payload).ok()?).ok()
    }

    /// A refresh token that any Demo broker with the same secret can verify. Tastytrade
    /// dialect: a JWT (`typ: rt+jwt`, `aud` the client ID, `iss` this instance's issuer,
    /// `scope` the scopes granted). TradeStation dialect: opaque `<prefix><nonce>.<mac>`.
    fn issue_refresh_token(&self, dialect: Dialect, scope: &str) -> String {
        let nonce = random_token(24);
        if dialect == Dialect::Tasty {
            return self.jwt(
                TASTY_RT_PURPOSE,
                serde_json::json!({"alg": "HS256", "typ": "rt+jwt"}),
                serde_json::json!({
                    "iss": self.issuer(),
                    "aud": self.config.client_id,
                    "sub": "demo-tasty-customer",
                    "iat": unix_now(),
                    "jti": nonce,
                    "scope": scope,
                }),
            );
        }
        let mut mac = self.refresh_mac(dialect);
        mac.update(nonce.as_bytes());
        format!(
            "{}{nonce}.{}",
            dialect.refresh_prefix(),
            B64.encode(mac.finalize().into_bytes())
        )
    }

    /// A refresh: the token must verify and not be retired or revoked. Using a rotated token
    /// retires the one it replaced; with rotation on, the answer carries a new token. Returns
    /// the new token, if any, and the scopes the grant has.
    fn redeem_refresh(
        &self,
        dialect: Dialect,
        token: &str,
    ) -> Result<(Option<String>, Option<String>), ()> {
        let scope = self.verify_refresh_token(dialect, token).ok_or(())?;
        let rotate = {
            let mut s = self.lock();
            if s.revoked || s.retired.contains(token) {
                return Err(());
            }
            if let Some(parent) = s.parents.remove(token) {
                s.retired.insert(parent);
            }
            s.rotate
        };
        if !rotate {
            return Ok((None, scope));
        }
        let child = if dialect == Dialect::Schwab {
            // Same sign-in time: a refresh never extends Schwab's 7 days.
            schwab::rotated_refresh_token(self, token).ok_or(())?
        } else {
            self.issue_refresh_token(dialect, scope.as_deref().unwrap_or(DEFAULT_TASTY_SCOPE))
        };
        self.lock().parents.insert(child.clone(), token.to_string());
        Ok((Some(child), scope))
    }

    fn omits_refresh_token(&self) -> bool {
        self.lock().omit_refresh_token
    }

    /// Whether `token` is a refresh token of this client: `Some(scope)` when it verifies
    /// (the scope a Tastytrade JWT names, `None` for an opaque token). A JWT must name this
    /// client in `aud`. Tastytrade-dialect tokens of the older opaque form (`demo-rt-...`)
    /// are still accepted, so grants saved before the JWT form keep working.
    fn verify_refresh_token(&self, dialect: Dialect, token: &str) -> Option<Option<String>> {
        if dialect == Dialect::Tasty && !token.starts_with(dialect.refresh_prefix()) {
            let claims = self.verified_claims(TASTY_RT_PURPOSE, token)?;
            if claims.get("aud").and_then(|a| a.as_str()) != Some(self.config.client_id.as_str()) {
                return None;
            }
            return Some(
                claims
                    .get("scope")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned),
            );
        }
        let rest = token.strip_prefix(dialect.refresh_prefix())?;
        let (nonce, tag) = rest.split_once('.')?;
        let tag = B64.decode(tag).ok()?;
        let mut mac = self.refresh_mac(dialect);
        mac.update(nonce.as_bytes());
        mac.verify_slice(&tag).ok().map(|_| None)
    }

    /// An ID token (a JWT: `iss`, `aud` the client ID, `sub`, `name`, `iat`, `exp`), signed
    /// like the refresh tokens; SDKs decode it without verifying.
    pub(crate) fn id_token(&self, sub: &str) -> String {
        let now = unix_now();
        self.jwt(
            "keygrant-demo-id-token-v1",
            serde_json::json!({"alg": "HS256", "typ": "JWT"}),
            serde_json::json!({
                "iss": self.issuer(),
                "aud": self.config.client_id,
                "sub": sub,
                "name": "Demo Trader",
                "iat": now,
                "exp": now + ACCESS_TOKEN_SECS,
            }),
        )
    }

    /// A new access token of `dialect` living `lifetime`. It is remembered here (so faults can
    /// expire it) and also carries its dialect and expiry under an HMAC, so another Demo broker
    /// with the same secret accepts it too: a script started by `keygrant exec`, whose own
    /// Demo broker differs from the window's, can use the token the window obtained.
    fn issue_access_token(&self, dialect: Dialect, lifetime: Duration) -> String {
        let expires_unix = self.unix_now() + lifetime.as_secs();
        let signed = self.signed_access(dialect, expires_unix, &random_token(24));
        let token = match dialect {
            Dialect::Schwab => format!("I0.{}.{signed}@", B64.encode(self.issuer())),
            _ => signed,
        };
        let mut s = self.lock();
        let expires = s.now() + lifetime;
        s.access_tokens.insert(token.clone(), (dialect, expires));
        token
    }

    /// `<nonce>~<dialect>~<expiry>~<mac>`: the self-verifying part of an access token (`~` is
    /// outside the base64url alphabet of the nonce and the MAC).
    fn signed_access(&self, dialect: Dialect, expires_unix: u64, nonce: &str) -> String {
        let body = format!("{nonce}~{}~{expires_unix}", dialect.tag());
        let mut mac = self.mac_for("keygrant-demo-access-v1");
        mac.update(body.as_bytes());
        format!("{body}~{}", B64.encode(mac.finalize().into_bytes()))
    }

    /// Whether `token` is an access token of `dialect` that a Demo broker with this secret
    /// issued and that has not expired by this broker's clock.
    fn verifies_as_access(&self, dialect: Dialect, token: &str) -> bool {
        let inner = match dialect {
            Dialect::Schwab => token
                .strip_prefix("I0.")
                .and_then(|t| t.strip_suffix('@'))
                .and_then(|t| t.split_once('.'))
                .map(|(_, rest)| rest),
            _ => Some(token),
        };
        let Some((body, tag)) = inner.and_then(|t| t.rsplit_once('~')) else {
            return false;
        };
        let Ok(tag) = B64.decode(tag) else {
            return false;
        };
        let mut mac = self.mac_for("keygrant-demo-access-v1");
        mac.update(body.as_bytes());
        if mac.verify_slice(&tag).is_err() {
            return false;
        }
        let mut parts = body.rsplitn(3, '~');
        let expires = parts.next().and_then(|e| e.parse::<u64>().ok());
        parts.next() == Some(dialect.tag()) && expires.is_some_and(|e| e > self.unix_now())
    }

    fn bearer_is_valid(&self, dialect: Dialect, headers: &HeaderMap) -> bool {
        let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
        else {
            return false;
        };
        {
            let s = self.lock();
            let now = s.now();
            // Issued here: this broker decides (faults may have expired it early).
            if let Some((d, exp)) = s.access_tokens.get(token) {
                return *d == dialect && *exp > now;
            }
        }
        // Issued by another Demo broker with the same secret (another Keygrant process).
        self.verifies_as_access(dialect, token)
    }

    /// An API request's first steps: counted under `path`, then its bearer token checked. The
    /// login's accounts when the token is a live one of `dialect`, else `None` (answer the
    /// dialect's 401).
    fn api_accounts(
        &self,
        dialect: Dialect,
        path: &str,
        headers: &HeaderMap,
    ) -> Option<&[OwnedAccount]> {
        self.count(path);
        self.bearer_is_valid(dialect, headers)
            .then(|| self.accounts(dialect))
    }

    fn new_code(&self, dialect: Dialect, params: &HashMap<String, String>) -> String {
        let code = match dialect {
            // Schwab's codes end with `@` (`%40` in the redirect's query).
            Dialect::Schwab => schwab::token_string("C0", self.issuer()),
            _ => uuid::Uuid::new_v4().to_string(),
        };
        let mut s = self.lock();
        let issued = s.now();
        s.codes.insert(
            code.clone(),
            PendingCode {
                dialect,
                redirect_uri: params.get("redirect_uri").cloned().unwrap_or_default(),
                code_challenge: params.get("code_challenge").cloned(),
                scope: params.get("scope").cloned().unwrap_or_default(),
                issued,
            },
        );
        code
    }

    /// Redeems a code: it must exist, be fresh, come from this dialect, carry the same
    /// redirect URI, and pass PKCE when the authorize request had a challenge.
    fn redeem_code(
        &self,
        dialect: Dialect,
        p: &HashMap<String, String>,
    ) -> Result<PendingCode, &'static str> {
        let now = self.now();
        let pending = p.get("code").and_then(|c| self.lock().codes.remove(c));
        let pending = pending
            .filter(|c| {
                now.saturating_duration_since(c.issued) < dialect.code_lifetime()
                    && c.dialect == dialect
            })
            .ok_or("The authorization code is invalid, expired or already used.")?;
        if p.get("redirect_uri") != Some(&pending.redirect_uri) {
            return Err("redirect_uri does not match the one in the authorize request.");
        }
        if let Some(challenge) = &pending.code_challenge {
            let ok = p
                .get("code_verifier")
                .is_some_and(|v| B64.encode(Sha256::digest(v.as_bytes())) == *challenge);
            if !ok {
                return Err("PKCE verification failed.");
            }
        }
        Ok(pending)
    }
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    B64.encode(buf)
}

/// Seconds since the Unix epoch (JWT `iat`).
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The key purpose of Tastytrade-dialect refresh-token JWTs.
const TASTY_RT_PURPOSE: &str = "keygrant-demo-refresh-v2:rt+jwt";
/// The scopes a Tastytrade-dialect refresh token without a `scope` claim (the older opaque
/// form) is taken to have.
pub(crate) const DEFAULT_TASTY_SCOPE: &str = "read openid";

/// The checks every authorize request gets (Tastytrade's; TradeStation adds its own), with the
/// client this broker knows.
fn check_authorize(shared: &Shared, params: &HashMap<String, String>) -> Result<Url, String> {
    if params.get("response_type").map(String::as_str) != Some("code") {
        return Err("response_type must be \"code\".".into());
    }
    if params.get("client_id") != Some(&shared.config.client_id) {
        return Err("Unknown client_id: this OAuth application does not exist at the Demo broker (check the environment).".into());
    }
    let redirect = params
        .get("redirect_uri")
        .and_then(|r| Url::parse(r).ok())
        .ok_or("redirect_uri is missing or not a URL.")?;
    let loopback = redirect.scheme() == "http"
        && matches!(redirect.host_str(), Some("127.0.0.1") | Some("localhost"));
    if !loopback && redirect.scheme() != "keygrant" {
        return Err(format!(
            "redirect_uri {redirect} is not registered for this application."
        ));
    }
    if let Some(method) = params.get("code_challenge_method") {
        if method != "S256" {
            return Err("code_challenge_method must be S256.".into());
        }
    }
    Ok(redirect)
}

/// The redirect after the user's decision: `code` and `state` on Approve (Tastytrade's with
/// `scope` first; Schwab's `code`, `session`, `state`, in its order), `error` and `state` on
/// Deny.
fn decision_redirect(
    shared: &Shared,
    dialect: Dialect,
    mut redirect: Url,
    params: &HashMap<String, String>,
) -> Url {
    let param = |name: &'static str| params.get(name).map(|v| (name, v.clone()));
    let pairs = if params.get("decision").map(String::as_str) == Some("approve") {
        let code = Some(("code", shared.new_code(dialect, params)));
        match dialect {
            Dialect::Tasty => {
                let scope = params.get("scope").cloned().unwrap_or_default();
                vec![Some(("scope", scope)), param("state"), code]
            }
            Dialect::Ts => vec![param("state"), code],
            // The code's `@` goes out as %40.
            Dialect::Schwab => {
                let session = uuid::Uuid::new_v4().to_string();
                vec![code, Some(("session", session)), param("state")]
            }
        }
    } else {
        vec![
            Some(("error", "access_denied".to_string())),
            Some((
                "error_description",
                "The user denied the request.".to_string(),
            )),
            param("state"),
        ]
    };
    redirect
        .query_pairs_mut()
        .extend_pairs(pairs.into_iter().flatten());
    redirect
}

/// A token-endpoint error in RFC 6749's shape (section 5.2), as TradeStation and Schwab answer.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(serde_json::json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// The 400 `invalid_request` for a token request whose body is not form-encoded (TradeStation,
/// Schwab); `None` when it is.
fn unless_form_encoded(headers: &HeaderMap) -> Option<Response> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    (!form).then(|| {
        oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The token endpoint takes application/x-www-form-urlencoded.",
        )
    })
}

/// The client ID and secret of an `Authorization: Basic` header, each form-decoded (RFC 6749
/// section 2.3.1; Schwab's App Keys and Secrets are alphanumeric either way).
fn basic_client(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()?,
    )
    .ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((dec(id)?, dec(secret)?))
}

/// A successful token response: 200, `Cache-Control: no-store`, `out` as JSON.
fn token_answer(out: serde_json::Value) -> Response {
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(out),
    )
        .into_response()
}

/// A running Demo broker. Dropping it stops the server.
pub struct DemoBroker {
    addr: SocketAddr,
    shared: Shared,
    _shutdown: oneshot::Sender<()>,
}

impl DemoBroker {
    /// Starts on 127.0.0.1 at `port` (0 picks a free one) with the published Demo client.
    pub async fn start(port: u16) -> std::io::Result<DemoBroker> {
        Self::start_with(port, DemoConfig::default()).await
    }

    /// Starts on 127.0.0.1 at `port` (0 picks a free one) knowing the client in `config`.
    /// Stops when the returned value is dropped. Errors: the port cannot be bound.
    pub async fn start_with(port: u16, config: DemoConfig) -> std::io::Result<DemoBroker> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let accounts = Arc::new([
            account_list(Dialect::Tasty, config.accounts),
            account_list(Dialect::Ts, config.accounts),
            account_list(Dialect::Schwab, config.accounts),
        ]);
        let shared = Shared {
            state: Arc::new(Mutex::new(DemoState::default())),
            config: Arc::new(config),
            accounts,
        };
        let app = tasty::router(shared.clone())
            .merge(ts::router(shared.clone()))
            .merge(schwab::router(shared.clone()))
            .layer(axum::middleware::from_fn_with_state(shared.clone(), track));
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(DemoBroker {
            addr,
            shared,
            _shutdown: tx,
        })
    }

    /// The address it listens on (127.0.0.1 and the chosen port).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>/`
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.addr)).expect("loopback URL")
    }

    /// Moves the Demo broker's "now" forward by `by`, for every dialect: authorization codes
    /// and access tokens expire, Schwab refresh tokens reach their 7 days, rate-limit windows
    /// pass, as if that much time had gone by. It never moves back.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.lock().clock += by;
    }
}

/// Counts requests in flight and applies the configured latency; Schwab-dialect responses
/// get their `Schwab-Client-CorrelId`.
async fn track(
    axum::extract::State(shared): axum::extract::State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let schwab = request.uri().path().starts_with("/schwab/");
    let mut response = serve_tracked(shared, request, next).await;
    if schwab {
        schwab::add_correl_id(&mut response);
    }
    response
}

/// [`track`]'s work: in-flight counts, latency, token and API faults and refusals.
async fn serve_tracked(
    shared: Shared,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let latency = {
        let mut s = shared.lock();
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        s.latency
    };
    // Counted out however the request ends, a dropped connection included.
    struct Out(Shared);
    impl Drop for Out {
        fn drop(&mut self) {
            self.0.lock().in_flight -= 1;
        }
    }
    let path = request.uri().path().to_string();
    let _out = Out(shared.clone());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let sign_in = [
        "/oauth/token",
        "/ts/oauth/token",
        "/schwab/v1/oauth/token",
        "/auth.html",
        "/ts/authorize",
        "/schwab/v1/oauth/authorize",
    ]
    .contains(&path.as_str());
    let token_path =
        ["/oauth/token", "/ts/oauth/token", "/schwab/v1/oauth/token"].contains(&path.as_str());
    if token_path {
        let (fault, shape) = {
            let mut s = shared.lock();
            (s.token_faults.pop_front(), s.token_shape.clone())
        };
        if let Some(f) = fault {
            // Counted like a request the handler served: the client did send it.
            shared.count(&path);
            return token_fault_response(f);
        }
        let response = next.run(request).await;
        return match shape {
            Some(shape) if response.status().is_success() => reshape(response, &shape).await,
            _ => response,
        };
    }
    if sign_in {
        return next.run(request).await;
    }
    let dialect = if path.starts_with("/ts/") {
        Dialect::Ts
    } else if path.starts_with("/schwab/") {
        Dialect::Schwab
    } else {
        Dialect::Tasty
    };
    let version = request
        .headers()
        .get("accept-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match api_refusal(&shared, dialect, version) {
        None => next.run(request).await,
        Some(Refusal::Fault(f)) => fault_response(f, dialect).await,
        Some(Refusal::Now(r)) => r,
    }
}

/// Why an API request does not reach its handler.
enum Refusal {
    /// A queued [`ApiFault`] (may take time: a stall).
    Fault(ApiFault),
    /// An answer ready now (429, 403, 406).
    Now(axum::response::Response),
}

/// What the switches make of an API request before its handler sees it: a queued fault, a
/// rate-limit window (the `rate_limit` switch, or Schwab's own sliding window), a 403, a 406
/// for the Tastytrade `Accept-Version`; `None` lets it through.
fn api_refusal(shared: &Shared, dialect: Dialect, version: Option<String>) -> Option<Refusal> {
    let tasty = dialect == Dialect::Tasty;
    let mut s = shared.lock();
    s.api_requests += 1;
    if tasty {
        s.versions_seen.push(version.clone());
    }
    if let Some(f) = s.api_faults.pop_front() {
        return Some(Refusal::Fault(f));
    }
    if let Some(r) = limit_response(&mut s, dialect) {
        return Some(Refusal::Now(r));
    }
    if dialect == Dialect::Schwab {
        if let Some(r) = schwab::rate_limited(&mut s) {
            return Some(Refusal::Now(r));
        }
    }
    if s.forbidden {
        let body = match dialect {
            Dialect::Tasty => {
                serde_json::json!({"error": {"code": "insufficient_scope", "message": "This grant does not allow reading this account."}})
            }
            Dialect::Ts => {
                serde_json::json!({"Error": "Forbidden", "Message": "Request not authorized for this account."})
            }
            Dialect::Schwab => schwab::error_body(
                403,
                "Forbidden",
                "Client not authorized to access this resource.",
            ),
        };
        return Some(Refusal::Now(
            (axum::http::StatusCode::FORBIDDEN, axum::Json(body)).into_response(),
        ));
    }
    let refused_version = tasty
        && (s.reject_every_version
            || matches!((&s.accept_versions, &version), (Some(ok), Some(v)) if !ok.contains(v)));
    if refused_version {
        let body = serde_json::json!({"error": {"code": "unsupported_version", "message": "The requested API version is not supported."}});
        return Some(Refusal::Now(
            (axum::http::StatusCode::NOT_ACCEPTABLE, axum::Json(body)).into_response(),
        ));
    }
    None
}

/// A 429 while the rate-limit window lasts (starting it once the budget is spent).
fn limit_response(s: &mut DemoState, dialect: Dialect) -> Option<axum::response::Response> {
    let now = s.now();
    let w = s.limit.as_mut()?;
    if w.budget > 0 {
        w.budget -= 1;
        return None;
    }
    let until = *w.until.get_or_insert(now + w.length);
    if now >= until {
        s.limit = None;
        return None;
    }
    let left = (until - now).as_secs_f64().ceil() as u64;
    let (name, value) = match w.header {
        LimitHeader::RetryAfter => (header::RETRY_AFTER.as_str(), left),
        LimitHeader::ResetSeconds => ("x-ratelimit-reset", left),
        LimitHeader::ResetEpoch => {
            let epoch = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            ("x-ratelimit-reset", epoch + left)
        }
    };
    Some(limited(name, value, dialect))
}

/// 429 with `name: value` and the error body (Schwab's own shape in its dialect).
fn limited(name: &str, value: u64, dialect: Dialect) -> axum::response::Response {
    let body = match dialect {
        Dialect::Schwab => schwab::too_many_requests_body(),
        _ => {
            serde_json::json!({"error": {"code": "rate_limited", "message": "Too many requests."}, "Error": "TooManyRequests", "Message": "Too many requests."})
        }
    };
    let mut r = (axum::http::StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    r.headers_mut().insert(
        axum::http::HeaderName::from_bytes(name.as_bytes()).expect("static header name"),
        value.into(),
    );
    r
}

fn token_fault_response(fault: TokenFault) -> axum::response::Response {
    match fault {
        TokenFault::Status(code) => (
            axum::http::StatusCode::from_u16(code)
                .unwrap_or(axum::http::StatusCode::SERVICE_UNAVAILABLE),
            axum::response::Html(format!(
                "<html><body><h1>{code}</h1>The service is temporarily unavailable.</body></html>"
            )),
        )
            .into_response(),
        TokenFault::NotACustomer => (
            axum::http::StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({
                "error_code": "invalid_request",
                "error_description": "User is not a TastyTrade customer"
            })),
        )
            .into_response(),
    }
}

/// Rewrites a successful token response as `shape` says.
async fn reshape(
    response: axum::response::Response,
    shape: &TokenShape,
) -> axum::response::Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return axum::http::Response::from_parts(parts, axum::body::Body::empty());
    };
    let mut json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).unwrap_or_default();
    for (name, value) in &shape.fields {
        match value {
            Some(v) => json.insert(name.clone(), v.clone()),
            None => json.remove(name),
        };
    }
    if let Some(status) = shape
        .status
        .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
    {
        parts.status = status;
    }
    if let Some(ct) = shape
        .content_type
        .as_deref()
        .and_then(|c| axum::http::HeaderValue::from_str(c).ok())
    {
        parts.headers.insert(header::CONTENT_TYPE, ct);
    }
    let body = serde_json::to_vec(&json).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    axum::http::Response::from_parts(parts, axum::body::Body::from(body))
}

async fn fault_response(fault: ApiFault, dialect: Dialect) -> axum::response::Response {
    let error = |status: u16| {
        let status = axum::http::StatusCode::from_u16(status)
            .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let body = match dialect {
            Dialect::Schwab => schwab::error_body(
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error"),
                "Service temporarily unavailable.",
            ),
            _ => {
                serde_json::json!({"error": {"code": "unavailable", "message": "Service temporarily unavailable."}})
            }
        };
        (status, axum::Json(body))
    };
    match fault {
        ApiFault::Status(code) => error(code).into_response(),
        ApiFault::RateLimited(secs) => limited(header::RETRY_AFTER.as_str(), secs, dialect),
        ApiFault::RateLimitReset(secs) => limited("x-ratelimit-reset", secs, dialect),
        ApiFault::Reset => {
            let body = axum::body::Body::from_stream(futures::stream::once(async {
                Err::<axum::body::Bytes, _>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "reset by the Demo broker",
                ))
            }));
            axum::http::Response::builder()
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, "4096")
                .body(body)
                .expect("static response")
        }
        ApiFault::Stall(d) => {
            tokio::time::sleep(d).await;
            error(504).into_response()
        }
    }
}

/// The seeded accounts every Demo login sees.
pub(crate) struct SeedAccount {
    pub number: &'static str,
    pub nickname: &'static str,
    pub type_name: &'static str,
    pub margin_or_cash: &'static str,
}

pub(crate) const TS_SEED_ACCOUNTS: &[SeedAccount] = &[
    SeedAccount {
        number: "11827633",
        nickname: "Swing Margin",
        type_name: "Margin",
        margin_or_cash: "Margin",
    },
    SeedAccount {
        number: "11827634",
        nickname: "Long-term Cash",
        type_name: "Cash",
        margin_or_cash: "Cash",
    },
    SeedAccount {
        number: "210FUT01",
        nickname: "Futures",
        type_name: "Futures",
        margin_or_cash: "",
    },
];

/// Schwab's `securitiesAccount.type` is `MARGIN` or `CASH`; the third has no nickname.
pub(crate) const SCHWAB_SEED_ACCOUNTS: &[SeedAccount] = &[
    SeedAccount {
        number: "28764512",
        nickname: "Swing Trading",
        type_name: "MARGIN",
        margin_or_cash: "Margin",
    },
    SeedAccount {
        number: "28767933",
        nickname: "Roth IRA",
        type_name: "CASH",
        margin_or_cash: "Cash",
    },
    SeedAccount {
        number: "28761170",
        nickname: "",
        type_name: "MARGIN",
        margin_or_cash: "Margin",
    },
];

pub(crate) const SEED_ACCOUNTS: &[SeedAccount] = &[
    SeedAccount {
        number: "5WX01234",
        nickname: "Individual Margin",
        type_name: "Individual",
        margin_or_cash: "Margin",
    },
    SeedAccount {
        number: "5WX05678",
        nickname: "Roth IRA",
        type_name: "Roth IRA",
        margin_or_cash: "Cash",
    },
    SeedAccount {
        number: "5WX09012",
        nickname: "Options Lab",
        type_name: "Individual",
        margin_or_cash: "Margin",
    },
];

/// Runs the Demo broker in the foreground for `keygrant demo-broker [--port N] [--fault
/// NAME]...`, with the named fault switches on (names: `FAULTS`, feature `faults`). Errors:
/// the port cannot be bound, or a fault name is unknown (the message lists the known ones).
pub async fn run_standalone(port: u16, faults: &[String]) -> std::io::Result<()> {
    let broker = DemoBroker::start(port).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            std::io::Error::new(
                e.kind(),
                format!("port {port} on 127.0.0.1 is already in use by another program; choose another with --port, or --port 0 for a free one"),
            )
        } else {
            e
        }
    })?;
    let base = broker.base_url();
    #[cfg(feature = "faults")]
    for name in faults {
        broker.apply_fault(name).map_err(std::io::Error::other)?;
    }
    #[cfg(not(feature = "faults"))]
    if !faults.is_empty() {
        return Err(std::io::Error::other(
            "this build has no fault switches (feature `faults`)",
        ));
    }
    // A closed stdout (`keygrant demo-broker | head -1`) must not stop the server.
    macro_rules! say {
        ($($arg:tt)*) => {{
            use std::io::Write;
            let _ = writeln!(std::io::stdout(), $($arg)*);
        }};
    }
    say!("Keygrant Demo broker listening on {base}");
    say!("  Tastytrade dialect:   authorize {base}auth.html  token {base}oauth/token  API {base}");
    say!("  TradeStation dialect: authorize {base}ts/authorize  token {base}ts/oauth/token  API {base}ts/v3/");
    say!("  Schwab dialect:       authorize {base}schwab/v1/oauth/authorize  token {base}schwab/v1/oauth/token  API {base}schwab/trader/v1/  (redirect https://127.0.0.1 only)");
    say!("  client ID:      {DEMO_CLIENT_ID}");
    say!("  client secret:  {DEMO_CLIENT_SECRET}   (a published demo value, not a real secret)");
    say!("  Schwab App Key: {DEMO_SCHWAB_APP_KEY}   Secret: {DEMO_SCHWAB_SECRET}   (published demo values)");
    #[cfg(feature = "faults")]
    for name in faults {
        let what = FAULTS
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, w)| *w)
            .unwrap_or_default();
        say!("  fault on:       {name}: {what}");
    }
    say!("Press Ctrl-C to stop.");
    let _ = std::io::Write::flush(&mut std::io::stdout());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
