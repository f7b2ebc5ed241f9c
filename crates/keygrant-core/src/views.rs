//! What the front ends (the window, the command line) see and send: requests from the wizard,
//! the connected profile without its secrets, the app state. Every type here is exported to
//! TypeScript by ts-rs (`ui/src/bindings`) when `cargo test` runs.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::brokers::custom::CustomProvider;
use crate::brokers::{BrokerKind, Environment, ScopeInfo};
use crate::oauth::TokenField;
use crate::secret::{ClientSecret, RefreshToken};

/// What the wizard sends when the user presses Connect. `Debug` redacts the secret.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct ConnectRequest {
    /// Which broker.
    pub broker: BrokerKind,
    /// Production or the broker's test environment.
    pub environment: Environment,
    /// The OAuth application's client ID.
    pub client_id: String,
    /// Crosses IPC once, from the page to the backend, and goes straight to the keyring.
    #[ts(type = "string")]
    pub client_secret: ClientSecret,
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
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct GrantRequest {
    /// Which broker.
    pub broker: BrokerKind,
    /// Production or the broker's test environment (a grant belongs to one).
    pub environment: Environment,
    /// The OAuth application's client ID.
    pub client_id: String,
    /// The OAuth application's client secret; goes straight to the keyring.
    #[ts(type = "string")]
    pub client_secret: ClientSecret,
    /// The refresh token the broker's site showed; verified by one refresh before saving.
    #[ts(type = "string")]
    pub refresh_token: RefreshToken,
    /// The provider, when `broker` is `custom`.
    #[ts(optional)]
    #[serde(default)]
    pub custom: Option<CustomProvider>,
}

/// A connected profile as the UI sees it: no secret, the refresh token masked.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ProfileView {
    /// The profile's identifier.
    pub id: String,
    /// Which broker.
    pub broker: BrokerKind,
    /// Production or the broker's test environment.
    pub environment: Environment,
    /// The environment as the broker names it ("Sandbox (cert)", "Simulated (sim)", ...).
    pub environment_label: String,
    /// The OAuth application's client ID.
    pub client_id: String,
    /// The name shown in the switcher.
    pub label: String,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The refresh token masked (its last 4 characters at most); Reveal asks for the whole.
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
    /// When the current access token expires (Unix seconds).
    #[ts(optional, type = "number")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_expires_at: Option<u64>,
    /// The last token response's fields, tokens masked.
    pub token_fields: Vec<TokenField>,
    /// The broker rotated the refresh token and the keyring refused the new one: Keygrant
    /// keeps it in memory and retries; the user should unlock the keyring.
    pub refresh_token_unsaved: bool,
    /// When the browser sign-in behind the stored grant happened (Unix seconds), if known.
    #[ts(optional, type = "number")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_in_at: Option<u64>,
    /// When the grant ends whatever the refreshes (Unix seconds): Schwab's sign-in plus 7
    /// days (docs/brokers.md#schwab-oauth). Absent when the broker's grants do not end so or
    /// the sign-in time is unknown.
    #[ts(optional, type = "number")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_in_expires_at: Option<u64>,
    /// Whether the broker's grants end a fixed time after the sign-in (Schwab), so the token
    /// card shows the sign-in's age even when its time is unknown.
    pub sign_in_lifetime_days: Option<u32>,
}

/// The Demo broker's published credentials, shown in the wizard for pasting.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct DemoInfo {
    /// The Demo broker's client ID.
    pub client_id: String,
    /// The Demo broker's client secret (public: it opens only the Demo broker).
    pub client_secret: String,
    /// The App Key its Schwab dialect accepts, in Schwab's shape (32 letters and digits).
    pub schwab_app_key: String,
    /// The Secret its Schwab dialect accepts (public too).
    pub schwab_secret: String,
}

/// An environment as the broker names it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct EnvironmentInfo {
    /// The environment.
    pub environment: Environment,
    /// The broker's name for it.
    pub label: String,
}

/// What the wizard offers for one broker.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct BrokerInfo {
    /// Which broker.
    pub broker: BrokerKind,
    /// Its name as the broker writes it.
    pub name: String,
    /// Production first, then the broker's test environment.
    pub environments: Vec<EnvironmentInfo>,
    /// The redirect URI to register when the user has none.
    pub default_redirect_uri: String,
    /// The scopes the broker offers, the required and default ones marked.
    pub scopes: Vec<ScopeInfo>,
    /// Where the user creates an OAuth application and registers redirect URIs.
    pub app_settings_url: String,
}

/// The product as the About box shows it; the same values as Cargo.toml, package.json and
/// tauri.conf.json (tests/config.rs checks).
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export)]
pub struct About {
    /// Product name.
    pub name: String,
    /// Version, semver.
    pub version: String,
    /// The app identifier (reverse DNS).
    pub identifier: String,
    /// SPDX license expression.
    pub license: String,
    /// One sentence on what the app is for.
    pub description: String,
}

/// A message for the user that does not answer a command; listed in [`AppState::notices`]
/// until the user dismisses it (the `dismiss_notice` command), and sent as the `notice` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Notice {
    /// Unique within this run of the app.
    pub id: u32,
    /// What happened and what to do.
    pub message: String,
}

/// The wizard cards whose choice is remembered.
pub const CHOICES: &[&str] = &["tastytrade", "trade_station", "schwab", "custom", "demo"];

/// A connection in the profile switcher.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct ProfileSummary {
    /// The profile's identifier.
    pub id: String,
    /// The name shown.
    pub label: String,
    /// Which broker.
    pub broker: BrokerKind,
    /// The environment as the broker names it.
    pub environment_label: String,
    /// The one the dashboard shows.
    pub active: bool,
}

/// Everything the window needs to draw itself (the `get_state` command's result).
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppState {
    /// Every connection, in the order they were added.
    pub profiles: Vec<ProfileSummary>,
    /// The connection the dashboard shows, without secrets; absent when none is saved.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileView>,
    /// The Demo broker's published credentials.
    pub demo: DemoInfo,
    /// The brokers the wizard offers.
    pub brokers: Vec<BrokerInfo>,
    /// The redirect URI that selects the deep-link path.
    pub deep_link_redirect: String,
    /// The wizard card chosen last time ("tastytrade", "trade_station", "custom", "demo").
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_choice: Option<String>,
    /// Product facts for the About box.
    pub about: About,
    /// Messages for the user that did not answer a command (a refused `keygrant://` link,
    /// even one the app was started with, before the window listened), until dismissed.
    pub notices: Vec<Notice>,
    /// The sign-in waiting for the broker's answer, if any (for a window reopened or
    /// reloaded while one waits; the `sign_in_waiting` event announces it).
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<crate::oauth::waiting::SignInWaiting>,
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
            client_secret: ClientSecret::new("the-client-secret-value"),
            redirect_uri: None,
            scopes: None,
            custom: None,
        };
        let g = GrantRequest {
            broker: BrokerKind::Tastytrade,
            environment: Environment::Sandbox,
            client_id: "cid".into(),
            client_secret: ClientSecret::new("the-client-secret-value"),
            refresh_token: RefreshToken::new("the-refresh-token-value"),
            custom: None,
        };
        let out = format!("{c:?} {g:?}");
        assert!(out.contains("cid"));
        assert!(
            !out.contains("the-client-secret-value") && !out.contains("the-refresh-token-value"),
            "{out}"
        );
    }
}
