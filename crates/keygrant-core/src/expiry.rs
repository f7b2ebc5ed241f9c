//! Grants that end a fixed time after the browser sign-in, whatever the refreshes (Schwab's
//! 7 days, docs/brokers.md#schwab-oauth): when a profile's grant ends, which reminder is due,
//! and what a refused refresh means (the sign-in expired, or a newer sign-in replaced it).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use ts_rs::TS;

use crate::error::{AppError, ErrorKind};
use crate::profiles::Profile;

/// A reminder sent as a desktop notification once per profile and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Reminder {
    /// Less than a day of the grant is left.
    DayBefore,
    /// The grant has ended: scripts and the dashboard fail until the user signs in again.
    Expired,
}

/// How long before the end [`Reminder::DayBefore`] is due: one day.
pub const REMIND_BEFORE_SECS: u64 = 24 * 3600;

/// Now, in Unix seconds.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// When `profile`'s grant ends (Unix seconds): its recorded sign-in plus the broker's
/// `sign_in_lifetime`. `None` when the broker's grants do not end so, or the sign-in time is
/// unknown (a pasted grant).
pub fn expires_at(profile: &Profile) -> Option<u64> {
    let life = profile.broker.spec().sign_in_lifetime?;
    Some(profile.signed_in_at?.saturating_add(life.as_secs()))
}

/// The reminder due for `profile` at `now` (Unix seconds), if any: [`Reminder::Expired`] from
/// the end on, [`Reminder::DayBefore`] in the last [`REMIND_BEFORE_SECS`].
pub fn due(profile: &Profile, now: u64) -> Option<Reminder> {
    let end = expires_at(profile)?;
    if now >= end {
        Some(Reminder::Expired)
    } else if end - now <= REMIND_BEFORE_SECS {
        Some(Reminder::DayBefore)
    } else {
        None
    }
}

/// The notification's title and text for `reminder` about `profile`.
pub fn reminder_text(profile: &Profile, reminder: Reminder) -> (String, String) {
    let broker = profile.broker.display_name();
    match reminder {
        Reminder::DayBefore => (
            format!("{}: sign in again within a day", profile.label),
            format!(
                "{broker} ends this connection's refresh token 7 days after the browser sign-in. \
                 Open Keygrant and press Sign in again (two clicks) so your scripts keep working."
            ),
        ),
        Reminder::Expired => (
            format!("{}: sign-in expired", profile.label),
            format!(
                "{broker} no longer accepts this connection's refresh token (7 days after the \
                 browser sign-in). Open Keygrant and press Sign in again."
            ),
        ),
    }
}

/// A refused refresh ([`ErrorKind::InvalidGrant`]) for a profile whose grants end after a
/// fixed time, explained by `now` (Unix seconds): past the end it says the sign-in expired;
/// before it, that a newer sign-in with the same App Key replaced it (or it was revoked).
/// Other errors, and profiles without a recorded sign-in, pass through unchanged.
pub fn explain_refusal(profile: &Profile, err: AppError, now: u64) -> AppError {
    if err.kind != ErrorKind::InvalidGrant {
        return err;
    }
    let (Some(end), Some(life)) = (expires_at(profile), profile.broker.spec().sign_in_lifetime)
    else {
        return err;
    };
    let broker = profile.broker.display_name();
    let days = life.as_secs() / 86_400;
    let message = if now >= end {
        format!(
            "The sign-in expired: {broker} ends refresh tokens {days} days after the browser \
             sign-in, and this one's ended {} ago. Press Sign in again in Keygrant to renew it; \
             the connection keeps its name and settings.",
            remaining(now - end)
        )
    } else {
        format!(
            "{broker} no longer accepts this refresh token although its {days} days are not over \
             ({} left): a newer sign-in with the same App Key (in Keygrant, schwab-py, \
             Schwabdev or another tool) replaced it, or access was revoked. Press Sign in again \
             in Keygrant to renew it; the connection keeps its name and settings.",
            remaining(end - now)
        )
    };
    AppError { message, ..err }
}

/// A span as people say it, the same way everywhere (window, command line, doctor):
/// "6 days 23 hours", "2 days", "5 hours", "12 minutes" (rounded down to the hour past a day,
/// up to the minute below an hour).
pub fn remaining(secs: u64) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    let (days, hours) = (secs / 86_400, (secs % 86_400) / 3600);
    if days > 0 && hours > 0 {
        format!("{} {}", plural(days, "day"), plural(hours, "hour"))
    } else if days > 0 {
        plural(days, "day")
    } else if hours > 0 {
        plural(hours, "hour")
    } else {
        plural(secs.div_ceil(60).max(1), "minute")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::brokers::{BrokerKind, Environment};

    fn profile(broker: BrokerKind, signed_in_at: Option<u64>) -> Profile {
        Profile {
            id: "p".into(),
            broker,
            environment: Environment::Production,
            client_id: "k".into(),
            scopes: vec![],
            label: "Schwab".into(),
            redirect_uri: None,
            custom: None,
            signed_in_at,
        }
    }

    const DAY: u64 = 86_400;

    #[test]
    fn a_schwab_grant_ends_seven_days_after_the_sign_in_with_reminders() {
        let p = profile(BrokerKind::Schwab, Some(1_000_000));
        let end = 1_000_000 + 7 * DAY;
        assert_eq!(expires_at(&p), Some(end));
        assert_eq!(due(&p, 1_000_000), None);
        assert_eq!(due(&p, end - DAY - 1), None);
        assert_eq!(due(&p, end - DAY), Some(Reminder::DayBefore));
        assert_eq!(due(&p, end - 1), Some(Reminder::DayBefore));
        assert_eq!(due(&p, end), Some(Reminder::Expired));
        // Unknown sign-in, or a broker whose grants do not end so: nothing.
        assert_eq!(expires_at(&profile(BrokerKind::Schwab, None)), None);
        assert_eq!(
            due(&profile(BrokerKind::Tastytrade, Some(0)), u64::MAX),
            None
        );
    }

    #[test]
    fn a_refused_refresh_says_expired_or_superseded() {
        let p = profile(BrokerKind::Schwab, Some(1_000_000));
        let end = 1_000_000 + 7 * DAY;
        let refused = || AppError::new(ErrorKind::InvalidGrant, "refused");
        let expired = explain_refusal(&p, refused(), end + 2 * DAY);
        assert!(
            expired.message.contains("expired") && expired.message.contains("2 days ago"),
            "{}",
            expired.message
        );
        assert_eq!(expired.kind, ErrorKind::InvalidGrant);
        let superseded = explain_refusal(&p, refused(), end - 3 * 3600);
        assert!(
            superseded.message.contains("newer sign-in")
                && superseded.message.contains("3 hours left"),
            "{}",
            superseded.message
        );
        // Other errors and other brokers pass through.
        let other = explain_refusal(&p, AppError::new(ErrorKind::Network, "n"), end + 1);
        assert_eq!(other.message, "n");
        let tt = explain_refusal(
            &profile(BrokerKind::Tastytrade, Some(0)),
            refused(),
            u64::MAX,
        );
        assert_eq!(tt.message, "refused");
    }
}
