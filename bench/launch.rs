//! A returning user's launch, measured in one run against baselines from the same run: from
//! spawning the app to the moment every account's balances have been served to the page
//! (the page renders each row's net liquidating value as its answer arrives), with 150 ms of
//! latency injected on every Demo broker response, against a bare Tauri window's spawn-to-page
//! time plus three measured round trips (refresh, account list, details); the same with 20
//! accounts against 3; and the memory of the window with 20 accounts loaded against the bare
//! window's.
//!
//! Needs the built app and bare window, a display, D-Bus and the keyring: run by
//! `scripts/bench.sh`, which sets `KEYGRANT_APP` and `BARE_APP` and runs this under
//! `xvfb-run dbus-run-session scripts/with-keyring.sh`. Prints ratios.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::{BrokerKind, Environment};
use keygrant_core::vault::Vault;
use keygrant_core::views::ConnectRequest;
use keygrant_demo::{DemoBroker, DemoConfig, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};

const LATENCY: Duration = Duration::from_millis(150);
const RUNS: usize = 5;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// PSS in KiB of `pid` and every process below it.
fn pss_tree(pid: u32) -> u64 {
    fn children(pid: u32) -> Vec<u32> {
        let mut out = Vec::new();
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|s| s.parse::<u32>().ok());
            if ppid == Some(pid) {
                out.push(p);
                out.extend(children(p));
            }
        }
        out
    }
    std::iter::once(pid)
        .chain(children(pid))
        .map(|p| {
            std::fs::read_to_string(format!("/proc/{p}/smaps_rollup"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}

/// Spawns `cmd`, waits until `count` lines of its output contain `marker`; returns the time
/// from spawn and the PSS of its process tree 1 s later. The process is killed after.
fn launch(mut cmd: Command, marker: &str, count: usize) -> (Duration, u64) {
    // The app's output goes to a file, as a desktop's would (not a pipe), polled for the marker.
    let log = tempfile::NamedTempFile::new().unwrap();
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.reopen().unwrap()))
        .stderr(Stdio::from(log.reopen().unwrap()))
        .spawn()
        .expect("the app starts");
    let elapsed = loop {
        let said = std::fs::read_to_string(log.path()).unwrap_or_default();
        if said.matches(marker).count() >= count {
            break start.elapsed();
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let tail: Vec<&str> = said.lines().rev().take(20).collect();
            panic!(
                "no \"{marker}\" x{count} within 60 s; the app said (last lines first):\n{}",
                tail.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    std::thread::sleep(Duration::from_secs(1));
    let pss = pss_tree(child.id());
    let _ = child.kill();
    let _ = child.wait();
    (elapsed, pss)
}

/// A returning user with `accounts` Demo accounts: connected once, then relaunched.
fn returning_user(
    rt: &tokio::runtime::Runtime,
    accounts: Option<usize>,
) -> (DemoBroker, tempfile::TempDir) {
    let demo = rt
        .block_on(DemoBroker::start_with(
            0,
            DemoConfig {
                accounts,
                ..Default::default()
            },
        ))
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let core = Core::new(
        &home.path().join("config/app.keygrant.desktop"),
        Vault::keyring(),
        DemoSource::At(demo.base_url()),
        Duration::from_secs(30),
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/approve.py");
    rt.block_on(core.connect(
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
    (demo, home)
}

fn app_command(app: &str, demo: &DemoBroker, home: &std::path::Path) -> Command {
    let mut c = Command::new(app);
    c.env("XDG_CONFIG_HOME", home.join("config"))
        .env("KEYGRANT_DEMO_BROKER", demo.base_url().as_str())
        .env("RUST_LOG", "keygrant=info")
        .env("NO_AT_BRIDGE", "1");
    c
}

fn main() {
    let app = std::env::var("KEYGRANT_APP").expect("KEYGRANT_APP: the built app");
    let bare = std::env::var("BARE_APP").expect("BARE_APP: the built bare window");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;

    // One raw round trip with the injected latency.
    let (demo3, home3) = returning_user(&rt, None);
    let http = reqwest::blocking::Client::new();
    let mut trips = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let _ = http
            .get(demo3.base_url().join("customers/me/accounts").unwrap())
            .header("User-Agent", "bench/1")
            .send()
            .unwrap();
        trips.push(t.elapsed());
    }
    let trip = median(trips);

    let mut bare_times = Vec::new();
    let mut bare_pss = 0;
    for i in 0..=RUNS {
        let home = tempfile::tempdir().unwrap();
        let mut c = Command::new(&bare);
        c.env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("NO_AT_BRIDGE", "1");
        let (t, pss) = launch(c, "bare-window: page ready", 1);
        if i > 0 {
            bare_times.push(t);
            bare_pss = pss;
        }
    }
    let bare_time = median(bare_times);

    let mut three = Vec::new();
    for i in 0..=RUNS {
        let (t, _) = launch(
            app_command(&app, &demo3, home3.path()),
            "account detail served",
            3,
        );
        if i > 0 {
            three.push(t);
        }
    }
    let three = median(three);
    let (demo20, home20) = returning_user(&rt, Some(20));
    let mut twenty = Vec::new();
    let mut pss20 = 0;
    for i in 0..=RUNS {
        let (t, pss) = launch(
            app_command(&app, &demo20, home20.path()),
            "account detail served",
            20,
        );
        if i > 0 {
            twenty.push(t);
            pss20 = pss;
        }
    }
    let twenty = median(twenty);
    let floor = bare_time + trip * 3;
    println!("launch to accounts on screen, returning user, {} ms latency per response, median of {RUNS}", LATENCY.as_millis());
    println!("  bare window to page            {:>7.0} ms", ms(bare_time));
    println!("  one round trip                 {:>7.0} ms", ms(trip));
    println!("  floor: bare + 3 round trips    {:>7.0} ms", ms(floor));
    println!(
        "  Keygrant, 3 accounts           {:>7.0} ms   {:.2}x the floor (goal <= 1.2x)",
        ms(three),
        ms(three) / ms(floor)
    );
    println!(
        "  Keygrant, 20 accounts          {:>7.0} ms   {:.2}x the 3-account launch (goal <= 1.1x)",
        ms(twenty),
        ms(twenty) / ms(three)
    );
    println!(
        "  memory, 20 accounts loaded     {:>7.1} MiB  {:.2}x the bare window's {:.1} MiB",
        pss20 as f64 / 1024.0,
        pss20 as f64 / bare_pss.max(1) as f64,
        bare_pss as f64 / 1024.0
    );
    for (demo, home) in [(demo3, home3), (demo20, home20)] {
        let core = Core::new(
            &home.path().join("config/app.keygrant.desktop"),
            Vault::keyring(),
            DemoSource::At(demo.base_url()),
            Duration::from_secs(30),
        );
        let _ = rt.block_on(core.disconnect());
    }
}
