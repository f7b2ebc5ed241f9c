//! The one token-response reader (RFC 6749 sections 5.1 and 5.2), for the code exchange and
//! the refresh alike, and the one way a token request is sent. The `oauth2` crate builds the
//! authorize URL, `state` and PKCE; what a token response is, is decided here, so a provider
//! that passes "paste a grant" also passes "sign in".
//!
//! Tolerant where real token servers differ (docs/brokers.md#generic-oauth-2): any 2xx status,
//! JSON under any content type, `expires_in` as a number or a numeric string, `token_type`
//! missing (Bearer is assumed). Errors are read in the RFC shape and in the brokers' own
//! dialects (Tastytrade's envelope, its sandbox's `error_code`).

use std::time::Duration;

use crate::brokers::{BrokerSpec, ClientAuth, ClientWords, Endpoints, OAUTH_WORDS};
use crate::error::{AppError, ErrorKind, Result};
use crate::secret::{AccessToken, ClientSecret, Expose, IdToken, RefreshToken};

use super::{token_fields, TokenSet};

/// Which token request is being answered: the messages differ (a refused code asks for
/// another sign-in, a refused refresh token for a new grant).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenStep {
    /// `grant_type=authorization_code` after the browser came back.
    Exchange,
    /// `grant_type=refresh_token`.
    Refresh,
}

/// A token request's parameters, without the client credentials ([`request`] adds them as
/// the endpoint wants).
pub enum Body {
    /// `application/x-www-form-urlencoded` (RFC 6749 section 4.1.3 / 6).
    Form(Vec<(&'static str, String)>),
    /// `application/json` (Tastytrade's refresh, docs/brokers.md#tastytrade-refresh-request):
    /// sent as given, the client secret already inside.
    Json(serde_json::Value),
}

/// Sends one token request to `endpoints.token_url` and reads the answer with [`read`].
/// Client authentication follows `endpoints.client_auth`: `client_id` and `client_secret` in
/// the form body, or HTTP Basic with both parts form-encoded first (RFC 6749 section 2.3.1).
/// No `Authorization` header is sent otherwise. One request: retrying is the caller's choice
/// ([`super::refresh`] retries temporary failures; a code exchange is never retried).
///
/// Errors: [`ErrorKind::Network`] when the endpoint cannot be reached, else those of [`read`];
/// a refused refresh token's message lists the broker's likely causes
/// (`BrokerSpec::dead_grant_causes`).
pub async fn request(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    client_id: &str,
    client_secret: &ClientSecret,
    body: Body,
    step: TokenStep,
) -> Result<TokenSet> {
    let req = http
        .post(endpoints.token_url.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    let req = match body {
        Body::Json(json) => req.json(&json),
        Body::Form(mut form) => match endpoints.client_auth {
            ClientAuth::RequestBody => {
                form.insert(1, ("client_id", client_id.to_string()));
                form.insert(2, ("client_secret", client_secret.expose().to_string()));
                req.form(&form)
            }
            ClientAuth::Basic => req
                .basic_auth(
                    form_encode(client_id),
                    Some(form_encode(client_secret.expose())),
                )
                .form(&form),
        },
    };
    let resp = req.send().await.map_err(|e| {
        AppError::new(
            ErrorKind::Network,
            format!("Could not reach the broker's token endpoint ({}). Check your connection; your saved connection is kept, so just try again.", e.without_url()),
        )
    })?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(AppError::network)?;
    read_with(
        status.as_u16(),
        &body,
        step,
        Voice::of(endpoints.broker.spec()),
    )
}

/// Reads a token endpoint's answer: `status` is the HTTP status, `body` the raw body.
///
/// Returns the tokens (the access token required, the refresh token when present and not
/// empty, `expires_in` in seconds when given, see [`expires_in_secs`]) and every field, unknown
/// ones included, masked for display where a string (docs/brokers.md#oauth-2-token-response).
/// Errors, by [`classify`]: [`ErrorKind::InvalidClient`] (on the `client_secret` field),
/// [`ErrorKind::InvalidGrant`], [`ErrorKind::Temporary`], or [`ErrorKind::Broker`] for any
/// other error code, for a success without an access token, and for a body that is not a
/// token response.
pub fn read(status: u16, body: &[u8], step: TokenStep) -> Result<TokenSet> {
    read_with(status, body, step, Voice::GENERIC)
}

/// The words a token error is told in: the broker's likely causes of a refused refresh token
/// and its names for the client's credentials.
#[derive(Debug, Clone, Copy)]
struct Voice {
    causes: &'static str,
    words: ClientWords,
}

impl Voice {
    /// For a token endpoint whose broker is not known.
    const GENERIC: Voice = Voice {
        causes:
            "Likely causes: the grant was revoked or deleted, or it belongs to another environment.",
        words: OAUTH_WORDS,
    };

    fn of(spec: &BrokerSpec) -> Voice {
        Voice {
            causes: spec.dead_grant_causes,
            words: spec.words,
        }
    }
}

fn read_with(status: u16, body: &[u8], step: TokenStep, voice: Voice) -> Result<TokenSet> {
    if (200..300).contains(&status) {
        let no_token = || {
            AppError::new(
                ErrorKind::Broker,
                "The broker's token endpoint answered without an access token. Check that the \
                 environment (production or sandbox) is right, then try again.",
            )
        };
        let raw: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(body).map_err(|_| no_token())?;
        if raw.contains_key("error") || raw.contains_key("error_code") {
            return Err(error_of(status, body, step, voice));
        }
        let text = |k: &str| {
            raw.get(k)
                .and_then(|v| v.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        return Ok(TokenSet {
            access_token: text("access_token")
                .map(AccessToken::new)
                .ok_or_else(no_token)?,
            refresh_token: text("refresh_token").map(RefreshToken::new),
            expires_in: raw
                .get("expires_in")
                .and_then(expires_in_secs)
                .map(Duration::from_secs),
            id_token: text("id_token").map(IdToken::new),
            scope: text("scope").map(str::to_owned),
            fields: token_fields(&raw),
        });
    }
    Err(error_of(status, body, step, voice))
}

/// What a failed token request means, for the user and for retrying
/// (docs/brokers.md#oauth-2-error-responses, docs/brokers.md#tastytrade-token-errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenErrorClass {
    /// `invalid_client`, or a 401 without a known code: the client ID or secret is wrong.
    BadClient,
    /// `invalid_grant`: the code or the refresh token is dead.
    DeadGrant,
    /// 5xx, 429, or a refusal known to clear on retry (the Tastytrade sandbox's top-level
    /// `error_code: invalid_request`, tastyware/tastytrade#351).
    Temporary,
    /// Anything else.
    Unknown,
}

/// Classifies a token endpoint's error answer from its HTTP `status` and the error `code`
/// read from the body (`None` when it carries none), and whether the code came in the
/// top-level `error_code` shape of the Tastytrade sandbox.
pub fn classify(status: u16, code: Option<&str>, top_level_error_code: bool) -> TokenErrorClass {
    match code {
        Some("invalid_client") => TokenErrorClass::BadClient,
        Some("invalid_grant") => TokenErrorClass::DeadGrant,
        _ if status == 429 || (500..600).contains(&status) => TokenErrorClass::Temporary,
        Some("invalid_request") if top_level_error_code => TokenErrorClass::Temporary,
        _ if status == 401 => TokenErrorClass::BadClient,
        _ => TokenErrorClass::Unknown,
    }
}

/// The error an unsuccessful answer means.
fn error_of(status: u16, body: &[u8], step: TokenStep, voice: Voice) -> AppError {
    let top_level = top_level_error_code(body);
    let (code, description) = match rfc_error(body).or_else(|| broker_error(body)) {
        Some((c, d)) => (Some(c), d),
        None => (None, None),
    };
    // Schwab wraps its inner service's error in a 400 `unsupported_token_type` whose
    // description is `400 Bad Request: "<inner JSON>"` (docs/brokers.md#schwab-token-errors):
    // a dead refresh token (`refresh_token_authentication_error`) or a bad or expired code
    // (`Bad authorization code`) is a dead grant, and the inner description is what is shown.
    let (code, description) = match (code.as_deref(), wrapped(description.as_deref())) {
        (Some("unsupported_token_type"), Some((inner_code, inner_description))) => {
            let dead = inner_code == "refresh_token_authentication_error"
                || inner_description.contains("Bad authorization code");
            let c = if dead {
                "invalid_grant".to_string()
            } else {
                inner_code
            };
            (Some(c), Some(inner_description))
        }
        _ => (code, description),
    };
    let detail = description
        .as_deref()
        .map(|d| format!(" The broker said: {d}"))
        .unwrap_or_default();
    let class_code = code.as_deref();
    match classify(status, class_code, top_level) {
        TokenErrorClass::BadClient => oauth_error("invalid_client", description, step, voice),
        TokenErrorClass::DeadGrant => oauth_error("invalid_grant", description, step, voice),
        TokenErrorClass::Temporary => AppError::new(
            ErrorKind::Temporary,
            format!(
                "The broker's token endpoint is having a temporary problem (it answered {status}{}).{detail} \
                 Your connection and its refresh token are kept; nothing needs to be entered again. \
                 Try again in a minute.",
                code.as_deref().map(|c| format!(" \"{c}\"")).unwrap_or_default()
            ),
        ),
        TokenErrorClass::Unknown => match code {
            Some(code) => oauth_error(&code, description, step, voice),
            None => AppError::new(
                ErrorKind::Broker,
                format!("The broker's token endpoint answered {status} without an explanation. Try again in a minute."),
            ),
        },
    }
}

/// `expires_in` in seconds: a number or a numeric string (some providers send one).
/// Negative values read as 0; fractions and values past `u64::MAX` (`1e30`) saturate. The
/// session clamps whatever this gives (`session::lifetime_and_margin`).
pub(crate) fn expires_in_secs(v: &serde_json::Value) -> Option<u64> {
    fn of_f64(f: f64) -> Option<u64> {
        // `as` saturates: 1e30 becomes u64::MAX, negatives 0.
        f.is_finite().then_some(f.max(0.0) as u64)
    }
    match v {
        serde_json::Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_i64().map(|_| 0))
            .or_else(|| n.as_f64().and_then(of_f64)),
        serde_json::Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>()
                .ok()
                .or_else(|| s.parse::<i64>().ok().map(|_| 0))
                .or_else(|| s.parse::<f64>().ok().and_then(of_f64))
        }
        _ => None,
    }
}

/// The inner error of Schwab's wrapped token errors: a description `400 Bad Request:
/// "<inner JSON>"` whose inner object has `error` and `error_description`
/// (docs/brokers.md#schwab-token-errors). Returns (inner code, inner description trimmed).
fn wrapped(description: Option<&str>) -> Option<(String, String)> {
    let d = description?;
    let json = &d[d.find('{')?..=d.rfind('}')?];
    let inner: serde_json::Value = serde_json::from_str(json).ok()?;
    let text = |k: &str| {
        inner
            .get(k)
            .and_then(|v| v.as_str())
            .map(|s| s.trim().to_string())
    };
    Some((
        text("error")?,
        text("error_description").unwrap_or_default(),
    ))
}

/// Whether the body is the top-level `{"error_code": ...}` shape.
fn top_level_error_code(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|v| v.get("error_code").is_some_and(|c| c.is_string()))
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

fn oauth_error(code: &str, description: Option<String>, step: TokenStep, voice: Voice) -> AppError {
    let detail = description
        .map(|d| format!(" The broker said: {d}"))
        .unwrap_or_default();
    let ClientWords {
        id,
        secret,
        app,
        redirect,
    } = voice.words;
    let causes = voice.causes;
    let invalid_client = "invalid_client";
    let invalid_grant = "invalid_grant";
    if code == invalid_client {
        AppError::new(
            ErrorKind::InvalidClient,
            format!(
                "The broker rejected the {id} or {secret}.{detail} Copy both again from your \
                 {app}'s page (a {secret} you lost can be regenerated there). Nothing was saved."
            ),
        )
        .on_field("client_secret")
    } else if code == invalid_grant {
        match step {
            TokenStep::Exchange => AppError::new(
                ErrorKind::InvalidGrant,
                format!(
                    "The broker did not accept the authorization code.{detail} This happens when the \
                     {redirect} differs from the one registered with your {app} or the code \
                     expired. Press Connect to try again."
                ),
            ),
            TokenStep::Refresh => AppError::new(
                ErrorKind::InvalidGrant,
                format!(
                    "The refresh token is no longer accepted.{detail} {causes} Sign in again in \
                     Keygrant (or disconnect and connect again) to get a new one."
                ),
            ),
        }
    } else {
        AppError::new(
            ErrorKind::Broker,
            format!("The broker's token endpoint answered \"{code}\".{detail} Check your {app}'s settings and try again."),
        )
    }
}

#[cfg(test)]
mod tests {
    /// Schwab's wrapped errors, with the bodies recorded in docs/brokers.md#schwab-token-errors.
    #[test]
    fn schwabs_wrapped_errors_are_dead_grants_told_in_plain_words() {
        let dead = br#"{"error":"unsupported_token_type","error_description":"400 Bad Request: \"{\"error_description\":\"Exception while authenticating refresh token [tokenDigest=R8QKLpffOFVUJuvqbJ0\/1RNzqtrrnXrtTqQ6bCiRCMw=, Exception=Failed refresh token authentication [tokenDigest=R8QKLpffOFVUJuvqbJ0\/1RNzqtrrnXrtTqQ6bCiRCMw=]]\",\"error\":\"refresh_token_authentication_error\"}\""}"#;
        let e = read(400, dead, TokenStep::Refresh).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidGrant);
        assert!(
            e.message
                .contains("The broker said: Exception while authenticating refresh token"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("{\""), "no raw JSON: {}", e.message);
        let code = br#"{"error":"unsupported_token_type","error_description":"400 Bad Request: \"{\"error_description\":\"Bad authorization code: AuthorizationCode has expired,expiration=1728437138768,now=1728437166999 \",\"error\":\"invalid_request\"}\""}"#;
        let e = read(400, code, TokenStep::Exchange).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidGrant);
        assert!(
            e.message.contains("did not accept the authorization code")
                && e.message.contains("has expired"),
            "{}",
            e.message
        );
        // Another wrapped error stays a broker error, in its inner words.
        let other = br#"{"error":"unsupported_token_type","error_description":"400 Bad Request: \"{\"error_description\":\"Something else\",\"error\":\"server_error\"}\""}"#;
        let e = read(400, other, TokenStep::Refresh).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Broker);
        assert!(
            e.message.contains("server_error") && e.message.contains("Something else"),
            "{}",
            e.message
        );
    }

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
            let e = oauth_error(&code, message, TokenStep::Refresh, Voice::GENERIC);
            assert_eq!(e.kind, ErrorKind::InvalidGrant);
            assert!(e.message.contains("Sign in again"));
        }
        assert!(broker_error(b"<html>401</html>").is_none());
        assert!(broker_error(br#"{"error":"x"}"#).is_none());
    }

    #[test]
    fn invalid_client_points_at_the_secret_field() {
        let e = oauth_error("invalid_client", None, TokenStep::Exchange, Voice::GENERIC);
        assert_eq!(e.kind, ErrorKind::InvalidClient);
        assert_eq!(e.field.as_deref(), Some("client_secret"));
        assert!(
            e.message.contains("client ID or client secret"),
            "{}",
            e.message
        );
        // A Schwab user is pointed at the values as the Developer Portal labels them.
        let schwab = Voice::of(crate::brokers::BrokerKind::Schwab.spec());
        let e = oauth_error("invalid_client", None, TokenStep::Exchange, schwab);
        assert!(
            e.message.contains("rejected the App Key or Secret")
                && e.message.contains("your app's page"),
            "{}",
            e.message
        );
        let e = oauth_error("invalid_grant", None, TokenStep::Exchange, schwab);
        assert!(e.message.contains("Callback URL differs"), "{}", e.message);
    }

    #[test]
    fn one_reader_takes_what_real_token_servers_send() {
        // A numeric string for expires_in, no token_type, a 201 status.
        let t = read(
            201,
            br#"{"access_token":"at-1","expires_in":"3600","refresh_token":"rt-1"}"#,
            TokenStep::Exchange,
        )
        .unwrap();
        assert_eq!(t.access_token.expose(), "at-1");
        assert_eq!(t.refresh_token.as_ref().map(Expose::expose), Some("rt-1"));
        assert_eq!(t.expires_in, Some(Duration::from_secs(3600)));
        // An empty refresh token is no refresh token; no expires_in is unknown.
        let t = read(
            200,
            br#"{"access_token":"at","refresh_token":""}"#,
            TokenStep::Refresh,
        )
        .unwrap();
        assert!(t.refresh_token.is_none() && t.expires_in.is_none());
        // A 200 that carries an error is an error.
        let e = read(200, br#"{"error":"invalid_grant"}"#, TokenStep::Refresh).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidGrant);
        // No access token, or not JSON: a broker error that says what to check.
        for body in [&br#"{"token_type":"bearer"}"#[..], b"<html>ok</html>"] {
            let e = read(200, body, TokenStep::Exchange).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Broker, "{}", e.message);
        }
        // The same body gives the same answer for both steps.
        let body = br#"{"access_token":"x","expires_in":900}"#;
        let a = read(200, body, TokenStep::Exchange).unwrap();
        let b = read(200, body, TokenStep::Refresh).unwrap();
        assert_eq!((a.expires_in, a.fields), (b.expires_in, b.fields));
    }

    #[test]
    fn token_errors_are_classified_by_code_then_status() {
        use TokenErrorClass::*;
        assert_eq!(classify(400, Some("invalid_client"), false), BadClient);
        assert_eq!(classify(401, None, false), BadClient);
        assert_eq!(classify(401, Some("unauthorized"), false), BadClient);
        assert_eq!(classify(400, Some("invalid_grant"), false), DeadGrant);
        assert_eq!(classify(403, Some("invalid_grant"), false), DeadGrant);
        for status in [429, 500, 502, 503, 504] {
            assert_eq!(classify(status, None, false), Temporary, "{status}");
            assert_eq!(classify(status, Some("unavailable"), false), Temporary);
        }
        // The sandbox's top-level error_code is intermittent; the RFC shape is not.
        assert_eq!(classify(400, Some("invalid_request"), true), Temporary);
        assert_eq!(classify(400, Some("invalid_request"), false), Unknown);
        assert_eq!(classify(400, Some("invalid_scope"), false), Unknown);
        assert_eq!(classify(400, None, false), Unknown);

        let e = read(503, b"<html>503</html>", TokenStep::Refresh).unwrap_err();
        assert!(e.kind == ErrorKind::Temporary && e.is_temporary(), "{e:?}");
        assert!(e.message.contains("nothing needs to be entered again"));
        let e = read(
            400,
            br#"{"error_code":"invalid_request","error_description":"User is not a TastyTrade customer"}"#,
            TokenStep::Refresh,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Temporary);
        assert!(
            e.message.contains("not a TastyTrade customer"),
            "{}",
            e.message
        );
        let e = read(401, b"<html>401</html>", TokenStep::Refresh).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidClient);
        let e = read(400, br#"{"error":"invalid_scope"}"#, TokenStep::Refresh).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Broker);
    }

    #[test]
    fn expires_in_is_read_from_any_number_or_numeric_string() {
        let secs = |v: serde_json::Value| expires_in_secs(&v);
        assert_eq!(secs(serde_json::json!(900)), Some(900));
        assert_eq!(secs(serde_json::json!(" 900 ")), Some(900));
        assert_eq!(secs(serde_json::json!(0)), Some(0));
        assert_eq!(secs(serde_json::json!(-5)), Some(0));
        assert_eq!(secs(serde_json::json!("-5")), Some(0));
        assert_eq!(secs(serde_json::json!(899.7)), Some(899));
        assert_eq!(secs(serde_json::json!(u64::MAX)), Some(u64::MAX));
        assert_eq!(secs(serde_json::json!(1e30)), Some(u64::MAX));
        assert_eq!(secs(serde_json::json!("1e30")), Some(u64::MAX));
        let big: serde_json::Value = serde_json::from_str("18446744073709551616").unwrap();
        assert_eq!(secs(big), Some(u64::MAX));
        assert_eq!(secs(serde_json::json!("soon")), None);
        assert_eq!(secs(serde_json::json!(null)), None);
        assert_eq!(secs(serde_json::json!(true)), None);
    }
}
