//! The Tastytrade dialect of the Demo broker.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;

use super::{pages, PendingCode, Shared, ACCESS_TOKEN_SECS, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SEED_ACCOUNTS};

const CODE_LIFETIME: Duration = Duration::from_secs(600);

pub(crate) fn router(shared: Shared) -> Router {
    Router::new()
        .route("/auth.html", get(authorize_page).post(authorize_decision))
        .route("/oauth/token", axum::routing::post(token))
        .route("/customers/me", get(customer))
        .route("/customers/me/accounts", get(accounts))
        .with_state(shared)
}

fn count(shared: &Shared, path: &str) {
    *shared.lock().hits.entry(path.to_string()).or_default() += 1;
}

fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    B64.encode(buf)
}

fn refresh_mac() -> Hmac<Sha256> {
    let key = Sha256::digest(format!("keygrant-demo-refresh-v1:{DEMO_CLIENT_SECRET}"));
    Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length")
}

/// A refresh token that any Demo broker instance can verify: `demo-rt-<nonce>.<mac>`.
fn issue_refresh_token() -> String {
    let nonce = random_token(24);
    let mut mac = refresh_mac();
    mac.update(nonce.as_bytes());
    format!("demo-rt-{nonce}.{}", B64.encode(mac.finalize().into_bytes()))
}

fn refresh_token_is_valid(token: &str) -> bool {
    let Some(rest) = token.strip_prefix("demo-rt-") else { return false };
    let Some((nonce, tag)) = rest.split_once('.') else { return false };
    let Ok(tag) = B64.decode(tag) else { return false };
    let mut mac = refresh_mac();
    mac.update(nonce.as_bytes());
    mac.verify_slice(&tag).is_ok()
}

/// The authorize request's checks, shared by the page and the decision it posts.
fn check_authorize(params: &HashMap<String, String>) -> Result<Url, String> {
    if params.get("response_type").map(String::as_str) != Some("code") {
        return Err("response_type must be \"code\".".into());
    }
    if params.get("client_id").map(String::as_str) != Some(DEMO_CLIENT_ID) {
        return Err("Unknown client_id: this OAuth application does not exist at the Demo broker.".into());
    }
    let redirect = params
        .get("redirect_uri")
        .and_then(|r| Url::parse(r).ok())
        .ok_or("redirect_uri is missing or not a URL.")?;
    let loopback = redirect.scheme() == "http"
        && matches!(redirect.host_str(), Some("127.0.0.1") | Some("localhost") | Some("[::1]"));
    if !loopback && redirect.scheme() != "keygrant" {
        return Err(format!("redirect_uri {redirect} is not registered for this application."));
    }
    if let Some(method) = params.get("code_challenge_method") {
        if method != "S256" {
            return Err("code_challenge_method must be S256.".into());
        }
    }
    Ok(redirect)
}

async fn authorize_page(State(shared): State<Shared>, Query(params): Query<HashMap<String, String>>) -> Response {
    count(&shared, "/auth.html");
    if let Err(message) = check_authorize(&params) {
        return (StatusCode::BAD_REQUEST, Html(pages::error(&message))).into_response();
    }
    let mut list: Vec<(String, String)> = params.clone().into_iter().collect();
    list.sort();
    let scope = params.get("scope").cloned().unwrap_or_default();
    Html(pages::authorize(&list, &scope)).into_response()
}

async fn authorize_decision(State(shared): State<Shared>, Form(params): Form<HashMap<String, String>>) -> Response {
    count(&shared, "/auth.html#decision");
    let mut redirect = match check_authorize(&params) {
        Ok(r) => r,
        Err(message) => return (StatusCode::BAD_REQUEST, Html(pages::error(&message))).into_response(),
    };
    let state = params.get("state").cloned();
    let scope = params.get("scope").cloned().unwrap_or_default();
    {
        let mut q = redirect.query_pairs_mut();
        if params.get("decision").map(String::as_str) == Some("approve") {
            let code = uuid::Uuid::new_v4().to_string();
            shared.lock().codes.insert(
                code.clone(),
                PendingCode {
                    client_id: params["client_id"].clone(),
                    redirect_uri: params["redirect_uri"].clone(),
                    code_challenge: params.get("code_challenge").cloned(),
                    scope: scope.clone(),
                    issued: Instant::now(),
                },
            );
            q.append_pair("scope", &scope);
            if let Some(s) = &state {
                q.append_pair("state", s);
            }
            q.append_pair("code", &code);
        } else {
            q.append_pair("error", "access_denied");
            q.append_pair("error_description", "The user denied the request.");
            if let Some(s) = &state {
                q.append_pair("state", s);
            }
        }
    }
    Redirect::to(redirect.as_str()).into_response()
}

/// Token endpoint errors in Tastytrade's API error envelope, `{"error": {"code", "message"}}`:
/// the shape the `tastytrade` SDK's `validate_response` reads for `/oauth/token` too
/// (SDK 13.2.3, utils.py). Keygrant also reads the RFC 6749 shape and the top-level
/// `error_code` shape seen from the sandbox (tastyware/tastytrade#351).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": {"code": error, "message": description}}))).into_response()
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
    count(&shared, "/oauth/token");
    if !has_product_user_agent(&headers) {
        return (StatusCode::UNAUTHORIZED, Html("<html><body><h1>401 Unauthorized</h1></body></html>")).into_response();
    }
    let Some(p) = parse_body(&headers, &body) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "The request body could not be parsed.");
    };
    let get = |k: &str| p.get(k).map(String::as_str);
    if get("client_secret") != Some(DEMO_CLIENT_SECRET)
        || get("client_id").is_some_and(|id| id != DEMO_CLIENT_ID)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed.");
    }
    let (refresh_token, scope) = match get("grant_type") {
        Some("authorization_code") => {
            if get("client_id") != Some(DEMO_CLIENT_ID) {
                return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client_id is required.");
            }
            let pending = get("code").and_then(|c| shared.lock().codes.remove(c));
            let Some(pending) = pending.filter(|c| c.issued.elapsed() < CODE_LIFETIME) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "The authorization code is invalid, expired or already used.");
            };
            if pending.client_id != DEMO_CLIENT_ID || get("redirect_uri") != Some(pending.redirect_uri.as_str()) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "redirect_uri does not match the one in the authorize request.");
            }
            if let Some(challenge) = &pending.code_challenge {
                let ok = get("code_verifier")
                    .is_some_and(|v| B64.encode(Sha256::digest(v.as_bytes())) == *challenge);
                if !ok {
                    return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "PKCE verification failed.");
                }
            }
            (Some(issue_refresh_token()), pending.scope)
        }
        Some("refresh_token") => {
            if !get("refresh_token").is_some_and(refresh_token_is_valid) {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "Grant revoked or refresh token invalid.");
            }
            (None, "read openid".to_string())
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token."),
    };
    let access = random_token(32);
    shared
        .lock()
        .access_tokens
        .insert(access.clone(), Instant::now() + Duration::from_secs(ACCESS_TOKEN_SECS));
    let mut out = json!({
        "access_token": access,
        "expires_in": ACCESS_TOKEN_SECS,
        "token_type": "Bearer",
    });
    if let Some(rt) = refresh_token {
        out["refresh_token"] = json!(rt);
    }
    if scope.split_whitespace().any(|s| s == "openid") {
        out["id_token"] = json!(format!("{}.{}.{}", B64.encode(r#"{"alg":"none"}"#), B64.encode(r#"{"sub":"demo"}"#), random_token(16)));
    }
    (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], Json(out)).into_response()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    shared.lock().access_tokens.get(token).is_some_and(|exp| *exp > Instant::now())
}

fn api_unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {"code": "token_invalid", "message": "This access token is invalid or has expired."}})),
    )
        .into_response()
}

async fn customer(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    count(&shared, "/customers/me");
    if !authorized(&shared, &headers) {
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
    count(&shared, "/customers/me/accounts");
    if !authorized(&shared, &headers) {
        return api_unauthorized();
    }
    let items: Vec<_> = SEED_ACCOUNTS
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_verify_and_tampering_is_caught() {
        let t = issue_refresh_token();
        assert!(refresh_token_is_valid(&t));
        let mut tampered = t.clone();
        tampered.insert(9, 'x');
        assert!(!refresh_token_is_valid(&tampered));
        assert!(!refresh_token_is_valid("demo-rt-abc"));
    }
}
