//! Charles Schwab end to end against the Demo broker's Schwab dialect over real HTTP(S): the
//! sign-in through the HTTPS loopback callback (the scripted browser accepts the certificate
//! made for it), the account list by hash, every account's balances and positions from one
//! request compared field by field with the raw JSON text, the callback rules, the 7-day
//! expiry and the superseded grant with their messages, and Sign in again renewing in place.
//! Production is a Demo instance put in place of Schwab's host (`Core::with_override`).

mod common;

use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::schwab::numbers_as_text;
use keygrant_core::brokers::{BrokerKind, Environment};
use keygrant_core::error::ErrorKind;
use keygrant_core::secret::Expose;
use keygrant_core::vault::Vault;
use keygrant_core::views::ConnectRequest;
use keygrant_demo::{DemoBroker, DemoConfig};
use url::Url;

/// An App Key and Secret in Schwab's shape (32 and 16 letters and digits).
const APP_KEY: &str = "Kx7Qm2Lp9Vt4Rb8Nc3Hd6Fg1Js5Wa0Ye";
const APP_SECRET: &str = "Zq4Tn8Pw2Mv6Lc0X";

struct World {
    demo: DemoBroker,
    prod: DemoBroker,
    dir: tempfile::TempDir,
    vault: Vault,
    store: std::sync::Arc<RecordingStore>,
}

impl World {
    async fn new() -> World {
        let (vault, store) = memory();
        World {
            demo: DemoBroker::start(0).await.unwrap(),
            prod: DemoBroker::start_with(
                0,
                DemoConfig {
                    schwab_app_key: APP_KEY.into(),
                    schwab_secret: APP_SECRET.into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap(),
            dir: tempfile::tempdir().unwrap(),
            vault,
            store,
        }
    }

    fn core(&self) -> Core {
        Core::new(
            self.dir.path(),
            self.vault.clone(),
            DemoSource::At(self.demo.base_url()),
            Duration::from_secs(30),
        )
        .with_override(
            BrokerKind::Schwab,
            Environment::Production,
            self.prod.base_url(),
        )
    }

    /// Moves the recorded sign-in of every saved profile `by` into the past, as if the
    /// connection had been made that long ago.
    fn age_sign_ins(&self, by: Duration) {
        let path = self.dir.path().join("profiles.json");
        let mut v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for p in v["profiles"].as_array_mut().unwrap() {
            let at = p["signed_in_at"].as_u64().expect("a recorded sign-in");
            p["signed_in_at"] = (at - by.as_secs()).into();
        }
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    }
}

fn production(redirect_uri: &str) -> ConnectRequest {
    ConnectRequest {
        broker: BrokerKind::Schwab,
        environment: Environment::Production,
        client_id: APP_KEY.into(),
        client_secret: APP_SECRET.into(),
        redirect_uri: Some(redirect_uri.into()),
        scopes: None,
        custom: None,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const DAY: Duration = Duration::from_secs(86_400);

/// A Demo Schwab connection made through the scripted browser.
async fn demo_sign_in(core: &Core) -> keygrant_core::views::ProfileView {
    core.connect(
        demo_connect(BrokerKind::Schwab),
        scripted_browser("approve"),
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_demo_schwab_sign_in_comes_back_over_https_and_shows_every_account() {
    let w = World::new().await;
    let core = w.core();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None::<Url>));
    let seen2 = seen.clone();
    let before = keygrant_core::expiry::now_unix();
    let view = core
        .connect(demo_connect(BrokerKind::Schwab), move |url: &Url| {
            *seen2.lock().unwrap() = Some(url.clone());
            scripted_browser("approve")(url)
        })
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let authorize = seen.lock().unwrap().clone().unwrap();
    assert_eq!(authorize.path(), "/schwab/v1/oauth/authorize");
    let redirect = redirect_of(&authorize);
    assert_eq!(
        (redirect.scheme(), redirect.host_str()),
        ("https", Some("127.0.0.1"))
    );
    // The grant ends 7 days after this sign-in.
    let signed_in = view.signed_in_at.expect("sign-in recorded");
    assert!(signed_in >= before && signed_in <= keygrant_core::expiry::now_unix());
    assert_eq!(view.sign_in_expires_at, Some(signed_in + 7 * 86_400));
    assert_eq!(view.sign_in_lifetime_days, Some(7));
    // The token request used HTTP Basic (the Demo refuses credentials in the body).
    let reqs = w.demo.token_requests();
    assert_eq!(reqs.last().unwrap().path, "/schwab/v1/oauth/token");

    let accounts = core.accounts().await.unwrap();
    let numbers: Vec<&str> = accounts.iter().map(|a| a.number.as_str()).collect();
    assert_eq!(numbers, vec!["28764512", "28767933", "28761170"]);
    assert!(accounts
        .iter()
        .all(|a| a.api_id.as_deref().is_some_and(|h| h.len() == 64)));
    assert!(
        accounts.iter().any(|a| !a.nickname.is_empty()),
        "nicknames from userPreference"
    );
    assert_eq!(
        accounts
            .iter()
            .map(|a| a.margin_or_cash.as_str())
            .collect::<Vec<_>>(),
        vec!["Margin", "Cash", "Margin"]
    );
    let list_calls = w.demo.hits("/schwab/trader/v1/accounts");
    let details =
        futures::future::join_all(accounts.iter().map(|a| core.account_detail(&a.number))).await;
    // Every account's balances and positions came from one more request.
    assert_eq!(w.demo.hits("/schwab/trader/v1/accounts") - list_calls, 1);

    // Field by field against the raw JSON text the Demo serves.
    let token = core.token_for(None).await.unwrap().access_token;
    let raw = reqwest::Client::new()
        .get(
            w.demo
                .base_url()
                .join("schwab/trader/v1/accounts?fields=positions")
                .unwrap(),
        )
        .bearer_auth(token.expose())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let raw: serde_json::Value = serde_json::from_str(&numbers_as_text(&raw)).unwrap();
    let mut compared = 0;
    for (entry, detail) in raw.as_array().unwrap().iter().zip(&details) {
        let detail = detail.as_ref().unwrap();
        let sa = &entry["securitiesAccount"];
        assert_eq!(sa["accountNumber"], detail.number.as_str());
        assert!(detail.error.is_none(), "{:?}", detail.error);
        let balances = detail.balances.as_ref().unwrap();
        let liq = balances
            .get(keygrant_core::brokers::portfolio::BalanceKey::NetLiquidatingValue)
            .unwrap();
        assert_eq!(liq.to_string(), sa["currentBalances"]["liquidationValue"]);
        let positions = detail.positions.as_ref().unwrap();
        let raw_positions = sa["positions"].as_array().cloned().unwrap_or_default();
        assert_eq!(positions.len(), raw_positions.len());
        for (p, r) in positions.iter().zip(&raw_positions) {
            assert_eq!(p.symbol, r["instrument"]["symbol"]);
            assert_eq!(p.instrument_type, r["instrument"]["assetType"]);
            assert_eq!(p.market_value.unwrap().to_string(), r["marketValue"]);
            let pl = if r["shortQuantity"] != "0" {
                &r["shortOpenProfitLoss"]
            } else {
                &r["longOpenProfitLoss"]
            };
            assert_eq!(p.unrealized_pl.unwrap().to_string(), *pl, "{}", p.symbol);
            assert_eq!(p.day_pl.unwrap().to_string(), r["currentDayProfitLoss"]);
            let expected_multiplier = if r["instrument"]["assetType"] == "OPTION" {
                "100"
            } else {
                "1"
            };
            assert_eq!(p.multiplier.to_string(), expected_multiplier);
            compared += 1;
        }
    }
    assert!(compared >= 5, "positions compared: {compared}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_callback_must_be_https_on_127_0_0_1_and_is_sent_exactly() {
    let w = World::new().await;
    let core = w.core();
    for (wrong, says) in [
        ("http://127.0.0.1:8182", "https://"),
        ("https://localhost:8182", "localhost"),
        ("https://example.com/callback", "this computer"),
    ] {
        let e = core
            .connect(
                production(wrong),
                |_: &Url| -> keygrant_core::error::Result<()> {
                    panic!("no browser for a callback that cannot be the registered one")
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind, e.field.as_deref()),
            (ErrorKind::InvalidInput, Some("redirect_uri"))
        );
        assert!(e.message.contains(says), "{wrong}: {}", e.message);
    }
    // A swapped App Key and Secret is caught before the browser.
    let mut swapped = production("https://127.0.0.1:8182");
    swapped.client_id = APP_SECRET.into();
    swapped.client_secret = APP_KEY.into();
    let e = core
        .connect(swapped, |_: &Url| -> keygrant_core::error::Result<()> {
            panic!("no browser for swapped credentials")
        })
        .await
        .unwrap_err();
    assert!(e.message.contains("swapped"), "{}", e.message);

    // The registered callback with a trailing slash is sent exactly like that, served over
    // HTTPS on its port, and the sign-in completes.
    let port = free_port();
    let registered = format!("https://127.0.0.1:{port}/");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(None::<Url>));
    let seen2 = seen.clone();
    core.connect(production(&registered), move |url: &Url| {
        *seen2.lock().unwrap() = Some(url.clone());
        scripted_browser("approve")(url)
    })
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    let authorize = seen.lock().unwrap().clone().unwrap();
    let sent = authorize
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(sent, registered);
    assert_eq!(core.accounts().await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn seven_days_after_the_sign_in_the_grant_is_expired_and_sign_in_again_renews_it() {
    let w = World::new().await;
    let core = w.core();
    let first = demo_sign_in(&core).await;
    core.rename_profile(&first.id, "My Schwab").await.unwrap();

    // A week and a minute later (both clocks), in a new run of the app: refused as expired.
    w.demo.advance_clock(7 * DAY + Duration::from_secs(60));
    w.age_sign_ins(7 * DAY + Duration::from_secs(60));
    let later = w.core();
    let e = later.accounts().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidGrant);
    assert!(
        e.message.contains("expired") && e.message.contains("Sign in again"),
        "{}",
        e.message
    );
    // Sign in again: same connection, new grant, a new 7 days.
    let renewed = later
        .sign_in_again(scripted_browser("approve"))
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        (renewed.id.as_str(), renewed.label.as_str()),
        (first.id.as_str(), "My Schwab")
    );
    let now = keygrant_core::expiry::now_unix();
    assert!(renewed.sign_in_expires_at.unwrap() >= now + 7 * 86_400 - 5);
    assert_eq!(later.accounts().await.unwrap().len(), 3);
    // Saved: a third run sees the renewed grant and its new sign-in time.
    let third = w.core();
    assert_eq!(third.accounts().await.unwrap().len(), 3);
    let state = third.state().await.unwrap();
    assert_eq!(state.profiles.len(), 1);
    assert_eq!(state.profile.unwrap().signed_in_at, renewed.signed_in_at);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_sign_in_supersedes_the_grant_and_the_message_says_so() {
    let w = World::new().await;
    let core = w.core();
    let first = demo_sign_in(&core).await;
    // Another sign-in with the same App Key (here a second connection; in life often
    // schwab-py or Schwabdev) replaces the first grant at Schwab.
    let second = demo_sign_in(&core).await;
    assert_ne!(first.id, second.id);
    core.select_profile(&first.id).await.unwrap();
    // Once the first grant's access token is over, its refresh is refused.
    w.demo.advance_clock(Duration::from_secs(31 * 60));
    let fresh = w.core();
    let e = fresh.accounts().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidGrant);
    assert!(
        e.message.contains("newer sign-in") && e.message.contains("left"),
        "{}",
        e.message
    );
    // The second connection still works.
    fresh.select_profile(&second.id).await.unwrap();
    assert_eq!(fresh.accounts().await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn schwab_offers_production_only_and_no_scopes() {
    let w = World::new().await;
    let state = w.core().state().await.unwrap();
    let schwab = state
        .brokers
        .iter()
        .find(|b| b.broker == BrokerKind::Schwab)
        .expect("Schwab is offered");
    assert_eq!(
        schwab
            .environments
            .iter()
            .map(|e| e.environment)
            .collect::<Vec<_>>(),
        vec![Environment::Production]
    );
    assert!(schwab.scopes.is_empty());
    assert_eq!(schwab.default_redirect_uri, "https://127.0.0.1:8182");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_broken_account_fails_alone() {
    let w = World::new().await;
    let core = w.core();
    demo_sign_in(&core).await;
    // Schwab answers the all-accounts request with a server error when one account is broken.
    w.demo.fail_account("28767933");
    let accounts = core.accounts().await.unwrap();
    let details =
        futures::future::join_all(accounts.iter().map(|a| core.account_detail(&a.number))).await;
    let by_number = |n: &str| {
        details
            .iter()
            .map(|d| d.as_ref().unwrap())
            .find(|d| d.number == n)
            .unwrap()
    };
    let broken = by_number("28767933");
    assert!(broken.balances.is_none() && broken.error.is_some());
    for ok in ["28764512", "28761170"] {
        let d = by_number(ok);
        assert!(d.error.is_none(), "{ok}: {:?}", d.error);
        assert!(d.balances.as_ref().is_some_and(|b| !b.lines.is_empty()));
    }
}

/// The browser could not come back (the certificate warning was not passed, or the browser is
/// on another machine): the Schwab address it ended on, `code` ending in `%40`, is pasted and
/// finishes the sign-in; the waiting screen showed the certificate's fingerprint meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn the_pasted_schwab_address_with_its_encoded_at_finishes_the_sign_in() {
    let w = World::new().await;
    let core = std::sync::Arc::new(w.core());
    let connecting = {
        let core = core.clone();
        tokio::spawn(async move {
            core.connect(demo_connect(BrokerKind::Schwab), |_: &Url| {
                Err(keygrant_core::error::AppError::new(
                    ErrorKind::Internal,
                    "no browser here",
                ))
            })
            .await
        })
    };
    let shown = loop {
        match core.sign_in_waiting() {
            Some(w) if !connecting.is_finished() => break w,
            _ if connecting.is_finished() => panic!("ended: {:?}", connecting.await),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    let fingerprint = shown
        .certificate_fingerprint
        .clone()
        .expect("an HTTPS callback");
    assert_eq!(fingerprint.len(), 95, "SHA-256 as AB:CD:...: {fingerprint}");
    let url = shown.authorize_url.clone();
    let ended_on = tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("python3")
            .arg(browser_script())
            .args(["--print-redirect", &url])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
    .await
    .unwrap();
    assert!(ended_on.starts_with("https://127.0.0.1:"), "{ended_on}");
    assert!(
        ended_on.contains("%40"),
        "Schwab's code ends with an encoded @: {ended_on}"
    );
    assert!(ended_on.contains("session="), "{ended_on}");
    core.finish_sign_in(&ended_on).unwrap();
    let view = connecting.await.unwrap().expect("signed in");
    assert_eq!(view.broker, BrokerKind::Schwab);
    assert_eq!(core.accounts().await.unwrap().len(), 3);
}

/// The refresh token deleted from the keyring (or another keyring in use): the window still
/// draws, the dashboard says what happened, and Sign in again restores the connection.
#[tokio::test(flavor = "multi_thread")]
async fn a_refresh_token_missing_from_the_keyring_is_recovered_by_signing_in_again() {
    use keygrant_core::vault::SecretStore;
    let w = World::new().await;
    let first = demo_sign_in(&w.core()).await;
    // Another keyring: neither the refresh token nor the shared access token is there.
    w.store
        .delete(&Vault::refresh_token_key(&first.id))
        .unwrap();
    w.store.delete(&Vault::access_token_key(&first.id)).unwrap();
    let core = w.core();
    let state = core.state().await.expect("the window can draw");
    assert_eq!(state.profile.as_ref().unwrap().id, first.id);
    let e = core.accounts().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidGrant);
    assert!(
        e.message.contains("missing from the system keyring")
            && e.message.contains("Sign in again"),
        "{}",
        e.message
    );
    let renewed = core
        .sign_in_again(scripted_browser("approve"))
        .await
        .unwrap();
    assert_eq!(renewed.id, first.id);
    assert_eq!(core.accounts().await.unwrap().len(), 3);
}
