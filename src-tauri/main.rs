// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use clap::{CommandFactory, Parser, Subcommand};
use keygrant::cli::ScriptCommand;

/// Keygrant: from a broker's OAuth application to a working refresh token. With no
/// command, opens the app; the other commands never open a window.
#[derive(Parser)]
#[command(
    name = "keygrant",
    version,
    about,
    after_help = "Exit status: 0 done, 1 other error, 2 usage, 3 not connected or no such connection, \
                  4 keyring or settings, 5 credentials refused (connect again), 6 temporary (network, \
                  broker, rate limit), 7 a doctor check failed. `exec` returns its command's status."
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A `keygrant://` link to hand to the app (the desktop runs `keygrant %u` for one; a
    /// running app receives it through the single-instance plugin).
    #[arg(value_name = "LINK", value_parser = keygrant_link)]
    link: Option<String>,
}

/// Only a `keygrant://` link opens the app with an argument: a mistyped command is a usage
/// error, not a window.
fn keygrant_link(value: &str) -> Result<String, String> {
    if value.starts_with("keygrant://") {
        Ok(value.to_string())
    } else {
        Err(format!(
            "\"{value}\" is not a command (see keygrant --help) nor a keygrant:// link"
        ))
    }
}

/// A fault name the Demo broker knows (`keygrant demo-broker --list-faults`).
fn fault_name(value: &str) -> Result<String, String> {
    if keygrant_demo::FAULTS.iter().any(|(n, _)| *n == value) {
        Ok(value.to_string())
    } else {
        Err(format!(
            "unknown fault; known faults: {}",
            keygrant_demo::FAULTS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// Whether a window can be opened: on Linux, a display server to draw on.
fn can_open_a_window() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Script(ScriptCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) to stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Run the Demo broker alone on 127.0.0.1 and print its address, endpoints and client.
    DemoBroker {
        /// The port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Switch on a broker fault, to reproduce it by hand (repeat for several). See
        /// --list-faults.
        #[arg(long = "fault", value_name = "NAME", value_parser = fault_name)]
        faults: Vec<String>,
        /// List the fault switches and exit.
        #[arg(long)]
        list_faults: bool,
    },
}

/// For the commands that print an answer and end: when the reader goes away (`| head`), end
/// quietly as Unix tools do (SIGPIPE's default action) instead of panicking on the broken
/// pipe. The window and the Demo broker's server keep Rust's setting (SIGPIPE ignored).
fn end_quietly_on_a_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called once at the start of `main`, before any thread is spawned; it changes
    // only what a write to a closed pipe does to this process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        None if !can_open_a_window() => {
            eprintln!(
                "keygrant: there is no display to open the window on (no DISPLAY or WAYLAND_DISPLAY). \
                 Over SSH, use the commands for scripts (keygrant --help), or scripts/run.sh, which \
                 starts a virtual display."
            );
            std::process::exit(1);
        }
        None => keygrant::run(),
        Some(Command::Script(command)) => {
            end_quietly_on_a_closed_pipe();
            std::process::exit(keygrant::cli::run(command))
        }
        Some(Command::Completions { shell }) => {
            end_quietly_on_a_closed_pipe();
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "keygrant",
                &mut std::io::stdout(),
            );
        }
        Some(Command::DemoBroker {
            port,
            faults,
            list_faults,
        }) => {
            if list_faults {
                end_quietly_on_a_closed_pipe();
                for (name, what) in keygrant_demo::FAULTS {
                    println!("{name:<22} {what}");
                }
                return;
            }
            keygrant::init_logging();
            let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
            if let Err(e) = rt.block_on(keygrant_demo::run_standalone(port, &faults)) {
                eprintln!("keygrant demo-broker: {e}");
                std::process::exit(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_from_the_desktop_opens_the_app_and_commands_still_parse() {
        let cli = Cli::try_parse_from(["keygrant", "keygrant://callback?code=c&state=s"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(
            cli.link.as_deref(),
            Some("keygrant://callback?code=c&state=s")
        );
        let cli = Cli::try_parse_from(["keygrant", "token", "--format", "json"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Script(_))));
        assert!(Cli::try_parse_from(["keygrant", "token", "--format", "yaml"]).is_err());
        // A typo is a usage error, not a window.
        let typo = Cli::try_parse_from(["keygrant", "tokne"])
            .err()
            .expect("refused");
        assert!(typo.to_string().contains("not a command"), "{typo}");
        assert!(Cli::try_parse_from(["keygrant", "demo-broker", "--fault", "nope"]).is_err());
        assert!(Cli::try_parse_from(["keygrant", "demo-broker", "--fault", "rate-limit"]).is_ok());
    }
}
