//! Profiles: what is not secret about a connection (broker, environment, client ID, scopes,
//! label), kept as JSON in the app's config folder and written atomically. Secrets are never
//! here; they are in the keyring under the profile's id.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::brokers::custom::CustomProvider;
use crate::brokers::{BrokerKind, Environment};
use crate::error::{AppError, ErrorKind, Result};

/// A saved connection, without its secrets (those are in the keyring under `id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Stable identifier: the keyring keys are `<id>/client_secret` and `<id>/refresh_token`.
    pub id: String,
    /// Which broker.
    pub broker: BrokerKind,
    /// Production or the broker's test environment.
    pub environment: Environment,
    /// The OAuth application's client ID (not secret).
    pub client_id: String,
    /// The scopes granted (as asked for).
    pub scopes: Vec<String>,
    /// The name shown in the switcher; the user may rename it.
    pub label: String,
    /// The registered redirect URI used to connect, if any (the Demo broker needs none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// The provider's description, for a custom OAuth 2 provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomProvider>,
    /// When the browser sign-in that created the stored grant happened (Unix seconds; not a
    /// secret). `None` for a pasted grant, whose sign-in Keygrant did not see. With the
    /// broker's `sign_in_lifetime` it says when the grant ends (Schwab: 7 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in_at: Option<u64>,
}

impl Profile {
    /// Who this profile talks to. Errors: [`ErrorKind::InvalidInput`] for a custom profile
    /// saved without its description (a damaged file).
    pub fn provider(&self) -> Result<crate::brokers::Provider> {
        crate::brokers::Provider::new(self.broker, self.custom.as_ref())
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ProfilesFile {
    #[serde(default)]
    profiles: Vec<Profile>,
    /// The profile the dashboard shows; the first one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    active: Option<String>,
    /// The wizard's last broker choice, offered first next time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_choice: Option<String>,
}

/// `profiles.json` in the config directory: the connections, the shown one, the last wizard
/// choice. Every write is atomic (temporary file, then rename).
pub struct ProfileStore {
    path: PathBuf,
}

impl ProfileStore {
    /// The store at `<config_dir>/profiles.json` (created on first write).
    pub fn new(config_dir: &Path) -> Self {
        ProfileStore {
            path: config_dir.join("profiles.json"),
        }
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every connection, in the order added; empty when the file does not exist. Errors:
    /// [`ErrorKind::Config`] when it cannot be read or parsed.
    pub fn load(&self) -> Result<Vec<Profile>> {
        self.read().map(|f| f.profiles)
    }

    /// The profile the dashboard shows: the chosen one, else the first.
    pub fn current(&self) -> Result<Option<Profile>> {
        let f = self.read()?;
        let chosen = f
            .active
            .as_ref()
            .and_then(|id| f.profiles.iter().find(|p| &p.id == id));
        Ok(chosen.or(f.profiles.first()).cloned())
    }

    /// Adds `profile` and makes it the one the dashboard shows, in one atomic write: on
    /// failure profiles.json is as it was. Errors: [`ErrorKind::Config`].
    pub fn add(&self, profile: &Profile) -> Result<()> {
        let mut f = self.read()?;
        f.profiles.push(profile.clone());
        f.active = Some(profile.id.clone());
        self.write(&f)
    }

    /// Chooses the profile the dashboard shows.
    pub fn set_active(&self, id: &str) -> Result<()> {
        let mut f = self.read()?;
        if !f.profiles.iter().any(|p| p.id == id) {
            return Err(AppError::new(
                ErrorKind::InvalidInput,
                "That connection no longer exists. Pick another one.",
            ));
        }
        f.active = Some(id.to_string());
        self.write(&f)
    }

    /// The wizard card chosen last time, if any.
    pub fn last_choice(&self) -> Result<Option<String>> {
        Ok(self.read()?.last_choice)
    }

    /// Remembers the wizard card chosen. Errors: [`ErrorKind::Config`].
    pub fn set_last_choice(&self, choice: &str) -> Result<()> {
        let mut f = self.read()?;
        f.last_choice = Some(choice.to_string());
        self.write(&f)
    }

    fn read(&self) -> Result<ProfilesFile> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice::<ProfilesFile>(&bytes).map_err(|e| {
                AppError::new(
                    ErrorKind::Config,
                    format!(
                        "The profile list at {} is damaged ({e}). Move it aside and connect again.",
                        self.path.display()
                    ),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ProfilesFile::default()),
            Err(e) => Err(config_error(&self.path, e)),
        }
    }

    /// Writes the list, keeping the chosen profile if it is still in it, atomically (a
    /// temporary file beside the target, renamed into place).
    pub fn save(&self, profiles: &[Profile]) -> Result<()> {
        let old = self.read().unwrap_or_default();
        let active = old.active.filter(|id| profiles.iter().any(|p| &p.id == id));
        self.write(&ProfilesFile {
            profiles: profiles.to_vec(),
            active,
            last_choice: old.last_choice,
        })
    }

    fn write(&self, file: &ProfilesFile) -> Result<()> {
        let dir = self.path.parent().expect("profiles.json has a parent");
        std::fs::create_dir_all(dir).map_err(|e| config_error(dir, e))?;
        let body =
            serde_json::to_vec_pretty(file).map_err(|e| AppError::internal(e.to_string()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| config_error(dir, e))?;
        std::io::Write::write_all(&mut tmp, &body).map_err(|e| config_error(tmp.path(), e))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| config_error(&self.path, e))?;
        tmp.persist(&self.path)
            .map_err(|e| config_error(&self.path, e.error))?;
        Ok(())
    }
}

fn config_error(path: &Path, e: std::io::Error) -> AppError {
    AppError::new(
        ErrorKind::Config,
        format!(
            "Could not write Keygrant's settings at {} ({e}). Check that the folder is writable.",
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_atomically_and_a_missing_file_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::new(&dir.path().join("nested"));
        assert!(store.load().unwrap().is_empty());
        let p = Profile {
            id: "p1".into(),
            broker: BrokerKind::Tastytrade,
            environment: Environment::Demo,
            client_id: "cid".into(),
            scopes: vec!["read".into()],
            label: "Demo".into(),
            redirect_uri: None,
            custom: None,
            signed_in_at: Some(1_700_000_000),
        };
        store.save(std::slice::from_ref(&p)).unwrap();
        assert_eq!(store.load().unwrap(), vec![p]);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("nested"))
            .unwrap()
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn a_damaged_file_is_a_config_error_that_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("profiles.json"), b"{not json").unwrap();
        let err = ProfileStore::new(dir.path()).load().unwrap_err();
        assert_eq!(err.kind, ErrorKind::Config);
        assert!(err.message.contains("profiles.json"));
    }
}
