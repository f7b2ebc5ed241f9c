//! The Demo broker's Charles Schwab dialect over real HTTP: the sign-in (HTTPS callback, a
//! code ending `@` that lives 30 s, Basic client authentication), the 7-day refresh token and
//! a newer sign-in superseding it, the hashValue-keyed account API, userPreference, errors
//! and the rate limit. Time is moved with `advance_clock`, never waited for.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use keygrant_demo::{DemoBroker, DemoConfig, DEMO_SCHWAB_APP_KEY, DEMO_SCHWAB_SECRET};
use serde_json::Value;
use sha2::Digest;

const CALLBACK: &str = "https://127.0.0.1:8182/callback";
const DAY: u64 = 24 * 60 * 60;

async fn broker() -> (DemoBroker, reqwest::Client) {
    let b = DemoBroker::start(0).await.unwrap();
    (b, client())
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn url(b: &DemoBroker, path: &str) -> url::Url {
    b.base_url().join(path).unwrap()
}

/// What the browser is sent to after Approve: the raw query and its decoded pairs, in order.
struct Redirect {
    raw_query: String,
    pairs: Vec<(String, String)>,
}

impl Redirect {
    fn get(&self, name: &str) -> &str {
        &self.pairs.iter().find(|(k, _)| k == name).unwrap().1
    }

    /// The `code` parameter exactly as it stands in the address (still percent-encoded).
    fn raw_code(&self) -> &str {
        self.raw_query
            .split('&')
            .find_map(|kv| kv.strip_prefix("code="))
            .unwrap()
    }
}

/// The consent page's address for an authorize request from this client to `redirect_uri`.
fn authorize_url(b: &DemoBroker, redirect_uri: &str) -> url::Url {
    let mut u = url(b, "schwab/v1/oauth/authorize");
    u.query_pairs_mut()
        .append_pair("client_id", DEMO_SCHWAB_APP_KEY)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code");
    u
}

/// Posts `form` to the consent page, as its Approve and Deny buttons do.
async fn post_consent(
    b: &DemoBroker,
    http: &reqwest::Client,
    form: &[(&str, &str)],
) -> reqwest::Response {
    http.post(url(b, "schwab/v1/oauth/authorize"))
        .form(form)
        .send()
        .await
        .unwrap()
}

/// Posts the consent page's form with Approve (or `decision`) and the extra parameters.
async fn decide(
    b: &DemoBroker,
    http: &reqwest::Client,
    decision: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![
        ("response_type", "code"),
        ("client_id", DEMO_SCHWAB_APP_KEY),
        ("redirect_uri", CALLBACK),
        ("state", "st-42"),
        ("decision", decision),
    ];
    form.extend_from_slice(extra);
    post_consent(b, http, &form).await
}

async fn approve(b: &DemoBroker, http: &reqwest::Client, extra: &[(&str, &str)]) -> Redirect {
    let resp = decide(b, http, "approve", extra).await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    let parsed = url::Url::parse(&location).unwrap();
    assert_eq!(
        format!(
            "{}://{}:{}{}",
            parsed.scheme(),
            parsed.host_str().unwrap(),
            parsed.port().unwrap(),
            parsed.path()
        ),
        CALLBACK
    );
    Redirect {
        raw_query: parsed.query().unwrap().to_string(),
        pairs: parsed.query_pairs().into_owned().collect(),
    }
}

/// Approve with no extra parameters: the code from the redirect (decoded).
async fn approved_code(b: &DemoBroker, http: &reqwest::Client) -> String {
    approve(b, http, &[]).await.get("code").to_string()
}

/// A token request, with HTTP Basic client authentication under this client's ID and
/// `secret` when there is one (none: no `Authorization` header).
async fn token_as(
    b: &DemoBroker,
    http: &reqwest::Client,
    secret: Option<&str>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let request = http.post(url(b, "schwab/v1/oauth/token")).form(form);
    let request = match secret {
        Some(secret) => request.basic_auth(DEMO_SCHWAB_APP_KEY, Some(secret)),
        None => request,
    };
    request.send().await.unwrap()
}

/// A token request with HTTP Basic client authentication.
async fn token(b: &DemoBroker, http: &reqwest::Client, form: &[(&str, &str)]) -> reqwest::Response {
    token_as(b, http, Some(DEMO_SCHWAB_SECRET), form).await
}

/// A code exchange with `extra` parameters (e.g. `code_verifier`).
async fn exchange_with(
    b: &DemoBroker,
    http: &reqwest::Client,
    code: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
    ];
    form.extend_from_slice(extra);
    token(b, http, &form).await
}

async fn exchange(b: &DemoBroker, http: &reqwest::Client, code: &str) -> reqwest::Response {
    exchange_with(b, http, code, &[]).await
}

async fn refresh(b: &DemoBroker, http: &reqwest::Client, rt: &str) -> reqwest::Response {
    token(
        b,
        http,
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
    )
    .await
}

/// Approve and exchange: the token response.
async fn sign_in(b: &DemoBroker, http: &reqwest::Client) -> Value {
    let code = approved_code(b, http).await;
    let resp = exchange(b, http, &code).await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// Approve and exchange: the token response's string `field`.
async fn sign_in_for(b: &DemoBroker, http: &reqwest::Client, field: &str) -> String {
    sign_in(b, http).await[field].as_str().unwrap().to_string()
}

/// A fresh sign-in's access token.
async fn access(b: &DemoBroker, http: &reqwest::Client) -> String {
    sign_in_for(b, http, "access_token").await
}

/// A fresh sign-in's refresh token.
async fn refresh_token(b: &DemoBroker, http: &reqwest::Client) -> String {
    sign_in_for(b, http, "refresh_token").await
}

async fn api(
    b: &DemoBroker,
    http: &reqwest::Client,
    path: &str,
    access: &str,
) -> reqwest::Response {
    http.get(url(b, &format!("schwab/trader/v1/{path}")))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
}

/// An API request's JSON body (whatever its status).
async fn api_json(b: &DemoBroker, http: &reqwest::Client, path: &str, access: &str) -> Value {
    api(b, http, path, access).await.json().await.unwrap()
}

/// The body Schwab answers for a dead refresh token (tylerebowers/Schwabdev#40), with the
/// digest of `rt`.
fn dead_refresh_body(rt: &str) -> String {
    let digest = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(rt));
    let digest = digest.replace('/', "\\/");
    format!(
        r#"{{"error":"unsupported_token_type","error_description":"400 Bad Request: \"{{\"error_description\":\"Exception while authenticating refresh token [tokenDigest={digest}, Exception=Failed refresh token authentication [tokenDigest={digest}]]\",\"error\":\"refresh_token_authentication_error\"}}\""}}"#
    )
}

/// Asserts that refreshing with `rt` gets Schwab's answer for a dead refresh token: 400,
/// `application/json`, the recorded body with `rt`'s digest.
async fn assert_refresh_is_dead(b: &DemoBroker, http: &reqwest::Client, rt: &str, why: &str) {
    let resp = refresh(b, http, rt).await;
    assert_eq!(resp.status(), 400, "{why}");
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "application/json",
        "{why}"
    );
    assert_eq!(resp.text().await.unwrap(), dead_refresh_body(rt), "{why}");
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.chars().enumerate().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

#[tokio::test]
async fn authorize_approve_redirect_exchange_with_basic_then_refresh() {
    let (b, http) = broker().await;
    let mut page_url = authorize_url(&b, CALLBACK);
    page_url.query_pairs_mut().append_pair("state", "st-42");
    let page = http.get(page_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers().contains_key("schwab-client-correlid"));
    let page = page.text().await.unwrap();
    assert!(page.contains("id=\"approve\"") && page.contains("id=\"deny\""));
    assert!(
        page.contains("/schwab/v1/oauth/authorize"),
        "the form posts back"
    );

    let redirect = approve(&b, &http, &[]).await;
    let names: Vec<&str> = redirect.pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["code", "session", "state"], "Schwab's order");
    assert!(
        redirect.raw_code().ends_with("%40"),
        "{}",
        redirect.raw_query
    );
    assert!(!redirect.raw_code().contains('@'));
    let code = redirect.get("code");
    assert!(code.ends_with('@') && code.starts_with("C0."), "{code}");
    assert!(
        is_uuid(redirect.get("session")),
        "{}",
        redirect.get("session")
    );
    assert_eq!(redirect.get("state"), "st-42");

    let resp = exchange(&b, &http, code).await;
    assert_eq!(resp.status(), 200);
    assert!(is_uuid(
        resp.headers()["schwab-client-correlid"].to_str().unwrap()
    ));
    let tokens: Value = resp.json().await.unwrap();
    assert_eq!(tokens["expires_in"], 1800);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "api");
    for field in ["access_token", "refresh_token", "id_token"] {
        assert!(tokens[field].is_string(), "{field}: {tokens}");
    }
    assert!(tokens.get("refresh_token_expires_in").is_none());
    let rt = tokens["refresh_token"].as_str().unwrap();

    let refreshed = refresh(&b, &http, rt).await;
    assert_eq!(refreshed.status(), 200);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_eq!(
        refreshed["refresh_token"], rt,
        "a refresh answers the same refresh token"
    );
    assert_eq!(refreshed["expires_in"], 1800);
    let access = refreshed["access_token"].as_str().unwrap();
    assert_ne!(access, tokens["access_token"].as_str().unwrap());
    let numbers = api(&b, &http, "accounts/accountNumbers", access).await;
    assert_eq!(numbers.status(), 200);
    assert!(numbers.headers().contains_key("schwab-client-correlid"));
}

#[tokio::test]
async fn deny_redirects_with_access_denied_and_the_state() {
    let (b, http) = broker().await;
    let resp = decide(&b, &http, "deny", &[]).await;
    assert_eq!(resp.status(), 303);
    let loc = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let q: HashMap<_, _> = loc.query_pairs().into_owned().collect();
    assert_eq!(q["error"], "access_denied");
    assert_eq!(q["state"], "st-42");
    assert!(!q.contains_key("code"));
}

#[tokio::test]
async fn only_an_https_callback_on_127_0_0_1_is_accepted() {
    let (b, http) = broker().await;
    for bad in [
        "http://127.0.0.1:8182/callback",
        "https://localhost:8182/callback",
        "keygrant://callback",
    ] {
        let resp = http.get(authorize_url(&b, bad)).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
        let text = resp.text().await.unwrap();
        assert!(
            text.contains("HTTPS") && !text.contains("id=\"approve\""),
            "{bad}: {text}"
        );
    }
    let http_callback = [
        ("response_type", "code"),
        ("client_id", DEMO_SCHWAB_APP_KEY),
        ("redirect_uri", "http://127.0.0.1:8182/callback"),
        ("decision", "approve"),
    ];
    let resp = post_consent(&b, &http, &http_callback).await;
    assert_eq!(resp.status(), 400, "no code for an http callback");
    assert!(!resp.headers().contains_key("location"));
}

#[tokio::test]
async fn client_credentials_in_the_body_instead_of_basic_are_refused() {
    let (b, http) = broker().await;
    let code = approved_code(&b, &http).await;
    let exchange_form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    let mut in_body_form = exchange_form.to_vec();
    in_body_form.extend([
        ("client_id", DEMO_SCHWAB_APP_KEY),
        ("client_secret", DEMO_SCHWAB_SECRET),
    ]);
    let in_body = token_as(&b, &http, None, &in_body_form).await;
    assert_eq!(in_body.status(), 401);
    assert_eq!(
        in_body.json::<Value>().await.unwrap(),
        serde_json::json!({"error": "invalid_client", "error_description": "Unauthorized"})
    );
    let wrong_secret = token_as(&b, &http, Some("not-the-secret"), &exchange_form).await;
    assert_eq!(wrong_secret.status(), 401);
    // The refused requests did not use the code up.
    assert_eq!(exchange(&b, &http, &code).await.status(), 200);
}

/// The error inside Schwab's wrapped token error, e.g. `Bad authorization code: ...`.
async fn wrapped_description(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_token_type", "{body}");
    let outer = body["error_description"].as_str().unwrap();
    let inner = outer
        .strip_prefix("400 Bad Request: \"")
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or_else(|| panic!("wrapped: {outer}"));
    let inner: Value = serde_json::from_str(inner).unwrap();
    assert_eq!(inner["error"], "invalid_request");
    inner["error_description"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_code_lives_30_seconds() {
    let (b, http) = broker().await;
    let late = approved_code(&b, &http).await;
    let in_time = approved_code(&b, &http).await;
    b.advance_clock(Duration::from_secs(29));
    assert_eq!(
        exchange(&b, &http, &in_time).await.status(),
        200,
        "29 s is in time"
    );
    b.advance_clock(Duration::from_secs(2));
    let said = wrapped_description(exchange(&b, &http, &late).await).await;
    assert!(
        said.starts_with("Bad authorization code: AuthorizationCode has expired,expiration="),
        "{said}"
    );
    let (expiration, now) = said
        .trim_end()
        .split_once(",expiration=")
        .unwrap()
        .1
        .split_once(",now=")
        .unwrap();
    let (expiration, now): (u64, u64) = (expiration.parse().unwrap(), now.parse().unwrap());
    assert!(now > expiration && now - expiration < 2_000, "{said}");
}

#[tokio::test]
async fn a_code_is_good_once() {
    let (b, http) = broker().await;
    let code = approved_code(&b, &http).await;
    assert_eq!(exchange(&b, &http, &code).await.status(), 200);
    let said = wrapped_description(exchange(&b, &http, &code).await).await;
    assert!(said.starts_with("Bad authorization code: "), "{said}");
}

#[tokio::test]
async fn a_code_still_percent_encoded_is_refused_and_the_decoded_one_accepted() {
    let (b, http) = broker().await;
    let redirect = approve(&b, &http, &[]).await;
    let raw = redirect.raw_code().to_string();
    assert!(raw.ends_with("%40"));
    // Sent as is: the server receives the three characters `%40`.
    let said = wrapped_description(exchange(&b, &http, &raw).await).await;
    assert!(said.starts_with("Bad authorization code: "), "{said}");
    assert_eq!(
        exchange(&b, &http, redirect.get("code")).await.status(),
        200
    );
    let said = wrapped_description(exchange(&b, &http, "yo").await).await;
    assert!(
        said.starts_with("Bad authorization code: Invalid authorization code header: yo"),
        "{said}"
    );
}

#[tokio::test]
async fn pkce_is_checked_when_the_authorize_request_sent_a_challenge() {
    let (b, http) = broker().await;
    let verifier = "a-verifier-that-is-long-enough-for-pkce-0123456789";
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier));
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let code = approve(&b, &http, &pkce).await.get("code").to_string();
    let wrong = [("code_verifier", "another-verifier")];
    let said = wrapped_description(exchange_with(&b, &http, &code, &wrong).await).await;
    assert!(said.contains("PKCE"), "{said}");
    let code = approve(&b, &http, &pkce).await.get("code").to_string();
    let right = [("code_verifier", verifier)];
    assert_eq!(exchange_with(&b, &http, &code, &right).await.status(), 200);
    // Never required: no challenge, no verifier, fine.
    let code = approved_code(&b, &http).await;
    assert_eq!(exchange(&b, &http, &code).await.status(), 200);
}

#[tokio::test]
async fn the_refresh_token_dies_7_days_after_the_sign_in_and_refreshing_does_not_extend_it() {
    let (b, http) = broker().await;
    let rt = refresh_token(&b, &http).await;
    b.advance_clock(Duration::from_secs(6 * DAY + 23 * 3600));
    let resp = refresh(&b, &http, &rt).await;
    assert_eq!(resp.status(), 200, "6 days 23 hours in");
    let kept: Value = resp.json().await.unwrap();
    assert_eq!(kept["refresh_token"], rt.as_str());
    b.advance_clock(Duration::from_secs(3600 + 1));
    assert_refresh_is_dead(&b, &http, &rt, "7 days and 1 s after the sign-in").await;
}

#[tokio::test]
async fn access_tokens_last_30_minutes() {
    let (b, http) = broker().await;
    let access = access(&b, &http).await;
    b.advance_clock(Duration::from_secs(1799));
    assert_eq!(
        api(&b, &http, "accounts/accountNumbers", &access)
            .await
            .status(),
        200
    );
    b.advance_clock(Duration::from_secs(2));
    let resp = api(&b, &http, "accounts/accountNumbers", &access).await;
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    let error = &body["errors"][0];
    assert_eq!(error["status"], 401);
    assert_eq!(error["title"], "Unauthorized");
    assert!(is_uuid(error["id"].as_str().unwrap()), "{body}");
    let resp = http
        .get(url(&b, "schwab/trader/v1/userPreference"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401, "no bearer at all");
}

#[tokio::test]
async fn a_newer_sign_in_supersedes_the_earlier_refresh_token() {
    let (b, http) = broker().await;
    let first = refresh_token(&b, &http).await;
    assert_eq!(refresh(&b, &http, &first).await.status(), 200);
    let second = refresh_token(&b, &http).await;
    assert_ne!(first, second);
    assert_refresh_is_dead(&b, &http, &first, "superseded").await;
    assert_eq!(refresh(&b, &http, &second).await.status(), 200);
}

#[tokio::test]
async fn refresh_tokens_outlive_a_restart_and_belong_to_their_client() {
    let http = client();
    let a = DemoBroker::start(0).await.unwrap();
    let rt = refresh_token(&a, &http).await;
    assert!(rt.starts_with("demo-schwab-rt-"), "{rt}");
    drop(a);
    let again = DemoBroker::start(0).await.unwrap();
    assert_eq!(refresh(&again, &http, &rt).await.status(), 200);
    let other = DemoBroker::start_with(
        0,
        DemoConfig {
            schwab_secret: "anotherSecret000".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", rt.as_str()),
    ];
    let resp = token_as(&other, &http, Some("anotherSecret000"), &form).await;
    assert_eq!(resp.status(), 400, "another app's token is not this one's");
}

#[tokio::test]
async fn accounts_are_addressed_by_hash_value_never_by_number() {
    let (b, http) = broker().await;
    let at = access(&b, &http).await;
    let numbers = api_json(&b, &http, "accounts/accountNumbers", &at).await;
    let numbers = numbers.as_array().unwrap();
    assert_eq!(numbers.len(), 3);
    for n in numbers {
        let number = n["accountNumber"].as_str().unwrap();
        let hash = n["hashValue"].as_str().unwrap();
        assert!(number.len() == 8 && number.bytes().all(|c| c.is_ascii_digit()));
        assert!(
            hash.len() == 64 && hash.bytes().all(|c| c.is_ascii_hexdigit()),
            "{hash}"
        );
    }
    let first = &numbers[0];
    let hash = first["hashValue"].as_str().unwrap();
    let number = first["accountNumber"].as_str().unwrap();

    let with = api_json(&b, &http, &format!("accounts/{hash}?fields=positions"), &at).await;
    assert_eq!(with["securitiesAccount"]["accountNumber"], number);
    assert_eq!(
        with["securitiesAccount"]["positions"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let without = api_json(&b, &http, &format!("accounts/{hash}"), &at).await;
    assert!(without["securitiesAccount"].get("positions").is_none());
    assert!(without["securitiesAccount"]["currentBalances"].is_object());

    let by_number = api(
        &b,
        &http,
        &format!("accounts/{number}?fields=positions"),
        &at,
    )
    .await;
    assert_eq!(by_number.status(), 400);
    assert!(by_number.headers().contains_key("schwab-client-correlid"));
    assert_eq!(
        by_number.json::<Value>().await.unwrap(),
        serde_json::json!({"message": "Invalid account number"})
    );
}

#[rustfmt::skip]
const MARGIN_CURRENT: &[&str] = &[
    "accruedInterest", "cashBalance", "cashReceipts", "longOptionMarketValue",
    "liquidationValue", "longMarketValue", "moneyMarketFund", "savings", "shortMarketValue",
    "pendingDeposits", "mutualFundValue", "bondValue", "shortOptionMarketValue",
    "availableFunds", "availableFundsNonMarginableTrade", "buyingPower",
    "buyingPowerNonMarginableTrade", "dayTradingBuyingPower", "equity", "equityPercentage",
    "longMarginValue", "maintenanceCall", "maintenanceRequirement", "marginBalance", "regTCall",
    "shortBalance", "shortMarginValue", "sma",
];

#[rustfmt::skip]
const POSITION_FIELDS: &[&str] = &[
    "shortQuantity", "averagePrice", "currentDayProfitLoss", "currentDayProfitLossPercentage",
    "longQuantity", "settledLongQuantity", "settledShortQuantity", "marketValue",
    "maintenanceRequirement", "averageLongPrice", "taxLotAverageLongPrice",
    "longOpenProfitLoss", "previousSessionLongQuantity", "currentDayCost",
];

#[rustfmt::skip]
const CASH_CURRENT: &[&str] = &[
    "cashAvailableForTrading", "cashAvailableForWithdrawal", "cashCall",
    "longNonMarginableMarketValue", "totalCash", "cashDebitCallValue", "unsettledCash",
    "liquidationValue", "cashBalance", "longMarketValue",
];

/// Asserts that each of `keys` in `v` is a JSON number (not a string, not missing).
fn assert_numbers(v: &Value, keys: &[&str], what: &str) {
    for k in keys {
        assert!(v[*k].is_number(), "{what}.{k} is a JSON number: {v}");
    }
}

#[tokio::test]
async fn every_account_at_once_with_positions_in_schwabs_shape() {
    let (b, http) = broker().await;
    let at = access(&b, &http).await;
    let all = api_json(&b, &http, "accounts?fields=positions", &at).await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 3);
    let types: Vec<&str> = all
        .iter()
        .map(|a| a["securitiesAccount"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["MARGIN", "CASH", "MARGIN"]);

    let margin = &all[0]["securitiesAccount"];
    for flag in ["isDayTrader", "isClosingOnlyRestricted", "pfcbFlag"] {
        assert!(margin[flag].is_boolean(), "{flag}");
    }
    assert!(margin["roundTrips"].is_number());
    let current = &margin["currentBalances"];
    assert_numbers(current, MARGIN_CURRENT, "margin currentBalances");
    assert_eq!(current["cashBalance"].as_f64(), Some(1234.56));
    // 1234.56 + AAPL 19012 + SPY 7217.28 + calls 1870 − TSLA 2481.
    assert_eq!(current["liquidationValue"].as_f64(), Some(26852.84));
    assert_eq!(
        all[0]["aggregatedBalance"]["liquidationValue"].as_f64(),
        Some(26852.84)
    );
    assert!(all[0]["aggregatedBalance"]["currentLiquidationValue"].is_number());
    assert!(margin["initialBalances"].is_object() && margin["projectedBalances"].is_object());

    let positions = margin["positions"].as_array().unwrap();
    let by_type = |t: &str| {
        positions
            .iter()
            .find(|p| p["instrument"]["assetType"] == t)
            .unwrap_or_else(|| panic!("a {t} position"))
    };
    let equity = by_type("EQUITY");
    assert_eq!(equity["instrument"]["symbol"], "AAPL");
    assert_eq!(equity["longQuantity"], 100);
    assert_eq!(equity["marketValue"], 19012);
    assert_numbers(equity, POSITION_FIELDS, "equity position");
    let etf = by_type("COLLECTIVE_INVESTMENT");
    assert_eq!(etf["instrument"]["type"], "EXCHANGE_TRADED_FUND");
    assert_eq!(etf["marketValue"].as_f64(), Some(7217.28));
    // (601.44 − 598.37) × 12 in doubles, as Schwab sends its day P/L.
    assert_eq!(etf["currentDayProfitLoss"].to_string(), "36.840000000001");
    let option = by_type("OPTION");
    assert_eq!(option["instrument"]["putCall"], "CALL");
    assert_eq!(option["instrument"]["underlyingSymbol"], "AAPL");
    assert_eq!(option["longQuantity"], 2, "contracts");
    assert_eq!(option["marketValue"], 1870, "2 × 100 × 9.35");
    let short = positions
        .iter()
        .find(|p| p["shortQuantity"].as_f64() > Some(0.0))
        .expect("a short position");
    assert_eq!(short["instrument"]["symbol"], "TSLA");
    assert_eq!(short["shortQuantity"], 10);
    assert_eq!(short["longQuantity"], 0);
    assert_eq!(short["marketValue"], -2481);
    assert_eq!(short["shortOpenProfitLoss"], 139, "(262 − 248.10) × 10");
    assert!(short["averageShortPrice"].is_number());

    let cash = &all[1]["securitiesAccount"];
    assert_numbers(
        &cash["currentBalances"],
        CASH_CURRENT,
        "cash currentBalances",
    );
    assert_eq!(
        cash["currentBalances"]["cashBalance"].as_f64(),
        Some(100.07)
    );
    let fractional = cash["positions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["instrument"]["symbol"] == "SCHF")
        .unwrap();
    assert_eq!(fractional["longQuantity"].as_f64(), Some(14.0846));
    assert!(all[2]["securitiesAccount"]["positions"]
        .as_array()
        .unwrap()
        .is_empty());

    let plain = api_json(&b, &http, "accounts", &at).await;
    assert!(plain
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["securitiesAccount"].get("positions").is_none()
            && a["securitiesAccount"]["currentBalances"].is_object()));
}

#[tokio::test]
async fn user_preference_is_an_object_with_nicknames_for_some_accounts() {
    let (b, http) = broker().await;
    let at = access(&b, &http).await;
    let prefs = api_json(&b, &http, "userPreference", &at).await;
    assert!(
        prefs.is_object(),
        "an object, not the spec's array: {prefs}"
    );
    let accounts = prefs["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 3);
    assert_eq!(accounts[0]["nickName"], "Swing Trading");
    assert_eq!(accounts[0]["primaryAccount"], true);
    assert_eq!(accounts[1]["nickName"], "Roth IRA");
    assert!(
        accounts[2].get("nickName").is_none(),
        "not every account has one"
    );
    for a in accounts {
        for key in ["accountNumber", "type", "accountColor", "displayAcctId"] {
            assert!(a[key].is_string(), "{key}: {a}");
        }
        assert!(a["autoPositionEffect"].is_boolean());
    }
    assert!(prefs["streamerInfo"][0]["streamerSocketUrl"].is_string());
    assert!(prefs["offers"][0]["level2Permissions"].is_boolean());
    assert!(prefs["offers"][0]["mktDataPermission"].is_string());
}

#[tokio::test]
async fn generated_accounts_follow_demo_config() {
    let b = DemoBroker::start_with(
        0,
        DemoConfig {
            accounts: Some(20),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let http = client();
    let at = access(&b, &http).await;
    let all = api_json(&b, &http, "accounts?fields=positions", &at).await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 20);
    for a in all {
        let s = &a["securitiesAccount"];
        if s["type"] == "CASH" {
            assert!(
                s["positions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|p| p["shortQuantity"] == 0),
                "no shorts in a cash account: {s}"
            );
        }
    }
}

#[tokio::test]
async fn the_rate_limit_answers_429_in_schwabs_shape_until_the_window_passes() {
    let (b, http) = broker().await;
    let at = access(&b, &http).await;
    b.set_schwab_rate_limit(5, Duration::from_secs(60));
    for i in 0..5 {
        let resp = api(&b, &http, "accounts/accountNumbers", &at).await;
        assert_eq!(resp.status(), 200, "request {i}");
    }
    let resp = api(&b, &http, "accounts?fields=positions", &at).await;
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_none(), "none reported");
    assert!(resp.headers().contains_key("schwab-client-correlid"));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["status"], "429");
    assert!(body["errors"][0]["id"].is_string() && body["errors"][0]["detail"].is_string());
    // Token requests are not API requests: still served.
    let code = approved_code(&b, &http).await;
    assert_eq!(exchange(&b, &http, &code).await.status(), 200);
    b.advance_clock(Duration::from_secs(59));
    assert_eq!(
        api(&b, &http, "userPreference", &at).await.status(),
        429,
        "the window has not passed"
    );
    b.advance_clock(Duration::from_secs(1));
    assert_eq!(api(&b, &http, "userPreference", &at).await.status(), 200);
}

#[tokio::test]
async fn the_default_limit_is_120_a_minute() {
    let (b, http) = broker().await;
    let at = access(&b, &http).await;
    for i in 0..120 {
        assert_eq!(
            api(&b, &http, "accounts/accountNumbers", &at)
                .await
                .status(),
            200,
            "request {i}"
        );
    }
    assert_eq!(
        api(&b, &http, "accounts/accountNumbers", &at)
            .await
            .status(),
        429
    );
    // The other dialects are not limited by it.
    let tasty = http
        .get(url(&b, "customers/me/accounts"))
        .send()
        .await
        .unwrap();
    assert_eq!(tasty.status(), 401, "answered by its handler, not 429");
}

#[cfg(feature = "faults")]
mod faults {
    use super::*;
    use keygrant_demo::ApiFault;

    /// The claims of a Schwab-dialect refresh token.
    fn claims(rt: &str) -> Value {
        let payload = rt
            .strip_prefix("demo-schwab-rt-")
            .unwrap()
            .split_once('.')
            .unwrap()
            .0;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn token_requests_are_counted_and_recorded_with_basic_and_no_secret_in_the_body() {
        let (b, http) = broker().await;
        let rt = refresh_token(&b, &http).await;
        assert_eq!(refresh(&b, &http, &rt).await.status(), 200);
        assert_eq!(b.hits("/schwab/v1/oauth/token"), 2);
        let sent = b.token_requests();
        assert_eq!(sent.len(), 2);
        assert!(sent.iter().all(|r| r.has_authorization_header
            && r.path == "/schwab/v1/oauth/token"
            && !r.fields.contains(&"client_secret".to_string())));
        assert_eq!(sent[0].grant_type, "authorization_code");
        assert_eq!(sent[1].grant_type, "refresh_token");
    }

    #[tokio::test]
    async fn revoked_grants_get_the_dead_refresh_token_body() {
        let (b, http) = broker().await;
        let rt = refresh_token(&b, &http).await;
        b.revoke_grants();
        assert_refresh_is_dead(&b, &http, &rt, "revoked").await;
    }

    #[tokio::test]
    async fn rotation_keeps_the_sign_in_time_so_the_7_days_still_end() {
        let (b, http) = broker().await;
        let rt = refresh_token(&b, &http).await;
        b.rotate_refresh_tokens();
        b.advance_clock(Duration::from_secs(3 * DAY));
        let rotated: Value = refresh(&b, &http, &rt).await.json().await.unwrap();
        let child = rotated["refresh_token"].as_str().unwrap().to_string();
        assert_ne!(child, rt);
        assert_eq!(claims(&child)["auth_time"], claims(&rt)["auth_time"]);
        assert_eq!(refresh(&b, &http, &child).await.status(), 200);
        assert_eq!(
            refresh(&b, &http, &rt).await.status(),
            400,
            "retired once the child was used"
        );
        b.advance_clock(Duration::from_secs(4 * DAY));
        assert_eq!(
            refresh(&b, &http, &child).await.status(),
            400,
            "7 days from the sign-in"
        );
    }

    #[tokio::test]
    async fn api_faults_and_failing_accounts_answer_in_schwabs_shape() {
        let (b, http) = broker().await;
        let at = access(&b, &http).await;
        let before = b.api_requests();
        b.push_api_fault(ApiFault::Status(503));
        let resp = api(&b, &http, "accounts/accountNumbers", &at).await;
        assert_eq!(resp.status(), 503);
        assert!(resp.headers().contains_key("schwab-client-correlid"));
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["errors"][0]["status"], "503");
        assert_eq!(b.api_requests(), before + 1);
        assert_eq!(
            b.hits("/schwab/trader/v1/accounts/accountNumbers"),
            0,
            "the fault answered"
        );

        let numbers = api_json(&b, &http, "accounts/accountNumbers", &at).await;
        b.apply_fault("fail-account").unwrap();
        let all = api(&b, &http, "accounts?fields=positions", &at).await;
        assert_eq!(
            all.status(),
            500,
            "one request for every account fails as a whole"
        );
        let hash = |i: usize| numbers[i]["hashValue"].as_str().unwrap().to_string();
        let failing = api(
            &b,
            &http,
            &format!("accounts/{}?fields=positions", hash(1)),
            &at,
        )
        .await;
        assert_eq!(failing.status(), 500);
        let fine = api(
            &b,
            &http,
            &format!("accounts/{}?fields=positions", hash(0)),
            &at,
        )
        .await;
        assert_eq!(fine.status(), 200);
    }

    #[tokio::test]
    async fn forbidden_and_token_faults_apply_to_the_schwab_dialect() {
        let (b, http) = broker().await;
        let at = access(&b, &http).await;
        b.forbid_api();
        let resp = api(&b, &http, "userPreference", &at).await;
        assert_eq!(resp.status(), 403);
        assert_eq!(
            resp.json::<Value>().await.unwrap()["errors"][0]["status"],
            "403"
        );
        b.push_token_fault(keygrant_demo::TokenFault::Status(503), 1);
        let code = approved_code(&b, &http).await;
        let resp = exchange(&b, &http, &code).await;
        assert_eq!(resp.status(), 503);
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert_eq!(
            exchange(&b, &http, &code).await.status(),
            200,
            "the code survived"
        );
        b.omit_refresh_tokens();
        let code = approved_code(&b, &http).await;
        let tokens: Value = exchange(&b, &http, &code).await.json().await.unwrap();
        assert!(tokens.get("refresh_token").is_none());
    }
}
