//! Hand-off: how the user's own code gets the credentials. The recommended path is
//! `keygrant exec -- python bot.py`, which starts the script with the variables of
//! [`exec_env`] in its environment (nothing on disk), and `keygrant token --format header` for
//! raw HTTP; then copy-ready snippets (`.env`, the public Python SDK, curl), as in the seed
//! documents. The page only ever sees snippets with placeholders; the filled-in version goes
//! from the backend straight to the clipboard when the user asks.

use std::fmt;

use serde::Serialize;
use ts_rs::TS;

use crate::brokers::{BrokerSpec, ClientAuth, Endpoints, Environment, RefreshBody};
use crate::profiles::Profile;
use crate::secret::{AccessToken, ClientSecret, Expose, RefreshToken, SecretText};

/// The variable `keygrant exec` puts a current access token in (valid for the broker's token
/// lifetime from when the child starts: 15 minutes for Tastytrade, 20 for TradeStation,
/// docs/brokers.md#tastytrade-tokens-and-lifetimes, #tradestation-tokens-and-lifetimes).
pub const ACCESS_TOKEN_VAR: &str = "KEYGRANT_ACCESS_TOKEN";
/// The variable holding the broker API base URL of the profile's environment, ending with
/// `/` (e.g. `https://api.cert.tastyworks.com/`, `https://sim-api.tradestation.com/v3/`).
pub const API_BASE_URL_VAR: &str = "KEYGRANT_API_BASE_URL";
/// The variable holding when [`ACCESS_TOKEN_VAR`]'s token expires (Unix seconds), for SDKs
/// that want an expiry with a token they are handed (schwab-py's `expires_at`).
pub const ACCESS_EXPIRES_AT_VAR: &str = "KEYGRANT_ACCESS_TOKEN_EXPIRES_AT";
/// The variable holding when the grant's browser sign-in happened (Unix seconds), set when
/// Keygrant knows it: for a broker whose grants end a fixed time after it (Schwab's 7 days,
/// docs/brokers.md#schwab-oauth), SDKs count from it (schwab-py's `creation_timestamp`).
pub const SIGNED_IN_AT_VAR: &str = "KEYGRANT_SIGNED_IN_AT";
/// The variable holding the profile's ID (the stable one of profiles.json, not its label).
pub const PROFILE_VAR: &str = "KEYGRANT_PROFILE";

/// Which hand-off format a snippet is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SnippetKind {
    /// `keygrant exec -- python bot.py` and `keygrant token --format header` for curl: the
    /// recommended path, with no secret in it.
    Exec,
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
    /// What to do with it, in one or two sentences.
    pub hint: String,
    /// The text with placeholders (or environment variables) where the secrets go.
    pub text: String,
    /// Whether the copied version has secrets filled in (the button says "Copy with secrets");
    /// false when the text is the same either way.
    pub has_secrets: bool,
}

/// The secrets to put in, or none for the placeholder version.
pub struct Filled<'a> {
    /// The client secret to write in.
    pub client_secret: &'a ClientSecret,
    /// The refresh token to write in.
    pub refresh_token: &'a RefreshToken,
}

/// One environment variable's value for a child process: plain (a client ID, a URL, a profile
/// ID), or a secret, which `Debug` never shows.
#[derive(Clone, PartialEq, Eq)]
pub enum EnvValue {
    /// Not secret.
    Plain(String),
    /// A client secret, refresh token or access token.
    Secret(SecretText),
}

impl Expose for EnvValue {
    fn expose(&self) -> &str {
        match self {
            EnvValue::Plain(s) => s,
            EnvValue::Secret(s) => s.expose(),
        }
    }
}

impl fmt::Debug for EnvValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvValue::Plain(s) => f.debug_tuple("Plain").field(s).finish(),
            EnvValue::Secret(_) => f.write_str("Secret(<redacted>)"),
        }
    }
}

/// The environment `keygrant exec` gives the child process for `profile`, whose broker
/// endpoints are `endpoints` (the real ones, or the Demo broker's), as (name, value) pairs in
/// this order: the client ID under each of the broker's client ID names (none for Tastytrade),
/// the client secret and the refresh token under each of theirs (the names the public SDKs
/// read, [`crate::brokers::HandoffVars`]; docs/brokers.md#tastytrade-hand-off-variables,
/// #tradestation-hand-off-variables), then [`ACCESS_TOKEN_VAR`], [`ACCESS_EXPIRES_AT_VAR`]
/// when `access_expires_at` is known, [`SIGNED_IN_AT_VAR`] when the profile records its
/// sign-in, [`API_BASE_URL_VAR`] (the
/// endpoints' API base, ending with `/`) and [`PROFILE_VAR`]. Pure: reads nothing, never fails.
/// Secrets come back as [`EnvValue::Secret`]. The caller should also print
/// [`rotation_warning`] for the profile's broker.
pub fn exec_env(
    profile: &Profile,
    endpoints: &Endpoints,
    secrets: &Filled,
    access_token: &AccessToken,
    access_expires_at: Option<u64>,
) -> Vec<(String, EnvValue)> {
    let v = profile.broker.spec().handoff;
    let secret = |x: &str| EnvValue::Secret(SecretText::new(x));
    let mut out = Vec::new();
    for name in v.client_id {
        out.push((name.to_string(), EnvValue::Plain(profile.client_id.clone())));
    }
    for name in v.client_secret {
        out.push((name.to_string(), secret(secrets.client_secret.expose())));
    }
    for name in v.refresh_token {
        out.push((name.to_string(), secret(secrets.refresh_token.expose())));
    }
    out.push((ACCESS_TOKEN_VAR.into(), secret(access_token.expose())));
    if let Some(at) = access_expires_at {
        out.push((
            ACCESS_EXPIRES_AT_VAR.into(),
            EnvValue::Plain(at.to_string()),
        ));
    }
    if let Some(at) = profile.signed_in_at {
        out.push((SIGNED_IN_AT_VAR.into(), EnvValue::Plain(at.to_string())));
    }
    out.push((
        API_BASE_URL_VAR.into(),
        EnvValue::Plain(endpoints.api_base.to_string()),
    ));
    out.push((PROFILE_VAR.into(), EnvValue::Plain(profile.id.clone())));
    out
}

/// The warning `keygrant exec` prints (to stderr) and the exec snippet's hint carries when
/// `spec`'s provider may rotate refresh tokens ([`crate::brokers::HandoffVars::refresh_may_rotate`]:
/// TradeStation keys opted in to rotation, docs/brokers.md#tradestation-tokens-and-lifetimes;
/// custom OAuth 2 providers, RFC 6749 section 6); `None` when refresh tokens are not rotated
/// (Tastytrade).
pub fn rotation_warning(spec: &BrokerSpec) -> Option<&'static str> {
    spec.handoff.refresh_may_rotate.then_some(
        "This provider may rotate refresh tokens: your program gets a copy of the refresh token, \
         and the first refresh it makes spends it, after which Keygrant's copy (or your \
         program's) stops working. Use KEYGRANT_ACCESS_TOKEN, or run `keygrant token` for a \
         fresh one, and leave refreshing to Keygrant.",
    )
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
        "# {} · {env_label} (from Keygrant). Keep this file out of version control.\n\
         # Each value appears under every name an SDK reads.\n",
        p.broker.display_name()
    );
    for id in v.client_id {
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
    for name in v.client_secret {
        out += &format!("{name}={secret}\n");
    }
    for name in v.refresh_token {
        out += &format!("{name}={refresh}\n");
    }
    out
}

/// `keygrant exec` for a script, and `keygrant token --format header` for raw HTTP against
/// the profile's API. No secret: the same text with or without `filled`.
fn exec_snippet(p: &Profile, endpoints: &Endpoints) -> String {
    let v = p.broker.spec().handoff;
    let names: Vec<&str> = v
        .client_id
        .iter()
        .chain(v.client_secret)
        .chain(v.refresh_token)
        .copied()
        .chain([ACCESS_TOKEN_VAR, ACCESS_EXPIRES_AT_VAR])
        .chain(p.signed_in_at.map(|_| SIGNED_IN_AT_VAR))
        .chain([API_BASE_URL_VAR, PROFILE_VAR])
        .collect();
    let url = match v.example_api_path {
        Some(path) => endpoints
            .api_base
            .join(path)
            .map(|u| shell_quote(u.as_str()))
            .unwrap_or_else(|_| "'<API URL>'".into()),
        None => "'<API URL>'".into(),
    };
    let mut out = "# Run your script with the credentials in its environment (nothing on disk):\n"
        .to_string();
    for line in names.chunks(3) {
        out += &format!("#   {}\n", line.join(" "));
    }
    out += "keygrant exec -- python bot.py\n\n";
    out += "# Raw HTTP: a current access token as a header, refreshed by Keygrant when due.\n";
    out += &format!("curl -sS -H \"$(keygrant token --format header)\" {url}\n");
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
        .primary_client_id()
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
                    v.primary_client_secret(),
                    v.primary_refresh_token()
                ),
            };
            lines.push(format!("-d {body}"));
        }
        RefreshBody::Form => {
            lines.push("--data-urlencode grant_type=refresh_token".into());
            lines.push(format!(
                "--data-urlencode refresh_token={}",
                word(v.primary_refresh_token(), refresh)
            ));
            match endpoints.client_auth {
                ClientAuth::RequestBody => {
                    if let Some(id) = &id {
                        lines.push(format!("--data-urlencode client_id={id}"));
                    }
                    lines.push(format!(
                        "--data-urlencode client_secret={}",
                        word(v.primary_client_secret(), secret)
                    ));
                }
                ClientAuth::Basic => {
                    let id = id.clone().unwrap_or_default();
                    let pair = match filled {
                        Some(f) => {
                            shell_quote(&format!("{}:{}", p.client_id, f.client_secret.expose()))
                        }
                        None => format!("{}:\"${}\"", id, v.primary_client_secret()),
                    };
                    lines.push(format!("-u {pair}"));
                }
            }
        }
    }
    lines.join(" \\\n  ") + "\n"
}

/// The snippets for `profile`, with placeholders, or filled in: `keygrant exec` first (the
/// recommended path), then `.env`, the public SDK's Python where there is one, and curl.
pub fn snippets(
    profile: &Profile,
    env_label: &str,
    endpoints: &Endpoints,
    filled: Option<&Filled>,
) -> Vec<Snippet> {
    let mut exec_hint = "Recommended. Your script reads the variables listed; keygrant must be \
                         on your PATH."
        .to_string();
    if let Some(w) = rotation_warning(profile.broker.spec()) {
        exec_hint = format!("{exec_hint} {w}");
    }
    let mut out = vec![
        Snippet {
            kind: SnippetKind::Exec,
            title: "keygrant exec (recommended)".into(),
            hint: exec_hint,
            text: exec_snippet(profile, endpoints),
            has_secrets: false,
        },
        Snippet {
            kind: SnippetKind::Env,
            title: ".env".into(),
            hint: "Save as .env beside your script (and add it to .gitignore).".into(),
            text: env_snippet(profile, env_label, filled),
            has_secrets: true,
        },
    ];
    if let Some(text) = python_snippet(profile) {
        out.push(Snippet {
            kind: SnippetKind::Python,
            title: "Python (public SDK)".into(),
            hint: "Run it with keygrant exec, or after loading the .env (python-dotenv or \
                   `set -a; . ./.env; set +a`)."
                .into(),
            text,
            has_secrets: false,
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
        has_secrets: true,
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brokers::BrokerKind;

    fn profile(broker: BrokerKind, environment: Environment) -> Profile {
        Profile {
            signed_in_at: None,
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
        for name in [
            "TT_SECRET=",
            "TT_REFRESH=",
            "TASTY_CLIENT_SECRET=",
            "TASTY_REFRESH_TOKEN=",
        ] {
            assert!(plain[1].text.contains(name), "{name}");
        }
        assert!(all.contains("async with Session(is_test=True) as session:"));
        assert!(all.contains("https://api.cert.tastyworks.com/oauth/token"));
        assert!(all.contains("$TT_SECRET") && all.contains("$TT_REFRESH"));
        let filled = snippets(
            &p,
            "Sandbox (cert)",
            &e,
            Some(&Filled {
                client_secret: &secret,
                refresh_token: &rt,
            }),
        );
        let env = &filled[1].text;
        assert!(
            env.contains(r#"TASTY_CLIENT_SECRET='s3cr3t'\''with"quotes$'"#),
            "{env}"
        );
        assert!(env.contains(r#"TT_SECRET='s3cr3t'\''with"quotes$'"#));
        assert!(env.contains("TASTY_REFRESH_TOKEN=rt-0123456789abcdef"));
        assert!(env.contains("TT_REFRESH=rt-0123456789abcdef"));
        // The snippets without secrets read the same either way.
        for (a, b) in plain.iter().zip(&filled) {
            assert_eq!(a.has_secrets, a.text != b.text, "{:?}", a.kind);
        }
    }

    #[test]
    fn the_exec_snippet_comes_first_and_names_every_variable() {
        let p = profile(BrokerKind::Tastytrade, Environment::Production);
        let e = Endpoints::real(BrokerKind::Tastytrade, Environment::Production).unwrap();
        let s = snippets(&p, "Production", &e, None);
        assert_eq!(
            s.iter().map(|x| x.kind).collect::<Vec<_>>(),
            [
                SnippetKind::Exec,
                SnippetKind::Env,
                SnippetKind::Python,
                SnippetKind::Curl
            ]
        );
        let exec = &s[0].text;
        assert!(exec.contains("keygrant exec -- python bot.py\n"));
        assert!(exec.contains(
            "curl -sS -H \"$(keygrant token --format header)\" 'https://api.tastyworks.com/customers/me/accounts'"
        ));
        let secrets = Filled {
            client_secret: &ClientSecret::new("cs"),
            refresh_token: &RefreshToken::new("rt"),
        };
        for (name, _) in exec_env(&p, &e, &secrets, &AccessToken::new("at"), Some(1)) {
            assert!(exec.contains(&name), "{name} not listed");
        }
        // Production: no is_test; Tastytrade does not rotate, so no warning.
        assert!(s[2].text.contains("async with Session() as session:"));
        assert!(rotation_warning(p.broker.spec()).is_none());
        assert!(!s[0].hint.contains("rotate"));
    }

    #[test]
    fn tradestation_snippets_use_the_sdk_argument_order_and_form_body() {
        let p = profile(BrokerKind::TradeStation, Environment::Production);
        let e = Endpoints::real(BrokerKind::TradeStation, Environment::Production).unwrap();
        let s = snippets(&p, "Live", &e, None);
        assert!(s[1].text.contains("TRADESTATION_API_KEY=my-client-id"));
        assert!(s[2].text.contains("os.environ[\"TRADESTATION_API_KEY\"],\n    os.environ[\"TRADESTATION_SECRET_KEY\"],\n    os.environ[\"TRADESTATION_REFRESH_TOKEN\"],\n    access_token=os.environ[\"KEYGRANT_ACCESS_TOKEN\"],\n    is_test=False,"));
        assert!(s[3]
            .text
            .contains("--data-urlencode client_secret=\"$TRADESTATION_SECRET_KEY\""));
        assert!(s[3]
            .text
            .contains("https://signin.tradestation.com/oauth/token"));
        assert!(s[0]
            .text
            .contains("'https://api.tradestation.com/v3/brokerage/accounts'"));
        let w = rotation_warning(p.broker.spec()).expect("TradeStation keys may rotate");
        assert!(w.contains("KEYGRANT_ACCESS_TOKEN") && w.contains("keygrant token"));
        assert!(s[0].hint.ends_with(w));
    }

    fn exec_env_of(broker: BrokerKind, env: Environment) -> Vec<(String, EnvValue)> {
        let p = Profile {
            signed_in_at: Some(1_700_000_000),
            ..profile(broker, env)
        };
        let e = Endpoints::real(broker, env).unwrap();
        exec_env(
            &p,
            &e,
            &Filled {
                client_secret: &ClientSecret::new("the-client-secret-value"),
                refresh_token: &RefreshToken::new("the-refresh-token-value"),
            },
            &AccessToken::new("the-access-token-value"),
            Some(1_800_000_000),
        )
    }

    #[test]
    fn exec_env_gives_every_sdk_name_and_the_common_ones() {
        let names = |v: &[(String, EnvValue)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        let t = exec_env_of(BrokerKind::Tastytrade, Environment::Sandbox);
        assert_eq!(
            names(&t),
            [
                "TT_SECRET",
                "TASTY_CLIENT_SECRET",
                "TT_REFRESH",
                "TASTY_REFRESH_TOKEN",
                "KEYGRANT_ACCESS_TOKEN",
                "KEYGRANT_ACCESS_TOKEN_EXPIRES_AT",
                "KEYGRANT_SIGNED_IN_AT",
                "KEYGRANT_API_BASE_URL",
                "KEYGRANT_PROFILE"
            ]
        );
        let get =
            |v: &[(String, EnvValue)], n: &str| v.iter().find(|(k, _)| k == n).unwrap().1.clone();
        assert_eq!(
            get(&t, "KEYGRANT_API_BASE_URL"),
            EnvValue::Plain("https://api.cert.tastyworks.com/".into())
        );
        assert_eq!(get(&t, "KEYGRANT_PROFILE"), EnvValue::Plain("p".into()));
        assert_eq!(get(&t, "TT_REFRESH").expose(), "the-refresh-token-value");
        assert!(matches!(get(&t, "TT_SECRET"), EnvValue::Secret(_)));

        let s = exec_env_of(BrokerKind::TradeStation, Environment::Sandbox);
        assert_eq!(
            names(&s),
            [
                "TRADESTATION_API_KEY",
                "TRADESTATION_SECRET_KEY",
                "TRADESTATION_REFRESH_TOKEN",
                "KEYGRANT_ACCESS_TOKEN",
                "KEYGRANT_ACCESS_TOKEN_EXPIRES_AT",
                "KEYGRANT_SIGNED_IN_AT",
                "KEYGRANT_API_BASE_URL",
                "KEYGRANT_PROFILE"
            ]
        );
        assert_eq!(
            get(&s, "TRADESTATION_API_KEY"),
            EnvValue::Plain("my-client-id".into())
        );
        assert_eq!(
            get(&s, "KEYGRANT_API_BASE_URL").expose(),
            "https://sim-api.tradestation.com/v3/"
        );
    }

    #[test]
    fn exec_env_debug_shows_no_secret() {
        for broker in [BrokerKind::Tastytrade, BrokerKind::TradeStation] {
            let v = exec_env_of(broker, Environment::Production);
            let dbg = format!("{v:?}");
            assert!(!dbg.contains("-value"), "{dbg}");
            assert!(dbg.contains("Secret(<redacted>)") && dbg.contains("KEYGRANT_PROFILE"));
        }
    }

    /// The Python SDK test (tests/sdk/test_exec_env.py) sets exactly the names of
    /// tests/sdk/exec_env_names.json; this keeps exec_env and that file in step.
    #[test]
    fn exec_env_names_match_the_sdk_tests() {
        use std::collections::BTreeMap;
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/sdk/exec_env_names.json")).unwrap();
        for (broker, key) in [
            (BrokerKind::Tastytrade, "tastytrade"),
            (BrokerKind::TradeStation, "trade_station"),
            (BrokerKind::Schwab, "schwab"),
        ] {
            let want: BTreeMap<String, String> = serde_json::from_value(file[key].clone()).unwrap();
            let role = |v: &EnvValue| match v.expose() {
                "the-client-secret-value" => "client_secret",
                "the-refresh-token-value" => "refresh_token",
                "the-access-token-value" => "access_token",
                "my-client-id" => "client_id",
                "p" => "profile",
                "1800000000" => "access_expires_at",
                "1700000000" => "signed_in_at",
                x if x.starts_with("https://") => "api_base_url",
                x => panic!("unexpected value {x}"),
            };
            let got: BTreeMap<String, String> = exec_env_of(broker, Environment::Production)
                .iter()
                .map(|(n, v)| (n.clone(), role(v).to_string()))
                .collect();
            assert_eq!(got, want, "{key}");
        }
    }

    /// The Python snippets as tests/sdk/test_exec_env.py runs them, with the public SDKs,
    /// in a child process holding only the `exec_env` environment.
    #[test]
    fn python_snippets_are_the_ones_the_sdk_tests_run() {
        let t = profile(BrokerKind::Tastytrade, Environment::Production);
        assert_eq!(
            python_snippet(&t).unwrap(),
            include_str!("../../../tests/sdk/snippets/tastytrade.py")
        );
        let s = profile(BrokerKind::TradeStation, Environment::Sandbox);
        assert_eq!(
            python_snippet(&s).unwrap(),
            include_str!("../../../tests/sdk/snippets/tradestation_sim.py")
        );
        let c = profile(BrokerKind::Schwab, Environment::Production);
        assert_eq!(
            python_snippet(&c).unwrap(),
            include_str!("../../../tests/sdk/snippets/schwab.py")
        );
    }
}
