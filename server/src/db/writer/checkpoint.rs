//! The background checkpointer: folds the WAL back into the database file off the write path.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::db::Options;

/// How often the background checkpointer folds the WAL back into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);
/// How soon it goes again while the WAL holds more than a quarter of its bound: the more it
/// copies off the write path, the less the writer's own bounding checkpoint has to.
const CHECKPOINT_AGAIN: std::time::Duration = std::time::Duration::from_millis(50);

/// Held while either checkpointer runs. SQLite answers a checkpoint that finds another one in
/// progress with BUSY at once (no busy handler), which would let the writer's bounding
/// checkpoint lose to the background one again and again during a burst; with this lock the
/// writer waits for the background round to finish instead.
pub(super) type CheckpointLock = Arc<Mutex<()>>;

fn hold(lock: &CheckpointLock) -> std::sync::MutexGuard<'_, ()> {
    // The guarded value is `()`: a panic elsewhere leaves nothing inconsistent.
    lock.lock().unwrap_or_else(|p| p.into_inner())
}

/// Checkpoints (which fsync the database file) run on their own thread and connection, so a
/// slow disk never stalls a commit: the writer's automatic checkpoint is switched off.
pub(super) fn spawn_checkpointer(
    path: PathBuf,
    alive: std::sync::Weak<()>,
    opts: &Options,
    lock: CheckpointLock,
) {
    let busy_bytes = opts.wal_limit_bytes / 4;
    let opts = opts.clone();
    let spawned = std::thread::Builder::new()
        .name("concierge-checkpoint".into())
        .spawn(move || {
            let conn = match Connection::open(&path) {
                Ok(c) => c,
                Err(e) => return tracing::error!("checkpointer cannot open the database: {e}"),
            };
            let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
            let _ = opts.limit_cache(&conn);
            let page: u64 = conn
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .unwrap_or(4096);
            let mut pause = CHECKPOINT_EVERY;
            while alive.upgrade().is_some() {
                std::thread::sleep(pause);
                // PASSIVE never blocks the writer or the readers. It answers (busy, frames in
                // the WAL, frames copied).
                let frames = {
                    let _held = hold(&lock);
                    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1))
                };
                pause = match frames {
                    Ok(n) if (n.max(0) as u64).saturating_mul(page) > busy_bytes => {
                        CHECKPOINT_AGAIN
                    }
                    Ok(_) => CHECKPOINT_EVERY,
                    Err(e) => {
                        tracing::debug!("checkpoint: {e}");
                        CHECKPOINT_EVERY
                    }
                };
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the checkpoint thread: {e}");
    }
}

/// The WAL's size bound. The background PASSIVE checkpoint never catches up with a writer that
/// does not pause, so past a threshold the writer itself runs a TRUNCATE checkpoint between two
/// of its transactions: no write is in progress then (it cannot be starved by the writer), and
/// it waits (busy timeout) only for readers, whose statements the statement timeout bounds.
pub(super) struct WalBound {
    wal: PathBuf,
    threshold: u64,
    /// Whether the last attempt failed (logged once until one succeeds).
    failing: bool,
    lock: CheckpointLock,
}

impl WalBound {
    pub(super) fn new(db: &std::path::Path, opts: &Options, lock: CheckpointLock) -> WalBound {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        WalBound {
            wal: PathBuf::from(wal),
            threshold: opts.wal_checkpoint_threshold(),
            failing: false,
            lock,
        }
    }

    /// After each write: one `stat`, and a checkpoint when the WAL has passed the threshold.
    pub(super) fn after_write(&mut self, conn: &Connection) {
        let size = std::fs::metadata(&self.wal).map(|m| m.len()).unwrap_or(0);
        if size <= self.threshold {
            return;
        }
        let outcome = {
            let _held = hold(&self.lock);
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                r.get::<_, i64>(0)
            })
        };
        match outcome {
            Ok(0) => {
                if self.failing {
                    tracing::info!("WAL checkpoint completed again");
                }
                self.failing = false;
                tracing::debug!(wal_bytes = size, "WAL over its threshold: truncated");
            }
            Ok(_) | Err(_) if self.failing => {}
            Ok(_) => {
                self.failing = true;
                tracing::warn!(
                    wal_bytes = size,
                    "WAL over its threshold but readers kept the checkpoint from completing; \
                     retrying after the next write"
                );
            }
            Err(e) => {
                self.failing = true;
                tracing::warn!(wal_bytes = size, "WAL checkpoint failed: {e}");
            }
        }
    }
}
