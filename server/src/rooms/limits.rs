//! Broadcast and Presence limits (see `SECURITY.md`), with their defaults.

/// Default of [`RoomLimits::max_presence_per_channel`].
pub const DEFAULT_MAX_PRESENCE_PER_CHANNEL: usize = 1_000;
/// Default of [`RoomLimits::max_presence_per_socket`].
pub const DEFAULT_MAX_PRESENCE_PER_SOCKET: usize = 10;
/// Default of [`RoomLimits::max_broadcast_bytes`]: 256 KiB, Supabase's free-plan payload size.
pub const DEFAULT_MAX_BROADCAST_BYTES: usize = 256 * 1024;
/// Default of [`RoomLimits::max_presence_bytes`]: a meta is kept in memory for every member.
pub const DEFAULT_MAX_PRESENCE_BYTES: usize = 4 * 1024;
/// Default of [`RoomLimits::messages_per_sec`].
pub const DEFAULT_MESSAGES_PER_SEC: u32 = 100;
/// Default of [`RoomLimits::max_api_messages`].
pub const DEFAULT_MAX_API_MESSAGES: usize = 100;

#[derive(Debug, Clone)]
pub struct RoomLimits {
    /// Presence entries (metas) one channel topic holds at once.
    pub max_presence_per_channel: usize,
    /// Channels one socket may be tracked in at once.
    pub max_presence_per_socket: usize,
    /// Largest broadcast payload (its JSON or binary bytes).
    pub max_broadcast_bytes: usize,
    /// Largest presence meta (its JSON bytes).
    pub max_presence_bytes: usize,
    /// Broadcast and presence messages one socket may send per second.
    pub messages_per_sec: u32,
    /// Messages one `POST /realtime/v1/api/broadcast` may carry.
    pub max_api_messages: usize,
}

impl Default for RoomLimits {
    fn default() -> RoomLimits {
        RoomLimits {
            max_presence_per_channel: DEFAULT_MAX_PRESENCE_PER_CHANNEL,
            max_presence_per_socket: DEFAULT_MAX_PRESENCE_PER_SOCKET,
            max_broadcast_bytes: DEFAULT_MAX_BROADCAST_BYTES,
            max_presence_bytes: DEFAULT_MAX_PRESENCE_BYTES,
            messages_per_sec: DEFAULT_MESSAGES_PER_SEC,
            max_api_messages: DEFAULT_MAX_API_MESSAGES,
        }
    }
}
