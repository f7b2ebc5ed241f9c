//! HTTP for the brokers' APIs: one client (User-Agent, timeouts, TLS), and GET with retries
//! and backoff for reads. The broker modules call down into this; token requests go through
//! `oauth::token` and are never retried.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

use super::Endpoints;
use crate::error::{AppError, ErrorKind};

/// GETs `path` under the API base with the bearer token (and the broker's
/// [`super::BrokerSpec::api_version`] header) and returns the body.
///
/// Connection failures, timeouts and 5xx are retried here ([`RETRY`]); a 429 is not: it comes
/// back as [`ErrorKind::RateLimited`] with `retry_after_secs` from `Retry-After` or
/// `X-RateLimit-Reset` ([`limit_wait`]), and the session decides whether to wait once
/// (docs/brokers.md#tradestation-rate-limits, #tastytrade-rate-limits). A 406 to the version
/// header is retried once without it (docs/brokers.md#tastytrade-api-requests). Errors: 401
/// [`ErrorKind::Unauthorized`] (the session refreshes once), 403 [`ErrorKind::Forbidden`]
/// (scope or account permission; never refreshed), other statuses [`ErrorKind::Broker`],
/// [`ErrorKind::Network`].
pub async fn api_get(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    path: &str,
    access_token: &crate::secret::AccessToken,
    what: &str,
    error_message: fn(&str) -> Option<String>,
) -> crate::error::Result<String> {
    let url = endpoints
        .api_base
        .join(path)
        .map_err(|e| AppError::internal(format!("bad API path: {e}")))?;
    let version = endpoints
        .broker
        .spec()
        .api_version
        .filter(|_| !version_refused(&endpoints.api_base));
    let mut answer = get_with_retries(http, &url, access_token, version).await?;
    if answer.status == StatusCode::NOT_ACCEPTABLE && version.is_some() {
        tracing::info!(broker = ?endpoints.broker, "406 to the API version header; retrying without it");
        answer = get_with_retries(http, &url, access_token, None).await?;
        if answer.status != StatusCode::NOT_ACCEPTABLE {
            // Remembered for this run, so later reads do not pay for the refusal again.
            refuse_version(&endpoints.api_base);
        }
    }
    if answer.status == StatusCode::NOT_ACCEPTABLE {
        return Err(AppError::new(
            ErrorKind::Broker,
            format!(
                "{} no longer serves the API version this Keygrant was written for (406 for {what}). \
                 Update Keygrant to the newest version.",
                endpoints.broker.display_name()
            ),
        ));
    }
    read_answer(endpoints, answer, what, error_message)
}

/// API bases (one per broker environment) that refused the version header this run.
static VERSION_REFUSED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

fn version_refused(api_base: &url::Url) -> bool {
    VERSION_REFUSED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .any(|b| b == api_base.as_str())
}

fn refuse_version(api_base: &url::Url) {
    let mut refused = VERSION_REFUSED.lock().unwrap_or_else(|p| p.into_inner());
    if !refused.iter().any(|b| b == api_base.as_str()) {
        refused.push(api_base.to_string());
    }
}

/// One answer of the API: status, how long a 429 asked to wait, body.
struct Answer {
    status: StatusCode,
    wait: Option<Duration>,
    body: String,
}

/// The answer's body, or the error its status means.
fn read_answer(
    endpoints: &Endpoints,
    answer: Answer,
    what: &str,
    error_message: fn(&str) -> Option<String>,
) -> crate::error::Result<String> {
    let name = endpoints.broker.display_name();
    let quoted = error_message(&answer.body)
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    match answer.status {
        s if s.is_success() => Ok(answer.body),
        StatusCode::TOO_MANY_REQUESTS => Err(rate_limited(name, answer.wait)),
        StatusCode::UNAUTHORIZED => Err(AppError::new(
            ErrorKind::Unauthorized,
            format!(
                "{name} refused the access token for {what}{quoted}, also after a fresh one. \
                 Disconnect and connect again."
            ),
        )),
        StatusCode::FORBIDDEN => Err(AppError::new(
            ErrorKind::Forbidden,
            format!(
                "{name} does not allow Keygrant to read {what}{quoted}. The likely cause: the grant \
                 lacks the scope for reading accounts ({}), or this account is restricted at {name}. \
                 Add the scope to your OAuth application and connect again, or ask {name} about \
                 the account's permissions.",
                endpoints.broker.spec().read_scope,
            ),
        )),
        s => Err(AppError::new(
            ErrorKind::Broker,
            format!(
                "{name} answered {s} for {what}{}. Try again in a minute.",
                error_message(&answer.body)
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
        )),
    }
}

/// The error for a rate limit: "... try again in 42 s", with `retry_after_secs` set when the
/// wait is known (at least 1 s); "in a minute" otherwise.
pub fn rate_limited(broker: &str, wait: Option<Duration>) -> AppError {
    let secs = wait.map(|w| w.as_secs_f64().ceil().max(1.0) as u64);
    let when = secs
        .map(|s| format!("in {s} s"))
        .unwrap_or_else(|| "in a minute".into());
    AppError {
        retry_after_secs: secs,
        ..AppError::new(
            ErrorKind::RateLimited,
            format!(
                "{broker} is limiting how often Keygrant may ask (429). Nothing was lost; \
                 Keygrant can try again {when}."
            ),
        )
    }
}

/// GETs `url`, retrying failed connections, timeouts and 5xx with backoff ([`RETRY`]); any
/// other status, 429 included, is returned as it came.
async fn get_with_retries(
    http: &reqwest::Client,
    url: &url::Url,
    access_token: &crate::secret::AccessToken,
    version: Option<(&str, &str)>,
) -> crate::error::Result<Answer> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = get_once(http, url, access_token, version).await;
        let last = attempt >= RETRY.attempts;
        let retry = match &result {
            Err(e) => e.is_connect() || e.is_timeout() || e.is_request() || e.is_body(),
            Ok(a) => matches!(a.status.as_u16(), 500 | 502 | 503 | 504),
        };
        if last || !retry {
            return result.map_err(AppError::network);
        }
        match &result {
            Err(e) => tracing::debug!(attempt, error = %e, "GET failed; retrying"),
            Ok(a) => {
                tracing::debug!(attempt, status = %a.status, "GET answered a server error; retrying")
            }
        }
        tokio::time::sleep(RETRY.backoff(attempt)).await;
    }
}

/// One GET with the bearer token, `Accept: application/json` and the version header if any.
async fn get_once(
    http: &reqwest::Client,
    url: &url::Url,
    access_token: &crate::secret::AccessToken,
    version: Option<(&str, &str)>,
) -> std::result::Result<Answer, reqwest::Error> {
    let mut req = http
        .get(url.clone())
        .bearer_auth(crate::secret::Expose::expose(access_token))
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some((name, value)) = version {
        req = req.header(name, value);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let wait = limit_wait(resp.headers(), SystemTime::now());
    Ok(Answer {
        status,
        wait,
        body: resp.text().await?,
    })
}

/// How API reads are retried.
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The wait before the second try; doubled for each later one (with jitter).
    pub base: Duration,
    /// A rate limit longer than this is not waited for: the user is told when to retry.
    pub max_retry_after: Duration,
    /// How long a session holds back after a second 429 that did not say when to come back.
    pub unknown_limit: Duration,
}

/// The policy every account-API read uses: 3 tries, 250 ms base, a rate limit of up to 5 s
/// waited out once (by the session).
pub const RETRY: RetryPolicy = RetryPolicy {
    attempts: 3,
    base: Duration::from_millis(250),
    max_retry_after: Duration::from_secs(5),
    unknown_limit: Duration::from_secs(60),
};

impl RetryPolicy {
    /// 250 ms, 500 ms, ... with up to 25 % jitter so concurrent reads do not retry in step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base * 2u32.saturating_pow(attempt.saturating_sub(1));
        let jitter = rand::random::<f64>() * 0.25;
        exp.mul_f64(1.0 + jitter)
    }
}

/// Values of `X-RateLimit-Reset` above this are Unix times, not seconds to wait (10^9 s is
/// almost 32 years; the epoch passed it in 2001).
const EPOCH_THRESHOLD: u64 = 1_000_000_000;

/// How long a 429 asks to wait: `Retry-After` in seconds or as an HTTP date (RFC 9110
/// section 10.2.3), else `X-RateLimit-Reset`, seconds until the reset
/// (TradeStation, docs/brokers.md#tradestation-rate-limits) or, above 10^9, the Unix time of
/// the reset, counted from `now` (docs/brokers.md#http-rate-limits). `None` when neither
/// header is usable.
pub fn limit_wait(headers: &reqwest::header::HeaderMap, now: SystemTime) -> Option<Duration> {
    let number = |name: &str| -> Option<u64> {
        let v = headers.get(name)?.to_str().ok()?.trim();
        v.parse::<u64>().ok().or_else(|| {
            v.parse::<f64>()
                .ok()
                .filter(|f| *f >= 0.0)
                .map(|f| f.ceil() as u64)
        })
    };
    if let Some(secs) = number("retry-after") {
        return Some(Duration::from_secs(secs));
    }
    // Retry-After may also be an HTTP date (RFC 9110 section 10.2.3).
    let date = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok());
    if let Some(at) = date {
        return Some(at.duration_since(now).unwrap_or_default());
    }
    let reset = number("x-ratelimit-reset")?;
    if reset <= EPOCH_THRESHOLD {
        return Some(Duration::from_secs(reset));
    }
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(reset);
    Some(at.duration_since(now).unwrap_or_default())
}

/// The `User-Agent` every request carries. Tastytrade answers 401 without a
/// `<product>/<version>` agent, token endpoint included.
pub fn user_agent() -> String {
    format!("keygrant/{}", env!("CARGO_PKG_VERSION"))
}

/// The HTTP client for broker calls: never follows redirects (an OAuth token endpoint that
/// redirects is an error, and following it could leak the code), bounded timeouts.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent())
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("a static reqwest configuration builds")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderMap;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn limit_wait_reads_retry_after_then_reset_seconds_or_epoch() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let w = |p: &[(&'static str, &str)]| limit_wait(&headers(p), now);
        assert_eq!(w(&[("retry-after", "7")]), Some(Duration::from_secs(7)));
        assert_eq!(
            w(&[("retry-after", "3"), ("x-ratelimit-reset", "90")]),
            Some(Duration::from_secs(3)),
            "Retry-After wins"
        );
        assert_eq!(
            w(&[("x-ratelimit-reset", "42")]),
            Some(Duration::from_secs(42))
        );
        assert_eq!(
            w(&[("x-ratelimit-reset", "1800000042")]),
            Some(Duration::from_secs(42)),
            "a Unix time is counted from now"
        );
        assert_eq!(
            w(&[("x-ratelimit-reset", "1799999000")]),
            Some(Duration::ZERO),
            "a reset in the past means now"
        );
        let in_a_minute = httpdate::fmt_http_date(now + Duration::from_secs(60));
        assert_eq!(
            w(&[("retry-after", &in_a_minute)]),
            Some(Duration::from_secs(60)),
            "an HTTP date is counted from now"
        );
        assert_eq!(
            w(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(w(&[("retry-after", "soon")]), None);
        assert_eq!(w(&[]), None);
    }

    #[test]
    fn rate_limit_messages_say_when_in_seconds() {
        let e = rate_limited("TradeStation", Some(Duration::from_millis(41_200)));
        assert_eq!(e.retry_after_secs, Some(42));
        assert!(e.message.contains("try again in 42 s"), "{}", e.message);
        let e = rate_limited("TradeStation", None);
        assert_eq!(e.retry_after_secs, None);
        assert!(e.message.contains("in a minute"), "{}", e.message);
    }
}
