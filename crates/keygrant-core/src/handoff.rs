//! Hand-off: copy-ready snippets for the user's own code (`.env`, the public Python SDK,
//! curl), as in the seed documents. The page only ever sees them with placeholders; the
//! filled-in version goes from the backend straight to the clipboard when the user asks.

use serde::Serialize;
use ts_rs::TS;

use crate::brokers::{ClientAuth, Endpoints, Environment, RefreshBody};
use crate::profiles::Profile;
use crate::secret::{ClientSecret, Expose, RefreshToken};

/// Which hand-off format a snippet is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SnippetKind {
    /// A `.env` file for the broker's SDK (variable names per `BrokerSpec::handoff`).
    Env,
    /// Python for the broker's public SDK (PyPI `tastytrade`, `tradestation`).
    Python,
    /// A `curl` refresh request against the token endpoint.
    Curl,
}

/// One hand-off snippet as the Use-it-in-scripts panel shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Snippet {
    /// Its format.
    pub kind: SnippetKind,
    /// The panel's heading for it.
    pub title: String,
    /// What to do with it, in one sentence.
    pub hint: String,
    /// The text with placeholders (or environment variables) where the secrets go.
    pub text: String,
}

/// The secrets to put in, or none for the placeholder version.
pub struct Filled<'a> {
    /// The client secret to write in.
    pub client_secret: &'a ClientSecret,
    /// The refresh token to write in.
    pub refresh_token: &'a RefreshToken,
}

/// A shell word holding `s` literally.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A `.env` value python-dotenv and `sh` read back as `s`.
fn env_value(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.~+/=:".contains(c))
    {
        s.to_string()
    } else {
        shell_quote(s)
    }
}

fn env_snippet(p: &Profile, env_label: &str, filled: Option<&Filled>) -> String {
    let v = p.broker.spec().handoff;
    let mut out = format!(
        "# {} · {env_label} (from Keygrant). Keep this file out of version control.\n",
        p.broker.display_name()
    );
    if let Some(id) = v.client_id {
        out += &format!("{id}={}\n", env_value(&p.client_id));
    }
    let (secret, refresh) = match filled {
        Some(f) => (
            env_value(f.client_secret.expose()),
            env_value(f.refresh_token.expose()),
        ),
        None => (
            "<paste: Copy with secrets>".into(),
            "<paste: Copy with secrets>".into(),
        ),
    };
    out += &format!(
        "{}={secret}\n{}={refresh}\n",
        v.client_secret, v.refresh_token
    );
    out
}

fn python_snippet(p: &Profile) -> Option<String> {
    let spec = p.broker.spec();
    spec.python_snippet
        .map(|f| f(&spec.handoff, p.environment == Environment::Sandbox))
}

/// A refresh request as the token endpoint takes it. With `filled`, the values are literal;
/// without, the command reads the `.env` variables.
fn curl_snippet(p: &Profile, endpoints: &Endpoints, filled: Option<&Filled>) -> String {
    let v = p.broker.spec().handoff;
    let url = endpoints.token_url.as_str();
    // A shell word for a value: quoted literal, or the variable in double quotes.
    let word = |name: &str, value: Option<&str>| match value {
        Some(x) => shell_quote(x),
        None => format!("\"${name}\""),
    };
    let secret = filled.map(|f| f.client_secret.expose());
    let refresh = filled.map(|f| f.refresh_token.expose());
    let id = v
        .client_id
        .map(|name| word(name, filled.map(|_| p.client_id.as_str())));
    let mut lines = vec![
        format!("curl -sS -X POST {}", shell_quote(url)),
        format!(
            "-H {}",
            shell_quote(&format!("User-Agent: {}", crate::brokers::user_agent()))
        ),
    ];
    match endpoints.refresh_body {
        RefreshBody::Json => {
            // Built with jq-free printf so the values are JSON-escaped either way.
            lines.push(format!(
                "-H {}",
                shell_quote("Content-Type: application/json")
            ));
            let body = match filled {
                Some(f) => shell_quote(
                    &serde_json::json!({
                        "grant_type": "refresh_token",
                        "client_secret": f.client_secret.expose(),
                        "refresh_token": f.refresh_token.expose(),
                    })
                    .to_string(),
                ),
                None => format!(
                    "\"{{\\\"grant_type\\\":\\\"refresh_token\\\",\\\"client_secret\\\":\\\"${}\\\",\\\"refresh_token\\\":\\\"${}\\\"}}\"",
                    v.client_secret, v.refresh_token
                ),
            };
            lines.push(format!("-d {body}"));
        }
        RefreshBody::Form => {
            lines.push("--data-urlencode grant_type=refresh_token".into());
            lines.push(format!(
                "--data-urlencode refresh_token={}",
                word(v.refresh_token, refresh)
            ));
            match endpoints.client_auth {
                ClientAuth::RequestBody => {
                    if let Some(id) = &id {
                        lines.push(format!("--data-urlencode client_id={id}"));
                    }
                    lines.push(format!(
                        "--data-urlencode client_secret={}",
                        word(v.client_secret, secret)
                    ));
                }
                ClientAuth::Basic => {
                    let id = id.clone().unwrap_or_default();
                    let pair = match filled {
                        Some(f) => {
                            shell_quote(&format!("{}:{}", p.client_id, f.client_secret.expose()))
                        }
                        None => format!("{}:\"${}\"", id, v.client_secret),
                    };
                    lines.push(format!("-u {pair}"));
                }
            }
        }
    }
    lines.join(" \\\n  ") + "\n"
}

/// The snippets for `profile`, with placeholders, or filled in.
pub fn snippets(
    profile: &Profile,
    env_label: &str,
    endpoints: &Endpoints,
    filled: Option<&Filled>,
) -> Vec<Snippet> {
    let mut out = vec![Snippet {
        kind: SnippetKind::Env,
        title: ".env".into(),
        hint: "Save as .env beside your script (and add it to .gitignore).".into(),
        text: env_snippet(profile, env_label, filled),
    }];
    if let Some(text) = python_snippet(profile) {
        out.push(Snippet {
            kind: SnippetKind::Python,
            title: "Python (public SDK)".into(),
            hint: "Reads the .env variables; load them with python-dotenv or your shell.".into(),
            text,
        });
    }
    out.push(Snippet {
        kind: SnippetKind::Curl,
        title: "curl: get an access token".into(),
        hint: if filled.is_some() {
            "Run in a terminal; prints a new access token.".into()
        } else {
            "Run after `set -a; . ./.env; set +a`; prints a new access token.".into()
        },
        text: curl_snippet(profile, endpoints, filled),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brokers::BrokerKind;

    fn profile(broker: BrokerKind, environment: Environment) -> Profile {
        Profile {
            id: "p".into(),
            broker,
            environment,
            client_id: "my-client-id".into(),
            scopes: vec![],
            label: "x".into(),
            redirect_uri: None,
            custom: None,
        }
    }

    #[test]
    fn placeholders_never_hold_a_secret_and_the_filled_version_does() {
        let p = profile(BrokerKind::Tastytrade, Environment::Sandbox);
        let e = Endpoints::real(BrokerKind::Tastytrade, Environment::Sandbox).unwrap();
        let secret = ClientSecret::new("s3cr3t'with\"quotes$");
        let rt = RefreshToken::new("rt-0123456789abcdef");
        let plain = snippets(&p, "Sandbox (cert)", &e, None);
        let all: String = plain.iter().map(|s| s.text.clone()).collect();
        assert!(!all.contains("s3cr3t") && !all.contains("rt-0123"));
        assert!(all.contains("TASTY_CLIENT_SECRET=") && all.contains("TASTY_REFRESH_TOKEN="));
        assert!(all.contains("Session(os.environ[\"TASTY_CLIENT_SECRET\"], os.environ[\"TASTY_REFRESH_TOKEN\"], is_test=True)"));
        assert!(all.contains("https://api.cert.tastyworks.com/oauth/token"));
        let filled = snippets(
            &p,
            "Sandbox (cert)",
            &e,
            Some(&Filled {
                client_secret: &secret,
                refresh_token: &rt,
            }),
        );
        let env = &filled[0].text;
        assert!(
            env.contains(r#"TASTY_CLIENT_SECRET='s3cr3t'\''with"quotes$'"#),
            "{env}"
        );
        assert!(env.contains("TASTY_REFRESH_TOKEN=rt-0123456789abcdef"));
    }

    #[test]
    fn tradestation_snippets_use_the_sdk_argument_order_and_form_body() {
        let p = profile(BrokerKind::TradeStation, Environment::Production);
        let e = Endpoints::real(BrokerKind::TradeStation, Environment::Production).unwrap();
        let s = snippets(&p, "Live", &e, None);
        assert!(s[0].text.contains("TRADESTATION_API_KEY=my-client-id"));
        assert!(s[1].text.contains("os.environ[\"TRADESTATION_API_KEY\"],\n    os.environ[\"TRADESTATION_SECRET_KEY\"],\n    os.environ[\"TRADESTATION_REFRESH_TOKEN\"],\n    is_test=False,"));
        assert!(s[2]
            .text
            .contains("--data-urlencode client_secret=\"$TRADESTATION_SECRET_KEY\""));
        assert!(s[2]
            .text
            .contains("https://signin.tradestation.com/oauth/token"));
    }
}
