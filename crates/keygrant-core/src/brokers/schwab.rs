//! Charles Schwab's Trader API dialect (also spoken by the Demo broker under `/schwab/`).
//!
//! Relied on (docs/brokers.md#charles-schwab): sign-in at `api.schwabapi.com/v1/oauth`, a
//! form-encoded token endpoint taking the App Key and Secret by HTTP Basic; an HTTPS callback
//! on 127.0.0.1 registered exactly (usually `https://127.0.0.1:8182`); 30-minute access tokens
//! and a refresh token that ends 7 days after the browser sign-in; camelCase JSON whose
//! numbers are JSON numbers (read here through their text, never through a float); account
//! numbers replaced by `hashValue`s in paths; every account's balances and positions in one
//! `GET /accounts?fields=positions`; nicknames from `GET /userPreference`; errors as
//! `{"errors": [{"id", "status", "title", "detail"}]}` or `{"message", "errors"}`.

use std::collections::HashMap;
use std::time::Duration;

use futures::future::BoxFuture;
use rust_decimal::Decimal;
use serde_json::Value;

use super::portfolio::{self, BalanceKey, Balances, Direction, Position};
use super::{
    Account, BrokerApi, BrokerSpec, ClientAuth, DetailsResult, Endpoints, HandoffVars, RefreshBody,
    TokenClaims, Urls,
};
use crate::error::{AppError, ErrorKind, Result};
use crate::secret::AccessToken;

/// The authorization endpoint (docs/brokers.md#schwab-oauth).
pub const AUTHORIZE: &str = "https://api.schwabapi.com/v1/oauth/authorize";
/// The token endpoint: HTTP Basic with the App Key and Secret (docs/brokers.md#schwab-oauth).
pub const TOKEN: &str = "https://api.schwabapi.com/v1/oauth/token";
/// The callback URL most Schwab apps register (docs/brokers.md#schwab-oauth).
pub const DEFAULT_CALLBACK: &str = "https://127.0.0.1:8182";
/// How long a refresh token lives after the browser sign-in: 7 days, not extended by
/// refreshing (docs/brokers.md#schwab-oauth, reported by schwab-py and Schwabdev users).
pub const SIGN_IN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// How many accounts one details request answers: every account of the login
/// (`GET /accounts?fields=positions`), so the session makes one request per dashboard load.
pub const ACCOUNTS_PER_CALL: usize = 1000;

fn format_error(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::Broker,
        format!("Charles Schwab's {what} was not in the expected format ({e})."),
    )
}

/// A body with every JSON number turned into a JSON string of the same text (`12.30` becomes
/// `"12.30"`), so money is read as decimals from what Schwab wrote and never passes through a
/// binary float (docs/brokers.md#schwab-api: numbers are JSON numbers). Strings, keys,
/// `true`, `false` and `null` are kept as they are; the result is valid JSON whenever `json`
/// is.
pub fn numbers_as_text(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len() + json.len() / 4);
    let (mut i, mut copied) = (0, 0);
    let (mut in_string, mut escaped) = (false, false);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
        } else if b == b'"' {
            in_string = true;
            i += 1;
        } else if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            // Every byte here is ASCII, so these are character boundaries.
            out.push_str(&json[copied..start]);
            out.push('"');
            out.push_str(&json[start..i]);
            out.push('"');
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&json[copied..]);
    out
}

/// `json` parsed with its numbers as strings ([`numbers_as_text`]).
fn parse_exact(json: &str, what: &str) -> Result<Value> {
    serde_json::from_str(&numbers_as_text(json)).map_err(|e| format_error(what, e))
}

/// The message of a Schwab API error body: the `errors` entries' `title` and `detail`, or
/// `message` (docs/brokers.md#schwab-api).
fn api_error_message(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    let entries: Vec<String> = v
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let text = |k: &str| e.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
            match (text("title"), text("detail")) {
                (Some(t), Some(d)) => Some(format!("{t}: {d}")),
                (a, b) => a.or(b).map(str::to_owned),
            }
        })
        .collect();
    if !entries.is_empty() {
        return Some(entries.join("; "));
    }
    v.get("message")?.as_str().map(str::to_owned)
}

/// Parses `GET /accounts/accountNumbers`: `[{"accountNumber", "hashValue"}]` as
/// (number, hash) pairs in Schwab's order. Errors: [`ErrorKind::Broker`].
pub fn parse_account_numbers(body: &str) -> Result<Vec<(String, String)>> {
    let v = parse_exact(body, "account number list")?;
    let list = v
        .as_array()
        .ok_or_else(|| format_error("account number list", "not a list"))?;
    list.iter()
        .map(|e| {
            let text = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_owned);
            match (text("accountNumber"), text("hashValue")) {
                (Some(n), Some(h)) => Ok((n, h)),
                _ => Err(format_error(
                    "account number list",
                    "an entry without accountNumber or hashValue",
                )),
            }
        })
        .collect()
}

/// Nicknames by account number from `GET /userPreference` (an object whose `accounts` hold
/// `accountNumber` and `nickName`; an array holding that object is read too, as the spec
/// describes it). Anything unreadable gives no nicknames rather than an error.
pub fn parse_nicknames(body: &str) -> HashMap<String, String> {
    let Ok(v) = parse_exact(body, "user preferences") else {
        return HashMap::new();
    };
    let prefs = match &v {
        Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    prefs
        .get("accounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let number = a.get("accountNumber")?.as_str()?;
            let nick = a.get("nickName")?.as_str()?.trim();
            (!nick.is_empty()).then(|| (number.to_string(), nick.to_string()))
        })
        .collect()
}

/// The `securitiesAccount` objects of a `GET /accounts` or `GET /accounts/{hash}` answer (a
/// list of `{"securitiesAccount", "aggregatedBalance"}`, or one such object).
fn securities_accounts(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(list) => list
            .iter()
            .filter_map(|e| e.get("securitiesAccount"))
            .collect(),
        other => other.get("securitiesAccount").into_iter().collect(),
    }
}

/// The account list: the numbers and hashes of `GET /accounts/accountNumbers` (the source of
/// truth for which accounts exist), each account's `type` (MARGIN, CASH) from `GET /accounts`
/// and nicknames from `GET /userPreference`, each when it could be read (`None`: left empty). Schwab's words are kept:
/// `account_type` "MARGIN", `margin_or_cash` "Margin". Errors: [`ErrorKind::Broker`].
pub fn parse_accounts(
    numbers_body: &str,
    accounts_body: Option<&str>,
    preferences_body: Option<&str>,
) -> Result<Vec<Account>> {
    let numbers = parse_account_numbers(numbers_body)?;
    let v = match accounts_body {
        Some(body) => parse_exact(body, "account list")?,
        None => Value::Null,
    };
    let types: HashMap<String, String> = securities_accounts(&v)
        .into_iter()
        .filter_map(|a| {
            Some((
                a.get("accountNumber")?.as_str()?.to_string(),
                a.get("type")?.as_str()?.to_string(),
            ))
        })
        .collect();
    let nicknames = preferences_body.map(parse_nicknames).unwrap_or_default();
    Ok(numbers
        .into_iter()
        .map(|(number, hash)| {
            let kind = types.get(&number).cloned().unwrap_or_default();
            Account {
                margin_or_cash: match kind.as_str() {
                    "MARGIN" => "Margin".into(),
                    "CASH" => "Cash".into(),
                    _ => String::new(),
                },
                account_type: kind,
                nickname: nicknames.get(&number).cloned().unwrap_or_default(),
                api_id: Some(hash),
                number,
                currency: "USD".into(),
            }
        })
        .collect())
}

/// A margin account's `currentBalances` fields, with Schwab's labels
/// (docs/brokers.md#schwab-api).
const MARGIN_BALANCES: &[(BalanceKey, &str, &str)] = &[
    (
        BalanceKey::NetLiquidatingValue,
        "liquidationValue",
        "Liquidation value",
    ),
    (BalanceKey::Cash, "cashBalance", "Cash balance"),
    (BalanceKey::BuyingPower, "buyingPower", "Buying power"),
    (
        BalanceKey::DayTradingBuyingPower,
        "dayTradingBuyingPower",
        "Day trading buying power",
    ),
    (
        BalanceKey::MaintenanceRequirement,
        "maintenanceRequirement",
        "Maintenance requirement",
    ),
    (
        BalanceKey::MarketValue,
        "longMarketValue",
        "Long market value",
    ),
    (
        BalanceKey::AvailableToWithdraw,
        "availableFunds",
        "Available funds",
    ),
];

/// A cash account's `currentBalances` fields, with Schwab's labels.
const CASH_BALANCES: &[(BalanceKey, &str, &str)] = &[
    (
        BalanceKey::NetLiquidatingValue,
        "liquidationValue",
        "Liquidation value",
    ),
    (BalanceKey::Cash, "totalCash", "Total cash"),
    (
        BalanceKey::BuyingPower,
        "cashAvailableForTrading",
        "Cash available for trading",
    ),
    (
        BalanceKey::MarketValue,
        "longMarketValue",
        "Long market value",
    ),
    (
        BalanceKey::AvailableToWithdraw,
        "cashAvailableForWithdrawal",
        "Cash available for withdrawal",
    ),
];

/// Units per contract by Schwab `assetType`: `OPTION` 100 (the standard US listed option;
/// positions carry no multiplier), `FUTURE` and `FUTURE_OPTION` unknown (`None`), anything
/// else (EQUITY, COLLECTIVE_INVESTMENT, MUTUAL_FUND, FIXED_INCOME, ...) 1.
fn multiplier(asset_type: &str) -> Option<Decimal> {
    match asset_type {
        "OPTION" => Some(Decimal::ONE_HUNDRED),
        "FUTURE" | "FUTURE_OPTION" => None,
        _ => Some(Decimal::ONE),
    }
}

/// The `price_kind` of a Schwab position's price, which Keygrant derives from Schwab's
/// market value because Schwab sends none.
pub const PRICE_KIND: &str = "from market value";

/// One Schwab position in the neutral model: quantity `longQuantity` − `shortQuantity`
/// (unsigned, with the direction), `averagePrice` (per share; `averageLongPrice` or
/// `averageShortPrice` when absent), and Schwab's own figures unchanged: `marketValue`,
/// `longOpenProfitLoss` / `shortOpenProfitLoss` as the unrealized P/L and
/// `currentDayProfitLoss` as the day P/L. Schwab sends no price per unit: the price shown is
/// derived from its market value ([`PRICE_KIND`]); a figure Schwab leaves out is computed from
/// that price where it can be, else the cell says why.
fn position(p: &Value) -> Result<Position> {
    let dec = |k: &str| p.get(k).and_then(portfolio::decimal);
    let instrument = p.get("instrument");
    let text = |k: &str| {
        instrument
            .and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let long = dec("longQuantity").unwrap_or_default();
    let short = dec("shortQuantity").unwrap_or_default();
    if dec("longQuantity").is_none() && dec("shortQuantity").is_none() {
        return Err(format_error(
            "position list",
            "a position without longQuantity or shortQuantity",
        ));
    }
    let net = long - short;
    let direction = if net > Decimal::ZERO {
        Direction::Long
    } else if net < Decimal::ZERO {
        Direction::Short
    } else {
        Direction::Flat
    };
    let asset_type = text("assetType");
    let known = multiplier(&asset_type);
    let (average, pl) = match direction {
        Direction::Short => (
            dec("averagePrice").or_else(|| dec("averageShortPrice")),
            dec("shortOpenProfitLoss"),
        ),
        _ => (
            dec("averagePrice").or_else(|| dec("averageLongPrice")),
            dec("longOpenProfitLoss"),
        ),
    };
    let market_value = dec("marketValue");
    let unknown = known.is_none() && (market_value.is_none() || pl.is_none());
    // Schwab sends no price; the one its market value used is |value| ÷ (quantity ×
    // multiplier), exact to 4 places of the division.
    let price = match (market_value, known) {
        (Some(v), Some(m)) if !net.is_zero() => v
            .abs()
            .checked_div(net.abs() * m)
            .map(|p| p.round_dp(4).normalize()),
        _ => None,
    };
    Ok(Position {
        symbol: text("symbol"),
        instrument_type: asset_type,
        quantity: net.abs(),
        direction,
        average_price: average,
        mark: price,
        market_value,
        multiplier: known.unwrap_or(Decimal::ONE),
        price_kind: price.map(|_| PRICE_KIND.to_string()),
        market_value_source: None,
        unrealized_pl: pl,
        unrealized_pl_percent: None,
        unrealized_pl_source: None,
        day_pl: dec("currentDayProfitLoss"),
        missing: unknown.then(|| portfolio::NO_MULTIPLIER.to_string()),
    }
    .with_computed_figures())
}

/// Balances and positions of account `number` from a `GET /accounts?fields=positions` (or
/// `GET /accounts/{hash}?fields=positions`) answer: `currentBalances` read with the margin or
/// cash field list by the account's `type`, and its `positions` (none when the key is absent,
/// as for an account holding nothing). Errors: [`ErrorKind::Broker`] when the account is not in
/// the answer or a position has no quantity.
pub fn parse_details(body: &str, number: &str) -> Result<(Balances, Vec<Position>)> {
    let v = parse_exact(body, "account details")?;
    details_of(&v, number)
}

fn details_of(v: &Value, number: &str) -> Result<(Balances, Vec<Position>)> {
    let account = securities_accounts(v)
        .into_iter()
        .find(|a| a.get("accountNumber").and_then(Value::as_str) == Some(number))
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::Broker,
                format!(
                    "Charles Schwab did not include account {number} in its answer. Press Refresh; \
                     if it stays missing, check the account on schwab.com."
                ),
            )
        })?;
    let fields = match account.get("type").and_then(Value::as_str) {
        Some("CASH") => CASH_BALANCES,
        _ => MARGIN_BALANCES,
    };
    let balances = Balances {
        currency: "USD".into(),
        lines: account
            .get("currentBalances")
            .map(|b| portfolio::lines(b, fields))
            .unwrap_or_default(),
    };
    let positions = account
        .get("positions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(position)
        .collect::<Result<Vec<_>>>()?;
    let mut balances = balances;
    // Schwab reports today's P/L per position only: the account's is their sum, shown when
    // every position reports one.
    let day: Option<Decimal> = positions
        .iter()
        .try_fold(Decimal::ZERO, |sum, p| sum.checked_add(p.day_pl?));
    if let (Some(day), false) = (day, positions.is_empty()) {
        balances.lines.push(portfolio::BalanceLine {
            key: BalanceKey::DayProfitLoss,
            label: "Day P/L (sum of positions)".into(),
            value: day,
        });
    }
    Ok((balances, positions))
}

/// `GET {api}/accounts/accountNumbers`, `GET {api}/accounts` and `GET {api}/userPreference`
/// at once; a failing `userPreference` only costs the nicknames, a failing `accounts` (one
/// broken account fails it whole) only the account types.
fn fetch_accounts<'a>(
    http: &'a reqwest::Client,
    endpoints: &'a Endpoints,
    token: &'a AccessToken,
) -> BoxFuture<'a, Result<Vec<Account>>> {
    Box::pin(async move {
        let get = |path: &'a str, what: &'a str| {
            super::http::api_get(http, endpoints, path, token, what, api_error_message)
        };
        let (numbers, accounts, preferences) = futures::join!(
            get("accounts/accountNumbers", "the account numbers"),
            get("accounts", "the account list"),
            get("userPreference", "the account nicknames"),
        );
        let optional = |r: Result<String>, what: &str| match r {
            Ok(body) => Some(body),
            Err(e) if matches!(e.kind, ErrorKind::Broker | ErrorKind::Forbidden) => {
                tracing::info!(kind = ?e.kind, "Schwab {what} failed; shown without it");
                None
            }
            // A 401 or 429 is the whole call's: the session refreshes or holds back.
            Err(_) => None,
        };
        let numbers = numbers?;
        let (accounts, preferences) = match (accounts, preferences) {
            (Err(e), _) | (_, Err(e))
                if matches!(e.kind, ErrorKind::Unauthorized | ErrorKind::RateLimited) =>
            {
                return Err(e)
            }
            (a, p) => (optional(a, "accounts"), optional(p, "userPreference")),
        };
        parse_accounts(&numbers, accounts.as_deref(), preferences.as_deref())
    })
}

/// Every asked account's balances and positions in one request: `GET
/// {api}/accounts/{hashValue}?fields=positions` for a single account, `GET
/// {api}/accounts?fields=positions` for more (docs/brokers.md#schwab-api). When the
/// all-accounts request fails with a server error (one broken account fails it whole), each
/// account is asked for by its hash instead, so only the broken one shows an error.
fn fetch_details<'a>(
    http: &'a reqwest::Client,
    endpoints: &'a Endpoints,
    token: &'a AccessToken,
    accounts: &'a [Account],
) -> BoxFuture<'a, Result<Vec<DetailsResult>>> {
    Box::pin(async move {
        let path = match accounts {
            [Account {
                api_id: Some(hash), ..
            }] => format!("accounts/{}?fields=positions", urlencode(hash)),
            _ => "accounts?fields=positions".to_string(),
        };
        let body = match super::http::api_get(
            http,
            endpoints,
            &path,
            token,
            "the balances and positions",
            api_error_message,
        )
        .await
        {
            Ok(body) => body,
            Err(e) if e.kind == ErrorKind::Broker && accounts.len() > 1 => {
                tracing::info!("Schwab's all-accounts request failed; asking account by account");
                let one = |a: &'a Account| async move {
                    match fetch_details(http, endpoints, token, std::slice::from_ref(a)).await {
                        Ok(mut v) => v.pop().unwrap_or_else(|| {
                            let e = AppError::internal("no answer for the account");
                            (Err(e.clone()), Err(e))
                        }),
                        Err(e) => (Err(e.clone()), Err(e)),
                    }
                };
                return Ok(futures::future::join_all(accounts.iter().map(one)).await);
            }
            Err(e) => return Err(e),
        };
        let v = parse_exact(&body, "account details")?;
        Ok(accounts
            .iter()
            .map(|a| match details_of(&v, &a.number) {
                Ok((b, p)) => (Ok(b), Ok(p)),
                Err(e) => (Err(e.clone()), Err(e)),
            })
            .collect())
    })
}

/// Balances through [`fetch_details`] (Schwab has no balances-only request).
fn fetch_balances<'a>(
    http: &'a reqwest::Client,
    endpoints: &'a Endpoints,
    token: &'a AccessToken,
    accounts: &'a [Account],
) -> BoxFuture<'a, Result<Vec<Result<Balances>>>> {
    Box::pin(async move {
        let all = fetch_details(http, endpoints, token, accounts).await?;
        Ok(all.into_iter().map(|(b, _)| b).collect())
    })
}

/// Positions through [`fetch_details`].
fn fetch_positions<'a>(
    http: &'a reqwest::Client,
    endpoints: &'a Endpoints,
    token: &'a AccessToken,
    accounts: &'a [Account],
) -> BoxFuture<'a, Result<Vec<Result<Vec<Position>>>>> {
    Box::pin(async move {
        let all = fetch_details(http, endpoints, token, accounts).await?;
        Ok(all.into_iter().map(|(_, p)| p).collect())
    })
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Checks a callback URL entered for a Schwab app before anything is sent, naming the usual
/// mistakes on the `redirect_uri` field (docs/brokers.md#schwab-oauth): Schwab requires HTTPS
/// and its portal refuses `localhost`, so a callback with either cannot be the registered one.
/// A trailing slash or a path is accepted (it is sent exactly as entered) but must match the
/// registration character for character. Errors: [`ErrorKind::InvalidInput`].
pub fn check_callback(uri: &str) -> Result<()> {
    let uri = uri.trim();
    let bad =
        |msg: String| Err(AppError::new(ErrorKind::InvalidInput, msg).on_field("redirect_uri"));
    let Ok(parsed) = url::Url::parse(uri) else {
        return bad(format!(
            "\"{uri}\" is not a URL. Enter your app's Callback URL exactly as registered in the \
             Schwab Developer Portal, usually {DEFAULT_CALLBACK}."
        ));
    };
    if parsed.scheme() == "http" {
        return bad(format!(
            "Schwab callback URLs must start with https:// (Schwab refuses http). Enter the one \
             registered for your app, such as {DEFAULT_CALLBACK}; Keygrant answers it with a \
             certificate made on this computer."
        ));
    }
    if parsed.host_str() == Some("localhost") {
        return bad(format!(
            "Schwab's portal does not accept localhost: register and enter 127.0.0.1 instead, \
             such as {DEFAULT_CALLBACK}."
        ));
    }
    if parsed.scheme() != "https" || parsed.host_str() != Some("127.0.0.1") {
        return bad(format!(
            "Keygrant can receive Schwab's sign-in only on this computer: the callback must be \
             https://127.0.0.1 with a port, such as {DEFAULT_CALLBACK}, registered the same way \
             for your app. \"{uri}\" is not one."
        ));
    }
    Ok(())
}

/// The App Key and Secret lengths Schwab is known to issue: 32 and 16 characters, and since
/// 2025 48 and 64 (docs/brokers.md#schwab-oauth; Schwabdev 2.5.1 accepts exactly these).
const KEY_LENGTHS: [usize; 2] = [32, 48];
const SECRET_LENGTHS: [usize; 2] = [16, 64];

/// Checks the shape of a pasted App Key and Secret (docs/brokers.md#schwab-oauth): letters and
/// digits only, and not swapped (a key of a secret's length with a secret of a key's length).
/// A length Schwab is not known to issue is accepted, in case Schwab changes them again.
/// Errors: [`ErrorKind::InvalidInput`] on `client_id` or `client_secret`.
pub fn check_app_key(app_key: &str, secret: &str) -> Result<()> {
    let bad =
        |field: &str, msg: String| Err(AppError::new(ErrorKind::InvalidInput, msg).on_field(field));
    if !app_key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return bad(
            "client_id",
            "A Schwab App Key is letters and digits only. Copy it again from your app's page in the Schwab Developer Portal (Dashboard > View Details)."
                .into(),
        );
    }
    if !secret.chars().all(|c| c.is_ascii_alphanumeric()) {
        return bad(
            "client_secret",
            "A Schwab Secret is letters and digits only. Copy it again from your app's page in the Schwab Developer Portal."
                .into(),
        );
    }
    // Shorter than any Secret Schwab issues is a piece of one: other lengths are let through
    // in case Schwab changes them again (docs/brokers.md#schwab-oauth).
    let shortest = *SECRET_LENGTHS.iter().min().unwrap_or(&16);
    if app_key.len() < shortest {
        return bad(
            "client_id",
            format!(
                "This App Key has {} characters; Schwab's have {} or more. Copy the whole App Key from your app's page in the Schwab Developer Portal.",
                app_key.len(),
                KEY_LENGTHS.iter().min().unwrap_or(&32)
            ),
        );
    }
    if SECRET_LENGTHS.contains(&app_key.len()) && KEY_LENGTHS.contains(&secret.len()) {
        return bad(
            "client_id",
            format!(
                "These look swapped: the App Key has {} characters, like a Secret, and the Secret {}, like an App Key. Put the App Key in the first field.",
                app_key.len(),
                secret.len()
            ),
        );
    }
    Ok(())
}

/// Charles Schwab (docs/brokers.md#charles-schwab). Production only: Schwab has no sandbox for
/// individual developers.
pub const SPEC: BrokerSpec = BrokerSpec {
    kind: super::BrokerKind::Schwab,
    name: "Charles Schwab",
    production_label: "Production",
    sandbox_label: "",
    production: Some(Urls {
        authorize: AUTHORIZE,
        token: TOKEN,
        api: "https://api.schwabapi.com/trader/v1/",
    }),
    sandbox: None,
    demo: Urls {
        authorize: "schwab/v1/oauth/authorize",
        token: "schwab/v1/oauth/token",
        api: "schwab/trader/v1/",
    },
    extra_authorize: &[],
    refresh_body: RefreshBody::Form,
    client_auth: ClientAuth::Basic,
    // schwab-py sends none and no report says Schwab takes it (docs/brokers.md#schwab-oauth).
    pkce: false,
    default_redirect_uri: DEFAULT_CALLBACK,
    where_to_register: "your app's Callback URL in the Schwab Developer Portal (Dashboard > View Details > Modify)",
    app_settings_urls: Some((
        "https://developer.schwab.com/dashboard/apps",
        "https://developer.schwab.com/dashboard/apps",
    )),
    // Schwab's authorize request takes no scope; tokens come back with scope "api".
    scopes: &[],
    read_scope: "api",
    no_refresh_token: "Charles Schwab returned no refresh token. Sign in again; if it keeps happening, check that your app's status is \"Ready For Use\" in the Schwab Developer Portal. Nothing was saved.",
    dead_grant_causes: "Schwab ends every refresh token 7 days after the browser sign-in, and a newer sign-in with the same App Key (here, or in another tool) replaces the earlier one. Sign in again to renew it.",
    grants_differ_by_environment: false,
    handoff: HandoffVars {
        // Keygrant's names, then Schwabdev's examples' `.env` names (docs/brokers.md#schwab-hand-off-variables).
        client_id: &["SCHWAB_APP_KEY", "app_key"],
        client_secret: &["SCHWAB_APP_SECRET", "app_secret"],
        refresh_token: &["SCHWAB_REFRESH_TOKEN"],
        // Schwab returns the same refresh token until the next sign-in (docs/brokers.md#schwab-oauth).
        refresh_may_rotate: false,
        example_api_path: Some("accounts/accountNumbers"),
    },
    python_snippet: Some(python_snippet),
    api: Some(BrokerApi {
        accounts: fetch_accounts,
        balances: fetch_balances,
        positions: fetch_positions,
        details: Some(fetch_details),
        accounts_per_call: ACCOUNTS_PER_CALL,
    }),
    api_version: None,
    // Opaque refresh tokens; production only.
    claims: TokenClaims {
        refresh_jwt_typ: None,
        issuers: &[],
        id_token_aud: false,
    },
    sign_in_lifetime: Some(SIGN_IN_LIFETIME),
    check_redirect: Some(check_callback),
    check_client: Some(check_app_key),
    words: super::ClientWords {
        id: "App Key",
        secret: "Secret",
        app: "app",
        redirect: "Callback URL",
    },
};

/// schwab-py (1.5) through `keygrant exec`: `client_from_access_functions` reads the token
/// from a function, in its wrapped form `{"creation_timestamp", "token": {...}}`; with
/// `expires_at` in the future it uses the access token as is, and refreshes (HTTP Basic,
/// through authlib) only past it; the write function gets the refreshed token
/// (docs/brokers.md#schwab-hand-off-variables). No token file is read or written.
fn python_snippet(v: &HandoffVars, _sandbox: bool) -> String {
    format!(
        "import os\n\
         from schwab.auth import client_from_access_functions  # pip install schwab-py\n\n\
         # keygrant exec sets these; no token file is read or written.\n\
         token = {{\n    \
         \"creation_timestamp\": int(os.environ.get(\"{signed_in}\", \"0\")),\n    \
         \"token\": {{\n        \
         \"access_token\": os.environ[\"{access}\"],\n        \
         \"refresh_token\": os.environ[\"{refresh}\"],\n        \
         \"token_type\": \"Bearer\",\n        \
         \"expires_at\": int(os.environ.get(\"{expires}\", \"0\")),\n    \
         }},\n}}\n\
         client = client_from_access_functions(\n    \
         os.environ[\"{key}\"],\n    \
         os.environ[\"{secret}\"],\n    \
         token_read_func=lambda: token,\n    \
         # A refreshed token stays in this process; Keygrant keeps the grant.\n    \
         token_write_func=lambda wrapped, *args, **kwargs: token.update(wrapped),\n)\n\
         for account in client.get_account_numbers().json():\n    \
         print(account[\"accountNumber\"])\n",
        signed_in = crate::handoff::SIGNED_IN_AT_VAR,
        access = crate::handoff::ACCESS_TOKEN_VAR,
        expires = crate::handoff::ACCESS_EXPIRES_AT_VAR,
        refresh = v.primary_refresh_token(),
        key = v.primary_client_id().unwrap_or_default(),
        secret = v.primary_client_secret(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brokers::portfolio::FigureSource;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn numbers_become_their_own_text_and_nothing_else_changes() {
        let src =
            r#"{"a":100.07,"b":[-0.1,2E-3,1e+30,0],"c":"x 1.5 \"9\"","d\\":true,"e":null,"f":-12}"#;
        let out = numbers_as_text(src);
        assert_eq!(
            out,
            r#"{"a":"100.07","b":["-0.1","2E-3","1e+30","0"],"c":"x 1.5 \"9\"","d\\":true,"e":null,"f":"-12"}"#
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["a"], "100.07");
        // Same structure as the original.
        let orig: Value = serde_json::from_str(src).unwrap();
        assert_eq!(orig["b"].as_array().unwrap().len(), 4);
        assert_eq!(v["c"], orig["c"]);
        // Unicode around numbers survives.
        assert_eq!(
            numbers_as_text(r#"{"é":1.10,"ü":"€2"}"#),
            r#"{"é":"1.10","ü":"€2"}"#
        );
    }

    #[test]
    fn account_list_maps_numbers_to_hashes_types_and_nicknames() {
        let numbers = r#"[{"accountNumber":"12345678","hashValue":"AB12"},{"accountNumber":"87654321","hashValue":"CD34"}]"#;
        let accounts = r#"[{"securitiesAccount":{"type":"MARGIN","accountNumber":"12345678","roundTrips":0,
            "isDayTrader":false,"isClosingOnlyRestricted":false,"pfcbFlag":false,
            "currentBalances":{"liquidationValue":1234.56}},"aggregatedBalance":{"currentLiquidationValue":1234.56,"liquidationValue":1234.56}},
            {"securitiesAccount":{"type":"CASH","accountNumber":"87654321"}}]"#;
        let prefs = r#"{"accounts":[{"accountNumber":"12345678","primaryAccount":true,"type":"BROKERAGE",
            "nickName":"Swing","displayAcctId":"...678","autoPositionEffect":false,"accountColor":"Green"}],
            "streamerInfo":[],"offers":[]}"#;
        let a = parse_accounts(numbers, Some(accounts), Some(prefs)).unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(
            (
                a[0].number.as_str(),
                a[0].api_id.as_deref(),
                a[0].nickname.as_str()
            ),
            ("12345678", Some("AB12"), "Swing")
        );
        assert_eq!(
            (a[0].account_type.as_str(), a[0].margin_or_cash.as_str()),
            ("MARGIN", "Margin")
        );
        assert_eq!(
            (a[1].account_type.as_str(), a[1].margin_or_cash.as_str()),
            ("CASH", "Cash")
        );
        assert_eq!(a[1].nickname, "");
        // Without preferences: no nicknames, same accounts.
        let b = parse_accounts(numbers, Some(accounts), None).unwrap();
        let c = parse_accounts(numbers, None, None).unwrap();
        assert_eq!(
            (c.len(), c[0].account_type.as_str(), c[0].api_id.as_deref()),
            (2, "", Some("AB12"))
        );
        assert_eq!(
            b.iter().map(|x| &x.nickname).collect::<Vec<_>>(),
            vec!["", ""]
        );
        assert!(parse_account_numbers(r#"[{"accountNumber":"1"}]"#).is_err());
    }

    #[test]
    fn balances_and_positions_field_by_field_without_float_rounding() {
        let body = r#"[{"securitiesAccount":{"type":"MARGIN","accountNumber":"12345678",
          "positions":[
            {"shortQuantity":0,"averagePrice":182.5,"currentDayProfitLoss":-12.3,"currentDayProfitLossPercentage":-0.07,
             "longQuantity":100,"settledLongQuantity":100,"settledShortQuantity":0,
             "instrument":{"assetType":"EQUITY","cusip":"037833100","symbol":"AAPL","netChange":-0.12},
             "marketValue":19012.1,"maintenanceRequirement":5703.63,"averageLongPrice":182.5,"longOpenProfitLoss":762.1,
             "previousSessionLongQuantity":100,"currentDayCost":0},
            {"shortQuantity":10,"averagePrice":262.0,"currentDayProfitLoss":3.1,"longQuantity":0,
             "instrument":{"assetType":"EQUITY","symbol":"TSLA"},"marketValue":-2481.0,"averageShortPrice":262.0,
             "shortOpenProfitLoss":139.0},
            {"shortQuantity":0,"averagePrice":2.35,"currentDayProfitLoss":15,"longQuantity":2,
             "instrument":{"assetType":"OPTION","symbol":"SPY   261218C00600000","putCall":"CALL","underlyingSymbol":"SPY"},
             "marketValue":560.0,"longOpenProfitLoss":90.0},
            {"shortQuantity":0,"averagePrice":100.07,"longQuantity":3,"instrument":{"assetType":"COLLECTIVE_INVESTMENT","symbol":"VTI"},
             "marketValue":0.30000000000000004,"longOpenProfitLoss":0.1}],
          "currentBalances":{"accruedInterest":0,"cashBalance":23417.35,"liquidationValue":63210.1,"longMarketValue":39792.75,
             "buyingPower":81229.64,"dayTradingBuyingPower":0,"maintenanceRequirement":9948.19,"availableFunds":40614.82,"equity":63210.1}},
          "aggregatedBalance":{"currentLiquidationValue":63210.1,"liquidationValue":63210.1}}]"#;
        let (b, p) = parse_details(body, "12345678").unwrap();
        assert_eq!(b.get(BalanceKey::NetLiquidatingValue), Some(d("63210.1")));
        assert_eq!(b.get(BalanceKey::Cash), Some(d("23417.35")));
        assert_eq!(b.get(BalanceKey::BuyingPower), Some(d("81229.64")));
        assert_eq!(
            b.get(BalanceKey::MaintenanceRequirement),
            Some(d("9948.19"))
        );
        assert_eq!(
            b.lines[0].label, "Liquidation value",
            "Schwab's label is kept"
        );

        assert_eq!(
            (p[0].symbol.as_str(), p[0].instrument_type.as_str()),
            ("AAPL", "EQUITY")
        );
        assert_eq!((p[0].quantity, p[0].direction), (d("100"), Direction::Long));
        assert_eq!(p[0].market_value, Some(d("19012.1")));
        assert_eq!(p[0].market_value.unwrap().to_string(), "19012.1");
        assert_eq!(p[0].unrealized_pl, Some(d("762.1")));
        assert_eq!(p[0].day_pl, Some(d("-12.3")));
        assert_eq!(p[0].market_value_source, Some(FigureSource::Broker));
        // 762.1 / (182.5 × 100) = 4.1759 %.
        assert_eq!(p[0].unrealized_pl_percent, Some(d("4.18")));

        assert_eq!((p[1].quantity, p[1].direction), (d("10"), Direction::Short));
        assert_eq!(
            (p[1].market_value, p[1].unrealized_pl),
            (Some(d("-2481.0")), Some(d("139.0")))
        );

        assert_eq!(p[2].multiplier, d("100"));
        // 90 / (2.35 × 2 × 100) = 19.148...
        assert_eq!(p[2].unrealized_pl_percent, Some(d("19.15")));
        // The JSON text exactly, not its nearest double.
        assert_eq!(p[3].market_value, Some(d("0.30000000000000004")));
        assert_eq!(p[3].unrealized_pl, Some(d("0.1")));
        assert_eq!(p[3].average_price, Some(d("100.07")));
        // The price Schwab's value used: 19012.1 ÷ 100, and 560 ÷ (2 × 100) for the option.
        assert_eq!(p[0].mark, Some(d("190.121")));
        assert_eq!(p[0].price_kind.as_deref(), Some(PRICE_KIND));
        assert_eq!(p[2].mark, Some(d("2.8")));
        // Today's P/L of the account: the positions' sum (-12.3 + 3.1 + 15 + missing = none).
        assert_eq!(b.get(BalanceKey::DayProfitLoss), None);

        let e = parse_details(body, "999").unwrap_err();
        assert!(e.message.contains("999"), "{}", e.message);
    }

    #[test]
    fn cash_accounts_use_the_cash_fields_and_no_positions_key_is_none() {
        let body = r#"{"securitiesAccount":{"type":"CASH","accountNumber":"1",
          "currentBalances":{"cashAvailableForTrading":500.5,"cashAvailableForWithdrawal":400,
          "totalCash":500.5,"unsettledCash":100.5,"liquidationValue":500.5,"longMarketValue":0}}}"#;
        let (b, p) = parse_details(body, "1").unwrap();
        assert!(p.is_empty());
        assert_eq!(b.get(BalanceKey::Cash), Some(d("500.5")));
        assert_eq!(b.get(BalanceKey::BuyingPower), Some(d("500.5")));
        assert_eq!(b.get(BalanceKey::AvailableToWithdraw), Some(d("400")));
        assert_eq!(
            b.lines
                .iter()
                .find(|l| l.key == BalanceKey::BuyingPower)
                .unwrap()
                .label,
            "Cash available for trading"
        );
    }

    #[test]
    fn the_account_day_pl_is_the_sum_of_its_positions_when_each_reports_one() {
        let body = r#"{"securitiesAccount":{"type":"MARGIN","accountNumber":"1","positions":[
          {"longQuantity":3,"shortQuantity":0,"currentDayProfitLoss":36.840000000001,"marketValue":30,
           "instrument":{"assetType":"EQUITY","symbol":"A"}},
          {"longQuantity":0,"shortQuantity":1,"currentDayProfitLoss":-0.84,"marketValue":-7.5,
           "instrument":{"assetType":"EQUITY","symbol":"B"}}],
          "currentBalances":{"liquidationValue":100}}}"#;
        let (b, p) = parse_details(body, "1").unwrap();
        assert_eq!(b.get(BalanceKey::DayProfitLoss), Some(d("36.000000000001")));
        assert_eq!(b.lines.last().unwrap().label, "Day P/L (sum of positions)");
        assert_eq!((p[0].mark, p[1].mark), (Some(d("10")), Some(d("7.5"))));
    }

    #[test]
    fn api_errors_are_quoted_in_both_shapes() {
        assert_eq!(
            api_error_message(r#"{"errors":[{"id":"1","status":"400","title":"Bad Request","detail":"Invalid account number"}]}"#)
                .as_deref(),
            Some("Bad Request: Invalid account number")
        );
        assert_eq!(
            api_error_message(r#"{"message":"Client not authorized","errors":[]}"#).as_deref(),
            Some("Client not authorized")
        );
    }

    #[test]
    fn callbacks_are_checked_for_the_usual_mistakes() {
        assert!(check_callback("https://127.0.0.1:8182").is_ok());
        assert!(check_callback("https://127.0.0.1:8182/").is_ok());
        assert!(check_callback("https://127.0.0.1:8182/callback").is_ok());
        let msg = |u: &str| check_callback(u).unwrap_err().message;
        assert!(msg("http://127.0.0.1:8182").contains("https://"));
        assert!(msg("https://localhost:8182").contains("localhost"));
        assert!(msg("https://example.com/cb").contains("this computer"));
        assert!(
            msg("127.0.0.1:8182").contains("not a URL") || msg("127.0.0.1:8182").contains("https")
        );
        assert_eq!(
            check_callback("x").unwrap_err().field.as_deref(),
            Some("redirect_uri")
        );
    }

    #[test]
    fn app_keys_are_checked_for_shape_and_swaps() {
        let key32 = "A".repeat(32);
        let secret16 = "b".repeat(16);
        assert!(check_app_key(&key32, &secret16).is_ok());
        assert!(check_app_key(&"K".repeat(48), &"s".repeat(64)).is_ok());
        // An unknown length is accepted (Schwab changed them once).
        assert!(check_app_key(&"K".repeat(40), &"s".repeat(20)).is_ok());
        // Shorter than any Secret: a piece of an App Key.
        let short = check_app_key("abc", &secret16).unwrap_err();
        assert!(
            short
                .message
                .starts_with("This App Key has 3 characters; Schwab's have 32 or more."),
            "{}",
            short.message
        );
        assert_eq!(short.field.as_deref(), Some("client_id"));
        // Messages read as one sentence each (no stray runs of spaces from line breaks).
        for (k, sec) in [
            ("abc", secret16.as_str()),
            ("abc-def", secret16.as_str()),
            (key32.as_str(), "s3cr3t!"),
            (secret16.as_str(), key32.as_str()),
        ] {
            let m = check_app_key(k, sec).unwrap_err().message;
            assert!(!m.contains("  "), "{m}");
        }
        let e = check_app_key(&secret16, &key32).unwrap_err();
        assert!(e.message.contains("swapped"), "{}", e.message);
        assert_eq!(e.field.as_deref(), Some("client_id"));
        assert_eq!(
            check_app_key("abc-def", &secret16)
                .unwrap_err()
                .field
                .as_deref(),
            Some("client_id")
        );
        assert_eq!(
            check_app_key(&key32, "s3cr3t!")
                .unwrap_err()
                .field
                .as_deref(),
            Some("client_secret")
        );
    }
}
