//! Opening the user's browser. `$BROWSER` is honoured first, as command-line tools do (it is
//! also how tests stand in for the user's browser); otherwise the caller's system opener runs.

use std::process::{Command, Stdio};

use url::Url;

use crate::error::{AppError, ErrorKind, Result};

/// Only web pages and loopback redirects are ever opened.
pub fn check_openable(url: &Url) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if matches!(url.host_str(), Some("127.0.0.1") | Some("localhost")) => Ok(()),
        _ => Err(AppError::internal(format!(
            "refusing to open a {} URL",
            url.scheme()
        ))),
    }
}

/// Opens `url` with `$BROWSER` if it is set and returns `Some(result)`, else `None`.
/// `$BROWSER` may list several commands separated by `:`; the first is used; `%s` in it is
/// replaced by the URL, otherwise the URL is its last argument. No shell is involved.
pub fn open_with_env_browser(url: &Url) -> Option<Result<()>> {
    let browser = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())?;
    let first = browser.split(':').next().unwrap_or_default();
    let mut parts: Vec<String> = first.split_whitespace().map(str::to_owned).collect();
    if parts.iter().any(|p| p.contains("%s")) {
        for p in &mut parts {
            *p = p.replace("%s", url.as_str());
        }
    } else {
        parts.push(url.to_string());
    }
    let program = parts.remove(0);
    let spawned = Command::new(&program)
        .args(&parts)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn();
    Some(match spawned {
        Ok(mut child) => {
            // Reap it whenever it finishes; its exit status is not the flow's concern.
            std::thread::spawn(move || {
                let _ = child.wait();
            });
            Ok(())
        }
        Err(e) => Err(AppError::new(
            ErrorKind::Internal,
            format!("Could not start the browser named in $BROWSER ({program}): {e}."),
        )),
    })
}
