//! Token responses over real HTTP, the Demo broker switched to answer oddly: every shape real
//! token servers send is read (docs/brokers.md#oauth-2-token-response); lifetimes are clamped
//! so no `expires_in` panics or makes every call refresh; a failed refresh keeps the access
//! token that still works; temporary failures are retried and never drop the grant; a dead
//! grant names the broker's likely causes.

mod common;

use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::{BrokerKind, Environment};
use keygrant_core::error::ErrorKind;
use keygrant_core::secret::Expose;
use keygrant_core::views::{GrantRequest, ProfileView};
use keygrant_demo::{DemoBroker, TokenFault, TokenShape, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use serde_json::json;

async fn connected(demo: &DemoBroker, dir: &std::path::Path, broker: BrokerKind) -> Core {
    let (vault, _) = memory();
    let core = Core::new(
        dir,
        vault,
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    );
    core.connect(demo_connect(broker), scripted_browser("approve"))
        .await
        .unwrap();
    core
}

fn token_hits(demo: &DemoBroker) -> u64 {
    demo.hits("/oauth/token") + demo.hits("/ts/oauth/token")
}

fn lifetime(view: &ProfileView) -> u64 {
    view.access_token_expires_at.unwrap() - view.access_token_obtained_at.unwrap()
}

fn field<'a>(view: &'a ProfileView, name: &str) -> Option<&'a keygrant_core::oauth::TokenField> {
    view.token_fields.iter().find(|f| f.name == name)
}

#[tokio::test(flavor = "multi_thread")]
async fn odd_token_responses_are_read_and_lifetimes_clamped() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::Tastytrade).await;
    let set = |name: &str, v: Option<serde_json::Value>| TokenShape {
        fields: vec![(name.to_string(), v)],
        ..Default::default()
    };
    // (the shape, the lifetime the session uses in seconds)
    let cases: Vec<(TokenShape, u64)> = vec![
        (set("expires_in", Some(json!("3600"))), 3600),
        (set("expires_in", Some(json!(0))), 60),
        (set("expires_in", Some(json!(30))), 60),
        (set("expires_in", Some(json!(-5))), 60),
        (set("expires_in", Some(json!(u64::MAX))), 86_400),
        (set("expires_in", Some(json!(1e30))), 86_400),
        (set("expires_in", None), 900),
        (set("token_type", None), 900),
        (set("token_type", Some(json!("bearer"))), 900),
        (
            TokenShape {
                content_type: Some("text/plain".into()),
                ..Default::default()
            },
            900,
        ),
        (
            TokenShape {
                status: Some(201),
                ..Default::default()
            },
            900,
        ),
        (
            TokenShape {
                fields: vec![
                    (
                        "x_session_key".into(),
                        Some(json!("unknown-secret-value-7777")),
                    ),
                    ("x_tier".into(), Some(json!(3))),
                ],
                ..Default::default()
            },
            900,
        ),
    ];
    for (shape, expected) in cases {
        demo.set_token_shape(Some(shape.clone()));
        let before = token_hits(&demo);
        let view = core
            .refresh_now()
            .await
            .unwrap_or_else(|e| panic!("{shape:?}: {e:?}"));
        assert_eq!(token_hits(&demo) - before, 1, "{shape:?}");
        assert!(
            lifetime(&view).abs_diff(expected) <= 1,
            "{shape:?}: used for {} s, expected {expected}",
            lifetime(&view)
        );
        // The token is used, not refreshed again, over several API calls.
        for _ in 0..4 {
            assert_eq!(core.accounts().await.unwrap().len(), 3, "{shape:?}");
        }
        assert_eq!(
            token_hits(&demo) - before,
            1,
            "no refresh per call: {shape:?}"
        );
        if shape.fields.iter().any(|(n, _)| n == "x_session_key") {
            let key = field(&view, "x_session_key").expect("unknown fields are kept");
            assert!(key.masked && !key.value.contains("unknown-secret-value"));
            let tier = field(&view, "x_tier").unwrap();
            assert!(!tier.masked && tier.value == "3");
        }
        if let Some((n, Some(v))) = shape.fields.first() {
            if n == "expires_in" {
                let shown = field(&view, "expires_in").unwrap();
                let sent = v.as_str().map(str::to_owned).unwrap_or(v.to_string());
                assert!(!shown.masked && shown.value == sent, "{shown:?}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_lived_token_is_reused_until_due() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::TradeStation).await;
    demo.set_token_shape(Some(TokenShape {
        fields: vec![("expires_in".into(), Some(json!(30)))],
        ..Default::default()
    }));
    demo.expire_access_tokens();
    let before = token_hits(&demo);
    for _ in 0..6 {
        assert_eq!(core.accounts().await.unwrap().len(), 3);
        let number = core.accounts().await.unwrap()[0].number.clone();
        assert!(core.account_detail(&number).await.unwrap().error.is_none());
    }
    assert_eq!(
        token_hits(&demo) - before,
        1,
        "one refresh for 18 API calls with a 30 s (clamped to 60 s) token"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_refresh_keeps_the_access_token_that_still_works() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::Tastytrade).await;
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    demo.push_token_fault(TokenFault::Status(503), 3);
    let before = token_hits(&demo);
    let e = core.refresh_now().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Temporary, "{}", e.message);
    assert!(e.message.contains("503"), "{}", e.message);
    assert_eq!(token_hits(&demo) - before, 3, "retried, 3 tries in all");
    // The cached token has not expired: the next calls use it, no new token request.
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    assert_eq!(token_hits(&demo) - before, 3);
    assert!(core.state().await.unwrap().profile.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn temporary_token_failures_are_retried_and_never_drop_the_grant() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::Tastytrade).await;
    let rt = core.reveal_refresh_token().await.unwrap();
    for fault in [
        TokenFault::Status(503),
        TokenFault::Status(429),
        TokenFault::NotACustomer,
    ] {
        // Two failures: the third try succeeds, the user sees nothing.
        demo.push_token_fault(fault, 2);
        demo.expire_access_tokens();
        let before = token_hits(&demo);
        assert_eq!(core.accounts().await.unwrap().len(), 3, "{fault:?}");
        assert_eq!(token_hits(&demo) - before, 3, "{fault:?}");

        // Three: reported as temporary; the profile and its refresh token stay.
        demo.push_token_fault(fault, 3);
        demo.expire_access_tokens();
        let e = core.accounts().await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::Temporary, "{fault:?}: {}", e.message);
        assert!(e.message.contains("kept"), "{}", e.message);
        assert!(core.state().await.unwrap().profile.is_some());
        assert_eq!(core.reveal_refresh_token().await.unwrap(), rt);
        // And once the broker is back, the next call works.
        assert_eq!(core.accounts().await.unwrap().len(), 3, "{fault:?}");
    }

    // A pasted grant checked through a temporary failure is saved all the same.
    let (vault, _) = memory();
    let dir2 = tempfile::tempdir().unwrap();
    let core2 = Core::new(
        dir2.path(),
        vault,
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    );
    demo.push_token_fault(TokenFault::NotACustomer, 2);
    let view = core2
        .connect_with_grant(GrantRequest {
            broker: BrokerKind::Tastytrade,
            environment: Environment::Demo,
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: DEMO_CLIENT_SECRET.into(),
            refresh_token: rt.expose().into(),
            custom: None,
        })
        .await
        .unwrap();
    assert_eq!(view.broker, BrokerKind::Tastytrade);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_grant_names_the_brokers_likely_causes() {
    for (broker, cause) in [
        (BrokerKind::Tastytrade, "client secret was regenerated"),
        (BrokerKind::TradeStation, "24-hour absolute lifetime"),
    ] {
        let demo = DemoBroker::start(0).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let core = connected(&demo, dir.path(), broker).await;
        demo.revoke_grants();
        demo.expire_access_tokens();
        let before = token_hits(&demo);
        let e = core.accounts().await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidGrant, "{broker:?}");
        assert!(
            e.message.contains(cause) && e.message.contains("Sign in again"),
            "{broker:?}: {}",
            e.message
        );
        assert_eq!(token_hits(&demo) - before, 1, "a dead grant is not retried");
        assert!(core.state().await.unwrap().profile.is_some());
    }
}
