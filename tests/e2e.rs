//! End to end in the real window: the built app under Xvfb, driven through tauri-driver and
//! WebKitWebDriver, with a scripted browser as $BROWSER and the real keyring.
//!
//! Needs a display, a D-Bus session with an unlocked keyring, tauri-driver and the built app,
//! so it is `#[ignore]`d in plain `cargo test` and run by scripts/test.sh as
//! `xvfb-run -a dbus-run-session -- scripts/with-keyring.sh cargo test --test e2e -- --ignored`.
//! KEYGRANT_APP names the binary (default target/release/keygrant). Screenshots of every
//! screen go to test-output/e2e/<run>/.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use keygrant_core::secret::{Expose, SecretText};
use keygrant_core::vault::{KeyringStore, SecretStore, Vault};
use serde_json::json;

/// The scripted browser (tests/browser/approve.py).
fn approve_py() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/approve.py")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    /// Ends tauri-driver, WebKitWebDriver and the app together (one process group), so a
    /// failed test leaves no app behind holding the single-instance lock.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Run {
    app: PathBuf,
    out: PathBuf,
    config: tempfile::TempDir,
    log: PathBuf,
    browser_log: PathBuf,
}

impl Run {
    fn new(name: &str) -> Run {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let app = std::env::var_os("KEYGRANT_APP")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target/release/keygrant"));
        assert!(
            app.exists(),
            "the built app is missing at {} (build it first or set KEYGRANT_APP)",
            app.display()
        );
        let out = root.join("test-output/e2e").join(name);
        assert!(!name.is_empty());
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        Run {
            app,
            log: out.join("app.log"),
            browser_log: out.join("browser.log"),
            out,
            config: tempfile::tempdir().unwrap(),
        }
    }

    /// Starts tauri-driver with the environment the app will inherit; the scripted browser
    /// approves every sign-in.
    fn driver(&self) -> Driver {
        // keygrant:// links go to a second launch of the app, as the desktop's handler would.
        self.driver_with_browser(&self.browser(&format!(
            "--delay 2 --deep-link-handler {}",
            self.app.display()
        )))
    }

    /// `$BROWSER` for the app: the scripted browser approving every sign-in with `args`,
    /// logging to this run's browser log.
    fn browser(&self, args: &str) -> String {
        format!(
            "python3 {} {args} --log {} %s",
            approve_py().display(),
            self.browser_log.display()
        )
    }

    /// Starts tauri-driver with `$BROWSER` set to `browser` for the app.
    fn driver_with_browser(&self, browser: &str) -> Driver {
        self.driver_with_env(browser, &[])
    }

    /// Starts tauri-driver with `$BROWSER` set to `browser` and `env` for the app.
    fn driver_with_env(&self, browser: &str, env: &[(&str, &str)]) -> Driver {
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut child = Command::new("tauri-driver")
            .process_group(0)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &free_port().to_string(),
            ])
            .env("BROWSER", browser)
            .envs(env.iter().copied())
            .env("XDG_CONFIG_HOME", self.config.path())
            .env("RUST_LOG", "trace")
            .env("NO_AT_BRIDGE", "1")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("tauri-driver on PATH (cargo install tauri-driver --locked)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Driver { child, port };
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("tauri-driver did not start");
    }

    async fn open(&self, driver: &Driver) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({ "application": self.app }));
        // Keygrant is single-instance: while the previous window's process is still exiting,
        // a new launch hands over to it and quits, and the session fails. Retry briefly.
        let mut last = None;
        for _ in 0..10 {
            // A launch that handed over to another instance can leave the session request
            // waiting for a window that never comes: bounded.
            let mut builder = ClientBuilder::native();
            builder.capabilities(caps.clone());
            let url = format!("http://127.0.0.1:{}", driver.port);
            match tokio::time::timeout(Duration::from_secs(60), builder.connect(&url)).await {
                Ok(Ok(c)) => return c,
                Ok(Err(e)) => last = Some(format!("{e:?}")),
                Err(_) => panic!(
                    "no WebDriver session with the app within 60 s (another Keygrant running?)"
                ),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        panic!("no WebDriver session with the app: {last:?}");
    }

    async fn shot(&self, c: &Client, name: &str) {
        // Let WebKit paint the current DOM before capturing it.
        c.execute_async(
            "requestAnimationFrame(() => requestAnimationFrame(arguments[0]))",
            vec![],
        )
        .await
        .unwrap();
        let png = c.screenshot().await.unwrap();
        std::fs::write(self.out.join(format!("{name}.png")), png).unwrap();
    }

    fn profile_id(&self) -> String {
        let path = self
            .config
            .path()
            .join("app.keygrant.desktop/profiles.json");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        json["profiles"][0]["id"].as_str().unwrap().to_string()
    }
}

/// Ends the WebDriver session, which quits the app. Bounded: a session whose app already
/// quit can leave the DELETE unanswered, and the driver's process group is killed after.
async fn close(c: Client) {
    let _ = tokio::time::timeout(Duration::from_secs(15), c.close()).await;
}

/// Scrolls `css` to the middle of the window, then clicks it (WebKitWebDriver does not always
/// scroll a control near the bottom of a long page into view before clicking).
async fn click(c: &Client, css: &str) {
    let el = wait_for(c, css).await;
    c.execute(
        "arguments[0].scrollIntoView({block: 'center'})",
        vec![serde_json::to_value(&el).unwrap()],
    )
    .await
    .unwrap();
    el.click().await.unwrap();
}

/// Disconnect in the window (two clicks: Disconnect, then Remove) and wait for the wizard.
async fn disconnect_in_window(c: &Client) {
    click(c, "#disconnect").await;
    wait_for_xpath(
        c,
        "//button[@id='disconnect' and text()='Remove']",
        10,
        "Disconnect asks to confirm",
    )
    .await;
    click(c, "#disconnect").await;
    wait_for(c, "#broker-demo").await;
}

async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(45))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("waiting for {css}: {e}"))
}

/// Types `text` over what a field holds, with keys as a person does: End, one Backspace per
/// character, then the text. WebKit's Element Clear sets the value without any event, so the
/// page's state keeps the old text and a re-render between Clear and typing (the clock ticks
/// once a second) would put it back; each Backspace here is an `input` the page sees.
async fn retype(field: &fantoccini::elements::Element, text: &str) {
    use fantoccini::key::Key;
    let old = field.prop("value").await.unwrap().unwrap_or_default();
    let erase = Key::Backspace.to_string().repeat(old.chars().count());
    field
        .send_keys(&format!("{}{erase}{text}", Key::End))
        .await
        .unwrap();
    let value = field.prop("value").await.unwrap().unwrap_or_default();
    assert_eq!(value, text, "the field holds what was typed over it");
}

/// Waits up to `secs` for an element matching `xpath`; panics with `what` when none comes.
async fn wait_for_xpath(c: &Client, xpath: &str, secs: u64, what: &str) {
    c.wait()
        .at_most(Duration::from_secs(secs))
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"));
}

/// The page re-renders whole screens as state changes, so an element found a moment ago can be
/// replaced before it is read: reads are retried on a stale element.
async fn text(c: &Client, css: &str) -> String {
    for _ in 0..50 {
        if let Ok(t) = wait_for(c, css).await.text().await {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css} kept going stale");
}

async fn account_rows(c: &Client) -> Vec<Vec<String>> {
    wait_for(c, "#accounts tbody tr").await;
    'retry: for _ in 0..50 {
        let mut rows = Vec::new();
        let Ok(trs) = c.find_all(Locator::Css("#accounts tbody tr")).await else {
            continue;
        };
        for tr in trs {
            let Ok(tds) = tr.find_all(Locator::Css("td")).await else {
                continue 'retry;
            };
            let mut cells = Vec::new();
            for td in tds {
                let Ok(t) = td.text().await else {
                    continue 'retry;
                };
                cells.push(t);
            }
            rows.push(cells);
        }
        return rows;
    }
    panic!("the account rows kept going stale");
}

fn keyring(key: &str) -> Option<SecretText> {
    KeyringStore::new(keygrant_core::vault::SERVICE)
        .get(key)
        .expect("Secret Service reachable")
        .map(SecretText::new)
}

fn run_name(test: &str) -> String {
    format!(
        "{}/{test}",
        std::env::var("KEYGRANT_E2E_NAME")
            .as_deref()
            .unwrap_or("build")
    )
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built app, tauri-driver, a display and a keyring: run by scripts/test.sh"]
async fn onboarding_with_the_demo_broker_in_the_real_window() {
    let run = Run::new(&run_name("tastytrade"));
    let driver = run.driver();

    // First launch: no profile, so the wizard.
    let c = run.open(&driver).await;
    wait_for(&c, "#broker-demo").await;
    assert!(text(&c, "#broker-demo")
        .await
        .to_lowercase()
        .contains("start here"));
    run.shot(&c, "01-wizard-broker").await;
    wait_for(&c, "#broker-demo").await.click().await.unwrap();
    let demo_id = text(&c, "#demo-client-id").await;
    let demo_secret = text(&c, "#demo-client-secret").await;
    assert!(!demo_id.is_empty() && !demo_secret.is_empty());

    // A pasted secret with spaces inside is refused inline.
    wait_for(&c, "#client-id")
        .await
        .send_keys(&format!("  {demo_id}  "))
        .await
        .unwrap();
    wait_for(&c, "#client-secret")
        .await
        .send_keys("demo secret")
        .await
        .unwrap();
    wait_for(&c, "#connect").await.click().await.unwrap();
    assert!(text(&c, "#error-client_secret").await.contains("spaces"));
    run.shot(&c, "02-wizard-inline-error").await;

    // The real values, with whitespace around them as a paste often has.
    let secret_input = wait_for(&c, "#client-secret").await;
    retype(&secret_input, &format!(" {demo_secret} ")).await;
    run.shot(&c, "03-wizard-credentials").await;
    wait_for(&c, "#connect").await.click().await.unwrap();
    assert!(text(&c, "#waiting")
        .await
        .contains("Waiting for your browser"));
    run.shot(&c, "04-waiting-for-browser").await;

    // The scripted browser approves; the window moves on by itself.
    let masked = text(&c, "#token").await;
    assert!(masked.starts_with("••••"), "masked token shown: {masked}");
    // The overview's first four cells name the account; its figures follow.
    let rows: Vec<Vec<String>> = account_rows(&c)
        .await
        .into_iter()
        .map(|r| r[..4].to_vec())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec!["5WX01234", "Individual Margin", "Individual", "Margin"],
            vec!["5WX05678", "Roth IRA", "Roth IRA", "Cash"],
            vec!["5WX09012", "Options Lab", "Individual", "Margin"],
        ]
    );
    let browser_log = std::fs::read_to_string(&run.browser_log).unwrap();
    assert!(
        browser_log.contains("/callback 200"),
        "the browser reached the loopback listener: {browser_log}"
    );
    run.shot(&c, "05-token-and-accounts").await;

    // Every account's balances and positions, in the broker's words, as money (the accounts
    // open from the overview, all at once with Expand all).
    click(&c, "#expand-all").await;
    run.shot(&c, "05a-expanded").await;
    wait_for_xpath(
        &c,
        "//button[@id='expand-all' and normalize-space()='Collapse all']",
        10,
        "Expand all opens every account",
    )
    .await;
    let nlv = text(&c, "#detail-5WX01234 dd[data-key='net_liquidating_value']").await;
    assert!(nlv.starts_with('$') && nlv.contains(','), "{nlv}");
    wait_for(&c, "#detail-5WX01234 .positions tbody tr").await;
    assert!(text(&c, "#detail-5WX09012")
        .await
        .contains("No open positions"));
    c.execute(
        "document.querySelector('#detail-5WX01234').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    run.shot(&c, "05b-balances-and-positions").await;
    assert!(text(&c, "#snippet-env")
        .await
        .contains("TASTY_REFRESH_TOKEN=<paste: Copy with secrets>"));
    c.execute(
        "document.querySelector('#handoff').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    run.shot(&c, "05c-hand-off-snippets").await;
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();

    let id = run.profile_id();
    let refresh_token =
        keyring(&Vault::refresh_token_key(&id)).expect("refresh token in the keyring");
    let client_secret =
        keyring(&Vault::client_secret_key(&id)).expect("client secret in the keyring");
    assert_eq!(client_secret.expose(), demo_secret, "trimmed secret stored");
    assert!(!masked.contains(&refresh_token.expose()[..12]));
    let dom = c.source().await.unwrap();
    assert!(
        !dom.contains(refresh_token.expose()),
        "the token is not in the page before Reveal"
    );
    assert!(
        !dom.contains(&demo_secret),
        "the client secret is not in the page after connecting"
    );

    wait_for(&c, "#reveal").await.click().await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(&format!(
            "//code[@id='token' and text()='{}']",
            refresh_token.expose()
        )))
        .await
        .expect("Reveal shows the keyring's refresh token");
    run.shot(&c, "06-token-revealed").await;
    wait_for(&c, "#reveal").await.click().await.unwrap();
    wait_for_xpath(
        &c,
        "//button[@id='reveal' and text()='Reveal']",
        10,
        "Hide masks the token again",
    )
    .await;
    assert!(
        !c.source().await.unwrap().contains(refresh_token.expose()),
        "Hide takes the token out of the page"
    );

    // Diagnose: the doctor's checks on the token card, nothing secret in them.
    wait_for(&c, "#diagnose").await.click().await.unwrap();
    wait_for(&c, "#diagnose-checks").await;
    for check in ["endpoint", "client_secret", "refresh_token", "keyring"] {
        let shown = text(&c, &format!("#check-{check}")).await;
        assert!(shown.to_lowercase().starts_with("pass"), "{check}: {shown}");
    }
    let panel = text(&c, "#diagnose-panel").await;
    assert!(!panel.contains(&demo_secret) && !panel.contains(refresh_token.expose()));
    c.execute(
        "document.querySelector('#diagnose-panel').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    run.shot(&c, "06b-diagnose").await;
    wait_for(&c, "#diagnose-close").await.click().await.unwrap();
    close(c).await;

    // Nothing secret on disk.
    let profiles =
        std::fs::read_to_string(run.config.path().join("app.keygrant.desktop/profiles.json"))
            .unwrap();
    assert!(!profiles.contains(refresh_token.expose()) && !profiles.contains(&demo_secret));

    // Reopen: straight to the accounts, token from the keyring, a fresh access token. The
    // user starts renaming the connection at once, while the accounts' details are loading:
    // what they type and the focus survive the details arriving.
    let c = run.open(&driver).await;
    wait_for(&c, "#rename").await.click().await.unwrap();
    let field = wait_for(&c, "#rename-input").await;
    retype(&field, "Swing acc").await;
    wait_for_xpath(
        &c,
        "//*[starts-with(@id,'detail-') and contains(., 'Net liquidating value')]",
        20,
        "account details arrive",
    )
    .await;
    let focus = c
        .execute(
            "const e = document.activeElement; return [e.id, e.value];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        focus,
        serde_json::json!(["rename-input", "Swing acc"]),
        "typed text and focus survive the details arriving"
    );
    run.shot(&c, "07a-renaming-while-loading").await;
    wait_for(&c, "#rename-cancel").await.click().await.unwrap();
    assert_eq!(account_rows(&c).await.len(), 3);
    assert!(
        c.find(Locator::Css("#wizard")).await.is_err(),
        "no wizard for a returning user"
    );
    run.shot(&c, "07-reopened-accounts").await;

    // Disconnect removes the profile and its keyring entries.
    disconnect_in_window(&c).await;
    run.shot(&c, "08-after-disconnect").await;
    // The wizard remembers the broker chosen, and the About box names the version.
    assert!(text(&c, "#broker-demo")
        .await
        .to_lowercase()
        .contains("last used"));
    wait_for(&c, "#about-toggle").await.click().await.unwrap();
    let about = text(&c, "#about").await;
    assert!(
        about.contains(&format!("Keygrant {}", env!("CARGO_PKG_VERSION")))
            && about.contains("keyring"),
        "{about}"
    );
    run.shot(&c, "09-about").await;
    close(c).await;
    drop(driver);
    assert!(
        keyring(&Vault::refresh_token_key(&id)).is_none(),
        "refresh token removed"
    );
    assert!(
        keyring(&Vault::client_secret_key(&id)).is_none(),
        "client secret removed"
    );

    // The most verbose logs hold neither secret.
    let log = std::fs::read_to_string(&run.log).unwrap();
    assert!(log.contains("connected"), "the app's log was captured");
    assert!(
        !log.contains(refresh_token.expose()),
        "refresh token in the log"
    );
    assert!(!log.contains(&demo_secret), "client secret in the log");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built app, tauri-driver, a display and a keyring: run by scripts/test.sh"]
async fn tradestation_dialect_with_its_scopes_in_the_real_window() {
    let run = Run::new(&run_name("tradestation"));
    let driver = run.driver();
    let c = run.open(&driver).await;
    wait_for(&c, "#broker-trade_station")
        .await
        .click()
        .await
        .unwrap();
    // The real broker's form: live/sim, its redirect default, offline_access locked on.
    assert_eq!(text(&c, "#environment-sandbox").await, "Simulated (sim)");
    let redirect = wait_for(&c, "#redirect-uri").await;
    assert_eq!(
        redirect.prop("value").await.unwrap().as_deref(),
        Some("http://localhost:3001")
    );
    let offline = wait_for(&c, "#scope-offline_access").await;
    assert_eq!(
        offline.prop("disabled").await.unwrap().as_deref(),
        Some("true")
    );
    run.shot(&c, "01-tradestation-form").await;

    // Then the Demo broker speaking TradeStation, end to end.
    wait_for(&c, "#back").await.click().await.unwrap();
    wait_for(&c, "#broker-demo").await.click().await.unwrap();
    wait_for(&c, "#dialect-trade_station")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&c, "#fill-demo").await.click().await.unwrap();
    run.shot(&c, "02-demo-tradestation").await;
    wait_for(&c, "#connect").await.click().await.unwrap();
    let rows = account_rows(&c).await;
    let numbers: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(numbers, ["11827633", "11827634", "210FUT01"]);
    assert!(text(&c, "#token-card").await.contains("TradeStation"));
    run.shot(&c, "03-tradestation-accounts").await;
    let browser_log = std::fs::read_to_string(&run.browser_log).unwrap();
    assert!(
        browser_log.contains("authorize page 200 /ts/authorize"),
        "{browser_log}"
    );

    let id = run.profile_id();
    let refresh_token =
        keyring(&Vault::refresh_token_key(&id)).expect("refresh token in the keyring");
    assert!(refresh_token.expose().starts_with("demo-ts-rt-"));
    disconnect_in_window(&c).await;
    close(c).await;
    drop(driver);
    assert!(keyring(&Vault::refresh_token_key(&id)).is_none());
    let log = std::fs::read_to_string(&run.log).unwrap();
    assert!(
        !log.contains(refresh_token.expose()),
        "refresh token in the log"
    );
}

/// A broker's rate limit met in the real window: a Refresh answered 429 with TradeStation's
/// `X-RateLimit-Reset` keeps the figures on screen, counts the wait down on its button, and
/// the dashboard loads again by itself once the wait is over, with no click.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built app, tauri-driver, a display and a keyring: run by scripts/test.sh"]
async fn a_rate_limit_is_counted_down_and_the_dashboard_recovers_by_itself() {
    let run = Run::new(&run_name("rate-limit"));
    let demo = keygrant_demo::DemoBroker::start(0).await.unwrap();
    let browser = run.browser("");
    let driver = run.driver_with_env(
        &browser,
        &[("KEYGRANT_DEMO_BROKER", demo.base_url().as_str())],
    );
    let c = run.open(&driver).await;
    click(&c, "#broker-demo").await;
    click(&c, "#dialect-trade_station").await;
    click(&c, "#fill-demo").await;
    click(&c, "#connect").await;
    assert_eq!(account_rows(&c).await.len(), 3);

    // Every API request is refused for 8 s from now on; Refresh meets it.
    demo.rate_limit(
        0,
        Duration::from_secs(8),
        keygrant_demo::LimitHeader::ResetSeconds,
    );
    let before = demo.api_requests();
    click(&c, "#refresh").await;
    let refused = text(&c, "#accounts-error").await;
    assert!(
        refused.contains("limiting how often") && refused.contains("from before"),
        "{refused}"
    );
    assert_eq!(account_rows(&c).await.len(), 3, "the figures stay");
    let seconds = |label: String| -> u64 {
        label
            .strip_prefix("Trying again in ")
            .and_then(|l| l.strip_suffix(" s"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a countdown: {label}"))
    };
    let first = seconds(text(&c, "#accounts-error button").await);
    assert!((3..=8).contains(&first), "{first}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let later = seconds(text(&c, "#accounts-error button").await);
    assert!(later < first, "counting down: {first} then {later}");
    run.shot(&c, "01-rate-limit-countdown").await;

    // No click: once the wait is over the list and the figures come back by themselves.
    wait_for_xpath(
        &c,
        "//section[@id='accounts-card' and not(.//*[@id='accounts-error'])]//table[@id='accounts']",
        20,
        "the dashboard recovered by itself",
    )
    .await;
    assert_eq!(account_rows(&c).await.len(), 3);
    assert!(
        demo.api_requests() > before + 1,
        "asked again after the wait"
    );
    run.shot(&c, "02-recovered-by-itself").await;
    disconnect_in_window(&c).await;
    close(c).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built app, tauri-driver, a display and a keyring: run by scripts/test.sh"]
async fn with_no_browser_the_address_and_the_paste_box_finish_the_sign_in() {
    let run = Run::new(&run_name("no-browser"));
    // A computer with no browser: the launcher cannot be started.
    let driver = run.driver_with_browser("/nonexistent/no-browser %s");
    let c = run.open(&driver).await;
    wait_for(&c, "#broker-demo").await.click().await.unwrap();
    wait_for(&c, "#fill-demo").await.click().await.unwrap();
    wait_for(&c, "#connect").await.click().await.unwrap();
    let said = text(&c, "#no-browser").await;
    assert!(said.contains("could not open a web browser"), "{said}");
    let page = text(&c, "#waiting").await;
    assert!(
        !page.contains("Launcher") && !page.contains("ExitStatus") && !page.contains("nonexistent"),
        "no launcher text on the page: {page}"
    );
    let address = wait_for(&c, "#sign-in-address")
        .await
        .prop("value")
        .await
        .unwrap()
        .expect("the authorize address is on the page");
    assert!(address.contains("state="), "{address}");
    run.shot(&c, "01-no-browser-address").await;

    // "Open again" still finds no browser and keeps waiting.
    wait_for(&c, "#open-again").await.click().await.unwrap();
    assert!(text(&c, "#no-browser").await.contains("could not open"));

    // The user opens the address in a browser that cannot come back and copies the address
    // it ended on; a wrong paste first is refused on the field.
    let out = Command::new("python3")
        .arg(approve_py())
        .arg("--print-redirect")
        .arg(&address)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let ended_on = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let field = wait_for(&c, "#pasted-address").await;
    field
        .send_keys("http://127.0.0.1:1/callback?code=x&state=not-this-one")
        .await
        .unwrap();
    wait_for(&c, "#finish-sign-in").await.click().await.unwrap();
    let refused = text(&c, "#error-pasted_address").await;
    assert!(refused.contains("another sign-in"), "{refused}");
    run.shot(&c, "02-wrong-address-refused").await;
    retype(&field, &ended_on).await;
    wait_for(&c, "#finish-sign-in").await.click().await.unwrap();

    let rows = account_rows(&c).await;
    assert_eq!(rows.len(), 3);
    run.shot(&c, "03-signed-in-by-pasted-address").await;
    let id = run.profile_id();
    assert!(keyring(&Vault::refresh_token_key(&id)).is_some());
    disconnect_in_window(&c).await;
    close(c).await;
}

/// A desktop in dark mode: the page follows it (GTK's dark theme is what WebKitGTK reports as
/// `prefers-color-scheme: dark`), an account expanded, its P/L marked computed.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built app, tauri-driver, a display and a keyring: run by scripts/test.sh"]
async fn the_dashboard_follows_a_dark_desktop() {
    let run = Run::new(&run_name("dark"));
    let browser = run.browser("");
    let driver = run.driver_with_env(&browser, &[("GTK_THEME", "Adwaita:dark")]);
    let c = run.open(&driver).await;
    wait_for(&c, "#broker-demo").await.click().await.unwrap();
    wait_for(&c, "#fill-demo").await.click().await.unwrap();
    wait_for(&c, "#connect").await.click().await.unwrap();
    assert_eq!(account_rows(&c).await.len(), 3);
    let dark = c
        .execute(
            "return window.matchMedia('(prefers-color-scheme: dark)').matches",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(dark, serde_json::json!(true), "the desktop is dark");
    let background = c
        .execute(
            "const m = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number); \
             return (m[0] + m[1] + m[2]) / 3;",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        background.as_f64().unwrap() < 80.0,
        "a dark page background, got mean {background}"
    );
    run.shot(&c, "01-dark-overview").await;
    click(&c, "#toggle-5WX01234").await;
    wait_for(&c, "#detail-5WX01234 .positions tbody tr").await;
    let row = text(&c, "#detail-5WX01234 .positions tbody tr").await;
    assert!(row.contains("AAPL") && row.contains("+$762.00"), "{row}");
    c.execute(
        "document.querySelector('#detail-5WX01234').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    run.shot(&c, "02-dark-expanded-account").await;
    disconnect_in_window(&c).await;
    close(c).await;
}

/// The installed (or built) binary offers the command line for scripts, with no window.
#[test]
#[ignore = "needs the built app: run by scripts/test.sh"]
fn the_binary_offers_the_commands_for_scripts() {
    let run = Run::new(&run_name("commands"));
    let help = Command::new(&run.app).arg("--help").output().unwrap();
    let said = String::from_utf8_lossy(&help.stdout);
    for command in [
        "list",
        "token",
        "exec",
        "status",
        "doctor",
        "completions",
        "demo-broker",
    ] {
        assert!(said.contains(command), "{command} in --help: {said}");
    }
    // With nothing connected and no display: a one-line answer and the documented status.
    let out = Command::new(&run.app)
        .arg("token")
        .env("XDG_CONFIG_HOME", run.config.path())
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("keygrant: No broker is connected"), "{err}");
    let list = Command::new(&run.app)
        .args(["list", "--json"])
        .env("XDG_CONFIG_HOME", run.config.path())
        .output()
        .unwrap();
    assert!(list.status.success());
    assert_eq!(String::from_utf8_lossy(&list.stdout).trim(), "[]");
    let bash = Command::new(&run.app)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&bash.stdout).contains("keygrant"));
}

/// Kills the standalone Demo broker when the test ends; keeps its stdout open meanwhile.
struct Standalone(
    Child,
    #[allow(dead_code)] std::io::BufReader<std::process::ChildStdout>,
);

impl Drop for Standalone {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `keygrant demo-broker --port N`, the documented standalone Demo broker, as a provider
/// outside the app.
fn standalone_demo_broker(app: &Path) -> (Standalone, String) {
    use std::io::BufRead;
    let port = free_port();
    let mut child = Command::new(app)
        .args(["demo-broker", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    out.read_line(&mut first).unwrap();
    let base = format!("http://127.0.0.1:{port}/");
    assert!(
        first.contains(&base),
        "the Demo broker prints its address: {first}"
    );
    (Standalone(child, out), base)
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built app, tauri-driver, a display and a keyring: run by scripts/test.sh"]
async fn a_custom_oauth2_provider_in_the_real_window() {
    let run = Run::new(&run_name("custom"));
    let (_provider, base) = standalone_demo_broker(&run.app);
    let driver = run.driver();
    let c = run.open(&driver).await;
    wait_for(&c, "#broker-custom").await.click().await.unwrap();
    let typed = [
        ("#authorize-url", format!("{base}ts/authorize")),
        ("#token-url", format!("{base}ts/oauth/token")),
        ("#scopes-text", "openid offline_access".to_string()),
        ("#client-id", keygrant_demo::DEMO_CLIENT_ID.to_string()),
        (
            "#client-secret",
            keygrant_demo::DEMO_CLIENT_SECRET.to_string(),
        ),
        (
            "#extra-params",
            "audience=https://api.tradestation.com".to_string(),
        ),
    ];
    for (css, value) in &typed {
        wait_for(&c, css).await.send_keys(value).await.unwrap();
    }
    wait_for(&c, "#client-auth-basic")
        .await
        .click()
        .await
        .unwrap();
    run.shot(&c, "01-custom-provider-form").await;
    wait_for(&c, "#connect").await.click().await.unwrap();

    // No dashboard: the token response, masked, with the token's health.
    let fields = text(&c, "#token-fields").await;
    assert!(
        fields.contains("expires_in") && fields.contains("1200"),
        "{fields}"
    );
    assert!(
        fields.contains("id_token") && fields.contains("••••"),
        "{fields}"
    );
    assert!(text(&c, "#token-health").await.contains("expires"));
    assert!(c.find(Locator::Css("#accounts-card")).await.is_err());
    run.shot(&c, "02-custom-token-response").await;
    let id = run.profile_id();
    let refresh_token =
        keyring(&Vault::refresh_token_key(&id)).expect("refresh token in the keyring");
    let dom = c.source().await.unwrap();
    assert!(
        !dom.contains(refresh_token.expose()) && !dom.contains(keygrant_demo::DEMO_CLIENT_SECRET)
    );

    // Refresh now goes to the provider with the keyring's refresh token.
    wait_for(&c, "#refresh-now").await.click().await.unwrap();
    assert!(text(&c, "#note").await.contains("accepted"));
    disconnect_in_window(&c).await;
    close(c).await;
    drop(driver);
    assert!(keyring(&Vault::refresh_token_key(&id)).is_none());
    let log = std::fs::read_to_string(&run.log).unwrap();
    assert!(
        !log.contains(refresh_token.expose()),
        "refresh token in the log"
    );
}

/// The OS's part of a deep link, in the real binary: a second `keygrant <url>` launch hands the
/// link to the running app (single-instance over D-Bus) and exits, and the running app acts on
/// it, here refusing it because no sign-in waits. Driven without WebDriver: under
/// WebKitWebDriver the automated app quits about a second after such a second launch, which a
/// desktop launch does not do. The state-checked completion of a flow by deep link is tested on
/// the core in tests/flow.rs.
#[test]
#[ignore = "needs the built app, a display and a D-Bus session: run by scripts/test.sh"]
fn a_second_launch_with_a_link_hands_it_to_the_running_app() {
    let run = Run::new(&run_name("deep-link"));
    let log = std::fs::File::create(&run.log).unwrap();
    // Killed however the test ends, so a failure leaves no app holding the single-instance
    // name for the next test.
    struct KillOnDrop(Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut first = KillOnDrop(
        Command::new(&run.app)
            .env("XDG_CONFIG_HOME", run.config.path())
            .env("RUST_LOG", "keygrant=info")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap(),
    );
    // Wait until the first instance has set up its deep-link handling.
    let up = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::fs::read_to_string(&run.log)
            .unwrap_or_default()
            .contains("Keygrant started")
    });
    assert!(up, "the app started");
    std::thread::sleep(Duration::from_secs(1));
    let second = Command::new(&run.app)
        .arg("keygrant://callback?code=stray&state=nothing-pending")
        .env("XDG_CONFIG_HOME", run.config.path())
        .output()
        .unwrap();
    assert!(
        second.status.success(),
        "the second launch hands over and exits 0: {}",
        String::from_utf8_lossy(&second.stderr)
    );
    let handled = (0..150).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::fs::read_to_string(&run.log)
            .unwrap_or_default()
            .contains("refused a keygrant:// link")
    });
    let alive = first.0.try_wait().unwrap().is_none();
    drop(first);
    let log = std::fs::read_to_string(&run.log).unwrap();
    assert!(handled, "the running app received the link: {log}");
    assert!(log.contains("no sign-in is waiting"), "{log}");
    assert!(alive, "the running app keeps running");
}

/// A decimal as text without its money dressing: "+$1,234.50" -> "1234.5", "−$3" -> "-3".
fn plain_number(shown: &str) -> String {
    let s: String = shown
        .trim()
        .replace('\u{2212}', "-")
        .chars()
        .filter(|c| !matches!(c, '+' | '$' | ','))
        .collect();
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The Demo broker's Schwab answer for every account with positions, numbers kept as their
/// JSON text, read with a refresh token of the app's connection (the Demo's refresh tokens do
/// not rotate unless told to).
async fn schwab_raw_accounts(base: &url::Url, refresh_token: &str) -> serde_json::Value {
    let http = reqwest::Client::new();
    let token: serde_json::Value = schwab_refresh(base, refresh_token)
        .await
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap();
    let raw = http
        .get(
            base.join("schwab/trader/v1/accounts?fields=positions")
                .unwrap(),
        )
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap();
    serde_json::from_str(&keygrant_core::brokers::schwab::numbers_as_text(&raw)).unwrap()
}

/// A refresh at the Demo broker's Schwab token endpoint, as Schwab takes it (HTTP Basic).
async fn schwab_refresh(base: &url::Url, refresh_token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(base.join("schwab/v1/oauth/token").unwrap())
        .basic_auth(
            keygrant_demo::DEMO_SCHWAB_APP_KEY,
            Some(keygrant_demo::DEMO_SCHWAB_SECRET),
        )
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .unwrap()
}

/// Whether the Demo broker still takes `refresh_token`.
async fn demo_accepts_refresh(base: &url::Url, refresh_token: &str) -> bool {
    schwab_refresh(base, refresh_token)
        .await
        .status()
        .is_success()
}

/// Another tool signing in with the same App Key (as schwab-py would): a sign-in at the Demo
/// broker's Schwab dialect outside Keygrant, approved by the scripted browser and exchanged
/// here. Schwab then refuses the refresh token of the earlier sign-in.
async fn sign_in_elsewhere(base: &url::Url) {
    let redirect = "https://127.0.0.1:9/callback";
    let mut authorize = base.join("schwab/v1/oauth/authorize").unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", keygrant_demo::DEMO_SCHWAB_APP_KEY)
        .append_pair("redirect_uri", redirect)
        .append_pair("state", "another-tool");
    let out = Command::new("python3")
        .arg(approve_py())
        .arg("--print-redirect")
        .arg(authorize.as_str())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let back = url::Url::parse(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    let code = back
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code in the redirect");
    let status = reqwest::Client::new()
        .post(base.join("schwab/v1/oauth/token").unwrap())
        .basic_auth(
            keygrant_demo::DEMO_SCHWAB_APP_KEY,
            Some(keygrant_demo::DEMO_SCHWAB_SECRET),
        )
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "the other tool's sign-in: {status}");
}

/// Charles Schwab through the Demo broker's Schwab dialect, in the real window: Schwab's words
/// in the wizard, the HTTPS callback with the certificate's fingerprint on the waiting screen
/// (the scripted browser accepts the self-signed certificate, as a user clicking through the
/// warning does, and logs the fingerprint it saw), the three accounts with figures that match
/// the Demo's own JSON, the 7 days on the token card, "Sign in again" renewing the grant in
/// place, and a grant replaced by a sign-in elsewhere renewed from the dashboard in one click.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built app, tauri-driver, a display and a keyring: run by scripts/test.sh"]
async fn a_schwab_demo_sign_in_and_sign_in_again_in_the_real_window() {
    let run = Run::new(&run_name("schwab"));
    // The Demo broker runs here, so the test can read its answers and move its clock; the app
    // uses it as it would `keygrant demo-broker` (KEYGRANT_DEMO_BROKER).
    let demo = keygrant_demo::DemoBroker::start(0).await.unwrap();
    let base = demo.base_url();
    // A browser that takes a few seconds, like a person, so the waiting screen can be seen.
    let browser = run.browser("--delay 4");
    let driver = run.driver_with_env(&browser, &[("KEYGRANT_DEMO_BROKER", base.as_str())]);
    let c = run.open(&driver).await;

    // The Schwab card: Schwab's words, the callback as most apps register it, no scopes, and
    // the certificate notice before Connect.
    click(&c, "#broker-schwab").await;
    assert_eq!(text(&c, "label[for=client-id] .label").await, "App Key");
    assert_eq!(text(&c, "label[for=client-secret] .label").await, "Secret");
    assert_eq!(
        text(&c, "label[for=redirect-uri] .label").await,
        "Callback URL"
    );
    let callback = wait_for(&c, "#redirect-uri").await;
    assert_eq!(
        callback.prop("value").await.unwrap().as_deref(),
        Some("https://127.0.0.1:8182")
    );
    assert!(text(&c, "#redirect-uri-help")
        .await
        .contains("Ready For Use"));
    assert!(c.find(Locator::Css("#scopes")).await.is_err(), "no scopes");
    assert!(text(&c, "#cert-notice").await.contains("safe to continue"));
    run.shot(&c, "01-schwab-form").await;
    c.execute(
        "document.querySelector('#cert-notice').scrollIntoView({block: 'center'})",
        vec![],
    )
    .await
    .unwrap();
    run.shot(&c, "01b-schwab-callback-and-certificate-notice")
        .await;

    // Schwab → Demo broker: paste the credentials the wizard shows.
    click(&c, "#environment-demo").await;
    let key = text(&c, "#demo-client-id").await;
    let secret = text(&c, "#demo-client-secret").await;
    assert_eq!(
        key,
        keygrant_demo::DEMO_SCHWAB_APP_KEY,
        "the Demo's App Key, in Schwab's shape"
    );
    wait_for(&c, "#client-id")
        .await
        .send_keys(&key)
        .await
        .unwrap();
    wait_for(&c, "#client-secret")
        .await
        .send_keys(&secret)
        .await
        .unwrap();
    run.shot(&c, "02-schwab-demo-credentials").await;
    click(&c, "#connect").await;

    // Waiting: the certificate warning explained, the fingerprint to compare.
    let fingerprint = text(&c, "#cert-fingerprint").await;
    assert_eq!(fingerprint.len(), 32 * 3 - 1, "{fingerprint}");
    assert!(text(&c, "#cert-help")
        .await
        .contains("Accept the Risk and Continue"));
    run.shot(&c, "03-waiting-with-certificate").await;

    // The browser approved and came back over HTTPS: the three Schwab accounts.
    let rows = account_rows(&c).await;
    let firsts: Vec<Vec<String>> = rows.iter().map(|r| r[..4].to_vec()).collect();
    assert_eq!(
        firsts,
        vec![
            vec!["28764512", "Swing Trading", "MARGIN", "Margin"],
            vec!["28767933", "Roth IRA", "CASH", "Cash"],
            vec!["28761170", "—", "MARGIN", "Margin"],
        ]
    );
    let browser_log = std::fs::read_to_string(&run.browser_log).unwrap();
    assert!(
        browser_log.contains(&format!("(SHA-256 {fingerprint})")),
        "the browser met the certificate the page showed: {browser_log}"
    );
    assert!(browser_log.contains("/callback 200"), "{browser_log}");
    assert_eq!(
        text(&c, "#sign-in-expiry-text").await,
        "Sign-in expires in 7 days"
    );
    assert!(text(&c, "#token-card").await.contains("Sign in again"));
    run.shot(&c, "04-schwab-accounts-and-token").await;

    // Figures as the Demo's own JSON has them: the liquidation value, a position's P/L.
    click(&c, "#toggle-28764512").await;
    let liquidation = text(&c, "#detail-28764512 dd[data-key='net_liquidating_value']").await;
    let first_row = "#detail-28764512 .positions tbody tr:first-child td";
    wait_for(&c, first_row).await;
    let cells = {
        let mut cells = Vec::new();
        for td in c.find_all(Locator::Css(first_row)).await.unwrap() {
            cells.push(td.text().await.unwrap());
        }
        cells
    };
    let id = run.profile_id();
    let first_token = keyring(&Vault::refresh_token_key(&id)).expect("refresh token saved");
    let raw = schwab_raw_accounts(&base, first_token.expose()).await;
    let account = raw
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["securitiesAccount"])
        .find(|a| a["accountNumber"] == "28764512")
        .unwrap();
    assert!(liquidation.starts_with('$'), "{liquidation}");
    assert_eq!(
        plain_number(&liquidation),
        plain_number(
            account["currentBalances"]["liquidationValue"]
                .as_str()
                .unwrap()
        ),
        "the liquidation value shown is the Demo's"
    );
    let position = account["positions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["instrument"]["symbol"] == cells[0].as_str())
        .unwrap_or_else(|| panic!("{} in the Demo's positions", cells[0]));
    let pl = if position["shortQuantity"] != "0" {
        &position["shortOpenProfitLoss"]
    } else {
        &position["longOpenProfitLoss"]
    };
    // "▲ +$762.00": an arrow and a sign, so a gain or loss reads without colour.
    let shown_pl = cells[7]
        .split_whitespace()
        .find(|w| w.starts_with('+') || w.starts_with('\u{2212}'))
        .unwrap_or_else(|| panic!("a signed P/L: {}", cells[7]));
    assert_eq!(plain_number(shown_pl), plain_number(pl.as_str().unwrap()));
    c.execute(
        "document.querySelector('#detail-28764512').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    run.shot(&c, "05-schwab-position-pl").await;
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();

    // A name of the user's own, then Sign in again: the same connection, renewed.
    click(&c, "#rename").await;
    let field = wait_for(&c, "#rename-input").await;
    retype(&field, "Schwab weekly").await;
    click(&c, "#rename-save").await;
    wait_for_xpath(
        &c,
        "//strong[@id='profile-label' and text()='Schwab weekly']",
        10,
        "renamed",
    )
    .await;
    let profiles_path = run.config.path().join("app.keygrant.desktop/profiles.json");
    let signed_in = |path: &Path| -> (usize, u64) {
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let all = json["profiles"].as_array().unwrap();
        (all.len(), all[0]["signed_in_at"].as_u64().unwrap())
    };
    let (_, first_sign_in) = signed_in(&profiles_path);
    click(&c, "#sign-in-again").await;
    assert!(text(&c, "#renewing").await.contains("Schwab weekly"));
    let second_fingerprint = text(&c, "#cert-fingerprint").await;
    run.shot(&c, "06-signing-in-again").await;
    assert!(text(&c, "#note").await.contains("Signed in again"));
    assert_eq!(text(&c, "#profile-label").await, "Schwab weekly");
    assert_eq!(account_rows(&c).await.len(), 3, "the accounts load again");
    assert_eq!(run.profile_id(), id, "the same connection");
    let (count, second_sign_in) = signed_in(&profiles_path);
    assert_eq!(count, 1, "renewed in place, not added");
    assert!(second_sign_in >= first_sign_in);
    let second_token = keyring(&Vault::refresh_token_key(&id)).expect("refresh token saved");
    assert_ne!(second_token.expose(), first_token.expose(), "a new grant");
    assert!(
        !demo_accepts_refresh(&base, first_token.expose()).await,
        "the new sign-in replaced the old grant"
    );
    let browser_log = std::fs::read_to_string(&run.browser_log).unwrap();
    assert!(
        browser_log.contains(&format!("(SHA-256 {second_fingerprint})")),
        "{browser_log}"
    );
    assert_eq!(
        browser_log
            .matches("authorize page 200 /schwab/v1/oauth/authorize")
            .count(),
        2,
        "{browser_log}"
    );
    run.shot(&c, "07-signed-in-again").await;

    // Another tool signs in with the same App Key: Schwab refuses this connection's refresh
    // token. Once its access token is over (the Demo's clock moves 31 minutes), the dashboard
    // says why and offers Sign in again, which fixes it in one click.
    sign_in_elsewhere(&base).await;
    demo.advance_clock(Duration::from_secs(31 * 60));
    click(&c, "#refresh").await;
    let refused = text(&c, "#accounts-error").await;
    assert!(refused.contains("newer sign-in"), "{refused}");
    assert!(c
        .find(Locator::Css("#accounts-sign-in-again"))
        .await
        .is_ok());
    c.execute(
        "document.querySelector('#accounts-error').scrollIntoView({block: 'center'})",
        vec![],
    )
    .await
    .unwrap();
    run.shot(&c, "08-grant-replaced-elsewhere").await;
    click(&c, "#accounts-sign-in-again").await;
    wait_for(&c, "#renewing").await;
    assert!(text(&c, "#note").await.contains("Signed in again"));
    assert_eq!(account_rows(&c).await.len(), 3);
    assert!(c.find(Locator::Css("#accounts-error")).await.is_err());
    assert_eq!(text(&c, "#profile-label").await, "Schwab weekly");
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    run.shot(&c, "09-renewed-from-the-dashboard").await;
    let third_token = keyring(&Vault::refresh_token_key(&id)).expect("refresh token saved");

    // Three hours before the 7 days are over (the sign-in time moved back in profiles.json):
    // the token card warns in words, and the desktop reminder is due.
    close(c).await;
    let mut file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&profiles_path).unwrap()).unwrap();
    let ends_in_3h = keygrant_core::expiry::now_unix() - 7 * 86_400 + 3 * 3600;
    file["profiles"][0]["signed_in_at"] = json!(ends_in_3h);
    std::fs::write(&profiles_path, serde_json::to_vec(&file).unwrap()).unwrap();
    let c = run.open(&driver).await;
    let warning = text(&c, "#sign-in-row.warning #sign-in-expiry").await;
    assert!(
        warning.starts_with("Warning: Sign-in expires in 3 hours"),
        "{warning}"
    );
    assert_eq!(account_rows(&c).await.len(), 3);
    run.shot(&c, "10-sign-in-ending-warning").await;
    let reminded = (0..150).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        std::fs::read_to_string(&run.log)
            .unwrap_or_default()
            .contains("sign-in reminder due")
    });
    assert!(reminded, "the reminder a day before is due");

    disconnect_in_window(&c).await;
    close(c).await;
    drop(driver);
    assert!(keyring(&Vault::refresh_token_key(&id)).is_none());
    let log = std::fs::read_to_string(&run.log).unwrap();
    for token in [&first_token, &second_token, &third_token] {
        assert!(!log.contains(token.expose()), "refresh token in the log");
    }
    assert!(!log.contains(&secret), "client secret in the log");
}

/// The desktop reminders of a Schwab sign-in, in the real binary: one connection within its
/// last day and one past its 7 days get one notification each ("sign in again within a day",
/// "sign-in expired"), sent on the session bus as `org.freedesktop.Notifications.Notify`
/// (watched here with dbus-monitor). This desktop has no notification service: the app only
/// logs that and keeps running. Driven without WebDriver, as the deep-link test is.
#[test]
#[ignore = "needs the built app, a display and a D-Bus session: run by scripts/test.sh"]
fn a_schwab_sign_in_about_to_end_is_a_desktop_notification() {
    use keygrant_core::brokers::{BrokerKind, Environment};
    use keygrant_core::profiles::{Profile, ProfileStore};
    let run = Run::new(&run_name("reminders"));
    let now = keygrant_core::expiry::now_unix();
    let store = ProfileStore::new(&run.config.path().join(keygrant::IDENTIFIER));
    for (id, label, signed_in_at) in [
        ("soon", "Schwab soon", now - 7 * 86_400 + 2 * 3600),
        ("over", "Schwab over", now - 8 * 86_400),
        ("fresh", "Schwab fresh", now - 3600),
    ] {
        store
            .add(&Profile {
                id: id.into(),
                broker: BrokerKind::Schwab,
                environment: Environment::Production,
                client_id: "A".repeat(32),
                scopes: vec![],
                label: label.into(),
                redirect_uri: Some("https://127.0.0.1:8182".into()),
                custom: None,
                signed_in_at: Some(signed_in_at),
            })
            .unwrap();
    }
    struct KillOnDrop(Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let bus_log = run.out.join("dbus-monitor.log");
    let _monitor = KillOnDrop(
        Command::new("dbus-monitor")
            .args([
                "--session",
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .stdout(Stdio::from(std::fs::File::create(&bus_log).unwrap()))
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor"),
    );
    std::thread::sleep(Duration::from_millis(500));
    let log = std::fs::File::create(&run.log).unwrap();
    let mut app = KillOnDrop(
        Command::new(&run.app)
            .env("XDG_CONFIG_HOME", run.config.path())
            .env("RUST_LOG", "keygrant=info")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap(),
    );
    let sent = |needle: &str| {
        std::fs::read_to_string(&bus_log)
            .unwrap_or_default()
            .contains(needle)
    };
    let both = (0..150).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        sent("Schwab soon: sign in again within a day") && sent("Schwab over: sign-in expired")
    });
    // Some more time: nothing is sent twice, and the app is still running.
    std::thread::sleep(Duration::from_secs(2));
    let alive = app.0.try_wait().unwrap().is_none();
    drop(app);
    let log = std::fs::read_to_string(&run.log).unwrap();
    let bus = std::fs::read_to_string(&bus_log).unwrap();
    assert!(
        both,
        "both reminders went out as notifications: {bus}\n{log}"
    );
    assert_eq!(bus.matches("Schwab soon:").count(), 1, "{bus}");
    assert_eq!(bus.matches("Schwab over:").count(), 1, "{bus}");
    assert!(!bus.contains("Schwab fresh"), "{bus}");
    assert!(
        bus.contains("Sign in again"),
        "the text says what to do: {bus}"
    );
    assert_eq!(log.matches("sign-in reminder due").count(), 2, "{log}");
    assert!(
        alive,
        "no notification service: the app only logs and keeps running\n{log}"
    );
}
