//! The engine: one socket, one channel + poller + store per live query, driven by [`Input`]s
//! and answering with [`Action`]s. It never reads a clock, never sleeps and never does I/O.

use std::collections::BTreeMap;

use concierge_wire::config::AppConfig;
use concierge_wire::phoenix::{Event, Message, PHOENIX_TOPIC, Vsn};
use concierge_wire::realtime::topic_for;
use serde_json::Value;

use crate::Millis;
use crate::backoff::{RECONNECT_STEPS_MS, REJOIN_STEPS_MS, Rng};
use crate::channel::{Channel, ChannelEvent, ChannelStatus};
use crate::poller::{FetchReason, Gate, Poller};
use crate::socket::{ConnId, Socket, SocketState, SocketTick};
use crate::spec::{Endpoint, FetchId, HttpRequest, LiveQuerySpec, QueryId};
use crate::store::{ChangeOutcome, Row, Store};
use crate::timestamp::parse_millis;

/// Every interval and timeout of the engine (so tests run the same code fast).
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// `false`: polling only, no socket (the rollback switch).
    pub realtime_enabled: bool,
    pub vsn: Vsn,
    pub heartbeat_ms: u64,
    pub poll_base_ms: u64,
    pub poll_max_ms: u64,
    pub poll_factor: f64,
    /// Join / push timeout (phoenix `DEFAULT_TIMEOUT`).
    pub push_timeout_ms: u64,
    /// How long after an ok join reply, without the `system` confirmation, the channel is
    /// taken as subscribed anyway.
    pub subscribe_grace_ms: u64,
    /// A REST request unanswered for this long is aborted and counted as failed.
    pub fetch_timeout_ms: u64,
    pub reconnect_steps_ms: Vec<u64>,
    pub rejoin_steps_ms: Vec<u64>,
    /// Reconnect delays are spread over `delay × [1 − jitter, 1 + jitter)`.
    pub reconnect_jitter: f64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            realtime_enabled: true,
            vsn: Vsn::V2,
            heartbeat_ms: 25_000,
            poll_base_ms: 10_000,
            poll_max_ms: 30_000,
            poll_factor: 1.5,
            push_timeout_ms: 10_000,
            subscribe_grace_ms: 3_000,
            fetch_timeout_ms: 10_000,
            reconnect_steps_ms: RECONNECT_STEPS_MS.to_vec(),
            rejoin_steps_ms: REJOIN_STEPS_MS.to_vec(),
            reconnect_jitter: 0.2,
        }
    }
}

impl EngineConfig {
    /// The engine settings from `/config.json`; the rest keep their defaults.
    pub fn from_app(c: &AppConfig) -> EngineConfig {
        EngineConfig {
            realtime_enabled: c.realtime_enabled,
            vsn: if c.realtime_vsn.starts_with("1.") {
                Vsn::V1
            } else {
                Vsn::V2
            },
            heartbeat_ms: c.heartbeat_ms,
            poll_base_ms: c.poll_base_ms,
            poll_max_ms: c.poll_max_ms,
            poll_factor: c.poll_factor,
            ..EngineConfig::default()
        }
    }
}

/// Why a REST request failed, as the shell saw it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("network error: {0}")]
    Network(String),
    #[error("HTTP {status}: {body}")]
    Http { status: u16, body: String },
}

/// Everything that can happen to the engine. Each call to [`Engine::handle`] also passes the
/// current time (milliseconds since the Unix epoch, from the injected clock).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The timer set by [`Action::SetTimer`] fired (early or spurious ticks are harmless).
    Tick,
    SocketOpen {
        conn: ConnId,
    },
    SocketFrame {
        conn: ConnId,
        text: String,
    },
    SocketClosed {
        conn: ConnId,
        code: u16,
        clean: bool,
    },
    /// `visibilitychange` (also sent once at start with the initial state).
    Visibility {
        visible: bool,
    },
    Online,
    Offline,
    PageHide,
    PageShow,
    /// A REST request finished: the body text on 2xx, else the error.
    FetchDone {
        query: QueryId,
        fetch: FetchId,
        result: Result<String, FetchError>,
    },
    Subscribe {
        query: QueryId,
        spec: LiveQuerySpec,
    },
    Unsubscribe {
        query: QueryId,
    },
    /// Fetch a fresh snapshot now (e.g. after the view's own write).
    Refresh {
        query: QueryId,
    },
    /// The signed-in user's JWT (`None` = anonymous: the anon key is used).
    SetToken(Option<String>),
}

/// What the shell must do. Order matters only within one `handle` result.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Connect {
        conn: ConnId,
        url: String,
    },
    Send {
        conn: ConnId,
        text: String,
    },
    CloseSocket {
        conn: ConnId,
        code: u16,
        reason: String,
    },
    Fetch {
        query: QueryId,
        fetch: FetchId,
        request: HttpRequest,
    },
    /// Abort the request (AbortController); its answer, if any, will be ignored anyway.
    CancelFetch {
        query: QueryId,
        fetch: FetchId,
    },
    /// Call back with [`Input::Tick`] at this time (replaces any earlier timer); `None`: no timer.
    SetTimer {
        at: Option<Millis>,
    },
    /// The query's rows changed: sorted, limited, shared (cheap to emit, cheap to compare).
    Rows {
        query: QueryId,
        rows: Vec<Row>,
    },
    QueryState {
        query: QueryId,
        state: QueryState,
    },
    Diagnostics(Diagnostics),
}

/// The data state of a query.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QueryStatus {
    /// Nothing loaded yet.
    Loading,
    Ready,
    /// The last fetch failed (rows shown may be stale); cleared by the next success.
    Error(String),
}

/// Per-query state for views.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueryState {
    pub status: QueryStatus,
    pub channel: ChannelStatus,
}

/// The page-level connection indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ConnectionState {
    /// Realtime confirmed for every live query.
    Live,
    /// Realtime not (yet) established since start.
    #[default]
    Connecting,
    /// Realtime was live and is being re-established; the poller covers the gap.
    Reconnecting,
    /// Only the poller serves (realtime disabled, or the server closed the channels).
    Polling,
    /// The browser is offline, or neither the socket nor the last poll reaches the server.
    Offline,
}

/// Counters for the operators' panel.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Diagnostics {
    pub connection: ConnectionState,
    pub socket: Option<SocketState>,
    pub realtime_events: u64,
    pub polls_made: u64,
    pub polls_skipped: u64,
    /// The shortest current poll interval among live queries (0 with none).
    pub poll_interval_ms: u64,
    pub reconnects: u64,
    pub heartbeat_timeouts: u64,
    /// Commit → applied, for the latest applied realtime event (can be negative with skew).
    pub last_latency_ms: Option<i64>,
    pub last_error: Option<String>,
    pub live_queries: usize,
}

struct LiveQuery {
    spec: LiveQuerySpec,
    store: Store,
    poller: Poller,
    channel: Option<Channel>,
    /// Whether realtime was confirmed at the end of the previous input (edge detection).
    was_live: bool,
    loaded: bool,
    emitted_revision: Option<u64>,
    emitted_state: Option<QueryState>,
}

impl LiveQuery {
    fn state(&self) -> QueryState {
        let status = match (&self.poller.last_error, self.loaded) {
            (Some(e), _) => QueryStatus::Error(e.clone()),
            (None, true) => QueryStatus::Ready,
            (None, false) => QueryStatus::Loading,
        };
        QueryState {
            status,
            channel: self
                .channel
                .as_ref()
                .map_or(ChannelStatus::Idle, |c| c.status().clone()),
        }
    }
}

/// The sync engine core. See the crate docs for the model.
pub struct Engine {
    cfg: EngineConfig,
    endpoint: Endpoint,
    socket: Socket,
    queries: BTreeMap<QueryId, LiveQuery>,
    rng: Rng,
    token: Option<String>,
    hidden: bool,
    browser_offline: bool,
    ever_live: bool,
    next_fetch: u64,
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
        let socket = Socket::new(
            endpoint.realtime_url(cfg.vsn),
            cfg.vsn,
            cfg.heartbeat_ms,
            cfg.reconnect_steps_ms.clone(),
            cfg.reconnect_jitter,
        );
        Engine {
            cfg,
            endpoint,
            socket,
            queries: BTreeMap::new(),
            rng: Rng::new(seed),
            token: None,
            hidden: false,
            browser_offline: false,
            ever_live: false,
            next_fetch: 0,
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

    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Frames that failed to decode (they are dropped, never fatal).
    pub fn malformed_frames(&self) -> u64 {
        self.malformed_frames
    }

    /// The earliest time the engine needs an [`Input::Tick`].
    pub fn next_deadline(&self) -> Option<Millis> {
        let mut d = self.socket.deadline();
        for q in self.queries.values() {
            let fetch_deadline = q
                .poller
                .in_flight()
                .map(|f| f.started_at + self.cfg.fetch_timeout_ms);
            let cands = [
                q.poller.next_tick(),
                fetch_deadline,
                q.channel.as_ref().and_then(Channel::deadline),
            ];
            for c in cands.into_iter().flatten() {
                d = Some(d.map_or(c, |x: Millis| x.min(c)));
            }
        }
        d
    }

    /// The rows of a query as last merged (sorted, limited).
    pub fn rows(&self, query: QueryId) -> Option<Vec<Row>> {
        self.queries.get(&query).map(|q| q.store.view())
    }

    pub fn query_state(&self, query: QueryId) -> Option<QueryState> {
        self.queries.get(&query).map(LiveQuery::state)
    }

    /// The current poll interval of a query.
    pub fn poll_interval(&self, query: QueryId) -> Option<u64> {
        self.queries.get(&query).map(|q| q.poller.interval_ms())
    }

    /// Whether a query has a fetch in flight.
    pub fn fetch_in_flight(&self, query: QueryId) -> Option<FetchId> {
        self.queries
            .get(&query)
            .and_then(|q| q.poller.in_flight())
            .map(|f| f.id)
    }

    pub fn socket_state(&self) -> SocketState {
        self.socket.state()
    }

    pub fn diagnostics(&self) -> Diagnostics {
        let (mut made, mut skipped) = (self.retired_polls_made, self.retired_polls_skipped);
        let mut interval: Option<u64> = None;
        for q in self.queries.values() {
            made += q.poller.polls_made;
            skipped += q.poller.polls_skipped;
            let i = q.poller.interval_ms();
            interval = Some(interval.map_or(i, |x| x.min(i)));
        }
        Diagnostics {
            connection: self.connection_state(),
            socket: self.cfg.realtime_enabled.then(|| self.socket.state()),
            realtime_events: self.realtime_events,
            polls_made: made,
            polls_skipped: skipped,
            poll_interval_ms: interval.unwrap_or(0),
            reconnects: self.socket.reconnects,
            heartbeat_timeouts: self.socket.heartbeat_timeouts,
            last_latency_ms: self.last_latency_ms,
            last_error: self.last_error.clone(),
            live_queries: self.queries.len(),
        }
    }

    fn connection_state(&self) -> ConnectionState {
        let socket_open = self.socket.is_open();
        if self.browser_offline || (!socket_open && self.last_fetch_failed) {
            return ConnectionState::Offline;
        }
        if !self.cfg.realtime_enabled {
            return ConnectionState::Polling;
        }
        let channels: Vec<&Channel> = self
            .queries
            .values()
            .filter_map(|q| q.channel.as_ref())
            .collect();
        if socket_open && !channels.is_empty() && channels.iter().all(|c| c.is_ended()) {
            return ConnectionState::Polling;
        }
        if socket_open && channels.iter().all(|c| c.is_confirmed() || c.is_ended()) {
            return ConnectionState::Live;
        }
        if self.ever_live {
            ConnectionState::Reconnecting
        } else {
            ConnectionState::Connecting
        }
    }

    fn token(&self) -> String {
        self.token
            .clone()
            .unwrap_or_else(|| self.endpoint.anon_key.clone())
    }

    /// Feeds one input at time `now`; returns what to do, in order.
    pub fn handle(&mut self, now: Millis, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        match input {
            Input::Tick => {
                // The shell's timer has fired and is spent: always re-arm it, even when the
                // deadline is unchanged (a timer that fires a little early must not stall us).
                self.emitted_timer = None;
                self.on_tick(now, &mut out)
            }
            Input::SocketOpen { conn } => {
                if self.socket.on_open(now, conn) {
                    let token = self.token();
                    for q in self.queries.values_mut() {
                        if let Some(ch) = q.channel.as_mut() {
                            ch.on_socket_open(
                                now,
                                self.cfg.push_timeout_ms,
                                &token,
                                &mut self.socket,
                                &mut out,
                            );
                        }
                    }
                }
            }
            Input::SocketFrame { conn, text } => {
                if conn == self.socket.conn() && self.socket.is_open() {
                    self.on_frame(now, &text, &mut out);
                }
            }
            Input::SocketClosed { conn, .. } => {
                if self.socket.on_closed(now, conn, &mut self.rng) {
                    self.channels_down("connection lost");
                }
            }
            Input::Visibility { visible } => {
                let was_hidden = self.hidden;
                self.hidden = !visible;
                if visible && was_hidden {
                    self.socket.wake(&mut out);
                    self.resync_all(now, FetchReason::Visible, &mut out);
                }
            }
            Input::Online => {
                self.browser_offline = false;
                self.socket.wake(&mut out);
                self.resync_all(now, FetchReason::Online, &mut out);
            }
            Input::Offline => self.browser_offline = true,
            Input::PageHide => {
                self.hidden = true;
                if self.socket.hold(&mut out) {
                    self.channels_down("page hidden");
                }
            }
            Input::PageShow => {
                let was_hidden = self.hidden;
                self.hidden = false;
                self.socket.release(&mut out);
                if was_hidden {
                    self.resync_all(now, FetchReason::Visible, &mut out);
                }
            }
            Input::FetchDone {
                query,
                fetch,
                result,
            } => self.on_fetch_done(now, query, fetch, result, &mut out),
            Input::Subscribe { query, spec } => self.subscribe(now, query, spec, &mut out),
            Input::Unsubscribe { query } => {
                if let Some(mut q) = self.queries.remove(&query) {
                    if let Some(f) = q.poller.cancel() {
                        out.push(Action::CancelFetch { query, fetch: f.id });
                    }
                    if let Some(ch) = q.channel.as_mut() {
                        ch.leave(&mut self.socket, &mut out);
                    }
                    self.retired_polls_made += q.poller.polls_made;
                    self.retired_polls_skipped += q.poller.polls_skipped;
                }
            }
            Input::Refresh { query } => self.resync(now, query, FetchReason::Refresh, &mut out),
            Input::SetToken(token) => {
                if token != self.token {
                    self.token = token;
                    let t = self.token();
                    for q in self.queries.values() {
                        if let Some(ch) = &q.channel {
                            ch.send_token(&t, &mut self.socket, &mut out);
                        }
                    }
                    // REST reads now run under another identity: their rows may differ.
                    self.resync_all(now, FetchReason::Refresh, &mut out);
                }
            }
        }
        self.after(now, &mut out);
        out
    }

    fn subscribe(&mut self, now: Millis, id: QueryId, spec: LiveQuerySpec, out: &mut Vec<Action>) {
        if self.queries.contains_key(&id) {
            return;
        }
        let mut q = LiveQuery {
            store: Store::new(spec.clone()),
            poller: Poller::new(
                self.cfg.poll_base_ms,
                self.cfg.poll_max_ms,
                self.cfg.poll_factor,
            ),
            channel: None,
            was_live: false,
            loaded: false,
            emitted_revision: None,
            emitted_state: None,
            spec,
        };
        if let Err(e) = q.spec.validate() {
            // Never fetched or subscribed: a bad spec is a programming error, shown as such.
            q.poller.last_error = Some(e.to_string());
            self.queries.insert(id, q);
            return;
        }
        if self.cfg.realtime_enabled {
            let topic = topic_for(&format!("concierge-{}-{}", q.spec.table, id.0));
            let mut ch = Channel::new(topic, vec![q.spec.realtime_binding()]);
            self.socket.ensure_connected(out);
            if self.socket.is_open() {
                ch.join(
                    now,
                    self.cfg.push_timeout_ms,
                    &self.token(),
                    &mut self.socket,
                    out,
                );
            }
            q.channel = Some(ch);
        }
        self.queries.insert(id, q);
        self.resync(now, id, FetchReason::Initial, out);
    }

    fn channels_down(&mut self, why: &str) {
        for q in self.queries.values_mut() {
            if let Some(ch) = q.channel.as_mut() {
                ch.on_socket_down(why);
            }
        }
    }

    fn on_tick(&mut self, now: Millis, out: &mut Vec<Action>) {
        if self.socket.on_tick(now, self.hidden, out, &mut self.rng) == SocketTick::HeartbeatTimeout
        {
            self.channels_down("heartbeat timeout");
        }
        let token = self.token();
        let ids: Vec<QueryId> = self.queries.keys().copied().collect();
        for id in ids {
            let Some(q) = self.queries.get_mut(&id) else {
                continue;
            };
            if let Some(ch) = q.channel.as_mut() {
                ch.on_tick(
                    now,
                    self.cfg.push_timeout_ms,
                    &self.cfg.rejoin_steps_ms,
                    &token,
                    &mut self.socket,
                    &mut self.rng,
                    out,
                );
            }
            // A request that never answers must not stall the poller forever.
            if let Some(f) = q.poller.in_flight()
                && now >= f.started_at + self.cfg.fetch_timeout_ms
            {
                out.push(Action::CancelFetch {
                    query: id,
                    fetch: f.id,
                });
                self.finish_fetch(now, id, f.id, Err("request timed out".into()), out);
            }
        }
        // Realtime edges first (a channel confirmed this tick must not poll), then ticks.
        self.detect_edges(now, out);
        let ids: Vec<QueryId> = self.queries.keys().copied().collect();
        for id in ids {
            let Some(q) = self.queries.get_mut(&id) else {
                continue;
            };
            let gate = Gate {
                hidden: self.hidden,
                realtime_live: q.was_live,
            };
            if let Some(reason) = q.poller.tick(now, gate) {
                self.start_fetch(now, id, reason, out);
            }
        }
    }

    fn on_frame(&mut self, now: Millis, text: &str, out: &mut Vec<Action>) {
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
        let Some((&id, _)) = self
            .queries
            .iter()
            .find(|(_, q)| q.channel.as_ref().is_some_and(|c| c.topic() == msg.topic))
        else {
            return;
        };
        let Some(q) = self.queries.get_mut(&id) else {
            return;
        };
        let Some(ch) = q.channel.as_mut() else { return };
        let ev = ch.on_message(
            now,
            msg,
            self.cfg.subscribe_grace_ms,
            &self.cfg.rejoin_steps_ms,
            &mut self.socket,
            &mut self.rng,
            out,
        );
        match ev {
            ChannelEvent::Nothing => {}
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

    fn on_fetch_done(
        &mut self,
        now: Millis,
        id: QueryId,
        fetch: FetchId,
        result: Result<String, FetchError>,
        out: &mut Vec<Action>,
    ) {
        let outcome =
            result.map_err(|e| e.to_string()).and_then(|body| {
                match serde_json::from_str::<Value>(&body) {
                    Ok(Value::Array(rows)) => Ok(rows),
                    Ok(_) => Err(
                        "the server answered with something other than a list of rows".to_owned(),
                    ),
                    Err(e) => Err(format!("the server answered with invalid JSON: {e}")),
                }
            });
        self.finish_fetch(now, id, fetch, outcome, out);
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
        let Some(f) = q.poller.in_flight().filter(|f| f.id == fetch) else {
            return; // a late answer to a cancelled or superseded request
        };
        let poll_result = match outcome {
            Ok(rows) => {
                let changed = q.store.apply_snapshot(f.mark, rows);
                q.loaded = true;
                self.last_fetch_failed = false;
                Ok(changed)
            }
            Err(e) => {
                self.last_fetch_failed = true;
                self.last_error = Some(format!("{}: {e}", q.spec.table));
                Err(e)
            }
        };
        if let Some((_, Some(queued))) = q.poller.finished(now, fetch, poll_result) {
            self.resync(now, id, queued, out);
        }
    }

    fn resync_all(&mut self, now: Millis, reason: FetchReason, out: &mut Vec<Action>) {
        let ids: Vec<QueryId> = self.queries.keys().copied().collect();
        for id in ids {
            self.resync(now, id, reason, out);
        }
    }

    fn resync(&mut self, now: Millis, id: QueryId, reason: FetchReason, out: &mut Vec<Action>) {
        let hidden = self.hidden;
        let Some(q) = self.queries.get_mut(&id) else {
            return;
        };
        if q.spec.validate().is_err() {
            return;
        }
        if q.poller.resync(now, reason, hidden) {
            self.start_fetch(now, id, reason, out);
        }
    }

    fn start_fetch(
        &mut self,
        now: Millis,
        id: QueryId,
        reason: FetchReason,
        out: &mut Vec<Action>,
    ) {
        let Some(q) = self.queries.get_mut(&id) else {
            return;
        };
        if q.poller.in_flight().is_some() {
            return;
        }
        self.next_fetch += 1;
        let fetch = FetchId(self.next_fetch);
        q.poller.started(now, fetch, reason, q.store.mark());
        out.push(Action::Fetch {
            query: id,
            fetch,
            request: self.endpoint.rest_request(&q.spec, self.token.as_deref()),
        });
    }

    /// Realtime gained → snapshot once (no replay of what was missed); lost → fetch at once.
    fn detect_edges(&mut self, now: Millis, out: &mut Vec<Action>) {
        let socket_open = self.socket.is_open();
        let mut edges = Vec::new();
        for (id, q) in self.queries.iter_mut() {
            let live = socket_open && q.channel.as_ref().is_some_and(Channel::is_confirmed);
            if live != q.was_live {
                q.was_live = live;
                edges.push((*id, live));
            }
        }
        for (id, live) in edges {
            if live {
                self.ever_live = true;
                self.resync(now, id, FetchReason::Subscribed, out);
            } else {
                self.resync(now, id, FetchReason::RealtimeLost, out);
            }
        }
    }

    /// Edge detection, then emit what changed: rows, query states, diagnostics, the timer.
    fn after(&mut self, now: Millis, out: &mut Vec<Action>) {
        self.detect_edges(now, out);
        for (id, q) in self.queries.iter_mut() {
            let rev = q.store.revision();
            if q.loaded && q.emitted_revision != Some(rev) {
                q.emitted_revision = Some(rev);
                out.push(Action::Rows {
                    query: *id,
                    rows: q.store.view(),
                });
            }
            let st = q.state();
            if q.emitted_state.as_ref() != Some(&st) {
                q.emitted_state = Some(st.clone());
                out.push(Action::QueryState {
                    query: *id,
                    state: st,
                });
            }
        }
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
