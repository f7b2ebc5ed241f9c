//! The `keygrant://callback` redirect. The OS hands the URL to a second Keygrant process,
//! which `tauri-plugin-single-instance` forwards to the running one (or the app starts with
//! it). A link is acted on only when a sign-in is waiting for it and its `state` matches;
//! any other link is refused with a message and changes nothing.

use std::sync::Mutex;

use tokio::sync::mpsc;
use url::Url;

use super::callback::{parse_callback, Callback, Refusal};
use crate::error::{AppError, ErrorKind, Result};

/// The redirect URI that selects the deep-link path (registered by tauri-plugin-deep-link).
pub const DEEP_LINK_REDIRECT: &str = "keygrant://callback";

/// The one sign-in, if any, that is waiting for a deep link.
#[derive(Default)]
pub struct DeepLinkSlot {
    waiting: Mutex<Option<(String, mpsc::Sender<Callback>)>>,
}

impl DeepLinkSlot {
    /// Starts waiting for a link carrying `state`.
    pub(crate) fn arm(&self, state: String) -> mpsc::Receiver<Callback> {
        let (tx, rx) = mpsc::channel(1);
        *self.waiting.lock().unwrap_or_else(|p| p.into_inner()) = Some((state, tx));
        rx
    }

    pub(crate) fn disarm(&self) {
        *self.waiting.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Hands a `keygrant://` URL to the waiting sign-in, or says why it was refused.
    pub fn deliver(&self, url: &Url) -> Result<()> {
        let refused = |msg: &str| Err(AppError::new(ErrorKind::InvalidInput, msg));
        if url.scheme() != "keygrant" || url.host_str() != Some("callback") {
            return refused("Keygrant was opened with a link it does not handle; it was ignored.");
        }
        let guard = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let Some((state, tx)) = guard.as_ref() else {
            return refused("A sign-in link arrived, but no sign-in is waiting for one, so it was ignored. Press Connect to start one.");
        };
        let cb = match parse_callback(url.query().unwrap_or_default(), state) {
            Ok(cb) => cb,
            Err(Refusal::WrongState) => {
                return refused("A sign-in link arrived that does not belong to the sign-in in progress (its state does not match), so it was ignored. Keep waiting, or press Cancel and start again.")
            }
            Err(Refusal::Incomplete) => {
                return refused("The sign-in link carried neither a code nor an error; it was ignored.")
            }
        };
        tx.try_send(cb)
            .or_else(|_| refused("This sign-in link was already received."))
    }
}
