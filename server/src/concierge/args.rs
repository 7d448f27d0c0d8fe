//! The conversation's limits and the concierge's settings on the command line.

use std::time::Duration;

use clap::Args;

use crate::db::options as defaults;

/// Default for `--concierge-reply-delay-ms`: staff get four seconds to answer first, so the
/// concierge's reply lands within six of the guest's send.
pub const DEFAULT_REPLY_DELAY_MS: u64 = 4_000;
/// Default for `--concierge-workers`: replies composed at once.
pub const DEFAULT_WORKERS: usize = 4;

#[derive(Debug, Clone, Args)]
pub struct ConciergeArgs {
    /// How long a guest's or customer's message waits for a staff reply before the concierge
    /// answers it (milliseconds).
    #[arg(
        long,
        env = "CONCIERGE_REPLY_DELAY_MS",
        default_value_t = DEFAULT_REPLY_DELAY_MS,
        global = true
    )]
    pub concierge_reply_delay_ms: u64,
    /// Replies the concierge composes at once.
    #[arg(
        long,
        env = "CONCIERGE_WORKERS",
        default_value_t = DEFAULT_WORKERS,
        global = true
    )]
    pub concierge_workers: usize,
    /// Messages waiting for the concierge at most; a customer message beyond it is refused
    /// with 503 (53400) and may be sent again (same id). 0 = no concierge at all.
    #[arg(
        long,
        env = "CONCIERGE_QUEUE_DEPTH",
        default_value_t = defaults::DEFAULT_REPLY_QUEUE_DEPTH,
        global = true
    )]
    pub concierge_queue_depth: u32,
    /// Messages one conversation may hold; beyond it 400 (23514). 0 = no cap.
    #[arg(
        long,
        env = "CONCIERGE_MESSAGES_PER_SESSION",
        default_value_t = defaults::DEFAULT_MAX_MESSAGES_PER_SESSION,
        global = true
    )]
    pub messages_per_session: u32,
    /// Messages one user (or kiosk identity) may write per minute; beyond it 429. 0 = no limit.
    #[arg(
        long,
        env = "CONCIERGE_MESSAGE_WRITES_PER_MINUTE",
        default_value_t = defaults::DEFAULT_MESSAGE_WRITES_PER_MINUTE,
        global = true
    )]
    pub message_writes_per_minute: u32,
}

impl ConciergeArgs {
    /// Puts the message limits into the storage options.
    pub fn storage(&self, opts: &mut crate::db::Options) {
        opts.max_messages_per_session = self.messages_per_session;
        opts.message_writes_per_minute = self.message_writes_per_minute;
        opts.reply_queue_depth = self.concierge_queue_depth;
    }

    /// The concierge's settings, or `None` when it is switched off.
    pub fn settings(&self, hotel_id: String) -> Option<super::Settings> {
        (self.concierge_queue_depth > 0).then(|| super::Settings {
            delay: Duration::from_millis(self.concierge_reply_delay_ms),
            workers: self.concierge_workers.max(1),
            hotel_id,
        })
    }
}
