//! The Demo broker's Tastytrade wire format details it enforces (User-Agent, JSON or form
//! token bodies, PKCE, bearer tokens).

use keygrant_demo::{DemoBroker, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use serde_json::{json, Value};

async fn broker() -> (DemoBroker, reqwest::Client) {
    let b = DemoBroker::start(0).await.unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    (b, http)
}

/// Approves an authorize request and returns the code from the redirect.
async fn approve(b: &DemoBroker, http: &reqwest::Client, extra: &[(&str, &str)]) -> String {
    let mut form = vec![
        ("response_type", "code"),
        ("client_id", DEMO_CLIENT_ID),
        ("redirect_uri", "http://127.0.0.1:9/callback"),
        ("scope", "read openid"),
        ("state", "s1"),
        ("decision", "approve"),
    ];
    form.extend_from_slice(extra);
    let resp = http
        .post(b.base_url().join("auth.html").unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
    let loc = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = loc.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "s1");
    q["code"].clone()
}

/// Approves and exchanges the code (form body, client in the body): the token response.
async fn signed_in(b: &DemoBroker, http: &reqwest::Client) -> Value {
    let code = approve(b, http, &[]).await;
    http.post(b.base_url().join("oauth/token").unwrap())
        .header("User-Agent", "keygrant/0.1.0")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_token_endpoint_requires_a_product_user_agent_like_tastytrade() {
    let (b, _) = broker().await;
    let bare = reqwest::Client::builder().build().unwrap(); // reqwest sends no User-Agent by default
    let resp = bare
        .post(b.base_url().join("oauth/token").unwrap())
        .json(&json!({"grant_type": "refresh_token", "client_secret": DEMO_CLIENT_SECRET, "refresh_token": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

#[tokio::test]
async fn code_exchange_by_form_then_refresh_by_json_as_the_sdks_send_them() {
    let (b, http) = broker().await;
    let code = approve(&b, &http, &[]).await;
    let resp = http
        .post(b.base_url().join("oauth/token").unwrap())
        .header("User-Agent", "tastytrade-sdk/13.2.3")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let tokens: Value = resp.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 900);
    assert!(
        tokens["id_token"].is_string(),
        "openid asked, id_token given"
    );
    let rt = tokens["refresh_token"].as_str().unwrap().to_string();

    // The same code twice is refused.
    let again = http
        .post(b.base_url().join("oauth/token").unwrap())
        .header("User-Agent", "x/1")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("redirect_uri", "http://127.0.0.1:9/callback"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 400);
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"]["code"],
        "invalid_grant"
    );

    // SDK 13's refresh: JSON, no client_id.
    let refreshed: Value = http
        .post(b.base_url().join("oauth/token").unwrap())
        .header("User-Agent", "tastytrade-sdk/13.2.3")
        .json(&json!({"grant_type": "refresh_token", "client_secret": DEMO_CLIENT_SECRET, "refresh_token": rt}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = refreshed["access_token"].as_str().unwrap();
    let accounts: Value = http
        .get(b.base_url().join("customers/me/accounts").unwrap())
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = &accounts["data"]["items"][0];
    assert_eq!(first["authority-level"], "owner");
    for field in [
        "account-number",
        "opened-at",
        "nickname",
        "account-type-name",
        "is-closed",
        "day-trader-status",
        "is-firm-error",
        "is-firm-proprietary",
        "is-futures-approved",
        "margin-or-cash",
        "is-foreign",
        "created-at",
    ] {
        assert!(
            !first["account"][field].is_null(),
            "SDK-required field {field} present"
        );
    }
}

#[tokio::test]
async fn pkce_is_checked_when_the_authorize_request_carried_a_challenge() {
    use base64::Engine;
    use sha2::Digest;
    let (b, http) = broker().await;
    let verifier = "a-verifier-that-is-long-enough-for-pkce-0123456789";
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier));
    let exchange = |code: String, v: &'static str| {
        let http = http.clone();
        let url = b.base_url().join("oauth/token").unwrap();
        async move {
            http.post(url)
                .header("User-Agent", "x/1")
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("client_id", DEMO_CLIENT_ID),
                    ("client_secret", DEMO_CLIENT_SECRET),
                    ("redirect_uri", "http://127.0.0.1:9/callback"),
                    ("code_verifier", v),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let code = approve(
        &b,
        &http,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    let wrong = exchange(code, "some-other-verifier").await;
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("PKCE"));
    let code = approve(
        &b,
        &http,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(exchange(code, verifier).await.status(), 200);
}

#[tokio::test]
async fn the_authorize_page_refuses_an_unknown_client_and_escapes_what_it_echoes() {
    let (b, http) = broker().await;
    let mut url = b.base_url().join("auth.html").unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", "someone-else")
        .append_pair("redirect_uri", "http://127.0.0.1:9/callback");
    let resp = http.get(url.clone()).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("Unknown client_id"));

    url.query_pairs_mut()
        .clear()
        .append_pair("response_type", "code")
        .append_pair("client_id", DEMO_CLIENT_ID)
        .append_pair("redirect_uri", "http://127.0.0.1:9/callback")
        .append_pair("state", "\"><script>alert(1)</script>");
    let page = http.get(url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"approve\"") && page.contains("id=\"deny\""));
    assert!(
        !page.contains("<script>alert(1)"),
        "echoed values are escaped"
    );
}

/// The JSON of a JWT's part `i` (0 header, 1 claims), base64url without padding.
fn jwt_part(token: &str, i: usize) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(i).expect("a JWT has three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

#[tokio::test]
async fn tastytrade_refresh_tokens_are_rt_jwts_naming_client_and_issuer_and_outlive_a_restart() {
    let b = DemoBroker::start_with(
        0,
        keygrant_demo::DemoConfig {
            issuer: Some("api.example-production.test".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let tokens = signed_in(&b, &http).await;
    let rt = tokens["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(rt.split('.').count(), 3, "header.payload.signature");
    assert_eq!(jwt_part(&rt, 0)["typ"], "rt+jwt");
    let claims = jwt_part(&rt, 1);
    assert_eq!(claims["aud"], DEMO_CLIENT_ID);
    assert_eq!(claims["iss"], "api.example-production.test");
    assert!(claims["sub"].is_string() && claims["iat"].is_u64());
    assert_eq!(tokens["scope"], "read openid");
    let id = tokens["id_token"].as_str().unwrap();
    assert_eq!(jwt_part(id, 1)["aud"], DEMO_CLIENT_ID);

    // Another instance with the same secret (a restarted app) accepts it; a changed
    // payload (another client in `aud`) is refused: the signature covers it.
    drop(b);
    let again = DemoBroker::start(0).await.unwrap();
    let refresh = |token: String| {
        let http = http.clone();
        let url = again.base_url().join("oauth/token").unwrap();
        async move {
            http.post(url)
                .header("User-Agent", "x/1")
                .json(&json!({"grant_type": "refresh_token", "client_secret": DEMO_CLIENT_SECRET, "refresh_token": token}))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(refresh(rt.clone()).await, 200);
    let parts: Vec<&str> = rt.split('.').collect();
    use base64::Engine;
    let forged_claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(claims.to_string().replace(DEMO_CLIENT_ID, "someone-else"));
    let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
    assert_eq!(refresh(forged).await, 400);
}

/// An access token from one Demo broker works at another with the same secret (the window's
/// Demo broker and the one of a `keygrant exec` process), until it expires by that broker's
/// clock; a Demo broker with another secret refuses it.
#[tokio::test]
async fn access_tokens_are_accepted_by_every_demo_broker_with_the_same_secret() {
    let (a, http) = broker().await;
    let tokens = signed_in(&a, &http).await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let status = |b: &DemoBroker, token: &str| {
        let http = http.clone();
        let url = b.base_url().join("customers/me/accounts").unwrap();
        let token = token.to_string();
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let b = DemoBroker::start(0).await.unwrap();
    assert_eq!(status(&a, &access).await, 200);
    assert_eq!(
        status(&b, &access).await,
        200,
        "another Demo broker accepts it"
    );
    // Tampered, or from a broker with another secret: refused.
    let tampered = access.replacen("~tt~", "~ts~", 1);
    assert_ne!(tampered, access);
    assert_eq!(status(&b, &tampered).await, 401);
    let other = DemoBroker::start_with(
        0,
        keygrant_demo::DemoConfig {
            client_secret: "another-secret-0123456789".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(status(&other, &access).await, 401);
    // Expired by the other broker's clock (15 minutes and a second later).
    b.advance_clock(std::time::Duration::from_secs(901));
    assert_eq!(status(&b, &access).await, 401);
}
