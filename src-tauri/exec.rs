//! `keygrant exec -- COMMAND ARGS...`: runs a command with the credentials in its
//! environment only. Keygrant stays its parent for as long as it runs (a Demo profile's
//! broker lives in this process), passes SIGINT, SIGTERM and SIGHUP on to it, and ends with
//! its exit status, or of its signal (127 when the command is not found, 126 when it cannot
//! be started, as a shell says).

use keygrant_core::app::Core;
use keygrant_core::error::{AppError, ErrorKind, Result};

/// Runs `command` with profile `name`'s credentials; returns the child's exit status.
/// Errors: the credentials' (see `Core::exec_credentials`), or a command that cannot start.
pub async fn run(core: &Core, name: Option<&str>, command: &[String]) -> Result<i32> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| AppError::new(ErrorKind::InvalidInput, "Name a command after --."))?;
    let (profile, env) = core.exec_env(name).await?;
    if let Some(warning) = keygrant_core::handoff::rotation_warning(profile.broker.spec()) {
        eprintln!("keygrant: {warning}");
    }
    let spawned = tokio::process::Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.expose())))
        .kill_on_drop(false)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            // As a shell does: 127 for a command that is not there, 126 for one that cannot run.
            eprintln!("keygrant: Could not start \"{program}\": {e}.");
            let missing = e.kind() == std::io::ErrorKind::NotFound;
            return Ok(if missing { 127 } else { 126 });
        }
    };
    let status = wait_passing_signals(&mut child).await?;
    Ok(exit_code(status))
}

use keygrant_core::secret::Expose;

#[cfg(unix)]
async fn wait_passing_signals(
    child: &mut tokio::process::Child,
) -> Result<std::process::ExitStatus> {
    use tokio::signal::unix::{signal, SignalKind};
    let io = |e: std::io::Error| AppError::internal(format!("waiting for the command: {e}"));
    let mut int = signal(SignalKind::interrupt()).map_err(io)?;
    let mut term = signal(SignalKind::terminate()).map_err(io)?;
    let mut hup = signal(SignalKind::hangup()).map_err(io)?;
    loop {
        let sig = tokio::select! {
            status = child.wait() => return status.map_err(io),
            _ = int.recv() => libc::SIGINT,
            _ = term.recv() => libc::SIGTERM,
            _ = hup.recv() => libc::SIGHUP,
        };
        if let Some(pid) = child.id() {
            // SAFETY: kill(2) with the child's pid and a valid signal number.
            unsafe { libc::kill(pid as libc::pid_t, sig) };
        }
    }
}

#[cfg(not(unix))]
async fn wait_passing_signals(
    child: &mut tokio::process::Child,
) -> Result<std::process::ExitStatus> {
    child
        .wait()
        .await
        .map_err(|e| AppError::internal(format!("waiting for the command: {e}")))
}

/// The child's exit code; a child killed by a signal kills this process with the same one.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            // SAFETY: restoring the default action and raising a valid signal number.
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
                libc::raise(sig);
            }
            return 128 + sig;
        }
    }
    status.code().unwrap_or(1)
}
