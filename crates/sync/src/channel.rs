//! One Phoenix channel (`realtime:<name>`) carrying one live query's `postgres_changes` binding.
//!
//! Lifecycle as in phoenix.js / realtime-js:
//! - `phx_join` carries the **full** `config.postgres_changes` on every (re)join, plus the
//!   `access_token` (the user's JWT, else the anon key — what supabase-js sends).
//! - The ok reply's `postgres_changes` must echo our bindings **by index**
//!   ([`ReplyPayload::bound_ids`]). A mismatch is a configuration error: leave, report
//!   `ChannelError`, do not retry.
//! - Join error reply, `phx_error`, or no reply within the push timeout (`TimedOut`, with a
//!   `phx_leave`) → errored, rejoin after 1, 2, 5 then 10 s. A socket that closes errors
//!   every channel; they rejoin at once when it reopens.
//! - `phx_close` → `Closed`, no automatic rejoin (the server ended it on purpose).
//! - Lifecycle messages carrying another `join_ref` belong to an earlier join: dropped.
//!
//! "Subscribed" here means changes actually flow: the server's `system` "Subscribed to
//! PostgreSQL" message, or — because hosted Supabase may be slow to send it — a short grace
//! period after the ok reply. If the system message arrives after the grace period expired,
//! that is reported ([`ChannelEvent::LateConfirm`]) so the engine can fetch a fresh snapshot
//! covering the gap.
//!
//! Sans-IO twice over: a channel never holds the socket. It returns the messages it wants sent
//! and the engine pushes them through the socket (which drops them while it is down); message
//! refs come from the socket's counter, lent as [`Refs`].

use concierge_wire::phoenix::{Event, Message};
use concierge_wire::realtime::{
    ChangesPayload, JoinOutcome, JoinPayload, PostgresChangeSpec, PostgresNotice, ReplyPayload,
    RoomConfig, SystemPayload,
};
use serde_json::{Value, json};

use crate::Millis;
use crate::backoff::Timer;
use crate::socket::Refs;

/// A channel's subscription status, as views see it (derived from the channel's phase).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ChannelStatus {
    /// Not joined and not trying (realtime disabled, or waiting for the socket).
    Idle,
    /// `phx_join` sent, no reply yet.
    Joining,
    /// Joined; waiting for the server to confirm the Postgres subscription.
    Joined,
    /// Changes flow.
    Subscribed,
    /// The join (or a rejoin) got no reply in time; rejoining with backoff.
    TimedOut,
    /// The server closed the channel; no automatic rejoin.
    Closed,
    /// Join refused, channel crashed, socket lost, or bindings mismatch; the text says which.
    ChannelError(String),
}

/// A channel's timings, fixed at creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelConfig {
    /// Join / push timeout (phoenix `DEFAULT_TIMEOUT`).
    pub push_timeout_ms: u64,
    /// How long after an ok join reply, without the `system` confirmation, the channel is
    /// taken as subscribed anyway.
    pub subscribe_grace_ms: u64,
    pub rejoin_steps_ms: Vec<u64>,
}

/// What an incoming frame meant for the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum ChannelEvent {
    Nothing,
    /// A change for this channel's bindings.
    Change(Box<ChangesPayload>),
    /// The system confirmation arrived after the grace period had already declared
    /// the channel subscribed: changes between the two may have been missed.
    LateConfirm,
    /// Send this message (a `phx_leave` after a bindings mismatch).
    Send(Message),
    /// A Broadcast or Presence message on a room's current join, for the room to read.
    Push(Message),
}

/// Where the channel is: one enum from which its status, its join ref and its deadline are
/// derived, instead of flags kept in step by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Not joined and not trying: before the first join.
    Idle,
    Joining {
        join_ref: String,
        deadline: Millis,
    },
    Joined {
        join_ref: String,
        sub: Subscription,
    },
    /// Waiting for the rejoin timer or the socket to reopen.
    Errored(Fault),
    /// Over for good: closed by the server or left (`None`), or a bindings mismatch (`Some`).
    Ended(Option<String>),
}

/// Whether changes flow on a joined channel.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Subscription {
    /// Waiting for the `system` confirmation; taken as confirmed at `grace_due` without it.
    Pending {
        grace_due: Millis,
    },
    Confirmed,
    /// The server reported the Postgres subscription failed; the channel stays joined (the
    /// server may retry) but nothing flows.
    Failed(String),
}

/// Why a channel errored.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fault {
    /// No join reply within the push timeout.
    TimedOut,
    /// Join refused, channel crashed, socket lost; the text says which.
    Error(String),
}

impl Phase {
    /// The ref of the join this phase belongs to, while there is one.
    fn join_ref(&self) -> Option<&str> {
        match self {
            Phase::Joining { join_ref, .. } | Phase::Joined { join_ref, .. } => Some(join_ref),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Channel {
    topic: String,
    bindings: Vec<PostgresChangeSpec>,
    /// `Some` for a Broadcast + Presence channel (a room): no bindings, and ready once the
    /// join is accepted (no Postgres subscription to wait for).
    room: Option<RoomConfig>,
    cfg: ChannelConfig,
    phase: Phase,
    rejoin: Timer,
    server_ids: Vec<u32>,
}

impl Channel {
    pub fn new(topic: String, bindings: Vec<PostgresChangeSpec>, cfg: ChannelConfig) -> Channel {
        Channel {
            topic,
            bindings,
            room: None,
            cfg,
            phase: Phase::Idle,
            rejoin: Timer::default(),
            server_ids: Vec::new(),
        }
    }

    /// A Broadcast + Presence channel on `topic`.
    pub fn room(topic: String, room: RoomConfig, cfg: ChannelConfig) -> Channel {
        let room = Some(room);
        Channel {
            room,
            ..Channel::new(topic, Vec::new(), cfg)
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Derived from the phase alone.
    pub fn status(&self) -> ChannelStatus {
        match &self.phase {
            Phase::Idle => ChannelStatus::Idle,
            Phase::Joining { .. } => ChannelStatus::Joining,
            Phase::Joined { sub, .. } => match sub {
                Subscription::Pending { .. } => ChannelStatus::Joined,
                Subscription::Confirmed => ChannelStatus::Subscribed,
                Subscription::Failed(why) => ChannelStatus::ChannelError(why.clone()),
            },
            Phase::Errored(Fault::TimedOut) => ChannelStatus::TimedOut,
            Phase::Errored(Fault::Error(why)) | Phase::Ended(Some(why)) => {
                ChannelStatus::ChannelError(why.clone())
            }
            Phase::Ended(None) => ChannelStatus::Closed,
        }
    }

    /// Changes flow (see the module docs for what that takes).
    pub fn is_confirmed(&self) -> bool {
        matches!(
            self.phase,
            Phase::Joined {
                sub: Subscription::Confirmed,
                ..
            }
        )
    }

    /// The ref of the current join (sent or accepted), if any.
    pub fn join_ref(&self) -> Option<&str> {
        self.phase.join_ref()
    }

    pub fn is_joined(&self) -> bool {
        matches!(self.phase, Phase::Joined { .. })
    }

    /// Ended for good: only the poller serves this query now.
    pub fn is_ended(&self) -> bool {
        matches!(self.phase, Phase::Ended(_))
    }

    /// The join timeout, the end of the grace period, or the rejoin timer.
    pub fn deadline(&self) -> Option<Millis> {
        let phase = match &self.phase {
            Phase::Joining { deadline, .. } => Some(*deadline),
            Phase::Joined {
                sub: Subscription::Pending { grace_due },
                ..
            } => Some(*grace_due),
            _ => None,
        };
        [phase, self.rejoin.due].into_iter().flatten().min()
    }

    /// `phx_join` with a fresh ref, the full bindings and the token; `None` once ended. The
    /// caller sends it only on an open socket.
    pub fn join(&mut self, now: Millis, token: &str, refs: &mut Refs) -> Option<Message> {
        if self.is_ended() {
            return None;
        }
        let join_ref = refs.fresh();
        let payload = match &self.room {
            Some(room) => JoinPayload::room(room, token),
            None => JoinPayload::postgres_changes(self.bindings.clone(), token),
        };
        let msg = payload.into_message(self.topic.clone(), join_ref.clone());
        self.rejoin.cancel();
        self.phase = Phase::Joining {
            join_ref,
            deadline: now + self.cfg.push_timeout_ms,
        };
        Some(msg)
    }

    /// A message on this channel's current join, if there is one.
    pub fn push(&self, event: Event, payload: Value, refs: &mut Refs) -> Option<Message> {
        let jr = self.phase.join_ref()?.to_owned();
        Some(
            Message::new(self.topic.clone(), event, payload)
                .with_refs(Some(jr), Some(refs.fresh())),
        )
    }

    fn error(&mut self, now: Millis, why: String) {
        self.phase = Phase::Errored(Fault::Error(why));
        self.rejoin.schedule_exact(now, &self.cfg.rejoin_steps_ms);
    }

    /// The socket went down: every channel errors and waits for the reopen.
    pub fn on_socket_down(&mut self, why: &str) {
        if matches!(self.phase, Phase::Ended(_) | Phase::Idle) {
            return;
        }
        self.phase = Phase::Errored(Fault::Error(why.to_owned()));
        self.rejoin.reset();
    }

    /// The socket (re)opened: join at once unless joined or ended.
    pub fn on_socket_open(&mut self, now: Millis, token: &str, refs: &mut Refs) -> Option<Message> {
        let waiting = matches!(self.phase, Phase::Idle | Phase::Errored(_));
        waiting.then(|| self.join(now, token, refs)).flatten()
    }

    /// Join timeout, grace period, rejoin timer. Returns the messages to send, in order.
    pub fn on_tick(
        &mut self,
        now: Millis,
        socket_open: bool,
        token: &str,
        refs: &mut Refs,
    ) -> Vec<Message> {
        let mut send = Vec::new();
        if let Phase::Joining { deadline, .. } = &self.phase
            && *deadline <= now
        {
            // phoenix.js: leave the half-joined channel, then rejoin with backoff.
            send.extend(self.push(Event::Leave, json!({}), refs));
            self.phase = Phase::Errored(Fault::TimedOut);
            self.rejoin.schedule_exact(now, &self.cfg.rejoin_steps_ms);
        }
        if let Phase::Joined { sub, .. } = &mut self.phase
            && matches!(sub, Subscription::Pending { grace_due } if *grace_due <= now)
        {
            *sub = Subscription::Confirmed;
        }
        if self.rejoin.is_due(now) {
            self.rejoin.due = None;
            if matches!(self.phase, Phase::Errored(_)) && socket_open {
                send.extend(self.join(now, token, refs));
            }
        }
        send
    }

    /// A frame for this channel's topic.
    pub fn on_message(&mut self, now: Millis, msg: Message, refs: &mut Refs) -> ChannelEvent {
        if msg.event == Event::PostgresChanges {
            return self.on_change(msg.payload);
        }
        let Some(current) = self.phase.join_ref().map(str::to_owned) else {
            return ChannelEvent::Nothing;
        };
        if !msg.is_for_join(&current) {
            return ChannelEvent::Nothing; // "dropping outdated message"
        }
        match msg.event {
            Event::Reply => {
                let is_join_reply = matches!(&self.phase, Phase::Joining { .. })
                    && msg.msg_ref.as_deref() == Some(current.as_str());
                if is_join_reply {
                    return self.on_join_reply(now, msg.payload, refs);
                }
                ChannelEvent::Nothing
            }
            Event::System => self.on_system(msg.payload),
            Event::Close => {
                self.phase = Phase::Ended(None);
                self.rejoin.reset();
                ChannelEvent::Nothing
            }
            Event::Error => {
                self.error(now, "channel crashed on the server".into());
                ChannelEvent::Nothing
            }
            Event::Broadcast | Event::PresenceState | Event::PresenceDiff
                if self.room.is_some() && self.is_joined() =>
            {
                ChannelEvent::Push(msg)
            }
            _ => ChannelEvent::Nothing,
        }
    }

    fn on_join_reply(&mut self, now: Millis, payload: Value, refs: &mut Refs) -> ChannelEvent {
        let Ok(reply) = serde_json::from_value::<ReplyPayload>(payload) else {
            self.error(now, "malformed join reply".into());
            return ChannelEvent::Nothing;
        };
        let ids = match reply.join_outcome(&self.bindings) {
            JoinOutcome::Joined(ids) => ids,
            JoinOutcome::Refused(reason) => {
                let why = reason.unwrap_or("join refused").chars().take(200).collect();
                self.error(now, why);
                return ChannelEvent::Nothing;
            }
            JoinOutcome::Mismatch => {
                // realtime-js `_updatePostgresBindings`: a configuration error, not retried.
                let leave = self.push(Event::Leave, json!({}), refs);
                self.phase = Phase::Ended(Some(
                    "mismatch between server and client bindings for postgres changes".into(),
                ));
                self.rejoin.reset();
                return leave.map_or(ChannelEvent::Nothing, ChannelEvent::Send);
            }
        };
        self.server_ids = ids;
        self.rejoin.reset();
        let Phase::Joining { join_ref, .. } = std::mem::replace(&mut self.phase, Phase::Idle)
        else {
            return ChannelEvent::Nothing;
        };
        let sub = match self.room {
            Some(_) => Subscription::Confirmed,
            None => Subscription::Pending {
                grace_due: now + self.cfg.subscribe_grace_ms,
            },
        };
        self.phase = Phase::Joined { join_ref, sub };
        ChannelEvent::Nothing
    }

    fn on_system(&mut self, payload: Value) -> ChannelEvent {
        let Ok(sys) = serde_json::from_value::<SystemPayload>(payload) else {
            return ChannelEvent::Nothing;
        };
        let Phase::Joined { sub, .. } = &mut self.phase else {
            return ChannelEvent::Nothing;
        };
        match sys.postgres_notice() {
            Some(PostgresNotice::Subscribed) => {
                match std::mem::replace(sub, Subscription::Confirmed) {
                    Subscription::Confirmed => ChannelEvent::LateConfirm,
                    _ => ChannelEvent::Nothing,
                }
            }
            Some(PostgresNotice::Failed(why)) => {
                *sub = Subscription::Failed(why.chars().take(200).collect());
                ChannelEvent::Nothing
            }
            None => ChannelEvent::Nothing,
        }
    }

    fn on_change(&self, payload: Value) -> ChannelEvent {
        if !matches!(self.phase, Phase::Joined { .. }) {
            return ChannelEvent::Nothing;
        }
        let Ok(p) = serde_json::from_value::<ChangesPayload>(payload) else {
            return ChannelEvent::Nothing;
        };
        if !p.is_for(&self.server_ids) {
            return ChannelEvent::Nothing;
        }
        ChannelEvent::Change(Box::new(p))
    }

    /// The token changed: tell the joined channel (no reply on success).
    pub fn send_token(&self, token: &str, refs: &mut Refs) -> Option<Message> {
        if !matches!(self.phase, Phase::Joined { .. }) {
            return None;
        }
        self.push(Event::AccessToken, json!({"access_token": token}), refs)
    }

    /// Unsubscribe: `phx_leave` if joined or joining, then ended.
    pub fn leave(&mut self, refs: &mut Refs) -> Option<Message> {
        let leave = self.push(Event::Leave, json!({}), refs);
        self.phase = Phase::Ended(None);
        leave
    }
}
