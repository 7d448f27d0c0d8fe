//! The Broadcast and Presence limits as command-line flags (each with its `CONCIERGE_…` twin);
//! their defaults live beside the rooms that enforce them ([`crate::rooms::limits`]).

use clap::Args;

use crate::rooms::RoomLimits;
use crate::rooms::limits::{
    DEFAULT_MAX_API_MESSAGES, DEFAULT_MAX_BROADCAST_BYTES, DEFAULT_MAX_PRESENCE_BYTES,
    DEFAULT_MAX_PRESENCE_PER_CHANNEL, DEFAULT_MAX_PRESENCE_PER_SOCKET, DEFAULT_MESSAGES_PER_SEC,
};

#[derive(Debug, Clone, Args)]
pub struct RoomLimitArgs {
    /// Presence entries one channel topic may hold; a track beyond it gets an error reply.
    #[arg(long, env = "CONCIERGE_WS_MAX_PRESENCE_PER_CHANNEL", default_value_t = DEFAULT_MAX_PRESENCE_PER_CHANNEL, global = true)]
    pub ws_max_presence_per_channel: usize,
    /// Channels one realtime socket may be tracked (Presence) in at once.
    #[arg(long, env = "CONCIERGE_WS_MAX_PRESENCE_PER_SOCKET", default_value_t = DEFAULT_MAX_PRESENCE_PER_SOCKET, global = true)]
    pub ws_max_presence_per_socket: usize,
    /// Largest Broadcast payload (bytes of its JSON); larger ones get an error reply.
    #[arg(long, env = "CONCIERGE_WS_MAX_BROADCAST_BYTES", default_value_t = DEFAULT_MAX_BROADCAST_BYTES, global = true)]
    pub ws_max_broadcast_bytes: usize,
    /// Largest Presence meta (bytes of its JSON); larger tracks get an error reply.
    #[arg(long, env = "CONCIERGE_WS_MAX_PRESENCE_BYTES", default_value_t = DEFAULT_MAX_PRESENCE_BYTES, global = true)]
    pub ws_max_presence_bytes: usize,
    /// Broadcast and Presence messages one socket may send per second; past it the channel is
    /// closed with "Too many messages per second", as on Supabase.
    #[arg(long, env = "CONCIERGE_WS_MESSAGES_PER_SEC", default_value_t = DEFAULT_MESSAGES_PER_SEC, global = true)]
    pub ws_messages_per_sec: u32,
    /// Messages one `POST /realtime/v1/api/broadcast` may carry (429 beyond it).
    #[arg(long, env = "CONCIERGE_BROADCAST_API_MAX_MESSAGES", default_value_t = DEFAULT_MAX_API_MESSAGES, global = true)]
    pub broadcast_api_max_messages: usize,
}

impl RoomLimitArgs {
    pub fn limits(&self) -> RoomLimits {
        RoomLimits {
            max_presence_per_channel: self.ws_max_presence_per_channel,
            max_presence_per_socket: self.ws_max_presence_per_socket,
            max_broadcast_bytes: self.ws_max_broadcast_bytes,
            max_presence_bytes: self.ws_max_presence_bytes,
            messages_per_sec: self.ws_messages_per_sec,
            max_api_messages: self.broadcast_api_max_messages,
        }
    }
}
