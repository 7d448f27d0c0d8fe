//! The background checkpointer: folds the WAL back into the database file off the write path.

use rusqlite::Connection;

/// How often the background checkpointer folds the WAL back into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Checkpoints (which fsync the database file) run on their own thread and connection, so a
/// slow disk never stalls a commit: the writer's automatic checkpoint is switched off.
pub(super) fn spawn_checkpointer(path: std::path::PathBuf, alive: std::sync::Weak<()>) {
    let spawned = std::thread::Builder::new()
        .name("concierge-checkpoint".into())
        .spawn(move || {
            let conn = match Connection::open(&path) {
                Ok(c) => c,
                Err(e) => return tracing::error!("checkpointer cannot open the database: {e}"),
            };
            let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
            while alive.upgrade().is_some() {
                std::thread::sleep(CHECKPOINT_EVERY);
                // PASSIVE never blocks the writer or the readers.
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::debug!("checkpoint: {e}");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the checkpoint thread: {e}");
    }
}
