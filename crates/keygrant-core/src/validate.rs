//! Pasted input, checked before anything is sent or stored: errors name the wizard field.

use crate::brokers::{self, custom, BrokerKind, ClientWords};
use crate::error::{AppError, ErrorKind, Result};
use crate::secret::{ClientSecret, RefreshToken};

/// Trims and checks a pasted client ID and secret; errors name the field and call the values
/// what the broker's pages call them (`words`, [`BrokerSpec::words`](crate::brokers::BrokerSpec)).
pub fn validate_client(
    client_id: &str,
    client_secret: &str,
    words: &ClientWords,
) -> Result<(String, ClientSecret)> {
    let ClientWords {
        id,
        secret: sec,
        app,
        ..
    } = *words;
    let label = words.id_label();
    let client_id = unquote(client_id);
    let secret = unquote(client_secret);
    let bad =
        |field: &str, msg: String| Err(AppError::new(ErrorKind::InvalidInput, msg).on_field(field));
    if client_id.is_empty() {
        return bad("client_id", format!("Paste the {id} of your {app}."));
    }
    if client_id.contains("://") || client_id.starts_with("www.") {
        return bad(
            "client_id",
            format!("That is a web address, not the {id}. Open your {app}'s page and copy the value labelled {label}."),
        );
    }
    if client_id == secret {
        return bad(
            "client_id",
            format!("The {id} and the {sec} are the same value: the {sec} was probably pasted in both fields. Copy the {label} into the first one."),
        );
    }
    if client_id.chars().any(char::is_whitespace) {
        return bad(
            "client_id",
            format!("The {id} contains spaces or line breaks. Copy it again as one piece."),
        );
    }
    if client_id.len() > 200
        || !client_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return bad(
            "client_id",
            format!("That does not look like the {id} of an {app}: it should be letters, digits and dashes only."),
        );
    }
    if secret.is_empty() {
        return bad("client_secret", format!("Paste the {sec} of your {app}."));
    }
    if secret.chars().any(char::is_whitespace) {
        return bad(
            "client_secret",
            format!("The {sec} contains spaces or line breaks. Copy it again as one piece."),
        );
    }
    if !secret.chars().all(|c| c.is_ascii_graphic()) {
        return bad("client_secret", format!("The {sec} contains characters a secret never has. Copy it again from your {app}'s page."));
    }
    if secret.len() < 8 {
        return bad(
            "client_secret",
            format!("That {sec} is too short. Copy the whole {sec} from your {app}'s page."),
        );
    }
    Ok((client_id.to_string(), ClientSecret::new(secret)))
}

/// A pasted value without the whitespace around it and without one pair of matching quotes
/// around it (as copied from JSON or a .env file).
fn unquote(s: &str) -> &str {
    let t = s.trim();
    for q in ['"', '\'', '`'] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return t[1..t.len() - 1].trim();
        }
    }
    t
}

/// Checks a pasted refresh token the same way.
pub fn validate_refresh_token(token: &str) -> Result<RefreshToken> {
    let t = unquote(token);
    let bad =
        |msg: &str| Err(AppError::new(ErrorKind::InvalidInput, msg).on_field("refresh_token"));
    if t.is_empty() {
        return bad("Paste the refresh token (from Tastytrade's \"Create Grant\" page, or from an earlier sign-in with this application).");
    }
    if t.chars().any(char::is_whitespace) {
        return bad(
            "The refresh token contains spaces or line breaks. Copy it again as one piece.",
        );
    }
    if !t.chars().all(|c| c.is_ascii_graphic()) || t.len() < 16 {
        return bad("That does not look like a refresh token. Copy the whole token from your broker's page.");
    }
    Ok(RefreshToken::new(t))
}

/// The scopes to ask for: the user's choice with the broker's required ones added, in the
/// broker's order; the defaults when nothing was chosen. Unknown names are refused.
pub fn resolve_scopes(broker: BrokerKind, chosen: Option<&[String]>) -> Result<Vec<String>> {
    // A provider that lists no scopes takes the ones the user types.
    if broker.spec().scopes.is_empty() {
        return custom::parse_scopes(chosen.unwrap_or_default());
    }
    let all = brokers::scopes(broker);
    let Some(chosen) = chosen.filter(|c| !c.is_empty()) else {
        return Ok(brokers::default_scopes(broker));
    };
    if let Some(unknown) = chosen.iter().find(|c| !all.iter().any(|s| &s.name == *c)) {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            format!(
                "{} has no scope named \"{unknown}\".",
                broker.display_name()
            ),
        )
        .on_field("scopes"));
    }
    Ok(all
        .into_iter()
        .filter(|s| s.required || chosen.contains(&s.name))
        .map(|s| s.name)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brokers::OAUTH_WORDS;

    fn validate_client_t(id: &str, secret: &str) -> Result<(String, ClientSecret)> {
        validate_client(id, secret, &OAUTH_WORDS)
    }
    use crate::error::ErrorKind;
    use crate::secret::Expose;

    #[test]
    fn quotes_urls_and_a_secret_in_the_id_field_are_handled() {
        let (id, secret) = validate_client_t(" \"abc-123\" ", "'s3cr3t-value-xyz'\n").unwrap();
        assert_eq!(
            (id.as_str(), secret.expose()),
            ("abc-123", "s3cr3t-value-xyz")
        );
        assert_eq!(
            validate_refresh_token("\"demo-rt-0123456789abcdef\"")
                .unwrap()
                .expose(),
            "demo-rt-0123456789abcdef"
        );
        let e = validate_client_t("https://my.tastytrade.com/app.html", "s3cr3t-value-xyz")
            .unwrap_err();
        assert!(
            e.message.contains("web address") && e.field.as_deref() == Some("client_id"),
            "{}",
            e.message
        );
        let e = validate_client_t("s3cr3t-value-xyz", "s3cr3t-value-xyz").unwrap_err();
        assert!(
            e.message.contains("same value") && e.field.as_deref() == Some("client_id"),
            "{}",
            e.message
        );
        // A quote inside a value is not stripped: it is refused on its field.
        assert_eq!(
            validate_client_t("ab\"c", "s3cr3t-value-xyz")
                .unwrap_err()
                .field
                .as_deref(),
            Some("client_id")
        );
    }

    #[test]
    fn pasted_values_are_trimmed() {
        let (id, secret) = validate_client_t("  abc-123\n", "\t s3cr3t-value-xyz  \n").unwrap();
        assert_eq!(id, "abc-123");
        assert_eq!(secret.expose(), "s3cr3t-value-xyz");
        assert_eq!(
            validate_refresh_token(" demo-rt-0123456789abcdef \n")
                .unwrap()
                .expose(),
            "demo-rt-0123456789abcdef"
        );
    }

    #[test]
    fn empty_spaced_or_malformed_input_is_refused_on_its_field() {
        let cases = [
            (("", "secret-123456"), "client_id", "Paste the client ID"),
            (("abc 123", "secret-123456"), "client_id", "spaces"),
            (("abc/123", "secret-123456"), "client_id", "letters, digits"),
            (("abc", "   "), "client_secret", "Paste the client secret"),
            (("abc", "secret with spaces"), "client_secret", "spaces"),
            (("abc", "short"), "client_secret", "too short"),
            (("abc", "sécret-123456"), "client_secret", "characters"),
        ];
        for ((id, secret), field, text) in cases {
            let e = validate_client_t(id, secret).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput);
            assert_eq!(e.field.as_deref(), Some(field), "{}", e.message);
            assert!(
                e.message.contains(text),
                "{} should contain {text}",
                e.message
            );
        }
        // Schwab's values are named as its Developer Portal labels them.
        let schwab = &BrokerKind::Schwab.spec().words;
        let e = validate_client("", "secret-123456", schwab).unwrap_err();
        assert_eq!(e.message, "Paste the App Key of your app.");
        let e =
            validate_client("https://developer.schwab.com", "secret-123456", schwab).unwrap_err();
        assert!(
            e.message.ends_with("copy the value labelled App Key."),
            "{}",
            e.message
        );
        let e = validate_client("abcdef123456", "abcdef123456", schwab).unwrap_err();
        assert!(
            e.message
                .starts_with("The App Key and the Secret are the same value"),
            "{}",
            e.message
        );
        for bad in ["", "has spaces in the token", "short"] {
            assert_eq!(
                validate_refresh_token(bad).unwrap_err().field.as_deref(),
                Some("refresh_token")
            );
        }
    }

    #[test]
    fn scopes_keep_the_required_ones_and_refuse_unknown_names() {
        let chosen = vec!["Trade".to_string()];
        let s = resolve_scopes(BrokerKind::TradeStation, Some(&chosen)).unwrap();
        assert_eq!(s, ["openid", "offline_access", "ReadAccount", "Trade"]);
        assert_eq!(
            resolve_scopes(BrokerKind::Tastytrade, None).unwrap(),
            ["read", "openid"]
        );
        let e = resolve_scopes(BrokerKind::Tastytrade, Some(&["admin".to_string()])).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("scopes"));
    }
}
