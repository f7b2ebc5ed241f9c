//! The OAuth 2 authorization-code flow with the `oauth2` crate: state and PKCE S256, a
//! loopback redirect, and the token requests (code exchange and refresh), with broker errors
//! turned into messages that say what to do.

pub mod browser;
pub mod callback;
pub mod deeplink;
pub mod loopback;

use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, HttpClientError, HttpRequest, HttpResponse, PkceCodeChallenge,
    RedirectUrl, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use serde::Serialize;
use tokio::sync::watch;
use ts_rs::TS;
use url::Url;

use crate::brokers::{ClientAuth, Endpoints, RefreshBody};
use crate::error::{AppError, ErrorKind, Result};
use crate::secret::Secret;
use deeplink::{DeepLinkSlot, DEEP_LINK_REDIRECT};
use loopback::{Callback, Loopback};

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// One field of a token response as the UI may show it: tokens and any other string whose
/// name is not known to be harmless are masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct TokenField {
    pub name: String,
    pub value: String,
    /// The value is masked (a token or an unknown string).
    pub masked: bool,
}

/// Names whose string values are never credentials.
const PLAIN_FIELDS: &[&str] = &[
    "token_type",
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
                serde_json::Value::String(s) => (Secret::new(s.clone()).masked(), true),
                serde_json::Value::Number(n) => (n.to_string(), false),
                serde_json::Value::Bool(b) => (b.to_string(), false),
                serde_json::Value::Null => ("null".into(), false),
                // Arrays and objects may nest anything: masked whole.
                other => (Secret::new(other.to_string()).masked(), true),
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
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_in: Option<Duration>,
    /// The whole response, masked for display.
    pub fields: Vec<TokenField>,
}

/// What the authorize step needs to know.
pub struct AuthRequest<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a Secret,
    pub endpoints: &'a Endpoints,
    pub scopes: &'a [String],
    pub redirect: &'a Redirect,
    /// Where `keygrant://callback` links arrive, for [`Redirect::DeepLink`].
    pub deep_links: &'a DeepLinkSlot,
}

/// Where the broker sends the browser back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// `http://127.0.0.1:<free port><path>`: for the Demo broker and providers that accept
    /// any loopback port (RFC 8252 section 7.3).
    AnyLoopbackPort { path: String },
    /// The redirect URI registered with the user's OAuth application, sent exactly as entered;
    /// Keygrant listens on its port on 127.0.0.1.
    Registered {
        uri: String,
        port: u16,
        path: String,
    },
    /// `keygrant://callback`, handed over by the OS (tauri-plugin-deep-link).
    DeepLink,
}

impl Redirect {
    /// Checks a redirect URI the user entered: it must be `http://localhost[:port][/path]` or
    /// `http://127.0.0.1[:port][/path]`, since the app can only listen on this computer.
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
        if parsed.scheme() != "http"
            || !matches!(parsed.host_str(), Some("localhost") | Some("127.0.0.1"))
        {
            return bad(format!(
                "Keygrant can receive the sign-in only on this computer: use a redirect URI that starts with \
                 http://localhost or http://127.0.0.1 (such as http://localhost:8000), or {DEEP_LINK_REDIRECT}, and \
                 register the same one with your OAuth application. \"{uri}\" is not one."
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return bad("The redirect URI must not have a query (?) or fragment (#).".into());
        }
        let port = parsed.port_or_known_default().unwrap_or(80);
        Ok(Redirect::Registered {
            uri: uri.to_string(),
            port,
            path: parsed.path().to_string(),
        })
    }
}

fn client(client_id: &str, secret: &Secret, endpoints: &Endpoints) -> Client {
    // Tastytrade and TradeStation take the client credentials in the form body; a custom
    // provider may want HTTP Basic.
    let auth_type = match endpoints.client_auth {
        ClientAuth::RequestBody => AuthType::RequestBody,
        ClientAuth::Basic => AuthType::BasicAuth,
    };
    BasicClient::new(ClientId::new(client_id.to_string()))
        .set_client_secret(ClientSecret::new(secret.expose().to_string()))
        .set_auth_uri(AuthUrl::from_url(endpoints.authorize_url.clone()))
        .set_token_uri(TokenUrl::from_url(endpoints.token_url.clone()))
        .set_auth_type(auth_type)
}

/// Runs the whole browser round trip: listen on loopback, open the authorize page with
/// `open_browser`, wait for the redirect (checking `state`), exchange the code.
pub async fn authorize(
    http: &reqwest::Client,
    req: AuthRequest<'_>,
    open_browser: impl FnOnce(&Url) -> Result<()>,
    timeout: Duration,
    cancel: watch::Receiver<bool>,
) -> Result<TokenSet> {
    let (loopback, redirect_uri) = match req.redirect {
        Redirect::AnyLoopbackPort { path } => {
            let l = Loopback::bind(0, path).await?;
            let uri = l.redirect_uri().to_string();
            (Some(l), uri)
        }
        Redirect::Registered { uri, port, path } => {
            (Some(Loopback::bind(*port, path).await?), uri.clone())
        }
        Redirect::DeepLink => (None, DEEP_LINK_REDIRECT.to_string()),
    };
    // RedirectUrl::new keeps the string exactly as registered (no trailing slash added).
    let redirect = RedirectUrl::new(redirect_uri.clone())
        .map_err(|e| AppError::internal(format!("bad redirect URI: {e}")))?;
    let client = client(req.client_id, req.client_secret, req.endpoints).set_redirect_uri(redirect);
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
    tracing::info!(redirect = %redirect_uri, "sign-in started; opening the browser");
    let callback = match loopback {
        Some(loopback) => {
            open_browser(&url)?;
            loopback
                .wait(state.secret().clone(), timeout, cancel)
                .await?
        }
        None => {
            let rx = req.deep_links.arm(state.secret().clone());
            let outcome = match open_browser(&url) {
                Ok(()) => loopback::wait_for(rx, timeout, cancel).await,
                Err(e) => Err(e),
            };
            req.deep_links.disarm();
            outcome?
        }
    };
    let code = match callback {
        Callback::Code(code) => code,
        Callback::Error { error, description } => return Err(authorize_error(&error, description)),
    };
    tracing::info!("authorization code received; exchanging it");
    let mut exchange = client.exchange_code(AuthorizationCode::new(code));
    if use_pkce {
        exchange = exchange.set_pkce_verifier(verifier);
    }
    // The oauth2 crate parses the standard fields; the body is kept as sent so the user sees
    // every field exactly as the provider wrote it.
    let send = KeepBody {
        http,
        body: Default::default(),
    };
    let resp = exchange
        .request_async(&send)
        .await
        .map_err(|e| token_error(e, TokenStep::Exchange))?;
    let body = send.body.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let raw = serde_json::from_slice(&body).unwrap_or_default();
    Ok(token_set(&resp, &raw))
}

/// The reqwest client for the oauth2 crate, keeping the response body it returns.
struct KeepBody<'h> {
    http: &'h reqwest::Client,
    body: std::sync::Mutex<Vec<u8>>,
}

impl<'c> AsyncHttpClient<'c> for KeepBody<'_> {
    type Error = HttpClientError<reqwest::Error>;
    type Future = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = std::result::Result<HttpResponse, Self::Error>>
                + Send
                + 'c,
        >,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.http.call(request).await?;
            *self.body.lock().unwrap_or_else(|p| p.into_inner()) = response.body().clone();
            Ok(response)
        })
    }
}

/// Trades a refresh token for a new access token (and, where the broker rotates, a new
/// refresh token), with the body the broker documents: JSON for Tastytrade, form for
/// TradeStation (see [`crate::brokers::RefreshBody`]). No `Authorization` header is sent: a
/// stale one broke every refresh in the Tastytrade SDK once (tastyware/tastytrade PR #255).
pub async fn refresh(
    http: &reqwest::Client,
    client_id: &str,
    client_secret: &Secret,
    endpoints: &Endpoints,
    refresh_token: &Secret,
) -> Result<TokenSet> {
    let req = http
        .post(endpoints.token_url.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    let req = match endpoints.refresh_body {
        RefreshBody::Json => req.json(&serde_json::json!({
            "grant_type": "refresh_token",
            "client_secret": client_secret.expose(),
            "refresh_token": refresh_token.expose(),
        })),
        RefreshBody::Form => match endpoints.client_auth {
            ClientAuth::RequestBody => req.form(&[
                ("grant_type", "refresh_token"),
                ("client_id", client_id),
                ("client_secret", client_secret.expose()),
                ("refresh_token", refresh_token.expose()),
            ]),
            // RFC 6749 section 2.3.1: both parts form-encoded before Basic encoding.
            ClientAuth::Basic => req
                .basic_auth(
                    form_encode(client_id),
                    Some(form_encode(client_secret.expose())),
                )
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.expose()),
                ]),
        },
    };
    let resp = req.send().await.map_err(|e| {
        AppError::new(
            ErrorKind::Network,
            format!("Could not reach the broker's token endpoint ({}). Check your connection and try again.", e.without_url()),
        )
    })?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(AppError::network)?;
    if status.is_success() {
        let no_token = || {
            AppError::new(ErrorKind::Broker, "The broker's token endpoint answered without an access token. Try again in a minute.")
        };
        let raw: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&body).map_err(|_| no_token())?;
        let text = |k: &str| {
            raw.get(k)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(Secret::new)
        };
        return Ok(TokenSet {
            access_token: text("access_token").ok_or_else(no_token)?,
            refresh_token: text("refresh_token"),
            expires_in: raw
                .get("expires_in")
                .and_then(expires_in_secs)
                .map(Duration::from_secs),
            fields: token_fields(&raw),
        });
    }
    match rfc_error(&body).or_else(|| broker_error(&body)) {
        Some((code, description)) => Err(oauth_error(&code, description, TokenStep::Refresh)),
        None => Err(AppError::new(
            ErrorKind::Broker,
            format!("The broker's token endpoint answered {status} without an explanation. Try again in a minute."),
        )),
    }
}

/// `expires_in` as a number, or as a numeric string (some providers send one).
fn expires_in_secs(v: &serde_json::Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `{"error": "<code>", "error_description": "..."}` (RFC 6749 section 5.2).
fn rfc_error(body: &[u8]) -> Option<(String, Option<String>)> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = v.get("error")?.as_str()?.to_string();
    Some((
        code,
        v.get("error_description")
            .and_then(|d| d.as_str())
            .map(str::to_owned),
    ))
}

fn token_set(
    resp: &BasicTokenResponse,
    raw: &serde_json::Map<String, serde_json::Value>,
) -> TokenSet {
    TokenSet {
        access_token: Secret::new(resp.access_token().secret().clone()),
        refresh_token: resp
            .refresh_token()
            .map(|r| Secret::new(r.secret().clone())),
        expires_in: resp.expires_in(),
        fields: token_fields(raw),
    }
}

fn authorize_error(error: &str, description: Option<String>) -> AppError {
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
            format!("The broker refused the sign-in with \"{other}\"{detail}. Check the client ID and scopes, then press Connect again."),
        ),
    }
}

#[derive(Clone, Copy, Debug)]
enum TokenStep {
    Exchange,
    Refresh,
}

fn token_error<RE: std::error::Error + 'static>(
    err: RequestTokenError<RE, oauth2::basic::BasicErrorResponse>,
    step: TokenStep,
) -> AppError {
    match err {
        RequestTokenError::ServerResponse(r) => {
            let desc = r.error_description().cloned();
            oauth_error(r.error().as_ref(), desc, step)
        }
        RequestTokenError::Parse(_, body) => match broker_error(&body) {
            Some((code, description)) => oauth_error(&code, description, step),
            None => AppError::new(
                ErrorKind::Broker,
                "The broker's token endpoint answered with something that is not a token. Check \
                 that the environment (production or sandbox) is right, then try again.",
            ),
        },
        RequestTokenError::Request(e) => AppError::new(
            ErrorKind::Network,
            format!("Could not reach the broker's token endpoint ({e}). Check your connection and try again."),
        ),
        RequestTokenError::Other(s) => AppError::new(
            ErrorKind::Broker,
            format!("The broker's token endpoint failed ({s}). Try again in a minute."),
        ),
    }
}

/// The error code and message of a token endpoint error that is not in the RFC 6749 shape:
/// Tastytrade's API envelope `{"error": {"code", "message"}}` (or `{"error": {"errors": [..]}}`),
/// or the top-level `{"error_code", "error_description"}` seen from its sandbox.
fn broker_error(body: &[u8]) -> Option<(String, Option<String>)> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
    if let Some(code) = text(&v, "error_code") {
        return Some((code, text(&v, "error_description")));
    }
    let err = v.get("error")?;
    let first = err.get("errors").and_then(|e| e.get(0)).unwrap_or(err);
    Some((text(first, "code")?, text(first, "message")))
}

fn oauth_error(code: &str, description: Option<String>, step: TokenStep) -> AppError {
    let detail = description
        .map(|d| format!(" The broker said: {d}"))
        .unwrap_or_default();
    let invalid_client = BasicErrorResponseType::InvalidClient.as_ref();
    let invalid_grant = BasicErrorResponseType::InvalidGrant.as_ref();
    if code == invalid_client {
        AppError::new(
            ErrorKind::InvalidClient,
            format!(
                "The broker rejected the client ID or client secret.{detail} Copy both again from your \
                 OAuth application's page (the secret is shown only when it is created; regenerate it \
                 if you lost it). Nothing was saved."
            ),
        )
        .on_field("client_secret")
    } else if code == invalid_grant {
        match step {
            TokenStep::Exchange => AppError::new(
                ErrorKind::InvalidGrant,
                format!(
                    "The broker did not accept the authorization code.{detail} This happens when the \
                     redirect URI differs from the one registered with your OAuth application or the \
                     code expired. Press Connect to try again."
                ),
            ),
            TokenStep::Refresh => AppError::new(
                ErrorKind::InvalidGrant,
                format!(
                    "The refresh token is no longer accepted: the grant was revoked, deleted, or belongs \
                     to another environment.{detail} Disconnect and connect again to get a new one."
                ),
            ),
        }
    } else {
        AppError::new(
            ErrorKind::Broker,
            format!("The broker's token endpoint answered \"{code}\".{detail} Check your OAuth application's settings and try again."),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_shape_the_brokers_use_is_read() {
        let cases: [&[u8]; 3] = [
            br#"{"error":{"code":"invalid_grant","message":"Grant revoked"}}"#,
            br#"{"error":{"errors":[{"code":"invalid_grant","message":"Grant revoked"}]}}"#,
            br#"{"error_code":"invalid_grant","error_description":"Grant revoked"}"#,
        ];
        for body in cases {
            let (code, message) = broker_error(body).unwrap();
            assert_eq!(code, "invalid_grant");
            assert_eq!(message.as_deref(), Some("Grant revoked"));
            let e = oauth_error(&code, message, TokenStep::Refresh);
            assert_eq!(e.kind, ErrorKind::InvalidGrant);
            assert!(e.message.contains("Disconnect and connect again"));
        }
        assert!(broker_error(b"<html>401</html>").is_none());
        assert!(broker_error(br#"{"error":"x"}"#).is_none());
    }

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
            "localhost:8000",
            "http://192.168.1.2:8000",
            "http://localhost:8000/?x=1",
        ] {
            let e = Redirect::registered(bad).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("redirect_uri"), "{bad}");
        }
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
        assert_eq!(expires_in_secs(&serde_json::json!("3600")), Some(3600));
    }

    #[test]
    fn invalid_client_points_at_the_secret_field() {
        let e = oauth_error("invalid_client", None, TokenStep::Exchange);
        assert_eq!(e.kind, ErrorKind::InvalidClient);
        assert_eq!(e.field.as_deref(), Some("client_secret"));
    }
}
