//! What the concierge says: the guest's words read by the kiosk search's interest matcher,
//! answered with the matching upcoming events, or a helpful fallback. Either way a person
//! follows up: the concierge buys time, it does not close the conversation.

use concierge_wire::Category;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::db::Row;

/// The name the concierge signs with.
pub const NAME: &str = "Concierge";
/// Events one reply lists at most: a chat message, not a catalogue.
pub const MAX_EVENTS: usize = 3;

/// The reply's id, derived from the message it answers: inserting it twice (after a crash
/// between the reply and the queue's bookkeeping) is a duplicate key, not a second reply.
pub fn reply_id(message_id: &str) -> String {
    let digest = Sha256::digest(format!("concierge-reply:{message_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn text<'a>(row: &'a Row, col: &str) -> Option<&'a str> {
    row.get(col).and_then(Value::as_str)
}

fn list(phrases: &[&str]) -> String {
    match phrases {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The reply to a guest who asked about `asked` (categories the matcher read), given the
/// matching `events` and, when none matched, `offered` phrases with upcoming events.
pub fn compose(asked: &[Category], events: &[Row], offered: &[String]) -> String {
    const FOLLOW_UP: &str = "A member of staff will follow up shortly.";
    let asked_phrases: Vec<&str> = asked.iter().map(|c| c.phrase()).collect();
    let offered: Vec<&str> = offered.iter().map(String::as_str).collect();
    if !events.is_empty() {
        let items: Vec<String> = events
            .iter()
            .map(|e| {
                let title = text(e, "title").unwrap_or("An event");
                match text(e, "venue") {
                    Some(v) if !v.is_empty() => format!("{title} ({v})"),
                    _ => title.to_owned(),
                }
            })
            .collect();
        return format!(
            "Here is what I found for {}: {}. {FOLLOW_UP}",
            list(&asked_phrases),
            items.join("; ")
        );
    }
    let mut out = if asked.is_empty() {
        format!("Thank you for your message! {FOLLOW_UP}")
    } else {
        format!(
            "I could not find anything upcoming for {} right now. {FOLLOW_UP}",
            list(&asked_phrases)
        )
    };
    if !offered.is_empty() {
        out.push_str(&format!(" Meanwhile, ask me about {}.", list(&offered)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(title: &str, venue: Option<&str>) -> Row {
        serde_json::json!({"title": title, "venue": venue})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn events_are_listed_with_their_venues() {
        let r = compose(
            &[Category::Music],
            &[
                event("Jazz night", Some("Lobby bar")),
                event("DJ set", None),
            ],
            &[],
        );
        assert_eq!(
            r,
            "Here is what I found for live music: Jazz night (Lobby bar); DJ set. \
             A member of staff will follow up shortly."
        );
    }

    #[test]
    fn the_fallbacks_promise_a_person_and_offer_ideas() {
        let none = compose(&[], &[], &["live music".into(), "spa".into()]);
        assert!(none.starts_with("Thank you for your message!"), "{none}");
        assert!(none.ends_with("ask me about live music or spa."), "{none}");
        let empty = compose(&[Category::Comedy], &[], &[]);
        assert!(empty.contains("nothing upcoming") || empty.contains("could not find"));
        assert!(empty.contains("A member of staff will follow up"));
    }

    #[test]
    fn a_reply_id_is_a_stable_uuid_per_message() {
        let a = reply_id("m1");
        assert_eq!(a, reply_id("m1"));
        assert_ne!(a, reply_id("m2"));
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }
}
