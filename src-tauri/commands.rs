//! The IPC commands: thin wrappers that hand each call to [`Core`] and return its one error
//! type. Tauri types stay here and in `lib.rs`.

use std::time::Duration;

use tauri::{AppHandle, Manager, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_opener::OpenerExt;
use url::Url;

use keygrant_core::app::Core;
use keygrant_core::brokers::portfolio::AccountDetail;
use keygrant_core::brokers::{Account, BrokerKind, Environment};
use keygrant_core::doctor::Diagnosis;
use keygrant_core::error::{AppError, ErrorKind, Result};
use keygrant_core::handoff::{Snippet, SnippetKind};
use keygrant_core::oauth::browser;
use keygrant_core::oauth::waiting::SignInWaiting;
use keygrant_core::secret::Expose;
use keygrant_core::views::{AppState, ConnectRequest, GrantRequest, ProfileView};

/// How long a copied refresh token stays on the clipboard.
const CLIPBOARD_CLEAR_AFTER: Duration = Duration::from_secs(45);

/// The backend opens the browser itself: `$BROWSER` if set, else the system's handler.
/// The page has no permission to open anything. The launcher's own words go to the log only:
/// the page says in plain words that no browser opened and offers the address.
fn open_in_browser(app: &AppHandle, url: &Url) -> Result<()> {
    browser::check_openable(url)?;
    if let Some(result) = browser::open_with_env_browser(url) {
        return result;
    }
    app.opener()
        .open_url(url.as_str(), None::<&str>)
        .map_err(|e| {
            AppError::new(
                ErrorKind::Internal,
                format!("no browser could be started: {e}"),
            )
        })
}

/// Opens the sign-in's authorize page and tells the page whether a browser started.
fn open_sign_in(app: &AppHandle, url: &Url) -> Result<()> {
    let result = open_in_browser(app, url);
    crate::ipc::emit::sign_in_waiting(
        app,
        &SignInWaiting {
            authorize_url: url.to_string(),
            browser_opened: result.is_ok(),
            // Set before the browser opens when the callback is HTTPS (Schwab).
            certificate_fingerprint: app
                .state::<Core>()
                .sign_in_waiting()
                .and_then(|w| w.certificate_fingerprint),
        },
    );
    result
}

#[tauri::command]
pub async fn get_state(core: State<'_, Core>) -> Result<AppState> {
    // The page asks for the state first thing: the benchmark's "window interactive" mark.
    tracing::info!("the page asked for the app state");
    core.state().await
}

/// The user dismissed notice `id`; it is no longer listed in the state.
#[tauri::command]
pub async fn dismiss_notice(core: State<'_, Core>, id: u32) -> Result<()> {
    core.dismiss_notice(id);
    Ok(())
}

#[tauri::command]
pub async fn connect(
    app: AppHandle,
    core: State<'_, Core>,
    request: ConnectRequest,
) -> Result<ProfileView> {
    core.connect(request, |url| open_sign_in(&app, url)).await
}

/// "Sign in again": a new browser sign-in for the shown connection, the browser opened as
/// Connect opens it (the `sign-in-waiting` event included). The grant is renewed in place:
/// same id, name and settings. Returns the renewed profile.
#[tauri::command]
pub async fn sign_in_again(app: AppHandle, core: State<'_, Core>) -> Result<ProfileView> {
    core.sign_in_again(|url| open_sign_in(&app, url)).await
}

/// The personal-grant path: verify a pasted refresh token by one refresh, then save it.
#[tauri::command]
pub async fn connect_with_grant(
    core: State<'_, Core>,
    request: GrantRequest,
) -> Result<ProfileView> {
    core.connect_with_grant(request).await
}

/// "Open again": tries the browser once more with the waiting sign-in's address.
#[tauri::command]
pub async fn open_sign_in_page(app: AppHandle, core: State<'_, Core>) -> Result<SignInWaiting> {
    let waiting = waiting_sign_in(&core)?;
    let url = Url::parse(&waiting.authorize_url).map_err(|e| AppError::internal(e.to_string()))?;
    let opened = open_sign_in(&app, &url).is_ok();
    Ok(SignInWaiting {
        browser_opened: opened,
        ..waiting
    })
}

/// Copies the waiting sign-in's authorize address (not a secret) to the clipboard.
#[tauri::command]
pub async fn copy_sign_in_address(app: AppHandle, core: State<'_, Core>) -> Result<()> {
    let waiting = waiting_sign_in(&core)?;
    app.clipboard()
        .write_text(waiting.authorize_url)
        .map_err(|e| {
            AppError::new(
                ErrorKind::Internal,
                format!(
                    "Could not use the clipboard ({e}). Select the address and copy it by hand."
                ),
            )
        })
}

/// The address the browser ended on, pasted by the user: finishes the waiting sign-in.
#[tauri::command]
pub async fn finish_sign_in(core: State<'_, Core>, address: String) -> Result<()> {
    core.finish_sign_in(&address)
}

fn waiting_sign_in(core: &Core) -> Result<SignInWaiting> {
    core.sign_in_waiting().ok_or_else(|| {
        AppError::new(
            ErrorKind::InvalidInput,
            "No sign-in is waiting any more. Press Connect to start one.",
        )
    })
}

#[tauri::command]
pub async fn cancel_connect(core: State<'_, Core>) -> Result<bool> {
    Ok(core.cancel_connect())
}

/// Gets a new access token now; returns the profile with the new token's health and fields.
#[tauri::command]
pub async fn refresh_now(core: State<'_, Core>) -> Result<ProfileView> {
    core.refresh_now().await
}

/// The doctor's checks on the shown connection (the token card's Diagnose panel): one
/// refresh, the tokens' claims, scopes, keyring, `keygrant://` handler. No secret in it.
#[tauri::command]
pub async fn diagnose(core: State<'_, Core>) -> Result<Diagnosis> {
    core.diagnose(None).await
}

/// Writes the shown profile's refresh token that the keyring refused earlier ("Retry save");
/// returns the profile, `refresh_token_unsaved` false once written. Errors: the keyring's.
#[tauri::command]
pub async fn retry_save_refresh_token(core: State<'_, Core>) -> Result<ProfileView> {
    core.retry_save_refresh_token().await
}

/// One account's balances and positions; the page asks for every account at once.
#[tauri::command]
pub async fn account_detail(core: State<'_, Core>, number: String) -> Result<AccountDetail> {
    let detail = core.account_detail(&number).await;
    // The launch benchmark counts these: the page shows the account's figures as it returns.
    tracing::info!(ok = detail.is_ok(), "account detail served");
    detail
}

#[tauri::command]
pub async fn list_accounts(core: State<'_, Core>) -> Result<Vec<Account>> {
    core.accounts().await
}

/// Sends the refresh token to the page: only called when the user presses Reveal.
#[tauri::command]
pub async fn reveal_refresh_token(core: State<'_, Core>) -> Result<String> {
    Ok(core.reveal_refresh_token().await?.expose().to_string())
}

/// Copies the refresh token from the backend straight to the clipboard (the page never holds
/// it) and clears the clipboard later if it still holds the token.
#[tauri::command]
pub async fn copy_refresh_token(app: AppHandle, core: State<'_, Core>) -> Result<u32> {
    copy_secret(app, core.reveal_refresh_token().await?)
}

/// The hand-off snippets with placeholders (no secret reaches the page).
#[tauri::command]
pub async fn snippets(core: State<'_, Core>) -> Result<Vec<Snippet>> {
    core.snippets().await
}

/// Copies a snippet with the secrets filled in, from the backend to the clipboard.
#[tauri::command]
pub async fn copy_snippet(app: AppHandle, core: State<'_, Core>, kind: SnippetKind) -> Result<u32> {
    copy_secret(app, core.filled_snippet(kind).await?)
}

/// Puts `token` on the clipboard and clears it later if it still holds it.
fn copy_secret<S: Expose + Send + Sync + 'static>(app: AppHandle, token: S) -> Result<u32> {
    app.clipboard()
        .write_text(token.expose().to_string())
        .map_err(|e| {
            AppError::new(
                ErrorKind::Internal,
                format!("Could not use the clipboard ({e}). Use Reveal on the refresh token and copy by hand."),
            )
        })?;
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(CLIPBOARD_CLEAR_AFTER).await;
        if app.clipboard().read_text().ok().as_deref() == Some(token.expose()) {
            let _ = app.clipboard().write_text(String::new());
        }
    });
    Ok(CLIPBOARD_CLEAR_AFTER.as_secs() as u32)
}

#[tauri::command]
pub async fn select_profile(core: State<'_, Core>, id: String) -> Result<ProfileView> {
    core.select_profile(&id).await
}

#[tauri::command]
pub async fn rename_profile(core: State<'_, Core>, id: String, label: String) -> Result<()> {
    core.rename_profile(&id, &label).await
}

#[tauri::command]
pub async fn remember_choice(core: State<'_, Core>, choice: String) -> Result<()> {
    core.remember_choice(&choice)
}

/// Opens the broker's page for OAuth applications in the system browser. The page names the
/// broker; the backend picks the URL.
#[tauri::command]
pub async fn open_app_settings(
    app: AppHandle,
    core: State<'_, Core>,
    broker: BrokerKind,
    environment: Environment,
) -> Result<()> {
    let url = core.app_settings_url(broker, environment)?;
    open_in_browser(&app, &url)
}

#[tauri::command]
pub async fn disconnect(core: State<'_, Core>) -> Result<()> {
    core.disconnect().await
}
