//! Broker limits and dialects against the Demo broker over real HTTP, each measured with the
//! Demo broker's request counters: a rate-limit window stops the rest of a dashboard load and
//! says when to try again; 403 never refreshes while 401 refreshes once; Tastytrade's
//! `Accept-Version` and its 406 fallback; TradeStation's 25-accounts-per-request batches;
//! sparse balance and position payloads.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::portfolio::BalanceKey;
use keygrant_core::brokers::{tastytrade, BrokerKind};
use keygrant_core::error::ErrorKind;
use keygrant_demo::{ApiFault, DemoBroker, DemoConfig, LimitHeader};

async fn demo_with(accounts: Option<usize>) -> DemoBroker {
    DemoBroker::start_with(
        0,
        DemoConfig {
            accounts,
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

async fn connected(demo: &DemoBroker, dir: &std::path::Path, broker: BrokerKind) -> Core {
    let core = Core::new(
        dir,
        memory().0,
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    );
    core.connect(demo_connect(broker), scripted_browser("approve"))
        .await
        .unwrap();
    core
}

/// A rate-limit window met in the middle of a 20-account Tastytrade dashboard: the requests
/// already in flight come back 429 and none is retried; every later request of the session
/// fails fast without being sent, saying when to try again in seconds. Whatever header says
/// so: `Retry-After`, `X-RateLimit-Reset` in seconds, or as a Unix time.
#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limit_stops_the_rest_of_the_wave_and_says_when_to_try_again() {
    for header in [
        LimitHeader::ResetSeconds,
        LimitHeader::ResetEpoch,
        LimitHeader::RetryAfter,
    ] {
        let demo = demo_with(Some(20)).await;
        let dir = tempfile::tempdir().unwrap();
        let core = connected(&demo, dir.path(), BrokerKind::Tastytrade).await;
        let before = demo.api_requests();
        // The account list and 4 detail requests are served; then 60 s of 429.
        demo.rate_limit(5, Duration::from_secs(60), header);
        let dash = page_dashboard(&core).await.unwrap();
        let sent = demo.api_requests() - before;
        // 1 list + 40 detail requests at most (they leave together), no retries: without the
        // gate and the reset header this was 1 + 4 + 36 * 3 = 113.
        assert!(sent <= 41, "{header:?}: {sent} requests");
        let limited: Vec<_> = dash
            .details
            .iter()
            .filter_map(|d| d.error.as_ref())
            .collect();
        assert!(limited.len() >= 16, "{header:?}: {}", limited.len());
        for e in &limited {
            assert_eq!(e.kind, ErrorKind::RateLimited, "{header:?}: {e:?}");
            let secs = e.retry_after_secs.expect("the wait is known");
            assert!((55..=60).contains(&secs), "{header:?}: {secs}");
            assert!(
                e.message.contains(&format!("try again in {secs} s")),
                "{header:?}: {}",
                e.message
            );
        }
        // Inside the window nothing more is sent: the list and every detail fail fast.
        let before = demo.api_requests();
        let e = core.accounts().await.unwrap_err();
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert!(e.message.contains(" s."), "{}", e.message);
        for a in &dash.accounts {
            let d = core.account_detail(&a.number).await.unwrap();
            assert_eq!(d.error.map(|e| e.kind), Some(ErrorKind::RateLimited));
        }
        assert_eq!(demo.api_requests() - before, 0, "{header:?}");
    }
}

/// A short `Retry-After` (up to 5 s) is waited out once; a second 429 is reported.
#[tokio::test(flavor = "multi_thread")]
async fn a_short_retry_after_is_waited_out_once_then_reported() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::Tastytrade).await;

    let before = demo.api_requests();
    demo.push_api_fault(ApiFault::RateLimited(1));
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    assert_eq!(demo.api_requests() - before, 2, "one 429, one retry");

    let before = demo.api_requests();
    demo.push_api_fault(ApiFault::RateLimited(1));
    demo.push_api_fault(ApiFault::RateLimitReset(1));
    let e = core.accounts().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::RateLimited);
    assert!(e.message.contains("try again in 1 s"), "{}", e.message);
    assert_eq!(
        demo.api_requests() - before,
        2,
        "waited out once, not twice"
    );

    // The short hold is slept out before the next request, which then goes through.
    let before = demo.api_requests();
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    assert_eq!(demo.api_requests() - before, 1);
}

/// 403 means "not allowed": no refresh, no retry, a message naming the read scope or the
/// account's permission. 401 means "token refused": exactly one refresh and one retry.
#[tokio::test(flavor = "multi_thread")]
async fn forbidden_never_refreshes_and_unauthorized_refreshes_exactly_once() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::Tastytrade).await;
    let count = || (demo.api_requests(), demo.token_requests().len());

    let (api, tokens) = count();
    demo.push_api_fault(ApiFault::Status(403));
    let e = core.accounts().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(
        e.message.contains("scope for reading accounts (read)") && e.message.contains("restricted"),
        "{}",
        e.message
    );
    assert_eq!(count(), (api + 1, tokens), "one request, no refresh");

    let (api, tokens) = count();
    demo.push_api_fault(ApiFault::Status(401));
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    assert_eq!(count(), (api + 2, tokens + 1), "one refresh, one retry");

    let (api, tokens) = count();
    demo.push_api_fault(ApiFault::Status(401));
    demo.push_api_fault(ApiFault::Status(401));
    let e = core.accounts().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthorized);
    assert_eq!(count(), (api + 2, tokens + 1), "never a loop");

    // The same on an account's detail: the refused request is retried after one refresh.
    let (api, tokens) = count();
    demo.push_api_fault(ApiFault::Status(401));
    let d = core.account_detail("5WX01234").await.unwrap();
    assert!(d.error.is_none(), "{:?}", d.error);
    assert_eq!(
        count(),
        (api + 3, tokens + 1),
        "balances, positions, one retry"
    );

    // A restricted account on TradeStation: each detail names the cause, nothing refreshes.
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::TradeStation).await;
    let accounts = core.accounts().await.unwrap();
    demo.forbid_api();
    let tokens = demo.token_requests().len();
    let d = core.account_detail(&accounts[0].number).await.unwrap();
    let e = d.error.unwrap();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(e.message.contains("(ReadAccount)"), "{}", e.message);
    assert_eq!(demo.token_requests().len(), tokens);
}

/// Tastytrade reads carry the `Accept-Version` the parsers were written for; a 406 to it is
/// retried once without it, and a 406 to both says the app needs an update.
#[tokio::test(flavor = "multi_thread")]
async fn tastytrade_sends_its_api_version_and_falls_back_once_on_406() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::Tastytrade).await;
    let seen = demo.accept_versions_seen().len();
    core.accounts().await.unwrap();
    assert_eq!(
        demo.accept_versions_seen()[seen..],
        [Some(tastytrade::ACCEPT_VERSION.to_string())]
    );

    demo.accept_only_versions(&["20990101"]);
    let before = demo.api_requests();
    let seen = demo.accept_versions_seen().len();
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    assert_eq!(demo.api_requests() - before, 2);
    assert_eq!(
        demo.accept_versions_seen()[seen..],
        [Some(tastytrade::ACCEPT_VERSION.to_string()), None],
        "the retry goes without the header"
    );
    // The refusal is remembered: later reads go without the header at once.
    let before = demo.api_requests();
    let seen = demo.accept_versions_seen().len();
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    assert_eq!(demo.api_requests() - before, 1);
    assert_eq!(demo.accept_versions_seen()[seen..], [None]);

    demo.reject_every_version();
    let before = demo.api_requests();
    let e = core.accounts().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Broker);
    assert!(e.message.contains("Update Keygrant"), "{}", e.message);
    assert_eq!(demo.api_requests() - before, 1);
}

/// TradeStation's balances and positions take 25 accounts per request: a dashboard of 20
/// accounts is 3 requests, an `Errors` entry fails only its account, 30 accounts is 5.
#[tokio::test(flavor = "multi_thread")]
async fn tradestation_dashboards_batch_up_to_25_accounts_per_request() {
    const LIST: &str = "/ts/v3/brokerage/accounts";
    const BALANCES: &str = "/ts/v3/brokerage/accounts/{ids}/balances";
    const POSITIONS: &str = "/ts/v3/brokerage/accounts/{ids}/positions";
    let demo = demo_with(Some(20)).await;
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::TradeStation).await;
    let hits = || (demo.hits(LIST), demo.hits(BALANCES), demo.hits(POSITIONS));

    let dash = page_dashboard(&core).await.unwrap();
    assert_eq!(hits(), (1, 1, 1));
    assert_eq!(dash.details.len(), 20);
    for (a, d) in dash.accounts.iter().zip(&dash.details) {
        assert_eq!(a.number, d.number);
        assert!(d.error.is_none() && d.balances.is_some() && d.positions.is_some());
    }
    // Each account gets its own figures, not a neighbour's.
    let nets: std::collections::HashSet<_> = dash
        .details
        .iter()
        .map(|d| d.balances.as_ref().unwrap().get(BalanceKey::Cash))
        .collect();
    assert!(nets.len() > 10, "{}", nets.len());

    // The next load starts a new batch; an Errors entry fails that account only.
    let failing = dash.accounts[4].number.clone();
    demo.fail_account(&failing);
    let dash = page_dashboard(&core).await.unwrap();
    assert_eq!(hits(), (2, 2, 2));
    for d in &dash.details {
        if d.number == failing {
            let e = d.error.as_ref().expect("the failing account's own error");
            assert!(e.message.contains(&failing), "{}", e.message);
        } else {
            assert!(d.error.is_none(), "{}: {:?}", d.number, d.error);
        }
    }

    let demo = demo_with(Some(30)).await;
    let core = connected(&demo, dir.path(), BrokerKind::TradeStation).await;
    let dash = page_dashboard(&core).await.unwrap();
    assert!(dash.details.iter().all(|d| d.error.is_none()));
    assert_eq!(
        (demo.hits(LIST), demo.hits(BALANCES), demo.hits(POSITIONS)),
        (1, 2, 2),
        "chunks of 25"
    );
}

/// Sparse payloads: balances with a few of the usual fields show those; with none, an empty
/// list and no error; quantities and multipliers as JSON numbers read the same as strings.
#[tokio::test(flavor = "multi_thread")]
async fn sparse_balances_show_what_is_there_and_numbers_read_like_strings() {
    for (broker, first) in [
        (
            BrokerKind::Tastytrade,
            vec![BalanceKey::NetLiquidatingValue, BalanceKey::Cash],
        ),
        (BrokerKind::TradeStation, vec![BalanceKey::Cash]),
    ] {
        let demo = DemoBroker::start(0).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let core = connected(&demo, dir.path(), broker).await;
        let full = page_dashboard(&core).await.unwrap();
        demo.sparse_payloads();
        let sparse = page_dashboard(&core).await.unwrap();
        let by: HashMap<_, _> = sparse.details.iter().map(|d| (&d.number, d)).collect();
        for (i, f) in full.details.iter().enumerate() {
            let s = by[&f.number];
            assert!(s.error.is_none(), "{broker:?} {}: {:?}", s.number, s.error);
            let lines = &s.balances.as_ref().unwrap().lines;
            let keys: Vec<_> = lines.iter().map(|l| l.key).collect();
            match i {
                0 => assert_eq!(keys, first, "{broker:?}"),
                1 => assert!(lines.is_empty(), "{broker:?}: {keys:?}"),
                _ => assert_eq!(lines, &f.balances.as_ref().unwrap().lines),
            }
            for l in lines {
                assert_eq!(
                    Some(l.value),
                    f.balances.as_ref().unwrap().get(l.key),
                    "{broker:?}"
                );
            }
            assert_eq!(s.positions, f.positions, "{broker:?} {}", s.number);
        }
    }
}

/// Every named fault switch applies (what `keygrant demo-broker --fault NAME` reproduces by
/// hand), and an unknown name lists the known ones.
#[tokio::test(flavor = "multi_thread")]
async fn every_named_fault_applies_and_an_unknown_name_lists_them() {
    assert!(keygrant_demo::FAULTS.len() >= 18);
    for (name, description) in keygrant_demo::FAULTS {
        let demo = DemoBroker::start(0).await.unwrap();
        assert!(!description.is_empty(), "{name}");
        demo.apply_fault(name)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let demo = DemoBroker::start(0).await.unwrap();
    let e = demo.apply_fault("nope").unwrap_err();
    assert!(
        e.contains("nope") && e.contains("rate-limit-reset") && e.contains("sparse"),
        "{e}"
    );
    // A named switch does what it says: "forbidden" makes the next read a 403.
    let dir = tempfile::tempdir().unwrap();
    let core = connected(&demo, dir.path(), BrokerKind::Tastytrade).await;
    demo.apply_fault("forbidden").unwrap();
    assert_eq!(
        core.accounts().await.unwrap_err().kind,
        ErrorKind::Forbidden
    );
}
