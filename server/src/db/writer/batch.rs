//! Group commit. The writer thread takes every write already queued (up to [`MAX_WRITES`], for
//! at most [`MAX_TIME`], and not past the WAL's checkpoint threshold) into ONE transaction,
//! each write in a savepoint of its own, and commits once. A write that fails rolls back its
//! savepoint only; the others commit.
//!
//! Why: at thousands of writes a second a transaction per write costs a WAL commit each (the
//! frames of every page touched, the WAL index, a checkpoint sooner), and when the machine is
//! busy the one writer thread waits for a CPU between any two of them, so queued writes pile
//! up behind it. One commit per batch writes shared pages once and drains the queue in one
//! turn. The savepoints' journals stay in memory (`temp_store`, set in [`super::Writer::new`]):
//! in temporary files the same soak was several times slower than without batches.
//!
//! Nothing changes for the caller: a write is answered, and its changes are published, only
//! after the COMMIT that made it durable; if the COMMIT fails, every write of the batch is
//! answered with that failure.

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use super::checkpoint::WalBound;
use super::commit::Inner;
use crate::db::DbError;

/// Writes one transaction holds at most.
pub(super) const MAX_WRITES: usize = 128;
/// How long a batch keeps taking queued writes: a write that was answered quickly alone is not
/// held back for long behind a slow one.
pub(super) const MAX_TIME: Duration = Duration::from_millis(10);

/// One queued write: runs on the writer connection and returns its answer, to be sent once it
/// is known whether the write committed.
pub(super) type Job = Box<dyn FnOnce(&mut Inner) -> Answer + Send>;

/// Why a write that had succeeded in its savepoint did not commit after all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lost {
    /// The storage limit or the disk (SQLITE_FULL).
    StorageFull,
    /// Anything else (an I/O error, out of memory); the message says what.
    Other,
}

impl Lost {
    fn of(e: &DbError) -> Lost {
        match e {
            DbError::StorageFull => Lost::StorageFull,
            _ => Lost::Other,
        }
    }

    fn error(self, why: &str) -> DbError {
        match self {
            Lost::StorageFull => DbError::StorageFull,
            Lost::Other => DbError::Worker(format!("the write did not commit: {why}")),
        }
    }
}

/// A write's answer, held until its batch's COMMIT.
pub(super) struct Answer {
    /// Why the write itself failed (then nothing of it was staged).
    failed: Option<Lost>,
    send: Box<dyn FnOnce(Option<DbError>) + Send>,
}

impl Answer {
    /// Answers `out` on `to`, or the batch's failure if the write had succeeded.
    pub(super) fn new<T: Send + 'static>(
        out: Result<T, DbError>,
        to: tokio::sync::oneshot::Sender<Result<T, DbError>>,
    ) -> Answer {
        Answer {
            failed: out.as_ref().err().map(Lost::of),
            send: Box::new(move |lost| {
                let out = match (out, lost) {
                    (Ok(_), Some(e)) => Err(e),
                    (out, _) => out,
                };
                // The caller may have stopped waiting; the outcome stands either way.
                let _ = to.send(out);
            }),
        }
    }

    fn send(self, lost: Option<DbError>) {
        (self.send)(lost)
    }
}

/// The writer thread's loop: a batch per wake-up, then the WAL bound's check between batches
/// (a checkpoint cannot run inside a transaction).
pub(super) fn serve(rx: &Receiver<Job>, inner: &mut Inner, mut bound: Option<WalBound>) {
    while let Ok(first) = rx.recv() {
        let started = Instant::now();
        let mut batch = Batch::default();
        batch.run(inner, first);
        while batch.writes < MAX_WRITES
            && started.elapsed() < MAX_TIME
            && !bound.as_ref().is_some_and(WalBound::over)
        {
            match rx.try_recv() {
                Ok(job) => batch.run(inner, job),
                Err(_) => break,
            }
        }
        batch.commit(inner);
        if let Some(b) = bound.as_mut() {
            b.after_write(inner.conn());
        }
    }
}

/// The writes of the open transaction.
#[derive(Default)]
struct Batch {
    /// Whether this batch's BEGIN ran and nothing has ended its transaction since.
    open: bool,
    /// Answers of writes inside the open transaction, in order.
    held: Vec<Answer>,
    writes: usize,
}

impl Batch {
    fn run(&mut self, inner: &mut Inner, job: Job) {
        self.writes += 1;
        if !self.open {
            // Should BEGIN fail, the write's savepoint is its own transaction (answered below,
            // as soon as it has run): slower, never wrong.
            match inner.conn().execute_batch("BEGIN IMMEDIATE") {
                Ok(()) => self.open = true,
                Err(e) => tracing::warn!("cannot begin a write transaction: {e}"),
            }
        }
        let answer = job(inner);
        if self.open && inner.conn().is_autocommit() {
            // SQLite rolls the whole transaction back on some errors (SQLITE_FULL, I/O errors,
            // out of memory): the batch's earlier writes went with it.
            let lost = answer.failed.unwrap_or(Lost::Other);
            inner.drop_staged();
            for a in self.held.drain(..) {
                a.send(Some(
                    lost.error("rolled back with a failed write of its batch"),
                ));
            }
            self.open = false;
        }
        if self.open && answer.failed.is_none() {
            self.held.push(answer);
        } else {
            // A failed write staged nothing: its answer need not wait for the COMMIT.
            inner.publish_staged();
            answer.send(None);
        }
    }

    fn commit(self, inner: &mut Inner) {
        if !self.open {
            return;
        }
        match inner.conn().execute_batch("COMMIT") {
            Ok(()) => {
                inner.publish_staged();
                for a in self.held {
                    a.send(None);
                }
            }
            Err(e) => {
                if !inner.conn().is_autocommit() {
                    let _ = inner.conn().execute_batch("ROLLBACK");
                }
                inner.drop_staged();
                let err = DbError::from(e);
                let lost = Lost::of(&err);
                let why = err.to_string();
                inner.note_outcome(&Err::<(), _>(lost.error(&why)));
                if lost == Lost::Other {
                    tracing::warn!("a batch of {} writes did not commit: {why}", self.writes);
                }
                for a in self.held {
                    a.send(Some(lost.error(&why)));
                }
            }
        }
    }
}
