//! The `keygrant://callback` redirect. The OS hands the URL to a second Keygrant process,
//! which `tauri-plugin-single-instance` forwards to the running one (or the app starts with
//! it). A link is acted on only when a sign-in is waiting for it and its `state` matches;
//! any other link is refused with a message and changes nothing.

use url::Url;

use super::waiting::{Door, SignInSlot};
use crate::error::{AppError, ErrorKind, Result};

/// The redirect URI that selects the deep-link path (registered by tauri-plugin-deep-link).
pub const DEEP_LINK_REDIRECT: &str = "keygrant://callback";

/// Hands a `keygrant://` URL to the waiting sign-in in `slot`, or says why it was refused
/// ([`ErrorKind::InvalidInput`]): a link Keygrant does not handle, no sign-in waiting, a
/// `state` that is not the sign-in's, neither a code nor an error.
pub fn deliver(slot: &SignInSlot, url: &Url) -> Result<()> {
    if url.scheme() != "keygrant" || url.host_str() != Some("callback") {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "Keygrant was opened with a link it does not handle; it was ignored.",
        ));
    }
    slot.deliver(url.query().unwrap_or_default(), Door::Link)
}
