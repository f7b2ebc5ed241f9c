//! The secrets Keygrant holds, each its own type so one cannot be passed where another is
//! meant: [`ClientSecret`], [`RefreshToken`], [`AccessToken`], and [`SecretText`] (a text with
//! secrets filled in, such as a hand-off snippet on its way to the clipboard).
//!
//! `Debug` and `Display` never show the value; it is reachable only through
//! [`Expose::expose`], so every use is greppable. Request types deserialise them directly
//! from the page (a plain JSON string), so a secret is typed from the moment it arrives.

use std::fmt;

/// Read access to a secret's value. Every call site is a place the value leaves the type:
/// to the keyring, to a token request, to the clipboard, or to the page on Reveal.
pub trait Expose {
    /// The value in clear.
    fn expose(&self) -> &str;

    /// A display form that shows only the last four characters of a value of 16 or more
    /// characters, after twelve bullets; shorter values show only the bullets.
    fn masked(&self) -> String {
        mask(self.expose())
    }
}

/// The masked form of any value that may be a credential (see [`Expose::masked`]).
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let tail: String = if chars.len() >= 16 {
        chars[chars.len() - 4..].iter().collect()
    } else {
        String::new()
    };
    format!("{}{}", "•".repeat(12), tail)
}

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value; nothing is checked (see `validate` for pasted input).
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                $name(value.to_string())
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                $name(value)
            }
        }

        impl Expose for $name {
            fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("<redacted>")
            }
        }
    };
}

secret_type!(
    /// An OAuth application's client secret (RFC 6749 section 2.3.1). Kept in the keyring;
    /// crosses IPC once, from the wizard to the backend.
    ClientSecret
);
secret_type!(
    /// A refresh token (RFC 6749 section 1.5). Kept in the keyring; reaches the page only on
    /// Reveal, the clipboard only on Copy.
    RefreshToken
);
secret_type!(
    /// An access token (RFC 6749 section 1.4). Kept in memory only; never reaches the page.
    AccessToken
);
secret_type!(
    /// An OpenID Connect ID token (a JWT) from the last token response. Kept in memory only;
    /// the doctor reads its claims (never its signature) and never shows it.
    IdToken
);
secret_type!(
    /// A text with secrets filled in (a hand-off snippet), bound for the clipboard.
    SecretText
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = ClientSecret::new("super-secret-value-1234");
        let r = RefreshToken::new("super-refresh-value-1234");
        let a = AccessToken::new("super-access-value-1234");
        for out in [
            format!("{s:?} {s}"),
            format!("{r:?} {r}"),
            format!("{a:?} {a}"),
        ] {
            assert!(!out.contains("super"), "{out}");
        }
        assert_eq!(format!("{r:?}"), "RefreshToken(<redacted>)");
        assert_eq!(s.expose(), "super-secret-value-1234");
    }

    #[test]
    fn masked_keeps_only_the_last_four_of_long_values() {
        assert_eq!(
            RefreshToken::new("abcdefghijklmnopqrstuvwxyz").masked(),
            "••••••••••••wxyz"
        );
        assert_eq!(ClientSecret::new("short").masked(), "••••••••••••");
    }

    #[test]
    fn a_secret_arrives_from_json_as_a_plain_string() {
        let s: ClientSecret = serde_json::from_str("\"from-the-page\"").unwrap();
        assert_eq!(s.expose(), "from-the-page");
    }
}
