//! "Custom": any OAuth 2 provider the user describes (authorize and token URLs, client
//! authentication, PKCE, extra authorize parameters). Keygrant gets and keeps its refresh
//! token and shows the token response's fields; there is no account API, so no dashboard.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use url::Url;

use super::{BrokerKind, BrokerSpec, ClientAuth, Endpoints, HandoffVars, RefreshBody, Urls};
use crate::error::{AppError, ErrorKind, Result};

/// A custom provider: its URLs come from the user ([`CustomProvider`]); no account API.
pub const SPEC: BrokerSpec = BrokerSpec {
    kind: BrokerKind::Custom,
    name: "Custom OAuth 2",
    production_label: "Custom provider",
    sandbox_label: "Custom provider",
    production: None,
    sandbox: None,
    // A custom provider tried against the Demo broker speaks its Auth0-like dialect.
    demo: Urls {
        authorize: "ts/authorize",
        token: "ts/oauth/token",
        api: "ts/v3/",
    },
    extra_authorize: &[],
    refresh_body: RefreshBody::Form,
    client_auth: super::ClientAuth::RequestBody,
    pkce: true,
    // Any loopback port (RFC 8252 section 7.3) unless the user enters one.
    default_redirect_uri: "",
    where_to_register: "your OAuth application's redirect (callback) URIs at the provider",
    app_settings_urls: None,
    // Typed by the user.
    scopes: &[],
    read_scope: "",
    no_refresh_token: "The provider returned no refresh token. Many providers issue one only when asked: add a scope such as offline_access or an extra parameter such as access_type=offline (see the provider's documentation), then connect again. Nothing was saved.",
    dead_grant_causes: "Likely causes: the grant was revoked or expired at the provider, or the client secret was changed.",
    grants_differ_by_environment: false,
    // Keygrant's own names: no SDK.
    handoff: HandoffVars {
        client_id: &["OAUTH_CLIENT_ID"],
        client_secret: &["OAUTH_CLIENT_SECRET"],
        refresh_token: &["OAUTH_REFRESH_TOKEN"],
        // A provider may issue a new refresh token on any refresh (RFC 6749 section 6).
        refresh_may_rotate: true,
        example_api_path: None,
    },
    python_snippet: None,
    api: None,
    api_version: None,
    // Refresh tokens are whatever the provider issues (not decoded); an OpenID Connect
    // `id_token` names the client ID in `aud` (OpenID Connect Core 1.0 section 2).
    claims: super::TokenClaims {
        refresh_jwt_typ: None,
        issuers: &[],
        id_token_aud: true,
    },
    sign_in_lifetime: None,
    check_redirect: None,
    check_client: None,
    words: super::OAUTH_WORDS,
};

/// One extra query parameter for the authorize URL (e.g. `audience`, `access_type=offline`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ExtraParam {
    /// The query parameter's name.
    pub name: String,
    /// Its value, sent as entered (URL-encoded).
    pub value: String,
}

/// A provider as the user described it. Nothing here is secret; it is kept in profiles.json.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CustomProvider {
    /// The authorization endpoint (RFC 6749 section 3.1), `https://` or a loopback `http://`.
    pub authorize_url: String,
    /// The token endpoint (RFC 6749 section 3.2), `https://` or a loopback `http://`.
    pub token_url: String,
    /// How the client ID and secret reach the token endpoint.
    pub client_auth: ClientAuth,
    /// Send a PKCE S256 challenge (RFC 7636). Most providers accept it; some refuse it.
    pub pkce: bool,
    /// Extra authorize-URL parameters, in order.
    #[serde(default)]
    pub extra_params: Vec<ExtraParam>,
}

/// Parameters Keygrant sets itself; an extra parameter may not override them.
const RESERVED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

fn endpoint_url(input: &str, field: &str, what: &str) -> Result<Url> {
    let bad = |msg: String| Err(AppError::new(ErrorKind::InvalidInput, msg).on_field(field));
    let s = input.trim();
    if s.is_empty() {
        return bad(format!("Enter the provider's {what} (from its documentation or its .well-known/openid-configuration)."));
    }
    let Ok(url) = Url::parse(s) else {
        return bad(format!(
            "\"{s}\" is not a URL. Enter the full {what}, starting with https://."
        ));
    };
    let loopback = matches!(
        url.host_str(),
        Some("127.0.0.1") | Some("localhost") | Some("[::1]")
    );
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return bad(format!(
            "The {what} must start with https:// (plain http is allowed only for a provider on this computer), \
             so the client secret and tokens are never sent in the clear."
        ));
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return bad(format!(
            "The {what} must not contain a # fragment or a user name and password."
        ));
    }
    Ok(url)
}

impl CustomProvider {
    /// Trims and checks what the user entered, and gives the endpoints to use.
    pub fn endpoints(&self) -> Result<Endpoints> {
        let authorize_url = endpoint_url(&self.authorize_url, "authorize_url", "authorize URL")?;
        let token_url = endpoint_url(&self.token_url, "token_url", "token URL")?;
        let mut extra = Vec::new();
        for p in &self.extra_params {
            let name = p.name.trim();
            if name.is_empty() && p.value.trim().is_empty() {
                continue;
            }
            let bad = |msg: String| {
                Err(AppError::new(ErrorKind::InvalidInput, msg).on_field("extra_params"))
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return bad(format!("\"{name}\" is not a parameter name: use letters, digits, - _ and . only, one name=value per line."));
            }
            if RESERVED.contains(&name) {
                return bad(format!(
                    "Keygrant sets \"{name}\" itself; remove it from the extra parameters."
                ));
            }
            extra.push((name.to_string(), p.value.trim().to_string()));
        }
        Ok(Endpoints {
            broker: BrokerKind::Custom,
            authorize_url,
            api_base: token_url.clone(),
            token_url,
            use_pkce: self.pkce,
            extra_authorize: extra,
            refresh_body: RefreshBody::Form,
            client_auth: self.client_auth,
        })
    }

    /// The same description with the entered values trimmed, for saving.
    pub fn normalized(&self) -> CustomProvider {
        CustomProvider {
            authorize_url: self.authorize_url.trim().to_string(),
            token_url: self.token_url.trim().to_string(),
            client_auth: self.client_auth,
            pkce: self.pkce,
            extra_params: self
                .extra_params
                .iter()
                .filter(|p| !(p.name.trim().is_empty() && p.value.trim().is_empty()))
                .map(|p| ExtraParam {
                    name: p.name.trim().into(),
                    value: p.value.trim().into(),
                })
                .collect(),
        }
    }

    /// The host of the token URL, to name the profile.
    pub fn host(&self) -> String {
        Url::parse(self.token_url.trim())
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "provider".into())
    }
}

/// Checks scopes typed by hand: RFC 6749 section 3.3 scope tokens, de-duplicated, in order.
pub fn parse_scopes(chosen: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in chosen.iter().flat_map(|s| s.split_whitespace()) {
        if !s
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
        {
            return Err(AppError::new(
                ErrorKind::InvalidInput,
                format!("\"{s}\" is not a valid scope name (no quotes or backslashes)."),
            )
            .on_field("scopes"));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(authorize: &str, token: &str) -> CustomProvider {
        CustomProvider {
            authorize_url: authorize.into(),
            token_url: token.into(),
            client_auth: ClientAuth::Basic,
            pkce: true,
            extra_params: vec![
                ExtraParam {
                    name: " audience ".into(),
                    value: " https://api.example.com ".into(),
                },
                ExtraParam {
                    name: "".into(),
                    value: "".into(),
                },
            ],
        }
    }

    #[test]
    fn https_endpoints_and_extra_parameters_are_trimmed_and_kept() {
        let e = provider(
            " https://id.example.com/authorize ",
            "https://id.example.com/oauth/token\n",
        )
        .endpoints()
        .unwrap();
        assert_eq!(e.authorize_url.as_str(), "https://id.example.com/authorize");
        assert_eq!(e.token_url.as_str(), "https://id.example.com/oauth/token");
        assert_eq!(
            e.extra_authorize,
            vec![(
                "audience".to_string(),
                "https://api.example.com".to_string()
            )]
        );
        assert!(e.use_pkce && e.client_auth == ClientAuth::Basic && e.broker == BrokerKind::Custom);
        assert_eq!(
            provider("https://a/x", "https://id.example.com/t").host(),
            "id.example.com"
        );
        // A local provider (or the Demo broker) may use plain http on loopback.
        assert!(provider(
            "http://127.0.0.1:9000/authorize",
            "http://localhost:9000/token"
        )
        .endpoints()
        .is_ok());
    }

    #[test]
    fn plain_http_elsewhere_bad_urls_and_reserved_parameters_are_refused_on_their_field() {
        let cases = [
            (
                provider(
                    "http://id.example.com/authorize",
                    "https://id.example.com/t",
                ),
                "authorize_url",
                "https://",
            ),
            (
                provider("https://id.example.com/authorize", "id.example.com/t"),
                "token_url",
                "not a URL",
            ),
            (
                provider("", "https://id.example.com/t"),
                "authorize_url",
                "Enter the provider",
            ),
            (
                provider("https://u:p@id.example.com/a", "https://id.example.com/t"),
                "authorize_url",
                "user name",
            ),
        ];
        for (p, field, text) in cases {
            let e = p.endpoints().unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field), "{}", e.message);
            assert!(e.message.contains(text), "{}", e.message);
        }
        let mut p = provider("https://a.example/a", "https://a.example/t");
        p.extra_params = vec![ExtraParam {
            name: "state".into(),
            value: "x".into(),
        }];
        assert!(p
            .endpoints()
            .unwrap_err()
            .message
            .contains("sets \"state\" itself"));
        p.extra_params = vec![ExtraParam {
            name: "a b".into(),
            value: "x".into(),
        }];
        assert_eq!(
            p.endpoints().unwrap_err().field.as_deref(),
            Some("extra_params")
        );
    }

    #[test]
    fn typed_scopes_are_split_deduplicated_and_checked() {
        let s = parse_scopes(&[
            "openid  offline_access".into(),
            "openid".into(),
            "api:read".into(),
        ])
        .unwrap();
        assert_eq!(s, ["openid", "offline_access", "api:read"]);
        assert_eq!(
            parse_scopes(&["bad\"scope".into()])
                .unwrap_err()
                .field
                .as_deref(),
            Some("scopes")
        );
    }
}
