//! Dashboard load for 20 accounts with 150 ms of latency injected by the Demo broker, against
//! the two-round-trip floor and against fetching one request at a time, measured in the same
//! run. Run with `scripts/bench.sh` (or `cargo bench --bench dashboard`). Prints ratios.

use std::sync::Arc;
use std::time::{Duration, Instant};

use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::portfolio::AccountDetail;
use keygrant_core::brokers::{self, BrokerKind, Endpoints, Environment};
use keygrant_core::secret::{ClientSecret, RefreshToken};
use keygrant_core::vault::{MemoryStore, Vault};
use keygrant_core::views::GrantRequest;
use keygrant_demo::{DemoBroker, DemoConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

const ACCOUNTS: usize = 20;
const LATENCY: Duration = Duration::from_millis(150);
const RUNS: usize = 5;

/// A refresh token from the Demo broker, the way a user's script gets one.
async fn refresh_token(demo: &DemoBroker) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = demo.base_url();
    let redirect = "http://127.0.0.1:9/callback";
    let resp = http
        .post(base.join("auth.html").unwrap())
        .form(&[
            ("response_type", "code"),
            ("client_id", DEMO_CLIENT_ID),
            ("redirect_uri", redirect),
            ("scope", "read openid"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens: serde_json::Value = http
        .post(base.join("oauth/token").unwrap())
        .header("user-agent", "bench/1.0")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", DEMO_CLIENT_ID),
            ("client_secret", DEMO_CLIENT_SECRET),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["refresh_token"].as_str().unwrap().to_string()
}

/// Exactly what the page does: `list_accounts`, then one `account_detail` per account, all at
/// once (the commands are thin wrappers over these two calls).
async fn page_dashboard(core: &Core) -> Vec<AccountDetail> {
    let accounts = core.accounts().await.unwrap();
    futures::future::try_join_all(accounts.iter().map(|a| core.account_detail(&a.number)))
        .await
        .unwrap()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let demo = DemoBroker::start_with(
        0,
        DemoConfig {
            accounts: Some(ACCOUNTS),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = Core::new(
        dir.path(),
        Vault::new(Arc::new(MemoryStore::default())),
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    );
    let rt = refresh_token(&demo).await;
    core.connect_with_grant(GrantRequest {
        broker: BrokerKind::Tastytrade,
        environment: Environment::Demo,
        client_id: DEMO_CLIENT_ID.into(),
        client_secret: DEMO_CLIENT_SECRET.into(),
        refresh_token: RefreshToken::new(rt.clone()),
        custom: None,
    })
    .await
    .unwrap();
    // The access token for the one-at-a-time baseline, from the same Demo broker.
    let endpoints = Endpoints::at(BrokerKind::Tastytrade, &demo.base_url());
    let http = brokers::http_client();
    let token = keygrant_core::oauth::refresh(
        &http,
        DEMO_CLIENT_ID,
        &ClientSecret::new(DEMO_CLIENT_SECRET),
        &endpoints,
        &RefreshToken::new(rt),
    )
    .await
    .unwrap()
    .access_token;
    page_dashboard(&core).await; // warm connections and the session's token
    demo.set_latency(LATENCY);

    let (mut floor, mut ours, mut serial) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        // One round trip on this machine, with the injected latency: the floor is two.
        let t = Instant::now();
        brokers::fetch_accounts(&http, &endpoints, &token)
            .await
            .unwrap();
        floor.push(t.elapsed() * 2);

        let t = Instant::now();
        let details = page_dashboard(&core).await;
        ours.push(t.elapsed());
        assert_eq!(details.len(), ACCOUNTS);
        assert!(details.iter().all(|d| d.error.is_none()));

        let t = Instant::now();
        let accounts = brokers::fetch_accounts(&http, &endpoints, &token)
            .await
            .unwrap();
        for a in &accounts {
            brokers::fetch_balances(&http, &endpoints, &token, std::slice::from_ref(a))
                .await
                .unwrap();
            brokers::fetch_positions(&http, &endpoints, &token, std::slice::from_ref(a))
                .await
                .unwrap();
        }
        serial.push(t.elapsed());
    }
    let (floor, ours, serial) = (median(floor), median(ours), median(serial));
    println!(
        "dashboard: {ACCOUNTS} accounts, {} ms latency per request, median of {RUNS} runs",
        LATENCY.as_millis()
    );
    println!(
        "  two-round-trip floor      {:>7.0} ms",
        floor.as_secs_f64() * 1e3
    );
    println!(
        "  Keygrant dashboard        {:>7.0} ms",
        ours.as_secs_f64() * 1e3
    );
    println!(
        "  one request at a time     {:>7.0} ms",
        serial.as_secs_f64() * 1e3
    );
    println!(
        "  ratio Keygrant / floor            {:.2}",
        ours.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "  ratio one-at-a-time / Keygrant    {:.1}",
        serial.as_secs_f64() / ours.as_secs_f64()
    );
}
