//! Shared by the Rust integration tests: a secret store recording what was written (the real
//! keyring for the tests about the keyring, memory for the rest, so they need no D-Bus), and
//! the scripted browser.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use keygrant_core::error::Result;
use keygrant_core::vault::{KeyringStore, SecretStore, Vault};
use url::Url;

/// The Demo broker's published credentials for `broker`'s dialect: the client ID and secret,
/// or for Schwab its App Key and Secret.
pub fn demo_credentials(
    broker: keygrant_core::brokers::BrokerKind,
) -> (&'static str, &'static str) {
    match broker {
        keygrant_core::brokers::BrokerKind::Schwab => (
            keygrant_demo::DEMO_SCHWAB_APP_KEY,
            keygrant_demo::DEMO_SCHWAB_SECRET,
        ),
        _ => (
            keygrant_demo::DEMO_CLIENT_ID,
            keygrant_demo::DEMO_CLIENT_SECRET,
        ),
    }
}

/// Connect to the Demo broker in `broker`'s dialect with its published credentials.
pub fn demo_connect(
    broker: keygrant_core::brokers::BrokerKind,
) -> keygrant_core::views::ConnectRequest {
    let (client_id, client_secret) = demo_credentials(broker);
    keygrant_core::views::ConnectRequest {
        broker,
        environment: keygrant_core::brokers::Environment::Demo,
        client_id: client_id.into(),
        client_secret: client_secret.into(),
        redirect_uri: None,
        scopes: None,
        custom: None,
    }
}

/// A secret store (the real Secret Service keyring, or memory) recording the keys it was
/// asked to write, the write probe ([`Vault::PROBE_KEY`]) left out.
pub struct RecordingStore {
    inner: Arc<dyn SecretStore>,
    pub written: Mutex<Vec<String>>,
}

impl RecordingStore {
    /// Reads a key straight from the store, bypassing the app.
    pub fn read(&self, key: &str) -> Option<String> {
        self.inner.get(key).expect("store readable")
    }
}

impl SecretStore for RecordingStore {
    fn set(&self, key: &str, value: &str) -> Result<()> {
        // The keyring write probe (written and deleted before a sign-in) is not a secret.
        if key != Vault::PROBE_KEY {
            self.written.lock().unwrap().push(key.to_string());
        }
        self.inner.set(key, value)
    }
    fn get(&self, key: &str) -> Result<Option<String>> {
        self.inner.get(key)
    }
    fn delete(&self, key: &str) -> Result<()> {
        self.inner.delete(key)
    }
}

pub const TEST_SERVICE: &str = "keygrant-test";

/// With RUST_LOG set (scripts/test.sh sets `trace`), the app's logging goes to stderr so the
/// test command can scan everything logged for secrets.
pub fn init_logging() {
    if std::env::var_os("RUST_LOG").is_some() {
        keygrant_core::init_logging();
    }
}

fn recording(inner: Arc<dyn SecretStore>) -> (Vault, Arc<RecordingStore>) {
    init_logging();
    let store = Arc::new(RecordingStore {
        inner,
        written: Mutex::new(Vec::new()),
    });
    (Vault::new(store.clone()), store)
}

/// The real keyring (service `keygrant-test`), for the tests whose subject is the keyring.
pub fn keyring() -> (Vault, Arc<RecordingStore>) {
    recording(Arc::new(KeyringStore::new(TEST_SERVICE)))
}

/// Secrets in memory, for tests that are not about the keyring (no D-Bus needed).
pub fn memory() -> (Vault, Arc<RecordingStore>) {
    recording(Arc::new(keygrant_core::vault::MemoryStore::default()))
}

/// Reads a key straight from the keyring, bypassing the app.
pub fn keyring_get(key: &str) -> Option<String> {
    KeyringStore::new(TEST_SERVICE)
        .get(key)
        .expect("Secret Service reachable (run under scripts/with-keyring.sh)")
        .map(|s| s.to_string())
}

pub fn browser_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser/approve.py")
}

/// A browser that opens the authorize URL and presses `decision` ("approve" or "deny").
pub fn scripted_browser(decision: &'static str) -> impl FnOnce(&Url) -> Result<()> {
    move |url: &Url| {
        let mut child = Command::new("python3")
            .arg(browser_script())
            .args(["--decision", decision])
            .arg(url.as_str())
            .spawn()
            .expect("python3 runs the scripted browser");
        // Reaped in the background, as a real browser outlives the click.
        std::thread::spawn(move || child.wait());
        Ok(())
    }
}

/// The `redirect_uri` an authorize URL carries.
pub fn redirect_of(url: &Url) -> Url {
    let r = url
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .expect("redirect_uri")
        .1;
    Url::parse(&r).unwrap()
}

/// A browser whose redirect ends at a keygrant:// link: it prints the link, and the test
/// plays the OS handing it to the app.
pub fn deep_link_browser(
    core: std::sync::Arc<keygrant_core::app::Core>,
    tamper_state: bool,
) -> impl FnOnce(&Url) -> Result<()> {
    move |url: &Url| {
        let url = url.clone();
        tokio::spawn(async move {
            let out = tokio::process::Command::new("python3")
                .arg(browser_script())
                .arg(url.as_str())
                .output()
                .await
                .unwrap();
            let link = Url::parse(String::from_utf8(out.stdout).unwrap().trim())
                .expect("the browser printed the keygrant:// link");
            assert_eq!(link.scheme(), "keygrant");
            if tamper_state {
                let mut forged = link.clone();
                forged
                    .query_pairs_mut()
                    .clear()
                    .append_pair("code", "forged")
                    .append_pair("state", "not-it");
                let e = core
                    .deliver_deep_link(&forged)
                    .expect("a forged link is refused");
                assert!(
                    e.message
                        .contains("does not belong to the sign-in in progress"),
                    "{}",
                    e.message
                );
            }
            assert_eq!(
                core.deliver_deep_link(&link),
                None,
                "the real link is taken"
            );
        });
        Ok(())
    }
}

/// Every account with its balances and positions, as the page loads them.
pub struct Dashboard {
    pub accounts: Vec<keygrant_core::brokers::Account>,
    /// In the order of `accounts`.
    pub details: Vec<keygrant_core::brokers::portfolio::AccountDetail>,
}

/// The dashboard the way the page loads it (and the benchmark times it): the account list
/// (`list_accounts`), then every account's detail (`account_detail`) at once.
pub async fn page_dashboard(
    core: &keygrant_core::app::Core,
) -> keygrant_core::error::Result<Dashboard> {
    let accounts = core.accounts().await?;
    let details =
        futures::future::try_join_all(accounts.iter().map(|a| core.account_detail(&a.number)))
            .await?;
    Ok(Dashboard { accounts, details })
}
