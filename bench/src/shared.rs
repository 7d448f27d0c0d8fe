//! State shared by the socket tasks and the workload drivers. Hot paths are atomics; the kiosk
//! latency samples go through a mutex (one push per delivered change, a few thousand per second).

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// What the socket tasks should be doing; they watch this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Kiosk channel joined; listening.
    Kiosk,
    /// Also join the catalogue channel (`events`, every change).
    JoinCatalogue,
    /// Close the socket and end the task.
    Stop,
}

/// Delivery bookkeeping for one catalogue change (indexed by its sequence number).
#[derive(Default)]
pub struct CatalogueSlot {
    pub sent_us: AtomicU64,
    pub received: AtomicU32,
    pub last_us: AtomicU64,
    /// `commit_timestamp` in Unix ms as first seen (0 = not yet).
    pub commit_ms: AtomicI64,
    /// Wall-clock ms when the last copy arrived.
    pub last_wall_ms: AtomicI64,
}

pub struct Shared {
    /// The kiosk run currently measured; deliveries tagged with another run are ignored.
    pub kiosk_run: AtomicU32,
    /// send→receive latencies (µs) of the current kiosk run.
    pub kiosk_lat_us: Mutex<Vec<u64>>,
    /// commit_timestamp→receive latencies (ms, wall clock) of the current kiosk run.
    /// Signed: a negative value means the commit_timestamp was ahead of our clock.
    pub kiosk_commit_ms: Mutex<Vec<i64>>,
    pub kiosk_received: AtomicU64,
    /// Deliveries whose row belonged to another socket's session (must stay 0).
    pub kiosk_misrouted: AtomicU64,
    pub catalogue: Vec<CatalogueSlot>,
    /// Sockets whose kiosk channel is joined and "Subscribed to PostgreSQL".
    pub kiosk_ready: AtomicUsize,
    pub catalogue_ready: AtomicUsize,
    pub failed: AtomicUsize,
    /// Sockets closed by the server or by an error after being ready.
    pub dropped: AtomicUsize,
    /// Frames that were neither replies nor expected events.
    pub unexpected: AtomicU64,
}

impl Shared {
    pub fn new(catalogue_capacity: usize) -> Shared {
        Shared {
            kiosk_run: AtomicU32::new(0),
            kiosk_lat_us: Mutex::new(Vec::new()),
            kiosk_commit_ms: Mutex::new(Vec::new()),
            kiosk_received: AtomicU64::new(0),
            kiosk_misrouted: AtomicU64::new(0),
            catalogue: (0..catalogue_capacity)
                .map(|_| CatalogueSlot::default())
                .collect(),
            kiosk_ready: AtomicUsize::new(0),
            catalogue_ready: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            unexpected: AtomicU64::new(0),
        }
    }

    /// Starts measuring kiosk run `run`: earlier runs' samples and count are dropped.
    pub fn begin_kiosk_run(&self, run: u32) {
        self.kiosk_run.store(run, Ordering::SeqCst);
        self.kiosk_received.store(0, Ordering::SeqCst);
        if let Ok(mut v) = self.kiosk_lat_us.lock() {
            v.clear();
        }
        if let Ok(mut v) = self.kiosk_commit_ms.lock() {
            v.clear();
        }
    }

    pub fn record_kiosk(&self, run: u32, lat_us: u64, commit_lat_ms: Option<i64>) {
        if run != self.kiosk_run.load(Ordering::Relaxed) {
            return;
        }
        self.kiosk_received.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut v) = self.kiosk_lat_us.lock() {
            v.push(lat_us);
        }
        if let Some(ms) = commit_lat_ms
            && let Ok(mut v) = self.kiosk_commit_ms.lock()
        {
            v.push(ms);
        }
    }
}

/// Empties `samples`, returning what it held (nothing if a writer panicked holding the lock).
pub fn take_all<T>(samples: &Mutex<Vec<T>>) -> Vec<T> {
    samples
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default()
}
