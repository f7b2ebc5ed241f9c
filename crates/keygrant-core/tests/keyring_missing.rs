//! No Secret Service (no D-Bus session bus here): Connect says so before any browser opens,
//! names the way forward, and never falls back to a file. Its own test binary, because it
//! points this process's D-Bus address at nothing.

mod common;

use std::time::Duration;

use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::{BrokerKind, Environment};
use keygrant_core::error::ErrorKind;
use keygrant_core::vault::{KeyringStore, Vault};
use keygrant_core::views::GrantRequest;
use keygrant_demo::{DemoBroker, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

#[tokio::test(flavor = "multi_thread")]
async fn without_a_keyring_nothing_starts_and_nothing_is_written_to_disk() {
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/keygrant-test-bus",
    );
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::new(std::sync::Arc::new(KeyringStore::new(common::TEST_SERVICE)));
    let core = Core::new(
        dir.path(),
        vault,
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    );
    let opened = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let opened2 = opened.clone();
    let request = common::demo_connect(BrokerKind::Tastytrade);
    let e = core
        .connect(request, move |_| {
            opened2.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Keyring, "{}", e.message);
    assert!(
        e.message.contains("Secret Service") && e.message.contains("Nothing was saved"),
        "{}",
        e.message
    );
    assert!(
        !opened.load(std::sync::atomic::Ordering::SeqCst),
        "no browser for a sign-in that could not be kept"
    );
    let e = core
        .connect_with_grant(GrantRequest {
            broker: BrokerKind::Tastytrade,
            environment: Environment::Demo,
            client_id: DEMO_CLIENT_ID.into(),
            client_secret: DEMO_CLIENT_SECRET.into(),
            refresh_token: "demo-rt-0123456789abcdef.tag".into(),
            custom: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Keyring);
    assert_eq!(
        demo.token_requests().len(),
        0,
        "nothing was sent to the broker"
    );
    let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(files.is_empty(), "no file fallback: {files:?}");
}
