//! What the command line asks of the core (`keygrant list`, `token`, `exec`, `status`): the
//! connections, a profile by name, and a fresh access token through the same session as the
//! window, so one refresh is shared across processes (`crate::session::shared`).

use serde::Serialize;

use super::*;
use crate::secret::AccessToken;
use crate::session::shared::SharedToken;

/// A connection as `keygrant list` shows it. No secret.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// The profile's identifier.
    pub id: String,
    /// Its name (what `--profile` matches, case-insensitively, besides the id).
    pub label: String,
    /// Which broker.
    pub broker: BrokerKind,
    /// Production or the broker's test environment.
    pub environment: Environment,
    /// The environment as the broker names it.
    pub environment_label: String,
    /// The OAuth application's client ID (not secret).
    pub client_id: String,
    /// The one the window shows, and the default of `--profile`.
    pub active: bool,
    /// When the access token the Keygrant processes share expires (Unix seconds); absent
    /// when none is cached.
    pub access_token_expires_at: Option<u64>,
}

/// A fresh access token for a script, with what `--format json` tells about it.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    /// The access token (redacted in `Debug`).
    pub access_token: AccessToken,
    /// When it expires (Unix seconds), when known.
    pub expires_at: Option<u64>,
    /// The scopes granted (the token response's `scope`), else the ones asked for.
    pub scopes: Vec<String>,
    /// The profile it belongs to.
    pub profile: Profile,
    /// The broker API base URL for the profile's environment.
    pub api_base: Url,
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Core {
    /// Every connection, in the order added, with the shared access token's expiry. Errors:
    /// [`ErrorKind::Config`] (profiles.json unreadable).
    pub fn listings(&self) -> Result<Vec<Listing>> {
        let current = self.profiles.current()?.map(|p| p.id);
        Ok(self
            .profiles
            .load()?
            .into_iter()
            .map(|p| {
                let expires = self
                    .vault
                    .shared_access_token(&p.id)
                    .and_then(|json| SharedToken::parse(&json))
                    .map(|t| t.expires)
                    .filter(|e| *e > now_unix());
                Listing {
                    active: current.as_deref() == Some(p.id.as_str()),
                    environment_label: p.broker.env_name(p.environment).into(),
                    id: p.id,
                    label: p.label,
                    broker: p.broker,
                    environment: p.environment,
                    client_id: p.client_id,
                    access_token_expires_at: expires,
                }
            })
            .collect())
    }

    /// The profile `name` names (its id, or its label ignoring case), or the one the window
    /// shows when `name` is `None`. Errors: [`ErrorKind::NotConnected`] when nothing is
    /// connected; [`ErrorKind::InvalidInput`] when no profile, or several, have that name
    /// (the message lists the names).
    pub fn profile_named(&self, name: Option<&str>) -> Result<Profile> {
        let not_connected = || {
            AppError::new(
                ErrorKind::NotConnected,
                "No broker is connected yet. Open Keygrant and connect one first.",
            )
        };
        let Some(name) = name.map(str::trim) else {
            return self.profiles.current()?.ok_or_else(not_connected);
        };
        let all = self.profiles.load()?;
        if all.is_empty() {
            return Err(not_connected());
        }
        if let Some(p) = all.iter().find(|p| p.id == name) {
            return Ok(p.clone());
        }
        let named: Vec<&Profile> = all
            .iter()
            .filter(|p| p.label.eq_ignore_ascii_case(name))
            .collect();
        match named.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(AppError::new(
                ErrorKind::InvalidInput,
                format!(
                    "No connection is named \"{name}\". The connections are: {}.",
                    all.iter()
                        .map(|p| format!("\"{}\"", p.label))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .on_field("profile")),
            _ => Err(AppError::new(
                ErrorKind::InvalidInput,
                format!(
                    "Several connections are named \"{name}\"; use one's id instead: {}.",
                    named
                        .iter()
                        .map(|p| p.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .on_field("profile")),
        }
    }

    /// A valid access token for profile `name` (see [`Core::profile_named`]): the one in
    /// memory or shared by another Keygrant process while it is not due, else one refresh
    /// under the cross-process lock. Errors: as [`Core::profile_named`], the keyring's, and
    /// the refresh's ([`ErrorKind::InvalidGrant`], [`ErrorKind::Temporary`], ...).
    pub async fn token_for(&self, name: Option<&str>) -> Result<TokenGrant> {
        let profile = self.profile_named(name)?;
        let session = self.session_for(profile.clone()).await?;
        let access_token = session.access_token().await?;
        let status = session.status();
        let granted: Option<Vec<String>> = status
            .fields
            .iter()
            .find(|f| f.name == "scope" && !f.masked)
            .map(|f| f.value.split_whitespace().map(str::to_owned).collect());
        Ok(TokenGrant {
            access_token,
            expires_at: status.expires.and_then(unix),
            scopes: granted.unwrap_or_else(|| profile.scopes.clone()),
            api_base: session.endpoints().api_base.clone(),
            profile,
        })
    }

    /// What `keygrant exec` hands a child process, as
    /// [`crate::handoff::exec_env`] names it: a fresh access token (as [`Core::token_for`]),
    /// the client secret, the newest refresh token and the API base. Errors: as
    /// [`Core::token_for`].
    pub async fn exec_env(
        &self,
        name: Option<&str>,
    ) -> Result<(Profile, Vec<(String, crate::handoff::EnvValue)>)> {
        let grant = self.token_for(name).await?;
        let session = self.session_for(grant.profile.clone()).await?;
        let refresh_token = session.newest_refresh_token()?;
        let client_secret = self.vault.client_secret(&grant.profile.id)?;
        let env = crate::handoff::exec_env(
            &grant.profile,
            session.endpoints(),
            &crate::handoff::Filled {
                client_secret: &client_secret,
                refresh_token: &refresh_token,
            },
            &grant.access_token,
            grant.expires_at,
        );
        Ok((grant.profile, env))
    }
}
