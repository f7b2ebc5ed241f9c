//! The browser as it really is: none installed, a redirect the browser cannot bring back
//! (the user pastes the address it ended on), `localhost` resolved to IPv6, and speculative
//! prefetches of the redirect. Real HTTP against the Demo broker, the scripted browser,
//! secrets in memory.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::{BrokerKind, Environment};
use keygrant_core::error::{AppError, ErrorKind};
use keygrant_core::views::ConnectRequest;
use keygrant_demo::{DemoBroker, DEMO_CLIENT_ID};
use url::Url;

fn core(demo: &DemoBroker, dir: &std::path::Path) -> Arc<Core> {
    let (vault, _) = memory();
    Arc::new(
        Core::new(
            dir,
            vault,
            DemoSource::At(demo.base_url()),
            Duration::from_secs(30),
        )
        // Tastytrade "production" is this Demo broker, so a registered redirect URI is used.
        .with_override(
            BrokerKind::Tastytrade,
            Environment::Production,
            demo.base_url(),
        ),
    )
}

/// Tastytrade production (the Demo broker in its place) with a registered redirect URI.
fn registered(redirect_uri: String) -> ConnectRequest {
    ConnectRequest {
        environment: Environment::Production,
        redirect_uri: Some(redirect_uri),
        ..demo_connect(BrokerKind::Tastytrade)
    }
}

/// A port free on both 127.0.0.1 and ::1, below Linux's ephemeral range (32768 and up), so
/// the kernel does not hand it to another test's `bind(0)` or outgoing connection in the
/// moment between this check and the test's own bind; never the same port twice in a run.
fn free_dual_port() -> u16 {
    static NEXT: std::sync::Mutex<Option<u16>> = std::sync::Mutex::new(None);
    let mut next = NEXT.lock().unwrap();
    let mut port = next.unwrap_or(20_000 + (std::process::id() % 5_000) as u16 * 2);
    loop {
        port = if port >= 32_000 { 20_000 } else { port + 1 };
        let v4 = std::net::TcpListener::bind(("127.0.0.1", port));
        if v4.is_ok() && std::net::TcpListener::bind(("::1", port)).is_ok() {
            *next = Some(port);
            return port;
        }
    }
}

/// Runs the scripted browser on `url` with `args`; returns what it printed.
fn run_browser(url: &str, args: &[&str]) -> String {
    let out = Command::new("python3")
        .arg(browser_script())
        .args(args)
        .arg(url)
        .output()
        .expect("python3 runs the scripted browser");
    assert!(out.status.success(), "scripted browser failed: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn ipv6_loopback() -> bool {
    std::net::TcpListener::bind("[::1]:0").is_ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn with_no_browser_the_address_is_offered_and_the_pasted_final_address_finishes_the_sign_in()
{
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = core(&demo, dir.path());
    let no_browser = |_: &Url| -> keygrant_core::error::Result<()> {
        Err(AppError::new(
            ErrorKind::Internal,
            "Launcher \"gio\" \"open\" failed with ExitStatus(unix_wait_status(512))",
        ))
    };
    let connecting = {
        let core = core.clone();
        tokio::spawn(async move {
            core.connect(demo_connect(BrokerKind::Tastytrade), no_browser)
                .await
        })
    };

    // The waiting screen learns the address and that no browser opened; the state says so too.
    let shown = loop {
        match core.sign_in_waiting() {
            Some(w) if !connecting.is_finished() => break w,
            _ if connecting.is_finished() => panic!("the sign-in ended: {:?}", connecting.await),
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    assert!(!shown.browser_opened);
    assert!(
        shown.authorize_url.contains("state="),
        "{}",
        shown.authorize_url
    );
    assert_eq!(core.state().await.unwrap().sign_in, Some(shown.clone()));

    // The user opens it in a browser that cannot come back (on another machine, say) and
    // copies the address it ended on.
    let url = shown.authorize_url.clone();
    let ended_on = tokio::task::spawn_blocking(move || run_browser(&url, &["--print-redirect"]))
        .await
        .unwrap();
    let ended_on = Url::parse(&ended_on).unwrap();
    assert_eq!(ended_on.host_str(), Some("127.0.0.1"));

    // Junk and another sign-in's address are refused on the paste field and change nothing.
    let e = core.finish_sign_in("I approved it").unwrap_err();
    assert_eq!(e.field.as_deref(), Some("pasted_address"));
    let mut other = ended_on.clone();
    other
        .query_pairs_mut()
        .clear()
        .append_pair("code", "forged")
        .append_pair("state", "another-sign-in");
    let e = core.finish_sign_in(other.as_str()).unwrap_err();
    assert!(e.message.contains("another sign-in"), "{}", e.message);
    assert!(!connecting.is_finished(), "still waiting");
    assert_eq!(demo.token_requests().len(), 0, "no code was spent");

    // The real address, as a browser that upgraded it to https shows it, finishes the sign-in.
    let pasted = format!(
        "  {}\n",
        ended_on.as_str().replacen("http://", "https://", 1)
    );
    core.finish_sign_in(&pasted).unwrap();
    let view = connecting.await.unwrap().expect("signed in");
    assert_eq!(view.client_id, DEMO_CLIENT_ID);
    assert_eq!(demo.token_requests().len(), 1, "one code exchange");
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    assert_eq!(core.sign_in_waiting(), None);
    let late = core.finish_sign_in(ended_on.as_str()).unwrap_err();
    assert!(
        late.message.contains("No sign-in is waiting"),
        "{}",
        late.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registered_localhost_redirect_is_served_on_ipv6_loopback_too() {
    if !ipv6_loopback() {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = core(&demo, dir.path());
    let port = free_dual_port();
    let log = dir.path().join("browser.log");
    let log_arg = log.to_str().unwrap().to_string();
    let browser = std::sync::Arc::new(std::sync::Mutex::new(None));
    let browser_slot = browser.clone();
    let view = core
        .connect(
            registered(format!("http://localhost:{port}/callback")),
            move |url: &Url| {
                // A browser that resolves localhost to ::1 first.
                let url = url.to_string();
                *browser_slot.lock().unwrap() = Some(std::thread::spawn(move || {
                    run_browser(&url, &["--redirect-host", "[::1]", "--log", &log_arg])
                }));
                Ok(())
            },
        )
        .await
        .expect("the redirect to [::1] finished the sign-in");
    assert_eq!(view.client_id, DEMO_CLIENT_ID);
    // The browser logs the callback's answer once it has read it, which can be after the
    // sign-in finished here.
    let browser = browser
        .lock()
        .unwrap()
        .take()
        .expect("the browser was opened");
    browser.join().unwrap();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains(&format!("redirected to http://[::1]:{port}/callback 200")),
        "{logged}"
    );

    // Both ports are free again.
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
    assert!(std::net::TcpListener::bind(("::1", port)).is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_taken_on_ipv6_loopback_only_is_reported_on_the_redirect_field() {
    if !ipv6_loopback() {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = core(&demo, dir.path());
    let port = free_dual_port();
    let _busy = std::net::TcpListener::bind(("::1", port)).unwrap();
    let e = core
        .connect(
            registered(format!("http://localhost:{port}/callback")),
            |_: &Url| panic!("no browser when the port is taken"),
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::PortInUse);
    assert_eq!(e.field.as_deref(), Some("redirect_uri"));
    assert!(
        e.message.contains(&format!("Port {port}")) && e.message.contains("::1"),
        "{}",
        e.message
    );
    // The 127.0.0.1 side was let go.
    assert!(std::net::TcpListener::bind(("127.0.0.1", port)).is_ok());
    // An address that names 127.0.0.1 is not served on ::1, so the same port works.
    let view = core
        .connect(
            registered(format!("http://127.0.0.1:{port}/callback")),
            scripted_browser("approve"),
        )
        .await
        .unwrap();
    assert_eq!(view.client_id, DEMO_CLIENT_ID);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_speculative_prefetch_of_the_redirect_does_not_use_it_up() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let core = core(&demo, dir.path());
    let log = dir.path().join("browser.log");
    let log_arg = log.to_str().unwrap().to_string();
    core.connect(demo_connect(BrokerKind::Tastytrade), move |url: &Url| {
        let url = url.to_string();
        std::thread::spawn(move || run_browser(&url, &["--prefetch-first", "--log", &log_arg]));
        Ok(())
    })
    .await
    .expect("the real navigation finished the sign-in");
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("prefetch status 503"), "{logged}");
    assert!(
        logged.contains("/callback 200"),
        "the user saw the signed-in page: {logged}"
    );
    assert_eq!(demo.token_requests().len(), 1);
}
