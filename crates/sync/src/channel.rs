//! One Phoenix channel (`realtime:<name>`) carrying one live query's `postgres_changes` binding.
//!
//! Lifecycle as in phoenix.js / realtime-js:
//! - `phx_join` carries the **full** `config.postgres_changes` on every (re)join, plus the
//!   `access_token` (the user's JWT, else the anon key — what supabase-js sends).
//! - The ok reply's `postgres_changes` are checked **by index** against our bindings (event,
//!   schema, table, filter; missing filter equals missing filter). A mismatch is a
//!   configuration error: leave, report `ChannelError`, do not retry.
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

use concierge_wire::phoenix::{Event, Message};
use concierge_wire::realtime::{
    BoundChange, ChangesPayload, JoinConfig, JoinPayload, PostgresChangeSpec, ReplyPayload,
    ReplyStatus, SUBSCRIBED_TO_POSTGRES, SystemPayload,
};
use serde_json::{Map, Value, json};

use crate::Millis;
use crate::backoff::{Rng, Timer};
use crate::engine::Action;
use crate::socket::Socket;

/// A channel's subscription status, as views see it.
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
    },
    /// Waiting for the rejoin timer or the socket to reopen.
    Errored,
    /// Over for good (phx_close, bindings mismatch, left).
    Ended,
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
}

#[derive(Debug, Clone)]
pub struct Channel {
    topic: String,
    bindings: Vec<PostgresChangeSpec>,
    phase: Phase,
    status: ChannelStatus,
    rejoin: Timer,
    grace_due: Option<Millis>,
    confirmed: bool,
    server_ids: Vec<u32>,
    pub joins: u64,
}

impl Channel {
    pub fn new(topic: String, bindings: Vec<PostgresChangeSpec>) -> Channel {
        Channel {
            topic,
            bindings,
            phase: Phase::Idle,
            status: ChannelStatus::Idle,
            rejoin: Timer::default(),
            grace_due: None,
            confirmed: false,
            server_ids: Vec::new(),
            joins: 0,
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn status(&self) -> &ChannelStatus {
        &self.status
    }

    /// Changes flow (see the module docs for what that takes).
    pub fn is_confirmed(&self) -> bool {
        self.confirmed && matches!(self.phase, Phase::Joined { .. })
    }

    /// Ended for good: only the poller serves this query now.
    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    fn join_ref(&self) -> Option<&str> {
        match &self.phase {
            Phase::Joining { join_ref, .. } | Phase::Joined { join_ref } => Some(join_ref),
            _ => None,
        }
    }

    pub fn deadline(&self) -> Option<Millis> {
        let join = match &self.phase {
            Phase::Joining { deadline, .. } => Some(*deadline),
            _ => None,
        };
        [join, self.grace_due, self.rejoin.due]
            .into_iter()
            .flatten()
            .min()
    }

    /// Sends `phx_join` (fresh ref; full bindings; token) if the socket is open.
    pub fn join(
        &mut self,
        now: Millis,
        timeout_ms: u64,
        token: &str,
        socket: &mut Socket,
        out: &mut Vec<Action>,
    ) {
        if self.phase == Phase::Ended || !socket.is_open() {
            return;
        }
        let join_ref = socket.make_ref();
        let mut other = Map::new();
        other.insert("broadcast".into(), json!({"ack": false, "self": false}));
        other.insert("presence".into(), json!({"key": "", "enabled": false}));
        other.insert("private".into(), json!(false));
        let payload = JoinPayload {
            config: JoinConfig {
                postgres_changes: self.bindings.clone(),
                other,
            },
            access_token: Some(token.to_owned()),
        };
        let msg = Message::new(
            self.topic.clone(),
            Event::Join,
            serde_json::to_value(payload).unwrap_or(Value::Null),
        )
        .with_refs(Some(join_ref.clone()), Some(join_ref.clone()));
        socket.push(out, &msg);
        self.joins += 1;
        self.rejoin.cancel();
        self.grace_due = None;
        self.confirmed = false;
        self.phase = Phase::Joining {
            join_ref,
            deadline: now + timeout_ms,
        };
        self.status = ChannelStatus::Joining;
    }

    fn push_event(&self, event: Event, payload: Value, socket: &mut Socket, out: &mut Vec<Action>) {
        if let Some(jr) = self.join_ref().map(str::to_owned) {
            let r = socket.make_ref();
            let msg = Message::new(self.topic.clone(), event, payload).with_refs(Some(jr), Some(r));
            socket.push(out, &msg);
        }
    }

    fn error(&mut self, now: Millis, why: String, steps: &[u64], rng: &mut Rng) {
        self.phase = Phase::Errored;
        self.confirmed = false;
        self.grace_due = None;
        self.status = ChannelStatus::ChannelError(why);
        self.rejoin.schedule(now, steps, 0.0, rng);
    }

    /// The socket went down: every channel errors and waits for the reopen.
    pub fn on_socket_down(&mut self, why: &str) {
        if matches!(self.phase, Phase::Ended | Phase::Idle) {
            return;
        }
        self.phase = Phase::Errored;
        self.confirmed = false;
        self.grace_due = None;
        self.rejoin.reset();
        self.status = ChannelStatus::ChannelError(why.to_owned());
    }

    /// The socket (re)opened: join at once unless ended.
    pub fn on_socket_open(
        &mut self,
        now: Millis,
        timeout_ms: u64,
        token: &str,
        socket: &mut Socket,
        out: &mut Vec<Action>,
    ) {
        if matches!(self.phase, Phase::Idle | Phase::Errored) {
            self.join(now, timeout_ms, token, socket, out);
        }
    }

    /// Join timeout, rejoin timer, grace period.
    #[allow(clippy::too_many_arguments)]
    pub fn on_tick(
        &mut self,
        now: Millis,
        timeout_ms: u64,
        rejoin_steps: &[u64],
        token: &str,
        socket: &mut Socket,
        rng: &mut Rng,
        out: &mut Vec<Action>,
    ) {
        if let Phase::Joining { deadline, .. } = &self.phase
            && *deadline <= now
        {
            // phoenix.js: leave the half-joined channel, then rejoin with backoff.
            self.push_event(Event::Leave, json!({}), socket, out);
            self.phase = Phase::Errored;
            self.status = ChannelStatus::TimedOut;
            self.rejoin.schedule(now, rejoin_steps, 0.0, rng);
        }
        if self.grace_due.is_some_and(|g| g <= now) {
            self.grace_due = None;
            if matches!(self.phase, Phase::Joined { .. }) {
                self.confirmed = true;
                self.status = ChannelStatus::Subscribed;
            }
        }
        if self.rejoin.is_due(now) {
            self.rejoin.due = None;
            if self.phase == Phase::Errored && socket.is_open() {
                self.join(now, timeout_ms, token, socket, out);
            }
        }
    }

    /// A frame for this channel's topic.
    #[allow(clippy::too_many_arguments)]
    pub fn on_message(
        &mut self,
        now: Millis,
        msg: Message,
        grace_ms: u64,
        rejoin_steps: &[u64],
        socket: &mut Socket,
        rng: &mut Rng,
        out: &mut Vec<Action>,
    ) -> ChannelEvent {
        if msg.event == Event::PostgresChanges {
            return self.on_change(msg.payload);
        }
        // Lifecycle messages: V2 frames carry the join_ref; V1 server frames carry none, and
        // for phx_close / phx_error their `ref` is the join ref.
        let Some(current) = self.join_ref().map(str::to_owned) else {
            return ChannelEvent::Nothing;
        };
        let belongs = match (&msg.join_ref, &msg.event) {
            (Some(jr), _) => *jr == current,
            (None, Event::Close | Event::Error) => {
                msg.msg_ref.as_deref().is_none_or(|r| r == current)
            }
            (None, _) => true,
        };
        if !belongs {
            return ChannelEvent::Nothing; // "dropping outdated message"
        }
        match msg.event {
            Event::Reply => {
                let is_join_reply = matches!(&self.phase, Phase::Joining { .. })
                    && msg.msg_ref.as_deref() == Some(current.as_str());
                if is_join_reply {
                    self.on_join_reply(now, msg.payload, grace_ms, rejoin_steps, socket, rng, out);
                }
                ChannelEvent::Nothing
            }
            Event::System => self.on_system(msg.payload),
            Event::Close => {
                self.phase = Phase::Ended;
                self.confirmed = false;
                self.grace_due = None;
                self.rejoin.reset();
                self.status = ChannelStatus::Closed;
                ChannelEvent::Nothing
            }
            Event::Error => {
                self.error(
                    now,
                    "channel crashed on the server".into(),
                    rejoin_steps,
                    rng,
                );
                ChannelEvent::Nothing
            }
            _ => ChannelEvent::Nothing,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_join_reply(
        &mut self,
        now: Millis,
        payload: Value,
        grace_ms: u64,
        rejoin_steps: &[u64],
        socket: &mut Socket,
        rng: &mut Rng,
        out: &mut Vec<Action>,
    ) {
        let Ok(reply) = serde_json::from_value::<ReplyPayload>(payload) else {
            self.error(now, "malformed join reply".into(), rejoin_steps, rng);
            return;
        };
        match reply.status {
            ReplyStatus::Ok => {}
            ReplyStatus::Error | ReplyStatus::Timeout => {
                let reason = reply
                    .response
                    .get("reason")
                    .and_then(Value::as_str)
                    .unwrap_or("join refused")
                    .chars()
                    .take(200)
                    .collect();
                self.error(now, reason, rejoin_steps, rng);
                return;
            }
        }
        let server: Vec<BoundChange> = reply
            .response
            .get("postgres_changes")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        // realtime-js `_updatePostgresBindings`: entry i must echo binding i.
        let mut ids = Vec::with_capacity(self.bindings.len());
        for (i, b) in self.bindings.iter().enumerate() {
            match server.get(i) {
                Some(s)
                    if s.spec.event == b.event
                        && s.spec.schema == b.schema
                        && s.spec.table == b.table
                        && s.spec.filter == b.filter =>
                {
                    ids.push(s.id)
                }
                _ => {
                    self.push_event(Event::Leave, json!({}), socket, out);
                    self.phase = Phase::Ended;
                    self.confirmed = false;
                    self.rejoin.reset();
                    self.status = ChannelStatus::ChannelError(
                        "mismatch between server and client bindings for postgres changes".into(),
                    );
                    return;
                }
            }
        }
        self.server_ids = ids;
        self.rejoin.reset();
        let Phase::Joining { join_ref, .. } = std::mem::replace(&mut self.phase, Phase::Idle)
        else {
            return;
        };
        self.phase = Phase::Joined { join_ref };
        self.status = ChannelStatus::Joined;
        self.grace_due = Some(now + grace_ms);
    }

    fn on_system(&mut self, payload: Value) -> ChannelEvent {
        let Ok(sys) = serde_json::from_value::<SystemPayload>(payload) else {
            return ChannelEvent::Nothing;
        };
        if !matches!(self.phase, Phase::Joined { .. }) {
            return ChannelEvent::Nothing;
        }
        match (sys.extension.as_str(), sys.status.as_str()) {
            ("postgres_changes", "ok") if sys.message == SUBSCRIBED_TO_POSTGRES => {
                let late = self.confirmed;
                self.confirmed = true;
                self.grace_due = None;
                self.status = ChannelStatus::Subscribed;
                if late {
                    ChannelEvent::LateConfirm
                } else {
                    ChannelEvent::Nothing
                }
            }
            ("postgres_changes", "error") => {
                // The channel stays joined (the server may retry), but nothing flows.
                self.confirmed = false;
                self.grace_due = None;
                self.status = ChannelStatus::ChannelError(sys.message.chars().take(200).collect());
                ChannelEvent::Nothing
            }
            _ => ChannelEvent::Nothing,
        }
    }

    fn on_change(&self, payload: Value) -> ChannelEvent {
        if !matches!(self.phase, Phase::Joined { .. }) {
            return ChannelEvent::Nothing;
        }
        let Ok(p) = serde_json::from_value::<ChangesPayload>(payload) else {
            return ChannelEvent::Nothing;
        };
        // realtime-js dispatches when one of its binding ids is in `ids`.
        if !p.ids.is_empty() && !p.ids.iter().any(|id| self.server_ids.contains(id)) {
            return ChannelEvent::Nothing;
        }
        ChannelEvent::Change(Box::new(p))
    }

    /// The token changed: tell the joined channel (no reply on success).
    pub fn send_token(&self, token: &str, socket: &mut Socket, out: &mut Vec<Action>) {
        if matches!(self.phase, Phase::Joined { .. }) {
            self.push_event(
                Event::AccessToken,
                json!({"access_token": token}),
                socket,
                out,
            );
        }
    }

    /// Unsubscribe: `phx_leave` if joined or joining, then ended.
    pub fn leave(&mut self, socket: &mut Socket, out: &mut Vec<Action>) {
        self.push_event(Event::Leave, json!({}), socket, out);
        self.phase = Phase::Ended;
        self.confirmed = false;
        self.status = ChannelStatus::Closed;
    }
}
