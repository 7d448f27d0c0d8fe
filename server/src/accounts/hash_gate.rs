//! The bound on password hashing. Argon2id is memory-hard by design (about 19 MiB a hash with
//! the default parameters), so unbounded concurrent sign-ins cost unbounded memory: at most
//! `workers` hashes run at once, at most `queue` more wait for a turn, and anything beyond is
//! refused at once (`429`) instead of piling up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;

/// What a refused request is told to wait: one hash takes a fraction of a second, a full
/// queue drains in about a second.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The gate was full (all workers busy, the queue full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("password hashing is at capacity")]
pub struct Busy;

#[derive(Debug)]
pub struct HashGate {
    workers: Arc<Semaphore>,
    /// Admitted requests: running plus waiting; at most `workers + queue`.
    admitted: AtomicUsize,
    capacity: usize,
    running: AtomicUsize,
    peak: AtomicUsize,
}

/// Gives back the admission when the request ends, whether it ran, failed or was dropped.
struct Admission<'a>(&'a HashGate);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.admitted.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Running<'a>(&'a HashGate);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashGate {
    /// `workers` hashes at once (at least one), `queue` more waiting.
    pub fn new(workers: usize, queue: usize) -> HashGate {
        let workers = workers.max(1);
        HashGate {
            workers: Arc::new(Semaphore::new(workers)),
            admitted: AtomicUsize::new(0),
            capacity: workers + queue,
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        }
    }

    /// The most hashes that ever ran at once (tests and diagnostics).
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Acquire)
    }

    /// Runs `work` (a hash or a verification) on the blocking pool when a worker is free, or
    /// refuses at once when the queue is full.
    pub async fn run<T, F>(&self, work: F) -> Result<T, GateError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let admitted = self.admitted.fetch_add(1, Ordering::AcqRel);
        let _admission = Admission(self);
        if admitted >= self.capacity {
            return Err(GateError::Busy(Busy));
        }
        let _permit = self
            .workers
            .acquire()
            .await
            .map_err(|_| GateError::Closed)?;
        let now = self.running.fetch_add(1, Ordering::AcqRel) + 1;
        let _running = Running(self);
        self.peak.fetch_max(now, Ordering::AcqRel);
        // The permit is held until the blocking work is done: a client that hangs up does not
        // free a worker slot while its hash still runs.
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| GateError::Closed)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error(transparent)]
    Busy(#[from] Busy),
    #[error("the hashing task failed")]
    Closed,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn at_most_workers_run_and_beyond_the_queue_is_refused() {
        let gate = Arc::new(HashGate::new(2, 3));
        // Each "hash" takes long enough that all ten arrive while the first ones still run.
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let gate = gate.clone();
                tokio::spawn(async move {
                    gate.run(|| std::thread::sleep(Duration::from_millis(200)))
                        .await
                })
            })
            .collect();
        let (mut ok, mut busy) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => ok += 1,
                Err(GateError::Busy(_)) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(
            (ok, busy),
            (5, 5),
            "two running and three queued, the rest refused"
        );
        assert_eq!(gate.peak(), 2, "never more hashes at once than workers");
        assert_eq!(gate.admitted.load(Ordering::Acquire), 0, "all given back");
        assert!(gate.run(|| ()).await.is_ok(), "open again once drained");
    }
}
