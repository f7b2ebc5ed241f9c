//! The OAuth 2 authorization-code flow (RFC 6749 section 4.1): the authorize URL, `state` and
//! PKCE S256 (RFC 7636) from the `oauth2` crate, the redirect on loopback (RFC 8252) or as a
//! `keygrant://` link, and the token requests (code exchange and refresh) through the one
//! reader in [`token`], with broker errors turned into messages that say what to do.

pub mod browser;
pub mod callback;
pub mod deeplink;
pub mod loopback;
pub mod token;
pub mod waiting;

use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, ClientId, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge, RedirectUrl,
    Scope,
};
use serde::Serialize;
use tokio::sync::watch;
use ts_rs::TS;
use url::Url;

use crate::brokers::{Endpoints, RefreshBody};
use crate::error::{AppError, ErrorKind, Result};
use crate::secret::{mask, AccessToken, ClientSecret, Expose, IdToken, RefreshToken};
use deeplink::DEEP_LINK_REDIRECT;
use loopback::{Callback, Loopback};
use token::TokenStep;
use waiting::SignInSlot;

type Client =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet>;

/// One field of a token response as the UI may show it: tokens and any other string whose
/// name is not known to be harmless are masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[ts(export)]
pub struct TokenField {
    /// The field's name as the broker sent it.
    pub name: String,
    /// The value as JSON text, or masked.
    pub value: String,
    /// The value is masked (a token or an unknown string).
    pub masked: bool,
}

/// Names whose string values are never credentials.
const PLAIN_FIELDS: &[&str] = &[
    "token_type",
    "expires_in",
    "scope",
    "issued_token_type",
    "session_state",
    "not-before-policy",
];

/// The response's fields, sorted by name, with every value that may be a credential masked.
pub fn token_fields(raw: &serde_json::Map<String, serde_json::Value>) -> Vec<TokenField> {
    let mut out: Vec<TokenField> = raw
        .iter()
        .map(|(name, v)| {
            let (value, masked) = match v {
                serde_json::Value::String(s) if PLAIN_FIELDS.contains(&name.as_str()) => {
                    (s.clone(), false)
                }
                serde_json::Value::String(s) => (mask(s), true),
                serde_json::Value::Number(n) => (n.to_string(), false),
                serde_json::Value::Bool(b) => (b.to_string(), false),
                serde_json::Value::Null => ("null".into(), false),
                // Arrays and objects may nest anything: masked whole.
                other => (mask(&other.to_string()), true),
            };
            TokenField {
                name: name.clone(),
                value,
                masked,
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The tokens a token request returned. The access token never leaves the backend.
#[derive(Debug)]
pub struct TokenSet {
    /// The access token (RFC 6749 section 5.1); kept in memory only.
    pub access_token: AccessToken,
    /// A new refresh token, when the broker sent one (first grant, or rotation).
    pub refresh_token: Option<RefreshToken>,
    /// The access token's lifetime (`expires_in`, seconds on the wire), when given.
    pub expires_in: Option<Duration>,
    /// The OpenID Connect `id_token`, when the broker sent one (TradeStation always,
    /// docs/brokers.md#tradestation-tokens-and-lifetimes).
    pub id_token: Option<IdToken>,
    /// The scopes granted, space-separated as sent (`scope`, RFC 6749 section 5.1), when
    /// the broker listed them.
    pub scope: Option<String>,
    /// The whole response, masked for display.
    pub fields: Vec<TokenField>,
}

/// What the authorize step needs to know.
pub struct AuthRequest<'a> {
    /// The OAuth application's client ID.
    pub client_id: &'a str,
    /// Its client secret (sent only to the token endpoint).
    pub client_secret: &'a ClientSecret,
    /// The broker's authorize and token endpoints.
    pub endpoints: &'a Endpoints,
    /// The scopes to ask for, space-separated on the wire.
    pub scopes: &'a [String],
    /// Where the browser comes back to.
    pub redirect: &'a Redirect,
    /// Where the answer arrives when it does not come through the loopback listener: a
    /// `keygrant://callback` link, or the address the user pastes.
    pub sign_in: &'a SignInSlot,
}

/// Where the broker sends the browser back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// `http://127.0.0.1:<free port><path>`: for the Demo broker and providers that accept
    /// any loopback port (RFC 8252 section 7.3).
    AnyLoopbackPort {
        /// Served over HTTPS with a certificate made for this sign-in (a broker that takes
        /// only HTTPS callbacks, such as Schwab's dialect of the Demo broker).
        tls: bool,
        /// The redirect path, e.g. `/callback`.
        path: String,
    },
    /// The redirect URI registered with the user's OAuth application, sent exactly as entered;
    /// Keygrant listens on its port on 127.0.0.1 (and ::1 for `localhost`), over TLS with a
    /// self-signed certificate made for the sign-in when the URI is `https://`
    /// ([`loopback::Loopback::bind_registered`]).
    Registered {
        /// The URI exactly as registered: `http://` or `https://`, host `127.0.0.1` or
        /// `localhost`.
        uri: String,
        /// Its port, listened on at 127.0.0.1 (80 or 443 when the URI names none).
        port: u16,
        /// Its path, which the redirect must match.
        path: String,
    },
    /// `keygrant://callback`, handed over by the OS (tauri-plugin-deep-link).
    DeepLink,
}

impl Redirect {
    /// Checks a redirect URI the user entered: it must be `http://` or `https://` with host
    /// `127.0.0.1` or `localhost`, an optional port (80 or 443 by default) and an optional path
    /// (`http://localhost:8000`, `https://127.0.0.1:8182`, `https://127.0.0.1:8182/callback`),
    /// since the app can only listen on this computer; or `keygrant://callback`. The URI is
    /// kept exactly as entered (trimmed), to be sent as is: brokers compare it character for
    /// character with the registered one. A port below 1024 is accepted here and refused when
    /// listening ([`loopback::Loopback::bind_registered`]). Errors: [`ErrorKind::InvalidInput`]
    /// on field `redirect_uri` for anything else, or a query or fragment.
    pub fn registered(input: &str) -> Result<Redirect> {
        let uri = input.trim();
        if uri == DEEP_LINK_REDIRECT {
            return Ok(Redirect::DeepLink);
        }
        let bad =
            |msg: String| Err(AppError::new(ErrorKind::InvalidInput, msg).on_field("redirect_uri"));
        let Ok(parsed) = Url::parse(uri) else {
            return bad(format!("\"{uri}\" is not a URL. Enter the redirect URI registered with your OAuth application, such as http://localhost:8000."));
        };
        if !matches!(parsed.scheme(), "http" | "https")
            || !matches!(parsed.host_str(), Some("localhost") | Some("127.0.0.1"))
        {
            return bad(format!(
                "Keygrant can receive the sign-in only on this computer: use a redirect URI that starts with \
                 http://localhost, http://127.0.0.1 or https://127.0.0.1 (such as http://localhost:8000, or \
                 https://127.0.0.1:8182 where the broker requires HTTPS), or {DEEP_LINK_REDIRECT}, and \
                 register the same one with your OAuth application. \"{uri}\" is not one."
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return bad("The redirect URI must not have a query (?) or fragment (#).".into());
        }
        // Always Some for http and https (80 and 443 when the URI names no port).
        let port = parsed.port_or_known_default().unwrap_or(80);
        Ok(Redirect::Registered {
            uri: uri.to_string(),
            port,
            path: parsed.path().to_string(),
        })
    }
}

/// The `oauth2` crate's client, used only for the authorize URL (state, PKCE, scopes).
fn client(client_id: &str, endpoints: &Endpoints) -> Client {
    BasicClient::new(ClientId::new(client_id.to_string()))
        .set_auth_uri(AuthUrl::from_url(endpoints.authorize_url.clone()))
}

/// Runs the whole browser round trip: listen on loopback, open the authorize page with
/// `open_browser`, wait for the redirect (checking `state`) by the loopback listener, a
/// `keygrant://` link or a pasted address, exchange the code. A browser that cannot be
/// opened is not an error: the sign-in keeps waiting (see [`SignInSlot::waiting`]).
pub async fn authorize(
    http: &reqwest::Client,
    req: AuthRequest<'_>,
    open_browser: impl FnOnce(&Url) -> Result<()>,
    timeout: Duration,
    cancel: watch::Receiver<bool>,
) -> Result<TokenSet> {
    let (loopback, redirect_uri) = match req.redirect {
        Redirect::AnyLoopbackPort { tls, path } => {
            let l = if *tls {
                Loopback::bind_tls(0, path).await?
            } else {
                Loopback::bind(0, path).await?
            };
            let uri = l.redirect_uri().to_string();
            (Some(l), uri)
        }
        Redirect::Registered { uri, port, path } => (
            Some(Loopback::bind_registered(uri, *port, path).await?),
            uri.clone(),
        ),
        Redirect::DeepLink => (None, DEEP_LINK_REDIRECT.to_string()),
    };
    // RedirectUrl::new keeps the string exactly as registered (no trailing slash added).
    let redirect = RedirectUrl::new(redirect_uri.clone())
        .map_err(|e| AppError::internal(format!("bad redirect URI: {e}")))?;
    let client = client(req.client_id, req.endpoints).set_redirect_uri(redirect);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut auth = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(req.scopes.iter().map(|s| Scope::new(s.clone())));
    for (k, v) in &req.endpoints.extra_authorize {
        auth = auth.add_extra_param(k.clone(), v.clone());
    }
    let use_pkce = req.endpoints.use_pkce;
    if use_pkce {
        auth = auth.set_pkce_challenge(challenge);
    }
    let (url, state) = auth.url();
    // The answer may come through the loopback listener, a keygrant:// link or the address
    // the user pastes: all go to one channel, the first one wins.
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    req.sign_in.arm(state.secret().clone(), &url, tx.clone());
    req.sign_in
        .set_certificate(loopback.as_ref().and_then(|l| l.certificate_fingerprint()));
    let serving = loopback.map(|l| l.serve(state.secret().clone(), tx));
    tracing::info!(redirect = %redirect_uri, "sign-in started; opening the browser");
    // A browser that cannot be started does not end the sign-in: the waiting screen shows
    // the address to open by hand and takes the address the browser ends on.
    let opened = match open_browser(&url) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e.message, "could not open a browser; waiting for the address to be opened by hand");
            false
        }
    };
    req.sign_in.set_browser_opened(opened);
    let outcome = loopback::wait_for(rx, timeout, cancel).await;
    req.sign_in.disarm();
    if let Some(serving) = serving {
        serving.stop().await;
    }
    let callback = outcome?;
    let code = match callback {
        Callback::Code(code) => code,
        Callback::Error { error, description } => {
            return Err(authorize_error(
                &error,
                description,
                &req.endpoints.broker.spec().words,
            ))
        }
    };
    tracing::info!("authorization code received; exchanging it");
    let mut form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    if use_pkce {
        form.push(("code_verifier", verifier.secret().clone()));
    }
    token::request(
        http,
        req.endpoints,
        req.client_id,
        req.client_secret,
        token::Body::Form(form),
        TokenStep::Exchange,
    )
    .await
}

/// Trades a refresh token for a new access token (and, where the broker rotates, a new
/// refresh token), with the body the broker documents: JSON for Tastytrade, form for
/// TradeStation (see [`crate::brokers::RefreshBody`]). No `Authorization` header is sent: a
/// stale one broke every refresh in the Tastytrade SDK once (tastyware/tastytrade PR #255).
///
/// A temporary failure ([`AppError::is_temporary`]: 5xx, 429, connection errors and timeouts,
/// the Tastytrade sandbox's intermittent `invalid_request`,
/// docs/brokers.md#tastytrade-token-errors) is retried with the API reads' backoff
/// (`brokers::http::RETRY`: 3 tries in all, 250 ms then 500 ms, jittered). A refresh token is
/// only spent by an answer that succeeded, so retrying cannot lose one. Errors: those of
/// [`token::read`], the last one when every try failed.
pub async fn refresh(
    http: &reqwest::Client,
    client_id: &str,
    client_secret: &ClientSecret,
    endpoints: &Endpoints,
    refresh_token: &RefreshToken,
) -> Result<TokenSet> {
    let policy = &crate::brokers::http::RETRY;
    let mut attempt = 1;
    loop {
        let body = match endpoints.refresh_body {
            RefreshBody::Json => token::Body::Json(serde_json::json!({
                "grant_type": "refresh_token",
                "client_secret": client_secret.expose(),
                "refresh_token": refresh_token.expose(),
            })),
            RefreshBody::Form => token::Body::Form(vec![
                ("grant_type", "refresh_token".to_string()),
                ("refresh_token", refresh_token.expose().to_string()),
            ]),
        };
        match token::request(
            http,
            endpoints,
            client_id,
            client_secret,
            body,
            TokenStep::Refresh,
        )
        .await
        {
            Err(e) if e.is_temporary() && attempt < policy.attempts => {
                tracing::warn!(attempt, kind = ?e.kind, "temporary token endpoint failure; retrying");
                tokio::time::sleep(policy.backoff(attempt)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

fn authorize_error(
    error: &str,
    description: Option<String>,
    words: &crate::brokers::ClientWords,
) -> AppError {
    let detail = description
        .map(|d| format!(" (the broker said: {d})"))
        .unwrap_or_default();
    match error {
        "access_denied" => AppError::new(
            ErrorKind::AccessDenied,
            format!("Access was denied in the browser{detail}. Nothing was saved. Press Connect and choose Approve to try again."),
        ),
        other => AppError::new(
            ErrorKind::Broker,
            format!(
                "The broker refused the sign-in with \"{other}\"{detail}. Check the {} and scopes, then press Connect again.",
                words.id
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registered_redirect_uri_is_kept_as_entered_and_listened_on_its_port() {
        assert_eq!(
            Redirect::registered(" http://localhost:8000 ").unwrap(),
            Redirect::Registered {
                uri: "http://localhost:8000".into(),
                port: 8000,
                path: "/".into()
            }
        );
        assert_eq!(
            Redirect::registered("http://127.0.0.1:3001/cb").unwrap(),
            Redirect::Registered {
                uri: "http://127.0.0.1:3001/cb".into(),
                port: 3001,
                path: "/cb".into()
            }
        );
        assert_eq!(
            Redirect::registered("http://localhost").unwrap(),
            Redirect::Registered {
                uri: "http://localhost".into(),
                port: 80,
                path: "/".into()
            }
        );
        for bad in [
            "https://example.com/cb",
            "https://192.168.1.2:8182",
            "https://127.0.0.1.example.com:8182",
            "ftp://127.0.0.1:8182",
            "https://127.0.0.1:8182/?code=x",
            "https://127.0.0.1:8182#top",
            "https://[::1]:8182",
            "https://127.0.0.1:99999",
            "localhost:8000",
            "http://192.168.1.2:8000",
            "http://localhost:8000/?x=1",
        ] {
            let e = Redirect::registered(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("redirect_uri"), "{bad}");
        }
    }

    #[test]
    fn an_https_loopback_redirect_uri_is_accepted_and_kept_as_entered() {
        // Charles Schwab's usual registration: no path, so "/" is the path listened on, and
        // the string sent is the one registered (no trailing slash added).
        for (input, uri, port, path) in [
            (
                "https://127.0.0.1:8182",
                "https://127.0.0.1:8182",
                8182,
                "/",
            ),
            (
                " https://127.0.0.1:8182/ ",
                "https://127.0.0.1:8182/",
                8182,
                "/",
            ),
            (
                "https://127.0.0.1:8182/callback",
                "https://127.0.0.1:8182/callback",
                8182,
                "/callback",
            ),
            ("https://127.0.0.1", "https://127.0.0.1", 443, "/"),
            (
                "https://127.0.0.1:443/cb",
                "https://127.0.0.1:443/cb",
                443,
                "/cb",
            ),
            (
                "https://localhost:3443/auth/done",
                "https://localhost:3443/auth/done",
                3443,
                "/auth/done",
            ),
            (
                "HTTPS://127.0.0.1:8182",
                "HTTPS://127.0.0.1:8182",
                8182,
                "/",
            ),
        ] {
            assert_eq!(
                Redirect::registered(input).unwrap(),
                Redirect::Registered {
                    uri: uri.into(),
                    port,
                    path: path.into()
                },
                "{input}"
            );
        }
        assert_eq!(
            Redirect::registered("keygrant://callback").unwrap(),
            Redirect::DeepLink
        );
        let e = Redirect::registered("https://example.com:8182").unwrap_err();
        assert!(e.message.contains("https://127.0.0.1"), "{}", e.message);
    }

    #[test]
    fn token_fields_mask_tokens_and_unknown_strings_and_show_the_rest() {
        let raw: serde_json::Map<String, serde_json::Value> = serde_json::from_str(
            r#"{"access_token":"at-0123456789abcdefWXYZ","refresh_token":"rt-0123456789abcdefQRST","id_token":"a.b.c",
                "token_type":"Bearer","expires_in":1200,"scope":"openid offline_access","custom_key":"s3cret-value-9999",
                "flags":{"x":"hidden-nested-secret"},"ok":true}"#,
        )
        .unwrap();
        let fields = token_fields(&raw);
        let get = |n: &str| fields.iter().find(|f| f.name == n).unwrap();
        assert_eq!(
            fields.first().unwrap().name,
            "access_token",
            "sorted by name"
        );
        assert!(get("access_token").masked && get("access_token").value.ends_with("WXYZ"));
        assert!(!get("access_token").value.contains("0123456789"));
        assert!(get("id_token").masked && get("custom_key").masked && get("flags").masked);
        assert!(
            !format!("{fields:?}").contains("hidden-nested-secret")
                && !format!("{fields:?}").contains("s3cret-value")
        );
        assert_eq!(
            (get("token_type").value.as_str(), get("token_type").masked),
            ("Bearer", false)
        );
        assert_eq!(get("expires_in").value, "1200");
        assert_eq!(get("scope").value, "openid offline_access");
        assert_eq!(get("ok").value, "true");
        assert_eq!(
            token::expires_in_secs(&serde_json::json!("3600")),
            Some(3600)
        );
    }
}
