//! The loopback redirect listener (RFC 8252 section 7.3): bound to 127.0.0.1 only, it waits for
//! the one request at the redirect path that carries the flow's `state`, answers it with a
//! small self-contained page, and closes. Requests to other paths, or with a wrong or missing
//! `state`, are answered and ignored, so junk at the port cannot end or hijack the flow.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use url::Url;

use crate::error::{AppError, ErrorKind, Result};

pub use super::callback::Callback;
use super::callback::{parse_callback, Refusal};

/// Listeners on the loopback interface waiting for one redirect (RFC 8252 section 7.3): on
/// 127.0.0.1, and also on ::1 when the registered redirect URI names `localhost` (a browser
/// may resolve it to either; docs/brokers.md#oauth-2-loopback-redirect). They answer the
/// browser with a page and hand the `code`, or the broker's error, to the sign-in. Freed
/// when dropped or stopped.
pub struct Loopback {
    listeners: Vec<TcpListener>,
    redirect_uri: Url,
}

/// Serving listeners; [`Serving::stop`] frees their ports.
pub struct Serving {
    stop: watch::Sender<bool>,
    servers: Vec<tokio::task::JoinHandle<()>>,
}

fn bind_error(e: std::io::Error, port: u16, addr: &str) -> AppError {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => AppError::new(
            ErrorKind::PortInUse,
            format!(
                "This computer does not let Keygrant listen on port {port} (ports below 1024 need \
                 administrator rights). Register a redirect URI with a higher port, such as \
                 http://localhost:8000, with your OAuth application and enter it here."
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

impl Loopback {
    /// Binds 127.0.0.1 on `port` (0 = a free port) and builds `http://127.0.0.1:<port><path>`.
    /// Errors: [`ErrorKind::PortInUse`] on field `redirect_uri` (taken, or below 1024).
    pub async fn bind(port: u16, path: &str) -> Result<Loopback> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| bind_error(e, port, "127.0.0.1"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| AppError::internal(e.to_string()))?;
        let redirect_uri = Url::parse(&format!("http://{addr}{path}"))
            .map_err(|e| AppError::internal(format!("bad redirect path: {e}")))?;
        Ok(Loopback {
            listeners: vec![listener],
            redirect_uri,
        })
    }

    /// Listens for the registered redirect URI `uri` on its `port`: on 127.0.0.1, and on ::1
    /// too when its host is `localhost` (skipped where this computer has no IPv6 loopback).
    /// Never on any other interface. Errors: [`ErrorKind::PortInUse`] on field
    /// `redirect_uri` when the port is taken on either address.
    pub async fn bind_registered(uri: &str, port: u16, path: &str) -> Result<Loopback> {
        let mut loopback = Self::bind(port, path).await?;
        let localhost = Url::parse(uri).is_ok_and(|u| u.host_str() == Some("localhost"));
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
                Err(e) => return Err(bind_error(e, port, "::1")),
            }
        }
        Ok(loopback)
    }

    /// The redirect URI to send in the authorize request: `http://127.0.0.1:<port><path>`.
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
        let servers = self
            .listeners
            .into_iter()
            .map(|listener| {
                let app = app.clone();
                let mut stop_rx = stop_rx.clone();
                tokio::spawn(async move {
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = stop_rx.wait_for(|s| *s).await;
                        })
                        .await;
                })
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
