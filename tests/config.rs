//! The window's permissions and the page's CSP, read from the shipped configuration: the
//! window may call exactly the app's own commands (each declared in src-tauri/build.rs and
//! registered in lib.rs) and listen to events; no plugin permission (shell, opener, clipboard,
//! deep-link) is granted to the page; the CSP has no remote source; freezePrototype is on.

use std::collections::BTreeSet;

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// The quoted names in the `commands(&[...])` list of build.rs.
fn declared_commands() -> BTreeSet<String> {
    let build = read("src-tauri/build.rs");
    let list = build
        .split("commands(&[")
        .nth(1)
        .unwrap()
        .split("])")
        .next()
        .unwrap();
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn the_window_may_call_only_the_apps_own_commands() {
    let conf: serde_json::Value = serde_json::from_str(&read("tauri.conf.json")).unwrap();
    let caps = conf["app"]["security"]["capabilities"].as_array().unwrap();
    assert_eq!(caps.len(), 1, "one capability, for the main window");
    let granted: BTreeSet<String> = caps[0]["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    let commands = declared_commands();
    assert!(commands.len() >= 10, "{commands:?}");
    let mut expected: BTreeSet<String> = commands
        .iter()
        .map(|c| format!("allow-{}", c.replace('_', "-")))
        .collect();
    expected.insert("core:event:allow-listen".into());
    expected.insert("core:event:allow-unlisten".into());
    assert_eq!(
        granted, expected,
        "granted permissions = the declared commands + listening to events"
    );
    // Every declared command is registered with the invoke handler, and nothing else is.
    let lib = read("src-tauri/lib.rs");
    let handler = lib
        .split("generate_handler![")
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap();
    let registered: BTreeSet<String> = handler
        .split(',')
        .map(|s| s.trim().trim_start_matches("commands::").to_string())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(registered, commands);
}

#[test]
fn the_csp_allows_no_remote_source_and_the_prototype_is_frozen() {
    let conf: serde_json::Value = serde_json::from_str(&read("tauri.conf.json")).unwrap();
    let security = &conf["app"]["security"];
    assert_eq!(security["freezePrototype"], true);
    let csp = security["csp"].as_object().unwrap();
    for (directive, value) in csp {
        let value = value.as_str().unwrap();
        for source in value.split_whitespace() {
            let local = source.starts_with('\'')
                || source == "data:"
                || source == "ipc:"
                || source == "http://ipc.localhost";
            assert!(local, "{directive} allows {source}");
        }
        assert!(
            !value.contains("unsafe-inline") && !value.contains("unsafe-eval"),
            "{directive}: {value}"
        );
    }
    assert_eq!(csp["object-src"], "'none'");
    assert!(
        conf["app"]["withGlobalTauri"].as_bool() != Some(true),
        "no global Tauri object for the page"
    );
}
