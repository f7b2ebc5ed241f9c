//! The desktop reminders of grants that end a fixed time after the browser sign-in (Schwab's 7
//! days): a day before the end and at the end, each sent once per sign-in while the app runs.
//! What is due and its words are the core's (`keygrant_core::expiry`); this only remembers what
//! was already sent and hands the rest to the notification plugin.

use std::collections::HashSet;

use keygrant_core::expiry::{self, Reminder};
use keygrant_core::profiles::Profile;

/// One desktop notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The connection it is about.
    pub profile_id: String,
    /// Which reminder.
    pub reminder: Reminder,
    /// The notification's title and text.
    pub title: String,
    pub body: String,
}

/// The reminders already sent in this run, by connection, sign-in time and kind: a renewed
/// sign-in ("Sign in again") gets its own reminders a week later.
#[derive(Debug, Default)]
pub struct Reminders {
    sent: HashSet<(String, Option<u64>, Reminder)>,
}

impl Reminders {
    /// The reminders due at `now` (Unix seconds) for `profiles` that were not returned before.
    pub fn due(&mut self, profiles: &[Profile], now: u64) -> Vec<Due> {
        let mut out = Vec::new();
        for p in profiles {
            let Some(reminder) = expiry::due(p, now) else {
                continue;
            };
            if !self.sent.insert((p.id.clone(), p.signed_in_at, reminder)) {
                continue;
            }
            let (title, body) = expiry::reminder_text(p, reminder);
            out.push(Due {
                profile_id: p.id.clone(),
                reminder,
                title,
                body,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keygrant_core::brokers::{BrokerKind, Environment};

    const DAY: u64 = 86_400;

    fn profile(id: &str, broker: BrokerKind, signed_in_at: Option<u64>) -> Profile {
        Profile {
            id: id.into(),
            broker,
            environment: Environment::Production,
            client_id: "k".into(),
            scopes: vec![],
            label: format!("Conn {id}"),
            redirect_uri: None,
            custom: None,
            signed_in_at,
        }
    }

    #[test]
    fn each_reminder_is_sent_once_per_sign_in() {
        let start = 1_000_000;
        let end = start + 7 * DAY;
        let schwab = profile("s", BrokerKind::Schwab, Some(start));
        let others = [
            profile("t", BrokerKind::Tastytrade, Some(start)),
            profile("u", BrokerKind::Schwab, None),
        ];
        let all = |p: &Profile| {
            let mut v = vec![p.clone()];
            v.extend(others.iter().cloned());
            v
        };
        let mut r = Reminders::default();
        assert!(r.due(&all(&schwab), start + DAY).is_empty());
        let day_before = r.due(&all(&schwab), end - 3600);
        assert_eq!(day_before.len(), 1);
        assert_eq!(day_before[0].profile_id, "s");
        assert_eq!(day_before[0].reminder, Reminder::DayBefore);
        assert!(
            day_before[0].title.contains("Conn s"),
            "{:?}",
            day_before[0]
        );
        assert!(r.due(&all(&schwab), end - 60).is_empty(), "sent once");
        let expired = r.due(&all(&schwab), end + 5);
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].reminder, Reminder::Expired);
        assert!(r.due(&all(&schwab), end + DAY).is_empty(), "sent once");
        // Signed in again: the new sign-in's reminders come in their turn.
        let renewed = profile("s", BrokerKind::Schwab, Some(end + DAY));
        assert!(r.due(&all(&renewed), end + 2 * DAY).is_empty());
        let again = r.due(&all(&renewed), end + DAY + 7 * DAY - 10);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].reminder, Reminder::DayBefore);
    }
}
