// Declares the app's own commands so Tauri generates an `allow-<command>` permission for each
// and refuses any command the window's capability does not name.
fn main() {
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(
        tauri_build::AppManifest::new().commands(&[
            "get_state",
            "connect",
            "connect_with_grant",
            "cancel_connect",
            "list_accounts",
            "account_detail",
            "refresh_now",
            "reveal_refresh_token",
            "copy_refresh_token",
            "snippets",
            "copy_snippet",
            "disconnect",
            "select_profile",
            "rename_profile",
            "remember_choice",
            "open_app_settings",
        ]),
    ))
    .expect("tauri build script");
}
