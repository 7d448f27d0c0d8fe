//! Rooms in views: who else is here and who is typing, over the page's one socket.
//!
//! ```ignore
//! let me = PresenceMeta { name: "Anna".into(), role: AuthorRole::Staff };
//! let room = use_room(&format!("session:{id}"), user_id, Some(me));
//! view! {
//!     <Show when=move || room.present.with(|p| p.iter().any(|p| p.role == Some(AuthorRole::Staff)))>…</Show>
//!     <input on:input=move |_| room.typed() />
//! }
//! ```
//!
//! The room is private (`session:<id>` is readable only by the session's customer and the
//! staff member holding it), joined with the page's token, and left when the calling owner
//! is disposed. All the logic (presence merge, typing throttle and expiry, re-tracking after
//! a reconnect) is in `concierge_sync::room`; this is the signal plumbing.

use std::rc::Rc;

use concierge_sync::{ChannelStatus, Input, Presence, RoomId, RoomInput, RoomSpec, RoomView};
use concierge_wire::AuthorRole;
use concierge_wire::realtime::{RoomConfig, topic_for};
use concierge_wire::room::PresenceMeta;
use leptos::prelude::*;

use super::{SyncEngine, use_sync_engine};

/// A room's reactive view. `Copy`, like the signal inside it. Reads are tracked: call them
/// in a reactive closure to follow the room. One signal, read through methods, rather than a
/// memo per field: each signal type is more code in the app's wasm.
#[derive(Clone, Copy)]
pub struct LiveRoom {
    /// The engine's view, with our own presence taken out.
    view: RwSignal<RoomView>,
    id: Option<RoomId>,
    engine: StoredValue<Option<SyncEngine>>,
}

impl LiveRoom {
    pub fn status(&self) -> ChannelStatus {
        self.view.with(|v| v.status.clone())
    }

    /// The others present (one entry per person, however many tabs), in key order.
    pub fn present(&self) -> Vec<Presence> {
        self.view.with(|v| v.present.clone())
    }

    /// The names of the others typing now.
    pub fn typing(&self) -> Vec<String> {
        self.view.with(|v| v.typing.clone())
    }

    /// The user typed in this room's conversation (the engine decides whether to tell).
    pub fn typed(&self) {
        self.send(|room| RoomInput::Typed { room });
    }

    /// A message by the person with presence key `key` arrived: they stopped typing.
    pub fn spoke(&self, key: String) {
        self.send(move |room| RoomInput::Spoke { room, key });
    }

    /// Show `me` to the room from now on; `None` hides us.
    pub fn track(&self, me: Option<PresenceMeta>) {
        self.send(move |room| RoomInput::Track { room, me });
    }

    /// One line for a polite status region: who of `watch` is here and who is typing
    /// ("Anna is here", "Anna is typing…"; empty when nobody is).
    pub fn status_line(&self, watch: AuthorRole) -> Signal<String> {
        let view = self.view;
        Signal::derive(move || view.with(|v| status_text(&v.present, &v.typing, watch)))
    }

    fn send(&self, input: impl FnOnce(RoomId) -> RoomInput) {
        let Some(room) = self.id else { return };
        self.engine.with_value(|e| {
            if let Some(e) = e {
                e.shell.dispatch(Input::Room(input(room)));
            }
        });
    }
}

/// Joins the private room `name` (e.g. `session:<id>`) as `key` (the user's id: a person's
/// tabs share it) for as long as the current owner lives, showing `me` to the others.
pub fn use_room(name: &str, key: String, me: Option<PresenceMeta>) -> LiveRoom {
    use_room_with(RoomSpec {
        topic: topic_for(name),
        config: RoomConfig {
            broadcast_self: false,
            ack: false,
            presence_key: key,
            private: true,
        },
        me,
    })
}

/// [`use_room`] with the join settings explicit (tests use public rooms).
pub fn use_room_with(spec: RoomSpec) -> LiveRoom {
    let view = RwSignal::new(RoomView {
        status: ChannelStatus::Idle,
        present: Vec::new(),
        typing: Vec::new(),
    });
    let Some(engine) = use_sync_engine() else {
        leptos::logging::error!("use_room({}): no sync engine in context", spec.topic);
        return LiveRoom {
            view,
            id: None,
            engine: StoredValue::new(None),
        };
    };
    let ours = spec.config.presence_key.clone();
    let sink = move |mut v: RoomView| {
        v.present.retain(|p| p.key != ours);
        if view.try_with_untracked(|cur| *cur != v).unwrap_or(false) {
            view.try_set(v);
        }
    };
    let id = engine.shell.join_room(spec, Rc::new(sink));
    let shell = engine.shell.clone();
    on_cleanup(move || shell.leave_room(id));
    LiveRoom {
        view,
        id: Some(id),
        engine: StoredValue::new(Some(engine)),
    }
}

/// "Anna", "Anna and Bob", "Anna, Bob and Carla".
fn join_names(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Those of `watch` present and not typing are "here"; those typing are "typing…" (typing
/// says they are here too). Nameless people are not named.
pub fn status_text(present: &[Presence], typing: &[String], watch: AuthorRole) -> String {
    let typing: Vec<&str> = typing
        .iter()
        .map(String::as_str)
        .filter(|n| !n.trim().is_empty())
        .collect();
    let here: Vec<&str> = present
        .iter()
        .filter(|p| p.role == Some(watch) && !typing.contains(&p.name.as_str()))
        .map(|p| p.name.as_str())
        .filter(|n| !n.trim().is_empty())
        .collect();
    let mut parts = Vec::new();
    if !here.is_empty() {
        let verb = if here.len() == 1 { "is" } else { "are" };
        parts.push(format!("{} {verb} here", join_names(&here)));
    }
    if !typing.is_empty() {
        let verb = if typing.len() == 1 { "is" } else { "are" };
        parts.push(format!("{} {verb} typing…", join_names(&typing)));
    }
    parts.join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, role: AuthorRole) -> Presence {
        Presence {
            key: name.to_lowercase(),
            name: name.into(),
            role: Some(role),
        }
    }

    #[test]
    fn the_line_names_who_is_here_and_who_types() {
        let staff = AuthorRole::Staff;
        assert_eq!(status_text(&[], &[], staff), "");
        let anna = p("Anna", staff);
        let guest = p("Meera", AuthorRole::Customer);
        assert_eq!(
            status_text(&[anna.clone(), guest.clone()], &[], staff),
            "Anna is here"
        );
        assert_eq!(
            status_text(std::slice::from_ref(&anna), &["Anna".into()], staff),
            "Anna is typing…"
        );
        let bob = p("Bob", staff);
        assert_eq!(
            status_text(&[anna.clone(), bob.clone()], &["Bob".into()], staff),
            "Anna is here · Bob is typing…"
        );
        let cara = p("Cara", staff);
        assert_eq!(
            status_text(&[anna, bob, cara], &[], staff),
            "Anna, Bob and Cara are here"
        );
        assert_eq!(
            status_text(&[guest], &[], AuthorRole::Customer),
            "Meera is here"
        );
    }
}
