//! Broker definitions: which endpoints, scopes and OAuth options each broker and environment
//! uses, the token requests each one expects, and the neutral account model the UI renders.
//!
//! The real endpoints come from shared/reference/BROKERS.md (checked against the PyPI SDKs
//! `tastytrade` 13.2.3 and `tradestation` 0.2). The Demo environment points the same broker
//! module at the Demo broker's dialect on loopback; nothing else differs.

pub mod custom;
pub mod portfolio;
pub mod tastytrade;
pub mod tradestation;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BrokerKind {
    Tastytrade,
    TradeStation,
    /// Any OAuth 2 provider the user describes: refresh token only, no dashboard.
    Custom,
}

impl BrokerKind {
    pub fn display_name(self) -> &'static str {
        match self {
            BrokerKind::Tastytrade => "Tastytrade",
            BrokerKind::TradeStation => "TradeStation",
            BrokerKind::Custom => "Custom OAuth 2",
        }
    }

    /// Whether Keygrant knows this broker's account API (and so shows a dashboard).
    pub fn has_dashboard(self) -> bool {
        self != BrokerKind::Custom
    }

    /// The redirect URI the broker's own SDK and guides use, which most users registered.
    pub fn default_redirect_uri(self) -> &'static str {
        match self {
            BrokerKind::Tastytrade => "http://localhost:8000",
            BrokerKind::TradeStation => "http://localhost:3001",
            // Any loopback port (RFC 8252 section 7.3) unless the user enters one.
            BrokerKind::Custom => "",
        }
    }

    pub fn env_name(self, env: Environment) -> &'static str {
        match (self, env) {
            (BrokerKind::Custom, _) => "Custom provider",
            (_, Environment::Demo) => "Demo broker",
            (BrokerKind::Tastytrade, Environment::Production) => "Production",
            (BrokerKind::Tastytrade, Environment::Sandbox) => "Sandbox (cert)",
            (BrokerKind::TradeStation, Environment::Production) => "Live",
            (BrokerKind::TradeStation, Environment::Sandbox) => "Simulated (sim)",
        }
    }
}

/// Production (Tastytrade production, TradeStation live), the broker's test environment
/// (Tastytrade sandbox/cert, TradeStation sim), or the built-in Demo broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Environment {
    Production,
    Sandbox,
    Demo,
}

impl Environment {
    /// The other real environment, for telling a user their credential belongs there.
    pub fn other(self) -> Option<Environment> {
        match self {
            Environment::Production => Some(Environment::Sandbox),
            Environment::Sandbox => Some(Environment::Production),
            Environment::Demo => None,
        }
    }
}

/// How the token endpoint wants a refresh request's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshBody {
    /// `application/json` with `grant_type`, `client_secret`, `refresh_token` (Tastytrade,
    /// as its docs and SDK 13 send it; no `client_id`).
    Json,
    /// `application/x-www-form-urlencoded` with `client_id` too (TradeStation).
    Form,
}

/// How the client ID and secret reach the token endpoint (RFC 6749 section 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body (Tastytrade, TradeStation).
    RequestBody,
    /// An `Authorization: Basic` header.
    Basic,
}

/// Where a broker's OAuth pages and API live, and how its token endpoint wants to be spoken to.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub broker: BrokerKind,
    pub authorize_url: Url,
    pub token_url: Url,
    /// Ends with `/` so relative paths join under it.
    pub api_base: Url,
    /// Send a PKCE S256 challenge. Tastytrade is reported to refuse PKCE parameters and
    /// TradeStation uses PKCE only for keys switched to it, so it is off for the real brokers
    /// and on for the Demo broker, which checks it.
    pub use_pkce: bool,
    /// Extra authorize query parameters (TradeStation's `audience`).
    pub extra_authorize: Vec<(String, String)>,
    pub refresh_body: RefreshBody,
    pub client_auth: ClientAuth,
}

/// The scopes a broker offers, which of them the wizard ticks by default, and which cannot
/// be unticked.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ScopeInfo {
    pub name: String,
    pub description: String,
    pub default: bool,
    pub required: bool,
}

pub fn scopes(broker: BrokerKind) -> Vec<ScopeInfo> {
    let s = |name: &str, description: &str, default: bool, required: bool| ScopeInfo {
        name: name.into(),
        description: description.into(),
        default,
        required,
    };
    match broker {
        BrokerKind::Tastytrade => vec![
            s("read", "See accounts, balances and positions", true, true),
            s("trade", "Place and cancel orders", false, false),
            s("openid", "Identify you (an ID token)", true, false),
        ],
        BrokerKind::TradeStation => vec![
            s("openid", "Required by TradeStation", true, true),
            s(
                "offline_access",
                "Issue a refresh token (without it none comes back)",
                true,
                true,
            ),
            s("profile", "Your name in the ID token", true, false),
            s(
                "ReadAccount",
                "See accounts, balances and positions",
                true,
                true,
            ),
            s("MarketData", "Quotes and market data", false, false),
            s("Trade", "Place and cancel orders", false, false),
            s("OptionSpreads", "Option spread endpoints", false, false),
            s("Matrix", "Market depth endpoints", false, false),
        ],
        // Typed by the user.
        BrokerKind::Custom => vec![],
    }
}

pub fn default_scopes(broker: BrokerKind) -> Vec<String> {
    scopes(broker)
        .into_iter()
        .filter(|s| s.default)
        .map(|s| s.name)
        .collect()
}

fn url(s: &str) -> Url {
    Url::parse(s).expect("static URL")
}

impl Endpoints {
    /// The real service's endpoints.
    pub fn real(broker: BrokerKind, env: Environment) -> Option<Endpoints> {
        let (authorize, token, api) = match (broker, env) {
            (_, Environment::Demo) | (BrokerKind::Custom, _) => return None,
            (BrokerKind::Tastytrade, Environment::Production) => (
                tastytrade::PRODUCTION_AUTHORIZE,
                tastytrade::PRODUCTION_TOKEN,
                tastytrade::PRODUCTION_API,
            ),
            (BrokerKind::Tastytrade, Environment::Sandbox) => (
                tastytrade::SANDBOX_AUTHORIZE,
                tastytrade::SANDBOX_TOKEN,
                tastytrade::SANDBOX_API,
            ),
            (BrokerKind::TradeStation, Environment::Production) => (
                tradestation::AUTHORIZE,
                tradestation::TOKEN,
                tradestation::LIVE_API,
            ),
            (BrokerKind::TradeStation, Environment::Sandbox) => (
                tradestation::AUTHORIZE,
                tradestation::TOKEN,
                tradestation::SIM_API,
            ),
        };
        Some(Endpoints {
            broker,
            authorize_url: url(authorize),
            token_url: url(token),
            api_base: url(api),
            use_pkce: false,
            extra_authorize: Self::extra(broker),
            refresh_body: Self::refresh_body(broker),
            client_auth: ClientAuth::RequestBody,
        })
    }

    /// The same broker module against the Demo broker (or any double of the broker) at
    /// `base`: its Tastytrade dialect at the root, its TradeStation dialect under `ts/`.
    pub fn at(broker: BrokerKind, base: &Url) -> Endpoints {
        let j = |p: &str| base.join(p).expect("static path");
        let (authorize, token, api) = match broker {
            BrokerKind::Tastytrade => (j("auth.html"), j("oauth/token"), base.clone()),
            BrokerKind::TradeStation | BrokerKind::Custom => {
                (j("ts/authorize"), j("ts/oauth/token"), j("ts/v3/"))
            }
        };
        Endpoints {
            broker,
            authorize_url: authorize,
            token_url: token,
            api_base: api,
            use_pkce: true,
            extra_authorize: Self::extra(broker),
            refresh_body: Self::refresh_body(broker),
            client_auth: ClientAuth::RequestBody,
        }
    }

    fn extra(broker: BrokerKind) -> Vec<(String, String)> {
        match broker {
            BrokerKind::Tastytrade | BrokerKind::Custom => vec![],
            BrokerKind::TradeStation => vec![("audience".into(), tradestation::AUDIENCE.into())],
        }
    }

    fn refresh_body(broker: BrokerKind) -> RefreshBody {
        match broker {
            BrokerKind::Tastytrade => RefreshBody::Json,
            BrokerKind::TradeStation | BrokerKind::Custom => RefreshBody::Form,
        }
    }
}

/// One brokerage account in the neutral model, with the broker's own words kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Account {
    pub number: String,
    pub nickname: String,
    /// The broker's account type name, e.g. "Individual", "Roth IRA", "Margin".
    pub account_type: String,
    /// "Cash" or "Margin" where the broker says it.
    pub margin_or_cash: String,
    /// The account's currency (Tastytrade accounts are in USD).
    pub currency: String,
}

/// One account's balances and positions, fetched concurrently.
pub async fn fetch_detail(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    access_token: &crate::secret::Secret,
    account: &Account,
) -> (
    crate::error::Result<portfolio::Balances>,
    crate::error::Result<Vec<portfolio::Position>>,
) {
    let n = account.number.as_str();
    match endpoints.broker {
        BrokerKind::Tastytrade => futures::join!(
            tastytrade::fetch_balances(http, endpoints, access_token, n),
            tastytrade::fetch_positions(http, endpoints, access_token, n)
        ),
        BrokerKind::TradeStation => futures::join!(
            tradestation::fetch_balances(http, endpoints, access_token, n, &account.currency),
            tradestation::fetch_positions(http, endpoints, access_token, n)
        ),
        BrokerKind::Custom => {
            let e = || {
                crate::error::AppError::new(
                    crate::error::ErrorKind::InvalidInput,
                    "A custom provider has no accounts in Keygrant.",
                )
            };
            (Err(e()), Err(e()))
        }
    }
}

fn no_accounts() -> crate::error::AppError {
    crate::error::AppError::new(
        crate::error::ErrorKind::InvalidInput,
        "A custom provider has no accounts in Keygrant.",
    )
}

/// One account's balances in the neutral model.
pub async fn fetch_detail_balances(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    access_token: &crate::secret::Secret,
    account: &Account,
) -> crate::error::Result<portfolio::Balances> {
    match endpoints.broker {
        BrokerKind::Tastytrade => {
            tastytrade::fetch_balances(http, endpoints, access_token, &account.number).await
        }
        BrokerKind::TradeStation => {
            tradestation::fetch_balances(
                http,
                endpoints,
                access_token,
                &account.number,
                &account.currency,
            )
            .await
        }
        BrokerKind::Custom => Err(no_accounts()),
    }
}

/// One account's positions in the neutral model.
pub async fn fetch_detail_positions(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    access_token: &crate::secret::Secret,
    account: &Account,
) -> crate::error::Result<Vec<portfolio::Position>> {
    match endpoints.broker {
        BrokerKind::Tastytrade => {
            tastytrade::fetch_positions(http, endpoints, access_token, &account.number).await
        }
        BrokerKind::TradeStation => {
            tradestation::fetch_positions(http, endpoints, access_token, &account.number).await
        }
        BrokerKind::Custom => Err(no_accounts()),
    }
}

/// The account list from whichever broker `endpoints` speaks for.
pub async fn fetch_accounts(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    access_token: &crate::secret::Secret,
) -> crate::error::Result<Vec<Account>> {
    match endpoints.broker {
        BrokerKind::Tastytrade => tastytrade::fetch_accounts(http, endpoints, access_token).await,
        BrokerKind::TradeStation => tradestation::fetch_accounts(http, endpoints, access_token).await,
        BrokerKind::Custom => Err(crate::error::AppError::new(
            crate::error::ErrorKind::InvalidInput,
            "A custom OAuth 2 provider has no account list in Keygrant: use its refresh token in your own code.",
        )),
    }
}

/// GETs `path` under the API base with the bearer token and returns the body, mapping 401/403
/// and other failures to messages that say what to do.
pub(crate) async fn api_get(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    path: &str,
    access_token: &crate::secret::Secret,
    what: &str,
    error_message: fn(&str) -> Option<String>,
) -> crate::error::Result<String> {
    use crate::error::{AppError, ErrorKind};
    let url = endpoints
        .api_base
        .join(path)
        .map_err(|e| AppError::internal(format!("bad API path: {e}")))?;
    let name = endpoints.broker.display_name();
    // A GET is safe to repeat: a failed connection, a timeout, 429 and 5xx are retried with
    // backoff, at most `RETRY.attempts` tries in all. (Token requests are never retried.)
    let mut attempt = 0;
    let (status, body) = loop {
        attempt += 1;
        let result = async {
            let resp = http
                .get(url.clone())
                .bearer_auth(access_token.expose())
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await?;
            let status = resp.status();
            let after = retry_after(resp.headers());
            Ok::<_, reqwest::Error>((status, after, resp.text().await?))
        }
        .await;
        let last = attempt >= RETRY.attempts;
        let wait = match &result {
            Err(e)
                if !last && (e.is_connect() || e.is_timeout() || e.is_request() || e.is_body()) =>
            {
                Some(RETRY.backoff(attempt))
            }
            Ok((s, after, _))
                if !last && retryable(*s) && after.map_or(true, |a| a <= RETRY.max_retry_after) =>
            {
                Some(after.unwrap_or_else(|| RETRY.backoff(attempt)))
            }
            _ => None,
        };
        let Some(wait) = wait else {
            match result {
                Err(e) => return Err(AppError::network(e)),
                Ok((s, after, _)) if s == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                    let when = after
                        .map(|a| format!(" in {} seconds", a.as_secs().max(1)))
                        .unwrap_or_else(|| " in a minute".into());
                    return Err(AppError::new(
                        ErrorKind::RateLimited,
                        format!("{name} is limiting how often Keygrant may ask (429). Nothing was lost; press Refresh{when}."),
                    ));
                }
                Ok((s, _, body)) => break (s, body),
            }
        };
        match &result {
            Err(e) => tracing::debug!(attempt, error = %e, "GET failed; retrying"),
            Ok((s, _, _)) => {
                tracing::debug!(attempt, status = %s, "GET answered a retryable status; retrying")
            }
        }
        tokio::time::sleep(wait).await;
    };
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(AppError::new(
            ErrorKind::Unauthorized,
            format!(
                "{} refused access to {what}{}. Check that your OAuth application has the scope for \
                 reading accounts ({}), then disconnect and connect again.",
                endpoints.broker.display_name(),
                error_message(&body).map(|m| format!(" ({m})")).unwrap_or_default(),
                if endpoints.broker == BrokerKind::Tastytrade { "read" } else { "ReadAccount" },
            ),
        ));
    }
    if !status.is_success() {
        return Err(AppError::new(
            ErrorKind::Broker,
            format!(
                "{} answered {status} for {what}{}. Try again in a minute.",
                endpoints.broker.display_name(),
                error_message(&body)
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
        ));
    }
    Ok(body)
}

use std::time::Duration;

/// How API reads are retried.
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    pub base: Duration,
    /// A `Retry-After` longer than this is not waited for: the user is told when to retry.
    pub max_retry_after: Duration,
}

pub const RETRY: RetryPolicy = RetryPolicy {
    attempts: 3,
    base: Duration::from_millis(250),
    max_retry_after: Duration::from_secs(5),
};

impl RetryPolicy {
    /// 250 ms, 500 ms, ... with up to 25 % jitter so concurrent reads do not retry in step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base * 2u32.saturating_pow(attempt.saturating_sub(1));
        let jitter = rand::random::<f64>() * 0.25;
        exp.mul_f64(1.0 + jitter)
    }
}

fn retryable(s: reqwest::StatusCode) -> bool {
    s == reqwest::StatusCode::TOO_MANY_REQUESTS || matches!(s.as_u16(), 500 | 502 | 503 | 504)
}

/// `Retry-After` in seconds (the HTTP-date form is not used by these APIs; it counts as absent).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The `User-Agent` every request carries. Tastytrade answers 401 without a
/// `<product>/<version>` agent, token endpoint included.
pub fn user_agent() -> String {
    format!("keygrant/{}", env!("CARGO_PKG_VERSION"))
}

/// The HTTP client for broker calls: never follows redirects (an OAuth token endpoint that
/// redirects is an error, and following it could leak the code), bounded timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent())
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("a static reqwest configuration builds")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_endpoints_match_the_reference() {
        let t = Endpoints::real(BrokerKind::Tastytrade, Environment::Production).unwrap();
        assert_eq!(
            t.authorize_url.as_str(),
            "https://my.tastytrade.com/auth.html"
        );
        assert_eq!(
            t.token_url.as_str(),
            "https://api.tastyworks.com/oauth/token"
        );
        assert_eq!(
            t.api_base.join("customers/me/accounts").unwrap().as_str(),
            "https://api.tastyworks.com/customers/me/accounts"
        );
        let t = Endpoints::real(BrokerKind::Tastytrade, Environment::Sandbox).unwrap();
        assert_eq!(
            t.authorize_url.as_str(),
            "https://cert-my.staging-tasty.works/auth.html"
        );
        assert_eq!(
            t.token_url.as_str(),
            "https://api.cert.tastyworks.com/oauth/token"
        );
        assert!(!t.use_pkce && t.extra_authorize.is_empty() && t.refresh_body == RefreshBody::Json);

        let s = Endpoints::real(BrokerKind::TradeStation, Environment::Production).unwrap();
        assert_eq!(
            s.authorize_url.as_str(),
            "https://signin.tradestation.com/authorize"
        );
        assert_eq!(
            s.token_url.as_str(),
            "https://signin.tradestation.com/oauth/token"
        );
        assert_eq!(
            s.api_base.join("brokerage/accounts").unwrap().as_str(),
            "https://api.tradestation.com/v3/brokerage/accounts"
        );
        assert_eq!(
            s.extra_authorize,
            vec![(
                "audience".to_string(),
                "https://api.tradestation.com".to_string()
            )]
        );
        let sim = Endpoints::real(BrokerKind::TradeStation, Environment::Sandbox).unwrap();
        assert_eq!(
            sim.api_base.join("brokerage/accounts").unwrap().as_str(),
            "https://sim-api.tradestation.com/v3/brokerage/accounts"
        );
        assert_eq!(sim.refresh_body, RefreshBody::Form);
        assert!(Endpoints::real(BrokerKind::TradeStation, Environment::Demo).is_none());
    }

    #[test]
    fn tradestation_requires_openid_and_offline_access() {
        let d = default_scopes(BrokerKind::TradeStation);
        assert!(d.contains(&"openid".to_string()) && d.contains(&"offline_access".to_string()));
        assert_eq!(
            default_scopes(BrokerKind::Tastytrade),
            vec!["read", "openid"]
        );
    }
}
