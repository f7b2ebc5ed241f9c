//! The loopback redirect listener (RFC 8252 section 7.3): bound to 127.0.0.1 only, it waits for
//! the one request at the redirect path that carries the flow's `state`, answers it with a
//! small self-contained page, and closes. Requests to other paths, or with a wrong or missing
//! `state`, are answered and ignored, so junk at the port cannot end or hijack the flow.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use url::Url;

use crate::error::{AppError, ErrorKind, Result};

pub use super::callback::Callback;
use super::callback::{parse_callback, Refusal};

/// A listener on 127.0.0.1 waiting for one redirect (RFC 8252 section 7.3): it answers the
/// browser with a page and hands back the `code`, or the broker's error. Freed when dropped.
pub struct Loopback {
    listener: TcpListener,
    redirect_uri: Url,
}

impl Loopback {
    /// Binds 127.0.0.1 on `port` (0 = a free port) and builds `http://127.0.0.1:<port><path>`.
    pub async fn bind(port: u16, path: &str) -> Result<Loopback> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            if e.kind() == std::io::ErrorKind::PermissionDenied {
                AppError::new(
                    ErrorKind::PortInUse,
                    format!(
                        "This computer does not let Keygrant listen on port {port} (ports below 1024 need \
                         administrator rights). Register a redirect URI with a higher port, such as \
                         http://localhost:8000, with your OAuth application and enter it here."
                    ),
                ).on_field("redirect_uri")
            } else if e.kind() == std::io::ErrorKind::AddrInUse {
                AppError::new(
                    ErrorKind::PortInUse,
                    format!(
                        "Port {port} on this computer is already in use by another program, so the \
                         broker's redirect cannot reach Keygrant. Close that program (often another \
                         sign-in helper or a development server) and press Connect again."
                    ),
                )
                .on_field("redirect_uri")
            } else {
                AppError::internal(format!("Could not listen for the browser's redirect: {e}"))
            }
        })?;
        let addr = listener
            .local_addr()
            .map_err(|e| AppError::internal(e.to_string()))?;
        let redirect_uri = Url::parse(&format!("http://{addr}{path}"))
            .map_err(|e| AppError::internal(format!("bad redirect path: {e}")))?;
        Ok(Loopback {
            listener,
            redirect_uri,
        })
    }

    /// The redirect URI to send in the authorize request: `http://127.0.0.1:<port><path>`.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The address the listener is bound to (always 127.0.0.1).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
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
        let handler_state = Arc::new(HandlerState {
            path: self.redirect_uri.path().to_string(),
            expected_state,
            tx,
        });
        let app = Router::new().fallback(handle).with_state(handler_state);
        let (stop_tx, mut stop_rx) = watch::channel(false);
        let server = tokio::spawn(async move {
            let _ = axum::serve(self.listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop_rx.wait_for(|s| *s).await;
                })
                .await;
        });
        let outcome = wait_for(rx, timeout, cancel.clone()).await;
        let _ = stop_tx.send(true);
        // Give the answer page a moment to reach the browser, then make sure the port is free.
        let abort = server.abort_handle();
        if tokio::time::timeout(Duration::from_secs(2), server)
            .await
            .is_err()
        {
            abort.abort();
        }
        outcome
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

async fn handle(
    State(st): State<Arc<HandlerState>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    RawQuery(query): RawQuery,
) -> Response {
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
