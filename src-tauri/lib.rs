//! Keygrant: from a broker OAuth application to a working refresh token and your accounts.
//!
//! Plain-Rust modules, each one concern, tested without a window:
//! [`oauth`] (authorization-code flow, loopback redirect), [`vault`] (OS keyring),
//! [`session`] (access token cache and refresh), [`brokers`] (endpoints and JSON models),
//! [`demo`] (the Demo broker), [`profiles`] (non-secret settings), [`core`] (what each UI
//! action does). [`commands`] and [`run`] are the only Tauri-facing code.

pub mod brokers;
mod commands;
pub mod core;
pub mod demo;
pub mod error;
pub mod handoff;
pub mod oauth;
pub mod profiles;
pub mod secret;
pub mod session;
pub mod vault;

use tauri::{Emitter, Manager};
use tauri_plugin_deep_link::DeepLinkExt;

/// The event the window hears when a `keygrant://` link was refused; its payload is the message.
pub const DEEP_LINK_REFUSED: &str = "deep-link-refused";

/// Logs go to stderr, filtered by `RUST_LOG` (default: this crate at info). No secret or
/// token is ever a field of a log line.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("keygrant=info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Starts the desktop app.
pub fn run() {
    init_logging();
    tauri::Builder::default()
        // First, so a second launch (e.g. the OS opening a keygrant:// link) hands its
        // arguments to this process and exits; the deep-link feature turns them into
        // on_open_url events here.
        .plugin(tauri_plugin_single_instance::init(|_app, argv, _cwd| {
            tracing::info!(
                args = argv.len(),
                "a second launch handed over its arguments"
            );
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .setup(|app| {
            let config_dir = app.path().app_config_dir()?;
            // The Demo broker starts on 127.0.0.1 only when a Demo profile or the wizard needs it.
            let core = core::Core::new(
                &config_dir,
                vault::Vault::keyring(),
                core::DemoSource::Embedded,
                core::DEFAULT_FLOW_TIMEOUT,
            );
            app.manage(core);
            // Links forwarded by a second launch (single-instance) arrive as open-url events;
            // a link the app was started with is read once here. An app run from a build
            // folder on Linux registers itself as the keygrant:// handler; an installed one
            // is registered by its .desktop entry.
            #[cfg(target_os = "linux")]
            if std::env::current_exe().is_ok_and(|p| !p.starts_with("/usr")) {
                if let Err(e) = app.deep_link().register_all() {
                    tracing::warn!("could not register the keygrant:// handler: {e}");
                }
            }
            let links = app.handle().clone();
            let deliver = move |url: &url::Url| {
                if let Err(e) = links.state::<core::Core>().deliver_deep_link(url) {
                    tracing::warn!(message = %e.message, "refused a keygrant:// link");
                    let _ = links.emit(DEEP_LINK_REFUSED, e.message);
                }
            };
            if let Ok(Some(urls)) = app.deep_link().get_current() {
                urls.iter().for_each(&deliver);
            }
            app.deep_link()
                .on_open_url(move |event| event.urls().iter().for_each(&deliver));
            tracing::info!(version = env!("CARGO_PKG_VERSION"), "Keygrant started");
            // A returning user's token refresh starts now, while the window is created.
            let handle = app.handle().clone();
                        tauri::async_runtime::spawn(async move {
                let core = handle.state::<core::Core>();
                core.warm_up().await;
                // Then keep the shown profile's access token fresh: refreshed in the background
                // about two minutes before it expires, so no click waits for a refresh.
                loop {
                    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
                    if let Err(e) = core.refresh_expiring(std::time::Duration::from_secs(120)).await {
                        tracing::warn!(kind = ?e.kind, "background refresh failed; the next call retries");
                    }
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::get_state,
            commands::connect,
            commands::connect_with_grant,
            commands::cancel_connect,
            commands::list_accounts,
            commands::account_detail,
            commands::refresh_now,
            commands::reveal_refresh_token,
            commands::copy_refresh_token,
            commands::snippets,
            commands::copy_snippet,
            commands::disconnect,
            commands::select_profile,
            commands::rename_profile,
            commands::remember_choice,
            commands::open_app_settings,
        ])
        .run(tauri::generate_context!())
        .expect("Keygrant failed to start");
}
