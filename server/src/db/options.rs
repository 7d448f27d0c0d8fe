//! Storage limits an operator configures (see the README's configuration section and
//! SECURITY.md's "Limits" table).

use std::time::Duration;

use super::read_gate::ReadLimits;

/// Default statement timeout: far above any query the app makes, far below a client's patience.
pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default WAL bound.
pub const DEFAULT_WAL_LIMIT_BYTES: u64 = 32 * 1024 * 1024;
/// Default cap on kiosk results per kiosk session: far above a guest's searches in a day.
pub const DEFAULT_MAX_RESULTS_PER_SESSION: u32 = 1000;
/// Default cap on messages per conversation: a long chat is a few hundred.
pub const DEFAULT_MAX_MESSAGES_PER_SESSION: u32 = 2000;
/// Default message writes per user and minute: faster than anyone types, slower than a script.
pub const DEFAULT_MESSAGE_WRITES_PER_MINUTE: u32 = 60;
/// Default depth of the concierge's reply queue (messages waiting for a reply).
pub const DEFAULT_REPLY_QUEUE_DEPTH: u32 = 10_000;
/// Default page cache per connection and schema (KiB): SQLite's own default.
pub const DEFAULT_CACHE_KIB: u32 = 2000;
/// Default period of the writer's cache release (the memory trim's default period).
pub const DEFAULT_CACHE_RELEASE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Longest any one query may run before it is cancelled (57014); zero = no timeout.
    pub statement_timeout: Duration,
    /// The WAL file stays below this size: past half of it, the writer checkpoints (waiting for
    /// readers) between two transactions and truncates the file.
    pub wal_limit_bytes: u64,
    /// Largest the database file may grow (`PRAGMA max_page_count`); `None` = SQLite's own limit.
    pub max_db_bytes: Option<u64>,
    /// Kiosk results one kiosk session may hold; 0 = no cap.
    pub max_results_per_session: u32,
    /// Messages one conversation may hold; 0 = no cap.
    pub max_messages_per_session: u32,
    /// Messages one user (or kiosk identity) may write per minute; 0 = no limit.
    pub message_writes_per_minute: u32,
    /// Customer messages waiting for the concierge at most; 0 = no reply queue at all.
    pub reply_queue_depth: u32,
    /// Reader connections and how many of them pattern reads may hold.
    pub reads: ReadLimits,
    /// Page cache each connection adds to SQLite's pooled page cache (KiB).
    pub cache_kib: u32,
    /// How often the writer drops the cached pages no statement holds; `None` = never.
    pub cache_release_every: Option<Duration>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            statement_timeout: DEFAULT_STATEMENT_TIMEOUT,
            wal_limit_bytes: DEFAULT_WAL_LIMIT_BYTES,
            max_db_bytes: None,
            max_results_per_session: DEFAULT_MAX_RESULTS_PER_SESSION,
            max_messages_per_session: DEFAULT_MAX_MESSAGES_PER_SESSION,
            message_writes_per_minute: DEFAULT_MESSAGE_WRITES_PER_MINUTE,
            reply_queue_depth: DEFAULT_REPLY_QUEUE_DEPTH,
            reads: ReadLimits::default(),
            cache_kib: DEFAULT_CACHE_KIB,
            cache_release_every: Some(DEFAULT_CACHE_RELEASE),
        }
    }
}

impl Options {
    /// WAL size past which the writer runs a truncating checkpoint: half the bound, so one
    /// more transaction smaller than the other half still fits under it.
    pub fn wal_checkpoint_threshold(&self) -> u64 {
        self.wal_limit_bytes / 2
    }

    /// Sets the page cache of `conn` to [`Options::cache_kib`]. The bundled SQLite pools all
    /// connections' caches (see `writer::cache`), so this adds `cache_kib` to the pool: SQLite's
    /// page memory stays below (readers + 2) × `cache_kib`.
    pub fn limit_cache(&self, conn: &rusqlite::Connection) -> rusqlite::Result<()> {
        // A negative cache_size is in KiB; at least one page's worth keeps SQLite working.
        let kib = self.cache_kib.max(4);
        conn.execute_batch(&format!("PRAGMA main.cache_size = -{kib};"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_cache_sets_the_configured_size() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        let opts = Options {
            cache_kib: 300,
            ..Options::default()
        };
        opts.limit_cache(&conn).unwrap();
        let size: i64 = conn
            .query_row("PRAGMA main.cache_size", [], |r| r.get(0))
            .unwrap();
        assert_eq!(size, -300);
    }
}
