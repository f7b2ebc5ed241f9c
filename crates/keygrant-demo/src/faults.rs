//! The Demo broker's fault switches and observations, for tests and benchmarks only (the
//! `faults` feature): latency, failing accounts, API faults, revoked grants, rotation,
//! omitted refresh tokens, expired access tokens, request counts.

use std::time::{Duration, Instant};

use crate::{
    ApiFault, DemoBroker, LimitHeader, LimitWindow, TokenFault, TokenRequestRecord, TokenShape,
};

/// Every fault switch by name, with what it does in one line: the names
/// [`DemoBroker::apply_fault`] takes (and `keygrant demo-broker --fault NAME`).
pub const FAULTS: &[(&str, &str)] = &[
    ("slow", "Adds 2 s to every response."),
    ("fail-account", "Balances and positions of the second seeded account of each dialect fail (5WX05678, 11827634, 28767933)."),
    ("server-error", "The next API request answers 503."),
    ("reset", "The next API request's connection drops mid-body."),
    ("stall", "The next API request answers 504 only after 60 s (a client timeout)."),
    ("rate-limit-short", "The next API request answers 429 with Retry-After: 2."),
    ("rate-limit", "Every API request answers 429 with Retry-After for the next 60 s."),
    ("rate-limit-reset", "Every API request answers 429 with X-RateLimit-Reset (seconds, TradeStation's header) for the next 60 s."),
    ("rate-limit-epoch", "Every API request answers 429 with X-RateLimit-Reset as a Unix time, for the next 60 s."),
    ("unauthorized", "The next API request answers 401 (a refused access token: one refresh, one retry)."),
    ("forbidden", "Every API request answers 403 (grant without the read scope, or a restricted account)."),
    ("retired-version", "Tastytrade dialect: any Accept-Version but 20990101 answers 406 (a missing header is accepted)."),
    ("no-version-fits", "Tastytrade dialect: every API request answers 406, with or without Accept-Version."),
    ("sparse", "Balances with a few or none of the usual fields; quantities and multipliers as JSON numbers."),
    ("revoke", "Refreshes answer invalid_grant (the grant was deleted)."),
    ("rotate", "Every refresh rotates the refresh token."),
    ("no-refresh-token", "Code exchanges answer without a refresh token."),
    ("expire-tokens", "Every access token issued so far expires now."),
    ("token-unavailable", "The next 2 token requests answer 503 with an HTML page, as a proxy does."),
    ("not-a-customer", "The next 2 token requests answer the Tastytrade sandbox's intermittent invalid_request \"not a customer\"."),
    ("odd-token-responses", "Token responses carry expires_in as a string, no token_type, Content-Type text/plain and status 201."),
    ("short-lived-tokens", "Token responses say expires_in 30 (Keygrant clamps it to 60 s and reuses the token until due)."),
];

/// The length of the named rate-limit windows.
const NAMED_WINDOW: Duration = Duration::from_secs(60);

impl DemoBroker {
    /// How many requests reached `path` (e.g. "/oauth/token").
    pub fn hits(&self, path: &str) -> u64 {
        self.shared.lock().hits.get(path).copied().unwrap_or(0)
    }

    /// Every token request so far, in order.
    pub fn token_requests(&self) -> Vec<TokenRequestRecord> {
        self.shared.lock().token_requests.clone()
    }

    /// Adds `latency` to every response from now on (a slow broker; the benchmark).
    pub fn set_latency(&self, latency: Duration) {
        self.shared.lock().latency = latency;
    }

    /// Makes the balances and positions of account `number` fail from now on.
    pub fn fail_account(&self, number: &str) {
        self.shared.lock().failing_accounts.push(number.to_string());
    }

    /// Puts `fault` on the next API request (queued after any already set).
    pub fn push_api_fault(&self, fault: ApiFault) {
        self.shared.lock().api_faults.push_back(fault);
    }

    /// Revokes every grant: refreshes answer `invalid_grant` from now on.
    pub fn revoke_grants(&self) {
        self.shared.lock().revoked = true;
    }

    /// Rotates the refresh token on every refresh from now on.
    pub fn rotate_refresh_tokens(&self) {
        self.shared.lock().rotate = true;
    }

    /// Answers code exchanges without a refresh token from now on.
    pub fn omit_refresh_tokens(&self) {
        self.shared.lock().omit_refresh_token = true;
    }

    /// The most requests that were being served at once, and resets the count.
    pub fn take_max_in_flight(&self) -> usize {
        std::mem::take(&mut self.shared.lock().max_in_flight)
    }

    /// Switches on the fault called `name` (one of [`FAULTS`]). Errors: an unknown name, with
    /// the known ones listed.
    pub fn apply_fault(&self, name: &str) -> Result<(), String> {
        match name {
            "slow" => self.set_latency(Duration::from_secs(2)),
            "fail-account" => {
                self.fail_account("5WX05678");
                self.fail_account("28767933");
                self.fail_account("11827634");
            }
            "server-error" => self.push_api_fault(ApiFault::Status(503)),
            "reset" => self.push_api_fault(ApiFault::Reset),
            "stall" => self.push_api_fault(ApiFault::Stall(Duration::from_secs(60))),
            "rate-limit-short" => self.push_api_fault(ApiFault::RateLimited(2)),
            "rate-limit" => self.rate_limit(0, NAMED_WINDOW, LimitHeader::RetryAfter),
            "rate-limit-reset" => self.rate_limit(0, NAMED_WINDOW, LimitHeader::ResetSeconds),
            "rate-limit-epoch" => self.rate_limit(0, NAMED_WINDOW, LimitHeader::ResetEpoch),
            "unauthorized" => self.push_api_fault(ApiFault::Status(401)),
            "forbidden" => self.forbid_api(),
            "retired-version" => self.accept_only_versions(&["20990101"]),
            "no-version-fits" => self.reject_every_version(),
            "sparse" => self.sparse_payloads(),
            "revoke" => self.revoke_grants(),
            "rotate" => self.rotate_refresh_tokens(),
            "no-refresh-token" => self.omit_refresh_tokens(),
            "expire-tokens" => self.expire_access_tokens(),
            "token-unavailable" => self.push_token_fault(TokenFault::Status(503), 2),
            "not-a-customer" => self.push_token_fault(TokenFault::NotACustomer, 2),
            "odd-token-responses" => self.set_token_shape(Some(TokenShape {
                fields: vec![
                    ("expires_in".into(), Some(serde_json::json!("900"))),
                    ("token_type".into(), None),
                ],
                content_type: Some("text/plain".into()),
                status: Some(201),
            })),
            "short-lived-tokens" => self.set_token_shape(Some(TokenShape {
                fields: vec![("expires_in".into(), Some(serde_json::json!(30)))],
                ..TokenShape::default()
            })),
            _ => {
                let known: Vec<&str> = FAULTS.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "Unknown fault \"{name}\". Known faults: {}.",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// API requests received so far (faulted, limited and refused ones included; sign-in
    /// pages and token endpoints not).
    pub fn api_requests(&self) -> u64 {
        self.shared.lock().api_requests
    }

    /// Lets `budget` more API requests through, then answers every API request 429 for
    /// `length`, saying when to come back with `header`.
    pub fn rate_limit(&self, budget: u64, length: Duration, header: LimitHeader) {
        self.shared.lock().limit = Some(LimitWindow {
            budget,
            length,
            until: None,
            header,
        });
    }

    /// Answers every API request 403 from now on.
    pub fn forbid_api(&self) {
        self.shared.lock().forbidden = true;
    }

    /// Tastytrade dialect: answers 406 to an `Accept-Version` not in `versions` from now on
    /// (a request without the header is still served).
    pub fn accept_only_versions(&self, versions: &[&str]) {
        self.shared.lock().accept_versions = Some(versions.iter().map(|v| v.to_string()).collect());
    }

    /// Tastytrade dialect: answers 406 to every API request from now on.
    pub fn reject_every_version(&self) {
        self.shared.lock().reject_every_version = true;
    }

    /// Tastytrade dialect: the `Accept-Version` header of every API request so far, in order.
    pub fn accept_versions_seen(&self) -> Vec<Option<String>> {
        self.shared.lock().versions_seen.clone()
    }

    /// Sparse payloads from now on: the first account's balances carry only a few of the
    /// usual fields, the second's none of them; quantities and multipliers are JSON numbers.
    pub fn sparse_payloads(&self) {
        self.shared.lock().sparse = true;
    }

    /// Makes every access token issued so far expire now (tests of refresh).
    pub fn expire_access_tokens(&self) {
        let past = Instant::now() - Duration::from_secs(1);
        for (_, exp) in self.shared.lock().access_tokens.values_mut() {
            *exp = past;
        }
    }

    /// Puts `fault` on the next `times` token requests (either dialect), queued after any
    /// already set; a faulted request is counted in [`DemoBroker::hits`] but not in
    /// [`DemoBroker::token_requests`].
    pub fn push_token_fault(&self, fault: TokenFault, times: usize) {
        let mut s = self.shared.lock();
        for _ in 0..times {
            s.token_faults.push_back(fault);
        }
    }

    /// Reshapes every successful token response from now on (`None`: the normal shape).
    pub fn set_token_shape(&self, shape: Option<TokenShape>) {
        self.shared.lock().token_shape = shape;
    }
}
