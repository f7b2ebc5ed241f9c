//! The app's core, free of Tauri: what each UI action does. `commands.rs` is a thin layer over
//! this, and the tests drive it directly over real HTTP against the Demo broker.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{watch, OnceCell, RwLock};
use ts_rs::TS;
use url::Url;

use crate::brokers::custom::{self, CustomProvider};
use crate::brokers::portfolio::AccountDetail;
use crate::brokers::{self, Account, BrokerKind, Endpoints, Environment, ScopeInfo};
use crate::demo::{DemoBroker, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use crate::error::{AppError, ErrorKind, Result};
use crate::oauth::deeplink::DeepLinkSlot;
use crate::oauth::{self, AuthRequest, Redirect, TokenField};
use crate::profiles::{Profile, ProfileStore};
use crate::secret::Secret;
use crate::session::Session;
use crate::vault::Vault;

/// How long the app waits for the browser before giving up and freeing the port.
pub const DEFAULT_FLOW_TIMEOUT: Duration = Duration::from_secs(300);

/// What the wizard sends when the user presses Connect. `Debug` redacts the secret.
#[derive(Clone, Deserialize, TS)]
#[ts(export)]
pub struct ConnectRequest {
    pub broker: BrokerKind,
    pub environment: Environment,
    pub client_id: String,
    /// Crosses IPC once, from the page to the backend, and goes straight to the keyring.
    pub client_secret: String,
    /// The redirect URI registered with the OAuth application; the broker's usual one when
    /// absent. Not used with the Demo broker, which accepts any loopback port.
    #[ts(optional)]
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// The scopes to ask for; the broker's defaults when absent. Required ones are added.
    #[ts(optional)]
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// The provider, when `broker` is `custom`.
    #[ts(optional)]
    #[serde(default)]
    pub custom: Option<CustomProvider>,
}

/// A refresh token the user created on the broker's site ("Create Grant"), to verify and save.
/// `Debug` redacts the secret and the token.
#[derive(Clone, Deserialize, TS)]
#[ts(export)]
pub struct GrantRequest {
    pub broker: BrokerKind,
    pub environment: Environment,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// The provider, when `broker` is `custom`.
    #[ts(optional)]
    #[serde(default)]
    pub custom: Option<CustomProvider>,
}

impl std::fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectRequest")
            .field("broker", &self.broker)
            .field("environment", &self.environment)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("custom", &self.custom)
            .finish()
    }
}

impl std::fmt::Debug for GrantRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GrantRequest")
            .field("broker", &self.broker)
            .field("environment", &self.environment)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("refresh_token", &"<redacted>")
            .field("custom", &self.custom)
            .finish()
    }
}

/// A connected profile as the UI sees it: no secret, the refresh token masked.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ProfileView {
    pub id: String,
    pub broker: BrokerKind,
    pub environment: Environment,
    /// The environment as the broker names it ("Sandbox (cert)", "Simulated (sim)", ...).
    pub environment_label: String,
    pub client_id: String,
    pub label: String,
    pub scopes: Vec<String>,
    pub refresh_token_masked: String,
    /// False for a custom provider: Keygrant knows no account API there.
    pub has_dashboard: bool,
    /// The provider's description, for a custom provider.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomProvider>,
    /// Token health: when the current access token was obtained and when it expires (Unix
    /// seconds); absent until the first refresh of this run.
    #[ts(optional, type = "number")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_obtained_at: Option<u64>,
    #[ts(optional, type = "number")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_expires_at: Option<u64>,
    /// The last token response's fields, tokens masked.
    pub token_fields: Vec<TokenField>,
    /// The broker rotated the refresh token and the keyring refused the new one: Keygrant
    /// keeps it in memory and retries; the user should unlock the keyring.
    pub refresh_token_unsaved: bool,
}

/// Every account with its balances and positions.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Dashboard {
    pub accounts: Vec<Account>,
    /// In the order of `accounts`.
    pub details: Vec<AccountDetail>,
}

/// The Demo broker's published credentials, shown in the wizard for pasting.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DemoInfo {
    pub client_id: String,
    pub client_secret: String,
}

/// An environment as the broker names it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct EnvironmentInfo {
    pub environment: Environment,
    pub label: String,
}

/// What the wizard offers for one broker.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct BrokerInfo {
    pub broker: BrokerKind,
    pub name: String,
    /// Production first, then the broker's test environment.
    pub environments: Vec<EnvironmentInfo>,
    pub default_redirect_uri: String,
    pub scopes: Vec<ScopeInfo>,
    /// Where the user creates an OAuth application and registers redirect URIs.
    pub app_settings_url: String,
}

/// The product as the About box shows it; the same values as Cargo.toml, package.json and
/// tauri.conf.json (tests/config.rs checks).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct About {
    pub name: String,
    pub version: String,
    pub identifier: String,
    pub license: String,
    pub description: String,
}

pub const PRODUCT_NAME: &str = "Keygrant";
pub const IDENTIFIER: &str = "app.keygrant.desktop";

pub fn about() -> About {
    About {
        name: PRODUCT_NAME.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        identifier: IDENTIFIER.into(),
        license: env!("CARGO_PKG_LICENSE").into(),
        description: env!("CARGO_PKG_DESCRIPTION").into(),
    }
}

/// The wizard cards whose choice is remembered.
pub const CHOICES: &[&str] = &["tastytrade", "trade_station", "custom", "demo"];

/// A connection in the profile switcher.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ProfileSummary {
    pub id: String,
    pub label: String,
    pub broker: BrokerKind,
    pub environment_label: String,
    /// The one the dashboard shows.
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppState {
    /// Every connection, in the order they were added.
    pub profiles: Vec<ProfileSummary>,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileView>,
    pub demo: DemoInfo,
    pub brokers: Vec<BrokerInfo>,
    /// The redirect URI that selects the deep-link path.
    pub deep_link_redirect: String,
    /// The wizard card chosen last time ("tastytrade", "trade_station", "custom", "demo").
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_choice: Option<String>,
    pub about: About,
    /// A message for the user that arrived before the window could hear it (a refused
    /// `keygrant://` link the app was started with). Given once.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// Where the Demo broker is: started inside the app on first use, or one already running
/// (tests, or `keygrant demo-broker` in another terminal).
pub enum DemoSource {
    Embedded,
    At(Url),
}

const TASTYTRADE_SANDBOX_APPS: &str =
    "https://cert-my.staging-tasty.works/app.html#/manage/api-access/oauth-applications";

fn app_settings_url(broker: BrokerKind) -> &'static str {
    match broker {
        BrokerKind::Tastytrade => {
            "https://my.tastytrade.com/app.html#/manage/api-access/oauth-applications"
        }
        BrokerKind::TradeStation => "https://api.tradestation.com/docs/",
        BrokerKind::Custom => "",
    }
}

fn where_to_register(broker: BrokerKind) -> &'static str {
    match broker {
        BrokerKind::Tastytrade => "my.tastytrade.com under Manage > My Profile > API > OAuth Applications (edit your application's Redirect URI)",
        BrokerKind::TradeStation => "your TradeStation API key's callback URLs (ask TradeStation API support to add it)",
        BrokerKind::Custom => "your OAuth application's redirect (callback) URIs at the provider",
    }
}

pub struct Core {
    http: reqwest::Client,
    vault: Vault,
    profiles: ProfileStore,
    demo_source: DemoSource,
    /// Test-only: a double of a broker's real environment at another base URL.
    overrides: HashMap<(BrokerKind, Environment), Url>,
    /// The Demo broker's base URL, and the server itself when it runs inside the app.
    demo: OnceCell<(Url, Option<DemoBroker>)>,
    flow_timeout: Duration,
    flow: Mutex<Option<watch::Sender<bool>>>,
    deep_links: DeepLinkSlot,
    notice: Mutex<Option<String>>,
    /// One session per profile used in this run, so switching keeps access tokens warm.
    sessions: RwLock<HashMap<String, Arc<Session>>>,
}

/// Trims and checks a pasted client ID and secret; errors name the field.
pub fn validate_client(client_id: &str, client_secret: &str) -> Result<(String, Secret)> {
    let client_id = unquote(client_id);
    let secret = unquote(client_secret);
    let bad =
        |field: &str, msg: &str| Err(AppError::new(ErrorKind::InvalidInput, msg).on_field(field));
    if client_id.is_empty() {
        return bad(
            "client_id",
            "Paste the client ID of your OAuth application.",
        );
    }
    if client_id.contains("://") || client_id.starts_with("www.") {
        return bad(
            "client_id",
            "That is a web address, not a client ID. Open your OAuth application's page and copy the value labelled Client ID.",
        );
    }
    if client_id == secret {
        return bad(
            "client_id",
            "The client ID and the client secret are the same value: the secret was probably pasted in both fields. Copy the Client ID into the first one.",
        );
    }
    if client_id.chars().any(char::is_whitespace) {
        return bad(
            "client_id",
            "The client ID contains spaces or line breaks. Copy it again as one piece.",
        );
    }
    if client_id.len() > 200
        || !client_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return bad(
            "client_id",
            "That does not look like a client ID: it should be letters, digits and dashes only.",
        );
    }
    if secret.is_empty() {
        return bad(
            "client_secret",
            "Paste the client secret of your OAuth application.",
        );
    }
    if secret.chars().any(char::is_whitespace) {
        return bad(
            "client_secret",
            "The client secret contains spaces or line breaks. Copy it again as one piece.",
        );
    }
    if !secret.chars().all(|c| c.is_ascii_graphic()) {
        return bad("client_secret", "The client secret contains characters a secret never has. Copy it again from your OAuth application's page.");
    }
    if secret.len() < 8 {
        return bad("client_secret", "That client secret is too short. Copy the whole secret from your OAuth application's page.");
    }
    Ok((client_id.to_string(), Secret::new(secret)))
}

/// A pasted value without the whitespace around it and without one pair of matching quotes
/// around it (as copied from JSON or a .env file).
fn unquote(s: &str) -> &str {
    let t = s.trim();
    for q in ['"', '\'', '`'] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return t[1..t.len() - 1].trim();
        }
    }
    t
}

/// Checks a pasted refresh token the same way.
pub fn validate_refresh_token(token: &str) -> Result<Secret> {
    let t = unquote(token);
    let bad =
        |msg: &str| Err(AppError::new(ErrorKind::InvalidInput, msg).on_field("refresh_token"));
    if t.is_empty() {
        return bad("Paste the refresh token from your broker's \"Create Grant\" page.");
    }
    if t.chars().any(char::is_whitespace) {
        return bad(
            "The refresh token contains spaces or line breaks. Copy it again as one piece.",
        );
    }
    if !t.chars().all(|c| c.is_ascii_graphic()) || t.len() < 16 {
        return bad("That does not look like a refresh token. Copy the whole token from your broker's page.");
    }
    Ok(Secret::new(t))
}

/// The scopes to ask for: the user's choice with the broker's required ones added, in the
/// broker's order; the defaults when nothing was chosen. Unknown names are refused.
pub fn resolve_scopes(broker: BrokerKind, chosen: Option<&[String]>) -> Result<Vec<String>> {
    if broker == BrokerKind::Custom {
        return custom::parse_scopes(chosen.unwrap_or_default());
    }
    let all = brokers::scopes(broker);
    let Some(chosen) = chosen.filter(|c| !c.is_empty()) else {
        return Ok(brokers::default_scopes(broker));
    };
    if let Some(unknown) = chosen.iter().find(|c| !all.iter().any(|s| &s.name == *c)) {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            format!(
                "{} has no scope named \"{unknown}\".",
                broker.display_name()
            ),
        )
        .on_field("scopes"));
    }
    Ok(all
        .into_iter()
        .filter(|s| s.required || chosen.contains(&s.name))
        .map(|s| s.name)
        .collect())
}

/// Clears the in-progress flow marker however the flow ends.
struct FlowGuard<'a>(&'a Mutex<Option<watch::Sender<bool>>>);

impl Drop for FlowGuard<'_> {
    fn drop(&mut self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

fn unix(t: std::time::SystemTime) -> Option<u64> {
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

fn view_of(
    profile: &Profile,
    refresh_token: &Secret,
    status: crate::session::TokenStatus,
) -> ProfileView {
    ProfileView {
        id: profile.id.clone(),
        broker: profile.broker,
        environment: profile.environment,
        environment_label: profile.broker.env_name(profile.environment).into(),
        client_id: profile.client_id.clone(),
        label: profile.label.clone(),
        scopes: profile.scopes.clone(),
        refresh_token_masked: refresh_token.masked(),
        has_dashboard: profile.broker.has_dashboard(),
        custom: profile.custom.clone(),
        access_token_obtained_at: status.obtained.and_then(unix),
        access_token_expires_at: status.expires.and_then(unix),
        token_fields: status.fields,
        refresh_token_unsaved: status.unsaved_refresh_token,
    }
}

/// The endpoints a custom provider's description gives, or an error on the wizard's field.
fn custom_endpoints(custom: Option<&CustomProvider>) -> Result<Endpoints> {
    custom
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::InvalidInput,
                "Describe the provider: its authorize URL and token URL.",
            )
            .on_field("authorize_url")
        })?
        .endpoints()
}

impl Core {
    pub fn new(
        config_dir: &Path,
        vault: Vault,
        demo_source: DemoSource,
        flow_timeout: Duration,
    ) -> Self {
        Core {
            http: brokers::http_client(),
            vault,
            profiles: ProfileStore::new(config_dir),
            demo_source,
            overrides: HashMap::new(),
            demo: OnceCell::new(),
            flow_timeout,
            flow: Mutex::new(None),
            deep_links: DeepLinkSlot::default(),
            notice: Mutex::new(None),
            sessions: RwLock::new(HashMap::new()),
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
                        let broker = DemoBroker::start(0).await.map_err(|e| {
                            AppError::internal(format!(
                                "Could not start the Demo broker on 127.0.0.1: {e}"
                            ))
                        })?;
                        tracing::info!(addr = %broker.addr(), "Demo broker started");
                        Ok((broker.base_url(), Some(broker)))
                    }
                }
            })
            .await?;
        Ok(url.clone())
    }

    /// Tests: a different HTTP client (a short timeout, to test stalls without waiting 30 s).
    pub fn with_http_client(mut self, http: reqwest::Client) -> Self {
        self.http = http;
        self
    }

    /// Test-only: serve `broker`'s `env` from a double at `base` (the real settings, other URLs).
    pub fn with_override(mut self, broker: BrokerKind, env: Environment, base: Url) -> Self {
        self.overrides.insert((broker, env), base);
        self
    }

    async fn endpoints(&self, broker: BrokerKind, env: Environment) -> Result<Endpoints> {
        if let Some(base) = self.overrides.get(&(broker, env)) {
            let real = Endpoints::real(broker, env)
                .map(|r| r.use_pkce)
                .unwrap_or(true);
            return Ok(Endpoints {
                use_pkce: real,
                ..Endpoints::at(broker, base)
            });
        }
        match Endpoints::real(broker, env) {
            Some(e) => Ok(e),
            None => Ok(Endpoints::at(broker, &self.demo_base().await?)),
        }
    }

    /// What a Connect or a pasted grant talks to: a custom provider's trimmed description (in
    /// its one "environment"), or a broker's environment.
    async fn target(
        &self,
        broker: BrokerKind,
        environment: Environment,
        custom: Option<&CustomProvider>,
    ) -> Result<(Option<CustomProvider>, Environment, Endpoints)> {
        if broker == BrokerKind::Custom {
            let custom = custom.map(CustomProvider::normalized);
            let endpoints = custom_endpoints(custom.as_ref())?;
            return Ok((custom, Environment::Production, endpoints));
        }
        Ok((
            None,
            environment,
            self.endpoints(broker, environment).await?,
        ))
    }

    /// The endpoints a saved profile talks to.
    async fn profile_endpoints(&self, profile: &Profile) -> Result<Endpoints> {
        match profile.broker {
            BrokerKind::Custom => custom_endpoints(profile.custom.as_ref()),
            b => self.endpoints(b, profile.environment).await,
        }
    }

    async fn view(&self, profile: &Profile) -> Result<ProfileView> {
        let session = self.sessions.read().await.get(&profile.id).cloned();
        let (rt, status) = match &session {
            Some(s) => (s.newest_refresh_token()?, s.status()),
            None => (self.vault.refresh_token(&profile.id)?, Default::default()),
        };
        Ok(view_of(profile, &rt, status))
    }

    pub async fn state(&self) -> Result<AppState> {
        let current = self.profiles.current()?;
        let profile = match &current {
            Some(p) => Some(self.view(p).await?),
            None => None,
        };
        let profiles = self
            .profiles
            .load()?
            .into_iter()
            .map(|p| ProfileSummary {
                active: current.as_ref().is_some_and(|c| c.id == p.id),
                environment_label: p.broker.env_name(p.environment).into(),
                id: p.id,
                label: p.label,
                broker: p.broker,
            })
            .collect();
        Ok(AppState {
            profile,
            profiles,
            demo: DemoInfo {
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: DEMO_CLIENT_SECRET.into(),
            },
            brokers: [BrokerKind::Tastytrade, BrokerKind::TradeStation]
                .into_iter()
                .map(|b| BrokerInfo {
                    broker: b,
                    name: b.display_name().into(),
                    environments: [Environment::Production, Environment::Sandbox]
                        .into_iter()
                        .map(|e| EnvironmentInfo {
                            environment: e,
                            label: b.env_name(e).into(),
                        })
                        .collect(),
                    default_redirect_uri: b.default_redirect_uri().into(),
                    scopes: brokers::scopes(b),
                    app_settings_url: app_settings_url(b).into(),
                })
                .collect(),
            deep_link_redirect: oauth::deeplink::DEEP_LINK_REDIRECT.into(),
            last_choice: self.profiles.last_choice()?,
            about: about(),
            notice: self.notice.lock().unwrap_or_else(|p| p.into_inner()).take(),
        })
    }

    /// The wizard's Connect: validate, run the browser flow, store the secrets in the keyring
    /// and the profile on disk. Nothing is stored unless every step succeeds.
    pub async fn connect(
        &self,
        req: ConnectRequest,
        open_browser: impl FnOnce(&Url) -> Result<()>,
    ) -> Result<ProfileView> {
        let (client_id, client_secret) = validate_client(&req.client_id, &req.client_secret)?;
        let (custom, environment, endpoints) = self
            .target(req.broker, req.environment, req.custom.as_ref())
            .await?;
        let scopes = resolve_scopes(req.broker, req.scopes.as_deref())?;
        self.vault.ensure_available()?;
        let redirect = match (
            req.broker,
            environment,
            req.redirect_uri.as_deref().map(str::trim),
        ) {
            (_, Environment::Demo, Some(oauth::deeplink::DEEP_LINK_REDIRECT)) => Redirect::DeepLink,
            (_, Environment::Demo, _) | (BrokerKind::Custom, _, None | Some("")) => {
                Redirect::AnyLoopbackPort {
                    path: "/callback".into(),
                }
            }
            (_, _, uri) => Redirect::registered(uri.unwrap_or(req.broker.default_redirect_uri()))?,
        };
        let cancel = {
            let mut flow = self.flow.lock().unwrap_or_else(|p| p.into_inner());
            if flow.is_some() {
                return Err(AppError::new(
                    ErrorKind::Busy,
                    "A sign-in is already waiting for the browser. Finish or cancel it first.",
                ));
            }
            let (tx, rx) = watch::channel(false);
            *flow = Some(tx);
            rx
        };
        let _guard = FlowGuard(&self.flow);
        let tokens = oauth::authorize(
            &self.http,
            AuthRequest {
                client_id: &client_id,
                client_secret: &client_secret,
                endpoints: &endpoints,
                scopes: &scopes,
                redirect: &redirect,
                deep_links: &self.deep_links,
            },
            open_browser,
            self.flow_timeout,
            cancel,
        )
        .await
        .map_err(|e| match (&redirect, e.kind) {
            (Redirect::Registered { uri, .. }, ErrorKind::InvalidGrant) => AppError {
                message: format!(
                    "{} Keygrant sent the redirect URI {uri}; it must be registered exactly like that in {}.",
                    e.message,
                    where_to_register(req.broker)
                ),
                ..e
            },
            _ => e,
        })?;
        let refresh_token = tokens.refresh_token.clone().ok_or_else(|| {
            AppError::new(
                ErrorKind::Broker,
                match req.broker {
                    BrokerKind::TradeStation => "TradeStation returned no refresh token: the offline_access scope was not granted. Make sure your API key allows it, then connect again. Nothing was saved.",
                    BrokerKind::Tastytrade => "Tastytrade returned no refresh token. Check your OAuth application's settings, then connect again. Nothing was saved.",
                    BrokerKind::Custom => "The provider returned no refresh token. Many providers issue one only when asked: add a scope such as offline_access or an extra parameter such as access_type=offline (see the provider's documentation), then connect again. Nothing was saved.",
                },
            )
        })?;
        let redirect_uri = match &redirect {
            Redirect::Registered { uri, .. } => Some(uri.clone()),
            Redirect::DeepLink => Some(oauth::deeplink::DEEP_LINK_REDIRECT.to_string()),
            Redirect::AnyLoopbackPort { .. } => None,
        };
        let profile = self.new_profile(
            req.broker,
            environment,
            client_id,
            scopes,
            redirect_uri,
            custom,
        );
        self.save_new_profile(profile, &client_secret, &refresh_token, endpoints, &tokens)
            .await
    }

    /// The personal-grant path: verify a pasted refresh token with one refresh, then save it.
    /// A token refused here but accepted by the broker's other environment is reported as
    /// belonging there, and nothing is saved.
    pub async fn connect_with_grant(&self, req: GrantRequest) -> Result<ProfileView> {
        let (client_id, client_secret) = validate_client(&req.client_id, &req.client_secret)?;
        let refresh_token = validate_refresh_token(&req.refresh_token)?;
        self.vault.ensure_available()?;
        let (custom, environment, endpoints) = self
            .target(req.broker, req.environment, req.custom.as_ref())
            .await?;
        let tokens = match oauth::refresh(
            &self.http,
            &client_id,
            &client_secret,
            &endpoints,
            &refresh_token,
        )
        .await
        {
            Ok(t) => t,
            Err(e) if matches!(e.kind, ErrorKind::InvalidGrant | ErrorKind::InvalidClient) => {
                return Err(self
                    .explain_refused_grant(&req, &client_id, &client_secret, &refresh_token, e)
                    .await);
            }
            Err(e) => return Err(e),
        };
        // With rotation the verifying refresh already replaced the pasted token.
        let keep = tokens.refresh_token.clone().unwrap_or(refresh_token);
        let scopes = brokers::default_scopes(req.broker);
        let profile = self.new_profile(req.broker, environment, client_id, scopes, None, custom);
        self.save_new_profile(profile, &client_secret, &keep, endpoints, &tokens)
            .await
    }

    async fn explain_refused_grant(
        &self,
        req: &GrantRequest,
        client_id: &str,
        secret: &Secret,
        token: &Secret,
        err: AppError,
    ) -> AppError {
        let Some(other) = req.environment.other() else {
            return err;
        };
        // TradeStation's live and sim share one sign-in, so only Tastytrade can mismatch.
        if req.broker != BrokerKind::Tastytrade {
            return err;
        }
        let Ok(other_endpoints) = self.endpoints(req.broker, other).await else {
            return err;
        };
        match oauth::refresh(&self.http, client_id, secret, &other_endpoints, token).await {
            Ok(_) => AppError::new(
                ErrorKind::WrongEnvironment,
                format!(
                    "These credentials belong to {} {}, not {}. Switch the environment to {} and connect again. Nothing was saved.",
                    req.broker.display_name(),
                    req.broker.env_name(other),
                    req.broker.env_name(req.environment),
                    req.broker.env_name(other)
                ),
            )
            .on_field("environment"),
            Err(_) => AppError {
                message: format!(
                    "{} The refresh token was checked against {} and was not accepted there either: it may be \
                     mistyped, or the grant was deleted. Create a new grant and paste it here.",
                    err.message,
                    req.broker.env_name(other)
                ),
                ..err
            },
        }
    }

    fn new_profile(
        &self,
        broker: BrokerKind,
        environment: Environment,
        client_id: String,
        scopes: Vec<String>,
        redirect_uri: Option<String>,
        custom: Option<CustomProvider>,
    ) -> Profile {
        let label = match &custom {
            Some(c) => format!("Custom · {}", c.host()),
            None => format!(
                "{} · {}",
                broker.display_name(),
                broker.env_name(environment)
            ),
        };
        Profile {
            id: uuid::Uuid::new_v4().to_string(),
            broker,
            environment,
            client_id,
            scopes,
            label,
            redirect_uri,
            custom,
        }
    }

    async fn save_new_profile(
        &self,
        profile: Profile,
        client_secret: &Secret,
        refresh_token: &Secret,
        endpoints: Endpoints,
        tokens: &oauth::TokenSet,
    ) -> Result<ProfileView> {
        self.vault
            .save_profile(&profile.id, client_secret, refresh_token)?;
        let saved = self.profiles.load().and_then(|mut all| {
            all.push(profile.clone());
            self.profiles.save(&all)?;
            self.profiles.set_active(&profile.id)
        });
        if let Err(e) = saved {
            let _ = self.vault.delete_profile(&profile.id);
            return Err(e);
        }
        tracing::info!(profile = %profile.id, broker = ?profile.broker, env = ?profile.environment, "connected");
        let session = Session::new(
            profile.clone(),
            endpoints,
            self.vault.clone(),
            self.http.clone(),
            Some(tokens),
        );
        let view = view_of(&profile, refresh_token, session.status());
        self.sessions
            .write()
            .await
            .insert(profile.id.clone(), Arc::new(session));
        Ok(view)
    }

    /// A `keygrant://` link from the OS: handed to the sign-in waiting for it, or refused.
    /// A refused link's message is also kept for the next `state()`, so a link the app was
    /// started with is reported even though the window was not listening yet.
    pub fn deliver_deep_link(&self, url: &Url) -> Result<()> {
        self.deep_links.deliver(url).inspect_err(|e| {
            *self.notice.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.message.clone());
        })
    }

    /// Whether a sign-in is waiting for the browser.
    pub fn flow_in_progress(&self) -> bool {
        self.flow
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// Cancels the sign-in waiting for the browser, if any. Returns whether there was one.
    pub fn cancel_connect(&self) -> bool {
        match self.flow.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(tx) => tx.send(true).is_ok(),
            None => false,
        }
    }

    async fn session(&self) -> Result<Arc<Session>> {
        let profile = self.profiles.current()?.ok_or_else(|| {
            AppError::new(
                ErrorKind::NotConnected,
                "No broker is connected yet. Use the setup wizard to connect one.",
            )
        })?;
        if let Some(s) = self.sessions.read().await.get(&profile.id) {
            return Ok(s.clone());
        }
        let mut all = self.sessions.write().await;
        if let Some(s) = all.get(&profile.id) {
            return Ok(s.clone());
        }
        let endpoints = self.profile_endpoints(&profile).await?;
        let id = profile.id.clone();
        let s = Arc::new(Session::new(
            profile,
            endpoints,
            self.vault.clone(),
            self.http.clone(),
            None,
        ));
        all.insert(id, s.clone());
        Ok(s)
    }

    /// Remembers the wizard card the user picked, to offer it first next time.
    pub fn remember_choice(&self, choice: &str) -> Result<()> {
        if !CHOICES.contains(&choice) {
            return Err(AppError::new(
                ErrorKind::InvalidInput,
                format!("\"{choice}\" is not a broker choice."),
            ));
        }
        self.profiles.set_last_choice(choice)
    }

    /// Where the user creates an OAuth application for `broker` in `environment`: opened by
    /// the backend (the page cannot open URLs).
    pub fn app_settings_url(&self, broker: BrokerKind, environment: Environment) -> Result<Url> {
        let url = match (broker, environment) {
            (BrokerKind::Tastytrade, Environment::Sandbox) => TASTYTRADE_SANDBOX_APPS,
            (BrokerKind::Custom, _) => {
                return Err(AppError::new(
                    ErrorKind::InvalidInput,
                    "A custom provider's settings page is the provider's own.",
                ))
            }
            (b, _) => app_settings_url(b),
        };
        Url::parse(url).map_err(|e| AppError::internal(e.to_string()))
    }

    /// Shows profile `id` on the dashboard from now on (and on the next launch).
    pub async fn select_profile(&self, id: &str) -> Result<ProfileView> {
        self.profiles.set_active(id)?;
        let s = self.session().await?;
        self.view(&s.profile).await
    }

    /// Renames profile `id`; the name is trimmed and must not be empty.
    pub async fn rename_profile(&self, id: &str, label: &str) -> Result<()> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 60 || label.chars().any(char::is_control) {
            return Err(AppError::new(
                ErrorKind::InvalidInput,
                "Give the connection a name of 1 to 60 characters.",
            )
            .on_field("label"));
        }
        let mut all = self.profiles.load()?;
        let p = all.iter_mut().find(|p| p.id == id).ok_or_else(|| {
            AppError::new(ErrorKind::InvalidInput, "That connection no longer exists.")
        })?;
        p.label = label.to_string();
        self.profiles.save(&all)?;
        if let Some(s) = self.sessions.write().await.remove(id) {
            // The next call builds a session with the new label; the access token is re-fetched.
            drop(s);
        }
        Ok(())
    }

    /// Refreshes the shown profile's access token in the background when it expires within
    /// `within`. Returns whether it refreshed.
    pub async fn refresh_expiring(&self, within: Duration) -> Result<bool> {
        let Some(profile) = self.profiles.current()? else {
            return Ok(false);
        };
        let session = self.sessions.read().await.get(&profile.id).cloned();
        match session {
            Some(s) => {
                s.save_pending();
                s.refresh_if_expiring(within).await
            }
            None => Ok(false),
        }
    }

    /// Starts getting an access token for a returning user while the window is created.
    pub async fn warm_up(&self) {
        if let Ok(s) = self.session().await {
            if let Err(e) = s.access_token().await {
                tracing::warn!(kind = ?e.kind, "warm-up refresh failed; the dashboard will show why");
            }
        }
    }

    /// Gets a new access token now and returns the profile with its token health and the new
    /// token response (the custom provider's "Refresh now"; also proves the grant still works).
    pub async fn refresh_now(&self) -> Result<ProfileView> {
        let s = self.session().await?;
        s.refresh_now().await?;
        self.view(&s.profile).await
    }

    pub async fn accounts(&self) -> Result<Vec<Account>> {
        self.session().await?.accounts().await
    }

    /// One account's balances and positions (its failure is inside the result).
    pub async fn account_detail(&self, number: &str) -> Result<AccountDetail> {
        Ok(self.session().await?.account_detail(number).await)
    }

    /// The whole dashboard: the account list, then every account's balances and positions
    /// at once (bounded by the session), so N accounts cost about two round trips.
    pub async fn dashboard(&self) -> Result<Dashboard> {
        let session = self.session().await?;
        let accounts = session.accounts().await?;
        let details =
            futures::future::join_all(accounts.iter().map(|a| session.account_detail(&a.number)))
                .await;
        Ok(Dashboard { accounts, details })
    }

    /// The hand-off snippets for the profile shown, with placeholders where secrets go.
    pub async fn snippets(&self) -> Result<Vec<crate::handoff::Snippet>> {
        let s = self.session().await?;
        let p = &s.profile;
        Ok(crate::handoff::snippets(
            p,
            p.broker.env_name(p.environment),
            s.endpoints(),
            None,
        ))
    }

    /// One snippet with the client secret and refresh token filled in, for the clipboard.
    pub async fn filled_snippet(&self, kind: crate::handoff::SnippetKind) -> Result<Secret> {
        let s = self.session().await?;
        let p = &s.profile;
        let client_secret = self.vault.client_secret(&p.id)?;
        let refresh_token = s.newest_refresh_token()?;
        let filled = crate::handoff::Filled {
            client_secret: &client_secret,
            refresh_token: &refresh_token,
        };
        crate::handoff::snippets(
            p,
            p.broker.env_name(p.environment),
            s.endpoints(),
            Some(&filled),
        )
        .into_iter()
        .find(|x| x.kind == kind)
        .map(|x| Secret::new(x.text))
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::InvalidInput,
                "There is no such snippet for this connection.",
            )
        })
    }

    /// The refresh token in clear, for the user who pressed Reveal or Copy.
    pub async fn reveal_refresh_token(&self) -> Result<Secret> {
        let s = self.session().await?;
        s.newest_refresh_token()
    }

    /// Removes the profile shown (its keyring entries, then the profile); another profile, if
    /// any, is shown next.
    pub async fn disconnect(&self) -> Result<()> {
        let mut sessions = self.sessions.write().await;
        let mut all = self.profiles.load()?;
        let Some(profile) = self.profiles.current()? else {
            return Ok(());
        };
        self.vault.delete_profile(&profile.id)?;
        all.retain(|p| p.id != profile.id);
        self.profiles.save(&all)?;
        sessions.remove(&profile.id);
        tracing::info!(profile = %profile.id, "disconnected");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_debug_output_never_shows_secrets() {
        let c = ConnectRequest {
            broker: BrokerKind::Tastytrade,
            environment: Environment::Sandbox,
            client_id: "cid".into(),
            client_secret: "the-client-secret-value".into(),
            redirect_uri: None,
            scopes: None,
            custom: None,
        };
        let g = GrantRequest {
            broker: BrokerKind::Tastytrade,
            environment: Environment::Sandbox,
            client_id: "cid".into(),
            client_secret: "the-client-secret-value".into(),
            refresh_token: "the-refresh-token-value".into(),
            custom: None,
        };
        let out = format!("{c:?} {g:?}");
        assert!(out.contains("cid"));
        assert!(
            !out.contains("the-client-secret-value") && !out.contains("the-refresh-token-value"),
            "{out}"
        );
    }

    #[test]
    fn quotes_urls_and_a_secret_in_the_id_field_are_handled() {
        let (id, secret) = validate_client(" \"abc-123\" ", "'s3cr3t-value-xyz'\n").unwrap();
        assert_eq!(
            (id.as_str(), secret.expose()),
            ("abc-123", "s3cr3t-value-xyz")
        );
        assert_eq!(
            validate_refresh_token("\"demo-rt-0123456789abcdef\"")
                .unwrap()
                .expose(),
            "demo-rt-0123456789abcdef"
        );
        let e =
            validate_client("https://my.tastytrade.com/app.html", "s3cr3t-value-xyz").unwrap_err();
        assert!(
            e.message.contains("web address") && e.field.as_deref() == Some("client_id"),
            "{}",
            e.message
        );
        let e = validate_client("s3cr3t-value-xyz", "s3cr3t-value-xyz").unwrap_err();
        assert!(
            e.message.contains("same value") && e.field.as_deref() == Some("client_id"),
            "{}",
            e.message
        );
        // A quote inside a value is not stripped: it is refused on its field.
        assert_eq!(
            validate_client("ab\"c", "s3cr3t-value-xyz")
                .unwrap_err()
                .field
                .as_deref(),
            Some("client_id")
        );
    }

    #[test]
    fn pasted_values_are_trimmed() {
        let (id, secret) = validate_client("  abc-123\n", "\t s3cr3t-value-xyz  \n").unwrap();
        assert_eq!(id, "abc-123");
        assert_eq!(secret.expose(), "s3cr3t-value-xyz");
        assert_eq!(
            validate_refresh_token(" demo-rt-0123456789abcdef \n")
                .unwrap()
                .expose(),
            "demo-rt-0123456789abcdef"
        );
    }

    #[test]
    fn empty_spaced_or_malformed_input_is_refused_on_its_field() {
        let cases = [
            (("", "secret-123456"), "client_id", "Paste the client ID"),
            (("abc 123", "secret-123456"), "client_id", "spaces"),
            (("abc/123", "secret-123456"), "client_id", "letters, digits"),
            (("abc", "   "), "client_secret", "Paste the client secret"),
            (("abc", "secret with spaces"), "client_secret", "spaces"),
            (("abc", "short"), "client_secret", "too short"),
            (("abc", "sécret-123456"), "client_secret", "characters"),
        ];
        for ((id, secret), field, text) in cases {
            let e = validate_client(id, secret).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput);
            assert_eq!(e.field.as_deref(), Some(field), "{}", e.message);
            assert!(
                e.message.contains(text),
                "{} should contain {text}",
                e.message
            );
        }
        for bad in ["", "has spaces in the token", "short"] {
            assert_eq!(
                validate_refresh_token(bad).unwrap_err().field.as_deref(),
                Some("refresh_token")
            );
        }
    }

    #[test]
    fn scopes_keep_the_required_ones_and_refuse_unknown_names() {
        let chosen = vec!["Trade".to_string()];
        let s = resolve_scopes(BrokerKind::TradeStation, Some(&chosen)).unwrap();
        assert_eq!(s, ["openid", "offline_access", "ReadAccount", "Trade"]);
        assert_eq!(
            resolve_scopes(BrokerKind::Tastytrade, None).unwrap(),
            ["read", "openid"]
        );
        let e = resolve_scopes(BrokerKind::Tastytrade, Some(&["admin".to_string()])).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("scopes"));
    }
}
