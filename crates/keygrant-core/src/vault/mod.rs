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

fn keyring_error(e: keyring::Error) -> AppError {
    let hint = if cfg!(target_os = "linux") {
        " On Linux Keygrant needs a Secret Service keyring (GNOME Keyring or KWallet) that is \
         running and unlocked: install gnome-keyring, log in to a desktop session, or unlock the \
         \"Login\" keyring in Passwords and Keys, then try again."
    } else {
        " Unlock your system keychain and try again."
    };
    // keyring's Display names the failure, never the stored value.
    AppError::new(
        ErrorKind::Keyring,
        format!(
            "The system keyring could not be used ({e}).{hint} Nothing was saved to disk instead."
        ),
    )
}

impl SecretStore for KeyringStore {
    fn set(&self, key: &str, value: &str) -> Result<()> {
        self.entry(key)?.set_password(value).map_err(keyring_error)
    }

    fn get(&self, key: &str) -> Result<Option<String>> {
        match self.entry(key)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn delete(&self, key: &str) -> Result<()> {
        match self.entry(key)?.delete_credential() {
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

    /// Profile `profile_id`'s refresh token. Errors as [`Vault::client_secret`].
    pub fn refresh_token(&self, profile_id: &str) -> Result<RefreshToken> {
        self.require(&Self::refresh_token_key(profile_id), "refresh token")
            .map(RefreshToken::new)
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

    /// Deletes both secrets of a profile; a missing one is not an error. Errors:
    /// [`ErrorKind::Keyring`].
    pub fn delete_profile(&self, profile_id: &str) -> Result<()> {
        let a = self.store.delete(&Self::client_secret_key(profile_id));
        let b = self.store.delete(&Self::refresh_token_key(profile_id));
        a.and(b)
    }
}
