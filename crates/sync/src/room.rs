//! A room: one Broadcast + Presence channel (e.g. the private `session:<id>` of a
//! conversation), with our presence, everyone's, and the typing indicator.
//!
//! Like realtime-js's `RealtimeChannel` + `RealtimePresence`, on the page's one socket:
//! - the join carries `config.broadcast`, `config.presence.key` and `config.private` as
//!   supabase-js sends them; a refused join (a private topic we may not read) is an error
//!   state with the server's reason, retried on the channel's rejoin backoff;
//! - our presence ([`PresenceMeta`]) is tracked again after every accepted join (a rejoin
//!   after a reconnect starts with an empty seat on the server);
//! - `presence_state` / `presence_diff` are merged by [`PresenceState`];
//! - `typing` broadcasts go out through [`Typing`]'s throttle and come in as indicators that
//!   expire.
//!
//! Sans-IO like the channel: every method returns the messages to send; the engine pushes
//! them through the socket.

use concierge_wire::phoenix::{Event, Message};
use concierge_wire::realtime::RoomConfig;
use concierge_wire::room::{
    PresenceMeta, PresencePush, RawPresenceDiff, RawPresenceState, RoomBroadcast,
};
use serde::Serialize;
use serde_json::Value;

use crate::Millis;
use crate::channel::{Channel, ChannelConfig, ChannelEvent, ChannelStatus};
use crate::presence::{Presence, PresenceState};
use crate::socket::Refs;
use crate::typing::Typing;

/// Identifies a room the shell asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomId(pub u64);

/// What to join: the topic (`realtime:<name>`), the join settings, and what to track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomSpec {
    pub topic: String,
    pub config: RoomConfig,
    /// Tracked on every accepted join; `None`: watch without being seen.
    pub me: Option<PresenceMeta>,
}

/// What views see of a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomView {
    pub status: ChannelStatus,
    /// One entry per presence key (ours included), in key order; empty unless joined.
    pub present: Vec<Presence>,
    /// The names of the others typing now.
    pub typing: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Room {
    channel: Channel,
    key: String,
    me: Option<PresenceMeta>,
    presence: PresenceState,
    typing: Typing,
}

fn encode<T: Serialize>(push: &T) -> Value {
    serde_json::to_value(push).unwrap_or(Value::Null)
}

impl Room {
    pub fn new(spec: RoomSpec, cfg: ChannelConfig, typing: Typing) -> Room {
        Room {
            key: spec.config.presence_key.clone(),
            channel: Channel::room(spec.topic, spec.config, cfg),
            me: spec.me,
            presence: PresenceState::default(),
            typing,
        }
    }

    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    pub fn presence(&self) -> &PresenceState {
        &self.presence
    }

    pub fn view(&self) -> RoomView {
        RoomView {
            status: self.channel.status(),
            present: if self.channel.is_joined() {
                self.presence.people()
            } else {
                Vec::new()
            },
            typing: self.typing.names(),
        }
    }

    /// The channel's timers and the next typing indicator to expire.
    pub fn deadline(&self) -> Option<Millis> {
        [self.channel.deadline(), self.typing.deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    pub fn join(&mut self, now: Millis, token: &str, refs: &mut Refs) -> Option<Message> {
        self.channel.join(now, token, refs)
    }

    pub fn on_socket_open(&mut self, now: Millis, token: &str, refs: &mut Refs) -> Option<Message> {
        self.channel.on_socket_open(now, token, refs)
    }

    pub fn on_socket_down(&mut self, why: &str) {
        self.channel.on_socket_down(why);
    }

    pub fn on_tick(
        &mut self,
        now: Millis,
        socket_open: bool,
        token: &str,
        refs: &mut Refs,
    ) -> Vec<Message> {
        self.typing.expire(now);
        self.channel.on_tick(now, socket_open, token, refs)
    }

    /// A frame for this room's topic. Returns the messages to send (our track once a join
    /// is accepted).
    pub fn on_message(&mut self, now: Millis, msg: Message, refs: &mut Refs) -> Vec<Message> {
        let was_joined = self.channel.is_joined();
        let mut send = Vec::new();
        match self.channel.on_message(now, msg, refs) {
            ChannelEvent::Send(m) => send.push(m),
            ChannelEvent::Push(m) => self.on_push(now, m),
            ChannelEvent::Nothing | ChannelEvent::Change(_) | ChannelEvent::LateConfirm => {}
        }
        if !was_joined && self.channel.is_joined() {
            send.extend(self.track_push(refs));
        }
        send
    }

    fn on_push(&mut self, now: Millis, m: Message) {
        match m.event {
            Event::PresenceState => {
                let Ok(raw) = serde_json::from_value::<RawPresenceState>(m.payload) else {
                    return;
                };
                if let Some(jr) = self.channel.join_ref().map(str::to_owned) {
                    self.presence.on_state(&jr, raw);
                }
            }
            Event::PresenceDiff => {
                let Ok(diff) = serde_json::from_value::<RawPresenceDiff>(m.payload) else {
                    return;
                };
                self.presence.on_diff(self.channel.join_ref(), diff);
            }
            Event::Broadcast => {
                // Other events (another client's) fail to parse as ours: ignored.
                let Ok(b) = serde_json::from_value::<RoomBroadcast>(m.payload) else {
                    return;
                };
                if b.payload.key != self.key {
                    self.typing.on_typing(now, b.payload.key, b.payload.name);
                }
                return;
            }
            _ => return,
        }
        // Whoever left the room stops typing with it.
        let gone: Vec<String> = self
            .typing
            .keys()
            .filter(|k| !self.presence.is_present(k))
            .map(str::to_owned)
            .collect();
        for k in gone {
            self.typing.forget(&k);
        }
    }

    fn track_push(&self, refs: &mut Refs) -> Option<Message> {
        let me = self.me.as_ref()?;
        self.channel
            .push(Event::Presence, encode(&PresencePush::track(me)), refs)
    }

    /// Track `me` from now on (and on every rejoin); `None` untracks.
    pub fn set_me(&mut self, me: Option<PresenceMeta>, refs: &mut Refs) -> Option<Message> {
        if self.me == me {
            return None;
        }
        self.me = me;
        if !self.channel.is_joined() {
            return None; // tracked when the join is accepted
        }
        match &self.me {
            Some(_) => self.track_push(refs),
            None => self
                .channel
                .push(Event::Presence, encode(&PresencePush::untrack()), refs),
        }
    }

    /// The user typed at `now`: a `typing` broadcast if one is due and the room is joined.
    pub fn typed(&mut self, now: Millis, refs: &mut Refs) -> Option<Message> {
        let name = self.me.as_ref()?.name.clone();
        if !self.channel.is_joined() || !self.typing.due(now) {
            return None;
        }
        let b = RoomBroadcast::typing(&self.key, &name);
        let msg = self.channel.push(Event::Broadcast, encode(&b), refs)?;
        self.typing.sent(now);
        Some(msg)
    }

    /// A message by `key` arrived: their typing indicator ends now, not 5 s later.
    pub fn spoke(&mut self, key: &str) {
        self.typing.forget(key);
    }

    pub fn send_token(&self, token: &str, refs: &mut Refs) -> Option<Message> {
        self.channel.send_token(token, refs)
    }

    pub fn leave(&mut self, refs: &mut Refs) -> Option<Message> {
        self.channel.leave(refs)
    }
}
