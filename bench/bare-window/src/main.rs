//! A bare Tauri window: the baseline Keygrant's window-to-interactive, memory and installer
//! size are compared against (bench/window.py).

/// Called by the page once its script runs: the moment the window is interactive.
#[tauri::command]
fn ready() {
    println!("bare-window: page ready");
}

fn main() {
    tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![ready])
        .run(tauri::generate_context!())
        .expect("the bare window runs");
}
