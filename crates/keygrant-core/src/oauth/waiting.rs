//! The one sign-in waiting for the broker's answer, whichever way it arrives: the loopback
//! listener, a `keygrant://callback` link, or the address the user pastes from the browser
//! when it could not come back by itself (no browser on this computer, a browser that
//! blocked or upgraded `http://localhost`, a page that failed to load, a browser on another
//! machine). Every way is read by the same parser with the same `state` check
//! ([`super::callback::parse_callback`], docs/brokers.md#oauth-2-state), and the first
//! answer wins; anything else is refused with a message and changes nothing.

use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::mpsc;
use ts_rs::TS;
use url::Url;

use super::callback::{parse_callback, pasted_query, Callback, Refusal};
use crate::error::{AppError, ErrorKind, Result};

/// The sign-in in progress as the waiting screen shows it. The authorize address holds the
/// client ID, scopes, `state` and the PKCE challenge, none of them secret (the PKCE verifier
/// and the client secret never leave the backend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SignInWaiting {
    /// The broker's authorize page for this sign-in, to open in any browser.
    pub authorize_url: String,
    /// Whether Keygrant could start a browser with it. When false, the page says so in plain
    /// words and offers Copy, Open again and the paste box.
    pub browser_opened: bool,
    /// The SHA-256 fingerprint (`AB:CD:...`) of the certificate Keygrant made for an HTTPS
    /// callback (Schwab), which the browser's certificate warning can show; `None` for a
    /// plain-HTTP callback. The page explains the warning when this is set.
    pub certificate_fingerprint: Option<String>,
}

/// How an answer reached the slot; it only changes the words of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// A `keygrant://callback` link handed over by the OS.
    Link,
    /// An address the user pasted into the waiting screen.
    Pasted,
}

struct Armed {
    state: String,
    tx: mpsc::Sender<Callback>,
    shown: SignInWaiting,
    /// An answer was handed over through the slot; later ones are refused.
    answered: bool,
}

/// Holds the sign-in in progress, if any (at most one: `Core::connect` refuses a second).
#[derive(Default)]
pub struct SignInSlot {
    armed: Mutex<Option<Armed>>,
}

impl SignInSlot {
    /// Starts waiting for the answer carrying `state`; answers go to `tx`.
    pub(crate) fn arm(&self, state: String, authorize_url: &Url, tx: mpsc::Sender<Callback>) {
        *self.lock() = Some(Armed {
            state,
            tx,
            shown: SignInWaiting {
                authorize_url: authorize_url.to_string(),
                // Until the browser was tried, the page offers the address too.
                browser_opened: false,
                certificate_fingerprint: None,
            },
            answered: false,
        });
    }

    /// Records whether the browser started.
    pub(crate) fn set_browser_opened(&self, opened: bool) {
        if let Some(armed) = self.lock().as_mut() {
            armed.shown.browser_opened = opened;
        }
    }

    /// Records the fingerprint of the certificate an HTTPS callback is served with.
    pub(crate) fn set_certificate(&self, fingerprint: Option<String>) {
        if let Some(armed) = self.lock().as_mut() {
            armed.shown.certificate_fingerprint = fingerprint;
        }
    }

    /// Stops waiting: later answers are refused.
    pub(crate) fn disarm(&self) {
        *self.lock() = None;
    }

    /// The sign-in in progress, if any.
    pub fn waiting(&self) -> Option<SignInWaiting> {
        self.lock().as_ref().map(|a| a.shown.clone())
    }

    /// Hands an answer (the query of a redirect) to the waiting sign-in. Errors
    /// ([`ErrorKind::InvalidInput`], on field `pasted_address` for [`Door::Pasted`]): no
    /// sign-in waiting, a `state` that is not this sign-in's, neither a code nor an error, an
    /// answer already received.
    pub fn deliver(&self, query: &str, door: Door) -> Result<()> {
        let refused = |msg: &str| {
            let e = AppError::new(ErrorKind::InvalidInput, msg);
            Err(match door {
                Door::Link => e,
                Door::Pasted => e.on_field("pasted_address"),
            })
        };
        let mut guard = self.lock();
        let Some(armed) = guard.as_mut() else {
            return refused(match door {
                Door::Link => "A sign-in link arrived, but no sign-in is waiting for one, so it was ignored. Press Connect to start one.",
                Door::Pasted => "No sign-in is waiting any more (it finished, was cancelled or timed out). Press Connect to start one.",
            });
        };
        let cb = match parse_callback(query, &armed.state) {
            Ok(cb) => cb,
            Err(Refusal::WrongState) => {
                return refused(match door {
                    Door::Link => "A sign-in link arrived that does not belong to the sign-in in progress (its state does not match), so it was ignored. Keep waiting, or press Cancel and start again.",
                    Door::Pasted => "This address belongs to another sign-in (its state does not match this one), so it was not used. Copy the address from the browser tab this sign-in opened, or press Cancel and start again.",
                })
            }
            Err(Refusal::Incomplete) => {
                return refused(match door {
                    Door::Link => "The sign-in link carried neither a code nor an error; it was ignored.",
                    Door::Pasted => "This address has neither a code nor an error in it. Approve on the broker's page first, then copy the address your browser ended on (it starts with your redirect URI).",
                })
            }
        };
        if armed.answered || armed.tx.try_send(cb).is_err() {
            return refused("This sign-in's answer was already received.");
        }
        armed.answered = true;
        Ok(())
    }

    /// Hands the address the user pasted to the waiting sign-in (see [`Self::deliver`]).
    /// Errors: as [`Self::deliver`], and text that is not an address with a query.
    pub fn deliver_pasted(&self, text: &str) -> Result<()> {
        match pasted_query(text) {
            Some(query) => self.deliver(&query, Door::Pasted),
            None => Err(AppError::new(
                ErrorKind::InvalidInput,
                "Paste the whole address from your browser's address bar after you approved. It contains code= and state=.",
            )
            .on_field("pasted_address")),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Armed>> {
        self.armed.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn armed() -> (SignInSlot, mpsc::Receiver<Callback>) {
        let slot = SignInSlot::default();
        let (tx, rx) = mpsc::channel(1);
        let url = Url::parse("https://broker.example/auth?state=s1").unwrap();
        slot.arm("s1".into(), &url, tx);
        (slot, rx)
    }

    #[test]
    fn a_pasted_address_with_this_sign_ins_state_finishes_it_once() {
        let (slot, mut rx) = armed();
        let wrong = slot
            .deliver_pasted("http://localhost:8000/cb?code=x&state=other")
            .unwrap_err();
        assert_eq!(wrong.field.as_deref(), Some("pasted_address"));
        assert!(wrong.message.contains("another sign-in"));
        assert!(slot.deliver_pasted("not an address").is_err());
        assert!(rx.try_recv().is_err(), "nothing reached the flow");
        slot.deliver_pasted(" https://localhost:8000/cb?code=abc&state=s1 ")
            .unwrap();
        assert_eq!(rx.try_recv().unwrap(), Callback::Code("abc".into()));
        let again = slot
            .deliver_pasted("http://localhost:8000/cb?code=abc&state=s1")
            .unwrap_err();
        assert!(
            again.message.contains("already received"),
            "{}",
            again.message
        );
        slot.disarm();
        let late = slot
            .deliver_pasted("http://localhost:8000/cb?code=abc&state=s1")
            .unwrap_err();
        assert!(late.message.contains("No sign-in is waiting"));
        assert_eq!(slot.waiting(), None);
    }

    #[test]
    fn the_waiting_screen_sees_the_address_and_whether_the_browser_opened() {
        let (slot, _rx) = armed();
        let shown = slot.waiting().unwrap();
        assert_eq!(shown.authorize_url, "https://broker.example/auth?state=s1");
        assert!(!shown.browser_opened);
        slot.set_browser_opened(true);
        assert!(slot.waiting().unwrap().browser_opened);
    }
}
