//! The app's core, free of Tauri: what each UI action does. `commands.rs` is a thin layer over
//! this, and the tests drive it directly over real HTTP against the Demo broker.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, OnceCell, RwLock};
use url::Url;

use crate::brokers::custom::CustomProvider;
use crate::brokers::portfolio::AccountDetail;
use crate::brokers::{self, Account, BrokerKind, Endpoints, Environment, Provider};
use crate::error::{AppError, ErrorKind, Result};
use crate::oauth::waiting::{SignInSlot, SignInWaiting};
use crate::oauth::{self, AuthRequest, Redirect};
use crate::profiles::{Profile, ProfileStore};
use crate::secret::{ClientSecret, Expose, RefreshToken, SecretText};
use crate::session::Session;
use crate::validate::{resolve_scopes, validate_client, validate_refresh_token};
use crate::vault::Vault;
use crate::views::*;
use keygrant_demo::{
    DemoBroker, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SCHWAB_APP_KEY, DEMO_SCHWAB_SECRET,
};

mod scripts;
pub use scripts::{Listing, TokenGrant};

/// How long the app waits for the browser before giving up and freeing the port.
pub const DEFAULT_FLOW_TIMEOUT: Duration = Duration::from_secs(300);

/// Where the Demo broker is: started inside the app on first use, or one already running
/// (tests, or `keygrant demo-broker` in another terminal).
pub enum DemoSource {
    /// The Demo broker this process serves on a free loopback port.
    Embedded,
    /// A Demo broker already listening at this base URL.
    At(Url),
}

impl DemoSource {
    /// The environment variable naming a Demo broker to use instead of the embedded one.
    pub const ENV: &'static str = "KEYGRANT_DEMO_BROKER";

    /// `KEYGRANT_DEMO_BROKER` when it names an `http://127.0.0.1:<port>/` (or `localhost`)
    /// address, such as the one `keygrant demo-broker --fault NAME` prints, so its faults can
    /// be watched in the window; else the embedded Demo broker. Any other address is ignored
    /// with a warning: the Demo broker is always on this computer.
    pub fn from_env() -> DemoSource {
        let Ok(value) = std::env::var(Self::ENV) else {
            return DemoSource::Embedded;
        };
        match Url::parse(value.trim()) {
            Ok(url)
                if url.scheme() == "http"
                    && matches!(url.host_str(), Some("127.0.0.1") | Some("localhost")) =>
            {
                tracing::info!(%url, "using the Demo broker at {}", Self::ENV);
                DemoSource::At(url)
            }
            _ => {
                tracing::warn!(
                    "{} is not an http://127.0.0.1:<port>/ address; using the embedded Demo broker",
                    Self::ENV
                );
                DemoSource::Embedded
            }
        }
    }
}

/// Keygrant's behaviour behind every front end: one per process, shared by the window's
/// commands and the command line. Holds the profile store, the vault, the HTTP client and the
/// in-memory sessions (access tokens never leave it). Every method returns [`AppError`] with a
/// message a person can act on.
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
    sign_in: SignInSlot,
    /// Undismissed notices, and the next notice's id.
    notices: Mutex<(Vec<Notice>, u32)>,
    about: About,
    /// One session per profile used in this run, so switching keeps access tokens warm and
    /// a rotated refresh token the keyring has not taken yet is never dropped.
    sessions: RwLock<HashMap<String, Arc<Session>>>,
    /// The shown profile's id once known, so a dashboard call does not re-read profiles.json.
    active: Mutex<Option<String>>,
    /// Where the doctor looks up the `keygrant://` handler.
    handler_lookup: crate::doctor::HandlerLookup,
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

fn not_connected_error() -> AppError {
    AppError::new(
        ErrorKind::NotConnected,
        "No broker is connected yet. Use the setup wizard to connect one.",
    )
}

/// The broker's own shape rules for a client ID and secret (Schwab's App Key and Secret), in
/// every environment: the Demo broker publishes credentials in each broker's shape.
fn check_broker_client(
    broker: BrokerKind,
    client_id: &str,
    client_secret: &ClientSecret,
) -> Result<()> {
    match broker.spec().check_client {
        Some(check) => check(client_id, client_secret.expose()),
        None => Ok(()),
    }
}

fn view_of(
    profile: &Profile,
    refresh_token: &RefreshToken,
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
        signed_in_at: profile.signed_in_at,
        sign_in_expires_at: crate::expiry::expires_at(profile),
        sign_in_lifetime_days: profile
            .broker
            .spec()
            .sign_in_lifetime
            .map(|l| (l.as_secs() / 86_400) as u32),
    }
}

impl Core {
    /// A core reading and writing `profiles.json` in `config_dir` and secrets in `vault`.
    /// Starts nothing: the Demo broker starts on first use. Errors: [`ErrorKind::Config`] when the
    /// HTTP client cannot be built.
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
            sign_in: SignInSlot::default(),
            notices: Mutex::new((Vec::new(), 1)),
            about: About::default(),
            sessions: RwLock::new(HashMap::new()),
            active: Mutex::new(None),
            handler_lookup: crate::doctor::HandlerLookup::from_env(),
        }
    }

    /// The folder of `profiles.json`, where the cross-process refresh locks live too.
    pub fn config_dir(&self) -> std::path::PathBuf {
        self.profiles
            .path()
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// Where the doctor looks up the `keygrant://` handler (tests: a fake `xdg-mime` and
    /// data folder); by default [`crate::doctor::HandlerLookup::from_env`].
    pub fn with_handler_lookup(mut self, lookup: crate::doctor::HandlerLookup) -> Self {
        self.handler_lookup = lookup;
        self
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
        match Provider::new(broker, custom)? {
            Provider::Custom(custom) => {
                let custom = custom.normalized();
                let endpoints = custom.endpoints()?;
                Ok((Some(custom), Environment::Production, endpoints))
            }
            Provider::Broker(b) => Ok((None, environment, self.endpoints(b, environment).await?)),
        }
    }

    /// The endpoints a saved profile talks to.
    async fn profile_endpoints(&self, profile: &Profile) -> Result<Endpoints> {
        match profile.provider()? {
            Provider::Custom(c) => c.endpoints(),
            Provider::Broker(b) => self.endpoints(b, profile.environment).await,
        }
    }

    /// The profile as the window shows it. A refresh token the keyring cannot give (deleted
    /// there, another keyring, locked) does not stop the window from drawing: the view is
    /// returned with an empty mask, and the dashboard's own calls report the problem next to
    /// Disconnect and Sign in again.
    async fn view(&self, profile: &Profile) -> Result<ProfileView> {
        let session = self.sessions.read().await.get(&profile.id).cloned();
        let (rt, status) = match &session {
            Some(s) => (s.newest_refresh_token(), s.status()),
            None => (self.vault.refresh_token(&profile.id), Default::default()),
        };
        let rt = rt.unwrap_or_else(|e| {
            tracing::warn!(profile = %profile.id, kind = ?e.kind, "the refresh token could not be read for the view");
            RefreshToken::new("")
        });
        Ok(view_of(profile, &rt, status))
    }

    /// Everything the window needs to draw itself: the connections, the shown one without its
    /// secrets, the Demo broker's credentials, the brokers offered, pending notices. Errors:
    /// [`ErrorKind::Config`] (unreadable profiles.json), [`ErrorKind::Keyring`].
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
                schwab_app_key: DEMO_SCHWAB_APP_KEY.into(),
                schwab_secret: DEMO_SCHWAB_SECRET.into(),
            },
            brokers: BrokerKind::known()
                .map(|b| BrokerInfo {
                    broker: b,
                    name: b.display_name().into(),
                    environments: [Environment::Production, Environment::Sandbox]
                        .into_iter()
                        .filter(|e| *e != Environment::Sandbox || b.spec().sandbox.is_some())
                        .map(|e| EnvironmentInfo {
                            environment: e,
                            label: b.env_name(e).into(),
                        })
                        .collect(),
                    default_redirect_uri: b.default_redirect_uri().into(),
                    scopes: brokers::scopes(b),
                    app_settings_url: b
                        .spec()
                        .app_settings_urls
                        .map(|(production, _)| production)
                        .unwrap_or_default()
                        .into(),
                })
                .collect(),
            deep_link_redirect: oauth::deeplink::DEEP_LINK_REDIRECT.into(),
            last_choice: self.profiles.last_choice()?,
            about: self.about.clone(),
            sign_in: self.sign_in.waiting(),
            notices: self
                .notices
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .0
                .clone(),
        })
    }

    /// The wizard's Connect: validate, run the browser flow, store the secrets in the keyring
    /// and the profile on disk. Nothing is stored unless every step succeeds.
    pub async fn connect(
        &self,
        req: ConnectRequest,
        open_browser: impl FnOnce(&Url) -> Result<()>,
    ) -> Result<ProfileView> {
        let (client_id, client_secret) = validate_client(
            &req.client_id,
            req.client_secret.expose(),
            &req.broker.spec().words,
        )?;
        let (custom, environment, endpoints) = self
            .target(req.broker, req.environment, req.custom.as_ref())
            .await?;
        check_broker_client(req.broker, &client_id, &client_secret)?;
        let scopes = resolve_scopes(req.broker, req.scopes.as_deref())?;
        self.vault.probe_write()?;
        let redirect = match (
            req.broker,
            environment,
            req.redirect_uri.as_deref().map(str::trim),
        ) {
            (_, Environment::Demo, Some(oauth::deeplink::DEEP_LINK_REDIRECT)) => Redirect::DeepLink,
            // The Demo broker takes any loopback port; over HTTPS where the broker's dialect
            // takes only HTTPS callbacks (Schwab's).
            (b, Environment::Demo, _) => Redirect::AnyLoopbackPort {
                tls: b.default_redirect_uri().starts_with("https://"),
                path: "/callback".into(),
            },
            // A provider with no usual redirect URI: any loopback port (RFC 8252 section 7.3).
            (b, _, None | Some("")) if b.default_redirect_uri().is_empty() => {
                Redirect::AnyLoopbackPort {
                    tls: false,
                    path: "/callback".into(),
                }
            }
            (b, _, uri) => {
                let uri = uri
                    .filter(|u| !u.is_empty())
                    .unwrap_or(b.default_redirect_uri());
                if let Some(check) = b.spec().check_redirect {
                    check(uri)?;
                }
                Redirect::registered(uri)?
            }
        };
        let tokens = self
            .browser_sign_in(
                req.broker,
                AuthRequest {
                    client_id: &client_id,
                    client_secret: &client_secret,
                    endpoints: &endpoints,
                    scopes: &scopes,
                    redirect: &redirect,
                    sign_in: &self.sign_in,
                },
                open_browser,
            )
            .await?;
        let refresh_token = tokens
            .refresh_token
            .clone()
            .ok_or_else(|| AppError::new(ErrorKind::Broker, req.broker.spec().no_refresh_token))?;
        let redirect_uri = match &redirect {
            Redirect::Registered { uri, .. } => Some(uri.clone()),
            Redirect::DeepLink => Some(oauth::deeplink::DEEP_LINK_REDIRECT.to_string()),
            Redirect::AnyLoopbackPort { .. } => None,
        };
        let mut profile = self.new_profile(
            req.broker,
            environment,
            client_id,
            scopes,
            redirect_uri,
            custom,
        );
        // The browser sign-in just happened: a grant that ends a fixed time after it (Schwab)
        // is counted from now.
        profile.signed_in_at = Some(crate::expiry::now_unix());
        self.save_new_profile(profile, &client_secret, &refresh_token, endpoints, &tokens)
            .await
    }

    /// The browser round trip of a sign-in ([`oauth::authorize`]) as the only one in
    /// progress: [`ErrorKind::Busy`] while another waits. A refused code with a registered
    /// redirect URI says where it must be registered.
    async fn browser_sign_in(
        &self,
        broker: BrokerKind,
        auth: AuthRequest<'_>,
        open_browser: impl FnOnce(&Url) -> Result<()>,
    ) -> Result<oauth::TokenSet> {
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
        let redirect = auth.redirect.clone();
        oauth::authorize(&self.http, auth, open_browser, self.flow_timeout, cancel)
            .await
            .map_err(|e| match (&redirect, e.kind) {
                (Redirect::Registered { uri, .. }, ErrorKind::InvalidGrant) => AppError {
                    message: format!(
                        "{} Keygrant sent the redirect URI {uri}; it must be registered exactly like that in {}.",
                        e.message,
                        broker.spec().where_to_register
                    ),
                    ..e
                },
                _ => e,
            })
    }

    /// "Sign in again": a new browser sign-in for the shown connection with its saved client
    /// ID, secret, scopes and redirect URI, replacing its refresh token in place. The
    /// connection keeps its id, name and settings; its sign-in time restarts (Schwab's 7
    /// days, docs/brokers.md#schwab-oauth). Nothing changes unless the sign-in succeeds.
    /// Errors: those of [`Core::connect`]'s browser round trip, [`ErrorKind::NotConnected`],
    /// [`ErrorKind::Keyring`].
    pub async fn sign_in_again(
        &self,
        open_browser: impl FnOnce(&Url) -> Result<()>,
    ) -> Result<ProfileView> {
        let profile = self.profiles.current()?.ok_or_else(not_connected_error)?;
        let client_secret = self.vault.client_secret(&profile.id)?;
        let endpoints = self.profile_endpoints(&profile).await?;
        self.vault.probe_write()?;
        let redirect = match (profile.environment, profile.redirect_uri.as_deref()) {
            (_, Some(oauth::deeplink::DEEP_LINK_REDIRECT)) => Redirect::DeepLink,
            (Environment::Demo, _) | (_, None) => Redirect::AnyLoopbackPort {
                tls: profile.environment == Environment::Demo
                    && profile
                        .broker
                        .default_redirect_uri()
                        .starts_with("https://"),
                path: "/callback".into(),
            },
            (_, Some(uri)) => Redirect::registered(uri)?,
        };
        let tokens = self
            .browser_sign_in(
                profile.broker,
                AuthRequest {
                    client_id: &profile.client_id,
                    client_secret: &client_secret,
                    endpoints: &endpoints,
                    scopes: &profile.scopes,
                    redirect: &redirect,
                    sign_in: &self.sign_in,
                },
                open_browser,
            )
            .await?;
        let refresh_token = tokens.refresh_token.clone().ok_or_else(|| {
            AppError::new(ErrorKind::Broker, profile.broker.spec().no_refresh_token)
        })?;
        self.vault.set_refresh_token(&profile.id, &refresh_token)?;
        // The old grant's access token is not handed to other processes any more.
        let _ = self.vault.delete_shared_access_token(&profile.id);
        let renewed = Profile {
            signed_in_at: Some(crate::expiry::now_unix()),
            ..profile
        };
        let all: Vec<Profile> = self
            .profiles
            .load()?
            .into_iter()
            .map(|p| {
                if p.id == renewed.id {
                    renewed.clone()
                } else {
                    p
                }
            })
            .collect();
        self.profiles.save(&all)?;
        let session = Session::new(
            renewed.clone(),
            endpoints,
            self.vault.clone(),
            self.http.clone(),
            Some(&tokens),
        )
        .with_lock_dir(self.config_dir());
        session.share_sign_in();
        let view = view_of(&renewed, &refresh_token, session.status());
        self.sessions
            .write()
            .await
            .insert(renewed.id.clone(), Arc::new(session));
        tracing::info!(profile = %renewed.id, "signed in again; the grant was renewed in place");
        Ok(view)
    }

    /// The personal-grant path: verify a pasted refresh token with one refresh, then save it.
    /// A token refused here but accepted by the broker's other environment is reported as
    /// belonging there, and nothing is saved.
    pub async fn connect_with_grant(&self, req: GrantRequest) -> Result<ProfileView> {
        let (client_id, client_secret) = validate_client(
            &req.client_id,
            req.client_secret.expose(),
            &req.broker.spec().words,
        )?;
        let refresh_token = validate_refresh_token(req.refresh_token.expose())?;
        self.vault.probe_write()?;
        let (custom, environment, endpoints) = self
            .target(req.broker, req.environment, req.custom.as_ref())
            .await?;
        check_broker_client(req.broker, &client_id, &client_secret)?;
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
        let rotated = tokens.refresh_token.is_some();
        self.save_new_profile_keeping(profile, &client_secret, &keep, endpoints, &tokens, rotated)
            .await
    }

    async fn explain_refused_grant(
        &self,
        req: &GrantRequest,
        client_id: &str,
        secret: &ClientSecret,
        token: &RefreshToken,
        err: AppError,
    ) -> AppError {
        let Some(other) = req.environment.other() else {
            return err;
        };
        // Where both environments share one sign-in, the other one cannot tell more.
        if !req.broker.spec().grants_differ_by_environment {
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
            signed_in_at: None,
        }
    }

    async fn save_new_profile(
        &self,
        profile: Profile,
        client_secret: &ClientSecret,
        refresh_token: &RefreshToken,
        endpoints: Endpoints,
        tokens: &oauth::TokenSet,
    ) -> Result<ProfileView> {
        self.save_new_profile_keeping(
            profile,
            client_secret,
            refresh_token,
            endpoints,
            tokens,
            false,
        )
        .await
    }

    /// Saves a new profile. With `rotated` (the broker just issued `refresh_token` and the
    /// one it replaces may be dead), a keyring that refuses the refresh token does not lose it:
    /// the profile is saved with its client secret and the token is kept in the session,
    /// shown as unsaved with "Retry save" ([`Core::retry_save_refresh_token`]).
    async fn save_new_profile_keeping(
        &self,
        profile: Profile,
        client_secret: &ClientSecret,
        refresh_token: &RefreshToken,
        endpoints: Endpoints,
        tokens: &oauth::TokenSet,
        rotated: bool,
    ) -> Result<ProfileView> {
        let mut unsaved = false;
        if let Err(e) = self
            .vault
            .save_profile(&profile.id, client_secret, refresh_token)
        {
            if !rotated || e.kind != ErrorKind::Keyring {
                return Err(e);
            }
            tracing::warn!(profile = %profile.id, "the keyring refused the rotated refresh token; kept in memory");
            self.vault.set_client_secret(&profile.id, client_secret)?;
            unsaved = true;
        }
        if let Err(e) = self.profiles.add(&profile) {
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
        )
        .with_lock_dir(self.config_dir());
        session.share_sign_in();
        if unsaved {
            session.keep_unsaved_refresh_token(refresh_token.clone());
        }
        let view = view_of(&profile, refresh_token, session.status());
        self.sessions
            .write()
            .await
            .insert(profile.id.clone(), Arc::new(session));
        *self.active.lock().unwrap_or_else(|p| p.into_inner()) = Some(profile.id.clone());
        Ok(view)
    }

    /// A `keygrant://` link from the OS: handed to the sign-in waiting for it, or refused.
    /// A refused link becomes a [`Notice`], returned for the front end to show now and kept
    /// in [`AppState::notices`] until dismissed, so a link the app was started with is
    /// reported even though the window was not listening yet.
    pub fn deliver_deep_link(&self, url: &Url) -> Option<Notice> {
        let e = oauth::deeplink::deliver(&self.sign_in, url).err()?;
        let mut notices = self.notices.lock().unwrap_or_else(|p| p.into_inner());
        let notice = Notice {
            id: notices.1,
            message: e.message,
        };
        notices.1 += 1;
        notices.0.push(notice.clone());
        Some(notice)
    }

    /// The sign-in waiting for the broker's answer, if any: its authorize address and
    /// whether a browser could be started with it.
    pub fn sign_in_waiting(&self) -> Option<SignInWaiting> {
        self.sign_in.waiting()
    }

    /// The address the user pasted from the browser after approving (the browser could not
    /// come back by itself): finishes the waiting sign-in as the loopback redirect would,
    /// with the same `state` check. Errors: [`ErrorKind::InvalidInput`] on field
    /// `pasted_address`, saying what to paste instead; the sign-in keeps waiting.
    pub fn finish_sign_in(&self, pasted_address: &str) -> Result<()> {
        self.sign_in.deliver_pasted(pasted_address)
    }

    /// Forgets notice `id` (the user dismissed it). Unknown ids are ignored.
    pub fn dismiss_notice(&self, id: u32) {
        let mut notices = self.notices.lock().unwrap_or_else(|p| p.into_inner());
        notices.0.retain(|n| n.id != id);
    }

    /// The About box's product facts, given by the app that embeds the core.
    pub fn with_about(mut self, about: About) -> Self {
        self.about = about;
        self
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

    /// The shown profile's session. After the first call it is found in memory: no read of
    /// profiles.json or the keyring per call.
    async fn session(&self) -> Result<Arc<Session>> {
        let known = self
            .active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(s) = known.and_then(|id| {
            self.sessions
                .try_read()
                .ok()
                .and_then(|all| all.get(&id).cloned())
        }) {
            return Ok(s);
        }
        let profile = self.profiles.current()?.ok_or_else(not_connected_error)?;
        *self.active.lock().unwrap_or_else(|p| p.into_inner()) = Some(profile.id.clone());
        self.session_for(profile).await
    }

    /// `profile`'s session, made on first use and kept for the run.
    async fn session_for(&self, profile: Profile) -> Result<Arc<Session>> {
        if let Some(s) = self.sessions.read().await.get(&profile.id) {
            return Ok(s.clone());
        }
        let mut all = self.sessions.write().await;
        if let Some(s) = all.get(&profile.id) {
            return Ok(s.clone());
        }
        let endpoints = self.profile_endpoints(&profile).await?;
        let id = profile.id.clone();
        let s = Arc::new(
            Session::new(
                profile,
                endpoints,
                self.vault.clone(),
                self.http.clone(),
                None,
            )
            .with_lock_dir(self.config_dir()),
        );
        all.insert(id, s.clone());
        Ok(s)
    }

    /// Runs the doctor's checks on connection `profile_id` (the shown one when `None`): the
    /// token endpoint over HTTPS with the clock skew, one refresh through the connection's
    /// session (single flight; a rotated refresh token is saved as on any refresh), the
    /// tokens' client and environment from their JWT claims, the scopes granted, the keyring,
    /// the `keygrant://` handler. See [`crate::doctor`]. The result holds no secret; a
    /// command line prints [`crate::doctor::Diagnosis::report`] and fails when
    /// [`crate::doctor::Diagnosis::failed`].
    ///
    /// Errors: only when there is nothing to check: [`ErrorKind::NotConnected`] (no
    /// connection, or none with that id), [`ErrorKind::Config`] (unreadable profiles.json).
    /// Every other problem is a check's verdict.
    pub async fn diagnose(&self, profile_id: Option<&str>) -> Result<crate::doctor::Diagnosis> {
        use crate::doctor;
        let profile = match profile_id {
            Some(id) => self.profiles.load()?.into_iter().find(|p| p.id == id),
            None => self.profiles.current()?,
        }
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::NotConnected,
                match profile_id {
                    Some(_) => "There is no saved connection with that id. Run the check on one listed in the window's connection switcher.",
                    None => "No broker is connected yet, so there is nothing to check. Use the setup wizard to connect one.",
                },
            )
        })?;
        let session = self.session_for(profile.clone()).await?;
        let broker = profile.broker;
        let env = profile.environment;
        tracing::info!(profile = %profile.id, "running the doctor's checks");
        let keyring = doctor::keyring_check(&self.vault, &profile.id);
        let endpoint = doctor::endpoint_check(&self.http, session.endpoints()).await;
        let before = session.newest_refresh_token().ok();
        let sent = before.is_some() && self.vault.client_secret(&profile.id).is_ok();
        let refreshed = session.refresh_now().await;
        let (secret, token) = doctor::refresh_checks(
            broker,
            env,
            &refreshed,
            session.has_unsaved_refresh_token(),
            sent,
        );
        let last = match refreshed {
            Ok(()) => session.last_token_response().await,
            Err(_) => None,
        }
        .unwrap_or_default();
        let after = session.newest_refresh_token().ok();
        let ownership = doctor::ownership_check(
            broker,
            env,
            &profile.client_id,
            after.as_ref().or(before.as_ref()).map(|t| t.expose()),
            last.id_token.as_ref().map(|t| t.expose()),
        );
        let scopes = doctor::scopes_check(
            broker,
            &profile.scopes,
            last.scope.as_deref(),
            refreshed.is_ok(),
        );
        let handler = doctor::handler_for_connection(
            doctor::handler_check(&self.handler_lookup).await,
            broker,
            profile.redirect_uri.as_deref(),
        );
        let mut secrets: Vec<String> = [before, after]
            .into_iter()
            .flatten()
            .map(|t| t.expose().to_string())
            .collect();
        secrets.extend(
            self.vault
                .client_secret(&profile.id)
                .ok()
                .map(|s| s.expose().to_string()),
        );
        secrets.extend(
            session
                .cached_access_token()
                .await
                .map(|t| t.expose().to_string()),
        );
        secrets.extend(last.id_token.map(|t| t.expose().to_string()));
        let connection = format!(
            "{} · {}, {} {}",
            broker.display_name(),
            broker.env_name(env),
            broker.spec().words.id,
            doctor::mask_id(&profile.client_id)
        );
        Ok(doctor::Diagnosis {
            connection,
            checks: [endpoint, secret, token, ownership, scopes, keyring, handler]
                .into_iter()
                .chain(doctor::sign_in_check(&profile, crate::expiry::now_unix()))
                .collect(),
        }
        .scrubbed(&secrets, &profile.client_id))
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
        let Some((production, sandbox)) = broker.spec().app_settings_urls else {
            return Err(AppError::new(
                ErrorKind::InvalidInput,
                "A custom provider's settings page is the provider's own.",
            ));
        };
        let url = match environment {
            Environment::Sandbox => sandbox,
            Environment::Production | Environment::Demo => production,
        };
        Url::parse(url).map_err(|e| AppError::internal(e.to_string()))
    }

    /// Shows profile `id` on the dashboard from now on (and on the next launch).
    pub async fn select_profile(&self, id: &str) -> Result<ProfileView> {
        self.profiles.set_active(id)?;
        *self.active.lock().unwrap_or_else(|p| p.into_inner()) = None;
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
        // The session stays: it may hold a rotated refresh token the keyring has not taken
        // yet, and the label shown is read from profiles.json.
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

    /// The shown connection's accounts, refreshing the access token first when it is due.
    /// Errors: [`ErrorKind::NotConnected`], [`ErrorKind::InvalidGrant`] (revoked refresh token),
    /// [`ErrorKind::Network`], [`ErrorKind::RateLimited`], [`ErrorKind::Broker`].
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        self.session().await?.accounts().await
    }

    /// One account's balances and positions (its failure is inside the result).
    pub async fn account_detail(&self, number: &str) -> Result<AccountDetail> {
        Ok(self.session().await?.account_detail(number).await)
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
    pub async fn filled_snippet(&self, kind: crate::handoff::SnippetKind) -> Result<SecretText> {
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
        .map(|x| SecretText::new(x.text))
        .ok_or_else(|| {
            AppError::new(
                ErrorKind::InvalidInput,
                "There is no such snippet for this connection.",
            )
        })
    }

    /// Writes the shown profile's refresh token that the keyring refused earlier (the token
    /// card's "Retry save"), and returns the profile (`refresh_token_unsaved` false once
    /// written). Errors: the keyring's [`ErrorKind::Keyring`] naming the cause; the token stays
    /// in memory and on the page.
    pub async fn retry_save_refresh_token(&self) -> Result<ProfileView> {
        let s = self.session().await?;
        s.try_save_pending()?;
        // The label may have changed since the session was made: profiles.json has it.
        let profile = self
            .profiles
            .current()?
            .filter(|p| p.id == s.profile.id)
            .unwrap_or_else(|| s.profile.clone());
        self.view(&profile).await
    }

    /// The refresh token in clear, for the user who pressed Reveal or Copy.
    pub async fn reveal_refresh_token(&self) -> Result<RefreshToken> {
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
        *self.active.lock().unwrap_or_else(|p| p.into_inner()) = None;
        tracing::info!(profile = %profile.id, "disconnected");
        Ok(())
    }
}
