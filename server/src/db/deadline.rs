//! The statement timeout. Every query on a connection runs under its [`Deadline`]: SQLite's
//! progress handler asks it every few thousand virtual-machine steps whether time is up, and
//! `pg_like` (whose one call can be long on long text) asks it while matching. Either way the
//! statement stops with `SQLITE_INTERRUPT`, which the caller reports as Postgres' 57014.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use super::DbError;

/// Virtual-machine steps between two looks at the clock: frequent enough to stop within a
/// millisecond or so, rare enough that reading the clock costs nothing measurable.
const STEPS_BETWEEN_CHECKS: i32 = 4_000;

/// One connection's per-statement deadline. Armed before a query, disarmed after it.
#[derive(Debug)]
pub struct Deadline {
    base: Instant,
    timeout: Duration,
    /// Nanoseconds after `base` at which the running statement must stop; 0 = unarmed.
    at_ns: AtomicU64,
    /// Set when a check found the deadline passed: the statement's outcome is a timeout, even
    /// if SQLite happened to finish before it noticed.
    tripped: AtomicBool,
}

impl Deadline {
    /// A deadline `timeout` after each [`Deadline::arm`]; a zero timeout never fires.
    pub fn new(timeout: Duration) -> Arc<Deadline> {
        Arc::new(Deadline {
            base: Instant::now(),
            timeout,
            at_ns: AtomicU64::new(0),
            tripped: AtomicBool::new(false),
        })
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Starts the clock for the next statement(s).
    pub fn arm(&self) {
        self.tripped.store(false, Ordering::Relaxed);
        if self.timeout.is_zero() {
            return;
        }
        let timeout = u64::try_from(self.timeout.as_nanos()).unwrap_or(u64::MAX);
        let at = self.now_ns().saturating_add(timeout).max(1);
        self.at_ns.store(at, Ordering::Relaxed);
    }

    /// Whether the armed deadline has passed (remembered until [`Deadline::disarm`]).
    pub fn passed(&self) -> bool {
        let at = self.at_ns.load(Ordering::Relaxed);
        if at == 0 || self.now_ns() < at {
            return false;
        }
        self.tripped.store(true, Ordering::Relaxed);
        true
    }

    /// Stops the clock; `true` if the deadline cut the statement short.
    pub fn disarm(&self) -> bool {
        self.at_ns.store(0, Ordering::Relaxed);
        self.tripped.swap(false, Ordering::Relaxed)
    }

    /// Stops the clock and turns the outcome into a timeout if the deadline fired.
    pub fn settle<T>(&self, out: Result<T, DbError>) -> Result<T, DbError> {
        if self.disarm() {
            Err(DbError::StatementTimeout)
        } else {
            out
        }
    }

    /// Installs this deadline as `conn`'s progress handler.
    pub fn install(self: &Arc<Self>, conn: &Connection) {
        let me = self.clone();
        conn.progress_handler(STEPS_BETWEEN_CHECKS, Some(move || me.passed()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runaway_statement_is_interrupted_and_reported_as_a_timeout() {
        let conn = Connection::open_in_memory().unwrap();
        let d = Deadline::new(Duration::from_millis(20));
        d.install(&conn);
        d.arm();
        let endless = conn
            .query_row(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(DbError::from);
        assert!(matches!(d.settle(endless), Err(DbError::StatementTimeout)));
        // Disarmed, the connection answers as before.
        d.arm();
        let one = conn
            .query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
            .map_err(DbError::from);
        assert_eq!(d.settle(one).unwrap(), 1);
    }

    #[test]
    fn zero_means_no_timeout() {
        let d = Deadline::new(Duration::ZERO);
        d.arm();
        assert!(!d.passed());
        assert!(!d.disarm());
    }
}
