//! Tastytrade's REST dialect (also spoken by the Demo broker).
//!
//! Relied on (docs/brokers.md#tastytrade, from the `tastytrade` SDK on PyPI): JSON keys are
//! kebab-case; lists come as `{"data": {"items": [...]}}`; API calls carry
//! `Authorization: Bearer <access token>`; `GET /customers/me/accounts` returns items shaped
//! `{"account": {...}, "authority-level": "owner"}`.

use serde::Deserialize;

use futures::future::BoxFuture;

use super::{
    Account, BrokerApi, BrokerSpec, Endpoints, Environment, HandoffVars, RefreshBody, ScopeSpec,
    TokenClaims, Urls,
};
use crate::error::{AppError, ErrorKind, Result};
use crate::secret::AccessToken;

/// The `Accept-Version` the parsers were written for, sent on every API read
/// (docs/brokers.md#tastytrade-api-requests: dated versions, `20251101` current for accounts,
/// balances and positions, the one tastyware's SDK 13.2.3 sends; confirmed per BR). A 406 to
/// it (the sandbox refused it once, tastyware/tastytrade#284) is retried once without it.
pub const ACCEPT_VERSION: &str = "20251101";

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
            currency: "USD".into(),
            api_id: None,
        })
        .collect())
}

/// `GET {api}/customers/me/accounts` with the access token.
fn fetch_accounts<'a>(
    http: &'a reqwest::Client,
    endpoints: &'a Endpoints,
    access_token: &'a AccessToken,
) -> BoxFuture<'a, Result<Vec<Account>>> {
    Box::pin(async move {
        let body = super::http::api_get(
            http,
            endpoints,
            "customers/me/accounts",
            access_token,
            "the account list",
            api_error_message,
        )
        .await?;
        parse_accounts(&body)
    })
}

/// The message of a Tastytrade API error body, `{"error": {"code", "message"}}`.
fn api_error_message(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("error")?.get("message")?.as_str().map(str::to_owned)
}

use super::portfolio::{self, BalanceKey, Balances, Direction, Position};
use rust_decimal::Decimal;

/// Tastytrade's balance fields, mapped to the neutral keys with Tastytrade's own labels.
const BALANCE_FIELDS: &[(BalanceKey, &str, &str)] = &[
    (
        BalanceKey::NetLiquidatingValue,
        "net-liquidating-value",
        "Net liquidating value",
    ),
    (BalanceKey::Cash, "cash-balance", "Cash balance"),
    (
        BalanceKey::BuyingPower,
        "equity-buying-power",
        "Equity buying power",
    ),
    (
        BalanceKey::OptionBuyingPower,
        "derivative-buying-power",
        "Derivative buying power",
    ),
    (
        BalanceKey::DayTradingBuyingPower,
        "day-trading-buying-power",
        "Day trading buying power",
    ),
    (
        BalanceKey::MaintenanceRequirement,
        "maintenance-requirement",
        "Maintenance requirement",
    ),
    (
        BalanceKey::AvailableToWithdraw,
        "cash-available-to-withdraw",
        "Cash available to withdraw",
    ),
];

fn format_error(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorKind::Broker,
        format!("Tastytrade's {what} was not in the expected format ({e})."),
    )
}

/// Parses `GET /accounts/{n}/balances/{currency}` (`data`, decimals as strings or numbers).
/// Some balance objects carry only a few fields (docs/brokers.md#tastytrade-balances): the
/// lines are those present, possibly none (`lines: []`, not an error). Errors:
/// [`ErrorKind::Broker`] when the body is not JSON or has no `data` object.
pub fn parse_balances(body: &str, currency: &str) -> Result<Balances> {
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format_error("balances", e))?;
    let data = v
        .get("data")
        .filter(|d| d.is_object())
        .ok_or_else(|| format_error("balances", "no data"))?;
    let lines = portfolio::lines(data, BALANCE_FIELDS);
    let currency = data
        .get("currency")
        .and_then(|c| c.as_str())
        .unwrap_or(currency)
        .to_string();
    Ok(Balances { currency, lines })
}

/// Parses `GET /accounts/{n}/positions` (`data.items`; unsigned `quantity` with
/// `quantity-direction` Long, Short or Zero) into positions with their market value and
/// unrealized P/L, which Tastytrade does not report and Keygrant computes
/// ([`Position::with_computed_figures`], source `Computed`) from:
///
/// - the price: `mark`, else `mark-price` (sent with `include-marks=true`), `price_kind`
///   "mark"; else `close-price` (the previous close), `price_kind` "close";
/// - `multiplier` (a decimal: 100 for a standard equity option, a future's point value);
///   absent, 1 for `Equity`, else the figures stay empty ("no multiplier from the broker");
/// - `average-open-price`.
///
/// No day P/L: `realized-day-gain` is realized, not the open position's (left `None`).
/// docs/brokers.md#tastytrade-positions. Errors: [`ErrorKind::Broker`] when the body is not
/// JSON, has no `data.items`, or an item has no `quantity`.
pub fn parse_positions(body: &str) -> Result<Vec<Position>> {
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format_error("position list", e))?;
    let items = v
        .pointer("/data/items")
        .and_then(|i| i.as_array())
        .ok_or_else(|| format_error("position list", "no data.items"))?;
    items
        .iter()
        .map(|p| {
            let text = |k: &str| {
                p.get(k)
                    .and_then(|x| x.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let dec = |k: &str| p.get(k).and_then(portfolio::decimal);
            let quantity = dec("quantity")
                .ok_or_else(|| format_error("position list", "a position without quantity"))?;
            let instrument_type = text("instrument-type");
            let (mark, price_kind) = match dec("mark").or_else(|| dec("mark-price")) {
                Some(m) => (Some(m), Some("mark")),
                None => match dec("close-price") {
                    Some(c) => (Some(c), Some("close")),
                    None => (None, None),
                },
            };
            let (multiplier, missing) = match dec("multiplier") {
                Some(m) => (m, None),
                None if instrument_type == "Equity" => (Decimal::ONE, None),
                None => (Decimal::ONE, Some(portfolio::NO_MULTIPLIER.to_string())),
            };
            Ok(Position {
                symbol: text("symbol"),
                instrument_type,
                quantity: quantity.abs(),
                direction: match text("quantity-direction").as_str() {
                    "Short" => Direction::Short,
                    "Zero" => Direction::Flat,
                    _ if quantity.is_zero() => Direction::Flat,
                    _ => Direction::Long,
                },
                average_price: dec("average-open-price"),
                mark,
                market_value: None,
                multiplier,
                price_kind: price_kind.map(str::to_owned),
                market_value_source: None,
                unrealized_pl: None,
                unrealized_pl_percent: None,
                unrealized_pl_source: None,
                day_pl: None,
                missing,
            }
            .with_computed_figures())
        })
        .collect()
}

/// The positions path, asking for marks: without `include-marks=true` the items carry no
/// `mark` (docs/brokers.md#tastytrade-positions; tt13 `get_positions`).
fn positions_path(number: &str) -> String {
    format!(
        "accounts/{}/positions?include-marks=true",
        urlencode(number)
    )
}

/// `GET {api}/accounts/{n}/balances/USD` for each account, as the SDK asks for it
/// (docs/brokers.md#tastytrade-balances): one request per account, all at once; the session
/// asks for one account at a time (`accounts_per_call: 1`).
fn fetch_balances<'a>(
    http: &'a reqwest::Client,
    endpoints: &'a Endpoints,
    token: &'a AccessToken,
    accounts: &'a [Account],
) -> BoxFuture<'a, Result<Vec<Result<Balances>>>> {
    Box::pin(async move {
        let one = |account: &'a Account| async move {
            let path = format!("accounts/{}/balances/USD", urlencode(&account.number));
            let body = super::http::api_get(
                http,
                endpoints,
                &path,
                token,
                "the balances",
                api_error_message,
            )
            .await?;
            parse_balances(&body, "USD")
        };
        each(accounts.iter().map(one)).await
    })
}

/// `GET {api}/accounts/{n}/positions?include-marks=true` for each account
/// (docs/brokers.md#tastytrade-positions).
fn fetch_positions<'a>(
    http: &'a reqwest::Client,
    endpoints: &'a Endpoints,
    token: &'a AccessToken,
    accounts: &'a [Account],
) -> BoxFuture<'a, Result<Vec<Result<Vec<Position>>>>> {
    Box::pin(async move {
        let one = |account: &'a Account| async move {
            let path = positions_path(&account.number);
            let body = super::http::api_get(
                http,
                endpoints,
                &path,
                token,
                "the positions",
                api_error_message,
            )
            .await?;
            parse_positions(&body)
        };
        each(accounts.iter().map(one)).await
    })
}

/// Runs the per-account requests together. Any failure fails the call (so the session sees
/// a 401 or 429 and acts on it); with one account per call that is that account's error.
async fn each<T>(
    calls: impl Iterator<Item = impl std::future::Future<Output = Result<T>>>,
) -> Result<Vec<Result<T>>> {
    let all = futures::future::try_join_all(calls).await?;
    Ok(all.into_iter().map(Ok).collect())
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Tastytrade (docs/brokers.md#tastytrade).
pub const SPEC: BrokerSpec = BrokerSpec {
    kind: super::BrokerKind::Tastytrade,
    name: "Tastytrade",
    production_label: "Production",
    sandbox_label: "Sandbox (cert)",
    // docs/brokers.md#tastytrade-environments
    production: Some(Urls {
        authorize: "https://my.tastytrade.com/auth.html",
        token: "https://api.tastyworks.com/oauth/token",
        api: "https://api.tastyworks.com/",
    }),
    sandbox: Some(Urls {
        authorize: "https://cert-my.staging-tasty.works/auth.html",
        token: "https://api.cert.tastyworks.com/oauth/token",
        api: "https://api.cert.tastyworks.com/",
    }),
    demo: Urls {
        authorize: "auth.html",
        token: "oauth/token",
        api: "",
    },
    extra_authorize: &[],
    // docs/brokers.md#tastytrade-refresh-request
    refresh_body: RefreshBody::Json,
    client_auth: super::ClientAuth::RequestBody,
    // Reported to refuse PKCE parameters (docs/brokers.md#tastytrade-authorize-request).
    pkce: false,
    default_redirect_uri: "http://localhost:8000",
    where_to_register: "my.tastytrade.com under Manage > My Profile > API > OAuth Applications (edit your application's Redirect URI)",
    app_settings_urls: Some((
        "https://my.tastytrade.com/app.html#/manage/api-access/oauth-applications",
        "https://cert-my.staging-tasty.works/app.html#/manage/api-access/oauth-applications",
    )),
    scopes: &[
        ScopeSpec { name: "read", description: "See accounts, balances and positions", default: true, required: true },
        ScopeSpec { name: "trade", description: "Place and cancel orders", default: false, required: false },
        ScopeSpec { name: "openid", description: "Identify you (an ID token)", default: true, required: false },
    ],
    read_scope: "read",
    no_refresh_token: "Tastytrade returned no refresh token. Check your OAuth application's settings, then connect again. Nothing was saved.",
    // Production and sandbox are separate services with separate grants.
    // docs/brokers.md#tastytrade-tokens-and-lifetimes
    dead_grant_causes: "Likely causes: the grant was deleted on the Tastytrade site, or the OAuth application's client secret was regenerated, which invalidates every grant of the application.",
    grants_differ_by_environment: true,
    // docs/brokers.md#tastytrade-hand-off-variables: the tastyware SDK reads TT_SECRET and
    // TT_REFRESH (tt13 `session.py`); TASTY_* are TastyPy's (seed 002). No SDK reads a client
    // ID and the refresh body needs none.
    handoff: HandoffVars {
        client_id: &[],
        client_secret: &["TT_SECRET", "TASTY_CLIENT_SECRET"],
        refresh_token: &["TT_REFRESH", "TASTY_REFRESH_TOKEN"],
        // docs/brokers.md#tastytrade-tokens-and-lifetimes
        refresh_may_rotate: false,
        example_api_path: Some("customers/me/accounts"),
    },
    python_snippet: Some(python_snippet),
    api: Some(BrokerApi {
        accounts: fetch_accounts,
        balances: fetch_balances,
        positions: fetch_positions,
        details: None,
        // One account per path (docs/brokers.md#tastytrade-balances).
        accounts_per_call: 1,
    }),
    api_version: Some(("Accept-Version", ACCEPT_VERSION)),
    // docs/brokers.md#tastytrade-environments: rt+jwt refresh tokens, `aud` = client ID, `iss`
    // the environment (reported; the sandbox issuers are unverified).
    claims: TokenClaims {
        refresh_jwt_typ: Some("rt+jwt"),
        issuers: &[
            (Environment::Production, "api.tastytrade.com"),
            (Environment::Sandbox, "api.sandbox.tastytrade.com"),
            (Environment::Sandbox, "api.cert.tastyworks.com"),
            (Environment::Demo, keygrant_demo::DEMO_ISSUER),
        ],
        id_token_aud: true,
    },
    sign_in_lifetime: None,
    check_redirect: None,
    check_client: None,
    words: super::OAUTH_WORDS,
};

/// The tastyware `tastytrade` SDK (13.2.3, async since 12.0): `Session()` with no credential
/// arguments reads `TT_SECRET` and `TT_REFRESH` from the environment; `is_test=True` for the
/// sandbox (docs/brokers.md#tastytrade-hand-off-variables).
fn python_snippet(v: &HandoffVars, sandbox: bool) -> String {
    format!(
        "import asyncio\n\
         from tastytrade import Account, Session  # pip install \"tastytrade>=12\" (async)\n\n\n\
         async def main():\n    \
         # Session() reads {} and {} from the environment.\n    \
         async with Session({}) as session:\n        \
         for account in await Account.get(session):\n            \
         print(account.account_number)\n\n\n\
         asyncio.run(main())\n",
        v.primary_client_secret(),
        v.primary_refresh_token(),
        if sandbox { "is_test=True" } else { "" }
    )
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
                api_id: None,
                number: "5WT00001".into(),
                nickname: "Main".into(),
                account_type: "Individual".into(),
                margin_or_cash: "Margin".into(),
                currency: "USD".into(),
            }]
        );
    }

    #[test]
    fn a_non_tastytrade_body_is_a_clear_error() {
        let err = parse_accounts(r#"{"Accounts":[]}"#).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Broker);
        assert!(err.message.contains("expected format"));
    }

    #[test]
    fn parses_real_shape_balances_and_positions_into_decimals() {
        use super::super::portfolio::{BalanceKey, Direction, FigureSource};
        use rust_decimal::Decimal;
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let body = r#"{"data":{"account-number":"5WT00001","cash-balance":"12500.10","net-liquidating-value":"31510.35",
          "equity-buying-power":"50020.2","derivative-buying-power":"25010.1","day-trading-buying-power":"0.0",
          "maintenance-requirement":"4750.06","cash-available-to-withdraw":"12500.1","pending-cash":"0.0",
          "snapshot-date":"2026-11-20","currency":"USD"},"context":"/accounts/5WT00001/balances/USD"}"#;
        let b = parse_balances(body, "USD").unwrap();
        assert_eq!(b.currency, "USD");
        assert_eq!(b.get(BalanceKey::NetLiquidatingValue), Some(d("31510.35")));
        assert_eq!(b.get(BalanceKey::Cash), Some(d("12500.10")));
        assert_eq!(b.get(BalanceKey::BuyingPower), Some(d("50020.2")));
        assert_eq!(b.get(BalanceKey::DayTradingBuyingPower), Some(d("0.0")));
        assert_eq!(b.lines[0].label, "Net liquidating value");
        // 0.1 + 0.2 stays exact: no float anywhere.
        assert_eq!(d("0.1") + d("0.2"), d("0.3"));

        let body = r#"{"data":{"items":[
          {"account-number":"5WT00001","symbol":"SPY   261218P00550000","instrument-type":"Equity Option",
           "underlying-symbol":"SPY","quantity":"2","quantity-direction":"Short","close-price":"6.10",
           "average-open-price":"7.85","multiplier":"100","cost-effect":"Credit","mark":"6.05"},
          {"account-number":"5WT00001","symbol":"AAPL","instrument-type":"Equity","quantity":100,
           "quantity-direction":"Long","close-price":"189.84","average-open-price":"182.5","multiplier":1}]}}"#;
        let p = parse_positions(body).unwrap();
        assert_eq!(
            (p[0].quantity, p[0].direction, p[0].mark),
            (d("2"), Direction::Short, Some(d("6.05")))
        );
        assert_eq!(p[0].instrument_type, "Equity Option");
        // The mark is used: value = −(6.05 × 2 × 100) = −1210.00,
        // P/L = −((6.05 − 7.85) × 200) = 360.00, % = 360 ÷ 1570 × 100 = 22.93.
        assert_eq!(p[0].price_kind.as_deref(), Some("mark"));
        assert_eq!(p[0].multiplier, d("100"));
        assert_eq!(
            (
                p[0].market_value,
                p[0].unrealized_pl,
                p[0].unrealized_pl_percent
            ),
            (Some(d("-1210.00")), Some(d("360.00")), Some(d("22.93")))
        );
        assert_eq!(p[0].market_value_source, Some(FigureSource::Computed));
        // No mark: the close price, said so. value = 189.84 × 100 = 18984.00,
        // P/L = (189.84 − 182.5) × 100 = 734.00, % = 734 ÷ 18250 × 100 = 4.0219... → 4.02.
        assert_eq!(
            (p[1].quantity, p[1].direction, p[1].mark),
            (d("100"), Direction::Long, Some(d("189.84")))
        );
        assert_eq!(p[1].price_kind.as_deref(), Some("close"));
        assert_eq!(p[1].multiplier, d("1"));
        assert_eq!(p[1].average_price, Some(d("182.5")));
        assert_eq!(
            (
                p[1].market_value,
                p[1].unrealized_pl,
                p[1].unrealized_pl_percent
            ),
            (Some(d("18984.00")), Some(d("734.00")), Some(d("4.02")))
        );
        assert_eq!(p[1].day_pl, None, "Tastytrade reports no open day P/L");
        assert!(parse_positions(r#"{"data":{}}"#).is_err());
    }

    #[test]
    fn sparse_balances_show_what_is_there_and_none_is_no_error() {
        use super::super::portfolio::BalanceKey;
        let b = parse_balances(
            r#"{"data":{"account-number":"5WT1","cash-balance":12.5,"pending-cash":"0.0"}}"#,
            "USD",
        )
        .unwrap();
        assert_eq!(b.lines.len(), 1);
        assert_eq!(b.get(BalanceKey::Cash), Some("12.5".parse().unwrap()));
        let b = parse_balances(
            r#"{"data":{"account-number":"5WT1","day-trade-excess":"1.0"}}"#,
            "USD",
        )
        .unwrap();
        assert!(b.lines.is_empty());
        assert!(parse_balances(r#"{"data":null}"#, "USD").is_err());
    }

    #[test]
    fn a_future_uses_its_multiplier_and_no_price_or_multiplier_leaves_cells_empty() {
        use super::super::portfolio::{FigureSource, NO_MULTIPLIER, NO_PRICE};
        use rust_decimal::Decimal;
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        let body = r#"{"data":{"items":[
          {"symbol":"/ESZ6","instrument-type":"Future","quantity":"1","quantity-direction":"Long",
           "close-price":"6040.50","average-open-price":"6012.25","multiplier":"50.0","mark-price":"6041.0"},
          {"symbol":"XYZ","instrument-type":"Equity","quantity":"3","quantity-direction":"Long",
           "average-open-price":"10"},
          {"symbol":"/CLF7","instrument-type":"Future","quantity":"1","quantity-direction":"Short",
           "average-open-price":"60","mark":"61"}]}}"#;
        let p = parse_positions(body).unwrap();
        // value = 6041.0 × 1 × 50.0 = 302050; P/L = (6041.0 − 6012.25) × 50 = 1437.5.
        assert_eq!(p[0].price_kind.as_deref(), Some("mark"));
        assert_eq!(
            (
                p[0].market_value,
                p[0].unrealized_pl,
                p[0].unrealized_pl_percent
            ),
            (Some(d("302050")), Some(d("1437.5")), Some(d("0.48")))
        );
        assert_eq!(p[0].unrealized_pl_source, Some(FigureSource::Computed));
        assert_eq!((p[1].market_value, p[1].unrealized_pl), (None, None));
        assert_eq!(p[1].missing.as_deref(), Some(NO_PRICE));
        assert_eq!((p[2].market_value, p[2].unrealized_pl), (None, None));
        assert_eq!(p[2].missing.as_deref(), Some(NO_MULTIPLIER));
    }

    #[test]
    fn positions_are_asked_with_marks() {
        assert_eq!(
            positions_path("5WT00001"),
            "accounts/5WT00001/positions?include-marks=true"
        );
    }
}
