// Declares the app's own commands (src-tauri/ipc_table.rs) so Tauri generates an
// `allow-<command>` permission for each and refuses any command the window's capability does
// not name.
macro_rules! ipc_table {
    (
        commands { $( $name:ident ( $( $arg:ident : $aty:ty ),* ) -> $ret:ty ; )* }
        events { $( $(#[$m:meta])* $event:ident : $ety:ty = $ename:literal ; )* }
    ) => {
        const COMMANDS: &[&str] = &[ $( stringify!($name) ),* ];
    };
}
include!("ipc_table.rs");

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/ipc_table.rs");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
