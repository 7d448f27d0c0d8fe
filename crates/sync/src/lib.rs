//! # The Concierge sync engine core
//!
//! Keeps a set of rows ("live queries") current in a browser, the way our users need:
//! **realtime first** (Supabase Realtime `postgres_changes` over one Phoenix WebSocket),
//! **REST polling as the safety net** (PostgREST), and never a wrong screen in between.
//!
//! This crate is pure: no clock, no timers, no I/O. An [`Engine`] receives [`Input`]s —
//! ticks, socket open/frame/close, visibility, online, page hide/show, fetch results,
//! subscribe/unsubscribe, token changes — each with the current time from an injected clock,
//! and answers with [`Action`]s for the shell to perform: connect, send, close, fetch, cancel a
//! fetch, set the one timer, and emit rows / query states / diagnostics. The browser shell
//! (`src/sync/` in the app) is a thin adapter; every schedule is tested natively here in
//! microseconds with a fake clock.
//!
//! ## One small type per concept (in the spirit of phoenix.js)
//! - [`socket::Socket`]: connection lifecycle, heartbeat with a one-interval reply timeout,
//!   reconnect backoff 1, 2, 5, 10 s (+ jitter), no reconnects while hidden.
//! - [`channel::Channel`]: `phx_join` with the full bindings on every rejoin, reply bindings
//!   checked by index, rejoin backoff 1, 2, 5, 10 s, join timeout, statuses, stale join_ref
//!   dropping, "subscribed" = the `system` confirmation (or a grace period).
//! - [`poller::Poller`]: the fallback curve (10 → 15 → 22.5 → 30 s), skipping ticks while
//!   realtime is confirmed or the page hidden, resyncs, dedupe.
//! - [`store::Store`]: the merge of realtime events and REST snapshots that never lets an older
//!   copy of a row win.
//! - [`backoff::Timer`]: a deadline with a tries counter; [`backoff::Rng`]: seeded jitter.
//! - [`room::Room`]: a Broadcast + Presence channel (a conversation's `session:<id>`), with
//!   [`presence::PresenceState`] (realtime-js's merge of `presence_state` / `presence_diff`)
//!   and [`typing::Typing`] (send at most every 2 s, others' indicators expire after 5 s).
//!
//! ## How the pieces meet
//! Each live query (module `live`) owns a channel, a poller and a store. After every input the
//! engine compares, per query, "realtime confirmed" before and after: a rising edge fetches one
//! snapshot (Realtime does not replay what was missed while down); a falling edge fetches at
//! once and restarts the poll curve. All times are milliseconds since the Unix epoch
//! ([`Millis`]), so the commit → applied latency can be measured against the same clock.
//!
//! ## Layers (no module imports one above it)
//! 1. Shared leaf types and pure helpers: [`spec`], `decimal`, [`timestamp`]; they import
//!    nothing else of the crate but each other (and this crate root's re-exports, never).
//! 2. Machines: [`backoff`], [`poller`], [`socket`], [`channel`], [`presence`], [`typing`],
//!    [`room`]. They import only the leaf,
//!    [`Millis`] and each other, never the engine: each owns its types ([`ConnId`],
//!    [`SocketState`], [`ChannelStatus`], [`socket::Refs`]) and returns what it wants done
//!    ([`socket::SocketCmd`], the messages a channel wants sent) instead of emitting actions.
//! 3. The engine: [`status`] (what views see; re-exports the machines' states), [`store`],
//!    [`io`] ([`Input`], [`Action`], [`FetchError`]; turns a `SocketCmd` into an [`Action`]),
//!    [`config`] (builds the machines), `live` (one query), then [`engine`] (dispatch).

pub mod backoff;
pub mod channel;
pub mod config;
mod decimal;
pub mod engine;
pub mod io;
mod live;
pub mod poller;
pub mod presence;
pub mod room;
pub mod socket;
pub mod spec;
pub mod status;
pub mod store;
pub mod timestamp;
pub mod typing;

/// Milliseconds since the Unix epoch, from the injected clock.
pub type Millis = u64;

pub use config::EngineConfig;
pub use engine::Engine;
pub use io::{Action, ConnId, FetchError, Input, RoomInput};
pub use poller::FetchReason;
pub use presence::Presence;
pub use room::{RoomId, RoomSpec, RoomView};
pub use spec::{Endpoint, FetchId, HttpRequest, LiveQuerySpec, OrderBy, QueryId, VersionSource};
pub use status::{
    ChannelStatus, ConnectionState, Diagnostics, QueryState, QueryStatus, SocketState,
};
pub use store::{ChangeOutcome, Row, Store};
