//! `public.messages`: the conversation inside a session. Who reaches a message depends on its
//! session, so the rules read another table: in SQL an `exists (select … from sessions)` in
//! the policies (`supabase/migrations/0005_messages.sql`), here a [`RowScope::Through`]
//! subquery for reads and a [`Conversation`] the writer looks up for inserts and realtime.
//!
//! - A **customer** reads and writes the messages of their own sessions while the session is
//!   open (pending, waiting or live).
//! - **Staff** read the messages of the sessions they hold (`staff_id` = them) and write while
//!   the session is open: a closed session is read-only.
//! - A **kiosk** (an anonymous sign-in) reads and writes the conversation of a kiosk session it
//!   claimed in `kiosk_sessions`; its guest writes as a `customer`.
//! - Nobody updates or deletes a message (no grant): nobody edits another author's words.
//! - The server owns `created_at` and the author columns (`author_role`, `author_id`,
//!   `author_name`), stamped from the token whatever the body says.

use concierge_wire::filter::Filter;
use concierge_wire::{AppRole, AuthorRole, SessionStatus};
use serde_json::Value;

use super::{Action, Caller, Denied, RowScope, TableRules};
use crate::schema::{Row, Table};

pub(super) struct Messages;

/// What the rules need to know about the session a message belongs to, looked up by the
/// writer on its connection (and carried with each realtime change, never sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conversation {
    /// A `sessions` row.
    Session {
        customer_id: String,
        staff_id: Option<String>,
        status: Option<SessionStatus>,
    },
    /// A kiosk's `kiosk_sessions` claim.
    Kiosk { owner_id: String },
}

fn policy(why: &'static str) -> Denied {
    Denied::RowPolicy {
        table: Table::Messages.name(),
        why,
    }
}

/// The session statuses in which a conversation takes new messages.
fn open_statuses() -> Vec<&'static str> {
    SessionStatus::ALL
        .into_iter()
        .filter(|s| s.is_active())
        .map(SessionStatus::as_str)
        .collect()
}

impl Conversation {
    fn is_open(&self) -> bool {
        match self {
            Conversation::Session { status, .. } => status.is_some_and(SessionStatus::is_active),
            Conversation::Kiosk { .. } => true,
        }
    }

    /// Whether `who` reads this conversation (the select policies).
    fn readable_by(&self, who: Caller<'_>) -> bool {
        match (who, self) {
            (Caller::User(u), Conversation::Session { customer_id, .. })
                if u.role == AppRole::Customer =>
            {
                *customer_id == u.id && self.is_open()
            }
            (Caller::User(u), Conversation::Session { staff_id, .. })
                if u.role == AppRole::Staff =>
            {
                staff_id.as_deref() == Some(u.id.as_str())
            }
            (Caller::Kiosk(k), Conversation::Kiosk { owner_id }) => *owner_id == k.id,
            _ => false,
        }
    }
}

impl TableRules for Messages {
    /// `grant select, insert on public.messages to authenticated`: no updates, no deletes,
    /// nothing for the bare anon key.
    fn grant(&self, who: Caller<'_>, action: Action, _filters: &[Filter]) -> Result<(), Denied> {
        match (action, who) {
            (Action::Select | Action::Insert, Caller::User(_) | Caller::Kiosk(_)) => Ok(()),
            _ => Err(Denied::no_grant(Table::Messages, action)),
        }
    }

    /// `messages_customer_read`, `messages_staff_read`, `messages_kiosk_read`: the message's
    /// session is one the caller reaches.
    fn scope(&self, who: Caller<'_>) -> RowScope {
        let through = |table: Table, filters: Vec<Filter>| RowScope::Through {
            column: "session_id",
            table,
            filters,
        };
        match who {
            Caller::User(u) if u.role == AppRole::Customer => through(
                Table::Sessions,
                vec![
                    Filter::eq("customer_id", &u.id),
                    Filter::is_in("status", open_statuses()),
                ],
            ),
            Caller::User(u) => through(Table::Sessions, vec![Filter::eq("staff_id", &u.id)]),
            Caller::Kiosk(k) => through(Table::KioskSessions, vec![Filter::eq("owner_id", &k.id)]),
            Caller::Anon => RowScope::AnyOf(vec![]),
        }
    }

    /// Without its conversation a message is nobody's: realtime always passes one.
    fn visible(&self, _who: Caller<'_>, _row: &Row) -> bool {
        false
    }

    fn visible_in(&self, who: Caller<'_>, _row: &Row, conversation: Option<&Conversation>) -> bool {
        conversation.is_some_and(|c| c.readable_by(who))
    }

    /// `messages_guard`: the author is the token's and the time the server's, whatever the
    /// body says. A kiosk's guest writes as a customer; the name is the token's (none for a
    /// kiosk).
    fn on_insert(&self, who: Caller<'_>, row: &mut Row) -> Result<(), Denied> {
        let (role, id, name) = match who {
            Caller::User(u) => (
                match u.role {
                    AppRole::Customer => AuthorRole::Customer,
                    AppRole::Staff => AuthorRole::Staff,
                },
                u.id.clone(),
                u.name.clone(),
            ),
            Caller::Kiosk(k) => (AuthorRole::Customer, k.id.clone(), None),
            Caller::Anon => {
                return Err(Denied::no_grant(Table::Messages, Action::Insert));
            }
        };
        row.insert("author_role".into(), Value::String(role.as_str().into()));
        row.insert("author_id".into(), Value::String(id));
        row.insert(
            "author_name".into(),
            name.map_or(Value::Null, Value::String),
        );
        row.remove("created_at");
        Ok(())
    }

    /// The insert policies' `exists (…)`: the caller writes into a conversation they reach,
    /// and only while it is open.
    fn on_insert_in(
        &self,
        who: Caller<'_>,
        _row: &Row,
        conversation: Option<&Conversation>,
    ) -> Result<(), Denied> {
        let Some(c) = conversation else {
            return Err(policy("no such session of yours"));
        };
        if !c.readable_by(who) {
            return Err(policy("not a conversation of yours"));
        }
        if !c.is_open() {
            return Err(policy(
                "the session has ended: its conversation is read-only",
            ));
        }
        Ok(())
    }

    /// No update policy on `public.messages`.
    fn on_update(&self, _who: Caller<'_>, _old: &Row, _new: &Row) -> Result<(), Denied> {
        Err(Denied::no_grant(Table::Messages, Action::Update))
    }
}

#[cfg(test)]
mod tests;
