//! The "Custom" path: any OAuth 2 provider described by hand. The Demo broker stands in for
//! the provider (its TradeStation dialect takes HTTP Basic or body client authentication and
//! PKCE; its Tastytrade dialect takes body authentication without PKCE). Real HTTP, secrets in
//! memory, the scripted browser.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::custom::{CustomProvider, ExtraParam};
use keygrant_core::brokers::{BrokerKind, ClientAuth, Environment};
use keygrant_core::error::ErrorKind;
use keygrant_core::vault::Vault;
use keygrant_core::views::{ConnectRequest, GrantRequest};
use keygrant_demo::{DemoBroker, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use url::Url;

fn core(dir: &std::path::Path, demo: &DemoBroker, vault: &Vault) -> Core {
    Core::new(
        dir,
        vault.clone(),
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    )
}

/// The Demo broker's TradeStation dialect described as a custom provider.
fn ts_like(demo: &DemoBroker, client_auth: ClientAuth) -> CustomProvider {
    let base = demo.base_url();
    CustomProvider {
        authorize_url: format!(" {base}ts/authorize "),
        token_url: format!("{base}ts/oauth/token"),
        client_auth,
        pkce: true,
        extra_params: vec![ExtraParam {
            name: "audience".into(),
            value: "https://api.tradestation.com".into(),
        }],
    }
}

fn request(custom: CustomProvider, secret: &str, scopes: &str) -> ConnectRequest {
    ConnectRequest {
        broker: BrokerKind::Custom,
        environment: Environment::Production,
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: secret.into(),
        redirect_uri: None,
        scopes: Some(vec![scopes.into()]),
        custom: Some(custom),
    }
}

/// The scripted browser that also keeps the authorize URL it was given.
fn browser(
    seen: &Arc<Mutex<Option<Url>>>,
) -> impl FnOnce(&Url) -> keygrant_core::error::Result<()> {
    let seen = seen.clone();
    move |url: &Url| {
        *seen.lock().unwrap() = Some(url.clone());
        scripted_browser("approve")(url)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_with_basic_auth_and_pkce_gives_a_refresh_token_and_masked_token_fields() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (vault, store) = memory();
    let core = core(dir.path(), &demo, &vault);
    let seen = Arc::new(Mutex::new(None));
    let view = core
        .connect(
            request(
                ts_like(&demo, ClientAuth::Basic),
                DEMO_CLIENT_SECRET,
                "openid offline_access openid",
            ),
            browser(&seen),
        )
        .await
        .unwrap();

    // The authorize URL: PKCE S256, the extra parameter, the typed scopes, any loopback port.
    let url = seen.lock().unwrap().clone().unwrap();
    let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["audience"], "https://api.tradestation.com");
    assert_eq!(q["scope"], "openid offline_access");
    assert!(
        q["redirect_uri"].starts_with("http://127.0.0.1:")
            && q["redirect_uri"].ends_with("/callback")
    );

    // HTTP Basic: the secret travels in the header, never in the body.
    let reqs = demo.token_requests();
    assert_eq!(reqs.len(), 1);
    assert!(reqs[0].has_authorization_header);
    assert!(
        !reqs[0].fields.contains(&"client_secret".to_string()),
        "{:?}",
        reqs[0].fields
    );
    assert!(reqs[0].fields.contains(&"code_verifier".to_string()));

    assert_eq!(view.broker, BrokerKind::Custom);
    assert!(!view.has_dashboard);
    assert_eq!(view.label, "Custom · 127.0.0.1");
    let field = |name: &str| {
        view.token_fields
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("{name} in {:?}", view.token_fields))
            .clone()
    };
    assert!(
        field("access_token").masked && field("id_token").masked && field("refresh_token").masked
    );
    assert_eq!(
        (
            field("expires_in").value.as_str(),
            field("expires_in").masked
        ),
        ("1200", false)
    );
    assert_eq!(field("scope").value, "openid offline_access");
    assert_eq!(field("token_type").value, "Bearer");
    assert_eq!(
        view.access_token_expires_at.unwrap() - view.access_token_obtained_at.unwrap(),
        1200
    );

    // What the page receives never holds the refresh token (nor, so, any token in clear).
    let rt = store.read(&Vault::refresh_token_key(&view.id)).unwrap();
    let json = serde_json::to_string(&view).unwrap();
    assert!(!json.contains(&rt), "{json}");
    assert!(
        json.contains(&rt[rt.len() - 4..]),
        "the masked form keeps the last four characters"
    );
    // The description is kept (trimmed) without the secret.
    let profiles = std::fs::read_to_string(dir.path().join("profiles.json")).unwrap();
    assert!(
        profiles.contains("ts/authorize\"")
            && profiles.contains("\"basic\"")
            && !profiles.contains(DEMO_CLIENT_SECRET)
    );

    // No dashboard: the account list is refused with a reason.
    let e = core.accounts().await.unwrap_err();
    assert!(e.message.contains("no account list"), "{}", e.message);

    // After a restart, "Refresh now" uses the keyring's refresh token, again with Basic auth.
    drop(core);
    let core = self::core(dir.path(), &demo, &vault);
    let before = core.state().await.unwrap().profile.unwrap();
    assert!(
        before.token_fields.is_empty() && before.access_token_expires_at.is_none(),
        "nothing known before a refresh"
    );
    let after = core.refresh_now().await.unwrap();
    assert!(after
        .token_fields
        .iter()
        .any(|f| f.name == "access_token" && f.masked));
    let refresh = demo.token_requests().pop().unwrap();
    assert_eq!(refresh.grant_type, "refresh_token");
    assert!(refresh.has_authorization_header);
    assert_eq!(refresh.fields, ["grant_type", "refresh_token"]);
    core.disconnect().await.unwrap();
    assert_eq!(store.read(&Vault::refresh_token_key(&view.id)), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_provider_with_body_auth_and_no_pkce_sends_the_credentials_in_the_form() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (vault, store) = memory();
    let core = core(dir.path(), &demo, &vault);
    let base = demo.base_url();
    let provider = CustomProvider {
        authorize_url: format!("{base}auth.html"),
        token_url: format!("{base}oauth/token"),
        client_auth: ClientAuth::RequestBody,
        pkce: false,
        extra_params: vec![],
    };
    let seen = Arc::new(Mutex::new(None));
    let mut req = request(provider, DEMO_CLIENT_SECRET, "read");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    req.redirect_uri = Some(format!("http://localhost:{port}/oauth/cb"));
    let view = core.connect(req, browser(&seen)).await.unwrap();
    let url = seen.lock().unwrap().clone().unwrap();
    let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert!(!q.contains_key("code_challenge"), "PKCE off");
    assert_eq!(
        q["redirect_uri"],
        format!("http://localhost:{port}/oauth/cb"),
        "the registered redirect is sent as entered"
    );
    let exchange = &demo.token_requests()[0];
    assert!(!exchange.has_authorization_header);
    assert!(
        exchange.fields.contains(&"client_secret".to_string())
            && exchange.fields.contains(&"client_id".to_string())
    );
    assert!(exchange
        .content_type
        .starts_with("application/x-www-form-urlencoded"));
    core.refresh_now().await.unwrap();
    let refresh = demo.token_requests().pop().unwrap();
    assert_eq!(
        refresh.fields,
        ["client_id", "client_secret", "grant_type", "refresh_token"]
    );
    assert!(refresh
        .content_type
        .starts_with("application/x-www-form-urlencoded"));
    core.disconnect().await.unwrap();
    assert_eq!(store.read(&Vault::refresh_token_key(&view.id)), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_no_refresh_token_or_a_bad_description_saves_nothing() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (vault, store) = memory();
    let core = core(dir.path(), &demo, &vault);
    let seen = Arc::new(Mutex::new(None));

    let e = core
        .connect(
            request(
                ts_like(&demo, ClientAuth::Basic),
                "wrong-secret-0123456789",
                "openid offline_access",
            ),
            browser(&seen),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidClient, "{}", e.message);
    assert_eq!(e.field.as_deref(), Some("client_secret"));

    // Without offline_access the Demo broker, like many providers, gives no refresh token.
    let e = core
        .connect(
            request(
                ts_like(&demo, ClientAuth::Basic),
                DEMO_CLIENT_SECRET,
                "openid",
            ),
            browser(&seen),
        )
        .await
        .unwrap_err();
    assert!(
        e.message.contains("offline_access") && e.message.contains("Nothing was saved"),
        "{}",
        e.message
    );

    // Refused before any browser opens: plain http to another host, a reserved parameter.
    let mut p = ts_like(&demo, ClientAuth::Basic);
    p.token_url = "http://id.example.com/token".into();
    let opened = Arc::new(Mutex::new(None));
    let e = core
        .connect(request(p, DEMO_CLIENT_SECRET, "openid"), browser(&opened))
        .await
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("token_url"));
    let mut p = ts_like(&demo, ClientAuth::Basic);
    p.extra_params.push(ExtraParam {
        name: "redirect_uri".into(),
        value: "http://evil.example".into(),
    });
    let e = core
        .connect(request(p, DEMO_CLIENT_SECRET, "openid"), browser(&opened))
        .await
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("extra_params"));
    let mut r = request(
        ts_like(&demo, ClientAuth::Basic),
        DEMO_CLIENT_SECRET,
        "openid",
    );
    r.custom = None;
    assert_eq!(
        core.connect(r, browser(&opened))
            .await
            .unwrap_err()
            .field
            .as_deref(),
        Some("authorize_url")
    );
    assert!(
        opened.lock().unwrap().is_none(),
        "no browser for a description that cannot work"
    );

    assert!(core.state().await.unwrap().profile.is_none());
    assert!(!dir.path().join("profiles.json").exists());
    assert!(
        store.written.lock().unwrap().is_empty(),
        "no secret was saved"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pasted_refresh_token_for_a_custom_provider_is_verified_before_it_is_saved() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (vault, store) = memory();
    let core = core(dir.path(), &demo, &vault);
    let seen = Arc::new(Mutex::new(None));
    let first = core
        .connect(
            request(
                ts_like(&demo, ClientAuth::Basic),
                DEMO_CLIENT_SECRET,
                "openid offline_access",
            ),
            browser(&seen),
        )
        .await
        .unwrap();
    let rt = store.read(&Vault::refresh_token_key(&first.id)).unwrap();
    core.disconnect().await.unwrap();

    let grant = |token: String| GrantRequest {
        broker: BrokerKind::Custom,
        environment: Environment::Production,
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: DEMO_CLIENT_SECRET.into(),
        refresh_token: token.as_str().into(),
        custom: Some(ts_like(&demo, ClientAuth::Basic)),
    };
    let e = core
        .connect_with_grant(grant("demo-ts-rt-not-a-real-token.AAAA".into()))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidGrant);
    assert!(core.state().await.unwrap().profile.is_none());
    let view = core
        .connect_with_grant(grant(format!("  {rt}\n")))
        .await
        .unwrap();
    assert_eq!(
        store.read(&Vault::refresh_token_key(&view.id)).as_deref(),
        Some(rt.as_str())
    );
    assert!(view.token_fields.iter().any(|f| f.name == "access_token"));
    core.disconnect().await.unwrap();
}
