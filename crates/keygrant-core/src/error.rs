//! The one error type. It serialises to the UI as `{kind, message, field}`: `kind` is stable
//! for code, `message` names the cause and the next step for a person, `field` points the
//! wizard at the input to fix.

use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorKind {
    InvalidInput,
    Cancelled,
    Timeout,
    AccessDenied,
    InvalidClient,
    InvalidGrant,
    /// The credential belongs to the broker's other environment (production vs sandbox).
    WrongEnvironment,
    Unauthorized,
    Network,
    /// The broker answered 429 and asked for more patience than an automatic retry gives.
    RateLimited,
    Broker,
    Keyring,
    Config,
    NotConnected,
    PortInUse,
    Busy,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
#[ts(export)]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    /// The wizard field the message belongs to, when there is one.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        AppError {
            kind,
            message: message.into(),
            field: None,
        }
    }

    pub fn on_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

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

pub type Result<T> = std::result::Result<T, AppError>;
