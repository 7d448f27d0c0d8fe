//! Broadcast pushes: `["1","5","realtime:room","broadcast",{"type":"broadcast","event":e,
//! "payload":p}]` as JSON, or realtime-js 2.x's binary user-broadcast push on vsn 2.0.0.
//! The room delivers the push's payload to the other members (and to the sender with
//! `config.broadcast.self`); with `config.broadcast.ack` the sender gets an `ok` reply.

use std::time::Instant;

use concierge_wire::Vsn;
use concierge_wire::phoenix::{Event, Message};
use concierge_wire::user_broadcast::{PayloadEncoding, UserBroadcastPush};
use serde_json::{Value, json};

use super::conn::Conn;
use crate::rooms::frames::BROADCAST;

impl Conn {
    /// Spends one message of the socket's per-second budget; past it the channel is closed
    /// the way Supabase closes it ("Too many messages per second").
    pub(super) fn within_rate(&mut self, topic: &str) -> bool {
        if self.rate.allow(Instant::now()) {
            return true;
        }
        tracing::warn!(
            topic,
            "realtime socket over its message rate; closing the channel"
        );
        let join_ref = self.channels.get(topic).and_then(|j| j.join_ref.clone());
        let m = self.system_frame(
            topic,
            &join_ref,
            "system",
            "error",
            "Too many messages per second",
        );
        self.send(m);
        self.close_channel(topic);
        false
    }

    pub(super) fn broadcast(&mut self, msg: &Message) {
        if !self.within_rate(&msg.topic) {
            return;
        }
        let Some(seat) = self.channels.get(&msg.topic).map(|j| &j.seat) else {
            return;
        };
        let bytes = msg
            .payload
            .get("payload")
            .map_or(0, |p| p.to_string().len());
        let limit = self.rooms.limits.max_broadcast_bytes;
        if bytes > limit {
            // Refused whether or not the client asked for an ack, so it can see why.
            return self.reply(
                msg,
                "error",
                json!({"reason": format!("PayloadTooLarge: the broadcast payload is {bytes} bytes; the limit is {limit}")}),
            );
        }
        // The ack first, as on Supabase (its reply is synchronous, delivery is not): with
        // `self` the sender sees the reply before its own message.
        if seat.ack {
            self.reply(msg, "ok", json!({}));
        }
        self.rooms
            .broadcast(&seat.key, Some(seat.member), &msg.payload);
    }

    /// A binary frame: on vsn 2.0.0, a user broadcast push, handled like its JSON twin.
    pub(super) fn handle_binary(&mut self, bytes: &[u8]) {
        if self.vsn == Vsn::V1 {
            tracing::warn!(
                bytes = bytes.len(),
                "dropping binary frame on a vsn 1.0.0 socket"
            );
            return;
        }
        let push = match UserBroadcastPush::decode(bytes) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "dropping malformed binary realtime frame");
                return;
            }
        };
        let payload = push.json_payload();
        let msg = Message::new(
            push.topic,
            Event::Other(BROADCAST.to_owned()),
            json!({"type": BROADCAST, "event": push.event, "payload": payload.clone().unwrap_or(Value::Null)}),
        )
        .with_refs(push.join_ref, push.msg_ref);
        if payload.is_none() && self.channels.contains_key(&msg.topic) {
            let reason = match push.encoding {
                // Supabase relays raw bytes as binary frames; this server's queues carry text
                // frames only, so it says so instead of dropping them silently.
                PayloadEncoding::Binary => "binary broadcast payloads are not supported",
                PayloadEncoding::Json => "broadcast payload is not valid JSON",
            };
            return self.reply(&msg, "error", json!({"reason": reason}));
        }
        self.channel_event(&msg);
    }
}
