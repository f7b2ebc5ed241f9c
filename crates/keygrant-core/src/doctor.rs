//! `keygrant doctor`: checks of one saved connection, each with a verdict and a fix, for the
//! window's Diagnose panel and the command line ([`crate::app::Core::diagnose`]).
//!
//! The checks: the token endpoint reachable over HTTPS (DNS, TLS, clock skew from `Date`,
//! docs/brokers.md#http-date-and-clock-skew); the client secret and the refresh token
//! accepted (one refresh through the session's single-flight path, so a rotated refresh token
//! is saved like any other; docs/brokers.md#oauth-2-error-responses); the tokens belonging to
//! this client and environment (JWT claims, the payload only: signatures are never checked or
//! shown; docs/brokers.md#tastytrade-environments, docs/brokers.md#tradestation-tokens-and-lifetimes);
//! the scopes granted against those asked (docs/brokers.md#oauth-2-token-response); the
//! keyring readable and writable; the `keygrant://` handler registered to this program.
//!
//! Nothing here shows a secret: [`Diagnosis`] holds no token, no client secret and only the
//! last four characters of the client ID, and [`Diagnosis::report`] is safe to paste into a
//! support request.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use ts_rs::TS;
use url::Url;

use crate::brokers::{BrokerKind, Endpoints, Environment};
use crate::error::{AppError, ErrorKind, Result};
use crate::secret::mask;
use crate::vault::Vault;

/// How a check came out. Serialised in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Verdict {
    /// Fine.
    Pass,
    /// Works now, but something needs attention (a clock off by minutes, a scope missing
    /// that Keygrant does not need, a temporary broker failure).
    Warn,
    /// Broken: the fix says what to do.
    Fail,
    /// Not run: the detail says why (not on this OS, nothing to compare, an earlier failure).
    Skipped,
}

/// One check of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Check {
    /// Stable key for code: `endpoint`, `client_secret`, `refresh_token`, `ownership`,
    /// `scopes`, `keyring`, `handler`, `sign_in` (brokers whose grants end after the sign-in).
    pub id: String,
    /// What was checked, for a person.
    pub name: String,
    /// How it came out.
    pub verdict: Verdict,
    /// What was found, with no secret in it.
    pub detail: String,
    /// What to do about it; empty when there is nothing to do.
    pub fix: String,
}

impl Check {
    fn new(id: &str, name: &str, verdict: Verdict, detail: impl Into<String>) -> Check {
        Check {
            id: id.into(),
            name: name.into(),
            verdict,
            detail: detail.into(),
            fix: String::new(),
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = fix.into();
        self
    }
}

/// Every check of one connection, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Diagnosis {
    /// The connection checked: broker, environment and the client ID's last four characters
    /// (e.g. `Tastytrade · Production, client ID ••••0001`).
    pub connection: String,
    /// The checks, in the order `endpoint`, `client_secret`, `refresh_token`, `ownership`,
    /// `scopes`, `keyring`, `handler`.
    pub checks: Vec<Check>,
}

impl Diagnosis {
    /// Whether any check failed (the command line exits non-zero then).
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.verdict == Verdict::Fail)
    }

    /// A plain-text report safe to paste into a support request: the connection, then each
    /// check's verdict, name, detail and fix, then a count. It holds what the checks hold: no
    /// token, no secret, the client ID masked to its last four characters.
    pub fn report(&self) -> String {
        let mut out = format!(
            "Keygrant doctor report\nConnection: {}\n\n",
            self.connection
        );
        let mut counts = [0usize; 4];
        for c in &self.checks {
            let (label, i) = match c.verdict {
                Verdict::Pass => ("PASS", 0),
                Verdict::Warn => ("WARN", 1),
                Verdict::Fail => ("FAIL", 2),
                Verdict::Skipped => ("SKIP", 3),
            };
            counts[i] += 1;
            out.push_str(&format!("[{label}] {}\n       {}\n", c.name, c.detail));
            if !c.fix.is_empty() {
                out.push_str(&format!("       Fix: {}\n", c.fix));
            }
        }
        out.push_str(&format!(
            "\n{} passed, {} warnings, {} failed, {} skipped\n",
            counts[0], counts[1], counts[2], counts[3]
        ));
        out
    }

    /// Replaces every occurrence of a value in `secrets` (client secret, tokens) with its
    /// masked form, and the client ID with [`mask_id`], in every detail and fix: a broker
    /// error message quoting a value cannot carry it into the report. Values shorter than 8
    /// characters are left alone (they would mask ordinary words).
    pub(crate) fn scrubbed(mut self, secrets: &[String], client_id: &str) -> Diagnosis {
        let scrub = |text: &mut String| {
            for s in secrets.iter().filter(|s| s.len() >= 8) {
                if text.contains(s.as_str()) {
                    *text = text.replace(s.as_str(), &mask(s));
                }
            }
            if client_id.len() >= 8 && text.contains(client_id) {
                *text = text.replace(client_id, &mask_id(client_id));
            }
        };
        for c in &mut self.checks {
            scrub(&mut c.detail);
            scrub(&mut c.fix);
        }
        scrub(&mut self.connection);
        self
    }
}

/// A client ID as the doctor shows it: four bullets and its last four characters (only the
/// bullets when it has fewer than 8).
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    let tail: String = if chars.len() >= 8 {
        chars[chars.len() - 4..].iter().collect()
    } else {
        String::new()
    };
    format!("••••{tail}")
}

// ---------------------------------------------------------------------------------------
// JWT claims (payload only)

/// A JWT's header and claims as JSON (RFC 7519), decoded from base64url without checking
/// the signature, which Keygrant never verifies or shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwt {
    /// The JOSE header (`alg`, `typ`, ...).
    pub header: serde_json::Value,
    /// The claims (`iss`, `aud`, `sub`, `iat`, ...).
    pub claims: serde_json::Value,
}

/// Decodes `token` as a JWT: three `.`-separated parts, the first two base64url (padding
/// optional) JSON objects. `None` for anything else (an opaque token). The third part, the
/// signature, is not read.
pub fn decode_jwt(token: &str) -> Option<Jwt> {
    let mut parts = token.trim().split('.');
    let (h, c, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let json = |part: &str| -> Option<serde_json::Value> {
        let v: serde_json::Value = serde_json::from_slice(&base64url(part)?).ok()?;
        v.is_object().then_some(v)
    };
    Some(Jwt {
        header: json(h)?,
        claims: json(c)?,
    })
}

/// base64url (RFC 4648 section 5) to bytes; `=` padding optional. `None` on any other
/// character.
fn base64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for b in s.trim_end_matches('=').bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The `aud` claim as a list (a string or an array of strings, RFC 7519 section 4.1.3).
fn audiences(claims: &serde_json::Value) -> Vec<String> {
    match claims.get("aud") {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// An issuer compared by host and path: lower case, scheme and trailing `/` dropped.
fn issuer_key(iss: &str) -> String {
    let s = iss.trim().to_ascii_lowercase();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(&s);
    s.trim_end_matches('/').to_string()
}

// ---------------------------------------------------------------------------------------
// The checks

const ENDPOINT: &str = "Token endpoint reachable";

/// Whether `url` is on this computer (the Demo broker, a test double): plain http is fine.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    }
}

/// Seconds the broker's clock is ahead of this computer's (negative: behind), from an HTTP
/// `Date` header (RFC 9110 section 6.6.1, IMF-fixdate) and the local time `now`. `None` when
/// the header cannot be read.
pub fn clock_skew(date_header: &str, now: SystemTime) -> Option<i64> {
    let server = httpdate::parse_http_date(date_header.trim()).ok()?;
    Some(match server.duration_since(now) {
        Ok(ahead) => ahead.as_secs() as i64,
        Err(behind) => -(behind.duration().as_secs() as i64),
    })
}

/// The most clock skew that passes: beyond it tokens may look expired or not yet valid.
pub const MAX_CLOCK_SKEW_SECS: i64 = 60;

/// The token endpoint answers over HTTPS (plain http only on loopback): one `HEAD` request,
/// whose status does not matter; DNS, connection and TLS failures are told apart; the
/// answer's `Date` header gives the clock skew (a warning past [`MAX_CLOCK_SKEW_SECS`]).
pub async fn endpoint_check(http: &reqwest::Client, endpoints: &Endpoints) -> Check {
    let url = &endpoints.token_url;
    let host = url.host_str().unwrap_or_default().to_string();
    if url.scheme() != "https" && !is_loopback(url) {
        return Check::new(
            "endpoint",
            ENDPOINT,
            Verdict::Fail,
            format!("The token endpoint {url} is not HTTPS: the client secret would cross the network unencrypted."),
        )
        .fix("Use the provider's https:// token URL (edit the connection, or disconnect and connect again with it).");
    }
    let resp = http
        .head(url.clone())
        .timeout(Duration::from_secs(15))
        .send()
        .await;
    let resp = match resp {
        Ok(r) => r,
        Err(e) => return unreachable(&host, &e),
    };
    let status = resp.status().as_u16();
    let date = resp
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let how = if url.scheme() == "https" {
        "over HTTPS"
    } else {
        "on this computer (the Demo broker)"
    };
    let reached = format!("{host} answered {how} (HTTP {status}).");
    match date.and_then(|d| clock_skew(&d, SystemTime::now())) {
        None => Check::new(
            "endpoint",
            ENDPOINT,
            Verdict::Pass,
            format!("{reached} It sent no readable Date header, so the clock was not compared."),
        ),
        Some(skew) if skew.abs() > MAX_CLOCK_SKEW_SECS => {
            let way = if skew > 0 { "behind" } else { "ahead of" };
            Check::new(
                "endpoint",
                ENDPOINT,
                Verdict::Warn,
                format!("{reached} This computer's clock is {} s {way} the broker's: tokens may look expired or not yet valid.", skew.abs()),
            )
            .fix("Turn on automatic date and time (network time) in your system settings.")
        }
        Some(skew) => Check::new(
            "endpoint",
            ENDPOINT,
            Verdict::Pass,
            format!("{reached} Clocks agree within {} s.", skew.abs()),
        ),
    }
}

/// Why a request did not get an answer: DNS, TLS, timeout or connection, from the error's
/// chain of causes.
fn unreachable(host: &str, e: &reqwest::Error) -> Check {
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = source {
        chain.push_str(&s.to_string().to_ascii_lowercase());
        chain.push(' ');
        source = s.source();
    }
    let (detail, fix) = if chain.contains("dns")
        || chain.contains("lookup address")
        || chain.contains("name or service not known")
        || chain.contains("no such host")
    {
        (
            format!("The name {host} could not be looked up (DNS)."),
            "Check your internet connection and DNS settings (a VPN or company network may block it), then run the check again.",
        )
    } else if [
        "certificate",
        "tls",
        "handshake",
        "corrupt message",
        "alert",
    ]
    .iter()
    .any(|w| chain.contains(w))
    {
        (
            format!("The secure connection (TLS) to {host} failed: its certificate was not accepted, or it did not speak TLS."),
            "A proxy or antivirus that inspects HTTPS can cause this; check your system date and time, and try another network.",
        )
    } else if e.is_timeout() {
        (
            format!("{host} did not answer within 15 s."),
            "Check your internet connection or firewall, then run the check again.",
        )
    } else {
        (
            format!("Could not connect to {host}."),
            "Check your internet connection or firewall, then run the check again.",
        )
    };
    Check::new("endpoint", ENDPOINT, Verdict::Fail, detail).fix(fix)
}

const TOKEN: &str = "Refresh token valid";

/// The two checks one refresh answers: the client secret (refused: `invalid_client`) and
/// the refresh token (refused: `invalid_grant`); a temporary failure warns on both, a keyring
/// that cannot be read skips both (the keyring check says why). `unsaved` is whether a
/// rotated refresh token waits in memory for the keyring; `sent` whether a refresh request
/// could be sent at all (both secrets were in the keyring): when not, the broker said nothing
/// of the client secret, and its check is skipped rather than passed.
pub fn refresh_checks(
    broker: BrokerKind,
    environment: Environment,
    outcome: &Result<()>,
    unsaved: bool,
    sent: bool,
) -> (Check, Check) {
    let words = broker.spec().words;
    let (id, sec, app) = (words.id, words.secret, words.app);
    let secret_title = format!("{} accepted", words.secret_label());
    let secret_name = secret_title.as_str();
    let settings = broker
        .spec()
        .app_settings_urls
        .map(|(p, s)| match environment {
            Environment::Sandbox => s,
            _ => p,
        });
    let where_ = settings.map(|u| format!(" ({u})")).unwrap_or_default();
    let e = match outcome {
        Ok(()) => {
            let token = if unsaved {
                Check::new("refresh_token", TOKEN, Verdict::Warn, "The broker accepted the refresh token and issued a new one, but the keyring refused to save it; it is kept in memory until it can be saved.")
                    .fix("Unlock the system keyring, then press Retry save on the token card (or run the check again).")
            } else {
                Check::new(
                    "refresh_token",
                    TOKEN,
                    Verdict::Pass,
                    "One refresh succeeded: the broker issued a new access token.",
                )
            };
            return (
                Check::new(
                    "client_secret",
                    secret_name,
                    Verdict::Pass,
                    format!("The broker accepted the {sec}."),
                ),
                token,
            );
        }
        Err(e) => e,
    };
    let skipped = |why: &str| Check::new("refresh_token", TOKEN, Verdict::Skipped, why);
    if !sent && e.kind != ErrorKind::Keyring {
        return (
            Check::new(
                "client_secret",
                secret_name,
                Verdict::Skipped,
                "Not checked: nothing was sent to the broker, because the saved credentials are not all in the system keyring (see the keyring check).",
            ),
            Check::new("refresh_token", TOKEN, Verdict::Fail, e.message.clone())
                .fix("Press Sign in again in Keygrant, or disconnect and connect again, to save new ones."),
        );
    }
    match e.kind {
        ErrorKind::InvalidClient => (
            Check::new("client_secret", secret_name, Verdict::Fail, format!("The broker refused the {id} or {sec} (invalid_client). {}", e.message))
                .fix(format!("Copy the {sec} again from your {app}'s page{where_}. If it was regenerated, every earlier grant is void: disconnect and connect again.")),
            skipped(&format!("Not known until the broker accepts the {sec}.")),
        ),
        ErrorKind::InvalidGrant => (
            Check::new("client_secret", secret_name, Verdict::Pass, format!("The broker did not refuse the {sec}.")),
            Check::new("refresh_token", TOKEN, Verdict::Fail, format!("The broker refused the refresh token (invalid_grant). {}", e.message))
                .fix("Press Sign in again in Keygrant (or disconnect and connect again, or paste a new refresh token) to get a new refresh token."),
        ),
        ErrorKind::Temporary | ErrorKind::Network | ErrorKind::RateLimited => {
            let warn = |id: &str, name: &str| {
                Check::new(id, name, Verdict::Warn, format!("Not checked: the broker's token endpoint failed temporarily. {}", e.message))
                    .fix("Nothing is lost; run the check again in a minute.")
            };
            (warn("client_secret", secret_name), warn("refresh_token", TOKEN))
        }
        ErrorKind::Keyring => {
            let why = "Not checked: the saved credentials could not be read from the keyring (see the keyring check).";
            (
                Check::new("client_secret", secret_name, Verdict::Skipped, why),
                skipped(why),
            )
        }
        _ => (
            Check::new("client_secret", secret_name, Verdict::Skipped, "Not known: the refresh failed for another reason (see the refresh token check)."),
            Check::new("refresh_token", TOKEN, Verdict::Fail, format!("The refresh failed. {}", e.message))
                .fix("Follow the message above; if it persists, disconnect and connect again."),
        ),
    }
}

const OWNERSHIP: &str = "Tokens belong to this client and environment";

/// Whether the tokens name this client and environment, from their JWT claims (never their
/// signatures): the refresh token where the broker's are JWTs (`aud` = the client ID, `iss`
/// the environment, `BrokerSpec::claims`), and the last token response's `id_token` (`aud`).
/// Skipped when neither can be read.
pub fn ownership_check(
    broker: BrokerKind,
    environment: Environment,
    client_id: &str,
    refresh_token: Option<&str>,
    id_token: Option<&str>,
) -> Check {
    let claims = broker.spec().claims;
    let mut fails: Vec<(String, String)> = Vec::new();
    let mut warns: Vec<(String, String)> = Vec::new();
    let mut passes: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let other_client_fix = "Use the client ID of the OAuth application that issued this grant: disconnect and connect again with that application's client ID and secret.".to_string();
    if let (Some(typ), Some(rt)) = (claims.refresh_jwt_typ, refresh_token) {
        match decode_jwt(rt) {
            None => notes.push(format!(
                "The refresh token is not a JWT ({} ones usually are), so its claims were not compared.",
                broker.display_name()
            )),
            Some(jwt) => {
                if jwt.header.get("typ").and_then(|t| t.as_str()) != Some(typ) {
                    notes.push(format!("The refresh token's header type is not {typ}."));
                }
                let aud = audiences(&jwt.claims);
                if aud.is_empty() {
                    notes.push("The refresh token names no audience (aud).".into());
                } else if aud.iter().any(|a| a == client_id) {
                    passes.push("the refresh token was issued to this client ID".into());
                } else {
                    fails.push((
                        format!(
                            "The refresh token was issued to client ID {}, but this connection uses client ID {}.",
                            aud.iter().map(|a| mask_id(a)).collect::<Vec<_>>().join(", "),
                            mask_id(client_id)
                        ),
                        other_client_fix.clone(),
                    ));
                }
                if let Some(iss) = jwt.claims.get("iss").and_then(|i| i.as_str()) {
                    issuer_verdict(
                        broker,
                        environment,
                        iss,
                        &mut passes,
                        &mut warns,
                        &mut fails,
                    );
                }
            }
        }
    }
    if claims.id_token_aud {
        if let Some(jwt) = id_token.and_then(decode_jwt) {
            let aud = audiences(&jwt.claims);
            if aud.iter().any(|a| a == client_id) {
                passes.push("the ID token names this client ID".into());
            } else if !aud.is_empty() {
                fails.push((
                    format!(
                        "The ID token from the last refresh names client ID {}, not this connection's {}.",
                        aud.iter().map(|a| mask_id(a)).collect::<Vec<_>>().join(", "),
                        mask_id(client_id)
                    ),
                    other_client_fix.clone(),
                ));
            }
        }
    }
    let notes = notes.join(" ");
    let join = |v: Vec<String>| v.join(" ");
    if !fails.is_empty() {
        let fix = fails[0].1.clone();
        let detail = join(fails.into_iter().map(|f| f.0).collect());
        return Check::new("ownership", OWNERSHIP, Verdict::Fail, detail).fix(fix);
    }
    if !warns.is_empty() {
        let fix = warns[0].1.clone();
        let detail = join(warns.into_iter().map(|f| f.0).collect());
        return Check::new("ownership", OWNERSHIP, Verdict::Warn, detail).fix(fix);
    }
    if passes.is_empty() {
        let why = if notes.is_empty() {
            "Nothing to compare: the refresh token is opaque and no ID token came back.".to_string()
        } else {
            notes
        };
        return Check::new("ownership", OWNERSHIP, Verdict::Skipped, why);
    }
    let mut detail = format!("Checked from the tokens' claims: {}.", passes.join("; "));
    if !notes.is_empty() {
        detail.push(' ');
        detail.push_str(&notes);
    }
    Check::new("ownership", OWNERSHIP, Verdict::Pass, detail)
}

/// The refresh token's issuer against the environments' known issuers: this one's passes,
/// another's fails (naming it), an unknown one warns where this environment's is known.
fn issuer_verdict(
    broker: BrokerKind,
    environment: Environment,
    iss: &str,
    passes: &mut Vec<String>,
    warns: &mut Vec<(String, String)>,
    fails: &mut Vec<(String, String)>,
) {
    let issuers = broker.spec().claims.issuers;
    if issuers.is_empty() {
        return;
    }
    let key = issuer_key(iss);
    let matches = |env: Environment| {
        issuers
            .iter()
            .any(|(e, i)| *e == env && issuer_key(i) == key)
    };
    let here = broker.env_name(environment);
    if matches(environment) {
        passes.push(format!("its issuer ({iss}) is {here}'s"));
        return;
    }
    let elsewhere = [
        Environment::Production,
        Environment::Sandbox,
        Environment::Demo,
    ]
    .into_iter()
    .find(|e| *e != environment && matches(*e));
    if let Some(other) = elsewhere {
        let there = broker.env_name(other);
        fails.push((
            format!("The refresh token was issued by {} {there} (issuer {iss}), but this connection is set to {here}.", broker.display_name()),
            format!("Disconnect and connect again with the environment set to {there}, using that environment's client ID and secret; or create a grant in {here} and paste that."),
        ));
    } else if issuers.iter().any(|(e, _)| *e == environment) {
        warns.push((
            format!("The refresh token's issuer ({iss}) is not one Keygrant knows for {} {here}.", broker.display_name()),
            "If this grant was created in another environment, connect again with the environment it came from. If it works, please report the issuer so Keygrant can learn it.".to_string(),
        ));
    }
}

const SCOPES: &str = "Scopes granted";

/// The scopes the token response lists against those the connection asked for: a missing
/// required scope (or the broker's read scope) fails, another missing one warns. Skipped
/// without a successful refresh or when the broker does not list the scopes it granted.
pub fn scopes_check(
    broker: BrokerKind,
    asked: &[String],
    granted: Option<&str>,
    refreshed: bool,
) -> Check {
    if !refreshed {
        return Check::new(
            "scopes",
            SCOPES,
            Verdict::Skipped,
            "Not checked: it needs a successful refresh.",
        );
    }
    let Some(granted) = granted else {
        return Check::new(
            "scopes",
            SCOPES,
            Verdict::Skipped,
            "The broker's token response does not list the scopes it granted.",
        );
    };
    let got: Vec<&str> = granted.split_whitespace().collect();
    let missing: Vec<&String> = asked
        .iter()
        .filter(|s| !got.contains(&s.as_str()))
        .collect();
    if missing.is_empty() {
        return Check::new(
            "scopes",
            SCOPES,
            Verdict::Pass,
            format!("Granted: {}.", got.join(" ")),
        );
    }
    let spec = broker.spec();
    let needed = missing.iter().any(|m| {
        m.as_str() == spec.read_scope
            || spec
                .scopes
                .iter()
                .any(|s| s.required && s.name == m.as_str())
    });
    let names = missing
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Check::new(
        "scopes",
        SCOPES,
        if needed { Verdict::Fail } else { Verdict::Warn },
        format!("Asked for but not granted: {names}. Granted: {}.", if got.is_empty() { "none".to_string() } else { got.join(" ") }),
    )
    .fix("Check which scopes your OAuth application allows, then disconnect and connect again, approving every scope asked.")
}

const KEYRING: &str = "Keyring readable and writable";

/// For a broker whose grants end a fixed time after the browser sign-in (Schwab's 7 days,
/// docs/brokers.md#schwab-oauth): how long `profile`'s grant has left at `now` (Unix seconds).
/// Fail when it has ended, warn in its last day or when the sign-in time is unknown (a pasted
/// grant); `None` for other brokers.
pub fn sign_in_check(profile: &crate::profiles::Profile, now: u64) -> Option<Check> {
    let life = profile.broker.spec().sign_in_lifetime?;
    let days = life.as_secs() / 86_400;
    let name = "Browser sign-in";
    let broker = profile.broker.display_name();
    let Some(end) = crate::expiry::expires_at(profile) else {
        return Some(
            Check::new(
                "sign_in",
                name,
                Verdict::Warn,
                format!(
                    "{broker} ends refresh tokens {days} days after the browser sign-in; this \
                     grant was pasted, so Keygrant does not know when that was."
                ),
            )
            .fix("Press Sign in again to start a known 7-day period and get reminders."),
        );
    };
    let left = end.saturating_sub(now);
    Some(if left == 0 {
        Check::new(
            "sign_in",
            name,
            Verdict::Fail,
            format!(
                "The sign-in of {days} days ago has expired; the refresh token no longer works."
            ),
        )
        .fix("Press Sign in again in Keygrant (the connection keeps its name and settings).")
    } else if left <= crate::expiry::REMIND_BEFORE_SECS {
        Check::new(
            "sign_in",
            name,
            Verdict::Warn,
            format!("The sign-in expires in {}.", crate::expiry::remaining(left)),
        )
        .fix("Press Sign in again in Keygrant before it expires.")
    } else {
        Check::new(
            "sign_in",
            name,
            Verdict::Pass,
            format!("The sign-in expires in {}.", crate::expiry::remaining(left)),
        )
    })
}

/// The keyring holds this connection's secrets (read) and takes a new one (a probe entry
/// written and deleted, `Vault::probe_write`).
pub fn keyring_check(vault: &Vault, profile_id: &str) -> Check {
    let fix = |e: &AppError| {
        match e.kind {
        ErrorKind::NotConnected => "Disconnect and connect again to store the credentials anew.",
        ErrorKind::InvalidGrant => "Press Sign in again in Keygrant (or disconnect and connect again) to save a new refresh token.",
        _ if e.message.contains("No Secret Service") => "Follow the message above: a Secret Service keyring has to be running and unlocked where this runs.",
        _ => "Unlock the system keyring (log out and in again, or unlock it in your keyring app) and run the check again.",
    }
    };
    if let Err(e) = vault
        .client_secret(profile_id)
        .and_then(|_| vault.refresh_token(profile_id))
    {
        return Check::new(
            "keyring",
            KEYRING,
            Verdict::Fail,
            format!("Could not read this connection's secrets: {}", e.message),
        )
        .fix(fix(&e));
    }
    match vault.probe_write() {
        Ok(()) => Check::new(
            "keyring",
            KEYRING,
            Verdict::Pass,
            "The secrets were read, and a test entry was written and deleted.",
        ),
        Err(e) => Check::new(
            "keyring",
            KEYRING,
            Verdict::Fail,
            format!(
                "The keyring refused a write: {} A rotated refresh token could not be saved.",
                e.message
            ),
        )
        .fix(fix(&e)),
    }
}

const HANDLER: &str = "keygrant:// links open this app";

/// Where the doctor looks up the `keygrant://` handler on Linux.
#[derive(Debug, Clone)]
pub struct HandlerLookup {
    /// The `xdg-mime` program (`KEYGRANT_XDG_MIME` overrides it, for tests).
    pub xdg_mime: PathBuf,
    /// The XDG data directories whose `applications/` folders hold `.desktop` files, searched
    /// in order (`$XDG_DATA_HOME`, then `$XDG_DATA_DIRS`).
    pub data_dirs: Vec<PathBuf>,
    /// The program the handler should start; `None`: this process's executable.
    pub exe: Option<PathBuf>,
}

impl HandlerLookup {
    /// The environment variable naming an `xdg-mime` to run instead of the one on `PATH`.
    pub const ENV: &'static str = "KEYGRANT_XDG_MIME";

    /// From the environment: `KEYGRANT_XDG_MIME` or `xdg-mime`; `XDG_DATA_HOME` (default
    /// `~/.local/share`) then `XDG_DATA_DIRS` (default `/usr/local/share:/usr/share`), per
    /// the XDG Base Directory specification.
    pub fn from_env() -> HandlerLookup {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let mut data_dirs = Vec::new();
        match var("XDG_DATA_HOME") {
            Some(d) => data_dirs.push(PathBuf::from(d)),
            None => {
                if let Some(home) = var("HOME") {
                    data_dirs.push(Path::new(&home).join(".local/share"));
                }
            }
        }
        let system = var("XDG_DATA_DIRS")
            .map(|v| v.to_string_lossy().into_owned())
            .unwrap_or_else(|| "/usr/local/share:/usr/share".into());
        data_dirs.extend(
            system
                .split(':')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
        );
        HandlerLookup {
            xdg_mime: var(Self::ENV)
                .map(PathBuf::from)
                .unwrap_or_else(|| "xdg-mime".into()),
            data_dirs,
            exe: None,
        }
    }
}

/// The program a `.desktop` file's `Exec=` line starts: its first word, quotes removed
/// (Desktop Entry Specification, "The Exec key"); `None` without an `Exec=` line.
pub fn desktop_exec(desktop: &str) -> Option<String> {
    let line = desktop
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("Exec="))?
        .trim();
    if let Some(rest) = line.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.extend(chars.next()),
                '"' => break,
                c => out.push(c),
            }
        }
        return Some(out);
    }
    line.split_whitespace().next().map(str::to_owned)
}

/// `program` as a path: itself when it has a `/`, else found on `PATH`.
fn resolve_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canon(a) == canon(b)
}

/// Whether `keygrant://` links reach this program: on Linux, `xdg-mime query default
/// x-scheme-handler/keygrant` names a `.desktop` file whose `Exec=` program is this
/// executable (or the AppImage it runs from, `$APPIMAGE`). Skipped where `xdg-mime` is
/// missing and on other systems (their registration is the installer's).
pub async fn handler_check(lookup: &HandlerLookup) -> Check {
    if !cfg!(target_os = "linux") {
        return Check::new(
            "handler",
            HANDLER,
            Verdict::Skipped,
            "Checked on Linux only; on this system the installer registers keygrant:// links.",
        );
    }
    let lookup = lookup.clone();
    tokio::task::spawn_blocking(move || handler_check_blocking(&lookup))
        .await
        .unwrap_or_else(|_| {
            Check::new(
                "handler",
                HANDLER,
                Verdict::Skipped,
                "The check could not run.",
            )
        })
}

/// The handler check as it bears on one connection. A failure stays one for a connection whose
/// redirect URI is a `keygrant:` link. For a connection that signs in through a loopback
/// address (`redirect_uri` not a link, or `None`: any free port) it becomes a warning, since
/// only keygrant:// sign-ins are affected; and for a broker whose own rules refuse a
/// keygrant:// redirect (Schwab, `BrokerSpec::check_redirect`) the check is skipped.
pub fn handler_for_connection(
    check: Check,
    broker: BrokerKind,
    redirect_uri: Option<&str>,
) -> Check {
    if check.verdict != Verdict::Fail
        || redirect_uri.is_some_and(|r| r.to_ascii_lowercase().starts_with("keygrant:"))
    {
        return check;
    }
    let spec = broker.spec();
    if spec
        .check_redirect
        .is_some_and(|rules| rules("keygrant://callback").is_err())
    {
        return Check::new(
            "handler",
            HANDLER,
            Verdict::Skipped,
            format!(
                "Not used: {} takes no keygrant:// {}, so its sign-ins never come back through one.",
                spec.name, spec.words.redirect
            ),
        );
    }
    let through = redirect_uri.unwrap_or("a loopback address on this computer");
    Check {
        verdict: Verdict::Warn,
        detail: format!(
            "{} This connection signs in through {through}, so it is not affected; only a sign-in using keygrant://callback is.",
            check.detail
        ),
        ..check
    }
}

fn handler_check_blocking(lookup: &HandlerLookup) -> Check {
    let register = "Register it: xdg-mime default keygrant.desktop x-scheme-handler/keygrant (with keygrant.desktop's Exec= pointing at this Keygrant), or reinstall Keygrant.";
    let output = match std::process::Command::new(&lookup.xdg_mime)
        .args(["query", "default", "x-scheme-handler/keygrant"])
        .output()
    {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Check::new(
                "handler",
                HANDLER,
                Verdict::Skipped,
                "xdg-mime is not installed, so the registered handler cannot be looked up. Sign-ins still work through the loopback redirect.",
            )
        }
        Err(e) => {
            return Check::new(
                "handler",
                HANDLER,
                Verdict::Skipped,
                format!("xdg-mime could not be run ({e})."),
            )
        }
    };
    let name = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if name.is_empty() || !name.ends_with(".desktop") || name.contains('/') {
        return Check::new(
            "handler",
            HANDLER,
            Verdict::Fail,
            "No program is registered for keygrant:// links: a sign-in using keygrant://callback cannot come back.",
        )
        .fix(register);
    }
    let Some((file, text)) = lookup.data_dirs.iter().find_map(|d| {
        let f = d.join("applications").join(&name);
        std::fs::read_to_string(&f).ok().map(|t| (f, t))
    }) else {
        return Check::new(
            "handler",
            HANDLER,
            Verdict::Fail,
            format!("keygrant:// links are registered to {name}, but no such file is in any applications folder."),
        )
        .fix(register);
    };
    let Some(program) = desktop_exec(&text) else {
        return Check::new(
            "handler",
            HANDLER,
            Verdict::Fail,
            format!("{} has no Exec= line.", file.display()),
        )
        .fix(register);
    };
    let exe = match lookup.exe.clone().or_else(|| std::env::current_exe().ok()) {
        Some(e) => e,
        None => {
            return Check::new(
                "handler",
                HANDLER,
                Verdict::Skipped,
                "This program's own path is unknown, so it cannot be compared.",
            )
        }
    };
    let target = resolve_program(&program);
    let appimage = std::env::var_os("APPIMAGE").map(PathBuf::from);
    let ours = target.as_deref().is_some_and(|t| {
        same_file(t, &exe) || appimage.as_deref().is_some_and(|a| same_file(t, a))
    });
    if ours {
        Check::new(
            "handler",
            HANDLER,
            Verdict::Pass,
            format!(
                "Registered to {} (Exec={program}), which is this program.",
                file.display()
            ),
        )
    } else {
        Check::new(
            "handler",
            HANDLER,
            Verdict::Fail,
            format!(
                "keygrant:// links open {program} (from {}), not this program ({}): a sign-in using keygrant://callback would reach another copy of Keygrant.",
                file.display(),
                exe.display()
            ),
        )
        .fix(register)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sign_in_check_counts_schwab_days_and_skips_other_brokers() {
        use crate::brokers::{BrokerKind, Environment};
        let p = |broker, signed_in_at| crate::profiles::Profile {
            id: "p".into(),
            broker,
            environment: Environment::Production,
            client_id: "k".into(),
            scopes: vec![],
            label: "l".into(),
            redirect_uri: None,
            custom: None,
            signed_in_at,
        };
        let day = 86_400;
        let s = p(BrokerKind::Schwab, Some(0));
        let at = |now| sign_in_check(&s, now).unwrap();
        assert_eq!(
            (at(day).verdict, at(day).detail.as_str()),
            (Verdict::Pass, "The sign-in expires in 6 days.")
        );
        assert_eq!(at(7 * day - 3600).verdict, Verdict::Warn);
        assert!(
            at(7 * day - 3600).detail.contains("1 hours")
                || at(7 * day - 3600).detail.contains("1 hour")
        );
        assert_eq!(at(7 * day).verdict, Verdict::Fail);
        assert!(at(7 * day).fix.contains("Sign in again"));
        assert_eq!(
            sign_in_check(&p(BrokerKind::Schwab, None), 0)
                .unwrap()
                .verdict,
            Verdict::Warn
        );
        assert!(sign_in_check(&p(BrokerKind::Tastytrade, Some(0)), u64::MAX).is_none());
    }

    use super::*;

    fn b64(s: &str) -> String {
        // Test-only encoder: base64url without padding.
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let bytes = s.as_bytes();
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    fn jwt(header: &str, claims: &str) -> String {
        format!("{}.{}.c2lnbmF0dXJl", b64(header), b64(claims))
    }

    #[test]
    fn jwts_decode_from_base64url_without_the_signature_and_opaque_tokens_do_not() {
        let t = jwt(
            r#"{"typ":"rt+jwt","alg":"HS256"}"#,
            r#"{"aud":"client-1234","iss":"api.tastytrade.com","n":"é?>"}"#,
        );
        let j = decode_jwt(&t).unwrap();
        assert_eq!(j.header["typ"], "rt+jwt");
        assert_eq!(j.claims["aud"], "client-1234");
        assert_eq!(j.claims["n"], "é?>");
        for opaque in ["demo-ts-rt-abc.def", "a.b.c", "", "x.y", "e30.e30.x.y"] {
            assert!(decode_jwt(opaque).is_none(), "{opaque}");
        }
        assert_eq!(
            decode_jwt("e30.e30.").unwrap().claims,
            serde_json::json!({})
        );
    }

    #[test]
    fn ownership_names_another_client_or_environment_masked() {
        let id = "5a3c0d2e-demo-4b1f-9c7a-keygrant0001";
        let rt = |aud: &str, iss: &str| {
            jwt(
                r#"{"typ":"rt+jwt"}"#,
                &format!(r#"{{"aud":"{aud}","iss":"{iss}","sub":"x"}}"#),
            )
        };
        let ok = ownership_check(
            BrokerKind::Tastytrade,
            Environment::Production,
            id,
            Some(&rt(id, "https://api.tastytrade.com/")),
            None,
        );
        assert_eq!(ok.verdict, Verdict::Pass, "{ok:?}");
        let other = ownership_check(
            BrokerKind::Tastytrade,
            Environment::Production,
            id,
            Some(&rt("someone-elses-client-9876", "api.tastytrade.com")),
            None,
        );
        assert_eq!(other.verdict, Verdict::Fail);
        assert!(
            other.detail.contains("••••9876") && other.detail.contains("••••0001"),
            "{}",
            other.detail
        );
        assert!(!other.detail.contains("someone-elses") && !other.detail.contains(id));
        let env = ownership_check(
            BrokerKind::Tastytrade,
            Environment::Production,
            id,
            Some(&rt(id, "api.cert.tastyworks.com")),
            None,
        );
        assert_eq!(env.verdict, Verdict::Fail);
        assert!(
            env.detail.contains("Sandbox (cert)") && env.fix.contains("Sandbox (cert)"),
            "{env:?}"
        );
        let unknown = ownership_check(
            BrokerKind::Tastytrade,
            Environment::Sandbox,
            id,
            Some(&rt(id, "somewhere.example")),
            None,
        );
        assert_eq!(unknown.verdict, Verdict::Warn);
        let opaque = ownership_check(
            BrokerKind::TradeStation,
            Environment::Production,
            id,
            Some("opaque-token-value"),
            None,
        );
        assert_eq!(opaque.verdict, Verdict::Skipped);
        let id_token = jwt(r#"{"typ":"JWT"}"#, r#"{"aud":"another-api-key-5555"}"#);
        let ts = ownership_check(
            BrokerKind::TradeStation,
            Environment::Production,
            id,
            None,
            Some(&id_token),
        );
        assert_eq!(ts.verdict, Verdict::Fail);
        assert!(ts.detail.contains("••••5555"));
    }

    #[test]
    fn clock_skew_is_read_from_an_http_date() {
        let now = httpdate::parse_http_date("Sun, 29 Nov 2026 12:00:00 GMT").unwrap();
        assert_eq!(clock_skew("Sun, 29 Nov 2026 12:01:30 GMT", now), Some(90));
        assert_eq!(clock_skew("Sun, 29 Nov 2026 11:59:00 GMT", now), Some(-60));
        assert_eq!(clock_skew("yesterday", now), None);
    }

    #[test]
    fn scopes_missing_a_required_one_fail_and_an_optional_one_warns() {
        let asked = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let c = scopes_check(
            BrokerKind::Tastytrade,
            &asked(&["read", "openid"]),
            Some("read openid"),
            true,
        );
        assert_eq!(c.verdict, Verdict::Pass);
        let c = scopes_check(
            BrokerKind::Tastytrade,
            &asked(&["read", "openid"]),
            Some("openid"),
            true,
        );
        assert_eq!(c.verdict, Verdict::Fail);
        let c = scopes_check(
            BrokerKind::Tastytrade,
            &asked(&["read", "trade"]),
            Some("read"),
            true,
        );
        assert_eq!(c.verdict, Verdict::Warn);
        assert!(c.detail.contains("trade"));
        let c = scopes_check(BrokerKind::Tastytrade, &asked(&["read"]), None, true);
        assert_eq!(c.verdict, Verdict::Skipped);
    }

    #[test]
    fn exec_lines_give_the_program() {
        assert_eq!(
            desktop_exec("[Desktop Entry]\nName=K\nExec=/opt/k/keygrant %u\n").as_deref(),
            Some("/opt/k/keygrant")
        );
        assert_eq!(
            desktop_exec("Exec=\"/opt/my apps/keygrant\" %u").as_deref(),
            Some("/opt/my apps/keygrant")
        );
        assert_eq!(desktop_exec("Name=K"), None);
    }

    #[test]
    fn the_report_masks_client_ids_and_scrubs_secrets() {
        let d = Diagnosis {
            connection: "Tastytrade · Production, client ID 5a3c0d2e-demo-0001".into(),
            checks: vec![Check::new(
                "refresh_token",
                TOKEN,
                Verdict::Fail,
                "The broker said: bad token super-secret-refresh-value",
            )
            .fix("x")],
        }
        .scrubbed(&["super-secret-refresh-value".into()], "5a3c0d2e-demo-0001");
        let r = d.report();
        assert!(
            !r.contains("super-secret") && !r.contains("5a3c0d2e"),
            "{r}"
        );
        assert!(
            r.contains("••••0001") && r.contains("[FAIL]") && r.contains("Fix: x"),
            "{r}"
        );
        assert!(d.failed());
    }
}
