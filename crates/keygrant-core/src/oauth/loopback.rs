//! The loopback redirect listener (RFC 8252 section 7.3): bound to 127.0.0.1 only, it waits for
//! the one request at the redirect path that carries the flow's `state`, answers it with a
//! small self-contained page, and closes. Requests to other paths, or with a wrong or missing
//! `state`, are answered and ignored, so junk at the port cannot end or hijack the flow.
//!
//! When the registered redirect URI is `https://` (Charles Schwab registers only those), the
//! same listener speaks TLS with a certificate made for this one sign-in: self-signed, for
//! 127.0.0.1, ::1 and `localhost`, its key generated at run time and kept in memory only. The
//! browser warns about it once; the user goes on, and the redirect arrives as over plain HTTP
//! (docs/brokers.md#oauth-2-loopback-redirect).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;
use url::Url;

use crate::error::{AppError, ErrorKind, Result};

pub use super::callback::Callback;
use super::callback::{parse_callback, Refusal};

/// Listeners on the loopback interface waiting for one redirect (RFC 8252 section 7.3): on
/// 127.0.0.1, and also on ::1 when the registered redirect URI names `localhost` (a browser
/// may resolve it to either; docs/brokers.md#oauth-2-loopback-redirect). They answer the
/// browser with a page and hand the `code`, or the broker's error, to the sign-in. Over TLS
/// when the redirect URI is `https://` ([`Loopback::bind_tls`]). Freed when dropped or stopped.
pub struct Loopback {
    listeners: Vec<TcpListener>,
    redirect_uri: Url,
    tls: Option<Tls>,
}

/// Serving listeners; [`Serving::stop`] frees their ports.
pub struct Serving {
    stop: watch::Sender<bool>,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

/// How long a connection to the HTTPS listener has to send its first byte and finish the TLS
/// handshake (each connection on its own: a slow one holds up no other).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate and server configuration of one HTTPS sign-in.
struct Tls {
    config: Arc<rustls::ServerConfig>,
    certificate: Vec<u8>,
}

impl Tls {
    /// A fresh ECDSA P-256 key and a self-signed certificate for 127.0.0.1, ::1 and
    /// `localhost`, valid from an hour ago for a day, served with rustls on ring (the provider
    /// reqwest's rustls already uses; given explicitly, so no process-wide default is needed).
    /// Nothing is written to disk; the key is dropped with the listener.
    fn generate() -> Result<Tls> {
        fn fail(e: impl std::fmt::Display) -> AppError {
            AppError::internal(format!(
                "Could not make the certificate for the HTTPS redirect: {e}"
            ))
        }
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(fail)?;
        let mut params = rcgen::CertificateParams::new(vec![
            "127.0.0.1".to_string(),
            "::1".to_string(),
            "localhost".to_string(),
        ])
        .map_err(fail)?;
        let mut name = rcgen::DistinguishedName::new();
        name.push(
            rcgen::DnType::CommonName,
            "Keygrant sign-in on this computer",
        );
        name.push(rcgen::DnType::OrganizationName, "Keygrant");
        params.distinguished_name = name;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::hours(1);
        params.not_after = now + time::Duration::days(1);
        params.is_ca = rcgen::IsCa::ExplicitNoCa;
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.self_signed(&key).map_err(fail)?;
        let der = cert.der().clone();
        let private = rustls::pki_types::PrivatePkcs8KeyDer::from(key.serialize_der());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(fail)?
            .with_no_client_auth()
            .with_single_cert(vec![der.clone()], private.into())
            .map_err(fail)?;
        // The router speaks HTTP/1.1 only.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            config: Arc::new(config),
            certificate: der.to_vec(),
        })
    }
}

/// A loopback TCP listener that hands axum only connections that finished a TLS handshake.
/// Each handshake runs in its own task, bounded by [`HANDSHAKE_TIMEOUT`]; a connection that
/// fails it (an untrusted certificate, junk, plain HTTP) is closed and the listener goes on.
/// Dropping it closes the port at once and ends the handshakes under way.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    /// What a plain-HTTP request gets: a short text saying to use `https://`.
    plain_answer: Arc<[u8]>,
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl TlsListener {
    fn new(tcp: TcpListener, acceptor: TlsAcceptor, https_uri: &Url) -> TlsListener {
        let text = format!(
            "This address only answers over HTTPS. Keygrant is waiting for the broker's redirect at \
             {https_uri} (with https://, not http://); nothing sent here over plain HTTP is used.\n"
        );
        let answer = format!(
            "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{text}",
            text.len()
        );
        TlsListener {
            tcp,
            acceptor,
            plain_answer: answer.into_bytes().into(),
            handshakes: JoinSet::new(),
        }
    }
}

/// Reads the first byte of `stream` and, for a TLS handshake record, completes the handshake.
/// A request in plain HTTP (it starts with a letter, the method) gets `plain_answer` and is
/// closed; anything else is closed at once.
async fn handshake(
    stream: TcpStream,
    addr: SocketAddr,
    acceptor: TlsAcceptor,
    plain_answer: Arc<[u8]>,
) -> Option<(TlsStream<TcpStream>, SocketAddr)> {
    let mut first = [0u8; 1];
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.peek(&mut first)).await {
        Ok(Ok(1)) => {}
        _ => return None,
    }
    // 0x16: a TLS handshake record (RFC 8446 section 5.1), which a ClientHello starts with.
    if first[0] != 0x16 {
        if first[0].is_ascii_alphabetic() {
            answer_plain(stream, &plain_answer).await;
        }
        return None;
    }
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => Some((tls, addr)),
        Ok(Err(e)) => {
            // Most often the browser's or client's refusal of the self-signed certificate.
            tracing::debug!(error = %e, "loopback: TLS handshake failed");
            None
        }
        Err(_) => None,
    }
}

/// Reads the plain-HTTP request's head (a bounded amount, briefly), so closing the socket
/// does not reset the connection before the client reads the answer, then sends `answer`.
async fn answer_plain(mut stream: TcpStream, answer: &[u8]) {
    tracing::info!("loopback: a plain-HTTP request reached the HTTPS listener; told to use https");
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    let read = async {
        while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), read).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = stream.write_all(answer).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((stream, addr)) => {
                        self.handshakes.spawn(handshake(
                            stream,
                            addr,
                            self.acceptor.clone(),
                            self.plain_answer.clone(),
                        ));
                    }
                    // As axum's own TCP listener does: a failed accept (often too many open
                    // files) is waited out, not fatal.
                    Err(e) => {
                        tracing::debug!(error = %e, "loopback: accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                Some(done) = self.handshakes.join_next() => {
                    if let Ok(Some(ready)) = done {
                        return ready;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

fn bind_error(e: std::io::Error, port: u16, addr: &str, example: &str) -> AppError {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => AppError::new(
            ErrorKind::PortInUse,
            format!(
                "This computer does not let Keygrant listen on port {port} (ports below 1024 need \
                 administrator rights). Register a redirect URI with a higher port, such as \
                 {example}, with your OAuth application and enter it here."
            ),
        )
        .on_field("redirect_uri"),
        std::io::ErrorKind::AddrInUse => AppError::new(
            ErrorKind::PortInUse,
            format!(
                "Port {port} on this computer ({addr}) is already in use by another program, so \
                 the broker's redirect cannot reach Keygrant. Close that program (often another \
                 sign-in helper or a development server) and press Connect again."
            ),
        )
        .on_field("redirect_uri"),
        _ => AppError::internal(format!("Could not listen for the browser's redirect: {e}")),
    }
}

/// The higher-port example a "port below 1024" error suggests, in the redirect's own scheme.
fn example_uri(tls: bool) -> &'static str {
    if tls {
        "https://127.0.0.1:8182"
    } else {
        "http://localhost:8000"
    }
}

impl Loopback {
    /// Binds 127.0.0.1 on `port` (0 = a free port) and builds `http://127.0.0.1:<port><path>`.
    /// Errors: [`ErrorKind::PortInUse`] on field `redirect_uri` (taken, or below 1024).
    pub async fn bind(port: u16, path: &str) -> Result<Loopback> {
        Self::bind_v4(port, path, None).await
    }

    /// Like [`Loopback::bind`], but served over TLS: binds 127.0.0.1 on `port` (0 = a free
    /// port), builds `https://127.0.0.1:<port><path>`, and makes this sign-in's certificate (see
    /// [`Loopback::certificate_der`]). A plain-HTTP request to the port gets a short text
    /// answer saying to use `https://` and is closed; a failed handshake closes only that
    /// connection. Errors: [`ErrorKind::PortInUse`] on field `redirect_uri` (taken, or below
    /// 1024); [`ErrorKind::Internal`] if the certificate cannot be made.
    pub async fn bind_tls(port: u16, path: &str) -> Result<Loopback> {
        Self::bind_v4(port, path, Some(Tls::generate()?)).await
    }

    async fn bind_v4(port: u16, path: &str, tls: Option<Tls>) -> Result<Loopback> {
        let example = example_uri(tls.is_some());
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| bind_error(e, port, "127.0.0.1", example))?;
        let addr = listener
            .local_addr()
            .map_err(|e| AppError::internal(e.to_string()))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let redirect_uri = Url::parse(&format!("{scheme}://{addr}{path}"))
            .map_err(|e| AppError::internal(format!("bad redirect path: {e}")))?;
        Ok(Loopback {
            listeners: vec![listener],
            redirect_uri,
            tls,
        })
    }

    /// Listens for the registered redirect URI `uri` on its `port`: on 127.0.0.1, and on ::1
    /// too when its host is `localhost` (skipped where this computer has no IPv6 loopback).
    /// Never on any other interface. An `https://` URI is served over TLS, as
    /// [`Loopback::bind_tls`] does. Errors: [`ErrorKind::PortInUse`] on field `redirect_uri`
    /// when the port is taken on either address (or is below 1024).
    pub async fn bind_registered(uri: &str, port: u16, path: &str) -> Result<Loopback> {
        let parsed = Url::parse(uri).ok();
        let https = parsed.as_ref().is_some_and(|u| u.scheme() == "https");
        let mut loopback = if https {
            Self::bind_tls(port, path).await?
        } else {
            Self::bind(port, path).await?
        };
        let localhost = parsed.is_some_and(|u| u.host_str() == Some("localhost"));
        if localhost {
            match TcpListener::bind(("::1", port)).await {
                Ok(v6) => loopback.listeners.push(v6),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::AddrNotAvailable | std::io::ErrorKind::Unsupported
                    ) || e.raw_os_error() == Some(97) =>
                {
                    tracing::info!("no IPv6 loopback here; listening on 127.0.0.1 only");
                }
                Err(e) => return Err(bind_error(e, port, "::1", example_uri(https))),
            }
        }
        Ok(loopback)
    }

    /// The DER bytes of the self-signed certificate the listener presents over TLS, made for
    /// this sign-in (a fresh key each time, never written to disk); `None` for a plain-HTTP
    /// listener. A test client can trust it as a root; the UI can offer it for inspection.
    pub fn certificate_der(&self) -> Option<Vec<u8>> {
        self.tls.as_ref().map(|t| t.certificate.clone())
    }

    /// The SHA-256 fingerprint of [`Loopback::certificate_der`], as browsers show it in their
    /// certificate viewer: 32 bytes in upper-case hex, colon-separated
    /// (`"3A:F0:…:9C"`, 95 characters). `None` for a plain-HTTP listener. The waiting screen may
    /// show it so the user can check that the certificate the browser warns about is Keygrant's.
    pub fn certificate_fingerprint(&self) -> Option<String> {
        self.tls.as_ref().map(|t| fingerprint(&t.certificate))
    }

    /// The redirect URI to send in the authorize request: `http://127.0.0.1:<port><path>`
    /// (`https://` for a TLS listener).
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The addresses listened on: 127.0.0.1, then ::1 when bound.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Starts answering requests: the one at the redirect path that carries
    /// `expected_state` goes to `tx`; everything else is answered and ignored.
    pub fn serve(self, expected_state: String, tx: mpsc::Sender<Callback>) -> Serving {
        let handler_state = Arc::new(HandlerState {
            path: self.redirect_uri.path().to_string(),
            expected_state,
            tx,
        });
        let app = Router::new().fallback(handle).with_state(handler_state);
        let (stop, stop_rx) = watch::channel(false);
        let acceptor = self
            .tls
            .as_ref()
            .map(|t| TlsAcceptor::from(t.config.clone()));
        let redirect_uri = self.redirect_uri;
        let servers = self
            .listeners
            .into_iter()
            .map(|listener| {
                let app = app.clone();
                let mut stop_rx = stop_rx.clone();
                let shutdown = async move {
                    let _ = stop_rx.wait_for(|s| *s).await;
                };
                match acceptor.clone() {
                    None => tokio::spawn(async move {
                        let _ = axum::serve(listener, app)
                            .with_graceful_shutdown(shutdown)
                            .await;
                    }),
                    Some(acceptor) => {
                        let listener = TlsListener::new(listener, acceptor, &redirect_uri);
                        tokio::spawn(async move {
                            let _ = axum::serve(listener, app)
                                .with_graceful_shutdown(shutdown)
                                .await;
                        })
                    }
                }
            })
            .collect();
        Serving { stop, servers }
    }

    /// Serves until a request with the expected `state` arrives, `cancel` flips to true, or
    /// `timeout` passes. The port is free again when this returns.
    pub async fn wait(
        self,
        expected_state: String,
        timeout: Duration,
        cancel: watch::Receiver<bool>,
    ) -> Result<Callback> {
        let (tx, rx) = mpsc::channel::<Callback>(1);
        let serving = self.serve(expected_state, tx);
        let outcome = wait_for(rx, timeout, cancel).await;
        serving.stop().await;
        outcome
    }
}

impl Serving {
    /// Stops answering; the ports are free when this returns. The answer page gets a moment
    /// to reach the browser first.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for server in self.servers {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

/// Upper-case hex, colon-separated, of the SHA-256 of `der`.
fn fingerprint(der: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Waits for the first callback, a cancel, or the timeout, whichever comes first.
pub(crate) async fn wait_for(
    mut rx: mpsc::Receiver<Callback>,
    timeout: Duration,
    mut cancel: watch::Receiver<bool>,
) -> Result<Callback> {
    tokio::select! {
        cb = rx.recv() => cb.ok_or_else(|| AppError::internal("the redirect listener stopped")),
        _ = cancel.wait_for(|c| *c) => Err(AppError::new(ErrorKind::Cancelled, "Sign-in cancelled. Nothing was saved.")),
        _ = tokio::time::sleep(timeout) => Err(AppError::new(
            ErrorKind::Timeout,
            format!("No answer came back from the browser within {} minutes, so sign-in was \
                     stopped and nothing was saved. Press Connect to try again.", timeout.as_secs().div_ceil(60)),
        )),
    }
}

struct HandlerState {
    path: String,
    expected_state: String,
    tx: mpsc::Sender<Callback>,
}

/// A browser's speculative fetch (prefetch, prerender, link preview), which must not use up
/// the one redirect: the user's real navigation has to get the answer page.
fn speculative(headers: &HeaderMap) -> bool {
    ["sec-purpose", "purpose", "x-purpose", "x-moz"]
        .iter()
        .filter_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .any(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("prefetch") || v.contains("prerender") || v.contains("preview")
        })
}

async fn handle(
    State(st): State<Arc<HandlerState>>,
    method: axum::http::Method,
    headers: HeaderMap,
    uri: axum::http::Uri,
    RawQuery(query): RawQuery,
) -> Response {
    if speculative(&headers) {
        // Not an answer: a non-2xx, uncacheable reply makes the browser fetch for real later.
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not the sign-in response",
            "This was a speculative request; Keygrant waits for the real one.",
        );
    }
    // A browser follows a redirect with GET; anything else (a form post, HEAD, a probe) is not
    // the broker's answer, even with the right state.
    if method != axum::http::Method::GET {
        return page(
            StatusCode::METHOD_NOT_ALLOWED,
            "Not the sign-in response",
            "Keygrant only accepts the broker's redirect here.",
        );
    }
    if uri.path() != st.path {
        return page(
            StatusCode::NOT_FOUND,
            "Not found",
            "Keygrant is waiting for the broker's redirect, not for this address.",
        );
    }
    let cb = match parse_callback(query.as_deref().unwrap_or_default(), &st.expected_state) {
        Ok(cb) => cb,
        Err(Refusal::WrongState) => {
            tracing::warn!("loopback: ignored a request with a missing or wrong state");
            return page(
                StatusCode::BAD_REQUEST,
                "This sign-in response is not the one Keygrant is waiting for",
                "It does not carry the security code (state) of the sign-in in progress, so it was ignored. \
                 If you started sign-in in Keygrant, go back to the app and press Connect again.",
            );
        }
        Err(Refusal::Incomplete) => {
            return page(
                StatusCode::BAD_REQUEST,
                "Incomplete response",
                "The broker's response carried neither a code nor an error.",
            )
        }
    };
    let denied = matches!(cb, Callback::Error { .. });
    if st.tx.try_send(cb).is_err() {
        return page(
            StatusCode::CONFLICT,
            "Already handled",
            "Keygrant already received this sign-in. You can close this tab.",
        );
    }
    if denied {
        page(
            StatusCode::OK,
            "Sign-in was not completed",
            "Return to Keygrant to see what happened. You can close this tab.",
        )
    } else {
        page(
            StatusCode::OK,
            "You're signed in",
            "Keygrant received the authorization. You can close this tab and return to the app.",
        )
    }
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Keygrant</title>\
         <style>body{{font-family:system-ui,sans-serif;background:#f4f6fa;color:#1b2330}}\
         main{{max-width:440px;margin:80px auto;background:#fff;border-radius:12px;padding:32px;\
         box-shadow:0 4px 24px rgba(0,0,0,.08)}}h1{{font-size:20px}}</style></head>\
         <body><main><h1>{}</h1><p>{}</p></main></body></html>",
        keygrant_demo::escape_html(title),
        keygrant_demo::escape_html(text)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONNECTION, "close"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response()
}
