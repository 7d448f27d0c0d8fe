//! The engine: one socket, one `LiveQuery` (channel + poller + store) per subscription,
//! driven by [`Input`]s and answering with [`Action`]s. It never reads a clock, never sleeps
//! and never does I/O.
//!
//! [`Engine::handle`] dispatches each input to one `on_*` method (as quinn's `handle_event`
//! does), then `after` detects realtime edges and emits what changed. The machines never see
//! the engine: channels return the messages they want sent, the engine forwards them
//! through the socket, and the socket returns [`SocketCmd`]s that the engine turns into
//! [`Action`]s. Read-only views of the engine are in `observe`.

use std::collections::BTreeMap;

use concierge_wire::phoenix::{Event, Message, PHOENIX_TOPIC};
use serde_json::Value;

use crate::Millis;
use crate::backoff::Rng;
use crate::channel::ChannelEvent;
use crate::config::EngineConfig;
use crate::io::{Action, ConnId, FetchError, Input};
use crate::live::{Backend, LiveQuery, parse_rows};
use crate::poller::FetchReason;
use crate::room::{Room, RoomId, RoomView};
use crate::socket::{Socket, SocketCmd, SocketTick};
use crate::spec::{Endpoint, FetchId, LiveQuerySpec, QueryId};
use crate::status::Diagnostics;
use crate::store::ChangeOutcome;
use crate::timestamp::parse_millis;

mod observe;
mod rooms;

/// The sync engine core. See the crate docs for the model.
pub struct Engine {
    cfg: EngineConfig,
    backend: Backend,
    socket: Socket,
    queries: BTreeMap<QueryId, LiveQuery>,
    rooms: BTreeMap<RoomId, Room>,
    emitted_rooms: BTreeMap<RoomId, RoomView>,
    rng: Rng,
    hidden: bool,
    browser_offline: bool,
    ever_live: bool,
    realtime_events: u64,
    last_latency_ms: Option<i64>,
    last_error: Option<String>,
    last_fetch_failed: bool,
    /// Counters of queries already removed, so totals never go backwards.
    retired_polls_made: u64,
    retired_polls_skipped: u64,
    malformed_frames: u64,
    emitted_diag: Option<Diagnostics>,
    emitted_timer: Option<Option<Millis>>,
}

impl Engine {
    /// `seed` drives reconnect jitter (use a random seed in the browser, a fixed one in tests).
    pub fn new(cfg: EngineConfig, endpoint: Endpoint, seed: u64) -> Engine {
        let socket = cfg.socket(endpoint.realtime_url(cfg.vsn));
        Engine {
            cfg,
            backend: Backend::new(endpoint),
            socket,
            queries: BTreeMap::new(),
            rooms: BTreeMap::new(),
            emitted_rooms: BTreeMap::new(),
            rng: Rng::new(seed),
            hidden: false,
            browser_offline: false,
            ever_live: false,
            realtime_events: 0,
            last_latency_ms: None,
            last_error: None,
            last_fetch_failed: false,
            retired_polls_made: 0,
            retired_polls_skipped: 0,
            malformed_frames: 0,
            emitted_diag: None,
            emitted_timer: None,
        }
    }

    /// Feeds one input at time `now`; returns what to do, in order.
    pub fn handle(&mut self, now: Millis, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        match input {
            Input::Tick => self.on_tick(now, &mut out),
            Input::SocketOpen { conn } => self.on_socket_open(now, conn, &mut out),
            Input::SocketFrame { conn, text } => self.on_socket_frame(now, conn, &text, &mut out),
            Input::SocketClosed { conn, .. } => self.on_socket_closed(now, conn),
            Input::Visibility { visible } => self.on_visibility(now, visible, &mut out),
            Input::Online => self.on_online(now, &mut out),
            Input::Offline => self.browser_offline = true,
            Input::PageHide => self.on_page_hide(&mut out),
            Input::PageShow => self.on_page_show(now, &mut out),
            Input::FetchDone {
                query,
                fetch,
                result,
            } => self.on_fetch_done(now, query, fetch, result, &mut out),
            Input::Subscribe { query, spec } => self.on_subscribe(now, query, spec, &mut out),
            Input::Unsubscribe { query } => self.on_unsubscribe(query, &mut out),
            Input::Refresh { query } => self.resync(now, query, FetchReason::Refresh, &mut out),
            Input::SetToken(token) => self.on_set_token(now, token, &mut out),
            Input::Room(r) => self.on_room_input(now, r, &mut out),
        }
        self.after(now, &mut out);
        out
    }

    fn on_tick(&mut self, now: Millis, out: &mut Vec<Action>) {
        // The shell's timer has fired and is spent: always re-arm it, even when the deadline
        // is unchanged (a timer that fires a little early must not stall us).
        self.emitted_timer = None;
        match self.socket.on_tick(now, self.hidden, &mut self.rng) {
            SocketTick::Nothing => {}
            SocketTick::Do(cmd) => out.push(cmd.into()),
            SocketTick::HeartbeatTimeout(close) => {
                out.push(close.into());
                self.channels_down("heartbeat timeout");
            }
        }
        self.rooms_tick(now, out);
        let token = self.backend.access_token();
        let ids: Vec<QueryId> = self.queries.keys().copied().collect();
        for &id in &ids {
            let Some(q) = self.queries.get_mut(&id) else {
                continue;
            };
            if let Some(ch) = q.channel.as_mut() {
                let open = self.socket.is_open();
                for m in ch.on_tick(now, open, &token, self.socket.refs()) {
                    perform(out, self.socket.push(&m));
                }
            }
            // A request that never answers must not stall the poller forever.
            if let Some(f) = q.poller.timed_out(now) {
                out.push(Action::CancelFetch {
                    query: id,
                    fetch: f.id,
                });
                self.finish_fetch(now, id, f.id, Err("request timed out".into()), out);
            }
        }
        // Realtime edges first (a channel confirmed this tick must not poll), then ticks.
        self.detect_edges(now, out);
        for id in ids {
            if let Some(q) = self.queries.get_mut(&id) {
                out.extend(q.tick(now, self.hidden, &mut self.backend));
            }
        }
    }

    fn on_socket_open(&mut self, now: Millis, conn: ConnId, out: &mut Vec<Action>) {
        if !self.socket.on_open(now, conn) {
            return;
        }
        let token = self.backend.access_token();
        for ch in self.queries.values_mut().filter_map(|q| q.channel.as_mut()) {
            if let Some(m) = ch.on_socket_open(now, &token, self.socket.refs()) {
                perform(out, self.socket.push(&m));
            }
        }
        self.rooms_on_socket_open(now, out);
    }

    fn on_socket_frame(&mut self, now: Millis, conn: ConnId, text: &str, out: &mut Vec<Action>) {
        if conn != self.socket.conn() || !self.socket.is_open() {
            return;
        }
        let msg = match Message::decode(text, self.socket.vsn()) {
            Ok(m) => m,
            Err(e) => {
                self.malformed_frames += 1;
                self.last_error = Some(format!("dropped a malformed frame: {e}"));
                return;
            }
        };
        if msg.topic == PHOENIX_TOPIC {
            if msg.event == Event::Reply {
                self.socket.on_heartbeat_reply(msg.msg_ref.as_deref());
            }
            return;
        }
        let Some(msg) = self.room_frame(now, msg, out) else {
            return;
        };
        let Some((&id, q)) = self
            .queries
            .iter_mut()
            .find(|(_, q)| q.channel.as_ref().is_some_and(|c| c.topic() == msg.topic))
        else {
            return;
        };
        let Some(ch) = q.channel.as_mut() else { return };
        match ch.on_message(now, msg, self.socket.refs()) {
            ChannelEvent::Nothing | ChannelEvent::Push(_) => {}
            ChannelEvent::Send(m) => perform(out, self.socket.push(&m)),
            ChannelEvent::Change(p) => {
                self.realtime_events += 1;
                if q.store.apply_change(&p.data) == ChangeOutcome::Applied
                    && let Some(commit) = parse_millis(&p.data.commit_timestamp)
                {
                    self.last_latency_ms = Some(now as i64 - commit);
                }
            }
            ChannelEvent::LateConfirm => self.resync(now, id, FetchReason::Subscribed, out),
        }
    }

    fn on_socket_closed(&mut self, now: Millis, conn: ConnId) {
        if self.socket.on_closed(now, conn, &mut self.rng) {
            self.channels_down("connection lost");
        }
    }

    fn on_visibility(&mut self, now: Millis, visible: bool, out: &mut Vec<Action>) {
        let was_hidden = self.hidden;
        self.hidden = !visible;
        if visible && was_hidden {
            perform(out, self.socket.wake());
            self.resync_all(now, FetchReason::Visible, out);
        }
    }

    fn on_online(&mut self, now: Millis, out: &mut Vec<Action>) {
        self.browser_offline = false;
        perform(out, self.socket.wake());
        self.resync_all(now, FetchReason::Online, out);
    }

    fn on_page_hide(&mut self, out: &mut Vec<Action>) {
        self.hidden = true;
        if let Some(close) = self.socket.hold() {
            out.push(close.into());
            self.channels_down("page hidden");
        }
    }

    fn on_page_show(&mut self, now: Millis, out: &mut Vec<Action>) {
        let was_hidden = self.hidden;
        self.hidden = false;
        perform(out, self.socket.release());
        if was_hidden {
            self.resync_all(now, FetchReason::Visible, out);
        }
    }

    fn on_fetch_done(
        &mut self,
        now: Millis,
        id: QueryId,
        fetch: FetchId,
        result: Result<String, FetchError>,
        out: &mut Vec<Action>,
    ) {
        self.finish_fetch(now, id, fetch, parse_rows(result), out);
    }

    fn on_subscribe(
        &mut self,
        now: Millis,
        id: QueryId,
        spec: LiveQuerySpec,
        out: &mut Vec<Action>,
    ) {
        if self.queries.contains_key(&id) {
            return;
        }
        let mut q = LiveQuery::new(id, spec, &self.cfg);
        if let Some(ch) = q.channel.as_mut() {
            perform(out, self.socket.ensure_connected());
            if self.socket.is_open() {
                let token = self.backend.access_token();
                if let Some(m) = ch.join(now, &token, self.socket.refs()) {
                    perform(out, self.socket.push(&m));
                }
            }
        }
        self.queries.insert(id, q);
        self.resync(now, id, FetchReason::Initial, out);
    }

    fn on_unsubscribe(&mut self, id: QueryId, out: &mut Vec<Action>) {
        let Some(mut q) = self.queries.remove(&id) else {
            return;
        };
        if let Some(f) = q.poller.cancel() {
            out.push(Action::CancelFetch {
                query: id,
                fetch: f.id,
            });
        }
        if let Some(m) = q
            .channel
            .as_mut()
            .and_then(|ch| ch.leave(self.socket.refs()))
        {
            perform(out, self.socket.push(&m));
        }
        self.retired_polls_made += q.poller.polls_made;
        self.retired_polls_skipped += q.poller.polls_skipped;
    }

    fn on_set_token(&mut self, now: Millis, token: Option<String>, out: &mut Vec<Action>) {
        if token == self.backend.token {
            return;
        }
        self.backend.token = token;
        let t = self.backend.access_token();
        for ch in self.queries.values().filter_map(|q| q.channel.as_ref()) {
            if let Some(m) = ch.send_token(&t, self.socket.refs()) {
                perform(out, self.socket.push(&m));
            }
        }
        self.rooms_send_token(&t, out);
        // REST reads now run under another identity: their rows may differ.
        self.resync_all(now, FetchReason::Refresh, out);
    }

    fn channels_down(&mut self, why: &str) {
        for ch in self.queries.values_mut().filter_map(|q| q.channel.as_mut()) {
            ch.on_socket_down(why);
        }
        self.rooms_down(why);
    }

    fn finish_fetch(
        &mut self,
        now: Millis,
        id: QueryId,
        fetch: FetchId,
        outcome: Result<Vec<Value>, String>,
        out: &mut Vec<Action>,
    ) {
        let Some(q) = self.queries.get_mut(&id) else {
            return;
        };
        let Some(finished) = q.finish_fetch(now, fetch, outcome) else {
            return; // a late answer to a cancelled or superseded request
        };
        self.last_fetch_failed = finished.error.is_some();
        if let Some(e) = finished.error {
            self.last_error = Some(format!("{}: {e}", q.spec.table));
        }
        if let Some(queued) = finished.queued {
            out.extend(q.resync(now, queued, self.hidden, &mut self.backend));
        }
    }

    fn resync_all(&mut self, now: Millis, reason: FetchReason, out: &mut Vec<Action>) {
        for q in self.queries.values_mut() {
            out.extend(q.resync(now, reason, self.hidden, &mut self.backend));
        }
    }

    fn resync(&mut self, now: Millis, id: QueryId, reason: FetchReason, out: &mut Vec<Action>) {
        if let Some(q) = self.queries.get_mut(&id) {
            out.extend(q.resync(now, reason, self.hidden, &mut self.backend));
        }
    }

    /// Realtime gained → snapshot once (no replay of what was missed); lost → fetch at once.
    fn detect_edges(&mut self, now: Millis, out: &mut Vec<Action>) {
        let socket_open = self.socket.is_open();
        for q in self.queries.values_mut() {
            let reason = match q.edge(socket_open) {
                None => continue,
                Some(true) => {
                    self.ever_live = true;
                    FetchReason::Subscribed
                }
                Some(false) => FetchReason::RealtimeLost,
            };
            out.extend(q.resync(now, reason, self.hidden, &mut self.backend));
        }
    }

    /// Edge detection, then emit what changed: rows, query states, diagnostics, the timer.
    fn after(&mut self, now: Millis, out: &mut Vec<Action>) {
        self.detect_edges(now, out);
        for q in self.queries.values_mut() {
            q.emit(out);
        }
        self.emit_rooms(out);
        let diag = self.diagnostics();
        if self.emitted_diag.as_ref() != Some(&diag) {
            self.emitted_diag = Some(diag.clone());
            out.push(Action::Diagnostics(diag));
        }
        let at = self.next_deadline();
        if self.emitted_timer != Some(at) {
            self.emitted_timer = Some(at);
            out.push(Action::SetTimer { at });
        }
    }
}

/// Performs what the socket asked for, if anything: the socket's commands become the shell's
/// actions here, so the socket never names an [`Action`].
fn perform(out: &mut Vec<Action>, cmd: Option<SocketCmd>) {
    out.extend(cmd.map(Action::from));
}
