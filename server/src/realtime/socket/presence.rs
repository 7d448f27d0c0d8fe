//! Presence pushes: `{"type":"presence","event":"track","payload":meta}` and `untrack`. Each
//! gets an `ok` reply (realtime-js awaits it), or an error reply saying which limit refused it.

use serde_json::{Value, json};

use axum::extract::ws::Utf8Bytes;
use concierge_wire::phoenix::{Event, Message};

use super::conn::Conn;

use crate::rooms::{PresenceRefused, track_meta};

impl Conn {
    pub(super) fn presence(&mut self, msg: &Message) {
        if !self.within_rate(&msg.topic) {
            return;
        }
        let event = msg
            .payload
            .get("event")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase);
        match event.as_deref() {
            Some("track") => {
                if let Err(e) = self.track(msg) {
                    self.reply(msg, "error", json!({"reason": e.to_string()}));
                }
            }
            Some("untrack") => {
                if let Some(j) = self.channels.get_mut(&msg.topic) {
                    self.rooms
                        .untrack(&j.seat.key, j.seat.member, &j.seat.presence_key);
                    j.seat.tracked = false;
                }
                self.reply(msg, "ok", json!({}));
            }
            _ => {
                tracing::info!(topic = %msg.topic, "unknown presence event");
                self.reply(msg, "error", json!({"reason": "unknown presence event"}));
            }
        }
    }

    fn track(&mut self, msg: &Message) -> Result<(), PresenceRefused> {
        let tracked = self.channels.values().filter(|j| j.seat.tracked).count();
        let j = self
            .channels
            .get_mut(&msg.topic)
            .ok_or(PresenceRefused::NotJoined)?;
        let limit = self.rooms.limits.max_presence_per_socket;
        if !j.seat.tracked && tracked >= limit {
            return Err(PresenceRefused::SocketFull { limit });
        }
        let meta = match &msg.payload {
            Value::Object(push) => track_meta(push),
            _ => Value::Null,
        };
        let ok = Message::new(
            msg.topic.clone(),
            Event::Reply,
            json!({"status": "ok", "response": {}}),
        )
        .with_refs(msg.join_ref.clone(), msg.msg_ref.clone());
        let ok = Utf8Bytes::from(ok.encode_server(self.vsn));
        self.rooms
            .track(&j.seat.key, j.seat.member, &j.seat.presence_key, meta, ok)?;
        j.seat.tracked = true;
        Ok(())
    }
}
