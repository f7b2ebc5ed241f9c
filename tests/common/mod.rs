//! Shared by the Rust integration tests: the real keyring with a record of what was written,
//! and the scripted browser.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

use keygrant::error::Result;
use keygrant::secret::Secret;
use keygrant::vault::{KeyringStore, SecretStore, Vault};
use url::Url;

/// The real Secret Service keyring, recording the keys it was asked to write.
pub struct RecordingStore {
    inner: KeyringStore,
    pub written: Mutex<Vec<String>>,
}

impl SecretStore for RecordingStore {
    fn set(&self, key: &str, value: &Secret) -> Result<()> {
        self.written.lock().unwrap().push(key.to_string());
        self.inner.set(key, value)
    }
    fn get(&self, key: &str) -> Result<Option<Secret>> {
        self.inner.get(key)
    }
    fn delete(&self, key: &str) -> Result<()> {
        self.inner.delete(key)
    }
}

pub const TEST_SERVICE: &str = "keygrant-test";

pub fn keyring() -> (Vault, Arc<RecordingStore>) {
    let store = Arc::new(RecordingStore {
        inner: KeyringStore::new(TEST_SERVICE),
        written: Mutex::new(Vec::new()),
    });
    (Vault::new(store.clone()), store)
}

/// Reads a key straight from the keyring, bypassing the app.
pub fn keyring_get(key: &str) -> Option<String> {
    KeyringStore::new(TEST_SERVICE)
        .get(key)
        .expect("Secret Service reachable (run under scripts/with-keyring.sh)")
        .map(|s| s.expose().to_string())
}

pub fn browser_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/approve.py")
}

/// A browser that opens the authorize URL and presses `decision` ("approve" or "deny").
pub fn scripted_browser(decision: &'static str) -> impl FnOnce(&Url) -> Result<()> {
    move |url: &Url| {
        Command::new("python3")
            .arg(browser_script())
            .args(["--decision", decision])
            .arg(url.as_str())
            .spawn()
            .expect("python3 runs the scripted browser");
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
