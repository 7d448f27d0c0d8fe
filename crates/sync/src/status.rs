//! What views and the operators' panel see: the states of a channel, the socket and a query,
//! the page-level connection indicator and the diagnostics counters.
//!
//! Plain data, derived by the machines and the engine. A channel's and the socket's states
//! are defined by those machines (which must not import the engine) and re-exported here, so
//! views find every status in one place.

pub use crate::channel::ChannelStatus;
pub use crate::socket::SocketState;

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
