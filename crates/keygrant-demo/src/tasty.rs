//! The Tastytrade dialect of the Demo broker.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::pages::Consent;
use super::{
    check_authorize, token_answer, Dialect, Shared, ACCESS_TOKEN_SECS, DEFAULT_TASTY_SCOPE,
};

/// The consent page: the common checks, no scope shown when none is asked for.
static CONSENT: Consent = Consent {
    dialect: Dialect::Tasty,
    name: "Tastytrade",
    path: "/auth.html",
    default_scope: "",
    check: check_authorize,
};

pub(crate) fn router(shared: Shared) -> Router {
    Router::new()
        .route(CONSENT.path, CONSENT.routes())
        .route("/oauth/token", axum::routing::post(token))
        .route("/customers/me", get(customer))
        .route("/customers/me/accounts", get(accounts))
        .route("/accounts/{number}/balances", get(balances))
        .route("/accounts/{number}/balances/{currency}", get(balances))
        .route("/accounts/{number}/positions", get(positions))
        .with_state(shared)
}

/// Token endpoint errors in Tastytrade's API error envelope, `{"error": {"code", "message"}}`:
/// the shape the `tastytrade` SDK's `validate_response` reads for `/oauth/token` too
/// (SDK 13.2.3, utils.py). Keygrant also reads the RFC 6749 shape and the top-level
/// `error_code` shape seen from the sandbox (tastyware/tastytrade#351).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": error, "message": description}})),
    )
        .into_response()
}

/// A `<product>/<version>` agent, which Tastytrade requires on every request.
fn has_product_user_agent(headers: &HeaderMap) -> bool {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(|ua| ua.split_whitespace().next())
        .and_then(|first| first.split_once('/'))
        .is_some_and(|(p, v)| !p.is_empty() && !v.is_empty())
}

fn parse_body(headers: &HeaderMap, body: &Bytes) -> Option<HashMap<String, String>> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        let v: HashMap<String, serde_json::Value> = serde_json::from_slice(body).ok()?;
        Some(
            v.into_iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
                .collect(),
        )
    } else {
        Some(url::form_urlencoded::parse(body).into_owned().collect())
    }
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    shared.count("/oauth/token");
    if !has_product_user_agent(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            Html("<html><body><h1>401 Unauthorized</h1></body></html>"),
        )
            .into_response();
    }
    let Some(p) = parse_body(&headers, &body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request body could not be parsed.",
        );
    };
    shared.record_token_request("/oauth/token", &headers, &p);
    let get = |k: &str| p.get(k).map(String::as_str);
    let cfg = &shared.config;
    if get("client_secret") != Some(cfg.client_secret.as_str())
        || get("client_id").is_some_and(|id| id != cfg.client_id)
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        );
    }
    let (refresh_token, scope) = match get("grant_type") {
        Some("authorization_code") => {
            if get("client_id") != Some(cfg.client_id.as_str()) {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    "client_id is required.",
                );
            }
            match shared.redeem_code(Dialect::Tasty, &p) {
                Ok(pending) => (
                    (!shared.omits_refresh_token())
                        .then(|| shared.issue_refresh_token(Dialect::Tasty, &pending.scope)),
                    pending.scope,
                ),
                Err(message) => {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", message)
                }
            }
        }
        Some("refresh_token") => {
            match shared.redeem_refresh(Dialect::Tasty, get("refresh_token").unwrap_or_default()) {
                Ok((rotated, scope)) => (
                    rotated,
                    scope.unwrap_or_else(|| DEFAULT_TASTY_SCOPE.to_string()),
                ),
                Err(()) => {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_grant",
                        "Grant revoked or refresh token invalid.",
                    )
                }
            }
        }
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be authorization_code or refresh_token.",
            )
        }
    };
    let access = shared.issue_access_token(Dialect::Tasty, Duration::from_secs(ACCESS_TOKEN_SECS));
    let mut out =
        json!({"access_token": access, "expires_in": ACCESS_TOKEN_SECS, "token_type": "Bearer"});
    if let Some(rt) = refresh_token {
        out["refresh_token"] = json!(rt);
    }
    // Whether Tastytrade lists the granted scopes here is unverified
    // (docs/brokers.md#demo-broker); the Demo broker does, as RFC 6749 section 5.1 allows.
    out["scope"] = json!(scope);
    if scope.split_whitespace().any(|s| s == "openid") {
        out["id_token"] = json!(shared.id_token("demo-tasty"));
    }
    token_answer(out)
}

fn api_unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {"code": "token_invalid", "message": "This access token is invalid or has expired."}})),
    )
        .into_response()
}

async fn customer(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    shared.count("/customers/me");
    if !shared.bearer_is_valid(Dialect::Tasty, &headers) {
        return api_unauthorized();
    }
    let address = json!({"street-one": "1 Demo Plaza", "city": "Chicago", "state-region": "IL",
        "postal-code": "60601", "country": "USA", "is-foreign": false, "is-domestic": true});
    Json(json!({"data": {
        "id": "me", "first-name": "Demo", "last-name": "Trader", "email": "demo.trader@example.com",
        "external-id": "UDEMO0001", "address": address, "mailing-address": address,
        "is-foreign": false, "usa-citizenship-type": "Citizen", "mobile-phone-number": "+1 555 0100",
        "birth-date": "1990-01-01", "tax-number-type": "SSN", "subject-to-tax-withholding": false,
        "has-industry-affiliation": false, "has-listed-affiliation": false, "has-political-affiliation": false,
        "has-delayed-quotes": false, "has-pending-or-approved-application": false, "is-professional": false,
        "permitted-account-types": [{"name": "Individual", "description": "Individual Account",
            "is-tax-advantaged": false, "is-publicly-available": true, "has-multiple-owners": false,
            "margin-types": [{"name": "Cash", "is-margin": false}, {"name": "Reg T", "is-margin": true}]}],
        "created-at": "2024-03-04T14:30:00.000+00:00"
    }, "context": "/customers/me"}))
    .into_response()
}

async fn accounts(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let path = "/customers/me/accounts";
    let Some(accounts) = shared.api_accounts(Dialect::Tasty, path, &headers) else {
        return api_unauthorized();
    };
    let items: Vec<_> = accounts
        .iter()
        .map(|a| {
            json!({"account": {
                "account-number": a.number,
                "external-id": format!("A{}", a.number),
                "opened-at": "2024-03-04T14:30:00.000+00:00",
                "nickname": a.nickname,
                "account-type-name": a.type_name,
                "day-trader-status": false,
                "is-closed": false,
                "is-firm-error": false,
                "is-firm-proprietary": false,
                "is-futures-approved": a.margin_or_cash == "Margin",
                "is-test-drive": false,
                "margin-or-cash": a.margin_or_cash,
                "is-foreign": false,
                "funding-date": "2024-03-05",
                "investment-objective": "SPECULATION",
                "suitable-options-level": "No Restrictions",
                "created-at": "2024-03-04T14:30:00.000+00:00"
            }, "authority-level": "owner"})
        })
        .collect();
    Json(json!({"data": {"items": items}, "context": "/customers/me/accounts"})).into_response()
}

/// `{"error": {"code", "message"}}` with `status`.
fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// The account `number` of this login, after the bearer check; or the error response (an
/// axum response is large, and this is the Demo broker's error path: not boxed).
#[allow(clippy::result_large_err)]
fn own_account<'a>(
    shared: &'a Shared,
    headers: &HeaderMap,
    number: &str,
) -> Result<&'a super::OwnedAccount, Response> {
    if !shared.bearer_is_valid(Dialect::Tasty, headers) {
        return Err(api_unauthorized());
    }
    let Some(account) = shared.account(Dialect::Tasty, number) else {
        return Err(api_error(
            StatusCode::FORBIDDEN,
            "invalid_account",
            "You do not have access to this account.",
        ));
    };
    if shared.is_failing(number) {
        return Err(api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong loading this account.",
        ));
    }
    Ok(account)
}

const STAMP: &str = "2026-11-20T15:30:00.000+00:00";

/// `GET /accounts/{n}/balances[/{currency}]`: every field the SDK's `AccountBalance` requires,
/// decimals as strings.
async fn balances(
    State(shared): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(params): axum::extract::Path<HashMap<String, String>>,
) -> Response {
    shared.count("/accounts/{n}/balances");
    let number = params.get("number").cloned().unwrap_or_default();
    let account = match own_account(&shared, &headers, &number) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let currency = params
        .get("currency")
        .cloned()
        .unwrap_or_else(|| "USD".into());
    let b = account.balances();
    let positions = account.positions();
    let sum = |f: &dyn Fn(&super::portfolio::DemoPosition) -> bool| -> String {
        positions
            .iter()
            .filter(|p| f(p))
            .map(|p| p.market_value())
            .sum::<rust_decimal::Decimal>()
            .abs()
            .to_string()
    };
    let equity = |p: &super::portfolio::DemoPosition| p.instrument_type == "Equity";
    let mut data = json!({
        "account-number": number,
        "currency": currency,
        "cash-balance": b.cash.to_string(),
        "long-equity-value": sum(&|p| equity(p) && p.quantity > 0),
        "short-equity-value": sum(&|p| equity(p) && p.quantity < 0),
        "long-derivative-value": sum(&|p| p.instrument_type == "Equity Option" && p.quantity > 0),
        "short-derivative-value": sum(&|p| p.instrument_type == "Equity Option" && p.quantity < 0),
        "long-futures-value": sum(&|p| p.instrument_type == "Future" && p.quantity > 0),
        "long-futures-derivative-value": "0.0",
        "short-futures-derivative-value": "0.0",
        "short-futures-value": sum(&|p| p.instrument_type == "Future" && p.quantity < 0),
        "long-margineable-value": sum(&|p| equity(p) && p.quantity > 0),
        "short-margineable-value": sum(&|p| equity(p) && p.quantity < 0),
        "margin-equity": b.net_liquidating_value.to_string(),
        "equity-buying-power": b.buying_power.to_string(),
        "derivative-buying-power": b.derivative_buying_power.to_string(),
        "day-trading-buying-power": b.day_trading_buying_power.to_string(),
        "maintenance-requirement": b.maintenance_requirement.to_string(),
        "net-liquidating-value": b.net_liquidating_value.to_string(),
        "cash-available-to-withdraw": b.cash.to_string(),
        "available-trading-funds": b.cash.to_string(),
        "pending-cash": "0.0",
        "pending-cash-effect": "None",
        "snapshot-date": "2026-11-20",
        "updated-at": STAMP,
    });
    for zero in [
        "futures-margin-requirement",
        "maintenance-call-value",
        "reg-t-call-value",
        "day-trading-call-value",
        "day-equity-call-value",
        "day-trade-excess",
        "long-cryptocurrency-value",
        "short-cryptocurrency-value",
        "cryptocurrency-margin-requirement",
        "unsettled-cryptocurrency-fiat-amount",
        "closed-loop-available-balance",
        "equity-offering-margin-requirement",
        "long-bond-value",
        "bond-margin-requirement",
        "used-derivative-buying-power",
        "reg-t-margin-requirement",
        "futures-overnight-margin-requirement",
        "futures-intraday-margin-requirement",
        "maintenance-excess",
        "pending-margin-interest",
        "effective-cryptocurrency-buying-power",
    ] {
        data[zero] = json!("0.0");
    }
    data["unsettled-cryptocurrency-fiat-effect"] = json!("None");
    if shared.sparse() {
        data = sparse_balances(data, account.index);
    }
    let context = format!("/accounts/{number}/balances/{currency}");
    Json(json!({"data": data, "context": context})).into_response()
}

/// The `sparse` switch's balances (tastyware/tastytrade#209, #53; docs/brokers.md#tastytrade-balances):
/// the first account keeps two of the usual figures, the second none, the rest all.
fn sparse_balances(data: serde_json::Value, index: usize) -> serde_json::Value {
    let keep: &[&str] = match index {
        0 => &[
            "account-number",
            "net-liquidating-value",
            "cash-balance",
            "pending-cash",
            "pending-cash-effect",
        ],
        1 => &[
            "account-number",
            "futures-margin-requirement",
            "day-trade-excess",
            "pending-cash",
            "pending-cash-effect",
        ],
        _ => return data,
    };
    keep.iter()
        .map(|k| (k.to_string(), data[*k].clone()))
        .collect()
}

/// A quantity or multiplier as the `sparse` switch sends it: a JSON number, an integer when
/// whole and a decimal otherwise (SDK 11 integers, later decimals; docs/brokers.md#tastytrade-positions).
pub(crate) fn json_number(v: rust_decimal::Decimal, decimal: bool) -> serde_json::Value {
    if decimal {
        serde_json::from_str(&format!("{:.1}", v)).expect("a decimal is a JSON number")
    } else {
        serde_json::from_str(&v.trunc().to_string()).expect("an integer is a JSON number")
    }
}

/// `GET /accounts/{n}/positions`: the fields of the SDK's `CurrentPosition`; quantity is
/// unsigned with `quantity-direction`; `close-price` (previous close), `average-open-price`,
/// `multiplier` (100 for the option, 50 for /ESZ6) always; `mark` and `mark-price` only with
/// `include-marks=true`, as the real API (docs/brokers.md#tastytrade-positions).
async fn positions(
    State(shared): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(number): axum::extract::Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    shared.count("/accounts/{n}/positions");
    let account = match own_account(&shared, &headers, &number) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let sparse = shared.sparse();
    // Like the real API, marks only on request (docs/brokers.md#tastytrade-positions).
    let marks = query.get("include-marks").map(String::as_str) == Some("true");
    let items: Vec<_> = account
        .positions()
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut item = json!({
                "account-number": number,
                "symbol": p.symbol,
                "instrument-type": p.instrument_type,
                "underlying-symbol": p.underlying,
                "quantity": p.quantity.abs().to_string(),
                "quantity-direction": if p.quantity < 0 { "Short" } else { "Long" },
                "close-price": p.close.to_string(),
                "average-open-price": p.average_price.to_string(),
                "average-yearly-market-close-price": p.close.to_string(),
                "average-daily-market-close-price": p.close.to_string(),
                "multiplier": p.multiplier.to_string(),
                "cost-effect": if p.quantity < 0 { "Credit" } else { "Debit" },
                "is-suppressed": false,
                "is-frozen": false,
                "restricted-quantity": "0",
                "realized-day-gain": "0.0",
                "realized-day-gain-effect": "None",
                "realized-day-gain-date": "2026-11-20",
                "realized-today": "0.0",
                "realized-today-effect": "None",
                "realized-today-date": "2026-11-20",
                "created-at": "2026-03-02T15:00:00.000+00:00",
                "updated-at": STAMP,
            });
            if marks {
                item["mark"] = json!(p.mark.to_string());
                item["mark-price"] = json!(p.mark.to_string());
            }
            if sparse {
                item["quantity"] = json_number(p.quantity.abs().into(), i % 2 == 1);
                item["multiplier"] = json_number(p.multiplier.into(), i % 2 == 0);
            }
            item
        })
        .collect();
    let context = format!("/accounts/{number}/positions");
    Json(json!({"data": {"items": items}, "context": context})).into_response()
}
