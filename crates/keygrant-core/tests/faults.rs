//! Faults, switched on in the Demo broker: 5xx, 429 with Retry-After, a reset connection and a
//! stall are retried with backoff and a bound (reads only); a revoked grant and a missing
//! refresh token say what to do and lose nothing; a rotated refresh token is written to the
//! keyring before the old one is dropped, kept and retried when the keyring refuses it, and a
//! process killed between the broker's answer and the write recovers on relaunch.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::BrokerKind;
use keygrant_core::error::{ErrorKind, Result};
use keygrant_core::secret::Expose;
use keygrant_core::vault::{KeyringStore, SecretStore, Vault};
use keygrant_demo::{ApiFault, DemoBroker};

fn core_with(dir: &std::path::Path, demo: &DemoBroker, vault: Vault) -> Core {
    Core::new(
        dir,
        vault,
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    )
}

async fn connected(demo: &DemoBroker, dir: &std::path::Path) -> Core {
    let (vault, _) = memory();
    let core = core_with(dir, demo, vault);
    core.connect(
        demo_connect(BrokerKind::Tastytrade),
        scripted_browser("approve"),
    )
    .await
    .unwrap();
    core
}

const ACCOUNTS: &str = "/customers/me/accounts";

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_resets_and_stalls_are_retried_with_a_bound() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(700))
        .user_agent("keygrant/test")
        .build()
        .unwrap();
    let (vault, _) = memory();
    let core = core_with(dir.path(), &demo, vault).with_http_client(http);
    core.connect(
        demo_connect(BrokerKind::Tastytrade),
        scripted_browser("approve"),
    )
    .await
    .unwrap();

    for faults in [
        vec![ApiFault::Status(503), ApiFault::Status(502)],
        vec![ApiFault::Status(500)],
        vec![ApiFault::Reset],
        vec![ApiFault::Stall(Duration::from_secs(2))],
    ] {
        let before = demo.hits(ACCOUNTS);
        let tries = faults.len() as u64 + 1;
        for f in faults.clone() {
            demo.push_api_fault(f);
        }
        let accounts = core
            .accounts()
            .await
            .unwrap_or_else(|e| panic!("{faults:?}: {e:?}"));
        assert_eq!(accounts.len(), 3, "{faults:?}");
        // The faulted tries never reach the handler; the successful one does, once.
        assert_eq!(
            demo.hits(ACCOUNTS) - before,
            1,
            "{faults:?} in {tries} tries"
        );
    }

    // Three failures in a row: the bound is reached and the user is told to try again.
    for _ in 0..3 {
        demo.push_api_fault(ApiFault::Status(503));
    }
    let e = core.accounts().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Broker);
    assert!(
        e.message.contains("503") && e.message.contains("Try again"),
        "{}",
        e.message
    );
    // The fourth request was never sent: nothing is left queued.
    assert_eq!(core.accounts().await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_are_waited_out_when_short_and_reported_when_long() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path()).await;

    let before = demo.api_requests();
    demo.push_api_fault(ApiFault::RateLimited(1));
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    assert_eq!(demo.api_requests() - before, 2, "Retry-After: 1 waited out");

    let before = demo.api_requests();
    demo.push_api_fault(ApiFault::RateLimited(120));
    let e = core.accounts().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert_eq!(e.retry_after_secs, Some(120));
    assert!(
        e.message.contains("try again in 120 s") && e.message.contains("Nothing was lost"),
        "{}",
        e.message
    );
    assert_eq!(
        demo.api_requests() - before,
        1,
        "a long Retry-After is not retried"
    );

    // Inside the window the session sends nothing: every account says when to try again.
    let limited = core.account_detail("5WX01234").await.unwrap();
    let e = limited.error.unwrap();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert!(e.message.contains(" s."), "{}", e.message);
    assert_eq!(demo.api_requests() - before, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_grant_is_not_retried_and_tells_the_user_to_reconnect() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path()).await;
    let id = core.state().await.unwrap().profile.unwrap().id;
    demo.revoke_grants();
    demo.expire_access_tokens();
    let before = demo.token_requests().len();
    let e = core.accounts().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidGrant);
    assert!(e.message.contains("Sign in again"), "{}", e.message);
    assert_eq!(
        demo.token_requests().len() - before,
        1,
        "one token request, not retried"
    );
    // Nothing is lost: the profile and its keyring entries stay until the user reconnects.
    assert!(core.state().await.unwrap().profile.is_some());
    assert!(core.reveal_refresh_token().await.is_ok());
    assert_eq!(core.state().await.unwrap().profile.unwrap().id, id);
    core.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_response_without_a_refresh_token_saves_nothing() {
    let demo = DemoBroker::start(0).await.unwrap();
    demo.omit_refresh_tokens();
    let dir = tempfile::tempdir().unwrap();
    let (vault, store) = memory();
    let core = core_with(dir.path(), &demo, vault);
    let e = core
        .connect(
            demo_connect(BrokerKind::Tastytrade),
            scripted_browser("approve"),
        )
        .await
        .unwrap_err();
    assert!(
        e.message.contains("no refresh token") && e.message.contains("Nothing was saved"),
        "{}",
        e.message
    );
    assert!(store.written.lock().unwrap().is_empty());
    assert!(core.state().await.unwrap().profile.is_none());
}

/// The real keyring, refusing refresh-token writes while `fail` is set.
struct Flaky {
    inner: KeyringStore,
    fail: AtomicBool,
}

impl SecretStore for Flaky {
    fn set(&self, key: &str, value: &str) -> Result<()> {
        if self.fail.load(Ordering::SeqCst) && key.ends_with("/refresh_token") {
            return Err(keygrant_core::error::AppError::new(
                ErrorKind::Keyring,
                "The keyring is locked (test).",
            ));
        }
        self.inner.set(key, value)
    }
    fn get(&self, key: &str) -> Result<Option<String>> {
        self.inner.get(key)
    }
    fn delete(&self, key: &str) -> Result<()> {
        self.inner.delete(key)
    }
}

/// A TradeStation-dialect connection over a keyring that can be made to refuse writes.
struct Rotating {
    demo: DemoBroker,
    dir: tempfile::TempDir,
    flaky: Arc<Flaky>,
    core: Core,
    /// The keyring key of the connection's refresh token.
    key: String,
}

impl Rotating {
    async fn connect() -> Rotating {
        let demo = DemoBroker::start(0).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let flaky = Arc::new(Flaky {
            inner: KeyringStore::new(TEST_SERVICE),
            fail: AtomicBool::new(false),
        });
        let core = core_with(dir.path(), &demo, Vault::new(flaky.clone()));
        let view = core
            .connect(
                demo_connect(BrokerKind::TradeStation),
                scripted_browser("approve"),
            )
            .await
            .unwrap();
        let key = Vault::refresh_token_key(&view.id);
        Rotating {
            demo,
            dir,
            flaky,
            core,
            key,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_refresh_token_the_keyring_refuses_is_kept_and_written_later() {
    let Rotating {
        demo,
        dir,
        flaky,
        core,
        key,
    } = Rotating::connect().await;
    let first = keyring_get(&key).unwrap();
    demo.rotate_refresh_tokens();

    // Rotation with a working keyring: the new token is in the keyring.
    demo.expire_access_tokens();
    core.accounts().await.unwrap();
    let second = keyring_get(&key).unwrap();
    assert_ne!(first, second);

    // The keyring refuses: the call still works, the new token is kept and shown as unsaved.
    flaky.fail.store(true, Ordering::SeqCst);
    demo.expire_access_tokens();
    core.accounts().await.unwrap();
    assert_eq!(
        keyring_get(&key).unwrap(),
        second,
        "the keyring still holds the previous token"
    );
    let shown = core.state().await.unwrap().profile.unwrap();
    assert!(shown.refresh_token_unsaved);
    let third = core.reveal_refresh_token().await.unwrap();
    assert_ne!(third.expose(), second);

    // Another rotation meanwhile uses the kept token (the server retired the older one).
    demo.expire_access_tokens();
    core.accounts().await.unwrap();
    let fourth = core.reveal_refresh_token().await.unwrap();
    assert_ne!(fourth, third);

    // Renaming the connection keeps the session that holds the unsaved token.
    let id = core.state().await.unwrap().profile.unwrap().id;
    core.rename_profile(&id, "Renamed while unsaved")
        .await
        .unwrap();
    assert_eq!(core.reveal_refresh_token().await.unwrap(), fourth);
    let shown = core.state().await.unwrap().profile.unwrap();
    assert!(shown.refresh_token_unsaved && shown.label == "Renamed while unsaved");

    // The keyring works again: the next call writes the newest token.
    flaky.fail.store(false, Ordering::SeqCst);
    core.accounts().await.unwrap();
    assert_eq!(keyring_get(&key).as_deref(), Some(fourth.expose()));
    assert!(
        !core
            .state()
            .await
            .unwrap()
            .profile
            .unwrap()
            .refresh_token_unsaved
    );

    // And a relaunch refreshes with it.
    drop(core);
    let (vault, _) = keyring();
    let core = core_with(dir.path(), &demo, vault);
    demo.expire_access_tokens();
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    core.disconnect().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_process_killed_between_the_answer_and_the_write_recovers_on_relaunch() {
    let Rotating {
        demo,
        dir,
        flaky,
        core,
        key,
    } = Rotating::connect().await;
    let stored = keyring_get(&key).unwrap();
    demo.rotate_refresh_tokens();
    // The broker answers with a rotated token; the write never happens; the process dies.
    flaky.fail.store(true, Ordering::SeqCst);
    demo.expire_access_tokens();
    core.accounts().await.unwrap();
    drop(core);

    // Relaunch: the keyring's token was never retired (its successor was never used), so it
    // still works, and the relaunch stores the token the broker rotates to now.
    let (vault, _) = keyring();
    let core = core_with(dir.path(), &demo, vault);
    demo.expire_access_tokens();
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    let now = keyring_get(&key).unwrap();
    assert_ne!(now, stored);
    demo.expire_access_tokens();
    assert_eq!(
        core.accounts().await.unwrap().len(),
        3,
        "and the new one works in turn"
    );
    core.disconnect().await.unwrap();
}

/// The page's dashboard calls (`list_accounts`, `account_detail`) find the session in
/// memory: a profile file damaged after sign-in does not stop them, while a state read,
/// which does read the file, reports the damage.
#[tokio::test(flavor = "multi_thread")]
async fn dashboard_calls_do_not_reread_the_profile_file() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path()).await;
    let path = dir.path().join("profiles.json");
    let saved = std::fs::read(&path).unwrap();
    std::fs::write(&path, b"damaged").unwrap();
    let accounts = core.accounts().await.unwrap();
    assert_eq!(accounts.len(), 3);
    for a in &accounts {
        assert!(core
            .account_detail(&a.number)
            .await
            .unwrap()
            .error
            .is_none());
    }
    assert!(
        core.state().await.is_err(),
        "the state read does see the file"
    );
    std::fs::write(&path, saved).unwrap();
    core.disconnect().await.unwrap();
}

/// A pasted grant whose verifying refresh rotates it, with a keyring that refuses the new
/// token: the token is kept in memory and shown as unsaved, through switching profiles,
/// removing another profile and renaming, until "Retry save" gets it into the keyring.
#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_pasted_grant_the_keyring_refuses_is_kept_until_retry_save() {
    let Rotating {
        demo,
        dir: _dir,
        flaky,
        core,
        key: other_key,
    } = Rotating::connect().await;
    let other = core.state().await.unwrap().profile.unwrap().id;
    let pasted = keyring_get(&other_key).unwrap();
    demo.rotate_refresh_tokens();
    flaky.fail.store(true, Ordering::SeqCst);
    let view = core
        .connect_with_grant(keygrant_core::views::GrantRequest {
            broker: BrokerKind::TradeStation,
            environment: keygrant_core::brokers::Environment::Demo,
            client_id: keygrant_demo::DEMO_CLIENT_ID.into(),
            client_secret: keygrant_demo::DEMO_CLIENT_SECRET.into(),
            refresh_token: pasted.clone().into(),
            custom: None,
        })
        .await
        .expect("a refused write does not lose the rotated token");
    assert!(view.refresh_token_unsaved);
    let key = Vault::refresh_token_key(&view.id);
    assert_eq!(keyring_get(&key), None, "the keyring refused it");
    let rotated = core.reveal_refresh_token().await.unwrap();
    assert_ne!(
        rotated.expose(),
        pasted,
        "the broker rotated the pasted token"
    );

    // Switch to the other profile, remove it, come back: the unsaved token is still there.
    core.select_profile(&other).await.unwrap();
    core.disconnect().await.unwrap();
    let back = core.select_profile(&view.id).await.unwrap();
    assert!(back.refresh_token_unsaved);
    assert_eq!(core.reveal_refresh_token().await.unwrap(), rotated);
    core.rename_profile(&view.id, "Pasted").await.unwrap();
    assert_eq!(core.reveal_refresh_token().await.unwrap(), rotated);

    // Retry save while the keyring still refuses: a keyring error, the token kept.
    let e = core.retry_save_refresh_token().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Keyring);
    assert!(
        core.state()
            .await
            .unwrap()
            .profile
            .unwrap()
            .refresh_token_unsaved
    );

    // The keyring takes it: saved, no longer shown as unsaved, and it works.
    flaky.fail.store(false, Ordering::SeqCst);
    let saved = core.retry_save_refresh_token().await.unwrap();
    assert!(!saved.refresh_token_unsaved && saved.label == "Pasted");
    assert_eq!(keyring_get(&key).as_deref(), Some(rotated.expose()));
    demo.expire_access_tokens();
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    core.disconnect().await.unwrap();
}
