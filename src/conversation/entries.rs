//! What the message list shows, as pure functions: the stored rows, then this page's messages
//! still on their way (deduplicated by id), and how many of the others' messages are unread.

use concierge_wire::AuthorRole;
use concierge_wire::message::MessageRow;

use super::outbox::{Outbox, Outgoing};

/// One line of the log.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// Stored, as the live list has it.
    Row(MessageRow),
    /// Sent from this page and not in the live list yet.
    Local(Outgoing),
}

impl Entry {
    pub fn id(&self) -> &str {
        match self {
            Entry::Row(r) => &r.id,
            Entry::Local(o) => &o.id,
        }
    }

    /// The list's key: the id, and where the message is, so an optimistic line is rebuilt as
    /// the stored one when its row arrives (and when its delivery changes).
    pub fn key(&self) -> (String, &'static str) {
        let state = match self {
            Entry::Row(_) => "stored",
            Entry::Local(o) => o.delivery.key(),
        };
        (self.id().to_owned(), state)
    }
}

/// `rows` (oldest first), then the outbox's messages whose rows have not arrived, in the order
/// they were written: each id once.
pub fn merge(rows: &[MessageRow], outbox: &Outbox) -> Vec<Entry> {
    let mut out: Vec<Entry> = rows.iter().cloned().map(Entry::Row).collect();
    out.extend(
        outbox
            .items()
            .iter()
            .filter(|o| !rows.iter().any(|r| r.id == o.id))
            .cloned()
            .map(Entry::Local),
    );
    out
}

/// The others' messages newer than `seen_until` (a `created_at`; the server writes them in one
/// format, so they compare as text). `me`'s own words are never unread.
pub fn count_unread(rows: &[MessageRow], me: AuthorRole, seen_until: &str) -> usize {
    rows.iter()
        .filter(|m| m.author_role != me && m.created_at.as_str() > seen_until)
        .count()
}

/// The newest `created_at` among `rows` (oldest first), or `""`.
pub fn newest(rows: &[MessageRow]) -> &str {
    rows.last().map_or("", |m| m.created_at.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::outbox::{Attempt, Delivery};

    fn row(id: &str, role: AuthorRole, at: &str) -> MessageRow {
        MessageRow {
            id: id.into(),
            session_id: "s".into(),
            author_role: role,
            author_id: None,
            author_name: None,
            body: format!("body {id}"),
            created_at: at.into(),
        }
    }

    #[test]
    fn optimistic_lines_follow_the_rows_and_give_way_to_them() {
        let mut o = Outbox::default();
        o.push("b".into(), "body b".into());
        o.push("c".into(), "body c".into());
        o.settle("c", Attempt::Unreachable);
        let rows = [row("a", AuthorRole::Staff, "2026-12-05T08:00:00.000Z")];
        let keys: Vec<_> = merge(&rows, &o).iter().map(Entry::key).collect();
        assert_eq!(
            keys,
            [
                ("a".into(), "stored"),
                ("b".into(), "sending"),
                ("c".into(), "waiting")
            ]
        );
        // b's row arrives before the outbox has heard: it shows once, as stored.
        let rows = [
            row("a", AuthorRole::Staff, "2026-12-05T08:00:00.000Z"),
            row("b", AuthorRole::Customer, "2026-12-05T08:00:01.000Z"),
        ];
        let merged = merge(&rows, &o);
        let keys: Vec<_> = merged.iter().map(Entry::key).collect();
        assert_eq!(
            keys,
            [
                ("a".into(), "stored"),
                ("b".into(), "stored"),
                ("c".into(), "waiting")
            ]
        );
        assert!(matches!(&merged[2], Entry::Local(l) if l.delivery == Delivery::Waiting));
    }

    #[test]
    fn unread_counts_the_others_newer_messages() {
        let rows = [
            row("a", AuthorRole::Customer, "2026-12-05T08:00:00.000Z"),
            row("b", AuthorRole::Concierge, "2026-12-05T08:00:04.000Z"),
            row("c", AuthorRole::Staff, "2026-12-05T08:00:09.000Z"),
            row("d", AuthorRole::Customer, "2026-12-05T08:00:10.000Z"),
        ];
        assert_eq!(count_unread(&rows, AuthorRole::Customer, ""), 2);
        assert_eq!(
            count_unread(&rows, AuthorRole::Customer, "2026-12-05T08:00:04.000Z"),
            1
        );
        assert_eq!(count_unread(&rows, AuthorRole::Staff, ""), 3);
        assert_eq!(count_unread(&rows, AuthorRole::Customer, newest(&rows)), 0);
        assert_eq!(newest(&[]), "");
    }
}
