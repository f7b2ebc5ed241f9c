//! The Demo broker: a faithful fake of the brokers' OAuth and REST APIs on 127.0.0.1, so a
//! new user and every test can run the whole flow with no account and no network.
//!
//! This slice speaks the Tastytrade dialect (shared/reference/BROKERS.md):
//! `GET /auth.html` (authorize page with Approve and Deny), `POST /oauth/token` (form or JSON
//! body, client credentials in the body, `User-Agent: <product>/<version>` required),
//! `GET /customers/me`, `GET /customers/me/accounts` (kebab-case JSON in `data.items`).
//!
//! Refresh tokens are self-verifying (an HMAC under a key fixed for the Demo broker), so a
//! restarted Demo broker, such as the one inside a reopened app, accepts the tokens an earlier
//! one issued, the way a real broker's refresh tokens outlive a session.

mod pages;
pub use pages::escape as escape_html;
mod tasty;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use url::Url;

/// The client ID the Demo broker accepts. Shown in the wizard so the user can paste it.
pub const DEMO_CLIENT_ID: &str = "5a3c0d2e-demo-4b1f-9c7a-keygrant0001";
/// The client secret the Demo broker accepts (a published fake, not a credential).
pub const DEMO_CLIENT_SECRET: &str = "demo-secret-7f3a9c2b41d84e0f9b6a5c1d2e3f4a5b";
/// Access tokens the Demo broker issues last as long as Tastytrade's: 15 minutes.
pub const ACCESS_TOKEN_SECS: u64 = 900;

pub(crate) struct PendingCode {
    client_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    scope: String,
    issued: Instant,
}

#[derive(Default)]
pub(crate) struct DemoState {
    codes: HashMap<String, PendingCode>,
    access_tokens: HashMap<String, Instant>,
    /// Counts of requests by path, for tests that check what the app sent.
    pub(crate) hits: HashMap<String, u64>,
}

#[derive(Clone)]
pub(crate) struct Shared {
    state: Arc<Mutex<DemoState>>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, DemoState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running Demo broker. Dropping it stops the server.
pub struct DemoBroker {
    addr: SocketAddr,
    shared: Shared,
    _shutdown: oneshot::Sender<()>,
}

impl DemoBroker {
    /// Starts on 127.0.0.1 at `port` (0 picks a free one).
    pub async fn start(port: u16) -> std::io::Result<DemoBroker> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared = Shared { state: Arc::new(Mutex::new(DemoState::default())) };
        let app = tasty::router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(DemoBroker { addr, shared, _shutdown: tx })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>/`
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.addr)).expect("loopback URL")
    }

    /// How many requests reached `path` (e.g. "/oauth/token").
    pub fn hits(&self, path: &str) -> u64 {
        self.shared.lock().hits.get(path).copied().unwrap_or(0)
    }

    /// Makes every access token issued so far expire now (tests of refresh).
    pub fn expire_access_tokens(&self) {
        let past = Instant::now() - Duration::from_secs(1);
        for v in self.shared.lock().access_tokens.values_mut() {
            *v = past;
        }
    }
}

/// The seeded accounts every Demo login sees.
pub(crate) struct SeedAccount {
    pub number: &'static str,
    pub nickname: &'static str,
    pub type_name: &'static str,
    pub margin_or_cash: &'static str,
}

pub(crate) const SEED_ACCOUNTS: &[SeedAccount] = &[
    SeedAccount { number: "5WX01234", nickname: "Individual Margin", type_name: "Individual", margin_or_cash: "Margin" },
    SeedAccount { number: "5WX05678", nickname: "Roth IRA", type_name: "Roth IRA", margin_or_cash: "Cash" },
    SeedAccount { number: "5WX09012", nickname: "Options Lab", type_name: "Individual", margin_or_cash: "Margin" },
];

/// Runs the Demo broker in the foreground for `keygrant demo-broker [--port N]`.
pub async fn run_standalone(port: u16) -> std::io::Result<()> {
    let broker = DemoBroker::start(port).await?;
    let base = broker.base_url();
    println!("Keygrant Demo broker listening on {base}");
    println!("  authorize:  {}auth.html", base);
    println!("  token:      {}oauth/token", base);
    println!("  API base:   {}", base);
    println!("  client ID:      {DEMO_CLIENT_ID}");
    println!("  client secret:  {DEMO_CLIENT_SECRET}   (a published demo value, not a real secret)");
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
