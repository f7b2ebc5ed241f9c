//! The OS keyring: the only place a client secret or refresh token is kept (Secret Service on
//! Linux, Keychain on macOS, Credential Manager on Windows). There is no fallback to a file:
//! when the keyring is missing or locked the user is told, and nothing is stored.

use std::sync::Arc;

use crate::error::{AppError, ErrorKind, Result};
use crate::secret::{ClientSecret, Expose, RefreshToken};

/// Where secrets are stored, by key (`<profile id>/client_secret`, `<profile id>/refresh_token`).
/// The real one is [`KeyringStore`]; [`MemoryStore`] (feature `test-support`) is for tests
/// that are not about the keyring. Values pass through as plain strings only here: the
/// [`Vault`] types them.
pub trait SecretStore: Send + Sync {
    /// Stores `value` under `key`, replacing what was there. Errors: [`ErrorKind::Keyring`]
    /// with what to do.
    fn set(&self, key: &str, value: &str) -> Result<()>;
    /// The value under `key`; `None` when there is none. Errors: [`ErrorKind::Keyring`].
    fn get(&self, key: &str) -> Result<Option<String>>;
    /// Removes `key`; removing a missing key succeeds. Errors: [`ErrorKind::Keyring`].
    fn delete(&self, key: &str) -> Result<()>;
}

/// Secrets in memory, for tests that are not about the keyring (no D-Bus needed).
#[cfg(any(test, feature = "test-support"))]
#[derive(Default)]
pub struct MemoryStore {
    values: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

#[cfg(any(test, feature = "test-support"))]
impl MemoryStore {
    /// The keys stored now, sorted.
    pub fn keys(&self) -> Vec<String> {
        let mut k: Vec<String> = self.values.lock().unwrap().keys().cloned().collect();
        k.sort();
        k
    }
}

#[cfg(any(test, feature = "test-support"))]
impl SecretStore for MemoryStore {
    fn set(&self, key: &str, value: &str) -> Result<()> {
        self.values
            .lock()
            .unwrap()
            .insert(key.to_string(), value.to_string());
        Ok(())
    }
    fn get(&self, key: &str) -> Result<Option<String>> {
        Ok(self.values.lock().unwrap().get(key).cloned())
    }
    fn delete(&self, key: &str) -> Result<()> {
        self.values.lock().unwrap().remove(key);
        Ok(())
    }
}

/// The platform keyring through the `keyring` crate, under one service name.
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// The keyring entries under service name `service`.
    pub fn new(service: impl Into<String>) -> Self {
        KeyringStore {
            service: service.into(),
        }
    }

    fn entry(&self, key: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, key).map_err(keyring_error)
    }
}

/// The most a Windows Credential Manager entry holds: 2,560 bytes, and the `keyring` crate
/// stores text as UTF-16, so 1,280 UTF-16 code units (`CRED_MAX_CREDENTIAL_BLOB_SIZE`,
/// keyring 3.6 `windows.rs`).
pub const WINDOWS_MAX_SECRET_BYTES: usize = 2560;

/// Refuses a value the Windows Credential Manager cannot hold ([`WINDOWS_MAX_SECRET_BYTES`]
/// as UTF-16), before anything is written. Refused rather than split across entries: two
/// writes are not atomic, and half of a rotated refresh token in the keyring is worse than
/// the whole one kept in memory and shown for copying. Errors: [`ErrorKind::Keyring`].
pub fn check_windows_length(value: &str) -> Result<()> {
    let bytes = value.encode_utf16().count() * 2;
    if bytes > WINDOWS_MAX_SECRET_BYTES {
        return Err(too_long(
            &format!("{bytes} bytes"),
            WINDOWS_MAX_SECRET_BYTES as u64,
        ));
    }
    Ok(())
}

fn too_long(size: &str, limit: u64) -> AppError {
    AppError::new(
        ErrorKind::Keyring,
        format!(
            "This value is too long for the system keyring here ({size}; Windows Credential \
             Manager holds {limit}). It was not saved. Copy it from this page and keep it somewhere \
             safe, and tell the Keygrant developers which broker issued it."
        ),
    )
}

/// The keyring crate's error as a message naming the real cause: locked, unlock prompt
/// dismissed, no Secret Service running, value too long, or the platform's own words.
/// Variants per the `keyring` 3 docs (`Error::NoStorageAccess`, `PlatformFailure`, `TooLong`);
/// on Linux the inner error is dbus-secret-service's, whose text says which ("object
/// locked", "unlock prompt was dismissed", "No DBus session or Secret Service provider
/// found", a D-Bus error). Never holds the stored value.
fn keyring_error(e: keyring::Error) -> AppError {
    // Over SSH or on a server there is no session bus address; libdbus may then autolaunch a
    // bus of its own, whose keyring answers "locked" or nothing: not the user's keyring.
    let no_session =
        cfg!(target_os = "linux") && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none();
    keyring_error_in(e, no_session)
}

/// [`keyring_error`] for a process with (`no_session` false) or without a D-Bus session
/// address.
fn keyring_error_in(e: keyring::Error, no_session: bool) -> AppError {
    let saved = " Nothing was saved to disk instead.";
    let inner = match &e {
        keyring::Error::NoStorageAccess(inner) | keyring::Error::PlatformFailure(inner) => {
            inner.to_string()
        }
        _ => String::new(),
    };
    let lower = inner.to_lowercase();
    let unlock_where = if cfg!(target_os = "linux") {
        "unlock the \"Login\" keyring in Passwords and Keys (Seahorse) or your desktop's keyring"
    } else if cfg!(target_os = "macos") {
        "unlock the login keychain in Keychain Access"
    } else {
        "sign in to Windows again so Credential Manager is available"
    };
    let message = match &e {
        keyring::Error::TooLong(what, limit) => {
            return too_long(&format!("the {what} is over the limit"), *limit as u64)
        }
        _ if lower.contains("prompt") => format!(
            "The system keyring asked to be unlocked and the prompt was dismissed. Try again and \
             enter your keyring password when asked, or {unlock_where} first.{saved}"
        ),
        _ if vanished(&e) => format!(
            "The system keyring changed while Keygrant was using it (another Keygrant process \
             was saving at the same moment). Try again.{saved}"
        ),
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_) if no_session => {
            format!(
                "No Secret Service keyring could be reached from here ({inner}). {}{saved}",
                no_service_advice(true)
            )
        }
        // gnome-keyring answers a write to a locked collection with a D-Bus error, "Cannot
        // create an item in a locked collection" (a PlatformFailure), not NoStorageAccess.
        keyring::Error::NoStorageAccess(_) | keyring::Error::PlatformFailure(_)
            if lower.contains("locked") || matches!(e, keyring::Error::NoStorageAccess(_)) =>
        {
            format!(
                "The system keyring is locked ({inner}). {} and try again.{saved}",
                crate::error::capitalized(unlock_where)
            )
        }
        keyring::Error::PlatformFailure(_)
            if cfg!(target_os = "linux")
                && (lower.contains("no dbus session")
                    || lower.contains("secret service provider")
                    || lower.contains("dbus")) =>
        {
            let how = no_service_advice(std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none());
            format!(
                "No Secret Service is running, so there is no system keyring to keep secrets in \
                 ({inner}). On Linux Keygrant needs a Secret Service keyring (GNOME Keyring or \
                 KWallet) that is running and unlocked. {how}{saved}"
            )
        }
        _ => format!(
            "The system keyring could not be used ({e}). Make sure it is running and unlocked \
             ({unlock_where}), then try again.{saved}"
        ),
    };
    AppError::new(ErrorKind::Keyring, message)
}

/// What to do when no Secret Service answers: over SSH or on a server (`headless`: no session
/// bus at all), how to run the command inside a D-Bus session with an unlocked keyring;
/// otherwise, install and log in.
fn no_service_advice(headless: bool) -> &'static str {
    if headless {
        "This shell has no D-Bus session (over SSH or on a server, DBUS_SESSION_BUS_ADDRESS is \
         not set). Run the command in the desktop session where your keyring is unlocked, or \
         inside a session of its own with the keyring in ~/.local/share/keyrings unlocked: \
         `dbus-run-session -- sh -c 'printf %s \"$KEYRING_PASSWORD\" | gnome-keyring-daemon \
         --unlock --components=secrets >/dev/null && keygrant token'` (README, \"Use it from \
         your scripts\")."
    } else {
        "Install gnome-keyring and log in to a desktop session, then try again."
    }
}

/// Whether a keyring error is an item vanishing under the call: the Secret Service found an
/// item, and another process (a `keygrant token` rewriting the shared access token, the
/// window saving a rotated refresh token) replaced or deleted it before it was read ("No such
/// interface ... on object at path .../collection/login/N", "No such object"). Retried.
fn vanished(e: &keyring::Error) -> bool {
    let text = match e {
        keyring::Error::PlatformFailure(inner) | keyring::Error::NoStorageAccess(inner) => {
            inner.to_string()
        }
        _ => return false,
    };
    text.contains("No such interface")
        || text.contains("No such object")
        || text.contains("UnknownObject")
}

/// Runs a keyring call, again (up to 3 tries in all, 20 ms apart) when an item vanished under
/// it ([`vanished`]).
fn with_retry<T>(mut call: impl FnMut() -> keyring::Result<T>) -> keyring::Result<T> {
    let mut tries = 0;
    loop {
        tries += 1;
        match call() {
            Err(e) if tries < 3 && vanished(&e) => {
                tracing::debug!("a keyring item changed under the call; trying again");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

impl SecretStore for KeyringStore {
    fn set(&self, key: &str, value: &str) -> Result<()> {
        if cfg!(windows) {
            check_windows_length(value)?;
        }
        let entry = self.entry(key)?;
        with_retry(|| entry.set_password(value)).map_err(keyring_error)
    }

    fn get(&self, key: &str) -> Result<Option<String>> {
        let entry = self.entry(key)?;
        match with_retry(|| entry.get_password()) {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn delete(&self, key: &str) -> Result<()> {
        let entry = self.entry(key)?;
        match with_retry(|| entry.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error(e)),
        }
    }
}

/// A profile's secrets in the store.
#[derive(Clone)]
pub struct Vault {
    store: Arc<dyn SecretStore>,
}

/// The keyring service name every Keygrant secret is stored under.
pub const SERVICE: &str = "keygrant";

impl Vault {
    /// A vault over `store` (the keyring, or `MemoryStore` in tests).
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        Vault { store }
    }

    /// The vault over the OS keyring, service [`SERVICE`].
    pub fn keyring() -> Self {
        Vault::new(Arc::new(KeyringStore::new(SERVICE)))
    }

    /// The key of a profile's client secret: `<profile_id>/client_secret`.
    pub fn client_secret_key(profile_id: &str) -> String {
        format!("{profile_id}/client_secret")
    }

    /// The key of a profile's refresh token: `<profile_id>/refresh_token`.
    pub fn refresh_token_key(profile_id: &str) -> String {
        format!("{profile_id}/refresh_token")
    }

    /// The key of a profile's shared access token: `<profile_id>/access_token` (see
    /// [`crate::session::shared`]).
    pub fn access_token_key(profile_id: &str) -> String {
        format!("{profile_id}/access_token")
    }

    /// The access token another Keygrant process obtained for `profile_id`, as stored by
    /// [`Vault::set_shared_access_token`] (JSON, see [`crate::session::shared::SharedToken`]).
    /// `None` when there is none or it cannot be read: the caller refreshes instead.
    pub fn shared_access_token(&self, profile_id: &str) -> Option<String> {
        self.store
            .get(&Self::access_token_key(profile_id))
            .ok()
            .flatten()
    }

    /// Stores `json` (a [`crate::session::shared::SharedToken`]) as profile `profile_id`'s
    /// shared access token. Errors: [`ErrorKind::Keyring`]; callers go on without sharing.
    pub fn set_shared_access_token(&self, profile_id: &str, json: &str) -> Result<()> {
        self.store.set(&Self::access_token_key(profile_id), json)
    }

    /// Forgets profile `profile_id`'s shared access token (the broker refused it). Errors:
    /// [`ErrorKind::Keyring`].
    pub fn delete_shared_access_token(&self, profile_id: &str) -> Result<()> {
        self.store.delete(&Self::access_token_key(profile_id))
    }

    /// Stores both secrets of a new profile, or neither.
    pub fn save_profile(
        &self,
        profile_id: &str,
        client_secret: &ClientSecret,
        refresh_token: &RefreshToken,
    ) -> Result<()> {
        self.store
            .set(&Self::client_secret_key(profile_id), client_secret.expose())?;
        if let Err(e) = self
            .store
            .set(&Self::refresh_token_key(profile_id), refresh_token.expose())
        {
            let _ = self.store.delete(&Self::client_secret_key(profile_id));
            return Err(e);
        }
        Ok(())
    }

    /// The key [`Vault::probe_write`] writes and deletes.
    pub const PROBE_KEY: &'static str = "keygrant-probe/write-check";

    /// Proves the keyring can be written now: stores and deletes a probe entry
    /// ([`Vault::PROBE_KEY`]). Called before a browser opens or a pasted grant is sent, so a
    /// locked keyring, a dismissed unlock prompt or a missing Secret Service is found before
    /// any code or refresh token is spent. Errors: [`ErrorKind::Keyring`] naming the cause.
    pub fn probe_write(&self) -> Result<()> {
        self.store.set(Self::PROBE_KEY, "write-check")?;
        self.store.delete(Self::PROBE_KEY)
    }

    /// Fails with the keyring's message when it cannot be used (no Secret Service, locked),
    /// so a sign-in is not started only to find nowhere to keep its result.
    pub fn ensure_available(&self) -> Result<()> {
        self.store.get("availability-check").map(drop)
    }

    /// Profile `profile_id`'s client secret. Errors: [`ErrorKind::Keyring`], or
    /// [`ErrorKind::NotConnected`] when it is missing from the keyring.
    pub fn client_secret(&self, profile_id: &str) -> Result<ClientSecret> {
        self.require(&Self::client_secret_key(profile_id), "client secret")
            .map(ClientSecret::new)
    }

    /// Profile `profile_id`'s refresh token. Errors: [`ErrorKind::Keyring`];
    /// [`ErrorKind::InvalidGrant`] when it is missing from the keyring (Sign in again fixes it).
    pub fn refresh_token(&self, profile_id: &str) -> Result<RefreshToken> {
        match self.store.get(&Self::refresh_token_key(profile_id))? {
            Some(t) => Ok(RefreshToken::new(t)),
            // The grant is gone but the connection's settings and client secret may not be:
            // a new sign-in (Sign in again) restores it, as for a refused grant.
            None => Err(AppError::new(
                ErrorKind::InvalidGrant,
                "The saved refresh token is missing from the system keyring (it was deleted \
                 there, or this is another keyring). Press Sign in again to get a new one, or \
                 Disconnect and connect again.",
            )),
        }
    }

    /// Stores profile `profile_id`'s client secret alone (a new profile whose rotated refresh
    /// token the keyring refused). Errors: [`ErrorKind::Keyring`].
    pub fn set_client_secret(&self, profile_id: &str, secret: &ClientSecret) -> Result<()> {
        self.store
            .set(&Self::client_secret_key(profile_id), secret.expose())
    }

    /// Replaces profile `profile_id`'s refresh token (after a rotation). Errors:
    /// [`ErrorKind::Keyring`]; the caller keeps the token until a later write succeeds.
    pub fn set_refresh_token(&self, profile_id: &str, token: &RefreshToken) -> Result<()> {
        self.store
            .set(&Self::refresh_token_key(profile_id), token.expose())
    }

    fn require(&self, key: &str, what: &str) -> Result<String> {
        self.store.get(key)?.ok_or_else(|| {
            AppError::new(
                ErrorKind::NotConnected,
                format!("The saved {what} is missing from the system keyring (it may have been deleted there). Disconnect and connect again."),
            )
        })
    }

    /// Deletes both secrets of a profile and its shared access token; a missing one is not an
    /// error. Errors: [`ErrorKind::Keyring`].
    pub fn delete_profile(&self, profile_id: &str) -> Result<()> {
        let a = self.store.delete(&Self::client_secret_key(profile_id));
        let b = self.store.delete(&Self::refresh_token_key(profile_id));
        let c = self.store.delete(&Self::access_token_key(profile_id));
        a.and(b).and(c)
    }
}

#[cfg(test)]
mod tests {
    /// An item replaced by another process between the search and the read (seen with
    /// concurrent Keygrant processes on gnome-keyring) is retried, and if it persists is
    /// reported as a race, not as a missing Secret Service.
    #[test]
    fn an_item_vanishing_under_the_call_is_retried_and_named() {
        let gone = || {
            keyring::Error::PlatformFailure(Box::new(std::io::Error::other(
                "DBus error: No such interface \u{201c}org.freedesktop.Secret.Item\u{201d} on object at path /org/freedesktop/secrets/collection/login/1",
            )))
        };
        assert!(vanished(&gone()));
        assert!(!vanished(&keyring::Error::NoEntry));
        let mut calls = 0;
        let r = with_retry(|| {
            calls += 1;
            if calls < 3 {
                Err(gone())
            } else {
                Ok(7)
            }
        });
        assert_eq!((r.unwrap(), calls), (7, 3));
        let mut calls = 0;
        let r: keyring::Result<()> = with_retry(|| {
            calls += 1;
            Err(gone())
        });
        assert_eq!(calls, 3);
        let e = keyring_error(r.unwrap_err());
        assert!(
            e.message.contains("changed while Keygrant was using it"),
            "{}",
            e.message
        );
    }

    use super::*;

    fn boxed(text: &str) -> Box<dyn std::error::Error + Send + Sync> {
        Box::new(std::io::Error::other(text.to_string()))
    }

    #[test]
    fn keyring_errors_name_the_real_cause() {
        let locked = keyring_error_in(
            keyring::Error::NoStorageAccess(boxed("Secret Service: object locked")),
            false,
        );
        assert_eq!(locked.kind, ErrorKind::Keyring);
        assert!(locked.message.contains("is locked"), "{}", locked.message);
        let prompt = keyring_error_in(
            keyring::Error::NoStorageAccess(boxed("Secret Service: unlock prompt was dismissed")),
            false,
        );
        assert!(
            prompt.message.contains("prompt was dismissed"),
            "{}",
            prompt.message
        );
        let long = keyring_error_in(
            keyring::Error::TooLong("password encoded as UTF-16".into(), 2560),
            false,
        );
        assert!(
            long.message.contains("too long") && long.message.contains("2560"),
            "{}",
            long.message
        );
        let dbus_locked = keyring_error_in(
            keyring::Error::PlatformFailure(boxed(
                "DBus error: Cannot create an item in a locked collection",
            )),
            false,
        );
        assert!(
            dbus_locked.message.contains("is locked"),
            "{}",
            dbus_locked.message
        );
        assert!(no_service_advice(true).contains("dbus-run-session -- sh -c"));
        // No session address: whatever libdbus reached instead is not called "locked".
        let far = keyring_error_in(
            keyring::Error::NoStorageAccess(boxed("Secret Service: no result found")),
            true,
        );
        assert!(
            far.message
                .starts_with("No Secret Service keyring could be reached")
                && far.message.contains("gnome-keyring-daemon --unlock"),
            "{}",
            far.message
        );
        assert!(no_service_advice(false).contains("log in to a desktop session"));
        if cfg!(target_os = "linux") {
            let none = keyring_error_in(
                keyring::Error::PlatformFailure(boxed(
                    "No DBus session or Secret Service provider found",
                )),
                false,
            );
            assert!(
                none.message.contains("No Secret Service is running"),
                "{}",
                none.message
            );
        }
        for e in [locked, prompt, long] {
            assert!(e.message.contains("Nothing was saved") || e.message.contains("not saved"));
        }
    }

    #[test]
    fn values_too_long_for_windows_are_refused_before_writing() {
        assert!(check_windows_length(&"a".repeat(1280)).is_ok());
        let e = check_windows_length(&"a".repeat(1281)).unwrap_err();
        assert!(
            e.message.contains("2562 bytes") && e.message.contains("2560"),
            "{}",
            e.message
        );
        // Counted as UTF-16, as the keyring crate stores it.
        assert!(check_windows_length(&"é".repeat(1280)).is_ok());
        assert!(check_windows_length(&"😀".repeat(641)).is_err());
    }

    #[test]
    fn the_write_probe_leaves_nothing_behind() {
        let store = Arc::new(MemoryStore::default());
        Vault::new(store.clone()).probe_write().unwrap();
        assert!(store.keys().is_empty());
    }
}
