//! `keygrant token` for scripts, measured in one run against baselines from the same run:
//!
//! - with a valid shared access token, the whole process against the start of
//!   `keygrant --version` (target: within 1.5x);
//! - with a refresh due, the extra time against one raw round trip to the token endpoint
//!   (target: about one round trip more);
//! - 50 processes at once on an expired token against a Demo broker that rotates refresh
//!   tokens: how many token requests reached the broker (target: exactly one).
//!
//! Needs the real keyring: run with `scripts/bench.sh` (or under `dbus-run-session --
//! scripts/with-keyring.sh cargo bench --bench token`). Prints ratios.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::{BrokerKind, Environment};
use keygrant_core::vault::Vault;
use keygrant_core::views::ConnectRequest;
use keygrant_demo::{DemoBroker, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

const RUNS: usize = 15;
/// Latency the Demo broker adds to each response, so a round trip is a real network's.
const LATENCY: Duration = Duration::from_millis(80);

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(mut cmd: Command) -> Duration {
    let t = Instant::now();
    let out = cmd.stdout(Stdio::null()).status().unwrap();
    let d = t.elapsed();
    assert!(out.success(), "{cmd:?} failed");
    d
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let demo = rt.block_on(DemoBroker::start(0)).unwrap();
    let home = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_keygrant");
    let core = Core::new(
        &home.path().join("app.keygrant.desktop"),
        Vault::keyring(),
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/approve.py");
    let view = rt
        .block_on(core.connect(
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
                let mut c = Command::new("python3")
                    .arg(script)
                    .arg(url.as_str())
                    .spawn()
                    .unwrap();
                std::thread::spawn(move || c.wait());
                Ok(())
            },
        ))
        .unwrap();
    demo.set_latency(LATENCY);
    let keygrant = |args: &[&str]| {
        let mut c = Command::new(bin);
        c.args(args)
            .env("XDG_CONFIG_HOME", home.path())
            .env("KEYGRANT_DEMO_BROKER", demo.base_url().as_str())
            .env_remove("RUST_LOG");
        c
    };
    let forget = || {
        Vault::keyring()
            .delete_shared_access_token(&view.id)
            .unwrap()
    };

    // Warm the disk cache, then the baselines and the cases, interleaved run by run.
    time(keygrant(&["--version"]));
    time(keygrant(&["token"]));
    let (mut version, mut cached, mut due, mut round_trip) = (vec![], vec![], vec![], vec![]);
    let http = reqwest::blocking::Client::new();
    for _ in 0..RUNS {
        version.push(time(keygrant(&["--version"])));
        cached.push(time(keygrant(&["token"])));
        forget();
        due.push(time(keygrant(&["token"])));
        // One raw round trip to the token endpoint (a refused refresh: same path, no state).
        let t = Instant::now();
        let _ = http
            .post(demo.base_url().join("oauth/token").unwrap())
            .header("User-Agent", "bench/1")
            .json(&serde_json::json!({"grant_type": "refresh_token", "refresh_token": "x", "client_secret": "y"}))
            .send()
            .unwrap();
        round_trip.push(t.elapsed());
    }
    let (version, cached, due, round_trip) = (
        median(version),
        median(cached),
        median(due),
        median(round_trip),
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "keygrant token, median of {RUNS} runs, {} ms latency per response",
        LATENCY.as_millis()
    );
    println!("  keygrant --version            {:>7.1} ms", ms(version));
    println!(
        "  token, shared token valid     {:>7.1} ms   {:.2}x --version (target <= 1.5x)",
        ms(cached),
        ms(cached) / ms(version)
    );
    println!("  token, refresh due            {:>7.1} ms", ms(due));
    println!("  one token round trip          {:>7.1} ms", ms(round_trip));
    println!(
        "  refresh's extra time          {:>7.1} ms   {:.2} round trips (target ~1)",
        ms(due.saturating_sub(cached)),
        ms(due.saturating_sub(cached)) / ms(round_trip)
    );

    // 50 processes at once on an expired token, refresh tokens rotating.
    demo.rotate_refresh_tokens();
    forget();
    let before = demo.token_requests().len();
    let t = Instant::now();
    let children: Vec<_> = (0..50)
        .map(|_| keygrant(&["token"]).stdout(Stdio::piped()).spawn().unwrap())
        .collect();
    let tokens: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success());
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    let wall = t.elapsed();
    let distinct: std::collections::HashSet<_> = tokens.iter().collect();
    println!(
        "  50 processes, token expired   {:>7.1} ms   {} token request(s) (target 1), {} distinct token(s)",
        ms(wall),
        demo.token_requests().len() - before,
        distinct.len()
    );
    rt.block_on(core.disconnect()).unwrap();
}
