//! Presence and typing in a session's conversation, over its private room `session:<id>`
//! (readable only by the session's customer and the staff member holding it; a kiosk has no
//! room: nobody else could be in it).
//!
//! Each side shows who of the other side is here ("Priya Sharma is here" for the customer,
//! "Meera Rao is here" for staff) and who is typing, in the panel's polite status line, and
//! tells the room when its user types.

use concierge_wire::AuthorRole;
use leptos::prelude::*;

use super::Chat;
use super::entries::Entry;
use crate::auth::Auth;
use crate::sync::{self, PresenceMeta};

/// What the panel needs: its status line and the composer's "the user typed".
#[derive(Clone, Copy)]
pub struct RoomLine {
    pub line: Signal<String>,
    pub on_typed: Callback<()>,
    /// A message arrived from the person with this key (their user id, the presence key).
    pub spoke: Callback<String>,
}

impl RoomLine {
    /// Ends an author's typing indicator when their message shows up in `chat` (it would
    /// otherwise linger for its 5 s under the message it announced).
    pub fn follow(self, chat: Chat) {
        // Returns the newest stored row's id, so each new row is handled once.
        Effect::new(move |prev: Option<Option<String>>| {
            let newest = chat.entries.with(|es| {
                es.iter().rev().find_map(|e| match e {
                    Entry::Row(m) => Some((m.id.clone(), m.author_id.clone())),
                    Entry::Local(_) => None,
                })
            });
            let (id, author) = newest.unzip();
            if id.is_some()
                && prev.is_some_and(|p| p != id)
                && let Some(author) = author.flatten()
            {
                self.spoke.run(author);
            }
            id
        });
    }
}

/// Joins `session:<session_id>` as the signed-in user of `auth` (`me` is their side), for as
/// long as the calling owner lives, watching the people of `watch`.
pub fn use_session_room(
    session_id: &str,
    auth: Auth,
    me: AuthorRole,
    watch: AuthorRole,
) -> RoomLine {
    let Some(user) = auth.session.get_untracked().map(|s| s.user) else {
        return RoomLine {
            line: Signal::derive(String::new),
            on_typed: Callback::new(|()| {}),
            spoke: Callback::new(|_| {}),
        };
    };
    let name = user
        .name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| match me {
            AuthorRole::Staff => "Hotel staff".into(),
            _ => "Guest".into(),
        });
    let room = sync::use_room(
        &format!("session:{session_id}"),
        user.id,
        Some(PresenceMeta { name, role: me }),
    );
    RoomLine {
        line: room.status_line(watch),
        on_typed: Callback::new(move |()| room.typed()),
        spoke: Callback::new(move |key| room.spoke(key)),
    }
}
