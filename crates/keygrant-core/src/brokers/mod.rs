//! The brokers. Each broker is one module holding everything true of it, gathered in one
//! [`BrokerSpec`]: endpoints per environment, scopes, redirect and settings-page hints, its
//! token and API error dialects, its balance and position parsers, its hand-off variable
//! names. The rest of the core asks [`BrokerKind::spec`] and never matches on a broker.
//!
//! Adding a broker: write `brokers/<name>.rs` with its `SPEC`, add its variant to
//! [`BrokerKind`] and its line to [`REGISTRY`], add its dialect to the Demo broker
//! (`crates/keygrant-demo`), and its tests. Wire facts: `docs/brokers.md`.

pub mod custom;
pub mod http;
pub mod portfolio;
pub mod schwab;
pub mod tastytrade;
pub mod tradestation;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::Url;

use crate::error::{AppError, ErrorKind, Result};
use crate::secret::AccessToken;

pub use http::{http_client, user_agent};

/// Which broker a profile talks to. Serialised as `"tastytrade"`, `"trade_station"`,
/// `"schwab"`, `"custom"` (profiles.json, IPC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BrokerKind {
    /// Tastytrade (docs/brokers.md#tastytrade).
    Tastytrade,
    /// TradeStation (docs/brokers.md#tradestation).
    TradeStation,
    /// Charles Schwab's Trader API (docs/brokers.md#charles-schwab).
    Schwab,
    /// Any OAuth 2 provider the user describes: refresh token only, no dashboard.
    Custom,
}

/// Every broker's spec: the one registration line per broker.
pub const REGISTRY: &[&BrokerSpec] = &[
    &tastytrade::SPEC,
    &tradestation::SPEC,
    &schwab::SPEC,
    &custom::SPEC,
];

impl BrokerKind {
    /// Everything Keygrant knows about this broker.
    pub fn spec(self) -> &'static BrokerSpec {
        REGISTRY
            .iter()
            .find(|s| s.kind == self)
            .expect("every BrokerKind is registered")
    }

    /// The brokers the wizard offers (those with real endpoints), in the registry's order.
    pub fn known() -> impl Iterator<Item = BrokerKind> {
        REGISTRY
            .iter()
            .filter(|s| s.production.is_some())
            .map(|s| s.kind)
    }

    /// The broker's name as people write it ("Tastytrade", "TradeStation").
    pub fn display_name(self) -> &'static str {
        self.spec().name
    }

    /// Whether Keygrant knows this broker's account API (and so shows a dashboard).
    pub fn has_dashboard(self) -> bool {
        self.spec().api.is_some()
    }

    /// The redirect URI the broker's own SDK and guides use, which most users registered;
    /// empty for a custom provider (any loopback port, RFC 8252 section 7.3).
    pub fn default_redirect_uri(self) -> &'static str {
        self.spec().default_redirect_uri
    }

    /// The environment as the broker names it ("Sandbox (cert)", "Simulated (sim)", ...).
    pub fn env_name(self, env: Environment) -> &'static str {
        let spec = self.spec();
        match env {
            Environment::Demo if spec.production.is_some() => "Demo broker",
            Environment::Demo | Environment::Production => spec.production_label,
            Environment::Sandbox => spec.sandbox_label,
        }
    }

    /// The broker's account API. Errors: [`ErrorKind::InvalidInput`] for a provider without
    /// one (a custom OAuth 2 provider).
    pub fn api(self) -> Result<&'static BrokerApi> {
        self.spec().api.as_ref().ok_or_else(|| {
            AppError::new(
                ErrorKind::InvalidInput,
                "A custom OAuth 2 provider has no account list in Keygrant: use its refresh token in your own code.",
            )
        })
    }
}

/// Who a connection talks to: a known broker, or a custom OAuth 2 provider with its URLs.
/// (profiles.json and the wizard keep the two as `broker` plus `custom`, for compatibility
/// with saved profiles; code asks for this one enum.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// A broker of the [`REGISTRY`] with real endpoints.
    Broker(BrokerKind),
    /// A provider the user described.
    Custom(custom::CustomProvider),
}

impl Provider {
    /// The provider `broker` and `custom` describe. Errors: [`ErrorKind::InvalidInput`] on
    /// the `authorize_url` field when a custom provider comes without its description.
    pub fn new(broker: BrokerKind, custom: Option<&custom::CustomProvider>) -> Result<Provider> {
        if broker.spec().production.is_some() {
            return Ok(Provider::Broker(broker));
        }
        custom.cloned().map(Provider::Custom).ok_or_else(|| {
            AppError::new(
                ErrorKind::InvalidInput,
                "Describe the provider: its authorize URL and token URL.",
            )
            .on_field("authorize_url")
        })
    }

    /// The [`BrokerKind`] whose spec applies.
    pub fn kind(&self) -> BrokerKind {
        match self {
            Provider::Broker(b) => *b,
            Provider::Custom(_) => BrokerKind::Custom,
        }
    }
}

/// Production (Tastytrade production, TradeStation live), the broker's test environment
/// (Tastytrade sandbox/cert, TradeStation sim), or the built-in Demo broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Environment {
    /// The broker's live service.
    Production,
    /// The broker's test service.
    Sandbox,
    /// The Demo broker on loopback, speaking the broker's dialect.
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
    /// docs/brokers.md#tastytrade-refresh-request; no `client_id`).
    Json,
    /// `application/x-www-form-urlencoded`, client authentication as [`ClientAuth`] says
    /// (TradeStation, custom providers).
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

/// A broker's three addresses in one environment, as absolute URLs (or, for
/// [`BrokerSpec::demo`], paths under the Demo broker's base URL).
#[derive(Debug, Clone, Copy)]
pub struct Urls {
    /// The authorization endpoint (RFC 6749 section 3.1).
    pub authorize: &'static str,
    /// The token endpoint (RFC 6749 section 3.2).
    pub token: &'static str,
    /// The REST API base; ends with `/` so relative paths join under it.
    pub api: &'static str,
}

/// One scope as the wizard offers it.
#[derive(Debug, Clone, Copy)]
pub struct ScopeSpec {
    /// The scope token (RFC 6749 section 3.3).
    pub name: &'static str,
    /// What it allows, in a trader's words.
    pub description: &'static str,
    /// Ticked by default.
    pub default: bool,
    /// Cannot be unticked (Keygrant needs it).
    pub required: bool,
}

/// The environment variable names a hand-off gives this broker's credentials under: the
/// `.env` snippet writes every name, and `keygrant exec` sets every name in the child's
/// environment ([`crate::handoff::exec_env`]). Each list is in order of preference; the first
/// name is the one the curl snippet reads. Which SDK reads which name, with sources:
/// `docs/brokers.md#tastytrade-hand-off-variables`, `#tradestation-hand-off-variables`.
#[derive(Debug, Clone, Copy)]
pub struct HandoffVars {
    /// The client ID's names; empty when no SDK reads one and the refresh request needs none.
    pub client_id: &'static [&'static str],
    /// The client secret's names (at least one).
    pub client_secret: &'static [&'static str],
    /// The refresh token's names (at least one).
    pub refresh_token: &'static [&'static str],
    /// Whether the provider may rotate refresh tokens, so that a child process refreshing with
    /// its copy may spend the token Keygrant holds (TradeStation keys opted in to rotation,
    /// `docs/brokers.md#tradestation-tokens-and-lifetimes`; any OAuth 2 provider, RFC 6749
    /// section 6). Drives [`crate::handoff::rotation_warning`].
    pub refresh_may_rotate: bool,
    /// A read-only API path under the API base for the raw-HTTP example (the account list),
    /// relative, without a leading `/`; `None` when Keygrant knows no API of the provider.
    pub example_api_path: Option<&'static str>,
}

impl HandoffVars {
    /// The name the curl snippet reads the client ID from, if any.
    pub fn primary_client_id(&self) -> Option<&'static str> {
        self.client_id.first().copied()
    }

    /// The name the curl snippet reads the client secret from.
    pub fn primary_client_secret(&self) -> &'static str {
        self.client_secret[0]
    }

    /// The name the curl snippet reads the refresh token from.
    pub fn primary_refresh_token(&self) -> &'static str {
        self.refresh_token[0]
    }
}

/// The account list request of a broker's API.
pub type AccountsFn = for<'a> fn(
    &'a reqwest::Client,
    &'a Endpoints,
    &'a AccessToken,
) -> BoxFuture<'a, Result<Vec<Account>>>;
/// The balances request of a broker's API, for up to [`BrokerApi::accounts_per_call`]
/// accounts at once: one result per account, in the order asked (an error for one account,
/// e.g. a TradeStation `Errors` entry, leaves the others); the outer error fails them all.
pub type BalancesFn = for<'a> fn(
    &'a reqwest::Client,
    &'a Endpoints,
    &'a AccessToken,
    &'a [Account],
) -> BoxFuture<'a, Result<Vec<Result<portfolio::Balances>>>>;
/// The positions request of a broker's API, for up to [`BrokerApi::accounts_per_call`]
/// accounts at once; results as [`BalancesFn`].
pub type PositionsFn = for<'a> fn(
    &'a reqwest::Client,
    &'a Endpoints,
    &'a AccessToken,
    &'a [Account],
) -> BoxFuture<'a, Result<Vec<Result<Vec<portfolio::Position>>>>>;

/// One account's balances and positions from a combined request, each with its own error.
pub type DetailsResult = (
    Result<portfolio::Balances>,
    Result<Vec<portfolio::Position>>,
);
/// A combined balances-and-positions request for up to [`BrokerApi::accounts_per_call`]
/// accounts (Schwab's `GET /accounts?fields=positions`): one result per account, in the order
/// asked; the outer error fails them all.
pub type DetailsFn = for<'a> fn(
    &'a reqwest::Client,
    &'a Endpoints,
    &'a AccessToken,
    &'a [Account],
) -> BoxFuture<'a, Result<Vec<DetailsResult>>>;

/// A broker's account API, in the neutral model of [`portfolio`].
pub struct BrokerApi {
    /// The open accounts.
    pub accounts: AccountsFn,
    /// Balances of up to `accounts_per_call` accounts.
    pub balances: BalancesFn,
    /// Positions of up to `accounts_per_call` accounts.
    pub positions: PositionsFn,
    /// Balances and positions in one request, where the broker answers both at once
    /// (Schwab); the session then uses it instead of `balances` and `positions`.
    pub details: Option<DetailsFn>,
    /// How many accounts one balances or positions request takes: 1 (Tastytrade, one path
    /// per account) or more (TradeStation: 25, docs/brokers.md#tradestation-balances). Above
    /// 1 the session fetches a whole dashboard's details in batches.
    pub accounts_per_call: usize,
}

/// Everything Keygrant knows about one broker: the only place broker facts live.
pub struct BrokerSpec {
    /// Which broker.
    pub kind: BrokerKind,
    /// Its name as people write it.
    pub name: &'static str,
    /// Its production environment's name ("Production", "Live").
    pub production_label: &'static str,
    /// Its test environment's name ("Sandbox (cert)", "Simulated (sim)").
    pub sandbox_label: &'static str,
    /// The real service's addresses; `None` for a custom provider (the user gives them).
    pub production: Option<Urls>,
    /// The test service's addresses.
    pub sandbox: Option<Urls>,
    /// The same API in the Demo broker: paths under its base URL.
    pub demo: Urls,
    /// Extra authorize parameters every request carries (TradeStation's `audience`).
    pub extra_authorize: &'static [(&'static str, &'static str)],
    /// The refresh request's body.
    pub refresh_body: RefreshBody,
    /// How the client authenticates at the token endpoint (RFC 6749 section 2.3.1): in the
    /// body (Tastytrade, TradeStation) or HTTP Basic (Schwab).
    pub client_auth: ClientAuth,
    /// Whether the real service takes PKCE parameters.
    pub pkce: bool,
    /// The redirect URI most users registered.
    pub default_redirect_uri: &'static str,
    /// Where that redirect URI is registered, in the broker's words, for error messages.
    pub where_to_register: &'static str,
    /// The broker's page for OAuth applications, per environment (production, sandbox).
    pub app_settings_urls: Option<(&'static str, &'static str)>,
    /// The scopes the wizard offers.
    pub scopes: &'static [ScopeSpec],
    /// The scope that reads accounts, named in "refused access" messages.
    pub read_scope: &'static str,
    /// What to do when a sign-in returned no refresh token.
    pub no_refresh_token: &'static str,
    /// Why a stored refresh token is refused with `invalid_grant`, in the broker's words, for
    /// the "dead grant" message (one or two sentences, ending with a full stop).
    pub dead_grant_causes: &'static str,
    /// Whether a grant of one environment is refused by the other (so a refused pasted
    /// token is worth trying against the other environment).
    pub grants_differ_by_environment: bool,
    /// The hand-off environment variable names.
    pub handoff: HandoffVars,
    /// A Python script using the public SDK as `keygrant exec -- python bot.py` runs it
    /// (credentials from the environment, [`HandoffVars`]), given the names and whether it is
    /// the test environment; `None` when there is no SDK.
    pub python_snippet: Option<fn(&HandoffVars, bool) -> String>,
    /// The account API; `None` when Keygrant shows no dashboard.
    pub api: Option<BrokerApi>,
    /// A header naming the API version the parsers were written for, sent on every API
    /// read, as (name, value); a 406 to it is retried once without it
    /// (docs/brokers.md#tastytrade-api-requests).
    pub api_version: Option<(&'static str, &'static str)>,
    /// What the broker's tokens say about whose they are, for the doctor's ownership check.
    pub claims: TokenClaims,
    /// How long a grant lives after the browser sign-in, whatever the refreshes (Schwab: 7
    /// days, docs/brokers.md#schwab-oauth); `None` when it lives until revoked. Drives the
    /// "sign-in expires in N days" notice and its reminders.
    pub sign_in_lifetime: Option<std::time::Duration>,
    /// The broker's own rules for an entered redirect URI, checked before the generic ones
    /// (Schwab: HTTPS on 127.0.0.1); errors are on the `redirect_uri` field.
    pub check_redirect: Option<fn(&str) -> Result<()>>,
    /// The broker's own shape rules for a pasted client ID and secret (Schwab's App Key and
    /// Secret), checked after the generic ones, in every environment (the Demo broker's Schwab
    /// credentials have Schwab's shape); errors are on the `client_id` or `client_secret` field.
    pub check_client: Option<fn(&str, &str) -> Result<()>>,
    /// What the broker's pages call the client's credentials, used in every message about
    /// them ([`OAUTH_WORDS`]; Schwab's, docs/brokers.md#schwab-oauth).
    pub words: ClientWords,
}

/// A broker's names for an OAuth client's credentials and where they are registered, as its
/// developer pages label them, so a message points at the value the user sees there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientWords {
    /// The client identifier (RFC 6749 section 2.2), mid-sentence: "client ID", "App Key".
    pub id: &'static str,
    /// The client secret, mid-sentence: "client secret", "Secret".
    pub secret: &'static str,
    /// What holds both at the broker: "OAuth application", "app".
    pub app: &'static str,
    /// The registered redirection endpoint (RFC 6749 section 3.1.2): "redirect URI",
    /// "Callback URL".
    pub redirect: &'static str,
}

impl ClientWords {
    /// The client identifier as a label or at a sentence's start: "Client ID", "App Key".
    pub fn id_label(&self) -> String {
        crate::error::capitalized(self.id)
    }

    /// The client secret as a label or at a sentence's start: "Client secret", "Secret".
    pub fn secret_label(&self) -> String {
        crate::error::capitalized(self.secret)
    }
}

/// RFC 6749's words, used by every broker whose pages use them (Tastytrade, TradeStation, a
/// custom provider).
pub const OAUTH_WORDS: ClientWords = ClientWords {
    id: "client ID",
    secret: "client secret",
    app: "OAuth application",
    redirect: "redirect URI",
};

/// What a broker's tokens say about the client and environment they belong to, read by the
/// doctor (`crate::doctor`) from the JWT payload only: signatures are never checked.
#[derive(Debug, Clone, Copy)]
pub struct TokenClaims {
    /// The refresh token is a JWT whose header `typ` is this (Tastytrade's `rt+jwt`) and
    /// whose `aud` is the client ID (docs/brokers.md#tastytrade-environments); `None`: the
    /// refresh token is opaque and is not decoded.
    pub refresh_jwt_typ: Option<&'static str>,
    /// The `iss` the refresh token names in each environment, compared by host (scheme and
    /// trailing `/` ignored); several entries may name one environment. Empty: not compared
    /// (one sign-in serves every environment, as at TradeStation).
    pub issuers: &'static [(Environment, &'static str)],
    /// The token response's `id_token` names the client ID in `aud` (OpenID Connect Core 1.0
    /// section 2; docs/brokers.md#tradestation-tokens-and-lifetimes).
    pub id_token_aud: bool,
}

/// Where a broker's OAuth pages and API live, and how its token endpoint wants to be spoken to.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// The broker these are for.
    pub broker: BrokerKind,
    /// The authorization endpoint.
    pub authorize_url: Url,
    /// The token endpoint.
    pub token_url: Url,
    /// Ends with `/` so relative paths join under it.
    pub api_base: Url,
    /// Send a PKCE S256 challenge (RFC 7636). Off for the real Tastytrade and TradeStation
    /// (docs/brokers.md#oauth-2-pkce), on for the Demo broker, which checks it.
    pub use_pkce: bool,
    /// Extra authorize query parameters (TradeStation's `audience`).
    pub extra_authorize: Vec<(String, String)>,
    /// The refresh request's body.
    pub refresh_body: RefreshBody,
    /// How the client authenticates at the token endpoint.
    pub client_auth: ClientAuth,
}

/// The scopes a broker offers, which of them the wizard ticks by default, and which cannot
/// be unticked.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ScopeInfo {
    /// The scope token.
    pub name: String,
    /// What it allows.
    pub description: String,
    /// Ticked by default.
    pub default: bool,
    /// Cannot be unticked.
    pub required: bool,
}

/// The scopes `broker` offers, in its order.
pub fn scopes(broker: BrokerKind) -> Vec<ScopeInfo> {
    broker
        .spec()
        .scopes
        .iter()
        .map(|s| ScopeInfo {
            name: s.name.into(),
            description: s.description.into(),
            default: s.default,
            required: s.required,
        })
        .collect()
}

/// The scopes ticked by default for `broker`.
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
    /// The real service's endpoints; `None` for the Demo environment and custom providers.
    pub fn real(broker: BrokerKind, env: Environment) -> Option<Endpoints> {
        let spec = broker.spec();
        let urls = match env {
            Environment::Production => spec.production?,
            Environment::Sandbox => spec.sandbox?,
            Environment::Demo => return None,
        };
        Some(Endpoints {
            broker,
            authorize_url: url(urls.authorize),
            token_url: url(urls.token),
            api_base: url(urls.api),
            use_pkce: spec.pkce,
            extra_authorize: Self::extra(spec),
            refresh_body: spec.refresh_body,
            client_auth: spec.client_auth,
        })
    }

    /// The same broker module against the Demo broker (or any double of the broker) at
    /// `base`, in the broker's dialect there. PKCE is on: the Demo broker checks it.
    pub fn at(broker: BrokerKind, base: &Url) -> Endpoints {
        let spec = broker.spec();
        let j = |p: &str| base.join(p).expect("static path");
        Endpoints {
            broker,
            authorize_url: j(spec.demo.authorize),
            token_url: j(spec.demo.token),
            api_base: j(spec.demo.api),
            use_pkce: true,
            extra_authorize: Self::extra(spec),
            refresh_body: spec.refresh_body,
            client_auth: spec.client_auth,
        }
    }

    fn extra(spec: &BrokerSpec) -> Vec<(String, String)> {
        spec.extra_authorize
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// One brokerage account in the neutral model, with the broker's own words kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Account {
    /// The broker's account number, the key of every later request.
    pub number: String,
    /// The name the user gave the account at the broker; empty when none.
    pub nickname: String,
    /// The broker's account type name, e.g. "Individual", "Roth IRA", "Margin".
    pub account_type: String,
    /// "Cash" or "Margin" where the broker says it.
    pub margin_or_cash: String,
    /// The account's currency (Tastytrade accounts are in USD).
    pub currency: String,
    /// What the broker's API calls the account in paths when not its number (Schwab's
    /// `hashValue`, docs/brokers.md#schwab-api); never sent to the window.
    #[serde(skip)]
    #[ts(skip)]
    pub api_id: Option<String>,
}

/// The account list from whichever broker `endpoints` speaks for. Errors: those of the
/// broker's API ([`crate::error::ErrorKind::Unauthorized`], `Broker`, `Network`,
/// `RateLimited`), or `InvalidInput` for a provider without an account API.
pub async fn fetch_accounts(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    access_token: &AccessToken,
) -> Result<Vec<Account>> {
    (endpoints.broker.api()?.accounts)(http, endpoints, access_token).await
}

/// Balances of `accounts` (at most [`BrokerApi::accounts_per_call`]) in the neutral model,
/// one result per account in their order. Errors as [`fetch_accounts`], for the whole call.
pub async fn fetch_balances(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    access_token: &AccessToken,
    accounts: &[Account],
) -> Result<Vec<Result<portfolio::Balances>>> {
    (endpoints.broker.api()?.balances)(http, endpoints, access_token, accounts).await
}

/// Balances and positions of `accounts` in one request, for a broker with
/// [`BrokerApi::details`]; `None` for the others (the caller asks for the two separately).
pub async fn fetch_details(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    access_token: &AccessToken,
    accounts: &[Account],
) -> Option<Result<Vec<DetailsResult>>> {
    let details = endpoints.broker.api().ok()?.details?;
    Some(details(http, endpoints, access_token, accounts).await)
}

/// Positions of `accounts` in the neutral model, as [`fetch_balances`].
pub async fn fetch_positions(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    access_token: &AccessToken,
    accounts: &[Account],
) -> Result<Vec<Result<Vec<portfolio::Position>>>> {
    (endpoints.broker.api()?.positions)(http, endpoints, access_token, accounts).await
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
