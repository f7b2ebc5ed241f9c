//! Broker definitions: which endpoints, scopes and OAuth options each broker and environment
//! uses, and the neutral account model the UI renders.

pub mod tastytrade;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::Url;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum BrokerKind {
    /// The loopback fake of the brokers' APIs that ships inside the app.
    Demo,
    Tastytrade,
    TradeStation,
}

impl BrokerKind {
    pub fn display_name(self) -> &'static str {
        match self {
            BrokerKind::Demo => "Demo broker",
            BrokerKind::Tastytrade => "Tastytrade",
            BrokerKind::TradeStation => "TradeStation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Environment {
    Production,
    Sandbox,
}

/// Where a broker's OAuth pages and API live, and how its token endpoint wants to be spoken to.
#[derive(Debug, Clone)]
pub struct Endpoints {
    pub authorize_url: Url,
    pub token_url: Url,
    pub api_base: Url,
    /// Send a PKCE S256 challenge. Tastytrade is reported to refuse PKCE parameters, so this is
    /// a per-broker setting; the Demo broker takes and checks it.
    pub use_pkce: bool,
    pub default_scopes: Vec<String>,
}

impl Endpoints {
    /// The Demo broker speaks the Tastytrade dialect for accounts, on the given loopback base.
    pub fn demo(base: &Url) -> Endpoints {
        Endpoints {
            authorize_url: base.join("auth.html").expect("static path"),
            token_url: base.join("oauth/token").expect("static path"),
            api_base: base.clone(),
            use_pkce: true,
            default_scopes: vec!["read".into(), "openid".into()],
        }
    }
}

/// One brokerage account in the neutral model, with the broker's own words kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Account {
    pub number: String,
    pub nickname: String,
    /// The broker's account type name, e.g. "Individual" or "Roth IRA".
    pub account_type: String,
    /// "Cash" or "Margin" as the broker says it.
    pub margin_or_cash: String,
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
