//! The hand-off snippets work as written: the filled-in curl command and the placeholder
//! command run after sourcing the filled-in .env both get a new access token from the Demo
//! broker, in each dialect, through a real shell; the `keygrant exec` snippet, run with a
//! stand-in `keygrant` that does what the subcommands promise (`exec` sets
//! `handoff::exec_env` and runs the command; `token --format header` prints
//! `Authorization: Bearer <access token>`), lists the accounts, from the child's environment
//! alone and with the header. The page's version holds no secret.

mod common;

use keygrant_core::secret::Expose;
use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::BrokerKind;
use keygrant_core::brokers::Endpoints;
use keygrant_core::handoff::{exec_env, Filled, SnippetKind};
use keygrant_core::profiles::ProfileStore;
use keygrant_core::secret::{AccessToken, ClientSecret, RefreshToken};
use keygrant_core::vault::Vault;
use keygrant_demo::{DemoBroker, DEMO_CLIENT_SECRET};

fn sh(dir: &std::path::Path, script: &str) -> serde_json::Value {
    sh_env(dir, script, &[])
}

fn sh_env(dir: &std::path::Path, script: &str, env: &[(String, String)]) -> serde_json::Value {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_snippets_get_an_access_token_as_written() {
    let demo = DemoBroker::start(0).await.unwrap();
    for broker in [BrokerKind::Tastytrade, BrokerKind::TradeStation] {
        let dir = tempfile::tempdir().unwrap();
        let (vault, store) = memory();
        let core = Core::new(
            dir.path(),
            vault,
            DemoSource::At(demo.base_url()),
            Duration::from_secs(30),
        );
        let req = demo_connect(broker);
        let view = core
            .connect(req, scripted_browser("approve"))
            .await
            .unwrap();
        let rt = store.read(&Vault::refresh_token_key(&view.id)).unwrap();

        let shown = core.snippets().await.unwrap();
        let page = serde_json::to_string(&shown).unwrap();
        assert!(
            !page.contains(DEMO_CLIENT_SECRET) && !page.contains(&rt),
            "{page}"
        );
        assert_eq!(
            shown.iter().map(|s| s.kind).collect::<Vec<_>>(),
            [
                SnippetKind::Exec,
                SnippetKind::Env,
                SnippetKind::Python,
                SnippetKind::Curl
            ]
        );

        let curl = core.filled_snippet(SnippetKind::Curl).await.unwrap();
        let answer = sh(dir.path(), curl.expose());
        assert!(answer["access_token"].is_string(), "{broker:?}: {answer}");

        let env = core.filled_snippet(SnippetKind::Env).await.unwrap();
        std::fs::write(dir.path().join(".env"), env.expose()).unwrap();
        let placeholder_curl = &shown
            .iter()
            .find(|s| s.kind == SnippetKind::Curl)
            .unwrap()
            .text;
        let answer = sh(
            dir.path(),
            &format!("set -a; . ./.env; set +a\n{placeholder_curl}"),
        );
        assert!(answer["access_token"].is_string(), "{broker:?}: {answer}");

        // The exec snippet, as written, with a stand-in keygrant (see the module comment).
        let access = AccessToken::new(answer["access_token"].as_str().unwrap());
        let profile = ProfileStore::new(dir.path()).current().unwrap().unwrap();
        let endpoints = Endpoints::at(broker, &demo.base_url());
        let child_env = exec_env(
            &profile,
            &endpoints,
            &Filled {
                client_secret: &ClientSecret::new(DEMO_CLIENT_SECRET),
                refresh_token: &RefreshToken::new(rt.clone()),
            },
            &access,
            None,
        );
        let exec_text = &shown
            .iter()
            .find(|s| s.kind == SnippetKind::Exec)
            .unwrap()
            .text;
        assert!(exec_text.contains("keygrant exec -- python bot.py"));
        // `python bot.py` in the child: list the accounts from its environment alone.
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        std::fs::write(
            bin.join("python"),
            "#!/bin/bash\nexec curl -sS -H \"Authorization: Bearer $KEYGRANT_ACCESS_TOKEN\" \
             \"${KEYGRANT_API_BASE_URL}$EXAMPLE_PATH\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("python"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        let mut exec_args = String::new();
        for (name, value) in &child_env {
            exec_args += &format!(" {name}={}", shell_word(value.expose()));
        }
        let stand_in = format!(
            "keygrant() {{\n\
               case \"$1\" in\n\
                 exec) shift; [ \"$1\" = -- ] && shift; \
                   env -i PATH=\"$PATH\" EXAMPLE_PATH=\"$EXAMPLE_PATH\"{exec_args} \"$@\" ;;\n\
                 token) printf 'Authorization: Bearer %s' {} ;;\n\
               esac\n\
             }}\n",
            shell_word(access.expose())
        );
        let example = broker.spec().handoff.example_api_path.unwrap().to_string();
        let vars = [
            (
                "PATH".to_string(),
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            ),
            ("EXAMPLE_PATH".to_string(), example),
        ];
        // Each of the snippet's two commands prints the account list.
        let (exec_line, curl_line) = exec_text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .fold((None, None), |(e, c), l| {
                if l.starts_with("keygrant exec") {
                    (Some(l), c)
                } else {
                    (e, Some(l))
                }
            });
        for line in [exec_line.unwrap(), curl_line.unwrap()] {
            let accounts = sh_env(dir.path(), &format!("{stand_in}{line}"), &vars);
            // Either dialect's account list (Tastytrade `account-number`, TradeStation `Accounts`).
            let text = accounts.to_string();
            assert!(
                text.contains("account-number") || text.contains("\"Accounts\""),
                "{broker:?} {line}: {accounts}"
            );
        }
        core.disconnect().await.unwrap();
    }
}

/// A shell word holding `s` literally.
fn shell_word(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
