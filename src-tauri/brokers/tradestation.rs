//! TradeStation's dialect (also spoken by the Demo broker under `/ts/`).
//!
//! Relied on (shared/reference/BROKERS.md; PyPI `tradestation` 0.2, `account.py` and
//! `session.py`): sign-in at `https://signin.tradestation.com` for both live and sim, with
//! `audience=https://api.tradestation.com` on the authorize URL; a form-encoded token endpoint
//! taking `client_id` and `client_secret` in the body; 20-minute access tokens; `id_token`
//! always in token responses; JSON keys in PascalCase; `GET /v3/brokerage/accounts` returns
//! `{"Accounts": [{"AccountID", "AccountType", "Alias", "AltID", "Currency", "Status",
//! "AccountDetail"}]}`; API errors are `{"Error", "Message"}`.

use serde::Deserialize;

use super::{Account, Endpoints};
use crate::error::{AppError, ErrorKind, Result};
use crate::secret::Secret;

pub const AUTHORIZE: &str = "https://signin.tradestation.com/authorize";
pub const TOKEN: &str = "https://signin.tradestation.com/oauth/token";
pub const REVOKE: &str = "https://signin.tradestation.com/oauth/revoke";
pub const AUDIENCE: &str = "https://api.tradestation.com";
pub const LIVE_API: &str = "https://api.tradestation.com/v3/";
pub const SIM_API: &str = "https://sim-api.tradestation.com/v3/";

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AccountsBody {
    accounts: Vec<RawAccount>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RawAccount {
    #[serde(rename = "AccountID")]
    account_id: String,
    account_type: String,
    #[serde(default)]
    alias: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// Parses `GET /brokerage/accounts` into the neutral model. TradeStation's account type is
/// Cash, Margin, Futures or DVP; Cash and Margin are also the cash/margin column.
pub fn parse_accounts(body: &str) -> Result<Vec<Account>> {
    let parsed: AccountsBody = serde_json::from_str(body).map_err(|e| {
        AppError::new(
            ErrorKind::Broker,
            format!("TradeStation's account list was not in the expected format ({e})."),
        )
    })?;
    Ok(parsed
        .accounts
        .into_iter()
        .filter(|a| {
            !a.status
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("closed"))
        })
        .map(|a| Account {
            margin_or_cash: match a.account_type.as_str() {
                "Cash" | "Margin" => a.account_type.clone(),
                _ => String::new(),
            },
            nickname: a.alias.unwrap_or_default(),
            account_type: a.account_type,
            number: a.account_id,
        })
        .collect())
}

fn api_error_message(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("Message")?.as_str().map(str::to_owned)
}

/// `GET {api}/brokerage/accounts` with the access token.
pub async fn fetch_accounts(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    access_token: &Secret,
) -> Result<Vec<Account>> {
    let body = super::api_get(
        http,
        endpoints,
        "brokerage/accounts",
        access_token,
        "the account list",
        api_error_message,
    )
    .await?;
    parse_accounts(&body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_real_shape_account_list() {
        let body = r#"{"Accounts":[
          {"AccountID":"11827633","Currency":"USD","Status":"Active","AccountType":"Margin","Alias":"Swing",
           "AltID":"SIM1","AccountDetail":{"IsStockLocateEligible":false,"EnrolledInRegTProgram":true,
           "RequiresBuyingPowerWarning":false,"DayTradingQualified":true,"OptionApprovalLevel":3,"PatternDayTrader":false}},
          {"AccountID":"210FUT01","Currency":"USD","Status":"Active","AccountType":"Futures"},
          {"AccountID":"OLD1","Currency":"USD","Status":"Closed","AccountType":"Cash"}]}"#;
        let a = parse_accounts(body).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(
            a[0],
            Account {
                number: "11827633".into(),
                nickname: "Swing".into(),
                account_type: "Margin".into(),
                margin_or_cash: "Margin".into()
            }
        );
        assert_eq!(a[1].account_type, "Futures");
        assert_eq!(a[1].margin_or_cash, "");
    }
}
