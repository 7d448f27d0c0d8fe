//! The engine's rooms: Broadcast + Presence channels on the page's one socket, beside the
//! live queries' channels. They join when the socket opens, error when it drops, rejoin (and
//! re-track) after it reopens, and follow token changes, exactly like the queries' channels;
//! what views see of them is emitted as [`Action::Room`] when it changes.

use concierge_wire::phoenix::Message;

use super::{Engine, perform};
use crate::Millis;
use crate::io::{Action, RoomInput};
use crate::room::Room;
use crate::typing::Typing;

impl Engine {
    pub(super) fn on_room_input(&mut self, now: Millis, input: RoomInput, out: &mut Vec<Action>) {
        let refs_owner = &mut self.socket;
        let msg = match input {
            RoomInput::Join { room, spec } => {
                if self.rooms.contains_key(&room) {
                    return;
                }
                let mut r = Room::new(spec, self.cfg.channel(), Typing::default());
                let mut join = None;
                if self.cfg.realtime_enabled {
                    perform(out, refs_owner.ensure_connected());
                    if refs_owner.is_open() {
                        let token = self.backend.access_token();
                        join = r.join(now, &token, refs_owner.refs());
                    }
                }
                self.rooms.insert(room, r);
                join
            }
            RoomInput::Leave { room } => {
                self.emitted_rooms.remove(&room);
                self.rooms
                    .remove(&room)
                    .and_then(|mut r| r.leave(refs_owner.refs()))
            }
            RoomInput::Track { room, me } => self
                .rooms
                .get_mut(&room)
                .and_then(|r| r.set_me(me, refs_owner.refs())),
            RoomInput::Typed { room } => self
                .rooms
                .get_mut(&room)
                .and_then(|r| r.typed(now, refs_owner.refs())),
            RoomInput::Spoke { room, key } => {
                if let Some(r) = self.rooms.get_mut(&room) {
                    r.spoke(&key);
                }
                None
            }
        };
        if let Some(m) = msg {
            perform(out, self.socket.push(&m));
        }
    }

    pub(super) fn rooms_on_socket_open(&mut self, now: Millis, out: &mut Vec<Action>) {
        let token = self.backend.access_token();
        for r in self.rooms.values_mut() {
            if let Some(m) = r.on_socket_open(now, &token, self.socket.refs()) {
                perform(out, self.socket.push(&m));
            }
        }
    }

    pub(super) fn rooms_down(&mut self, why: &str) {
        for r in self.rooms.values_mut() {
            r.on_socket_down(why);
        }
    }

    pub(super) fn rooms_tick(&mut self, now: Millis, out: &mut Vec<Action>) {
        let token = self.backend.access_token();
        let open = self.socket.is_open();
        for r in self.rooms.values_mut() {
            for m in r.on_tick(now, open, &token, self.socket.refs()) {
                perform(out, self.socket.push(&m));
            }
        }
    }

    pub(super) fn rooms_send_token(&mut self, token: &str, out: &mut Vec<Action>) {
        for r in self.rooms.values() {
            if let Some(m) = r.send_token(token, self.socket.refs()) {
                perform(out, self.socket.push(&m));
            }
        }
    }

    /// Hands a frame to the room on its topic; gives it back if no room has that topic.
    pub(super) fn room_frame(
        &mut self,
        now: Millis,
        msg: Message,
        out: &mut Vec<Action>,
    ) -> Option<Message> {
        let Some(r) = self
            .rooms
            .values_mut()
            .find(|r| r.channel().topic() == msg.topic)
        else {
            return Some(msg);
        };
        for m in r.on_message(now, msg, self.socket.refs()) {
            perform(out, self.socket.push(&m));
        }
        None
    }

    pub(super) fn rooms_deadline(&self) -> Option<Millis> {
        self.rooms.values().filter_map(Room::deadline).min()
    }

    /// Emits the view of every room whose view changed.
    pub(super) fn emit_rooms(&mut self, out: &mut Vec<Action>) {
        for (&room, r) in &self.rooms {
            let view = r.view();
            if self.emitted_rooms.get(&room) != Some(&view) {
                self.emitted_rooms.insert(room, view.clone());
                out.push(Action::Room { room, view });
            }
        }
    }
}
