//! Keygrant without a window: everything the desktop app and the command line do, in plain
//! Rust with no Tauri dependency, tested without WebKit.
//!
//! - [`app`]: [`app::Core`], what each user action does (connect, paste a grant, accounts,
//!   reveal, hand-off, profiles), the one entry point of every front end.
//! - [`oauth`]: the authorization-code flow (authorize URL, `state`, PKCE S256 through the
//!   `oauth2` crate), the loopback listener, `keygrant://` links, one redirect parser, one
//!   token-response reader for the code exchange and the refresh.
//! - [`vault`]: the OS keyring (client secret and refresh token per profile).
//! - [`session`]: the in-memory access token, single-flight refresh, rotation custody.
//! - [`brokers`]: one module per broker ([`brokers::tastytrade`], [`brokers::tradestation`],
//!   [`brokers::schwab`], [`brokers::custom`]), HTTP with retries ([`brokers::http`]), the neutral portfolio model.
//! - [`profiles`]: the settings that are not secret (`profiles.json`, atomic writes).
//! - [`handoff`]: the environment `keygrant exec` gives a child (`exec_env`), and the
//!   `keygrant exec`, `.env`, Python SDK and curl snippets.
//! - [`views`]: the types the front ends send and receive; [`validate`]: pasted input.
//! - [`doctor`]: the checks of a saved connection and their pasteable report.
//! - [`expiry`]: grants that end a fixed time after the sign-in (Schwab's 7 days).
//! - [`error`]: the one error type; [`secret`]: the secret types, redacted in `Debug`.
//!
//! Wire facts about the brokers are recorded, with their sources, in `docs/brokers.md`.

#![warn(missing_docs)]

pub mod app;
pub mod brokers;
pub mod doctor;
pub mod error;
pub mod expiry;
pub mod handoff;
pub mod oauth;
pub mod profiles;
pub mod secret;
pub mod session;
pub mod validate;
pub mod vault;
pub mod views;

/// Logs go to stderr, filtered by `RUST_LOG` (default: Keygrant's crates at info). No secret
/// or token is ever a field of a log line.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("keygrant=info,keygrant_core=info,keygrant_demo=info")
    });
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}
