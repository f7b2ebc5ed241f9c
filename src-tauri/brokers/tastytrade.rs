//! Tastytrade's REST dialect (also spoken by the Demo broker).
//!
//! Relied on (shared/reference/BROKERS.md, from the `tastytrade` SDK on PyPI): JSON keys are
//! kebab-case; lists come as `{"data": {"items": [...]}}`; API calls carry
//! `Authorization: Bearer <access token>`; `GET /customers/me/accounts` returns items shaped
//! `{"account": {...}, "authority-level": "owner"}`.

use serde::Deserialize;

use super::{Account, Endpoints};
use crate::error::{AppError, ErrorKind, Result};
use crate::secret::Secret;

pub const PRODUCTION_AUTHORIZE: &str = "https://my.tastytrade.com/auth.html";
pub const PRODUCTION_TOKEN: &str = "https://api.tastyworks.com/oauth/token";
pub const PRODUCTION_API: &str = "https://api.tastyworks.com/";
pub const SANDBOX_AUTHORIZE: &str = "https://cert-my.staging-tasty.works/auth.html";
pub const SANDBOX_TOKEN: &str = "https://api.cert.tastyworks.com/oauth/token";
pub const SANDBOX_API: &str = "https://api.cert.tastyworks.com/";

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
}

#[derive(Deserialize)]
struct Items<T> {
    items: Vec<T>,
}

#[derive(Deserialize)]
struct AccountItem {
    account: RawAccount,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawAccount {
    account_number: String,
    #[serde(default)]
    nickname: Option<String>,
    #[serde(default)]
    account_type_name: Option<String>,
    #[serde(default)]
    margin_or_cash: Option<String>,
    #[serde(default)]
    is_closed: bool,
}

/// Parses the body of `GET /customers/me/accounts` into the neutral model, closed accounts
/// left out.
pub fn parse_accounts(body: &str) -> Result<Vec<Account>> {
    let env: Envelope<Items<AccountItem>> = serde_json::from_str(body).map_err(|e| {
        AppError::new(
            ErrorKind::Broker,
            format!("The broker's account list was not in the expected format ({e})."),
        )
    })?;
    Ok(env
        .data
        .items
        .into_iter()
        .filter(|i| !i.account.is_closed)
        .map(|i| Account {
            nickname: i.account.nickname.unwrap_or_default(),
            account_type: i.account.account_type_name.unwrap_or_default(),
            margin_or_cash: i.account.margin_or_cash.unwrap_or_default(),
            number: i.account.account_number,
        })
        .collect())
}

/// `GET {api}/customers/me/accounts` with the access token.
pub async fn fetch_accounts(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    access_token: &Secret,
) -> Result<Vec<Account>> {
    let body = super::api_get(
        http,
        endpoints,
        "customers/me/accounts",
        access_token,
        "the account list",
        api_error_message,
    )
    .await?;
    parse_accounts(&body)
}

/// The message of a Tastytrade API error body, `{"error": {"code", "message"}}`.
fn api_error_message(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("error")?.get("message")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_real_shape_account_list_and_skips_closed_accounts() {
        let body = r#"{"data":{"items":[
          {"account":{"account-number":"5WT00001","external-id":"A1","opened-at":"2024-01-02T15:00:00.000+00:00",
            "nickname":"Main","account-type-name":"Individual","day-trader-status":false,"is-closed":false,
            "is-firm-error":false,"is-firm-proprietary":false,"is-futures-approved":true,"margin-or-cash":"Margin",
            "is-foreign":false,"created-at":"2024-01-02T15:00:00.000+00:00"},"authority-level":"owner"},
          {"account":{"account-number":"5WT00002","nickname":"Old","account-type-name":"Roth IRA","is-closed":true,
            "margin-or-cash":"Cash"},"authority-level":"owner"}]},"context":"/customers/me/accounts"}"#;
        let accounts = parse_accounts(body).unwrap();
        assert_eq!(
            accounts,
            vec![Account {
                number: "5WT00001".into(),
                nickname: "Main".into(),
                account_type: "Individual".into(),
                margin_or_cash: "Margin".into(),
            }]
        );
    }

    #[test]
    fn a_non_tastytrade_body_is_a_clear_error() {
        let err = parse_accounts(r#"{"Accounts":[]}"#).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Broker);
        assert!(err.message.contains("expected format"));
    }
}
