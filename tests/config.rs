//! The window's permissions and the page's CSP, read from the shipped configuration: the
//! window may call exactly the app's own commands (the table src-tauri/ipc_table.rs, which
//! build.rs and the invoke handler both expand) and listen to events; no plugin permission (shell, opener, clipboard,
//! deep-link) is granted to the page; the CSP has no remote source; freezePrototype is on.

use std::collections::BTreeSet;

fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
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
    // build.rs and the invoke handler both expand the one table, src-tauri/ipc_table.rs.
    let commands: BTreeSet<String> = keygrant::ipc::COMMANDS
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert!(commands.len() >= 10, "{commands:?}");
    assert!(read("src-tauri/build.rs").contains("include!(\"ipc_table.rs\")"));
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

fn toml_value(text: &str, key: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("{key} in Cargo.toml"));
    line.split('"').nth(1).unwrap().to_string()
}

#[test]
fn name_version_identifier_and_license_agree_everywhere() {
    let cargo = read("Cargo.toml");
    let conf: serde_json::Value = serde_json::from_str(&read("tauri.conf.json")).unwrap();
    let package: serde_json::Value = serde_json::from_str(&read("package.json")).unwrap();
    let about = keygrant::about();
    let version = toml_value(&cargo, "version");
    assert_eq!(conf["version"], version.as_str());
    assert_eq!(package["version"], version.as_str());
    assert_eq!(about.version, version);
    let license = toml_value(&cargo, "license");
    assert_eq!(conf["bundle"]["license"], license.as_str());
    assert_eq!(package["license"], license.as_str());
    assert_eq!(about.license, license);
    assert_eq!(conf["productName"], about.name.as_str());
    assert_eq!(conf["identifier"], about.identifier.as_str());
    assert!(read("LICENSE").contains("MIT License"));
    // The desktop entry hands keygrant:// links to the app.
    let desktop = read("src-tauri/keygrant.desktop");
    assert!(
        desktop
            .lines()
            .any(|l| l.starts_with("Exec=") && l.ends_with(" %u")),
        "{desktop}"
    );
    assert!(desktop.contains("x-scheme-handler/keygrant"));
}

#[tokio::test]
async fn the_last_broker_choice_is_remembered_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let core = || {
        keygrant_core::app::Core::new(
            dir.path(),
            keygrant_core::vault::Vault::keyring(),
            keygrant_core::app::DemoSource::Embedded,
            std::time::Duration::from_secs(5),
        )
    };
    assert_eq!(core().state().await.unwrap().last_choice, None);
    core().remember_choice("trade_station").unwrap();
    assert_eq!(
        core().state().await.unwrap().last_choice.as_deref(),
        Some("trade_station")
    );
    assert!(core().remember_choice("../../etc").is_err());
}

#[test]
fn the_release_workflow_builds_as_the_test_command_does() {
    let workflow = read(".github/workflows/release.yml");
    let test = read("scripts/test.sh");
    assert!(
        test.contains("npx tauri build --bundles deb,rpm"),
        "the Linux build of the test command"
    );
    assert!(
        workflow.contains("run: scripts/test.sh"),
        "Linux installers come from the test command itself"
    );
    assert!(
        workflow.contains("bundles: deb,rpm")
            && workflow.contains("bundles: msi,nsis")
            && workflow.contains("bundles: dmg")
    );
    assert!(
        workflow.contains("npx tauri build \"${args[@]}\""),
        "the other platforms run the same CLI build"
    );
    assert!(workflow.contains("universal-apple-darwin"));
    for secret in [
        "APPLE_CERTIFICATE",
        "APPLE_SIGNING_IDENTITY",
        "APPLE_ID",
        "APPLE_TEAM_ID",
        "WINDOWS_CERTIFICATE",
    ] {
        assert!(workflow.contains(&format!("secrets.{secret}")), "{secret}");
    }
}
