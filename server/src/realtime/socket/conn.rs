//! A socket's state and its incoming frames: decoding, routing by topic and event, replies.
//! Joining and re-authorizing channels is in [`super::channels`].

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use concierge_wire::Vsn;
use concierge_wire::phoenix::{Event, Message, PHOENIX_TOPIC};
use concierge_wire::realtime::PostgresChangeSpec;
use serde_json::{Value, json};

use crate::authz::Principal;
use crate::db::Db;
use crate::hub::{Hub, Outbox};
use crate::jwt::Keys;
use crate::rooms::rate::Rate;
use crate::rooms::{MemberId, RoomKey, Rooms};

/// A channel this socket has joined.
pub(super) struct Joined {
    pub(super) id: u64,
    pub(super) join_ref: Option<String>,
    pub(super) principal: Principal,
    /// The join's params, re-validated when `access_token` changes the principal.
    pub(super) specs: Vec<PostgresChangeSpec>,
    pub(super) token: Option<String>,
    /// Its place in the topic's Broadcast / Presence room.
    pub(super) seat: Seat,
}

/// A joined channel's membership of its room.
pub(super) struct Seat {
    pub(super) key: RoomKey,
    pub(super) member: MemberId,
    pub(super) presence_key: String,
    /// `config.broadcast.ack`.
    pub(super) ack: bool,
    /// Whether this channel currently has a Presence entry.
    pub(super) tracked: bool,
}

pub(super) struct Conn {
    pub(super) hub: Arc<Hub>,
    pub(super) keys: Arc<Keys>,
    pub(super) vsn: Vsn,
    /// From the connect-time API key; a join's `access_token` overrides it per channel.
    pub(super) principal: Principal,
    pub(super) outbox: Arc<Outbox>,
    pub(super) channels: HashMap<String, Joined>,
    pub(super) rooms: Arc<Rooms>,
    /// For private channels' authorization (who a session belongs to).
    pub(super) db: Db,
    /// Broadcast and Presence messages this socket may still send this second.
    pub(super) rate: Rate,
}

impl Conn {
    pub(super) fn send(&self, m: Message) {
        self.outbox.push(Utf8Bytes::from(m.encode_server(self.vsn)));
    }

    pub(super) fn reply(&self, req: &Message, status: &str, response: Value) {
        self.send(
            Message::new(
                req.topic.clone(),
                Event::Reply,
                json!({"status": status, "response": response}),
            )
            .with_refs(req.join_ref.clone(), req.msg_ref.clone()),
        );
    }

    pub(super) fn system_frame(
        &self,
        topic: &str,
        join_ref: &Option<String>,
        extension: &str,
        status: &str,
        message: &str,
    ) -> Message {
        let channel = topic.strip_prefix("realtime:").unwrap_or(topic);
        Message::new(
            topic.to_owned(),
            Event::System,
            json!({"extension": extension, "status": status, "message": message, "channel": channel}),
        )
        .with_refs(join_ref.clone(), None)
    }

    pub(super) fn close_channel(&mut self, topic: &str) {
        if let Some(j) = self.channels.remove(topic) {
            self.hub.leave(j.id);
            self.rooms
                .exit(&j.seat.key, j.seat.member, &j.seat.presence_key);
            self.send(
                Message::new(topic.to_owned(), Event::Close, json!({}))
                    .with_refs(j.join_ref.clone(), j.join_ref),
            );
        }
    }

    pub(super) async fn handle_text(&mut self, text: &str) {
        let msg = match Message::decode(text, self.vsn) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "dropping malformed realtime frame");
                return;
            }
        };
        if msg.topic == PHOENIX_TOPIC {
            match msg.event {
                Event::Heartbeat => self.reply(&msg, "ok", json!({})),
                _ => tracing::debug!(event = %msg.event, "ignoring phoenix-topic event"),
            }
            return;
        }
        match msg.event {
            Event::Join => self.join(msg).await,
            Event::Leave | Event::AccessToken if !self.channels.contains_key(&msg.topic) => {
                self.unmatched(&msg)
            }
            Event::Leave => {
                if self.stale(&msg) {
                    return;
                }
                self.reply(&msg, "ok", json!({}));
                self.close_channel(&msg.topic.clone());
            }
            Event::AccessToken => {
                if !self.stale(&msg) {
                    self.access_token(&msg);
                }
            }
            _ => self.channel_event(&msg),
        }
    }

    /// A push on a joined channel other than the lifecycle ones: Broadcast and Presence
    /// (from a text frame or, for `broadcast`, a vsn 2.0.0 binary frame).
    pub(super) fn channel_event(&mut self, msg: &Message) {
        if !self.channels.contains_key(&msg.topic) {
            return self.unmatched(msg);
        }
        if self.stale(msg) {
            return;
        }
        match msg.event.as_str() {
            crate::rooms::frames::BROADCAST => self.broadcast(msg),
            crate::rooms::frames::PRESENCE => self.presence(msg),
            // Supabase logs and ignores other events.
            _ => {
                tracing::debug!(event = %msg.event, topic = %msg.topic, "ignoring unsupported channel event")
            }
        }
    }

    pub(super) fn unmatched(&self, msg: &Message) {
        self.reply(msg, "error", json!({"reason": "unmatched topic"}));
    }

    /// A push carrying an old join_ref belongs to a channel instance that no longer exists.
    pub(super) fn stale(&self, msg: &Message) -> bool {
        match (self.channels.get(&msg.topic), &msg.join_ref) {
            (Some(j), Some(r)) if j.join_ref.as_ref() != Some(r) => {
                tracing::debug!(topic = %msg.topic, "ignoring push with a stale join_ref");
                true
            }
            _ => false,
        }
    }
}
