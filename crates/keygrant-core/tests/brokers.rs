//! Each broker x environment over the loopback redirect, the personal-grant path and the
//! wrong-environment diagnosis, all against the Demo broker over real HTTP with secrets in
//! memory; and the wire format of the token requests the app sends.
//! Production and sandbox are Demo broker instances with different client secrets put in
//! place of the real hosts (`Core::with_override`), so the real broker settings are used.

mod common;

use keygrant_core::secret::Expose;
use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::{BrokerKind, Environment};
use keygrant_core::error::ErrorKind;
use keygrant_core::vault::{SecretStore, Vault};
use keygrant_core::views::{ConnectRequest, GrantRequest};
use keygrant_demo::{DemoBroker, DemoConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use url::Url;

const PROD_SECRET: &str = "prod-demo-secret-0123456789abcdef";
const SANDBOX_SECRET: &str = "sandbox-demo-secret-0123456789abcdef";

struct World {
    demo: DemoBroker,
    prod: DemoBroker,
    sandbox: DemoBroker,
    dir: tempfile::TempDir,
    vault: Vault,
    store: std::sync::Arc<RecordingStore>,
}

impl World {
    async fn new() -> World {
        let (vault, store) = memory();
        let cfg = |secret: &str| DemoConfig {
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: secret.into(),
            ..Default::default()
        };
        World {
            demo: DemoBroker::start(0).await.unwrap(),
            prod: DemoBroker::start_with(0, cfg(PROD_SECRET)).await.unwrap(),
            sandbox: DemoBroker::start_with(0, cfg(SANDBOX_SECRET))
                .await
                .unwrap(),
            dir: tempfile::tempdir().unwrap(),
            vault,
            store,
        }
    }

    fn core(&self) -> Core {
        let mut core = Core::new(
            self.dir.path(),
            self.vault.clone(),
            DemoSource::At(self.demo.base_url()),
            Duration::from_secs(30),
        );
        for b in [BrokerKind::Tastytrade, BrokerKind::TradeStation] {
            core = core
                .with_override(b, Environment::Production, self.prod.base_url())
                .with_override(b, Environment::Sandbox, self.sandbox.base_url());
        }
        core
    }

    fn broker(&self, env: Environment) -> &DemoBroker {
        match env {
            Environment::Production => &self.prod,
            Environment::Sandbox => &self.sandbox,
            Environment::Demo => &self.demo,
        }
    }
}

fn secret_for(env: Environment) -> &'static str {
    match env {
        Environment::Production => PROD_SECRET,
        Environment::Sandbox => SANDBOX_SECRET,
        Environment::Demo => DEMO_CLIENT_SECRET,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn expected_accounts(broker: BrokerKind) -> Vec<&'static str> {
    match broker {
        BrokerKind::Tastytrade => vec!["5WX01234", "5WX05678", "5WX09012"],
        BrokerKind::TradeStation => vec!["11827633", "11827634", "210FUT01"],
        BrokerKind::Schwab => vec!["28764512", "28767933", "28761170"],
        BrokerKind::Custom => vec![],
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_broker_and_environment_onboards_by_loopback_and_comes_back_after_a_restart() {
    let w = World::new().await;
    for broker in [BrokerKind::Tastytrade, BrokerKind::TradeStation] {
        for env in [
            Environment::Production,
            Environment::Sandbox,
            Environment::Demo,
        ] {
            let port = free_port();
            // A registered redirect as users write it: localhost, no trailing slash.
            let registered = format!("http://localhost:{port}");
            let seen = std::sync::Arc::new(std::sync::Mutex::new(None::<Url>));
            let seen2 = seen.clone();
            let core = w.core();
            let view = core
                .connect(
                    ConnectRequest {
                        broker,
                        environment: env,
                        client_id: DEMO_CLIENT_ID.into(),
                        client_secret: secret_for(env).into(),
                        redirect_uri: Some(registered.clone()),
                        scopes: None,
                        custom: None,
                    },
                    move |url: &Url| {
                        *seen2.lock().unwrap() = Some(url.clone());
                        scripted_browser("approve")(url)
                    },
                )
                .await
                .unwrap_or_else(|e| panic!("{broker:?} {env:?}: {e:?}"));
            let authorize = seen.lock().unwrap().clone().unwrap();
            let q: std::collections::HashMap<_, _> = authorize.query_pairs().into_owned().collect();
            match env {
                Environment::Demo => assert!(
                    q["redirect_uri"].starts_with("http://127.0.0.1:"),
                    "Demo takes any loopback port"
                ),
                _ => assert_eq!(
                    q["redirect_uri"], registered,
                    "the registered URI is sent exactly as entered"
                ),
            }
            assert_eq!(
                q.contains_key("code_challenge"),
                env == Environment::Demo,
                "PKCE only where the broker takes it"
            );
            assert!(q.contains_key("state"));
            if broker == BrokerKind::TradeStation {
                assert_eq!(q["audience"], "https://api.tradestation.com");
                assert!(q["scope"].split(' ').any(|s| s == "offline_access"));
            } else {
                assert_eq!(q["scope"], "read openid");
            }
            let numbers = |accts: Vec<keygrant_core::brokers::Account>| {
                accts.into_iter().map(|a| a.number).collect::<Vec<_>>()
            };
            assert_eq!(
                numbers(core.accounts().await.unwrap()),
                expected_accounts(broker),
                "{broker:?} {env:?}"
            );
            assert_eq!(view.environment, env);

            // The sign-in's access token was left for other processes.
            assert!(w.store.read(&Vault::access_token_key(&view.id)).is_some());

            // Reopen after the access token is over: the refresh token from the keyring gets
            // a new one.
            drop(core);
            w.store.delete(&Vault::access_token_key(&view.id)).unwrap();
            let core = w.core();
            assert_eq!(
                numbers(core.accounts().await.unwrap()),
                expected_accounts(broker),
                "{broker:?} {env:?} after restart"
            );
            core.disconnect().await.unwrap();
            assert_eq!(w.store.read(&Vault::refresh_token_key(&view.id)), None);
        }
    }
    // Each double saw exactly the token requests of its environment.
    for env in [
        Environment::Production,
        Environment::Sandbox,
        Environment::Demo,
    ] {
        let reqs = w.broker(env).token_requests();
        assert_eq!(
            reqs.len(),
            4,
            "{env:?}: code exchange and refresh for each broker"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_broker_and_environment_onboards_by_deep_link() {
    let w = World::new().await;
    for broker in [BrokerKind::Tastytrade, BrokerKind::TradeStation] {
        for env in [
            Environment::Production,
            Environment::Sandbox,
            Environment::Demo,
        ] {
            let core = std::sync::Arc::new(w.core());
            let view = core
                .connect(
                    ConnectRequest {
                        broker,
                        environment: env,
                        client_id: DEMO_CLIENT_ID.into(),
                        client_secret: secret_for(env).into(),
                        redirect_uri: Some("keygrant://callback".into()),
                        scopes: None,
                        custom: None,
                    },
                    deep_link_browser(core.clone(), env == Environment::Sandbox),
                )
                .await
                .unwrap_or_else(|e| panic!("{broker:?} {env:?}: {e:?}"));
            assert_eq!(view.broker, broker);
            let numbers: Vec<_> = core
                .accounts()
                .await
                .unwrap()
                .into_iter()
                .map(|a| a.number)
                .collect();
            assert_eq!(numbers, expected_accounts(broker), "{broker:?} {env:?}");
            core.disconnect().await.unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn token_requests_have_each_brokers_documented_wire_format() {
    let w = World::new().await;
    for broker in [BrokerKind::Tastytrade, BrokerKind::TradeStation] {
        let core = w.core();
        core.connect(
            ConnectRequest {
                broker,
                environment: Environment::Production,
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: PROD_SECRET.into(),
                redirect_uri: Some(format!("http://127.0.0.1:{}/cb", free_port())),
                scopes: None,
                custom: None,
            },
            scripted_browser("approve"),
        )
        .await
        .unwrap();
        w.prod.expire_access_tokens();
        core.accounts().await.unwrap();
        core.disconnect().await.unwrap();
    }
    let reqs = w.prod.token_requests();
    let by = |path: &str, grant: &str| {
        reqs.iter()
            .find(|r| r.path == path && r.grant_type == grant)
            .cloned()
            .unwrap()
    };
    for r in &reqs {
        assert!(
            r.user_agent.starts_with("keygrant/"),
            "a <product>/<version> User-Agent: {r:?}"
        );
        assert!(
            !r.has_authorization_header,
            "no Authorization header on token requests: {r:?}"
        );
    }
    // Tastytrade: code exchange form-encoded as SDK 11 sends it; refresh as JSON without client_id (SDK 13, docs).
    let code = by("/oauth/token", "authorization_code");
    assert_eq!(code.content_type, "application/x-www-form-urlencoded");
    assert_eq!(
        code.fields,
        [
            "client_id",
            "client_secret",
            "code",
            "grant_type",
            "redirect_uri"
        ]
    );
    let refresh = by("/oauth/token", "refresh_token");
    assert_eq!(refresh.content_type, "application/json");
    assert_eq!(
        refresh.fields,
        ["client_secret", "grant_type", "refresh_token"]
    );
    // TradeStation: form-encoded both times, client_id and client_secret in the body.
    let code = by("/ts/oauth/token", "authorization_code");
    assert_eq!(code.content_type, "application/x-www-form-urlencoded");
    assert_eq!(
        code.fields,
        [
            "client_id",
            "client_secret",
            "code",
            "grant_type",
            "redirect_uri"
        ]
    );
    let refresh = by("/ts/oauth/token", "refresh_token");
    assert_eq!(refresh.content_type, "application/x-www-form-urlencoded");
    assert_eq!(
        refresh.fields,
        ["client_id", "client_secret", "grant_type", "refresh_token"]
    );
}

/// Gets a refresh token from `env` the way a user would on the broker's site.
async fn grant_from(w: &World, broker: BrokerKind, env: Environment) -> String {
    let core = w.core();
    let view = core
        .connect(
            ConnectRequest {
                broker,
                environment: env,
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: secret_for(env).into(),
                redirect_uri: Some(format!("http://127.0.0.1:{}", free_port())),
                scopes: None,
                custom: None,
            },
            scripted_browser("approve"),
        )
        .await
        .unwrap();
    let rt = core
        .reveal_refresh_token()
        .await
        .unwrap()
        .expose()
        .to_string();
    // Forget the profile locally; the grant stays valid at the broker.
    w.vault.delete_profile(&view.id).unwrap();
    std::fs::remove_file(w.dir.path().join("profiles.json")).unwrap();
    rt
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pasted_personal_grant_is_verified_by_one_refresh_then_saved() {
    let w = World::new().await;
    for broker in [BrokerKind::Tastytrade, BrokerKind::TradeStation] {
        let rt = grant_from(&w, broker, Environment::Sandbox).await;
        let before = w.sandbox.token_requests().len();
        let core = w.core();
        let view = core
            .connect_with_grant(GrantRequest {
                broker,
                environment: Environment::Sandbox,
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: format!(" {SANDBOX_SECRET} ").into(),
                refresh_token: format!("\n{rt} ").into(),
                custom: None,
            })
            .await
            .unwrap();
        assert_eq!(
            w.sandbox.token_requests().len(),
            before + 1,
            "exactly one verifying refresh"
        );
        assert_eq!(
            w.store.read(&Vault::refresh_token_key(&view.id)).as_deref(),
            Some(rt.as_str())
        );
        assert_eq!(core.accounts().await.unwrap().len(), 3);
        assert_eq!(
            w.sandbox.token_requests().len(),
            before + 1,
            "the verifying refresh's access token is reused"
        );
        core.disconnect().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sandbox_grant_pasted_as_production_is_diagnosed_and_nothing_is_saved() {
    let w = World::new().await;
    let rt = grant_from(&w, BrokerKind::Tastytrade, Environment::Sandbox).await;
    let (vault, store) = memory();
    let core = Core::new(
        w.dir.path(),
        vault,
        DemoSource::At(w.demo.base_url()),
        Duration::from_secs(30),
    )
    .with_override(
        BrokerKind::Tastytrade,
        Environment::Production,
        w.prod.base_url(),
    )
    .with_override(
        BrokerKind::Tastytrade,
        Environment::Sandbox,
        w.sandbox.base_url(),
    );
    let err = core
        .connect_with_grant(GrantRequest {
            broker: BrokerKind::Tastytrade,
            environment: Environment::Production,
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: SANDBOX_SECRET.into(),
            refresh_token: rt.clone().into(),
            custom: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::WrongEnvironment, "{}", err.message);
    assert!(
        err.message.contains("Sandbox (cert)") && err.message.contains("Switch the environment"),
        "{}",
        err.message
    );
    assert_eq!(err.field.as_deref(), Some("environment"));
    assert!(store.written.lock().unwrap().is_empty(), "nothing stored");
    assert!(core.state().await.unwrap().profile.is_none());

    // A token neither environment knows is a plain invalid grant that says both were tried.
    let err = core
        .connect_with_grant(GrantRequest {
            broker: BrokerKind::Tastytrade,
            environment: Environment::Sandbox,
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: SANDBOX_SECRET.into(),
            refresh_token: "demo-rt-revoked-or-mistyped.0000".into(),
            custom: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidGrant);
    assert!(
        err.message.contains("not accepted there either"),
        "{}",
        err.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_port_already_in_use_is_explained_on_the_redirect_field() {
    let w = World::new().await;
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let err = w
        .core()
        .connect(
            ConnectRequest {
                broker: BrokerKind::Tastytrade,
                environment: Environment::Production,
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: PROD_SECRET.into(),
                redirect_uri: Some(format!("http://localhost:{port}")),
                scopes: None,
                custom: None,
            },
            |_: &Url| panic!("no browser when the port is taken"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::PortInUse);
    assert_eq!(err.field.as_deref(), Some("redirect_uri"));
    assert!(
        err.message.contains(&format!("Port {port}")),
        "{}",
        err.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_uri_that_is_not_on_this_computer_is_refused_before_anything_starts() {
    let w = World::new().await;
    let err = w
        .core()
        .connect(
            ConnectRequest {
                broker: BrokerKind::TradeStation,
                environment: Environment::Production,
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: PROD_SECRET.into(),
                redirect_uri: Some("https://example.com/callback".into()),
                scopes: None,
                custom: None,
            },
            |_: &Url| panic!("no browser for a bad redirect URI"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    assert_eq!(err.field.as_deref(), Some("redirect_uri"));
}
