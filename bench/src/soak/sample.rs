//! What one soak interval measured, and the files it reads: the database and its `-wal` and
//! `-shm` companions.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::stats::Summary;
use crate::workload::{CatalogueResult, KioskResult};

/// The database's files, by path.
#[derive(Debug, Clone)]
pub struct DbFiles {
    pub db: PathBuf,
    pub wal: PathBuf,
    pub shm: PathBuf,
}

/// Sizes in bytes; `None` when the file is absent (SQLite removes `-wal` and `-shm` on a clean
/// close) or unreadable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileSizes {
    pub db: Option<u64>,
    pub wal: Option<u64>,
    pub shm: Option<u64>,
}

fn size(p: &Path) -> Option<u64> {
    std::fs::metadata(p).ok().map(|m| m.len())
}

impl DbFiles {
    pub fn of(db: &str) -> DbFiles {
        let with = |suffix: &str| PathBuf::from(format!("{db}{suffix}"));
        DbFiles {
            db: PathBuf::from(db),
            wal: with("-wal"),
            shm: with("-shm"),
        }
    }

    pub fn sizes(&self) -> FileSizes {
        FileSizes {
            db: size(&self.db),
            wal: size(&self.wal),
            shm: size(&self.shm),
        }
    }

    /// Polls the WAL's size every `every` for as long as the returned counter is held by
    /// someone else, keeping the largest size seen since the counter was last swapped to 0: a
    /// sample at the end of an interval alone could miss the peak just before a checkpoint.
    pub fn watch_wal(&self, every: Duration) -> Arc<AtomicU64> {
        let max = Arc::new(AtomicU64::new(0));
        let (watched, wal) = (Arc::downgrade(&max), self.wal.clone());
        tokio::spawn(async move {
            while let Some(max) = watched.upgrade() {
                if let Some(n) = size(&wal) {
                    max.fetch_max(n, Ordering::Relaxed);
                }
                drop(max);
                tokio::time::sleep(every).await;
            }
        });
        max
    }
}

/// One workload's figures over one interval.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Flow {
    pub committed: u64,
    /// Kiosk: changes delivered to their subscriber; catalogue: changes that reached every one.
    pub delivered: u64,
    pub errors: u64,
    /// send → (last) client, ms.
    pub latency: Summary,
    /// send → HTTP response of the write (the commit), ms.
    pub write: Summary,
}

impl Flow {
    pub fn kiosk(k: &KioskResult) -> Flow {
        Flow {
            committed: k.writes.ok,
            delivered: k.delivered,
            errors: k.writes.errors,
            latency: k.latency_ms,
            write: k.writes.latency_ms,
        }
    }

    pub fn catalogue(c: &CatalogueResult) -> Flow {
        Flow {
            committed: c.writes.ok,
            delivered: c.complete,
            errors: c.writes.errors,
            latency: c.last_latency_ms,
            write: c.writes.latency_ms,
        }
    }
}

/// One row of the soak table.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// End of the interval, seconds since the soak began.
    pub at_s: f64,
    pub rss_kib: Option<u64>,
    /// Sizes at the end of the interval.
    pub files: FileSizes,
    /// Largest WAL seen during the interval, bytes.
    pub wal_max: Option<u64>,
    /// The server's CPU use over the interval, cores.
    pub server_cpu: Option<f64>,
    pub kiosk: Flow,
    pub catalogue: Flow,
}
