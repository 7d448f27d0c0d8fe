//! Who gets a reader connection, and when. Every read waits (asynchronously, in arrival order)
//! for one of the readers; a read with a `like`/`ilike` filter must first also get one of the
//! few *pattern lanes*. Pattern matching over long text is the one way a single request can
//! keep a reader busy until the statement timeout, so however many such requests arrive,
//! they hold at most `pattern_lanes` readers (fewer than all of them): the remaining readers
//! always serve ordinary reads, which take a millisecond each. Pattern reads that find the
//! lanes busy queue, up to `pattern_queue`; beyond that they are refused at once (429)
//! instead of piling up as blocked threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use concierge_wire::filter::FilterOp;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::DbError;
use super::sql::{Cond, ReadQuery};

/// Default reader connections.
pub const DEFAULT_READERS: usize = 4;
/// Default pattern lanes: one slow pattern read at a time leaves every other reader free,
/// and on a small machine its CPU use stays one core.
pub const DEFAULT_PATTERN_LANES: usize = 1;
/// Default pattern reads waiting for a lane: with the default 2 s statement timeout, the
/// last one waits at most ~16 s.
pub const DEFAULT_PATTERN_QUEUE: usize = 8;

/// Which gate a read goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadKind {
    /// Index lookups and scans bounded by the row cap: cheap.
    Plain,
    /// A `like`/`ilike` filter somewhere in the query (top level or in a logic group).
    Pattern,
}

impl ReadKind {
    pub fn of(q: &ReadQuery) -> ReadKind {
        fn is_pattern(op: FilterOp) -> bool {
            matches!(op, FilterOp::Like | FilterOp::ILike)
        }
        fn cond_has_pattern(c: &Cond) -> bool {
            match c {
                Cond::Filter(f) => is_pattern(f.op),
                Cond::Group(g) => g.items.iter().any(cond_has_pattern),
            }
        }
        let pattern = q.filters.iter().any(|f| is_pattern(f.op))
            || q.groups
                .iter()
                .any(|g| g.items.iter().any(cond_has_pattern));
        if pattern {
            ReadKind::Pattern
        } else {
            ReadKind::Plain
        }
    }
}

/// The gate's sizes; see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    pub readers: usize,
    pub pattern_lanes: usize,
    pub pattern_queue: usize,
}

impl Default for ReadLimits {
    fn default() -> ReadLimits {
        ReadLimits {
            readers: DEFAULT_READERS,
            pattern_lanes: DEFAULT_PATTERN_LANES,
            pattern_queue: DEFAULT_PATTERN_QUEUE,
        }
    }
}

impl ReadLimits {
    /// At least two readers (one for patterns, one for everything else); pattern lanes
    /// between one and all readers but one.
    pub fn normalised(self) -> ReadLimits {
        let readers = self.readers.max(2);
        ReadLimits {
            readers,
            pattern_lanes: self.pattern_lanes.clamp(1, readers - 1),
            pattern_queue: self.pattern_queue,
        }
    }
}

/// Permission to use one reader: held until the read's blocking work is over (it moves into
/// that work, so a caller that goes away mid-read does not free a reader still in use).
#[derive(Debug)]
pub struct ReadPass {
    _reader: OwnedSemaphorePermit,
    _lane: Option<(OwnedSemaphorePermit, Counted)>,
}

#[derive(Debug)]
pub struct ReadGate {
    readers: Arc<Semaphore>,
    lanes: Arc<Semaphore>,
    /// Pattern reads waiting for a lane or running in one.
    patterns: Arc<AtomicUsize>,
    max_patterns: usize,
}

impl ReadGate {
    pub fn new(limits: ReadLimits) -> ReadGate {
        let l = limits.normalised();
        ReadGate {
            readers: Arc::new(Semaphore::new(l.readers)),
            lanes: Arc::new(Semaphore::new(l.pattern_lanes)),
            patterns: Arc::new(AtomicUsize::new(0)),
            max_patterns: l.pattern_lanes + l.pattern_queue,
        }
    }

    /// Pattern reads waiting or running right now.
    pub fn pattern_reads(&self) -> usize {
        self.patterns.load(Ordering::Relaxed)
    }

    /// Waits for a reader (and, for a pattern read, a lane first), or refuses a pattern read
    /// when too many already wait.
    pub async fn enter(&self, kind: ReadKind) -> Result<ReadPass, DbError> {
        let lane = match kind {
            ReadKind::Plain => None,
            ReadKind::Pattern => Some(self.enter_lane().await?),
        };
        let reader = self
            .readers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| DbError::Worker("reader gate closed".into()))?;
        Ok(ReadPass {
            _reader: reader,
            _lane: lane,
        })
    }

    async fn enter_lane(&self) -> Result<(OwnedSemaphorePermit, Counted), DbError> {
        let before = self.patterns.fetch_add(1, Ordering::Relaxed);
        // Counted from here on: the guard undoes the count on every exit (a refusal, the
        // request dropped while it waits, or the read's end).
        let counted = Counted(self.patterns.clone());
        if before >= self.max_patterns {
            return Err(DbError::PatternReadsBusy {
                limit: self.max_patterns,
            });
        }
        let permit = self
            .lanes
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| DbError::Worker("pattern lane gate closed".into()))?;
        Ok((permit, counted))
    }
}

/// One pattern read in the count; uncounted when dropped.
#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pattern_reads_past_the_lanes_and_queue_are_refused_and_plain_reads_still_pass() {
        let gate = ReadGate::new(ReadLimits {
            readers: 4,
            pattern_lanes: 1,
            pattern_queue: 2,
        });
        let running = gate.enter(ReadKind::Pattern).await.unwrap();
        // Two more wait for the lane (polled once so they are counted), the fourth is refused.
        let mut waiting: Vec<_> = (0..2)
            .map(|_| Box::pin(gate.enter(ReadKind::Pattern)))
            .collect();
        for w in &mut waiting {
            assert!(futures_poll_once(w.as_mut()).await.is_none());
        }
        assert_eq!(gate.pattern_reads(), 3);
        assert!(matches!(
            gate.enter(ReadKind::Pattern).await,
            Err(DbError::PatternReadsBusy { limit: 3 })
        ));
        // Plain reads take the other three readers while all that goes on.
        let plain: Vec<_> = futures_all(&gate, 3).await;
        assert_eq!(plain.len(), 3);
        drop(plain);
        drop(waiting);
        drop(running);
        assert_eq!(gate.pattern_reads(), 0);
    }

    #[test]
    fn limits_keep_one_reader_for_plain_reads() {
        let l = ReadLimits {
            readers: 1,
            pattern_lanes: 9,
            pattern_queue: 0,
        }
        .normalised();
        assert_eq!((l.readers, l.pattern_lanes), (2, 1));
    }

    async fn futures_all(gate: &ReadGate, n: usize) -> Vec<ReadPass> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(gate.enter(ReadKind::Plain).await.unwrap());
        }
        out
    }

    /// Polls `f` once: `Some` if it finished.
    async fn futures_poll_once<F: std::future::Future + Unpin>(f: F) -> Option<F::Output> {
        let mut f = f;
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }
}
