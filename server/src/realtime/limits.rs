//! The realtime abuse limits as command-line flags (each with its `CONCIERGE_…` twin); their
//! defaults live beside the hub that enforces them ([`crate::hub::Limits`]).

use std::time::Duration;

use clap::Args;
use concierge_wire::phoenix::MAX_FRAME_BYTES;

use crate::hub::{DEFAULT_MAX_CHANGES_PER_JOIN, DEFAULT_MAX_CHANNELS, DEFAULT_QUEUE_BYTES, Limits};

#[derive(Debug, Clone, Args)]
pub struct RealtimeLimitArgs {
    /// Bytes queued for one realtime socket before it counts as too slow and is closed
    /// (close code 1008).
    #[arg(long, env = "CONCIERGE_WS_QUEUE_BYTES", default_value_t = DEFAULT_QUEUE_BYTES, global = true)]
    pub ws_queue_bytes: usize,
    /// Channels one realtime socket may have joined at once.
    #[arg(long, env = "CONCIERGE_WS_MAX_CHANNELS", default_value_t = DEFAULT_MAX_CHANNELS, global = true)]
    pub ws_max_channels: usize,
    /// `postgres_changes` entries one `phx_join` may carry.
    #[arg(long, env = "CONCIERGE_WS_MAX_CHANGES_PER_JOIN", default_value_t = DEFAULT_MAX_CHANGES_PER_JOIN, global = true)]
    pub ws_max_changes_per_join: usize,
    /// Largest WebSocket frame or message a client may send (close code 1009 beyond it). At
    /// most 1 MiB: the Phoenix decoder refuses larger frames whatever this says.
    #[arg(long, env = "CONCIERGE_WS_MAX_MESSAGE_BYTES", default_value_t = MAX_FRAME_BYTES, global = true)]
    pub ws_max_message_bytes: usize,
}

impl RealtimeLimitArgs {
    pub fn limits(&self, idle_timeout: Duration) -> Limits {
        Limits {
            idle_timeout,
            // A queue must hold at least one largest frame the server sends; below that
            // every socket would be closed on its first big change.
            queue_bytes: self.ws_queue_bytes.max(64 * 1024),
            max_channels: self.ws_max_channels.max(1),
            max_changes_per_join: self.ws_max_changes_per_join,
            max_message_bytes: self.ws_max_message_bytes.clamp(1024, MAX_FRAME_BYTES),
        }
    }
}
