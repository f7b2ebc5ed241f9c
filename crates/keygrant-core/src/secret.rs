//! A string that must never be logged, printed or sent to the UI by accident.

use std::fmt;

/// Holds a client secret, refresh token or access token. `Debug` and `Display` are redacted;
/// the value is reachable only through [`Secret::expose`], so every use is greppable.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A display form that shows only the length class and the last four characters.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let tail: String = if chars.len() >= 16 {
            chars[chars.len() - 4..].iter().collect()
        } else {
            String::new()
        };
        format!("{}{}", "•".repeat(12), tail)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("super-secret-value-1234");
        assert!(!format!("{s:?}").contains("super"));
        assert!(!format!("{s}").contains("super"));
        assert_eq!(s.expose(), "super-secret-value-1234");
    }

    #[test]
    fn masked_keeps_only_the_last_four_of_long_values() {
        assert_eq!(
            Secret::new("abcdefghijklmnopqrstuvwxyz").masked(),
            "••••••••••••wxyz"
        );
        assert_eq!(Secret::new("short").masked(), "••••••••••••");
    }
}
