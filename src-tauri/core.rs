//! The app's core, free of Tauri: what each UI action does. `commands.rs` is a thin layer over
//! this, and the tests drive it directly over real HTTP against the Demo broker.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{watch, OnceCell, RwLock};
use ts_rs::TS;
use url::Url;

use crate::brokers::{self, Account, BrokerKind, Endpoints, Environment};
use crate::demo::{DemoBroker, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use crate::error::{AppError, ErrorKind, Result};
use crate::oauth::{self, AuthRequest};
use crate::profiles::{Profile, ProfileStore};
use crate::secret::Secret;
use crate::session::Session;
use crate::vault::Vault;

/// How long the app waits for the browser before giving up and freeing the port.
pub const DEFAULT_FLOW_TIMEOUT: Duration = Duration::from_secs(300);

/// What the wizard sends when the user presses Connect.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct ConnectRequest {
    pub broker: BrokerKind,
    pub environment: Environment,
    pub client_id: String,
    /// Crosses IPC once, from the page to the backend, and goes straight to the keyring.
    pub client_secret: String,
}

/// A connected profile as the UI sees it: no secret, the refresh token masked.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ProfileView {
    pub id: String,
    pub broker: BrokerKind,
    pub environment: Environment,
    pub client_id: String,
    pub label: String,
    pub refresh_token_masked: String,
}

/// The Demo broker's published credentials, shown in the wizard for pasting.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DemoInfo {
    pub client_id: String,
    pub client_secret: String,
}

/// Where the Demo broker is: started inside the app on first use, or one already running
/// (tests, or `keygrant demo-broker` in another terminal).
pub enum DemoSource {
    Embedded,
    At(Url),
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppState {
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileView>,
    pub demo: DemoInfo,
}

pub struct Core {
    http: reqwest::Client,
    vault: Vault,
    profiles: ProfileStore,
    demo_source: DemoSource,
    /// The Demo broker's base URL, and the server itself when it runs inside the app.
    demo: OnceCell<(Url, Option<DemoBroker>)>,
    flow_timeout: Duration,
    flow: Mutex<Option<watch::Sender<bool>>>,
    session: RwLock<Option<Arc<Session>>>,
}

/// Trims and checks what the user pasted; errors name the field.
pub fn validate(req: &ConnectRequest) -> Result<(String, Secret)> {
    let client_id = req.client_id.trim();
    let secret = req.client_secret.trim();
    let bad = |field: &str, msg: &str| Err(AppError::new(ErrorKind::InvalidInput, msg).on_field(field));
    if client_id.is_empty() {
        return bad("client_id", "Paste the client ID of your OAuth application.");
    }
    if client_id.chars().any(char::is_whitespace) {
        return bad("client_id", "The client ID contains spaces or line breaks. Copy it again as one piece.");
    }
    if client_id.len() > 200 || !client_id.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return bad("client_id", "That does not look like a client ID: it should be letters, digits and dashes only.");
    }
    if secret.is_empty() {
        return bad("client_secret", "Paste the client secret of your OAuth application.");
    }
    if secret.chars().any(char::is_whitespace) {
        return bad("client_secret", "The client secret contains spaces or line breaks. Copy it again as one piece.");
    }
    if !secret.chars().all(|c| c.is_ascii_graphic()) {
        return bad("client_secret", "The client secret contains characters a secret never has. Copy it again from your OAuth application's page.");
    }
    if secret.len() < 8 {
        return bad("client_secret", "That client secret is too short. Copy the whole secret from your OAuth application's page.");
    }
    Ok((client_id.to_string(), Secret::new(secret)))
}

/// Clears the in-progress flow marker however the flow ends.
struct FlowGuard<'a>(&'a Mutex<Option<watch::Sender<bool>>>);

impl Drop for FlowGuard<'_> {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

impl Core {
    pub fn new(config_dir: &Path, vault: Vault, demo_source: DemoSource, flow_timeout: Duration) -> Self {
        Core {
            http: brokers::http_client(),
            vault,
            profiles: ProfileStore::new(config_dir),
            demo_source,
            demo: OnceCell::new(),
            flow_timeout,
            flow: Mutex::new(None),
            session: RwLock::new(None),
        }
    }

    /// The Demo broker's base URL, starting it on 127.0.0.1 the first time it is needed.
    async fn demo_base(&self) -> Result<Url> {
        let (url, _) = self
            .demo
            .get_or_try_init(|| async {
                match &self.demo_source {
                    DemoSource::At(url) => Ok((url.clone(), None)),
                    DemoSource::Embedded => {
                        let broker = DemoBroker::start(0)
                            .await
                            .map_err(|e| AppError::internal(format!("Could not start the Demo broker on 127.0.0.1: {e}")))?;
                        tracing::info!(addr = %broker.addr(), "Demo broker started");
                        Ok((broker.base_url(), Some(broker)))
                    }
                }
            })
            .await?;
        Ok(url.clone())
    }

    async fn endpoints(&self, broker: BrokerKind, _env: Environment) -> Result<Endpoints> {
        match broker {
            BrokerKind::Demo => Ok(Endpoints::demo(&self.demo_base().await?)),
            other => Err(AppError::new(
                ErrorKind::InvalidInput,
                format!("{} is coming soon. Try the Demo broker for now.", other.display_name()),
            )
            .on_field("broker")),
        }
    }

    fn view(&self, profile: &Profile) -> Result<ProfileView> {
        let rt = self.vault.refresh_token(&profile.id)?;
        Ok(ProfileView {
            id: profile.id.clone(),
            broker: profile.broker,
            environment: profile.environment,
            client_id: profile.client_id.clone(),
            label: profile.label.clone(),
            refresh_token_masked: rt.masked(),
        })
    }

    pub fn state(&self) -> Result<AppState> {
        let profile = match self.profiles.load()?.first() {
            Some(p) => Some(self.view(p)?),
            None => None,
        };
        Ok(AppState {
            profile,
            demo: DemoInfo {
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: DEMO_CLIENT_SECRET.into(),
            },
        })
    }

    /// The wizard's Connect: validate, run the browser flow, store the secrets in the keyring
    /// and the profile on disk. Nothing is stored unless every step succeeds.
    pub async fn connect(&self, req: ConnectRequest, open_browser: impl FnOnce(&Url) -> Result<()>) -> Result<ProfileView> {
        let (client_id, client_secret) = validate(&req)?;
        let endpoints = self.endpoints(req.broker, req.environment).await?;
        let cancel = {
            let mut flow = self.flow.lock().unwrap_or_else(|p| p.into_inner());
            if flow.is_some() {
                return Err(AppError::new(ErrorKind::Busy, "A sign-in is already waiting for the browser. Finish or cancel it first."));
            }
            let (tx, rx) = watch::channel(false);
            *flow = Some(tx);
            rx
        };
        let _guard = FlowGuard(&self.flow);
        let scopes = endpoints.default_scopes.clone();
        let tokens = oauth::authorize(
            &self.http,
            AuthRequest {
                client_id: &client_id,
                client_secret: &client_secret,
                endpoints: &endpoints,
                scopes: &scopes,
                redirect_port: 0,
                redirect_path: "/callback",
            },
            open_browser,
            self.flow_timeout,
            cancel,
        )
        .await?;
        let refresh_token = tokens.refresh_token.clone().ok_or_else(|| {
            AppError::new(
                ErrorKind::Broker,
                "The broker returned no refresh token. Make sure your OAuth application allows refresh tokens (for TradeStation, the offline_access scope), then connect again. Nothing was saved.",
            )
        })?;
        let profile = Profile {
            id: uuid::Uuid::new_v4().to_string(),
            broker: req.broker,
            environment: req.environment,
            client_id,
            scopes,
            label: req.broker.display_name().to_string(),
        };
        self.vault.save_profile(&profile.id, &client_secret, &refresh_token)?;
        let mut all = self.profiles.load()?;
        all.push(profile.clone());
        if let Err(e) = self.profiles.save(&all) {
            let _ = self.vault.delete_profile(&profile.id);
            return Err(e);
        }
        tracing::info!(profile = %profile.id, broker = ?profile.broker, "connected");
        let view = ProfileView {
            id: profile.id.clone(),
            broker: profile.broker,
            environment: profile.environment,
            client_id: profile.client_id.clone(),
            label: profile.label.clone(),
            refresh_token_masked: refresh_token.masked(),
        };
        let session = Session::new(profile, endpoints, self.vault.clone(), self.http.clone(), Some(&tokens));
        *self.session.write().await = Some(Arc::new(session));
        Ok(view)
    }

    /// Whether a sign-in is waiting for the browser.
    pub fn flow_in_progress(&self) -> bool {
        self.flow.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    /// Cancels the sign-in waiting for the browser, if any. Returns whether there was one.
    pub fn cancel_connect(&self) -> bool {
        match self.flow.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(tx) => tx.send(true).is_ok(),
            None => false,
        }
    }

    async fn session(&self) -> Result<Arc<Session>> {
        if let Some(s) = self.session.read().await.as_ref() {
            return Ok(s.clone());
        }
        let mut slot = self.session.write().await;
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let profile = self.profiles.load()?.into_iter().next().ok_or_else(|| {
            AppError::new(ErrorKind::NotConnected, "No broker is connected yet. Use the setup wizard to connect one.")
        })?;
        let endpoints = self.endpoints(profile.broker, profile.environment).await?;
        let s = Arc::new(Session::new(profile, endpoints, self.vault.clone(), self.http.clone(), None));
        *slot = Some(s.clone());
        Ok(s)
    }

    /// Starts getting an access token for a returning user while the window is created.
    pub async fn warm_up(&self) {
        if let Ok(s) = self.session().await {
            if let Err(e) = s.access_token().await {
                tracing::warn!(kind = ?e.kind, "warm-up refresh failed; the dashboard will show why");
            }
        }
    }

    pub async fn accounts(&self) -> Result<Vec<Account>> {
        self.session().await?.accounts().await
    }

    /// The refresh token in clear, for the user who pressed Reveal or Copy.
    pub async fn reveal_refresh_token(&self) -> Result<Secret> {
        let s = self.session().await?;
        self.vault.refresh_token(&s.profile.id)
    }

    /// Removes the profile and its keyring entries.
    pub async fn disconnect(&self) -> Result<()> {
        let mut slot = self.session.write().await;
        let mut all = self.profiles.load()?;
        let Some(profile) = all.first().cloned() else {
            *slot = None;
            return Ok(());
        };
        self.vault.delete_profile(&profile.id)?;
        all.retain(|p| p.id != profile.id);
        self.profiles.save(&all)?;
        *slot = None;
        tracing::info!(profile = %profile.id, "disconnected");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(id: &str, secret: &str) -> ConnectRequest {
        ConnectRequest { broker: BrokerKind::Demo, environment: Environment::Sandbox, client_id: id.into(), client_secret: secret.into() }
    }

    #[test]
    fn pasted_values_are_trimmed() {
        let (id, secret) = validate(&req("  abc-123\n", "\t s3cr3t-value-xyz  \n")).unwrap();
        assert_eq!(id, "abc-123");
        assert_eq!(secret.expose(), "s3cr3t-value-xyz");
    }

    #[test]
    fn empty_spaced_or_malformed_input_is_refused_on_its_field() {
        let cases = [
            (req("", "secret-123456"), "client_id", "Paste the client ID"),
            (req("abc 123", "secret-123456"), "client_id", "spaces"),
            (req("abc/123", "secret-123456"), "client_id", "letters, digits"),
            (req("abc", "   "), "client_secret", "Paste the client secret"),
            (req("abc", "secret with spaces"), "client_secret", "spaces"),
            (req("abc", "short"), "client_secret", "too short"),
            (req("abc", "sécret-123456"), "client_secret", "characters"),
        ];
        for (r, field, text) in cases {
            let e = validate(&r).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput);
            assert_eq!(e.field.as_deref(), Some(field), "{}", e.message);
            assert!(e.message.contains(text), "{} should contain {text}", e.message);
        }
    }
}
