//! The onboarding flow against the Demo broker over real HTTP (the real keyring where custody
//! is the subject, memory elsewhere):
//! authorize -> redirect -> exchange -> accounts, and what goes wrong.
//! Run under `dbus-run-session -- scripts/with-keyring.sh` (the README's test command does).

mod common;

use keygrant_core::secret::Expose;
use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::{BrokerKind, Environment};
use keygrant_core::error::{ErrorKind, Result};
use keygrant_core::vault::Vault;
use keygrant_core::views::ConnectRequest;
use keygrant_demo::{DemoBroker, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use url::Url;

fn demo_request(secret: &str) -> ConnectRequest {
    ConnectRequest {
        broker: BrokerKind::Tastytrade,
        environment: Environment::Demo,
        client_id: format!("  {DEMO_CLIENT_ID} "),
        client_secret: format!("\n{secret}  ").as_str().into(),
        redirect_uri: None,
        scopes: None,
        custom: None,
    }
}

struct Setup {
    demo: DemoBroker,
    dir: tempfile::TempDir,
    store: std::sync::Arc<RecordingStore>,
    core: Core,
}

/// A core on a fresh Demo broker and config directory, its secrets in memory.
async fn setup(timeout: Duration) -> Setup {
    setup_with(timeout, memory()).await
}

async fn setup_with(
    timeout: Duration,
    (vault, store): (Vault, std::sync::Arc<RecordingStore>),
) -> Setup {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = Core::new(dir.path(), vault, DemoSource::At(demo.base_url()), timeout);
    Setup {
        demo,
        dir,
        store,
        core,
    }
}

fn profiles_json(dir: &tempfile::TempDir) -> String {
    std::fs::read_to_string(dir.path().join("profiles.json")).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn approve_exchanges_the_code_stores_secrets_in_the_keyring_and_lists_accounts() {
    let s = setup_with(Duration::from_secs(30), keyring()).await;
    let view = s
        .core
        .connect(
            demo_request(DEMO_CLIENT_SECRET),
            scripted_browser("approve"),
        )
        .await
        .unwrap();
    assert_eq!(view.broker, BrokerKind::Tastytrade);
    assert_eq!(view.environment, Environment::Demo);
    assert_eq!(view.client_id, DEMO_CLIENT_ID, "client ID trimmed");

    let rt =
        keyring_get(&Vault::refresh_token_key(&view.id)).expect("refresh token in the keyring");
    // Tastytrade-shaped: a JWT with header typ rt+jwt naming this client (docs/brokers.md#demo-broker).
    let jwt = keygrant_core::doctor::decode_jwt(&rt).expect("a JWT refresh token");
    assert_eq!(jwt.header["typ"], "rt+jwt");
    assert_eq!(jwt.claims["aud"], DEMO_CLIENT_ID);
    assert_eq!(
        keyring_get(&Vault::client_secret_key(&view.id)).as_deref(),
        Some(DEMO_CLIENT_SECRET),
        "secret trimmed and stored"
    );
    assert!(view.refresh_token_masked.ends_with(&rt[rt.len() - 4..]));
    assert!(!view.refresh_token_masked.contains(&rt[..12]));

    let json = profiles_json(&s.dir);
    assert!(json.contains(&view.id));
    assert!(
        !json.contains(&rt) && !json.contains(DEMO_CLIENT_SECRET),
        "no secret in the config file"
    );

    let accounts = s.core.accounts().await.unwrap();
    let numbers: Vec<_> = accounts.iter().map(|a| a.number.as_str()).collect();
    assert_eq!(numbers, ["5WX01234", "5WX05678", "5WX09012"]);
    assert_eq!(accounts[1].nickname, "Roth IRA");
    assert_eq!(accounts[1].account_type, "Roth IRA");
    assert_eq!(accounts[1].margin_or_cash, "Cash");
    assert_eq!(
        s.demo.hits("/oauth/token"),
        1,
        "the exchange's access token was reused, no refresh"
    );
    assert_eq!(s.core.reveal_refresh_token().await.unwrap().expose(), rt);

    // The app is closed and reopened once the access token it left for other processes is
    // over: a new core, a new Demo broker, the same keyring.
    drop(s.core);
    assert!(keyring_get(&Vault::access_token_key(&view.id)).is_some());
    let demo2 = DemoBroker::start(0).await.unwrap();
    let (vault, _) = keyring();
    vault.delete_shared_access_token(&view.id).unwrap();
    let core = Core::new(
        s.dir.path(),
        vault,
        DemoSource::At(demo2.base_url()),
        Duration::from_secs(30),
    );
    let state = core.state().await.unwrap();
    assert_eq!(
        state.profile.as_ref().map(|p| p.id.as_str()),
        Some(view.id.as_str()),
        "reopened straight to the profile"
    );
    assert_eq!(core.accounts().await.unwrap(), accounts);
    assert_eq!(
        demo2.hits("/oauth/token"),
        1,
        "one refresh from the keyring's refresh token"
    );

    core.disconnect().await.unwrap();
    assert!(core.state().await.unwrap().profile.is_none());
    assert_eq!(
        keyring_get(&Vault::refresh_token_key(&view.id)),
        None,
        "refresh token removed from the keyring"
    );
    assert_eq!(
        keyring_get(&Vault::client_secret_key(&view.id)),
        None,
        "client secret removed from the keyring"
    );
    assert_eq!(
        core.accounts().await.unwrap_err().kind,
        ErrorKind::NotConnected
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_access_token_is_refreshed_once_on_401_and_the_call_retried() {
    let s = setup(Duration::from_secs(30)).await;
    s.core
        .connect(
            demo_request(DEMO_CLIENT_SECRET),
            scripted_browser("approve"),
        )
        .await
        .unwrap();
    s.demo.expire_access_tokens();
    assert_eq!(s.core.accounts().await.unwrap().len(), 3);
    assert_eq!(
        s.demo.hits("/oauth/token"),
        2,
        "exchange, then exactly one refresh"
    );
    assert_eq!(
        s.demo.hits("/customers/me/accounts"),
        2,
        "the refused call and its one retry"
    );
    s.core.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_client_secret_is_a_clear_message_and_nothing_is_stored() {
    let s = setup(Duration::from_secs(30)).await;
    let err = s
        .core
        .connect(
            demo_request("demo-secret-but-not-the-right-one"),
            scripted_browser("approve"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidClient);
    assert_eq!(err.field.as_deref(), Some("client_secret"));
    assert!(
        err.message.contains("client ID or client secret"),
        "{}",
        err.message
    );
    assert!(
        s.store.written.lock().unwrap().is_empty(),
        "nothing written to the keyring"
    );
    assert!(profiles_json(&s.dir).is_empty(), "no profile written");
    assert!(s.core.state().await.unwrap().profile.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn deny_in_the_browser_ends_the_flow_with_access_denied() {
    let s = setup(Duration::from_secs(30)).await;
    let err = s
        .core
        .connect(demo_request(DEMO_CLIENT_SECRET), scripted_browser("deny"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert!(err.message.contains("denied"), "{}", err.message);
    assert_eq!(s.demo.hits("/oauth/token"), 0, "no exchange after a denial");
    assert!(s.store.written.lock().unwrap().is_empty());
    assert!(profiles_json(&s.dir).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn junk_and_a_wrong_state_at_the_loopback_port_are_refused_and_the_real_redirect_still_works()
{
    let s = setup(Duration::from_secs(30)).await;
    let browser = |url: &Url| -> Result<()> {
        let redirect = redirect_of(url);
        let url = url.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut wrong = redirect.clone();
            wrong
                .query_pairs_mut()
                .append_pair("code", "attacker-code")
                .append_pair("state", "not-the-state");
            let r = http.get(wrong).send().await.unwrap();
            assert_eq!(r.status(), 400);
            assert!(r
                .text()
                .await
                .unwrap()
                .contains("not the one Keygrant is waiting for"));
            let mut other = redirect.clone();
            other.set_path("/favicon.ico");
            assert_eq!(http.get(other).send().await.unwrap().status(), 404);
            let r = http.get(redirect.clone()).send().await.unwrap();
            assert_eq!(r.status(), 400, "no state at all");
            scripted_browser("approve")(&url).unwrap();
        });
        Ok(())
    };
    let view = s
        .core
        .connect(demo_request(DEMO_CLIENT_SECRET), browser)
        .await
        .unwrap();
    assert_eq!(
        s.demo.hits("/oauth/token"),
        1,
        "only the real code was exchanged"
    );
    s.core.disconnect().await.unwrap();
    assert_eq!(s.store.read(&Vault::refresh_token_key(&view.id)), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_abandoned_flow_times_out_and_frees_the_port() {
    let s = setup(Duration::from_secs(1)).await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen2 = seen.clone();
    let err = s
        .core
        .connect(demo_request(DEMO_CLIENT_SECRET), move |url: &Url| {
            *seen2.lock().unwrap() = Some(redirect_of(url));
            Ok(())
        })
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.message.contains("Press Connect to try again"));
    let redirect = seen.lock().unwrap().clone().unwrap();
    let port = redirect.port().unwrap();
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the loopback port is free again");
    // A second attempt may start right away.
    let again = s
        .core
        .connect(demo_request(DEMO_CLIENT_SECRET), |_: &Url| Ok(()))
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::Timeout);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_stops_the_waiting_flow_and_a_second_connect_meanwhile_is_refused() {
    let s = std::sync::Arc::new(setup(Duration::from_secs(60)).await);
    let s2 = s.clone();
    let waiting = tokio::spawn(async move {
        s2.core
            .connect(demo_request(DEMO_CLIENT_SECRET), |_: &Url| Ok(()))
            .await
    });
    let mut tries = 0;
    while !s.core.flow_in_progress() {
        tries += 1;
        assert!(tries < 200, "flow never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let busy = s
        .core
        .connect(demo_request(DEMO_CLIENT_SECRET), |_: &Url| Ok(()))
        .await
        .unwrap_err();
    assert_eq!(busy.kind, ErrorKind::Busy);
    assert!(s.core.cancel_connect());
    let err = waiting.await.unwrap().unwrap_err();
    assert_eq!(err.kind, ErrorKind::Cancelled);
    assert!(!s.core.cancel_connect(), "nothing left to cancel");
}

#[tokio::test(flavor = "multi_thread")]
async fn scripted_browser_via_the_browser_variable_is_honoured() {
    // The same path the app takes: $BROWSER names the program that opens the URL.
    let s = setup(Duration::from_secs(30)).await;
    let log = s.dir.path().join("browser.log");
    // SAFETY-free: only this test in this binary reads BROWSER.
    std::env::set_var(
        "BROWSER",
        format!(
            "python3 {} --log {} %s",
            browser_script().display(),
            log.display()
        ),
    );
    let view = s
        .core
        .connect(demo_request(DEMO_CLIENT_SECRET), |url: &Url| {
            keygrant_core::oauth::browser::open_with_env_browser(url).expect("BROWSER is set")
        })
        .await
        .unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("authorize page 200 /auth.html"), "{logged}");
    assert!(logged.contains("/callback 200"), "{logged}");
    s.core.disconnect().await.unwrap();
    assert_eq!(s.store.read(&Vault::refresh_token_key(&view.id)), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_demo_broker_starts_on_first_use_and_serves_the_whole_flow() {
    let dir = tempfile::tempdir().unwrap();
    let (vault, store) = memory();
    let core = Core::new(
        dir.path(),
        vault,
        DemoSource::Embedded,
        Duration::from_secs(30),
    );
    let state = core.state().await.unwrap();
    assert!(state.profile.is_none());
    assert_eq!(state.demo.client_id, DEMO_CLIENT_ID);
    let view = core
        .connect(
            demo_request(DEMO_CLIENT_SECRET),
            scripted_browser("approve"),
        )
        .await
        .unwrap();
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    core.disconnect().await.unwrap();
    assert_eq!(store.read(&Vault::refresh_token_key(&view.id)), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deep_link_redirect_completes_the_flow_and_only_with_the_right_state() {
    let s = setup(Duration::from_secs(30)).await;
    let core = std::sync::Arc::new(s.core);
    // No sign-in waiting: a link is refused and changes nothing.
    let stray = Url::parse("keygrant://callback?code=abc&state=xyz").unwrap();
    let notice = core.deliver_deep_link(&stray).expect("refused");
    assert!(notice.message.contains("no sign-in is waiting"));
    // A link the app was started with is refused before the window listens: the notice
    // waits in the state the window reads first, and reading does not consume it.
    for _ in 0..2 {
        assert_eq!(
            core.state().await.unwrap().notices,
            std::slice::from_ref(&notice)
        );
    }
    // Dismissed, it is gone; notices get new ids.
    core.dismiss_notice(notice.id);
    assert!(core.state().await.unwrap().notices.is_empty());
    let again = core.deliver_deep_link(&stray).expect("refused");
    assert_ne!(again.id, notice.id);
    core.dismiss_notice(again.id);

    for tamper in [false, true] {
        let mut req = demo_request(DEMO_CLIENT_SECRET);
        req.redirect_uri = Some("keygrant://callback".into());
        let view = core
            .connect(req, deep_link_browser(core.clone(), tamper))
            .await
            .unwrap();
        assert_eq!(core.accounts().await.unwrap().len(), 3);
        core.disconnect().await.unwrap();
        assert_eq!(s.store.read(&Vault::refresh_token_key(&view.id)), None);
    }
    assert_eq!(
        s.demo.hits("/oauth/token"),
        2,
        "one exchange per flow; the forged code was never exchanged"
    );
    assert!(
        core.deliver_deep_link(&stray).is_some(),
        "the slot is empty again after the flow"
    );
}
