//! The hand-off snippets work as written: the filled-in curl command and the placeholder
//! command run after sourcing the filled-in .env both get a new access token from the Demo
//! broker, in each dialect, through a real shell. The page's version holds no secret.

mod common;

use keygrant_core::secret::Expose;
use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::BrokerKind;
use keygrant_core::handoff::SnippetKind;
use keygrant_core::vault::Vault;
use keygrant_demo::{DemoBroker, DEMO_CLIENT_SECRET};

fn sh(dir: &std::path::Path, script: &str) -> serde_json::Value {
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
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
            [SnippetKind::Env, SnippetKind::Python, SnippetKind::Curl]
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
        core.disconnect().await.unwrap();
    }
}
