//! The TradeStation dialect of the Demo broker, under `/ts/`.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::pages::Consent;
use super::{
    basic_client, check_authorize, oauth_error, token_answer, unless_form_encoded, Dialect, Shared,
};

/// TradeStation access tokens last 20 minutes.
pub const TS_ACCESS_TOKEN_SECS: u64 = 1200;
const AUDIENCE: &str = "https://api.tradestation.com";

/// The consent page: TradeStation's checks, no scope shown when none is asked for.
static CONSENT: Consent = Consent {
    dialect: Dialect::Ts,
    name: "TradeStation",
    path: "/ts/authorize",
    default_scope: "",
    check,
};

pub(crate) fn router(shared: Shared) -> Router {
    Router::new()
        .route(CONSENT.path, CONSENT.routes())
        .route("/ts/oauth/token", axum::routing::post(token))
        .route("/ts/v3/brokerage/accounts", get(accounts))
        .route("/ts/v3/brokerage/accounts/{ids}/balances", get(balances))
        .route("/ts/v3/brokerage/accounts/{ids}/positions", get(positions))
        .with_state(shared)
}

/// TradeStation's own checks on top of the common ones: `audience`, and `openid` in `scope`.
fn check(shared: &Shared, params: &HashMap<String, String>) -> Result<url::Url, String> {
    let redirect = check_authorize(shared, params)?;
    if params.get("audience").map(String::as_str) != Some(AUDIENCE) {
        return Err(format!("audience must be {AUDIENCE}."));
    }
    if !params
        .get("scope")
        .is_some_and(|s| s.split_whitespace().any(|x| x == "openid"))
    {
        return Err("The openid scope is required.".into());
    }
    Ok(redirect)
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    shared.count("/ts/oauth/token");
    if let Some(refused) = unless_form_encoded(&headers) {
        return refused;
    }
    let p: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    shared.record_token_request("/ts/oauth/token", &headers, &p);
    let get = |k: &str| p.get(k).map(String::as_str);
    let cfg = &shared.config;
    // Like TradeStation's sign-in service (Auth0), the client may authenticate in the body
    // (client_secret_post) or with HTTP Basic (client_secret_basic), not both.
    let client = match (basic_client(&headers), get("client_secret")) {
        (Some(_), Some(_)) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Use one client authentication method, not two.",
            )
        }
        (Some(pair), None) => Some(pair),
        (None, _) => get("client_id")
            .zip(get("client_secret"))
            .map(|(i, s)| (i.to_string(), s.to_string())),
    };
    if client.as_ref().map(|(i, s)| (i.as_str(), s.as_str()))
        != Some((cfg.client_id.as_str(), cfg.client_secret.as_str()))
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized");
    }
    let (refresh_token, scope) = match get("grant_type") {
        Some("authorization_code") => match shared.redeem_code(Dialect::Ts, &p) {
            Ok(pending) => {
                let offline = pending
                    .scope
                    .split_whitespace()
                    .any(|s| s == "offline_access");
                (
                    (offline && !shared.omits_refresh_token())
                        .then(|| shared.issue_refresh_token(Dialect::Ts, &pending.scope)),
                    pending.scope,
                )
            }
            Err(message) => return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", message),
        },
        Some("refresh_token") => {
            match shared.redeem_refresh(Dialect::Ts, get("refresh_token").unwrap_or_default()) {
                Ok((rotated, _)) => (
                    rotated,
                    "openid offline_access profile ReadAccount".to_string(),
                ),
                Err(()) => {
                    return oauth_error(
                        StatusCode::FORBIDDEN,
                        "invalid_grant",
                        "Unknown or invalid refresh token.",
                    )
                }
            }
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Unsupported grant type.",
            )
        }
    };
    let access = shared.issue_access_token(Dialect::Ts, Duration::from_secs(TS_ACCESS_TOKEN_SECS));
    let mut out = json!({
        "access_token": access,
        "id_token": shared.id_token("demo-ts"),
        "expires_in": TS_ACCESS_TOKEN_SECS,
        "scope": scope,
        "token_type": "Bearer",
    });
    if let Some(rt) = refresh_token {
        out["refresh_token"] = json!(rt);
    }
    token_answer(out)
}

async fn accounts(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let path = "/ts/v3/brokerage/accounts";
    let Some(accounts) = shared.api_accounts(Dialect::Ts, path, &headers) else {
        return ts_unauthorized();
    };
    let accounts: Vec<_> = accounts
        .iter()
        .map(|a| {
            let mut v = json!({
                "AccountID": a.number,
                "Currency": "USD",
                "Status": "Active",
                "AccountType": a.type_name,
                "Alias": a.nickname,
            });
            if a.type_name != "Futures" {
                v["AccountDetail"] = json!({
                    "IsStockLocateEligible": false,
                    "EnrolledInRegTProgram": a.type_name == "Margin",
                    "RequiresBuyingPowerWarning": false,
                    "DayTradingQualified": a.type_name == "Margin",
                    "OptionApprovalLevel": 2,
                    "PatternDayTrader": false
                });
            }
            v
        })
        .collect();
    Json(json!({"Accounts": accounts})).into_response()
}

fn ts_unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"Error": "Unauthorized", "Message": "Access token is invalid or expired."})),
    )
        .into_response()
}

/// The most account IDs one balances or positions request takes
/// (docs/brokers.md#tradestation-balances).
const MAX_IDS: usize = 25;

/// The `sparse` switch's balance entry: the first account keeps only its cash balance, the
/// second none of the usual figures.
fn sparse_balance(a: &super::OwnedAccount) -> serde_json::Value {
    let mut v = json!({"AccountID": a.number, "AccountType": a.type_name});
    if a.index == 0 {
        v["CashBalance"] = json!(a.balances().cash.to_string());
    }
    v
}

/// This login's accounts among `ids` and `Errors` entries for the rest, or a 400 beyond
/// 25 IDs.
type Split<'a> = (Vec<&'a super::OwnedAccount>, Vec<serde_json::Value>);

/// Splits `{ids}` (comma-separated, as the real API takes 1 to 25 accounts at once) into this
/// login's accounts and `Errors` entries for the rest; more than 25 IDs is a 400.
#[allow(clippy::result_large_err)]
fn accounts_in<'a>(shared: &'a Shared, ids: &str) -> Result<Split<'a>, Response> {
    if ids.split(',').count() > MAX_IDS {
        return Err((
            StatusCode::BAD_REQUEST,
            Json(json!({"Error": "BadRequest", "Message": "At most 25 account IDs per request."})),
        )
            .into_response());
    }
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for id in ids.split(',').filter(|s| !s.is_empty()) {
        match shared.account(Dialect::Ts, id) {
            Some(_) if shared.is_failing(id) => errors.push(json!({
                "AccountID": id, "Error": "Failed", "Message": "Unable to retrieve data for this account."
            })),
            Some(a) => found.push(a),
            None => errors.push(json!({
                "AccountID": id, "Error": "Forbidden", "Message": "Request not authorized for this account."
            })),
        }
    }
    Ok((found, errors))
}

const STAMP: &str = "2026-11-20T15:30:00Z";

/// `GET /v3/brokerage/accounts/{ids}/balances` (decimals as strings).
async fn balances(
    State(shared): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(ids): axum::extract::Path<String>,
) -> Response {
    shared.count("/ts/v3/brokerage/accounts/{ids}/balances");
    if !shared.bearer_is_valid(Dialect::Ts, &headers) {
        return ts_unauthorized();
    }
    let (found, errors) = match accounts_in(&shared, &ids) {
        Ok(split) => split,
        Err(r) => return r,
    };
    let sparse = shared.sparse();
    let balances: Vec<_> = found
        .iter()
        .map(|a| {
            if sparse && a.index < 2 {
                return sparse_balance(a);
            }
            let b = a.balances();
            let unrealized: rust_decimal::Decimal =
                a.positions().iter().map(|p| p.unrealized()).sum();
            let today: rust_decimal::Decimal = a.positions().iter().map(|p| p.day_pl()).sum();
            json!({
                "AccountID": a.number,
                "AccountType": a.type_name,
                "CashBalance": b.cash.to_string(),
                "BuyingPower": b.buying_power.to_string(),
                "Equity": b.net_liquidating_value.to_string(),
                "MarketValue": b.market_value.to_string(),
                "TodaysProfitLoss": today.to_string(),
                "UnclearedDeposit": "0",
                "Commission": "0",
                "BalanceDetail": {
                    "CostOfPositions": a.positions().iter().map(|p| p.cost()).sum::<rust_decimal::Decimal>().to_string(),
                    "DayTrades": "0",
                    "MaintenanceRate": "0",
                    "OptionBuyingPower": b.derivative_buying_power.to_string(),
                    "OptionsMarketValue": "0",
                    "OvernightBuyingPower": b.buying_power.to_string(),
                    "RealizedProfitLoss": "0",
                    "RequiredMargin": b.maintenance_requirement.to_string(),
                    "UnrealizedProfitLoss": unrealized.to_string(),
                },
            })
        })
        .collect();
    Json(json!({"Balances": balances, "Errors": errors})).into_response()
}

/// `GET /v3/brokerage/accounts/{ids}/positions`: signed `Quantity` with `LongShort`, `Last`
/// the mark, and TradeStation's own figures consistent with it: `MarketValue` = Last ×
/// signed quantity × multiplier (no multiplier field: 100 for options, 50 for /ES is folded
/// in), `UnrealizedProfitLoss` = value − `TotalCost`, `UnrealizedProfitLossPercent` in
/// percent units, `TodaysProfitLoss` = (Last − previous close) × signed units
/// (docs/brokers.md#tradestation-positions).
async fn positions(
    State(shared): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(ids): axum::extract::Path<String>,
) -> Response {
    shared.count("/ts/v3/brokerage/accounts/{ids}/positions");
    if !shared.bearer_is_valid(Dialect::Ts, &headers) {
        return ts_unauthorized();
    }
    let (found, errors) = match accounts_in(&shared, &ids) {
        Ok(split) => split,
        Err(r) => return r,
    };
    let sparse = shared.sparse();
    let mut positions = Vec::new();
    for a in found {
        for (i, p) in a.positions().iter().enumerate() {
            let asset = match p.instrument_type {
                "Equity Option" => "STOCKOPTION",
                "Future" => "FUTURE",
                _ => "STOCK",
            };
            let value = p.market_value();
            let cost = p.cost();
            positions.push(json!({
                "AccountID": a.number,
                "AssetType": asset,
                "Symbol": p.symbol.trim_start_matches('/').split_whitespace().collect::<Vec<_>>().join(" "),
                "Quantity": p.quantity.to_string(),
                "LongShort": if p.quantity < 0 { "Short" } else { "Long" },
                "AveragePrice": p.average_price.to_string(),
                "Last": p.mark.to_string(),
                "Bid": (p.mark - rust_decimal::Decimal::new(1, 2)).to_string(),
                "Ask": (p.mark + rust_decimal::Decimal::new(1, 2)).to_string(),
                "MarketValue": value.to_string(),
                "TotalCost": cost.to_string(),
                "UnrealizedProfitLoss": p.unrealized().to_string(),
                "UnrealizedProfitLossPercent": p.unrealized_percent().to_string(),
                "TodaysProfitLoss": p.day_pl().to_string(),
                "ConversionRate": "1",
                "DayTradeRequirement": "0",
                "InitialRequirement": "0",
                "MaintenanceMargin": "0",
                "PositionID": format!("{}-{}", a.number, i + 1),
                "Timestamp": STAMP,
            }));
            if sparse {
                let last = positions.last_mut().expect("just pushed");
                last["Quantity"] = super::tasty::json_number(p.quantity.into(), i % 2 == 1);
            }
        }
    }
    Json(json!({"Positions": positions, "Errors": errors})).into_response()
}
