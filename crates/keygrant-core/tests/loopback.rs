//! The loopback listener under hostile local traffic: 1,000 junk requests (wrong paths,
//! favicon, wrong or missing state, other methods with the right state, oversized headers,
//! TLS bytes, slow clients that never finish) before and during a real sign-in. The real
//! redirect still completes, no forged code is exchanged, nothing listens on IPv6, and the port
//! is closed afterwards so a replayed callback reaches nothing.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use keygrant_core::app::{Core, DemoSource};
use keygrant_core::brokers::BrokerKind;
use keygrant_demo::DemoBroker;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

/// Sends `bytes` and reads whatever comes back, within a bound; errors are the point.
async fn raw(port: u16, bytes: Vec<u8>) {
    let Ok(Ok(mut s)) = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    else {
        return;
    };
    let _ = s.write_all(&bytes).await;
    let mut buf = vec![0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
}

fn junk(i: usize, path: &str, state: &str) -> Vec<u8> {
    let r = |line: String| {
        format!("{line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").into_bytes()
    };
    match i % 9 {
        0 => r("GET /favicon.ico HTTP/1.1".into()),
        1 => r(format!("GET {path}?state=wrong-{i}&code=forged HTTP/1.1")),
        2 => r(format!("GET {path}?code=forged HTTP/1.1")),
        3 => r(format!(
            "POST {path}?state={state}&code=forged-post HTTP/1.1\r\nContent-Length: 0"
        )),
        4 => r(format!(
            "HEAD {path}?state={state}&code=forged-head HTTP/1.1"
        )),
        5 => r(format!(
            "GET {path}?state=wrong&code=forged-huge HTTP/1.1\r\nX-Junk: {}",
            "a".repeat(70_000)
        )),
        6 => b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all".to_vec(),
        7 => r(format!("GET /../../etc/passwd?state={state} HTTP/1.1")),
        _ => r(format!(
            "GET {path}?state={state}&state=other&code=forged-twice HTTP/1.1"
        )),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_junk_requests_do_not_stop_or_hijack_the_real_redirect() {
    let demo = DemoBroker::start(0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (vault, _) = memory();
    let core = Core::new(
        dir.path(),
        vault,
        DemoSource::At(demo.base_url()),
        Duration::from_secs(90),
    );
    let port_seen = Arc::new(Mutex::new(None::<u16>));
    let port_seen2 = port_seen.clone();
    let junk_done = Arc::new(Mutex::new(None::<tokio::task::JoinHandle<bool>>));
    let junk_done2 = junk_done.clone();
    let browser = move |url: &Url| {
        let redirect = redirect_of(url);
        let port = redirect.port().unwrap();
        let path = redirect.path().to_string();
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        *port_seen2.lock().unwrap() = Some(port);
        let url = url.clone();
        *junk_done2.lock().unwrap() = Some(tokio::spawn(async move {
            // Slow clients: connections that send half a request and hold it open.
            let mut slow = Vec::new();
            for _ in 0..20 {
                if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                    let _ = s.write_all(b"GET /callback?state=").await;
                    slow.push(s);
                }
            }
            let ipv6_listening = tokio::net::TcpStream::connect(("::1", port)).await.is_ok();
            let requests = futures::stream::iter(0..1000).for_each_concurrent(50, |i| {
                let bytes = junk(i, &path, &state);
                async move { raw(port, bytes).await }
            });
            // The real browser arrives while the junk is still coming.
            let approve = tokio::process::Command::new("python3")
                .arg(browser_script())
                .args(["--decision", "approve", "--delay", "1"])
                .arg(url.as_str())
                .status();
            let (_, status) = futures::join!(requests, approve);
            assert!(status.unwrap().success(), "the scripted browser finished");
            drop(slow);
            ipv6_listening
        }));
        Ok(())
    };
    use futures::StreamExt;
    let request = demo_connect(BrokerKind::Tastytrade);
    let view = tokio::time::timeout(Duration::from_secs(120), core.connect(request, browser))
        .await
        .expect("the flow ends within its bound")
        .expect("the real redirect completed the flow");
    let handle = junk_done.lock().unwrap().take().unwrap();
    let ipv6_listening = handle.await.unwrap();
    assert!(!ipv6_listening, "the listener is on 127.0.0.1 only");
    // Only the real code was exchanged: no forged one reached the token endpoint.
    let exchanges: Vec<_> = demo
        .token_requests()
        .into_iter()
        .filter(|r| r.grant_type == "authorization_code")
        .collect();
    assert_eq!(exchanges.len(), 1);
    assert_eq!(core.accounts().await.unwrap().len(), 3);
    // The listener is gone: a replayed callback reaches nothing and changes nothing.
    let port = port_seen.lock().unwrap().unwrap();
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "port {port} closed after the flow"
    );
    assert_eq!(
        demo.token_requests()
            .iter()
            .filter(|r| r.grant_type == "authorization_code")
            .count(),
        1
    );
    core.disconnect().await.unwrap();
    let _ = view;
}
