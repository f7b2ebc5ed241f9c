//! `Core::diagnose` against the Demo broker over real HTTP: a healthy connection passes every
//! check, and each planted fault is found by the check meant for it (wrong environment, wrong
//! client, refused client secret, locked keyring, `keygrant://` handler pointing elsewhere),
//! with a report that never holds the client secret, a token or the full client ID.
//! Linux only: the handler check reads `xdg-mime` (a fake one here) and is skipped elsewhere.

#![cfg(target_os = "linux")]

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::{BrokerKind, Environment};
use keygrant_core::doctor::{Diagnosis, HandlerLookup, Verdict};
use keygrant_core::error::{AppError, ErrorKind, Result};
use keygrant_core::secret::{ClientSecret, Expose, RefreshToken};
use keygrant_core::vault::{MemoryStore, SecretStore, Vault};
use keygrant_core::views::{ConnectRequest, GrantRequest};
use keygrant_demo::{DemoBroker, DemoConfig, TokenShape, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

/// A fake `xdg-mime` printing `answer`, and an XDG data folder holding
/// `applications/keygrant.desktop` with `exec` on its `Exec=` line.
struct FakeXdg {
    _dir: tempfile::TempDir,
    lookup: HandlerLookup,
}

fn fake_xdg(answer: &str, exec: &Path) -> FakeXdg {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("xdg-mime");
    std::fs::write(
        &script,
        format!("#!/bin/sh\n[ \"$1 $2 $3\" = \"query default x-scheme-handler/keygrant\" ] || exit 2\necho '{answer}'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A script just written may be "busy" while another test thread forks: wait until it runs.
    for _ in 0..50 {
        match std::process::Command::new(&script).output() {
            Err(e) if e.raw_os_error() == Some(26) => std::thread::sleep(Duration::from_millis(20)),
            _ => break,
        }
    }
    let apps = dir.path().join("data/applications");
    std::fs::create_dir_all(&apps).unwrap();
    std::fs::write(
        apps.join("keygrant.desktop"),
        format!(
            "[Desktop Entry]\nType=Application\nName=Keygrant\nExec={} %u\nMimeType=x-scheme-handler/keygrant;\n",
            exec.display()
        ),
    )
    .unwrap();
    FakeXdg {
        lookup: HandlerLookup {
            xdg_mime: script,
            data_dirs: vec![dir.path().join("data")],
            exe: None,
        },
        _dir: dir,
    }
}

/// Registered to this very program (the test binary): the handler check passes.
fn our_xdg() -> FakeXdg {
    fake_xdg("keygrant.desktop", &std::env::current_exe().unwrap())
}

fn core_at(demo: &DemoBroker, dir: &Path, vault: &Vault, xdg: &FakeXdg) -> Core {
    Core::new(
        dir,
        vault.clone(),
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    )
    .with_handler_lookup(xdg.lookup.clone())
}

/// A Demo broker and a fresh settings folder holding one connection in `broker`'s dialect,
/// made through the scripted browser, with the secrets in memory; the doctor looks up the
/// keygrant:// handler through `xdg`.
struct Connected {
    demo: DemoBroker,
    dir: tempfile::TempDir,
    vault: Vault,
    store: std::sync::Arc<RecordingStore>,
    core: Core,
    view: keygrant_core::views::ProfileView,
}

async fn connected(broker: BrokerKind, xdg: &FakeXdg) -> Connected {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (vault, store) = memory();
    let core = core_at(&demo, dir.path(), &vault, xdg);
    let view = core
        .connect(demo_connect(broker), scripted_browser("approve"))
        .await
        .unwrap();
    Connected {
        demo,
        dir,
        vault,
        store,
        core,
        view,
    }
}

fn verdict(d: &Diagnosis, id: &str) -> Verdict {
    check(d, id).verdict
}

fn check<'a>(d: &'a Diagnosis, id: &str) -> &'a keygrant_core::doctor::Check {
    d.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}"))
}

/// Neither the report nor the JSON the window gets holds any of `secrets` or the full
/// client ID.
fn assert_no_secret(d: &Diagnosis, secrets: &[&str]) {
    let report = d.report();
    let json = serde_json::to_string(d).unwrap();
    for s in secrets.iter().chain([&DEMO_CLIENT_ID]) {
        assert!(!report.contains(s), "report holds a secret:\n{report}");
        assert!(!json.contains(s), "JSON holds a secret: {json}");
    }
    assert!(report.contains("••••0001"), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_healthy_connection_passes_every_check_with_one_refresh_and_a_clean_report() {
    for broker in [BrokerKind::Tastytrade, BrokerKind::TradeStation] {
        let demo = DemoBroker::start(0).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (vault, _) = memory();
        let xdg = our_xdg();
        let core = core_at(&demo, dir.path(), &vault, &xdg);
        core.connect(demo_connect(broker), scripted_browser("approve"))
            .await
            .unwrap();
        // A known access token, to prove it stays out of the report.
        let planted_access = "planted-access-token-0123456789abcdef";
        demo.set_token_shape(Some(TokenShape {
            fields: vec![(
                "access_token".into(),
                Some(serde_json::json!(planted_access)),
            )],
            ..Default::default()
        }));
        let before = demo.token_requests().len();
        let d = core.diagnose(None).await.unwrap();
        assert_eq!(
            demo.token_requests().len(),
            before + 1,
            "exactly one refresh"
        );
        for c in &d.checks {
            assert_eq!(c.verdict, Verdict::Pass, "{broker:?} {c:?}");
            assert!(c.fix.is_empty(), "{c:?}");
        }
        let ids: Vec<&str> = d.checks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "endpoint",
                "client_secret",
                "refresh_token",
                "ownership",
                "scopes",
                "keyring",
                "handler"
            ]
        );
        assert!(!d.failed());
        let rt = core.reveal_refresh_token().await.unwrap();
        assert_no_secret(&d, &[DEMO_CLIENT_SECRET, rt.expose(), planted_access]);
        assert!(d
            .report()
            .contains("7 passed, 0 warnings, 0 failed, 0 skipped"));
        // By id too, and the connection's own checks are the same.
        let id = core.state().await.unwrap().profile.unwrap().id;
        let again = core.diagnose(Some(&id)).await.unwrap();
        assert!(!again.failed(), "{}", again.report());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_refresh_token_from_the_doctors_refresh_is_saved_never_lost() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (vault, store) = memory();
    let xdg = our_xdg();
    let core = core_at(&demo, dir.path(), &vault, &xdg);
    let view = core
        .connect(
            demo_connect(BrokerKind::TradeStation),
            scripted_browser("approve"),
        )
        .await
        .unwrap();
    let key = Vault::refresh_token_key(&view.id);
    let first = store.read(&key).unwrap();
    demo.rotate_refresh_tokens();
    let d = core.diagnose(None).await.unwrap();
    assert_eq!(
        verdict(&d, "refresh_token"),
        Verdict::Pass,
        "{}",
        d.report()
    );
    let second = store.read(&key).unwrap();
    assert_ne!(first, second, "the rotated token is in the keyring");
    // The old one is retired once the new one is used; the saved one keeps working.
    let d = core.diagnose(None).await.unwrap();
    assert!(!d.failed(), "{}", d.report());
    assert_no_secret(&d, &[&first, &second, DEMO_CLIENT_SECRET]);
}

const PROD_SECRET: &str = "prod-demo-secret-0123456789abcdef";
const SANDBOX_SECRET: &str = "sandbox-demo-secret-0123456789abcdef";

#[tokio::test(flavor = "multi_thread")]
async fn a_sandbox_grant_checked_as_production_is_named_by_its_issuer() {
    // Two Demo brokers stand in for Tastytrade production and sandbox: different secrets,
    // and each names its environment's issuer (docs/brokers.md#tastytrade-environments).
    let issuer = |env: Environment| {
        keygrant_core::brokers::tastytrade::SPEC
            .claims
            .issuers
            .iter()
            .find(|(e, _)| *e == env)
            .unwrap()
            .1
            .to_string()
    };
    let instance = |secret: &str, env| DemoConfig {
        client_secret: secret.into(),
        issuer: Some(issuer(env)),
        ..Default::default()
    };
    let demo = DemoBroker::start(0).await.unwrap();
    let prod = DemoBroker::start_with(0, instance(PROD_SECRET, Environment::Production))
        .await
        .unwrap();
    let sandbox = DemoBroker::start_with(0, instance(SANDBOX_SECRET, Environment::Sandbox))
        .await
        .unwrap();
    let xdg = our_xdg();
    let make = |dir: &Path, vault: &Vault| {
        core_at(&demo, dir, vault, &xdg)
            .with_override(
                BrokerKind::Tastytrade,
                Environment::Production,
                prod.base_url(),
            )
            .with_override(
                BrokerKind::Tastytrade,
                Environment::Sandbox,
                sandbox.base_url(),
            )
    };
    let connect = |env, secret: &str| ConnectRequest {
        broker: BrokerKind::Tastytrade,
        environment: env,
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: secret.into(),
        redirect_uri: Some(format!("http://127.0.0.1:{}", free_port())),
        scopes: None,
        custom: None,
    };
    // A sandbox grant, from a sign-in elsewhere.
    let other_dir = tempfile::tempdir().unwrap();
    let other = make(other_dir.path(), &memory().0);
    other
        .connect(
            connect(Environment::Sandbox, SANDBOX_SECRET),
            scripted_browser("approve"),
        )
        .await
        .unwrap();
    let sandbox_rt = other.reveal_refresh_token().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let (vault, _) = memory();
    let core = make(dir.path(), &vault);
    let view = core
        .connect(
            connect(Environment::Production, PROD_SECRET),
            scripted_browser("approve"),
        )
        .await
        .unwrap();
    let healthy = core.diagnose(None).await.unwrap();
    assert!(!healthy.failed(), "{}", healthy.report());
    assert!(
        check(&healthy, "ownership").detail.contains("Production"),
        "{:?}",
        check(&healthy, "ownership")
    );

    // The production connection now holds the sandbox grant.
    vault.set_refresh_token(&view.id, &sandbox_rt).unwrap();
    let d = core.diagnose(None).await.unwrap();
    assert!(d.failed());
    assert_eq!(
        verdict(&d, "refresh_token"),
        Verdict::Fail,
        "{}",
        d.report()
    );
    let own = check(&d, "ownership");
    assert_eq!(own.verdict, Verdict::Fail, "{own:?}");
    assert!(
        own.detail.contains("Sandbox (cert)") && own.detail.contains("Production"),
        "{own:?}"
    );
    assert!(own.fix.contains("Sandbox (cert)"), "{own:?}");
    assert_eq!(verdict(&d, "endpoint"), Verdict::Pass);
    assert_eq!(verdict(&d, "keyring"), Verdict::Pass);
    assert_no_secret(&d, &[sandbox_rt.expose(), PROD_SECRET, SANDBOX_SECRET]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_grant_of_another_client_is_found_by_its_audience() {
    let demo = DemoBroker::start(0).await.unwrap();
    let xdg = our_xdg();
    // A grant of the Demo client, from a sign-in elsewhere.
    let other_dir = tempfile::tempdir().unwrap();
    let other = core_at(&demo, other_dir.path(), &memory().0, &xdg);
    other
        .connect(
            demo_connect(BrokerKind::Tastytrade),
            scripted_browser("approve"),
        )
        .await
        .unwrap();
    let rt = other.reveal_refresh_token().await.unwrap();

    // Pasted with another application's client ID: Tastytrade's refresh does not send the
    // client ID (docs/brokers.md#tastytrade-refresh-request), so the refresh succeeds.
    let wrong_id = "another-application-id-4321";
    let dir = tempfile::tempdir().unwrap();
    let core = core_at(&demo, dir.path(), &memory().0, &xdg);
    core.connect_with_grant(GrantRequest {
        broker: BrokerKind::Tastytrade,
        environment: Environment::Demo,
        client_id: wrong_id.into(),
        client_secret: ClientSecret::new(DEMO_CLIENT_SECRET),
        refresh_token: RefreshToken::new(rt.expose()),
        custom: None,
    })
    .await
    .unwrap();
    let d = core.diagnose(None).await.unwrap();
    assert_eq!(verdict(&d, "client_secret"), Verdict::Pass);
    assert_eq!(verdict(&d, "refresh_token"), Verdict::Pass);
    let own = check(&d, "ownership");
    assert_eq!(own.verdict, Verdict::Fail, "{own:?}");
    assert!(
        own.detail.contains("••••0001") && own.detail.contains("••••4321"),
        "{own:?}"
    );
    assert!(own.fix.contains("client ID"), "{own:?}");
    let report = d.report();
    assert!(
        !report.contains(wrong_id) && report.contains("••••4321"),
        "{report}"
    );
    assert_no_secret(&d, &[rt.expose(), DEMO_CLIENT_SECRET]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_regenerated_client_secret_is_invalid_client_and_the_token_is_not_blamed() {
    for broker in [BrokerKind::Tastytrade, BrokerKind::TradeStation] {
        let demo = DemoBroker::start(0).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (vault, _) = memory();
        let xdg = our_xdg();
        let core = core_at(&demo, dir.path(), &vault, &xdg);
        let view = core
            .connect(demo_connect(broker), scripted_browser("approve"))
            .await
            .unwrap();
        let stale = "stale-secret-from-before-regeneration-42";
        vault
            .set_client_secret(&view.id, &ClientSecret::new(stale))
            .unwrap();
        let d = core.diagnose(None).await.unwrap();
        let secret = check(&d, "client_secret");
        assert_eq!(secret.verdict, Verdict::Fail, "{broker:?} {}", d.report());
        assert!(secret.detail.contains("invalid_client"), "{secret:?}");
        assert!(secret.fix.contains("client secret"), "{secret:?}");
        assert_eq!(verdict(&d, "refresh_token"), Verdict::Skipped);
        assert_eq!(verdict(&d, "scopes"), Verdict::Skipped);
        assert_eq!(verdict(&d, "endpoint"), Verdict::Pass);
        let rt = core.reveal_refresh_token().await.unwrap();
        assert_no_secret(&d, &[stale, rt.expose(), DEMO_CLIENT_SECRET]);
    }
}

/// A store that refuses everything while `locked`, as a locked Secret Service does.
struct Lockable {
    inner: MemoryStore,
    locked: AtomicBool,
}

impl SecretStore for Lockable {
    fn set(&self, key: &str, value: &str) -> Result<()> {
        self.gate()?;
        self.inner.set(key, value)
    }
    fn get(&self, key: &str) -> Result<Option<String>> {
        self.gate()?;
        self.inner.get(key)
    }
    fn delete(&self, key: &str) -> Result<()> {
        self.gate()?;
        self.inner.delete(key)
    }
}

impl Lockable {
    fn gate(&self) -> Result<()> {
        if self.locked.load(Ordering::SeqCst) {
            return Err(AppError::new(
                ErrorKind::Keyring,
                "The system keyring is locked. Unlock it and try again.",
            ));
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_keyring_fails_the_keyring_check_and_nothing_is_lost() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Lockable {
        inner: MemoryStore::default(),
        locked: AtomicBool::new(false),
    });
    let vault = Vault::new(store.clone());
    let xdg = our_xdg();
    let core = core_at(&demo, dir.path(), &vault, &xdg);
    core.connect(
        demo_connect(BrokerKind::Tastytrade),
        scripted_browser("approve"),
    )
    .await
    .unwrap();
    store.locked.store(true, Ordering::SeqCst);
    let d = core.diagnose(None).await.unwrap();
    let keyring = check(&d, "keyring");
    assert_eq!(keyring.verdict, Verdict::Fail, "{}", d.report());
    assert!(keyring.detail.contains("locked"), "{keyring:?}");
    assert!(keyring.fix.contains("Unlock"), "{keyring:?}");
    assert_eq!(verdict(&d, "client_secret"), Verdict::Skipped);
    assert_eq!(verdict(&d, "refresh_token"), Verdict::Skipped);
    assert_eq!(verdict(&d, "endpoint"), Verdict::Pass);
    // Unlocked, the same connection is healthy again: the grant was kept.
    store.locked.store(false, Ordering::SeqCst);
    let d = core.diagnose(None).await.unwrap();
    assert!(!d.failed(), "{}", d.report());
    let rt = core.reveal_refresh_token().await.unwrap();
    assert_no_secret(&d, &[rt.expose(), DEMO_CLIENT_SECRET]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handler_registered_to_another_program_or_to_none_fails_and_no_xdg_mime_skips() {
    let elsewhere = PathBuf::from("/opt/elsewhere/keygrant");
    let xdg = fake_xdg("keygrant.desktop", &elsewhere);
    let Connected {
        demo,
        dir,
        vault,
        core,
        ..
    } = connected(BrokerKind::Tastytrade, &xdg).await;
    // This connection signed in through a loopback address: the wrong handler is worth a
    // warning, not a failed check.
    let d = core.diagnose(None).await.unwrap();
    let h = check(&d, "handler");
    assert_eq!(h.verdict, Verdict::Warn, "{h:?}");
    assert!(h.detail.contains("/opt/elsewhere/keygrant"), "{h:?}");
    assert!(h.detail.contains("not affected"), "{h:?}");
    assert!(h.fix.contains("xdg-mime default"), "{h:?}");
    assert!(!d.failed(), "{}", d.report());

    // A connection whose redirect URI is keygrant://callback depends on the handler.
    let path = dir.path().join("profiles.json");
    let mut file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    file["profiles"][0]["redirect_uri"] = serde_json::json!("keygrant://callback");
    std::fs::write(&path, serde_json::to_vec(&file).unwrap()).unwrap();
    let core = core_at(&demo, dir.path(), &vault, &xdg);
    let d = core.diagnose(None).await.unwrap();
    let h = check(&d, "handler");
    assert_eq!(h.verdict, Verdict::Fail, "{h:?}");
    assert!(h.detail.contains("/opt/elsewhere/keygrant"), "{h:?}");
    assert!(h.fix.contains("xdg-mime default"), "{h:?}");
    assert!(d.failed());

    // Nothing registered.
    let none = fake_xdg("", &elsewhere);
    let core = core_at(&demo, dir.path(), &vault, &none);
    let d = core.diagnose(None).await.unwrap();
    assert_eq!(verdict(&d, "handler"), Verdict::Fail);

    // Registered to a file no applications folder has.
    let missing = fake_xdg("keygrant-old.desktop", &elsewhere);
    let core = core_at(&demo, dir.path(), &vault, &missing);
    let d = core.diagnose(None).await.unwrap();
    let h = check(&d, "handler");
    assert_eq!(h.verdict, Verdict::Fail);
    assert!(h.detail.contains("keygrant-old.desktop"), "{h:?}");

    // No xdg-mime at all: skipped with the reason.
    let mut absent = xdg.lookup.clone();
    absent.xdg_mime = dir.path().join("no-such-xdg-mime");
    let core = core_at(&demo, dir.path(), &vault, &xdg).with_handler_lookup(absent);
    let d = core.diagnose(None).await.unwrap();
    let h = check(&d, "handler");
    assert_eq!(h.verdict, Verdict::Skipped, "{h:?}");
    assert!(h.detail.contains("xdg-mime"), "{h:?}");
    assert!(!d.failed(), "{}", d.report());
}

/// A keyring without this connection's secrets (another keyring, or deleted there): nothing is
/// sent, so the client secret is not said to be accepted; the refresh token check says what
/// is missing and how to get it back.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_missing_from_the_keyring_pass_nothing_the_broker_never_saw() {
    let Connected {
        demo,
        dir,
        vault,
        store,
        view,
        ..
    } = connected(BrokerKind::Tastytrade, &our_xdg()).await;
    for key in [
        Vault::refresh_token_key(&view.id),
        Vault::client_secret_key(&view.id),
        Vault::access_token_key(&view.id),
    ] {
        store.delete(&key).unwrap();
    }
    let tokens_before = demo.token_requests().len();
    let core = core_at(&demo, dir.path(), &vault, &our_xdg());
    let d = core.diagnose(None).await.unwrap();
    assert_eq!(demo.token_requests().len(), tokens_before, "nothing sent");
    let secret = check(&d, "client_secret");
    assert_eq!(secret.verdict, Verdict::Skipped, "{}", d.report());
    assert!(secret.detail.contains("nothing was sent"), "{secret:?}");
    let token = check(&d, "refresh_token");
    assert_eq!(token.verdict, Verdict::Fail, "{}", d.report());
    assert!(
        token.detail.contains("missing from the system keyring"),
        "{token:?}"
    );
    assert!(token.fix.contains("Sign in again"), "{token:?}");
    assert!(d.failed());
}

/// Schwab's sign-ins come back to https://127.0.0.1 only: a keygrant:// handler that points
/// elsewhere is not this connection's problem, and the doctor says so instead of failing.
#[tokio::test(flavor = "multi_thread")]
async fn a_schwab_connection_skips_the_link_handler_check() {
    let xdg = fake_xdg("", &PathBuf::from("/opt/elsewhere/keygrant"));
    // Kept whole: its Demo broker and settings folder must outlive the check.
    let schwab = connected(BrokerKind::Schwab, &xdg).await;
    let d = schwab.core.diagnose(None).await.unwrap();
    let h = check(&d, "handler");
    assert_eq!(h.verdict, Verdict::Skipped, "{h:?}");
    assert_eq!(
        h.detail,
        "Not used: Charles Schwab takes no keygrant:// Callback URL, so its sign-ins never come back through one."
    );
    assert!(!d.failed(), "{}", d.report());
    assert!(d.connection.contains(", App Key ••••"), "{}", d.connection);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_connection_is_an_error_that_says_what_to_do() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = core_at(&demo, dir.path(), &memory().0, &our_xdg());
    let e = core.diagnose(None).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotConnected);
    let e = core.diagnose(Some("no-such-id")).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::NotConnected);
    assert!(e.message.contains("no saved connection"), "{}", e.message);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_endpoint_is_told_apart_dns_from_tls_and_the_grant_is_kept() {
    let prod = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (vault, store) = memory();
    let xdg = our_xdg();
    let connect = ConnectRequest {
        broker: BrokerKind::Tastytrade,
        environment: Environment::Production,
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: DEMO_CLIENT_SECRET.into(),
        redirect_uri: Some(format!("http://127.0.0.1:{}", free_port())),
        scopes: None,
        custom: None,
    };
    let view = core_at(&prod, dir.path(), &vault, &xdg)
        .with_override(
            BrokerKind::Tastytrade,
            Environment::Production,
            prod.base_url(),
        )
        .connect(connect, scripted_browser("approve"))
        .await
        .unwrap();
    let saved = store.read(&Vault::refresh_token_key(&view.id)).unwrap();
    let at = |base: &str| {
        core_at(&prod, dir.path(), &vault, &xdg).with_override(
            BrokerKind::Tastytrade,
            Environment::Production,
            url::Url::parse(base).unwrap(),
        )
    };
    // A name that never resolves (RFC 6761 reserves .invalid).
    let d = at("https://keygrant-doctor-test.invalid/")
        .diagnose(None)
        .await
        .unwrap();
    let e = check(&d, "endpoint");
    assert_eq!(e.verdict, Verdict::Fail, "{e:?}");
    assert!(e.detail.contains("DNS"), "{e:?}");
    assert_eq!(
        verdict(&d, "refresh_token"),
        Verdict::Warn,
        "{}",
        d.report()
    );
    // TLS spoken to a plain-HTTP server.
    let d = at(&format!("https://127.0.0.1:{}/", prod.addr().port()))
        .diagnose(None)
        .await
        .unwrap();
    let e = check(&d, "endpoint");
    assert_eq!(e.verdict, Verdict::Fail, "{e:?}");
    assert!(e.detail.contains("TLS"), "{e:?}");
    // Plain http off this computer is refused before anything is sent.
    let d = at("http://broker.example/").diagnose(None).await.unwrap();
    let e = check(&d, "endpoint");
    assert_eq!(e.verdict, Verdict::Fail, "{e:?}");
    assert!(e.detail.contains("not HTTPS"), "{e:?}");
    // Nothing was lost on the way.
    assert_eq!(
        store.read(&Vault::refresh_token_key(&view.id)).unwrap(),
        saved
    );
}
