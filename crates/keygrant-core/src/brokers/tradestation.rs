//! TradeStation's dialect (also spoken by the Demo broker under `/ts/`).
//!
//! Relied on (docs/brokers.md#tradestation; PyPI `tradestation` 0.2, `account.py` and
//! `session.py`): sign-in at `https://signin.tradestation.com` for both live and sim, with
//! `audience=https://api.tradestation.com` on the authorize URL; a form-encoded token endpoint
//! taking `client_id` and `client_secret` in the body; 20-minute access tokens; `id_token`
//! always in token responses; JSON keys in PascalCase; `GET /v3/brokerage/accounts` returns
//! `{"Accounts": [{"AccountID", "AccountType", "Alias", "AltID", "Currency", "Status",
//! "AccountDetail"}]}`; API errors are `{"Error", "Message"}`.

use serde::Deserialize;

use futures::future::BoxFuture;

use super::{
    Account, BrokerApi, BrokerSpec, Endpoints, HandoffVars, RefreshBody, ScopeSpec, TokenClaims,
    Urls,
};
use crate::error::{AppError, ErrorKind, Result};
use crate::secret::AccessToken;

/// The sign-in (authorize) endpoint, for live and sim.
pub const AUTHORIZE: &str = "https://signin.tradestation.com/authorize";
/// The token endpoint, for live and sim.
pub const TOKEN: &str = "https://signin.tradestation.com/oauth/token";
/// The `audience` every authorize request carries.
pub const AUDIENCE: &str = "https://api.tradestation.com";

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
    #[serde(default)]
    currency: Option<String>,
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
            currency: a.currency.unwrap_or_else(|| "USD".into()),
            api_id: None,
        })
        .collect())
}

fn api_error_message(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("Message")?.as_str().map(str::to_owned)
}

/// `GET {api}/brokerage/accounts` with the access token.
fn fetch_accounts<'a>(
    http: &'a reqwest::Client,
    endpoints: &'a Endpoints,
    access_token: &'a AccessToken,
) -> BoxFuture<'a, Result<Vec<Account>>> {
    Box::pin(async move {
        let body = super::http::api_get(
            http,
            endpoints,
            "brokerage/accounts",
            access_token,
            "the account list",
            api_error_message,
        )
        .await?;
        parse_accounts(&body)
    })
}

use super::portfolio::{self, BalanceKey, Balances, Direction, Position};
use rust_decimal::Decimal;

/// TradeStation's balance fields (PascalCase, some under `BalanceDetail`), with its labels.
const BALANCE_FIELDS: &[(BalanceKey, &str, &str)] = &[
    (BalanceKey::NetLiquidatingValue, "Equity", "Equity"),
    (BalanceKey::Cash, "CashBalance", "Cash balance"),
    (BalanceKey::BuyingPower, "BuyingPower", "Buying power"),
    (
        BalanceKey::OptionBuyingPower,
        "BalanceDetail.OptionBuyingPower",
        "Option buying power",
    ),
    (BalanceKey::MarketValue, "MarketValue", "Market value"),
    (
        BalanceKey::UnrealizedProfitLoss,
        "BalanceDetail.UnrealizedProfitLoss",
        "Unrealized P/L",
    ),
    (BalanceKey::DayProfitLoss, "TodaysProfitLoss", "Today's P/L"),
    (
        BalanceKey::MaintenanceRequirement,
        "BalanceDetail.RequiredMargin",
        "Required margin",
    ),
];

fn format_error(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::Broker,
        format!("TradeStation's {what} was not in the expected format ({e})."),
    )
}

/// An `Errors` entry for `id`, as a message that says what happened.
fn account_error(v: &serde_json::Value, id: &str) -> Option<AppError> {
    let e = v
        .get("Errors")?
        .as_array()?
        .iter()
        .find(|e| e.get("AccountID").and_then(|a| a.as_str()) == Some(id))?;
    let msg = e
        .get("Message")
        .and_then(|m| m.as_str())
        .unwrap_or("no reason given");
    Some(AppError::new(
        ErrorKind::Broker,
        format!("TradeStation could not load account {id}: {msg} Press Refresh to try again."),
    ))
}

/// Parses `GET /brokerage/accounts/{ids}/balances` for account `id`.
pub fn parse_balances(body: &str, id: &str, currency: &str) -> Result<Balances> {
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format_error("balances", e))?;
    let entry = v.get("Balances").and_then(|b| b.as_array()).and_then(|b| {
        b.iter()
            .find(|x| x.get("AccountID").and_then(|a| a.as_str()) == Some(id))
    });
    let Some(entry) = entry else {
        return Err(account_error(&v, id)
            .unwrap_or_else(|| format_error("balances", format!("no entry for {id}"))));
    };
    Ok(Balances {
        currency: currency.to_string(),
        lines: portfolio::lines(entry, BALANCE_FIELDS),
    })
}

/// Units per contract by TradeStation `AssetType`: `STOCK` 1, `STOCKOPTION` and `INDEXOPTION`
/// 100 (the standard US listed option; positions carry no multiplier field), `FUTURE` its
/// point value derived from the broker's own figures as `MarketValue` ÷ (`Last` × |`Quantity`|)
/// when that is a whole number, else unknown (`None`). docs/brokers.md#tradestation-positions.
fn multiplier(
    asset_type: &str,
    market_value: Option<Decimal>,
    last: Option<Decimal>,
    quantity: Decimal,
) -> Option<Decimal> {
    match asset_type {
        "STOCKOPTION" | "INDEXOPTION" => Some(Decimal::ONE_HUNDRED),
        "FUTURE" => {
            let per_unit = last?.checked_mul(quantity.abs())?;
            let m = market_value?.abs().checked_div(per_unit)?;
            (m.fract().is_zero() && m > Decimal::ZERO).then(|| m.normalize())
        }
        _ => Some(Decimal::ONE),
    }
}

/// Parses `GET /brokerage/accounts/{ids}/positions` for account `id`: signed `Quantity`
/// (unsigned in the model) with `LongShort`, `AveragePrice`, `Last` as the price
/// (`price_kind` "last"), and TradeStation's own figures passed through unchanged (source
/// `Broker`): `MarketValue` (signed), `UnrealizedProfitLoss`, `UnrealizedProfitLossPercent`
/// (percent units, 12.5 = 12.5 %), `TodaysProfitLoss` as the day P/L. A figure TradeStation
/// leaves out is computed ([`Position::with_computed_figures`]); for a future whose point
/// value cannot be derived (see `multiplier`) it stays empty ("no multiplier from the
/// broker"). docs/brokers.md#tradestation-positions. Errors: [`ErrorKind::Broker`] when the
/// body is not JSON, has no `Positions`, an item has no `Quantity`, or `Errors` names `id`.
pub fn parse_positions(body: &str, id: &str) -> Result<Vec<Position>> {
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format_error("position list", e))?;
    if let Some(e) = account_error(&v, id) {
        return Err(e);
    }
    let list = v
        .get("Positions")
        .and_then(|p| p.as_array())
        .ok_or_else(|| format_error("position list", "no Positions"))?;
    list.iter()
        .filter(|p| p.get("AccountID").and_then(|a| a.as_str()) == Some(id))
        .map(|p| {
            let text = |k: &str| {
                p.get(k)
                    .and_then(|x| x.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let dec = |k: &str| p.get(k).and_then(portfolio::decimal);
            let quantity = dec("Quantity")
                .ok_or_else(|| format_error("position list", "a position without Quantity"))?;
            let asset_type = text("AssetType");
            let last = dec("Last");
            let market_value = dec("MarketValue");
            let known = multiplier(&asset_type, market_value, last, quantity);
            let (pl, pct) = (
                dec("UnrealizedProfitLoss"),
                dec("UnrealizedProfitLossPercent"),
            );
            // Without a multiplier nothing is computed; say so only if a figure is missing.
            let unknown =
                known.is_none() && (market_value.is_none() || pl.is_none() || pct.is_none());
            Ok(Position {
                symbol: text("Symbol"),
                instrument_type: asset_type,
                quantity: quantity.abs(),
                direction: match text("LongShort").as_str() {
                    _ if quantity.is_zero() => Direction::Flat,
                    "Short" => Direction::Short,
                    _ => Direction::Long,
                },
                average_price: dec("AveragePrice"),
                mark: last,
                market_value,
                multiplier: known.unwrap_or(Decimal::ONE),
                price_kind: last.map(|_| "last".to_string()),
                market_value_source: None,
                unrealized_pl: pl,
                unrealized_pl_percent: pct,
                unrealized_pl_source: None,
                day_pl: dec("TodaysProfitLoss"),
                missing: unknown.then(|| portfolio::NO_MULTIPLIER.to_string()),
            }
            .with_computed_figures())
        })
        .collect()
}

/// The most account IDs one balances or positions request takes
/// (docs/brokers.md#tradestation-balances: 1 to 25, comma-separated).
pub const ACCOUNTS_PER_CALL: usize = 25;

/// `{id1,id2,...}` for the path: each ID percent-encoded, joined with literal commas.
fn path_ids(accounts: &[Account]) -> String {
    accounts
        .iter()
        .map(|a| url::form_urlencoded::byte_serialize(a.number.as_bytes()).collect::<String>())
        .collect::<Vec<_>>()
        .join(",")
}

/// GETs `brokerage/accounts/{ids}/{what}` for each chunk of 25 accounts, all chunks at once,
/// and reads each account's part with `read(body, account)`, in the accounts' order.
async fn per_chunk<T>(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    token: &AccessToken,
    accounts: &[Account],
    (what, label): (&str, &str),
    read: fn(&str, &Account) -> Result<T>,
) -> Result<Vec<Result<T>>> {
    let calls = accounts.chunks(ACCOUNTS_PER_CALL).map(|chunk| async move {
        let path = format!("brokerage/accounts/{}/{what}", path_ids(chunk));
        let body =
            super::http::api_get(http, endpoints, &path, token, label, api_error_message).await?;
        Ok::<_, AppError>(chunk.iter().map(|a| read(&body, a)).collect::<Vec<_>>())
    });
    let mut out = Vec::with_capacity(accounts.len());
    for chunk in futures::future::join_all(calls).await {
        out.extend(chunk?);
    }
    Ok(out)
}

/// `GET {api}/brokerage/accounts/{ids}/balances`, 25 accounts per request
/// (docs/brokers.md#tradestation-balances); an `Errors` entry fails that account only.
fn fetch_balances<'a>(
    http: &'a reqwest::Client,
    endpoints: &'a Endpoints,
    token: &'a AccessToken,
    accounts: &'a [Account],
) -> BoxFuture<'a, Result<Vec<Result<Balances>>>> {
    Box::pin(per_chunk(
        http,
        endpoints,
        token,
        accounts,
        ("balances", "the balances"),
        |body, a| parse_balances(body, &a.number, &a.currency),
    ))
}

/// `GET {api}/brokerage/accounts/{ids}/positions`, 25 accounts per request
/// (docs/brokers.md#tradestation-positions).
fn fetch_positions<'a>(
    http: &'a reqwest::Client,
    endpoints: &'a Endpoints,
    token: &'a AccessToken,
    accounts: &'a [Account],
) -> BoxFuture<'a, Result<Vec<Result<Vec<Position>>>>> {
    Box::pin(per_chunk(
        http,
        endpoints,
        token,
        accounts,
        ("positions", "the positions"),
        |body, a| parse_positions(body, &a.number),
    ))
}

/// TradeStation (docs/brokers.md#tradestation).
pub const SPEC: BrokerSpec = BrokerSpec {
    kind: super::BrokerKind::TradeStation,
    name: "TradeStation",
    production_label: "Live",
    sandbox_label: "Simulated (sim)",
    // docs/brokers.md#tradestation-environments: one sign-in for live and sim.
    production: Some(Urls {
        authorize: AUTHORIZE,
        token: TOKEN,
        api: "https://api.tradestation.com/v3/",
    }),
    sandbox: Some(Urls {
        authorize: AUTHORIZE,
        token: TOKEN,
        api: "https://sim-api.tradestation.com/v3/",
    }),
    demo: Urls {
        authorize: "ts/authorize",
        token: "ts/oauth/token",
        api: "ts/v3/",
    },
    // docs/brokers.md#tradestation-authorize-request
    extra_authorize: &[("audience", AUDIENCE)],
    refresh_body: RefreshBody::Form,
    client_auth: super::ClientAuth::RequestBody,
    // PKCE only for keys switched to it (docs/brokers.md#oauth-2-pkce).
    pkce: false,
    default_redirect_uri: "http://localhost:3001",
    where_to_register: "your TradeStation API key's callback URLs (ask TradeStation API support to add it)",
    app_settings_urls: Some((
        "https://api.tradestation.com/docs/",
        "https://api.tradestation.com/docs/",
    )),
    scopes: &[
        ScopeSpec { name: "openid", description: "Required by TradeStation", default: true, required: true },
        ScopeSpec { name: "offline_access", description: "Issue a refresh token (without it none comes back)", default: true, required: true },
        ScopeSpec { name: "profile", description: "Your name in the ID token", default: true, required: false },
        ScopeSpec { name: "ReadAccount", description: "See accounts, balances and positions", default: true, required: true },
        ScopeSpec { name: "MarketData", description: "Quotes and market data", default: false, required: false },
        ScopeSpec { name: "Trade", description: "Place and cancel orders", default: false, required: false },
        ScopeSpec { name: "OptionSpreads", description: "Option spread endpoints", default: false, required: false },
        ScopeSpec { name: "Matrix", description: "Market depth endpoints", default: false, required: false },
    ],
    read_scope: "ReadAccount",
    no_refresh_token: "TradeStation returned no refresh token: the offline_access scope was not granted. Make sure your API key allows it, then connect again. Nothing was saved.",
    // Live and sim share one sign-in: a grant is not tied to either.
    // docs/brokers.md#tradestation-tokens-and-lifetimes
    dead_grant_causes: "Likely causes: the refresh token was revoked (revoking revokes every refresh token of the API key), or the API key rotates refresh tokens and this one was left unused too long or passed its 24-hour absolute lifetime.",
    grants_differ_by_environment: false,
    // Keygrant's own names, after the SDK's parameter names: the SDK reads no environment
    // (docs/brokers.md#tradestation-hand-off-variables).
    handoff: HandoffVars {
        client_id: &["TRADESTATION_API_KEY"],
        client_secret: &["TRADESTATION_SECRET_KEY"],
        refresh_token: &["TRADESTATION_REFRESH_TOKEN"],
        // Rotation is opt-in per API key (docs/brokers.md#tradestation-tokens-and-lifetimes).
        refresh_may_rotate: true,
        example_api_path: Some("brokerage/accounts"),
    },
    python_snippet: Some(python_snippet),
    api: Some(BrokerApi {
        accounts: fetch_accounts,
        balances: fetch_balances,
        positions: fetch_positions,
        details: None,
        accounts_per_call: ACCOUNTS_PER_CALL,
    }),
    // No version header is known (docs/brokers.md#tradestation-api-requests).
    api_version: None,
    // Opaque refresh tokens; one sign-in for live and sim, so no issuer tells them apart; the
    // `id_token` names the API key in `aud` (docs/brokers.md#tradestation-tokens-and-lifetimes).
    claims: TokenClaims {
        refresh_jwt_typ: None,
        issuers: &[],
        id_token_aud: true,
    },
    sign_in_lifetime: None,
    check_redirect: None,
    check_client: None,
    words: super::OAUTH_WORDS,
};

/// The `tradestation` SDK (0.2, sync): `Session(api_key, secret_key, refresh_token,
/// access_token=None, ..., is_test=False)`; it reads no environment and, given an
/// `access_token`, does not refresh when constructed, so the script spends no refresh token
/// (docs/brokers.md#tradestation-hand-off-variables).
fn python_snippet(v: &HandoffVars, sandbox: bool) -> String {
    format!(
        "import os\n\
         from tradestation import Account, Session  # pip install tradestation\n\n\
         # keygrant exec sets these; the SDK reads no environment itself. With access_token\n\
         # it does not refresh, so a rotating API key's refresh token stays unspent.\n\
         session = Session(\n    \
         os.environ[\"{}\"],\n    \
         os.environ[\"{}\"],\n    \
         os.environ[\"{}\"],\n    \
         access_token=os.environ[\"{}\"],\n    \
         is_test={},\n)\n\
         for account in Account.get_accounts(session):\n    \
         print(account.account_id)\n",
        v.primary_client_id().unwrap_or_default(),
        v.primary_client_secret(),
        v.primary_refresh_token(),
        crate::handoff::ACCESS_TOKEN_VAR,
        if sandbox { "True" } else { "False" }
    )
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
                api_id: None,
                number: "11827633".into(),
                nickname: "Swing".into(),
                account_type: "Margin".into(),
                margin_or_cash: "Margin".into(),
                currency: "USD".into(),
            }
        );
        assert_eq!(a[1].account_type, "Futures");
        assert_eq!(a[1].margin_or_cash, "");
    }

    #[test]
    fn parses_real_shape_balances_and_positions_and_per_account_errors() {
        use super::super::portfolio::{BalanceKey, Direction};
        use rust_decimal::Decimal;
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let body = r#"{"Balances":[{"AccountID":"11827633","AccountType":"Margin","CashBalance":"23417.35",
          "BuyingPower":"81229.64","Equity":"63210.10","MarketValue":"39792.75","TodaysProfitLoss":"-112.50",
          "UnclearedDeposit":"0","Commission":"0","BalanceDetail":{"OptionBuyingPower":"40614.82",
          "UnrealizedProfitLoss":"1203.40","RequiredMargin":"9948.19","RealizedProfitLoss":"0"}}],
          "Errors":[{"AccountID":"11827634","Error":"Failed","Message":"Service unavailable."}]}"#;
        let b = parse_balances(body, "11827633", "USD").unwrap();
        assert_eq!(b.get(BalanceKey::NetLiquidatingValue), Some(d("63210.10")));
        assert_eq!(b.get(BalanceKey::Cash), Some(d("23417.35")));
        assert_eq!(b.get(BalanceKey::BuyingPower), Some(d("81229.64")));
        assert_eq!(b.get(BalanceKey::OptionBuyingPower), Some(d("40614.82")));
        assert_eq!(b.get(BalanceKey::UnrealizedProfitLoss), Some(d("1203.40")));
        assert_eq!(b.lines[0].label, "Equity", "the broker's own label is kept");
        let e = parse_balances(body, "11827634", "USD").unwrap_err();
        assert!(
            e.message.contains("11827634") && e.message.contains("Service unavailable"),
            "{}",
            e.message
        );

        let body = r#"{"Positions":[{"AccountID":"11827633","AssetType":"STOCK","Symbol":"TSLA","Quantity":"-10",
          "LongShort":"Short","AveragePrice":"262.00","Last":"248.10","Bid":"248.09","Ask":"248.11",
          "MarketValue":"-2481.00","TotalCost":"-2620.00","UnrealizedProfitLoss":"139.00","PositionID":"1"},
          {"AccountID":"99","AssetType":"STOCK","Symbol":"X","Quantity":"1","LongShort":"Long"}],"Errors":[]}"#;
        let p = parse_positions(body, "11827633").unwrap();
        assert_eq!(p.len(), 1, "only this account's positions");
        assert_eq!(
            (p[0].symbol.as_str(), p[0].instrument_type.as_str()),
            ("TSLA", "STOCK")
        );
        assert_eq!((p[0].quantity, p[0].direction), (d("10"), Direction::Short));
        assert_eq!(
            (p[0].average_price, p[0].mark, p[0].market_value),
            (Some(d("262.00")), Some(d("248.10")), Some(d("-2481.00")))
        );
        assert_eq!(b.get(BalanceKey::DayProfitLoss), Some(d("-112.50")));
    }

    /// TradeStation's own figures pass through unchanged: the model holds exactly the decimal
    /// written in the JSON text (strings and numbers alike, no binary rounding), even where
    /// price × quantity would give another number.
    #[test]
    fn reported_figures_are_the_json_text_exactly() {
        use super::super::portfolio::FigureSource;
        use rust_decimal::Decimal;
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let body = r#"{"Positions":[
          {"AccountID":"1","AssetType":"STOCKOPTION","Symbol":"SPY 261218P550","Quantity":"-2",
           "LongShort":"Short","AveragePrice":"7.85","Last":"6.05","MarketValue":"-1210.0000000001",
           "UnrealizedProfitLoss":"359.99999999999999","UnrealizedProfitLossPercent":"22.929936305732",
           "TodaysProfitLoss":"10.10"},
          {"AccountID":"1","AssetType":"STOCK","Symbol":"AAPL","Quantity":100,"LongShort":"Long",
           "AveragePrice":182.5,"Last":190.12,"MarketValue":19012.1,"UnrealizedProfitLoss":0.1,
           "UnrealizedProfitLossPercent":4.18,"TodaysProfitLoss":-0.3}],"Errors":[]}"#;
        let p = parse_positions(body, "1").unwrap();
        assert_eq!(p[0].market_value, Some(d("-1210.0000000001")));
        assert_eq!(p[0].unrealized_pl, Some(d("359.99999999999999")));
        assert_eq!(p[0].unrealized_pl_percent, Some(d("22.929936305732")));
        assert_eq!(p[0].day_pl, Some(d("10.10")));
        assert_eq!(p[0].multiplier, d("100"));
        assert_eq!(p[0].price_kind.as_deref(), Some("last"));
        assert_eq!(p[0].market_value_source, Some(FigureSource::Broker));
        assert_eq!(p[0].unrealized_pl_source, Some(FigureSource::Broker));
        assert_eq!(p[0].missing, None);
        // JSON numbers are read through their text: 0.1 stays 0.1, not 0.1000000000000000055.
        assert_eq!(p[1].market_value, Some(d("19012.1")));
        assert_eq!(p[1].unrealized_pl, Some(d("0.1")));
        assert_eq!(p[1].unrealized_pl_percent, Some(d("4.18")));
        assert_eq!(p[1].day_pl, Some(d("-0.3")));
        assert_eq!(p[1].market_value.unwrap().to_string(), "19012.1");
    }

    #[test]
    fn multipliers_by_asset_type_and_missing_figures_computed() {
        use super::super::portfolio::{FigureSource, NO_MULTIPLIER};
        use rust_decimal::Decimal;
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let body = r#"{"Positions":[
          {"AccountID":"1","AssetType":"FUTURE","Symbol":"ESZ6","Quantity":"1","LongShort":"Long",
           "AveragePrice":"6012.25","Last":"6041.00","MarketValue":"302050.00",
           "UnrealizedProfitLoss":"1437.50","UnrealizedProfitLossPercent":"0.48"},
          {"AccountID":"1","AssetType":"FUTURE","Symbol":"CLF7","Quantity":"1","LongShort":"Long",
           "AveragePrice":"60","Last":"61"},
          {"AccountID":"1","AssetType":"STOCK","Symbol":"TSLA","Quantity":"-10","LongShort":"Short",
           "AveragePrice":"262.00","Last":"248.10"}],"Errors":[]}"#;
        let p = parse_positions(body, "1").unwrap();
        // 302050.00 ÷ (6041.00 × 1) = 50.
        assert_eq!(p[0].multiplier, d("50"));
        assert_eq!(p[0].missing, None);
        assert_eq!((p[1].market_value, p[1].unrealized_pl), (None, None));
        assert_eq!(p[1].missing.as_deref(), Some(NO_MULTIPLIER));
        // No broker figures for TSLA: computed, −2481.00 and −((248.10 − 262.00) × 10) = 139.00.
        assert_eq!(
            (
                p[2].market_value,
                p[2].unrealized_pl,
                p[2].unrealized_pl_percent
            ),
            (Some(d("-2481.00")), Some(d("139.00")), Some(d("5.31")))
        );
        assert_eq!(p[2].unrealized_pl_source, Some(FigureSource::Computed));
    }
}
