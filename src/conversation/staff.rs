//! The staff console's conversations: one for each session the staff member holds (the rules
//! let staff read only those), each collapsible with its own unread count.

use concierge_wire::AuthorRole;
use concierge_wire::model::SessionRow;
use leptos::prelude::*;

use super::presence::use_session_room;
use super::{ConversationPanel, Dock, Sender, track_unread, use_chat};
use crate::auth::Auth;

/// `held`: the sessions this staff member holds and that are still open.
#[component]
pub fn StaffConversations(auth: Auth, held: Memo<Vec<SessionRow>>) -> impl IntoView {
    view! {
        <section class="conversations" aria-labelledby="conversations-title"
            hidden=move || held.with(Vec::is_empty)>
            <h2 id="conversations-title" class="column__title">"Conversations"</h2>
            <div class="conversations__list" data-testid="staff-conversations">
                // Keyed by the session only: a status change must not throw away what is
                // being typed or sent.
                <For each=move || held.get() key=|s| s.id.clone() let:s>
                    <SessionChat auth=auth s=s/>
                </For>
            </div>
        </section>
    }
}

#[component]
fn SessionChat(auth: Auth, s: SessionRow) -> impl IntoView {
    let chat = use_chat(s.id.clone(), AuthorRole::Staff, Sender::Signed(auth));
    let room = use_session_room(&s.id, auth, AuthorRole::Staff, AuthorRole::Customer);
    let dock = Dock::new(true);
    track_unread(chat, dock);
    room.follow(chat);
    let guest = s
        .customer_name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| "A guest".into());
    let title = match s.topic.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => format!("{guest} · {t}"),
        None => guest,
    };
    view! {
        <div class="conversations__item" data-session-id=s.id.clone()>
            <ConversationPanel chat title dock placeholder="Reply to the guest…"
                presence=room.line on_typed=room.on_typed
                empty_text="No messages yet. Say hello: the guest sees your reply at once."/>
        </div>
    }
}
