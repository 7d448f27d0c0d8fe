//! The conversation inside a session (issue 16): the messages of one session (or of one kiosk
//! guest), live, with optimistic sends.
//!
//! - The list is a live query on `messages` for the session id ([`use_chat`]): realtime with
//!   the fallback poller behind it and a snapshot on every resubscribe, like every other list.
//!   The server's rules decide who reads it (the customer while the session is open, the staff
//!   member who holds it, the kiosk user that claimed the kiosk session).
//! - Sends go through the [`outbox`] (a pure state machine): each message gets its id here, is
//!   shown at once, and keeps that id through every retry, so the server stores it once; a
//!   message written offline goes out when the connection is back. The stored row replaces the
//!   optimistic line (same id).
//! - Views: [`panel::ConversationPanel`] (the log and the composer), placed by the customer's
//!   page ([`Dock`] shares its open state and unread count with the banner), the staff
//!   console ([`staff::StaffConversations`]) and the kiosk ([`kiosk::KioskAsk`]).
//!
//! Presence ("Anna is here") and typing come over the session's private Broadcast + Presence
//! room ([`presence`]), shown in the panel's `presence` line.

pub mod api;
pub mod entries;
pub mod kiosk;
pub mod outbox;
pub mod panel;
pub mod presence;
pub mod staff;

use concierge_wire::message::MessageRow;
use concierge_wire::{AuthorRole, Filter};
use leptos::prelude::*;

use self::entries::Entry;
use self::outbox::{Outbox, Payload};
use crate::http::Backend;
use crate::sync::{self, ChangeEvent, ConnectionState, LiveQuerySpec};

pub use api::Sender;
pub use panel::ConversationPanel;

/// How many of the newest messages the list holds.
const LIST_LIMIT: u32 = 200;

/// The messages of `session_id`, newest first (shown oldest first). Messages are never
/// updated or deleted, so inserts are all there is to follow.
pub fn messages_spec(session_id: &str) -> LiveQuerySpec {
    LiveQuerySpec::new("messages")
        .filter(Filter::eq("session_id", session_id))
        .order_by("created_at", true)
        .limit(LIST_LIMIT)
        .version_column("created_at")
        .events(ChangeEvent::Insert)
}

/// One conversation as the views use it. `Copy`: closures capture it freely.
#[derive(Clone, Copy)]
pub struct Chat {
    /// Stored rows and messages on their way, oldest first.
    pub entries: Memo<Vec<Entry>>,
    /// The stored rows only, oldest first.
    pub rows: Memo<Vec<MessageRow>>,
    /// Whether the first load is done (an empty list then means "no messages yet").
    pub loaded: Signal<bool>,
    /// Whose side of the conversation this page is on.
    pub me: AuthorRole,
    outbox: RwSignal<Outbox>,
    send: Action<Payload, ()>,
}

impl Chat {
    /// Sends `text` (trimmed; nothing happens when empty or too long). Returns whether it
    /// was taken.
    pub fn send(&self, text: &str) -> bool {
        let Some(body) = outbox::clean_body(text) else {
            return false;
        };
        let id = uuid::Uuid::new_v4().to_string();
        if let Some(payload) = self.outbox.try_update(|o| o.push(id, body)) {
            self.send.dispatch_local(payload);
        }
        true
    }

    /// Sends a waiting or refused message again, with its own id.
    pub fn retry(&self, id: &str) {
        if let Some(payload) = self.outbox.try_update(|o| o.retry(id)).flatten() {
            self.send.dispatch_local(payload);
        }
    }
}

/// The conversation of `session_id`, for as long as the calling owner lives (disposing it
/// leaves the channel; messages still on their way are forgotten with it, as the kiosk's idle
/// reset wants).
pub fn use_chat(session_id: String, me: AuthorRole, sender: Sender) -> Chat {
    let backend = StoredValue::new(expect_context::<Backend>());
    let query = sync::use_live_query::<MessageRow>(messages_spec(&session_id));
    let rows = Memo::new(move |_| {
        let mut rows = query.rows.get();
        rows.reverse();
        rows
    });
    let outbox = RwSignal::new(Outbox::default());
    let connection = sync::connection::use_connection();
    let session_id = StoredValue::new(session_id);

    let send = Action::new_local(move |(id, body): &Payload| {
        let (id, body) = (id.clone(), body.clone());
        let backend = backend.get_value();
        let session_id = session_id.get_value();
        async move {
            let attempt = api::post_message(&backend, sender, &session_id, &id, &body).await;
            let stored = matches!(
                attempt,
                outbox::Attempt::Stored | outbox::Attempt::AlreadyStored
            );
            outbox.try_update(|o| o.settle(&id, attempt));
            // Realtime brings the row within the second; without it, fetch it now rather than
            // leave "Sent" showing until the next poll.
            if stored
                && connection
                    .try_get_untracked()
                    .is_some_and(|c| c != ConnectionState::Live)
            {
                query.refresh();
            }
        }
    });

    // The connection came back (or changed for the better): what waited goes out, once.
    Effect::new(move |prev: Option<ConnectionState>| {
        let now = connection.get();
        if prev.is_some_and(|p| p != now) && now != ConnectionState::Offline {
            for payload in outbox.try_update(Outbox::reconnected).unwrap_or_default() {
                send.dispatch_local(payload);
            }
        }
        now
    });

    // A stored row ends its optimistic line (whatever state it was in).
    Effect::new(move |_| {
        rows.with(|rows| {
            let hit = outbox
                .with_untracked(|o| o.items().iter().any(|i| rows.iter().any(|r| r.id == i.id)));
            if hit {
                outbox.update(|o| {
                    o.arrived(rows.iter().map(|r| r.id.as_str()));
                });
            }
        });
    });

    let entries = Memo::new(move |_| rows.with(|r| outbox.with(|o| entries::merge(r, o))));
    Chat {
        entries,
        rows,
        loaded: query.loaded(),
        me,
        outbox,
        send,
    }
}

/// Whether the customer's conversation is open, and how many messages came while it was not:
/// owned by the page, read by the banner (its unread badge) and the panel.
#[derive(Clone, Copy)]
pub struct Dock {
    pub open: RwSignal<bool>,
    pub unread: RwSignal<usize>,
}

impl Dock {
    pub fn new(open: bool) -> Dock {
        Dock {
            open: RwSignal::new(open),
            unread: RwSignal::new(0),
        }
    }
}

/// Keeps `dock.unread` current for `chat` while the calling owner lives (zero when it goes).
pub fn track_unread(chat: Chat, dock: Dock) {
    let seen_until = RwSignal::new(String::new());
    Effect::new(move |_| {
        if dock.open.get() {
            let newest = chat.rows.with(|r| entries::newest(r).to_owned());
            if seen_until.with_untracked(|s| *s != newest) {
                seen_until.set(newest);
            }
        }
    });
    Effect::new(move |_| {
        let n = if dock.open.get() {
            0
        } else {
            chat.rows
                .with(|r| seen_until.with(|s| entries::count_unread(r, chat.me, s)))
        };
        if dock.unread.get_untracked() != n {
            dock.unread.set(n);
        }
    });
    on_cleanup(move || {
        dock.unread.try_set(0);
    });
}
