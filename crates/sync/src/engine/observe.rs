//! What callers may read from the engine between inputs: rows, states, deadlines and the
//! diagnostics (with the page-level connection indicator derived from the machines).

use super::Engine;
use crate::Millis;
use crate::channel::Channel;
use crate::config::EngineConfig;
use crate::live::LiveQuery;
use crate::spec::{FetchId, QueryId};
use crate::status::{ConnectionState, Diagnostics, QueryState, SocketState};
use crate::store::Row;

impl Engine {
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }

    /// Frames that failed to decode (they are dropped, never fatal).
    pub fn malformed_frames(&self) -> u64 {
        self.malformed_frames
    }

    /// The earliest time the engine needs an [`crate::Input::Tick`].
    pub fn next_deadline(&self) -> Option<Millis> {
        self.queries
            .values()
            .map(LiveQuery::deadline)
            .chain([self.socket.deadline(), self.rooms_deadline()])
            .flatten()
            .min()
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
}
