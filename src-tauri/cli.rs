//! The command line for scripts: `keygrant list`, `token`, `exec`, `status`, `completions`.
//! None of them starts a window or GTK; they need only the keyring (unlocked) and, for a
//! Demo profile, start the Demo broker in this process for as long as they run. Credentials
//! go to stdout (`token`) or to a child's environment (`exec`), never to a file.
//!
//! Errors are one line on stderr, `keygrant: <message>`, and the exit status says the kind:
//!
//! | status | meaning |
//! |---|---|
//! | 0 | done |
//! | 1 | anything else (the message says what) |
//! | 2 | usage: an unknown option or a bad value (from clap) |
//! | 3 | nothing connected, or no connection by that name |
//! | 4 | the system keyring is locked, missing or refused; or a settings file is unreadable |
//! | 5 | the broker refused the credentials: connect again (`invalid_grant`, `invalid_client`, wrong environment, 401/403) |
//! | 6 | temporary: the network, the broker's token endpoint or its rate limit; try again later |
//! | 7 | `doctor`: at least one check failed (each says how to fix it) |
//!
//! `exec` returns the child's own status, and dies of the child's signal when it does.

use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand, ValueEnum};
use keygrant_core::app::{Core, DemoSource, TokenGrant, DEFAULT_FLOW_TIMEOUT};
use keygrant_core::error::{AppError, ErrorKind};
use keygrant_core::secret::Expose;
use keygrant_core::vault::Vault;

/// The subcommands for scripts (see the module docs for exit statuses).
#[derive(Subcommand)]
pub enum ScriptCommand {
    /// List the connections: name, broker, environment, client ID, access token health.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print a valid access token (refreshed only when due, once across processes).
    Token {
        #[command(flatten)]
        profile: ProfileArg,
        /// raw: the token; header: an `Authorization: Bearer` line for curl -H; json: with
        /// its expiry, scopes, profile and API base URL.
        #[arg(long, value_enum, default_value_t = Format::Raw)]
        format: Format,
    },
    /// Run COMMAND with the credentials in its environment only (never in a file): the
    /// names the broker's SDKs read, plus KEYGRANT_ACCESS_TOKEN and KEYGRANT_API_BASE_URL.
    Exec {
        #[command(flatten)]
        profile: ProfileArg,
        /// The command and its arguments, after `--`.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Check the connection's token health without spending a refresh: exit 0 while an access
    /// token is valid or can be had, else a reason and a non-zero status. A grant revoked at
    /// the broker shows at the next refresh; `keygrant doctor` checks it now.
    Status {
        #[command(flatten)]
        profile: ProfileArg,
    },
    /// Check everything a connection needs, each with a verdict and a fix: the token endpoint
    /// (DNS, TLS, clock), the client secret, the refresh token, whose client and environment
    /// the tokens are, the scopes, the keyring, the keygrant:// handler. Exit 7 when a check
    /// fails.
    Doctor {
        #[command(flatten)]
        profile: ProfileArg,
        /// Print a masked report to paste into a support request (no secret, no token, the
        /// client ID cut to its last four characters), with the version and system.
        #[arg(long, conflicts_with = "json")]
        report: bool,
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `--profile NAME`: a connection's name (any case) or id; the one the window shows when absent.
#[derive(Args)]
pub struct ProfileArg {
    /// The connection's name or id (default: the one the window shows).
    #[arg(long, short = 'p', value_name = "NAME")]
    profile: Option<String>,
}

/// How `keygrant token` prints the token.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// The access token alone.
    Raw,
    /// `Authorization: Bearer <token>`.
    Header,
    /// A JSON object with the token, its expiry and scopes.
    Json,
}

/// The exit status for an error of `kind` (the table in the module docs).
pub fn exit_status(kind: ErrorKind) -> i32 {
    use ErrorKind::*;
    match kind {
        NotConnected | InvalidInput => 3,
        Keyring | Config => 4,
        InvalidGrant | InvalidClient | WrongEnvironment | Unauthorized | Forbidden
        | AccessDenied => 5,
        Network | Temporary | RateLimited | Timeout => 6,
        _ => 1,
    }
}

/// The folder the window keeps `profiles.json` in (Tauri's app config dir:
/// `<config dir>/<identifier>`).
pub fn config_dir() -> std::path::PathBuf {
    dirs::config_dir()
        .unwrap_or_else(|| std::path::PathBuf::from("."))
        .join(crate::IDENTIFIER)
}

/// Runs `command`; returns the process's exit status.
pub fn run(command: ScriptCommand) -> i32 {
    if std::env::var_os("RUST_LOG").is_some() {
        crate::init_logging();
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&AppError::internal(format!("no async runtime: {e}"))),
    };
    let core = Core::new(
        &config_dir(),
        Vault::keyring(),
        DemoSource::from_env(),
        DEFAULT_FLOW_TIMEOUT,
    );
    match rt.block_on(dispatch(&core, command)) {
        Ok(status) => status,
        Err(e) => fail(&e),
    }
}

fn fail(e: &AppError) -> i32 {
    eprintln!("keygrant: {}", e.message.replace('\n', " "));
    exit_status(e.kind)
}

async fn dispatch(core: &Core, command: ScriptCommand) -> keygrant_core::error::Result<i32> {
    match command {
        ScriptCommand::List { json } => list(core, json),
        ScriptCommand::Token { profile, format } => {
            let grant = core.token_for(profile.profile.as_deref()).await?;
            print_token(&grant, format);
            Ok(0)
        }
        ScriptCommand::Status { profile } => status(core, profile.profile.as_deref()).await,
        ScriptCommand::Doctor {
            profile,
            report,
            json,
        } => doctor(core, profile.profile.as_deref(), report, json).await,
        ScriptCommand::Exec { profile, command } => {
            crate::exec::run(core, profile.profile.as_deref(), &command).await
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn list(core: &Core, json: bool) -> keygrant_core::error::Result<i32> {
    let all = core.listings()?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".into())
        );
        return Ok(0);
    }
    if all.is_empty() {
        println!("No connections yet. Open Keygrant and connect a broker.");
        return Ok(0);
    }
    let width = all
        .iter()
        .map(|l| l.label.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    println!(
        "  {:<width$}  {:<15} {:<22} {:<40} ACCESS TOKEN",
        "NAME", "BROKER", "ENVIRONMENT", "CLIENT ID"
    );
    for l in all {
        let health = match l.access_token_expires_at {
            Some(at) => format!("valid for {} min", at.saturating_sub(now()) / 60),
            None => "none cached (the next use refreshes)".into(),
        };
        println!(
            "{} {:<width$}  {:<15} {:<22} {:<40} {health}",
            if l.active { "*" } else { " " },
            l.label,
            l.broker.display_name(),
            l.environment_label,
            l.client_id,
        );
    }
    Ok(0)
}

fn print_token(grant: &TokenGrant, format: Format) {
    let token = grant.access_token.expose();
    match format {
        Format::Raw => println!("{token}"),
        Format::Header => println!("Authorization: Bearer {token}"),
        Format::Json => {
            let p = &grant.profile;
            let value = serde_json::json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_at": grant.expires_at,
                "expires_in": grant.expires_at.map(|at| at.saturating_sub(now())),
                "scopes": grant.scopes,
                "profile": {"id": p.id, "label": p.label, "broker": p.broker, "environment": p.environment},
                "api_base_url": grant.api_base.as_str(),
            });
            println!("{value}");
        }
    }
}

async fn status(core: &Core, name: Option<&str>) -> keygrant_core::error::Result<i32> {
    let grant = core.token_for(name).await?;
    let p = &grant.profile;
    let left = grant
        .expires_at
        .map(|at| {
            let left = at.saturating_sub(now());
            if left < 60 {
                format!("; access token valid for {left} s")
            } else {
                format!("; access token valid for {} min", left / 60)
            }
        })
        .unwrap_or_default();
    let sign_in = keygrant_core::expiry::expires_at(p)
        .map(|at| {
            let left = at.saturating_sub(now());
            let when = keygrant_core::expiry::remaining(left);
            if left >= 86_400 {
                format!("; sign-in expires in {when}")
            } else {
                format!("; sign-in expires in {when}: press Sign in again in Keygrant")
            }
        })
        .unwrap_or_default();
    println!(
        "healthy: \"{}\" ({} {}): an access token is valid{left}{sign_in}. The refresh token is checked at the next refresh; keygrant doctor checks it now.",
        p.label,
        p.broker.display_name(),
        p.broker.env_name(p.environment)
    );
    Ok(0)
}

async fn doctor(
    core: &Core,
    name: Option<&str>,
    report: bool,
    json: bool,
) -> keygrant_core::error::Result<i32> {
    let profile = core.profile_named(name)?;
    let diagnosis = core.diagnose(Some(&profile.id)).await?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&diagnosis).unwrap_or_default()
        );
    } else {
        if report {
            println!(
                "Keygrant {} on {} {}",
                env!("CARGO_PKG_VERSION"),
                std::env::consts::OS,
                std::env::consts::ARCH
            );
        }
        print!("{}", diagnosis.report());
    }
    Ok(if diagnosis.failed() { 7 } else { 0 })
}
