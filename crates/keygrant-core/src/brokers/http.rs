//! HTTP for the brokers' APIs: one client (User-Agent, timeouts, TLS), and GET with retries
//! and backoff for reads. The broker modules call down into this; token requests go through
//! `oauth::token` and are never retried.

use std::time::Duration;

use super::Endpoints;

/// GETs `path` under the API base with the bearer token and returns the body, mapping 401/403
/// and other failures to messages that say what to do.
pub async fn api_get(
    http: &reqwest::Client,
    endpoints: &Endpoints,
    path: &str,
    access_token: &crate::secret::AccessToken,
    what: &str,
    error_message: fn(&str) -> Option<String>,
) -> crate::error::Result<String> {
    use crate::error::{AppError, ErrorKind};
    let url = endpoints
        .api_base
        .join(path)
        .map_err(|e| AppError::internal(format!("bad API path: {e}")))?;
    let name = endpoints.broker.display_name();
    // A GET is safe to repeat: a failed connection, a timeout, 429 and 5xx are retried with
    // backoff, at most `RETRY.attempts` tries in all. (Token requests are never retried.)
    let mut attempt = 0;
    let (status, body) = loop {
        attempt += 1;
        let result = async {
            let resp = http
                .get(url.clone())
                .bearer_auth(crate::secret::Expose::expose(access_token))
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await?;
            let status = resp.status();
            let after = retry_after(resp.headers());
            Ok::<_, reqwest::Error>((status, after, resp.text().await?))
        }
        .await;
        let last = attempt >= RETRY.attempts;
        let wait = match &result {
            Err(e)
                if !last && (e.is_connect() || e.is_timeout() || e.is_request() || e.is_body()) =>
            {
                Some(RETRY.backoff(attempt))
            }
            Ok((s, after, _))
                if !last && retryable(*s) && after.map_or(true, |a| a <= RETRY.max_retry_after) =>
            {
                Some(after.unwrap_or_else(|| RETRY.backoff(attempt)))
            }
            _ => None,
        };
        let Some(wait) = wait else {
            match result {
                Err(e) => return Err(AppError::network(e)),
                Ok((s, after, _)) if s == reqwest::StatusCode::TOO_MANY_REQUESTS => {
                    let when = after
                        .map(|a| format!(" in {} seconds", a.as_secs().max(1)))
                        .unwrap_or_else(|| " in a minute".into());
                    return Err(AppError::new(
                        ErrorKind::RateLimited,
                        format!("{name} is limiting how often Keygrant may ask (429). Nothing was lost; press Refresh{when}."),
                    ));
                }
                Ok((s, _, body)) => break (s, body),
            }
        };
        match &result {
            Err(e) => tracing::debug!(attempt, error = %e, "GET failed; retrying"),
            Ok((s, _, _)) => {
                tracing::debug!(attempt, status = %s, "GET answered a retryable status; retrying")
            }
        }
        tokio::time::sleep(wait).await;
    };
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(AppError::new(
            ErrorKind::Unauthorized,
            format!(
                "{} refused access to {what}{}. Check that your OAuth application has the scope for \
                 reading accounts ({}), then disconnect and connect again.",
                endpoints.broker.display_name(),
                error_message(&body).map(|m| format!(" ({m})")).unwrap_or_default(),
                endpoints.broker.spec().read_scope,
            ),
        ));
    }
    if !status.is_success() {
        return Err(AppError::new(
            ErrorKind::Broker,
            format!(
                "{} answered {status} for {what}{}. Try again in a minute.",
                endpoints.broker.display_name(),
                error_message(&body)
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
        ));
    }
    Ok(body)
}

/// How API reads are retried.
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// The wait before the second try; doubled for each later one (with jitter).
    pub base: Duration,
    /// A `Retry-After` longer than this is not waited for: the user is told when to retry.
    pub max_retry_after: Duration,
}

/// The policy every account-API read uses: 3 tries, 250 ms base, `Retry-After` up to 5 s.
pub const RETRY: RetryPolicy = RetryPolicy {
    attempts: 3,
    base: Duration::from_millis(250),
    max_retry_after: Duration::from_secs(5),
};

impl RetryPolicy {
    /// 250 ms, 500 ms, ... with up to 25 % jitter so concurrent reads do not retry in step.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base * 2u32.saturating_pow(attempt.saturating_sub(1));
        let jitter = rand::random::<f64>() * 0.25;
        exp.mul_f64(1.0 + jitter)
    }
}

fn retryable(s: reqwest::StatusCode) -> bool {
    s == reqwest::StatusCode::TOO_MANY_REQUESTS || matches!(s.as_u16(), 500 | 502 | 503 | 504)
}

/// `Retry-After` in seconds (the HTTP-date form is not used by these APIs; it counts as absent).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
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
