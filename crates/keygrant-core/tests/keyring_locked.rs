//! A locked keyring (the real gnome-keyring, its "login" collection locked over D-Bus with
//! `org.freedesktop.Secret.Service.Lock`): Connect and a pasted grant prove the keyring can
//! write before anything is spent, so the browser never opens and the Demo broker sees no
//! token request, and the message names the cause. Its own test binary, because it locks the
//! keyring every other keyring test uses (it unlocks it again at the end).

mod common;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::{BrokerKind, Environment};
use keygrant_core::error::ErrorKind;
use keygrant_core::views::GrantRequest;
use keygrant_demo::{DemoBroker, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

fn secret_service(method: &str) {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            &format!("org.freedesktop.Secret.Service.{method}"),
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .output()
        .expect("dbus-send runs (run under scripts/with-keyring.sh)");
    assert!(out.status.success(), "{method}: {out:?}");
}

/// Unlocks the login collection with the password scripts/with-keyring.sh gave it, through
/// gnome-keyring's own D-Bus interface (an unlock prompt cannot be answered headless).
fn unlock() {
    const SCRIPT: &str = r#"
import dbus
bus = dbus.SessionBus()
svc = bus.get_object("org.freedesktop.secrets", "/org/freedesktop/secrets")
_, session = dbus.Interface(svc, "org.freedesktop.Secret.Service").OpenSession("plain", dbus.String("", variant_level=1))
dbus.Interface(svc, "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface").UnlockWithMasterPassword(
    dbus.ObjectPath("/org/freedesktop/secrets/collection/login"),
    dbus.Struct((session, dbus.ByteArray(b""), dbus.ByteArray(b"keygrant-test"), "text/plain"), signature="oayays"))
"#;
    let out = Command::new("/usr/bin/python3")
        .args(["-c", SCRIPT])
        .output()
        .expect("the system python3 with python3-dbus");
    assert!(out.status.success(), "unlock: {out:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_locked_keyring_is_found_before_the_browser_opens_or_a_grant_is_sent() {
    let (vault, store) = common::keyring();
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = Core::new(
        dir.path(),
        vault,
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    );
    secret_service("Lock");
    let opened = Arc::new(AtomicBool::new(false));
    let flag = opened.clone();
    let connect = core
        .connect(common::demo_connect(BrokerKind::Tastytrade), move |_| {
            flag.store(true, Ordering::SeqCst);
            Ok(())
        })
        .await;
    let grant = core
        .connect_with_grant(GrantRequest {
            broker: BrokerKind::Tastytrade,
            environment: Environment::Demo,
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: DEMO_CLIENT_SECRET.into(),
            refresh_token: "demo-rt-0123456789abcdef.tag".into(),
            custom: None,
        })
        .await;
    unlock();
    for e in [connect.unwrap_err(), grant.unwrap_err()] {
        assert_eq!(e.kind, ErrorKind::Keyring, "{}", e.message);
        assert!(
            (e.message.contains("locked") || e.message.contains("prompt was dismissed"))
                && e.message.contains("Nothing was saved"),
            "{}",
            e.message
        );
    }
    assert!(!opened.load(Ordering::SeqCst), "the browser never opened");
    assert_eq!(demo.token_requests().len(), 0, "no token request");
    assert_eq!(demo.hits("/oauth/token"), 0);
    assert!(core.state().await.unwrap().profile.is_none());
    assert!(
        store.written.lock().unwrap().is_empty(),
        "no secret was written, only the probe tried"
    );
    assert_eq!(store.read(keygrant_core::vault::Vault::PROBE_KEY), None);
    // Unlocked again, the same Connect works.
    core.connect(
        common::demo_connect(BrokerKind::Tastytrade),
        common::scripted_browser("approve"),
    )
    .await
    .unwrap();
    core.disconnect().await.unwrap();
}
