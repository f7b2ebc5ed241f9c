//! The one error type. It serialises to the UI as `{kind, message, field}`: `kind` is stable
//! for code, `message` names the cause and the next step for a person, `field` points the
//! wizard at the input to fix.

use serde::Serialize;
use ts_rs::TS;

/// What went wrong, stable for code (the UI chooses its remedy by it); serialised in
/// `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorKind {
    /// Pasted or typed input is not usable; `field` names it.
    InvalidInput,
    /// The user cancelled the sign-in.
    Cancelled,
    /// The browser did not come back in time (5 minutes).
    Timeout,
    /// The user (or the broker) declined the authorization (`access_denied`).
    AccessDenied,
    /// The broker does not know the client ID or the secret is wrong (`invalid_client`).
    InvalidClient,
    /// The code or refresh token was refused: used, expired or revoked (`invalid_grant`).
    InvalidGrant,
    /// The credential belongs to the broker's other environment (production vs sandbox).
    WrongEnvironment,
    /// The broker refused the access token (HTTP 401) after a fresh refresh.
    Unauthorized,
    /// The broker refused the request though the token is good (HTTP 403): the grant lacks
    /// the scope for reading accounts, or the account is restricted. Never refreshed
    /// (RFC 6750 section 3.1; docs/brokers.md#oauth-2-bearer-requests).
    Forbidden,
    /// The broker could not be reached (DNS, connect, TLS, timeout). Temporary: token requests
    /// are retried, and nothing saved is dropped for it.
    Network,
    /// The broker's token endpoint failed in a way that clears by itself (5xx, 429, a refusal
    /// known to be intermittent such as the Tastytrade sandbox's "not a customer",
    /// docs/brokers.md#tastytrade-token-errors). Retried with backoff; the grant is kept and
    /// nothing has to be entered again.
    Temporary,
    /// The broker answered 429 and asked for more patience than an automatic retry gives;
    /// `retry_after_secs` says how long, when the broker said.
    RateLimited,
    /// The broker answered with something Keygrant cannot use; the message quotes it.
    Broker,
    /// The OS keyring refused or is locked.
    Keyring,
    /// A local file (profiles.json) cannot be read or written.
    Config,
    /// No connection is saved yet, or the shown one was removed.
    NotConnected,
    /// The redirect URI's port is taken by another program.
    PortInUse,
    /// Another sign-in is already waiting for the browser.
    Busy,
    /// A bug: the message says what to report.
    Internal,
}

/// The one error type of Keygrant: `Display` is `message`, which names the cause and the
/// next step for a person. Never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
#[ts(export)]
pub struct AppError {
    /// What went wrong, for code.
    pub kind: ErrorKind,
    /// What went wrong and what to do, for a person.
    pub message: String,
    /// The wizard field the message belongs to, when there is one.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For [`ErrorKind::RateLimited`]: seconds until the broker's limit resets, as its
    /// `Retry-After` or `X-RateLimit-Reset` header said (docs/brokers.md#tradestation-rate-limits).
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl AppError {
    /// An error of `kind` with `message`, on no field.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        AppError {
            kind,
            message: message.into(),
            field: None,
            retry_after_secs: None,
        }
    }

    /// The same error, pointed at the wizard field `field` (e.g. `client_secret`).
    pub fn on_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }

    /// Whether the failure clears by itself ([`ErrorKind::Temporary`], [`ErrorKind::Network`]):
    /// worth retrying, and never a reason to drop a stored grant.
    pub fn is_temporary(&self) -> bool {
        matches!(self.kind, ErrorKind::Temporary | ErrorKind::Network)
    }

    /// An [`ErrorKind::Internal`] error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// An [`ErrorKind::Network`] error for a failed request, saying whether it timed out or
    /// could not connect; the URL is left out.
    pub fn network(err: reqwest::Error) -> Self {
        // reqwest's Display includes the URL but never headers or bodies, so no secret.
        let what = if err.is_timeout() {
            "timed out"
        } else if err.is_connect() {
            "could not connect"
        } else {
            "failed"
        };
        Self::new(
            ErrorKind::Network,
            format!(
                "The request to the broker {what}. Check your internet connection and try again. ({})",
                err.without_url()
            ),
        )
    }
}

/// Keygrant's result: [`AppError`] on failure.
pub type Result<T> = std::result::Result<T, AppError>;

/// `s` with its first letter in capitals, for a phrase that starts a sentence or a label
/// ("client ID" -> "Client ID").
pub(crate) fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
