//! The Demo broker's fault switches and observations, for tests and benchmarks only (the
//! `faults` feature): latency, failing accounts, API faults, revoked grants, rotation,
//! omitted refresh tokens, expired access tokens, request counts.

use std::time::{Duration, Instant};

use crate::{ApiFault, DemoBroker, TokenFault, TokenRequestRecord, TokenShape};

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
