//! The fan-out: which channel listens to what, and delivery of committed changes.
//!
//! Subscriptions are indexed by table and, for `column=eq.value` filters, by (column, value),
//! so a change reaches its matching channels without scanning every socket (the kiosk
//! workload: thousands of sockets, each with its own `session_id=eq.<id>`). Each event is
//! encoded once per distinct (serializer, topic, ids) and the bytes are shared.
//!
//! One dispatcher task consumes changes in commit order (the writer publishes under its lock)
//! and pushes into each socket's bounded queue, so every socket sees commit order too.
//!
//! The dispatcher and every socket's writer task run on their own runtime ([`spawn_fanout`]):
//! one catalogue change wakes 10,000 writer tasks, and on the server's main runtime those sat in
//! the run queues ahead of the REST handlers, so a write's own HTTP response (and the next
//! write) waited for the previous change's whole fan-out. On separate threads the OS scheduler
//! interleaves them instead.

mod deliver;
mod frame;
mod index;
pub mod matcher;
mod outbox;
mod runtime;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio_util::sync::CancellationToken;

pub use frame::{encode_data, encode_frame};
pub use index::{Binding, Channel};
pub use outbox::{CloseReason, Closing, FRAME_OVERHEAD, Outbox, Queue};
pub use runtime::spawn_fanout;

use index::Index;

/// Limits that keep one client from hurting the others (see `SECURITY.md`).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Close a socket after this long without a frame from the client.
    pub idle_timeout: Duration,
    /// Bytes queued for one socket before it counts as too slow and is disconnected.
    pub queue_bytes: usize,
    /// Channels one socket may have joined at once (a re-join of a topic replaces it).
    pub max_channels: usize,
    /// `postgres_changes` entries one `phx_join` may carry.
    pub max_changes_per_join: usize,
    /// Largest WebSocket frame or message a client may send.
    pub max_message_bytes: usize,
}

/// Default of [`Limits::queue_bytes`]: 8 MiB.
pub const DEFAULT_QUEUE_BYTES: usize = 8 * 1024 * 1024;
/// Default of [`Limits::max_channels`].
pub const DEFAULT_MAX_CHANNELS: usize = 100;
/// Default of [`Limits::max_changes_per_join`].
pub const DEFAULT_MAX_CHANGES_PER_JOIN: usize = 100;

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            idle_timeout: Duration::from_secs(60),
            queue_bytes: DEFAULT_QUEUE_BYTES,
            max_channels: DEFAULT_MAX_CHANNELS,
            max_changes_per_join: DEFAULT_MAX_CHANGES_PER_JOIN,
            max_message_bytes: concierge_wire::phoenix::MAX_FRAME_BYTES,
        }
    }
}

/// The realtime hub: subscription index plus the shutdown signal for every socket.
pub struct Hub {
    index: RwLock<Index>,
    next_id: AtomicU64,
    /// `postgres_changes` frames encoded so far (each shared by every socket it goes to).
    encoded: AtomicU64,
    pub limits: Limits,
    pub shutdown: CancellationToken,
}

impl Hub {
    pub fn new(limits: Limits) -> Arc<Hub> {
        Arc::new(Hub {
            index: RwLock::new(Index::default()),
            next_id: AtomicU64::new(1),
            encoded: AtomicU64::new(0),
            limits,
            shutdown: CancellationToken::new(),
        })
    }

    pub fn next_channel_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a channel and, under the same lock, queues `then` (the "Subscribed to
    /// PostgreSQL" message), so no change can reach the client before it.
    pub fn join(&self, id: u64, ch: Channel, then: Option<Utf8Bytes>) {
        let mut idx = self.index.write().unwrap_or_else(|e| e.into_inner());
        let outbox = ch.outbox.clone();
        idx.add(id, ch);
        if let Some(frame) = then {
            outbox.push(frame);
        }
    }

    /// Swaps a channel's subscription (new claims after `access_token`) under one lock, so
    /// no change dispatched in between is lost to it.
    pub fn replace(&self, old: u64, new: u64, ch: Channel) {
        let mut idx = self.index.write().unwrap_or_else(|e| e.into_inner());
        idx.remove(old);
        idx.add(new, ch);
    }

    /// Removes one channel. A closing socket calls this once per channel, so the lock is
    /// held for one channel's bindings at a time and changes for other sockets interleave.
    pub fn leave(&self, id: u64) -> Option<Channel> {
        self.index
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
    }

    /// `postgres_changes` frames encoded since start (for tests and diagnostics): one per
    /// change and distinct (serializer, topic, binding ids), however many sockets get it.
    pub fn frames_encoded(&self) -> u64 {
        self.encoded.load(Ordering::Relaxed)
    }

    /// Number of channels currently subscribed (for tests and diagnostics).
    pub fn channel_count(&self) -> usize {
        self.index.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}
