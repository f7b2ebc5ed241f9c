//! One refresh at a time across processes: the window, its background refresh and any number
//! of `keygrant token` / `keygrant exec` calls share one refresh token, which a broker that
//! rotates (docs/brokers.md#tradestation-tokens-and-lifetimes) retires on every use. Two
//! processes refreshing with the same token would break each other, so:
//!
//! - a refresh happens only under an OS file lock on `<config dir>/locks/<profile>.lock`
//!   (`std::fs::File::lock`: `flock` on Unix, `LockFileEx` on Windows; released when the
//!   process ends, however it ends);
//! - under the lock the process first looks for an access token another process obtained
//!   meanwhile, then re-reads the refresh token from the keyring (another process may have
//!   rotated it), refreshes, and saves the rotated refresh token before letting go;
//! - the access token is shared through the keyring entry `<profile>/access_token`, never a
//!   plain file: it is readable only where the refresh token already is.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorKind, Result};
use crate::oauth::TokenField;
use crate::secret::{AccessToken, Expose};

/// The held lock; released when dropped.
pub struct RefreshLock {
    _file: File,
}

impl RefreshLock {
    /// Waits for the refresh lock of `profile_id` under `config_dir`. Errors:
    /// [`ErrorKind::Config`] when the lock file cannot be created or locked.
    pub async fn acquire(config_dir: &Path, profile_id: &str) -> Result<RefreshLock> {
        let path = lock_path(config_dir, profile_id);
        tokio::task::spawn_blocking(move || {
            let fail = |e: std::io::Error| {
                AppError::new(
                    ErrorKind::Config,
                    format!(
                        "Keygrant could not use its lock file {} ({e}). Check that the folder is writable.",
                        path.display()
                    ),
                )
            };
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(fail)?;
            }
            let file = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(fail)?;
            file.lock().map_err(fail)?;
            Ok(RefreshLock { _file: file })
        })
        .await
        .map_err(|e| AppError::internal(format!("the lock task failed: {e}")))?
    }
}

/// `<config_dir>/locks/<profile_id>.lock`.
pub fn lock_path(config_dir: &Path, profile_id: &str) -> PathBuf {
    let safe: String = profile_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    config_dir.join("locks").join(format!("{safe}.lock"))
}

/// An access token as processes share it in the keyring (JSON). Times are Unix seconds.
#[derive(Clone, Serialize, Deserialize)]
pub struct SharedToken {
    /// The access token itself.
    pub access_token: String,
    /// When it was obtained.
    pub obtained: u64,
    /// When it expires (already clamped, see [`super::lifetime_and_margin`]).
    pub expires: u64,
    /// The token response's fields, masked, for display.
    #[serde(default)]
    pub fields: Vec<TokenField>,
}

impl std::fmt::Debug for SharedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedToken")
            .field("access_token", &"<redacted>")
            .field("obtained", &self.obtained)
            .field("expires", &self.expires)
            .finish()
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl SharedToken {
    /// The form stored for `token`, obtained at `obtained` and usable for `lifetime`.
    pub fn new(
        token: &AccessToken,
        obtained: SystemTime,
        lifetime: Duration,
        fields: &[TokenField],
    ) -> Self {
        SharedToken {
            access_token: token.expose().to_string(),
            obtained: unix(obtained),
            expires: unix(obtained + lifetime),
            fields: fields.to_vec(),
        }
    }

    /// Reads the stored JSON; `None` when it is not a shared token.
    pub fn parse(json: &str) -> Option<SharedToken> {
        serde_json::from_str(json).ok()
    }

    /// The stored JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Time left before it is due for a refresh at `now`: the margin of
    /// [`super::lifetime_and_margin`] for its lifetime is kept. `None` when it is due.
    pub fn usable_for(&self, now: SystemTime) -> Option<Duration> {
        let lifetime = Duration::from_secs(self.expires.saturating_sub(self.obtained));
        let (_, margin) = super::lifetime_and_margin(Some(lifetime));
        let due = self.expires.saturating_sub(margin.as_secs());
        let now = unix(now);
        (due > now).then(|| Duration::from_secs(due - now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_token_is_used_until_its_margin_and_never_printed() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let shared = SharedToken::new(
            &AccessToken::new("at-secret-value-1234567890"),
            t0,
            Duration::from_secs(900),
            &[],
        );
        let back = SharedToken::parse(&shared.to_json()).unwrap();
        assert_eq!(back.expires - back.obtained, 900);
        // 900 s lifetime: refreshed 60 s early.
        assert_eq!(back.usable_for(t0), Some(Duration::from_secs(840)));
        assert_eq!(
            back.usable_for(t0 + Duration::from_secs(839)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(back.usable_for(t0 + Duration::from_secs(840)), None);
        assert!(!format!("{back:?}").contains("at-secret"));
        assert!(SharedToken::parse("not json").is_none());
    }

    #[test]
    fn lock_files_are_named_safely_inside_the_config_dir() {
        let p = lock_path(Path::new("/cfg"), "../etc/passwd");
        assert_eq!(p, Path::new("/cfg/locks/___etc_passwd.lock"));
    }
}
