//! The Tauri shell of Keygrant: the builder, its plugins, the IPC commands and events, and the
//! app state. Everything the app does lives in `keygrant-core` (no Tauri) and the Demo broker
//! in `keygrant-demo`; this crate only connects them to a window.

pub mod cli;
mod commands;
mod exec;
pub mod ipc;
pub mod reminders;

use keygrant_core::app::{Core, DemoSource, DEFAULT_FLOW_TIMEOUT};
use keygrant_core::profiles::ProfileStore;
use keygrant_core::vault::Vault;
use keygrant_core::views::About;
use tauri::Manager;
use tauri_plugin_deep_link::DeepLinkExt;
use tauri_plugin_notification::NotificationExt;

pub use keygrant_core::init_logging;

/// The app's identifier, as in tauri.conf.json (tests/config.rs checks): it names the
/// settings folder the window and the command line share.
pub const IDENTIFIER: &str = "app.keygrant.desktop";

/// The product as the About box shows it: the same values as Cargo.toml, package.json and
/// tauri.conf.json (tests/config.rs checks).
pub fn about() -> About {
    About {
        name: "Keygrant".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        identifier: IDENTIFIER.into(),
        license: env!("CARGO_PKG_LICENSE").into(),
        description: env!("CARGO_PKG_DESCRIPTION").into(),
    }
}

/// How often the shown profile's access token is checked, and how long before its expiry it
/// is refreshed in the background; also how often the sign-in reminders are looked at.
const BACKGROUND_TICK: std::time::Duration = std::time::Duration::from_secs(30);

/// Sends the desktop notifications due for the saved connections whose grant ends a fixed
/// time after the sign-in (Schwab): a day before and at the end, once each per sign-in. A
/// desktop without a notification service (a bare X server) only gets a log line.
fn send_due_reminders(app: &tauri::AppHandle, reminders: &mut reminders::Reminders) {
    let core = app.state::<Core>();
    let profiles = match ProfileStore::new(&core.config_dir()).load() {
        Ok(p) => p,
        Err(e) => {
            tracing::debug!(kind = ?e.kind, "no reminders: the connections could not be read");
            return;
        }
    };
    for due in reminders.due(&profiles, keygrant_core::expiry::now_unix()) {
        tracing::info!(profile = %due.profile_id, reminder = ?due.reminder, "sign-in reminder due");
        if let Err(e) = app
            .notification()
            .builder()
            .title(&due.title)
            .body(&due.body)
            .show()
        {
            tracing::warn!("could not show the sign-in reminder as a notification: {e}");
        }
    }
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
        // Desktop notifications for the sign-in reminders, sent from the Rust side only: the
        // page gets no notification permission.
        .plugin(tauri_plugin_notification::init())
        // The window reopens where and as large as the user left it. Only size, position and
        // maximized are restored (not visibility or decorations); the page gets no permission
        // for it, as only the Rust side uses the plugin.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(
                    tauri_plugin_window_state::StateFlags::SIZE
                        | tauri_plugin_window_state::StateFlags::POSITION
                        | tauri_plugin_window_state::StateFlags::MAXIMIZED,
                )
                .build(),
        )
        .setup(|app| {
            let config_dir = app.path().app_config_dir()?;
            // The Demo broker starts on 127.0.0.1 only when a Demo profile or the wizard needs it.
            let core = Core::new(
                &config_dir,
                Vault::keyring(),
                DemoSource::from_env(),
                DEFAULT_FLOW_TIMEOUT,
            )
            .with_about(about());
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
                if let Some(notice) = links.state::<Core>().deliver_deep_link(url) {
                    tracing::warn!(message = %notice.message, "refused a keygrant:// link");
                    ipc::emit::notice(&links, &notice);
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
                let core = handle.state::<Core>();
                core.warm_up().await;
                // Then keep the shown profile's access token fresh: refreshed in the background
                // about two minutes before it expires, so no click waits for a refresh; and
                // remind the user of a sign-in about to end (Schwab's 7 days).
                let mut reminders = reminders::Reminders::default();
                loop {
                    send_due_reminders(&handle, &mut reminders);
                    tokio::time::sleep(BACKGROUND_TICK).await;
                    if let Err(e) = core
                        .refresh_expiring(std::time::Duration::from_secs(120))
                        .await
                    {
                        tracing::warn!(kind = ?e.kind, "background refresh failed; the next call retries");
                    }
                }
            });
            Ok(())
        })
        .invoke_handler(ipc::handler())
        .run(tauri::generate_context!())
        .expect("Keygrant failed to start");
}
