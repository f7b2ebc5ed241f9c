//! The HTTPS loopback listener (Charles Schwab registers only `https://127.0.0.1:<port>`), over
//! real TCP and TLS: a client that trusts the sign-in's self-signed certificate, one that
//! does not (as a browser before the user clicks through its warning), one that accepts it
//! anyway (after the click), a wrong `state`, plain HTTP and junk at the TLS port, the
//! addresses it listens on, and the scripted browser following a Schwab-shaped redirect (the
//! code ending in an encoded `@`).

mod common;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use common::*;
use keygrant_core::error::{ErrorKind, Result};
use keygrant_core::oauth::loopback::{Callback, Loopback};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

const STATE: &str = "st-9f8e7d6c5b4a";
/// Shaped like Schwab's: dotted base64 ending in an encoded `@` (docs/brokers.md#schwab-oauth).
const CODE_SENT: &str = "C0.b2F1dGgyLmJkYy5zY2h3YWIuY29t.AbC-x_9z%40";
const CODE: &str = "C0.b2F1dGgyLmJkYy5zY2h3YWIuY29t.AbC-x_9z@";

/// A TLS listener waiting for one redirect in the background.
struct Waiting {
    uri: Url,
    der: Vec<u8>,
    fingerprint: String,
    port: u16,
    wait: JoinHandle<Result<Callback>>,
    _cancel: watch::Sender<bool>,
}

async fn waiting(loopback: Loopback) -> Waiting {
    // Under RUST_LOG (scripts/test.sh) what the listener logs joins the scanned log.
    init_logging();
    let uri = loopback.redirect_uri().clone();
    let der = loopback
        .certificate_der()
        .expect("a TLS listener has a certificate");
    let fingerprint = loopback.certificate_fingerprint().unwrap();
    let port = uri.port().unwrap();
    let (cancel, cancel_rx) = watch::channel(false);
    let wait = tokio::spawn(loopback.wait(STATE.into(), Duration::from_secs(60), cancel_rx));
    Waiting {
        uri,
        der,
        fingerprint,
        port,
        wait,
        _cancel: cancel,
    }
}

async fn tls_waiting(path: &str) -> Waiting {
    waiting(Loopback::bind_tls(0, path).await.unwrap()).await
}

impl Waiting {
    /// The redirect the broker sends: the registered URI with code, session and state.
    fn redirect(&self, state: &str) -> String {
        format!(
            "{}?code={CODE_SENT}&session=5f2e0c1a-7d3b-4e6f-9a8b-1c2d3e4f5a6b&state={state}",
            self.uri
        )
    }

    /// A client that trusts this sign-in's certificate and nothing else.
    fn trusting(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .no_proxy()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_der(&self.der).unwrap())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    }

    /// Waits for the listener's outcome, within a bound.
    async fn outcome(self) -> Result<Callback> {
        tokio::time::timeout(Duration::from_secs(10), self.wait)
            .await
            .expect("wait returns")
            .unwrap()
    }

    /// The port is closed once `wait` has returned.
    fn assert_closed(port: u16) {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} closed after the redirect"
        );
    }
}

fn plain_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The whole chain of an error, for assertions on why a request failed.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(" / ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_trusting_the_certificate_completes_the_redirect_and_the_code_is_decoded() {
    let w = tls_waiting("/callback").await;
    assert_eq!(w.uri.scheme(), "https");
    assert_eq!(w.uri.host_str(), Some("127.0.0.1"));
    assert_eq!(w.uri.path(), "/callback");
    // The fingerprint is the certificate's SHA-256, as browsers show it.
    use sha2::Digest;
    let expected: Vec<String> = sha2::Sha256::digest(&w.der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(w.fingerprint, expected.join(":"));
    assert_eq!(w.fingerprint.len(), 95);

    // The client checks the certificate for the IP address 127.0.0.1 (an IP SAN), signed by
    // the one root it trusts.
    let resp = w.trusting().get(w.redirect(STATE)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("Keygrant received the authorization"));
    let port = w.port;
    assert_eq!(w.outcome().await.unwrap(), Callback::Code(CODE.into()));
    Waiting::assert_closed(port);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_sign_in_gets_a_fresh_certificate_and_plain_listeners_have_none() {
    let a = Loopback::bind_tls(0, "/").await.unwrap();
    let b = Loopback::bind_tls(0, "/").await.unwrap();
    assert_ne!(a.certificate_der(), b.certificate_der());
    assert_ne!(a.certificate_fingerprint(), b.certificate_fingerprint());
    let plain = Loopback::bind(0, "/").await.unwrap();
    assert_eq!(plain.certificate_der(), None);
    assert_eq!(plain.certificate_fingerprint(), None);
    assert_eq!(plain.redirect_uri().scheme(), "http");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusting_client_fails_the_handshake_and_the_next_client_still_gets_through() {
    let w = tls_waiting("/").await;
    // A default client (the public roots only), as a browser before the user accepts the
    // warning: the handshake fails on the certificate.
    for _ in 0..3 {
        let e = plain_client()
            .get(w.redirect(STATE))
            .send()
            .await
            .unwrap_err();
        let why = chain(&e);
        assert!(
            why.contains("certificate") || why.contains("UnknownIssuer"),
            "{why}"
        );
    }
    assert!(
        !w.wait.is_finished(),
        "still waiting after failed handshakes"
    );
    let resp = w.trusting().get(w.redirect(STATE)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(w.outcome().await.unwrap(), Callback::Code(CODE.into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_accepting_any_certificate_completes_the_redirect() {
    // The user clicked through the browser's warning.
    let w = tls_waiting("/").await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let resp = client.get(w.redirect(STATE)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(w.outcome().await.unwrap(), Callback::Code(CODE.into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_state_over_tls_is_refused_and_the_flow_keeps_waiting() {
    let w = tls_waiting("/callback").await;
    let client = w.trusting();
    for bad in [
        w.redirect("another-sign-in"),
        format!("{}?code=forged", w.uri),
        format!("{}?code=forged&state={STATE}&state=x", w.uri),
    ] {
        let resp = client.get(&bad).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{bad}");
    }
    // The right state on another path, or by POST, is not the redirect either.
    let other_path = w.redirect(STATE).replacen("/callback", "/other", 1);
    assert_eq!(client.get(other_path).send().await.unwrap().status(), 404);
    assert_eq!(
        client
            .post(w.redirect(STATE))
            .send()
            .await
            .unwrap()
            .status(),
        405
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!w.wait.is_finished(), "still waiting");
    let resp = client.get(w.redirect(STATE)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(w.outcome().await.unwrap(), Callback::Code(CODE.into()));
}

/// Sends `bytes` on a new connection to the port and returns what comes back (bounded).
async fn raw(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let _ = s.write_all(bytes).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_http_and_junk_at_the_tls_port_do_not_stop_the_real_redirect() {
    let w = tls_waiting("/callback").await;
    let port = w.port;

    // Connections that send nothing, or half a ClientHello, and stay open.
    let mut idle = Vec::new();
    for bytes in [&b""[..], b"\x16\x03\x01\x02\x00\x01", b"\x16"] {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(bytes).await.unwrap();
        idle.push(s);
    }

    // A user who typed http://: a short readable answer, and the right state over plain HTTP
    // is not taken as the redirect.
    let plain = w.redirect(STATE).replacen("https://", "http://", 1);
    let resp = plain_client().get(&plain).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("only answers over HTTPS")
            && text.contains(&format!("https://127.0.0.1:{port}/callback")),
        "{text}"
    );
    let answer = raw(port, b"GET / HTTP/1.0\r\n\r\n").await;
    assert!(
        answer.starts_with(b"HTTP/1.1 400 Bad Request\r\n"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // Junk that is neither TLS nor HTTP is closed without an answer.
    assert!(raw(port, b"\x00\x01\x02 binary junk").await.is_empty());
    assert!(!w.wait.is_finished(), "plain HTTP did not end the flow");

    // The real redirect still arrives over TLS, with the idle connections still open.
    let resp = w.trusting().get(w.redirect(STATE)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(w.outcome().await.unwrap(), Callback::Code(CODE.into()));
    Waiting::assert_closed(port);
    drop(idle);
}

/// This machine's own addresses other than loopback (Linux: from /proc), each checked to be
/// local by binding it, so connecting to one never leaves the machine.
fn local_non_loopback_addresses() -> Vec<IpAddr> {
    let mut found: Vec<IpAddr> = Vec::new();
    if let Ok(trie) = std::fs::read_to_string("/proc/net/fib_trie") {
        let lines: Vec<&str> = trie.lines().collect();
        for pair in lines.windows(2) {
            if pair[1].trim() == "/32 host LOCAL" {
                if let Some(Ok(ip)) = pair[0]
                    .trim()
                    .strip_prefix("|-- ")
                    .map(str::parse::<IpAddr>)
                {
                    found.push(ip);
                }
            }
        }
    }
    if let Ok(v6) = std::fs::read_to_string("/proc/net/if_inet6") {
        for line in v6.lines() {
            let cols: Vec<&str> = line.split_whitespace().collect();
            // Scope 00 is global: link-local addresses would need an interface index.
            if cols.len() >= 4 && cols[3] == "00" {
                if let Ok(bits) = u128::from_str_radix(cols[0], 16) {
                    found.push(IpAddr::V6(bits.into()));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
        .into_iter()
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        .filter(|ip| std::net::TcpListener::bind(SocketAddr::new(*ip, 0)).is_ok())
        .collect()
}

async fn connects(addr: SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(addr)).await,
        Ok(Ok(_))
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tls_listener_is_bound_to_127_0_0_1_only() {
    let w = waiting(
        Loopback::bind_registered("https://127.0.0.1:0/", 0, "/")
            .await
            .unwrap(),
    )
    .await;
    let port = w.port;
    assert!(connects(SocketAddr::from(([127, 0, 0, 1], port))).await);
    // Not the wildcard address: another loopback address (all of 127/8 is this machine's on
    // Linux) and ::1 reach nothing.
    assert!(!connects(SocketAddr::from(([127, 0, 0, 2], port))).await);
    assert!(!connects(SocketAddr::new("::1".parse().unwrap(), port)).await);
    let others = local_non_loopback_addresses();
    if others.is_empty() {
        eprintln!("skipped the non-loopback check: this machine has no other local address");
    }
    for ip in others {
        assert!(
            !connects(SocketAddr::new(ip, port)).await,
            "the listener answered on {ip}"
        );
    }
    let resp = w.trusting().get(w.redirect(STATE)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(w.outcome().await.unwrap(), Callback::Code(CODE.into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_https_localhost_redirect_is_served_on_both_loopbacks_with_a_certificate_for_the_name() {
    let ipv6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    // A port free on both loopbacks.
    let port = loop {
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = v4.local_addr().unwrap().port();
        if !ipv6 || std::net::TcpListener::bind(("::1", port)).is_ok() {
            break port;
        }
    };
    let uri = format!("https://localhost:{port}/done");
    let loopback = Loopback::bind_registered(&uri, port, "/done")
        .await
        .unwrap();
    let addrs = loopback.local_addrs();
    assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    assert_eq!(addrs.len(), if ipv6 { 2 } else { 1 });
    let w = waiting(loopback).await;
    // The client checks the name `localhost` against the certificate (a DNS SAN); a refused
    // state first, on the IPv6 side where there is one.
    let target = if ipv6 { "[::1]" } else { "127.0.0.1" };
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_der(&w.der).unwrap())
        .resolve("localhost", format!("{target}:{port}").parse().unwrap())
        .build()
        .unwrap();
    let wrong = format!("{uri}?code=forged&state=other");
    assert_eq!(client.get(&wrong).send().await.unwrap().status(), 400);
    let right = format!("{uri}?code={CODE_SENT}&state={STATE}");
    assert_eq!(client.get(&right).send().await.unwrap().status(), 200);
    assert_eq!(w.outcome().await.unwrap(), Callback::Code(CODE.into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_https_port_taken_is_reported_on_the_redirect_field() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let uri = format!("https://127.0.0.1:{port}");
    let e = match Loopback::bind_registered(&uri, port, "/").await {
        Ok(_) => panic!("the port is taken"),
        Err(e) => e,
    };
    assert_eq!(e.kind, ErrorKind::PortInUse);
    assert_eq!(e.field.as_deref(), Some("redirect_uri"));
    assert!(e.message.contains(&format!("Port {port}")), "{}", e.message);
}

/// A stand-in for a broker's consent page whose Approve redirects the way Schwab does:
/// `<registered URI>?code=<ends %40>&session=<uuid>&state=<state>`.
async fn consent_server(redirect: String) -> (Url, JoinHandle<()>) {
    use axum::routing::{get, post};
    let page = "<!doctype html><form method=\"post\" action=\"/decide\">\
                <input type=\"hidden\" name=\"client_id\" value=\"app-key\">\
                <button name=\"decision\" value=\"approve\">Allow</button></form>";
    let app = axum::Router::new()
        .route(
            "/authorize",
            get(move || async move { axum::response::Html(page) }),
        )
        .route(
            "/decide",
            post(move || async move {
                axum::response::Redirect::to(&format!(
                    "{redirect}?code={CODE_SENT}&session=5f2e0c1a&state={STATE}"
                ))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (
        Url::parse(&format!("http://{addr}/authorize")).unwrap(),
        server,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_scripted_browser_clicks_through_the_certificate_warning_and_the_code_arrives() {
    // Registered the way Schwab's portal has it: https, 127.0.0.1, a port, no path.
    let w = tls_waiting("").await;
    let registered = w.uri.as_str().trim_end_matches('/').to_string();
    assert_eq!(registered, format!("https://127.0.0.1:{}", w.port));
    let (authorize, server) = consent_server(registered.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("browser.log");
    let log_arg = log.to_str().unwrap().to_string();
    let status = tokio::process::Command::new("python3")
        .arg(browser_script())
        .args(["--log", &log_arg, "--prefetch-first"])
        .arg(authorize.as_str())
        .status()
        .await
        .unwrap();
    assert!(status.success(), "the scripted browser finished: {status}");
    let fingerprint = w.fingerprint.clone();
    assert_eq!(w.outcome().await.unwrap(), Callback::Code(CODE.into()));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains(&format!(
            "accepted the self-signed certificate of {registered} (SHA-256 {fingerprint})"
        )),
        "{logged}"
    );
    assert!(logged.contains("prefetch status 503"), "{logged}");
    assert!(
        logged.contains(&format!("redirected to {registered} 200")),
        "{logged}"
    );
    assert!(!logged.contains("%40"), "no code in the log: {logged}");
    server.abort();
}
