//! The command line for scripts, run as separate processes the way a user's scripts run it:
//! `keygrant list`, `token`, `status`, `exec`, against a Demo broker over real HTTP, with the
//! real keyring (run under `dbus-run-session -- scripts/with-keyring.sh`; the README's test
//! command does). The profile is connected first the way the window connects it.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::{BrokerKind, Environment};
use keygrant_core::secret::Expose;
use keygrant_core::vault::Vault;
use keygrant_core::views::ConnectRequest;
use keygrant_demo::{DemoBroker, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

struct World {
    demo: DemoBroker,
    home: tempfile::TempDir,
    profile_id: String,
}

impl World {
    /// A Demo broker, and a Tastytrade-dialect Demo profile connected through the core with
    /// the scripted browser, saved where the window saves it under `$XDG_CONFIG_HOME`.
    async fn connected(label: &str) -> World {
        let demo = DemoBroker::start(0).await.unwrap();
        let home = tempfile::tempdir().unwrap();
        let core = Core::new(
            &home.path().join(keygrant::IDENTIFIER),
            Vault::keyring(),
            DemoSource::At(demo.base_url()),
            Duration::from_secs(30),
        );
        let view = core
            .connect(
                ConnectRequest {
                    broker: BrokerKind::Tastytrade,
                    environment: Environment::Demo,
                    client_id: DEMO_CLIENT_ID.into(),
                    client_secret: DEMO_CLIENT_SECRET.into(),
                    redirect_uri: None,
                    scopes: None,
                    custom: None,
                },
                |url: &url::Url| {
                    let mut child = Command::new("python3")
                        .arg(root().join("tests/browser/approve.py"))
                        .arg(url.as_str())
                        .spawn()
                        .expect("python3");
                    std::thread::spawn(move || child.wait());
                    Ok(())
                },
            )
            .await
            .unwrap();
        core.rename_profile(&view.id, label).await.unwrap();
        World {
            demo,
            home,
            profile_id: view.id,
        }
    }

    fn keygrant(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_keygrant"));
        c.args(args)
            .env("XDG_CONFIG_HOME", self.home.path())
            .env("KEYGRANT_DEMO_BROKER", self.demo.base_url().as_str())
            .env_remove("RUST_LOG")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.keygrant(args).output().unwrap()
    }

    /// Forgets the access token the processes share, as if it had expired.
    fn expire_shared_token(&self) {
        Vault::keyring()
            .delete_shared_access_token(&self.profile_id)
            .unwrap();
    }

    fn accounts_status(&self, token: &str) -> u16 {
        reqwest::blocking::Client::new()
            .get(format!("{}customers/me/accounts", self.demo.base_url()))
            .bearer_auth(token)
            .header("User-Agent", "test/1")
            .send()
            .unwrap()
            .status()
            .as_u16()
    }

    fn cleanup(&self) {
        let _ = Vault::keyring().delete_profile(&self.profile_id);
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn list_token_and_status_serve_scripts_without_a_window() {
    let w = std::sync::Arc::new(World::connected("Main account").await);
    let w2 = w.clone();
    blocking(move || {
        let w = w2;
        let list = w.run(&["list", "--json"]);
        assert!(list.status.success(), "{}", stderr(&list));
        let listed: serde_json::Value = serde_json::from_str(&stdout(&list)).unwrap();
        assert_eq!(listed[0]["label"], "Main account");
        assert_eq!(listed[0]["client_id"], DEMO_CLIENT_ID);
        assert_eq!(listed[0]["active"], true);
        assert!(!stdout(&list).contains(DEMO_CLIENT_SECRET));
        let table = stdout(&w.run(&["list"]));
        assert!(
            table.contains("* Main account") && table.contains("Tastytrade"),
            "{table}"
        );

        // A token on stdout that the broker takes: the sign-in's own access token, shared when
        // the window connected, so neither call refreshes.
        let before = w.demo.token_requests().len();
        let token = w.run(&["token", "--profile", "main ACCOUNT"]);
        assert!(token.status.success(), "{}", stderr(&token));
        let token = stdout(&token);
        assert_eq!(w.accounts_status(&token), 200);
        assert_eq!(
            stdout(&w.run(&["token"])),
            token,
            "shared between processes"
        );
        assert_eq!(
            w.demo.token_requests().len() - before,
            0,
            "the sign-in's access token is used"
        );

        let header = stdout(&w.run(&["token", "--format", "header"]));
        assert_eq!(header, format!("Authorization: Bearer {token}"));
        let json: serde_json::Value =
            serde_json::from_str(&stdout(&w.run(&["token", "--format", "json"]))).unwrap();
        assert_eq!(json["access_token"], token.as_str());
        assert_eq!(json["token_type"], "Bearer");
        assert!(json["expires_in"].as_u64().unwrap() > 60);
        assert!(json["scopes"].as_array().is_some_and(|s| !s.is_empty()));
        assert_eq!(json["profile"]["label"], "Main account");
        assert!(json["api_base_url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:"));

        let status = w.run(&["status"]);
        assert!(status.status.success(), "{}", stderr(&status));
        assert!(
            stdout(&status).starts_with("healthy:"),
            "{}",
            stdout(&status)
        );

        // Faults by kind, with their documented exit statuses and one line on stderr.
        let missing = w.run(&["token", "--profile", "nope"]);
        assert_eq!(missing.status.code(), Some(3));
        assert!(
            stderr(&missing).contains("\"Main account\""),
            "{}",
            stderr(&missing)
        );
        assert_eq!(stderr(&missing).lines().count(), 1);
        w.demo.revoke_grants();
        w.expire_shared_token();
        let dead = w.run(&["status"]);
        assert_eq!(dead.status.code(), Some(5), "{}", stderr(&dead));
        assert!(stderr(&dead).starts_with("keygrant: "), "{}", stderr(&dead));
        let usage = w.run(&["token", "--format", "yaml"]);
        assert_eq!(usage.status.code(), Some(2));
        w.cleanup();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_processes_on_an_expired_token_share_one_refresh_and_keep_the_newest_refresh_token() {
    let w = std::sync::Arc::new(World::connected("Rotating").await);
    w.demo.rotate_refresh_tokens();
    w.expire_shared_token();
    let first_rt = Vault::keyring().refresh_token(&w.profile_id).unwrap();
    let before = w.demo.token_requests().len();
    let w2 = w.clone();
    let tokens = blocking(move || {
        let children: Vec<_> = (0..50)
            .map(|_| {
                w2.keygrant(&["token"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        children
            .into_iter()
            .map(|c| {
                let out = c.wait_with_output().unwrap();
                assert!(out.status.success(), "{}", stderr(&out));
                stdout(&out)
            })
            .collect::<Vec<_>>()
    })
    .await;
    assert_eq!(
        w.demo.token_requests().len() - before,
        1,
        "exactly one refresh for 50 processes"
    );
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    let w2 = w.clone();
    let t = tokens[0].clone();
    assert_eq!(blocking(move || w2.accounts_status(&t)).await, 200);
    // The keyring holds the rotated refresh token, and it works.
    let newest = Vault::keyring().refresh_token(&w.profile_id).unwrap();
    assert_ne!(newest.expose(), first_rt.expose(), "rotated and saved");
    w.expire_shared_token();
    let w2 = w.clone();
    let again = blocking(move || w2.run(&["token"])).await;
    assert!(again.status.success(), "{}", stderr(&again));
    w.cleanup();
}

#[tokio::test(flavor = "multi_thread")]
async fn exec_hands_the_credentials_to_the_child_only_and_passes_its_status_and_signals() {
    let w = std::sync::Arc::new(World::connected("Bot").await);
    let w2 = w.clone();
    blocking(move || {
        let w = w2;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("bot.sh");
        // Writes the names of its credential variables, checks the token works, exits 7.
        std::fs::write(
            &script,
            "env | cut -d= -f1 | grep -E '^(TASTY_|TT_|KEYGRANT_)' | sort > \"$1\"\n\
             test -n \"$KEYGRANT_ACCESS_TOKEN\" && test -n \"$TASTY_REFRESH_TOKEN\" || exit 9\n\
             curl -s -o /dev/null -w '%{http_code}' -A test/1 \
               -H \"Authorization: Bearer $KEYGRANT_ACCESS_TOKEN\" \
               \"${KEYGRANT_API_BASE_URL}customers/me/accounts\" > \"$1.status\"\n\
             exit 7\n",
        )
        .unwrap();
        let names = dir.path().join("names");
        let out = w.run(&[
            "exec",
            "--",
            "sh",
            script.to_str().unwrap(),
            names.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
        let names = std::fs::read_to_string(&names).unwrap();
        for n in [
            "KEYGRANT_ACCESS_TOKEN",
            "KEYGRANT_API_BASE_URL",
            "TASTY_REFRESH_TOKEN",
        ] {
            assert!(names.contains(n), "{n} in {names}");
        }
        assert_eq!(
            std::fs::read_to_string(dir.path().join("names.status")).unwrap(),
            "200"
        );
        // Nothing of the credentials in Keygrant's own output.
        let rt = Vault::keyring().refresh_token(&w.profile_id).unwrap();
        assert!(!String::from_utf8_lossy(&out.stdout).contains(rt.expose()));
        assert!(!String::from_utf8_lossy(&out.stderr).contains(rt.expose()));

        // A child that dies of a signal takes Keygrant with it, by the same signal.
        let out = w.run(&["exec", "--", "sh", "-c", "kill -TERM $$"]);
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(15), "{:?}", out.status);

        let missing = w.run(&["exec", "--", "/nonexistent/bot"]);
        assert_eq!(missing.status.code(), Some(127));
        assert!(
            stderr(&missing).contains("Could not start"),
            "{}",
            stderr(&missing)
        );
        w.cleanup();
    })
    .await;
}

/// The "done when": with a connection made as the window makes it, the public
/// `tastytrade` SDK lists the accounts under `keygrant exec`, with no secret written to any
/// file. Needs the SDK's virtual environment (scripts/test.sh makes it and sets
/// `KEYGRANT_SDK_PYTHON`).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the tastytrade SDK's virtualenv: run by scripts/test.sh"]
async fn exec_runs_the_public_tastytrade_sdk_with_no_secret_in_a_file() {
    let python = std::env::var("KEYGRANT_SDK_PYTHON")
        .expect("KEYGRANT_SDK_PYTHON names the SDK virtualenv's python (scripts/test.sh sets it)");
    let w = std::sync::Arc::new(World::connected("SDK bot").await);
    let w2 = w.clone();
    blocking(move || {
        let w = w2;
        // The hand-off's Python snippet, after the one line a script needs to use the Demo
        // broker (the SDK has no setting for its address).
        let script = format!(
            "import os\nimport tastytrade.session\n\
             tastytrade.session.API_URL = os.environ['KEYGRANT_API_BASE_URL'].rstrip('/')\n{}",
            std::fs::read_to_string(root().join("tests/sdk/snippets/tastytrade.py")).unwrap()
        );
        let out = w.run(&["exec", "--", &python, "-c", &script]);
        assert!(out.status.success(), "{}", stderr(&out));
        let printed: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
        assert_eq!(printed, ["5WX01234", "5WX05678", "5WX09012"]);

        // No file under the user's settings holds a secret.
        let rt = Vault::keyring().refresh_token(&w.profile_id).unwrap();
        for entry in walk(w.home.path()) {
            let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).to_string();
            assert!(
                !text.contains(rt.expose()) && !text.contains(DEMO_CLIENT_SECRET),
                "a secret in {}",
                entry.display()
            );
        }
        w.cleanup();
    })
    .await;
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_passes_a_healthy_connection_and_fails_a_dead_grant_with_no_secret_printed() {
    let w = std::sync::Arc::new(World::connected("Checked").await);
    let w2 = w.clone();
    blocking(move || {
        let w = w2;
        // The desktop's handler for keygrant:// is this very binary.
        let data = w.home.path().join("data");
        std::fs::create_dir_all(data.join("applications")).unwrap();
        std::fs::write(
            data.join("applications/keygrant-handler.desktop"),
            format!(
                "[Desktop Entry]\nType=Application\nName=Keygrant\nExec={} %u\n",
                env!("CARGO_BIN_EXE_keygrant")
            ),
        )
        .unwrap();
        let fake_xdg_mime = w.home.path().join("xdg-mime");
        std::fs::write(&fake_xdg_mime, "#!/bin/sh\necho keygrant-handler.desktop\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake_xdg_mime, std::fs::Permissions::from_mode(0o755)).unwrap();
        let doctor = |args: &[&str]| {
            w.keygrant(args)
                .env("KEYGRANT_XDG_MIME", &fake_xdg_mime)
                .env("XDG_DATA_HOME", &data)
                .output()
                .unwrap()
        };

        let out = doctor(&["doctor", "--report"]);
        let report = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{report}\n{}", stderr(&out));
        assert!(report.starts_with("Keygrant "), "{report}");
        assert!(report.contains("PASS"), "{report}");
        assert!(!report.contains("FAIL"), "{report}");
        let rt = Vault::keyring().refresh_token(&w.profile_id).unwrap();
        for secret in [rt.expose(), DEMO_CLIENT_SECRET, DEMO_CLIENT_ID] {
            assert!(
                !report.contains(secret),
                "a secret or the full client ID in the report"
            );
        }

        let json: serde_json::Value =
            serde_json::from_str(&stdout(&doctor(&["doctor", "--json"]))).unwrap();
        assert_eq!(json["checks"].as_array().unwrap().len(), 7);

        // A dead grant: the doctor says so, with a fix, and exits 7.
        w.demo.revoke_grants();
        let out = doctor(&["doctor"]);
        assert_eq!(out.status.code(), Some(7), "{}", stdout(&out));
        assert!(stdout(&out).contains("FAIL"), "{}", stdout(&out));
        w.cleanup();
    })
    .await;
}
