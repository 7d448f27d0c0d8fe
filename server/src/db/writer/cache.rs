//! Handing the writer's cached pages back, periodically.
//!
//! rusqlite's bundled SQLite is built with `SQLITE_ENABLE_MEMORY_MANAGEMENT`, which puts every
//! connection's page cache into one pool whose size is the sum of their `cache_size`s. Readers
//! empty theirs whenever the writer has committed since their last read, so under sustained
//! writes the writer's cache alone slowly filled the whole pool: in the soak (`BENCHMARKS.md`,
//! "Soak") the server's resident size grew about 2 MiB a minute for seven minutes. Dropping the
//! writer's unused pages now and then keeps it at what a few seconds of writes touch, from the
//! first minute on; what that costs is re-reading the B-trees' upper pages, which the OS page
//! cache still holds.

use std::time::{Duration, Instant};

use rusqlite::Connection;

/// When the writer last dropped its unused cached pages, and how often it does.
pub(super) struct CacheRelease {
    every: Duration,
    last: Instant,
}

impl CacheRelease {
    pub(super) fn new(every: Duration) -> CacheRelease {
        CacheRelease {
            every,
            last: Instant::now(),
        }
    }

    /// Between two writes: frees the connection's unpinned cached pages once `every` has passed.
    pub(super) fn after_write(&mut self, conn: &Connection) {
        if self.last.elapsed() < self.every {
            return;
        }
        self.last = Instant::now();
        // SAFETY: called on the writer's thread, between two jobs, with its own connection;
        // SQLite frees only pages no statement holds.
        let rc = unsafe { rusqlite::ffi::sqlite3_db_release_memory(conn.handle()) };
        if rc != rusqlite::ffi::SQLITE_OK {
            tracing::debug!("releasing the writer's page cache: SQLite error {rc}");
        }
    }
}

/// Bytes of cached pages `conn` holds, over all its schemas.
#[cfg(test)]
pub(super) fn cache_used(conn: &Connection) -> i64 {
    let (mut now, mut peak) = (0, 0);
    // SAFETY: a live connection handle and two valid out-pointers.
    unsafe {
        rusqlite::ffi::sqlite3_db_status(
            conn.handle(),
            rusqlite::ffi::SQLITE_DBSTATUS_CACHE_USED,
            &mut now,
            &mut peak,
            0,
        )
    };
    i64::from(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(release: &mut CacheRelease) -> i64 {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("w.db")).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE r (x);")
            .unwrap();
        for _ in 0..200 {
            conn.execute("INSERT INTO r VALUES (zeroblob(2048))", [])
                .unwrap();
            release.after_write(&conn);
        }
        cache_used(&conn)
    }

    #[test]
    fn pages_are_dropped_once_the_period_passed() {
        // 200 writes of 2 KiB: about 100 pages cached when nothing drops them.
        let kept = filled(&mut CacheRelease::new(Duration::from_secs(3600)));
        let dropped = filled(&mut CacheRelease::new(Duration::ZERO));
        assert!(kept > 300_000, "kept {kept}");
        assert!(dropped < 30_000, "dropped {dropped}");
    }
}
