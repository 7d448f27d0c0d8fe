//! Workload 1, kiosk-like: writes spread over all sockets' sessions, each delivered to exactly
//! one socket (the one whose `session_id=eq.…` filter matches).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::{Instant, sleep};

use super::Driver;
use super::writers::{Batch, CpuUse, WriteFigures, drive};
use crate::shared::take_all;
use crate::stats::{CommitLatency, Summary};

/// One kiosk run.
#[derive(Debug, Clone, Copy)]
pub struct KioskRun {
    /// Tags this run's writes; deliveries tagged with another run are ignored.
    pub run: u32,
    /// Writes/s; 0 = unpaced.
    pub rate: u32,
    pub writers: usize,
    pub duration: Duration,
}

#[derive(Debug, Clone)]
pub struct KioskResult {
    pub writes: WriteFigures,
    pub cpu: CpuUse,
    pub writers: usize,
    pub delivered: u64,
    pub misrouted: u64,
    /// send (scheduled) → matching client, ms.
    pub latency_ms: Summary,
    /// commit_timestamp → matching client, ms (ms resolution).
    pub commit_latency_ms: CommitLatency,
}

impl Driver {
    /// Runs `k`, writing to the sessions in `sessions` in turn, then waits (up to 5 s) for every
    /// committed write to reach its one subscriber.
    pub async fn kiosk(&self, sessions: &Arc<Vec<Arc<str>>>, k: KioskRun) -> KioskResult {
        let shared = &self.shared;
        shared.begin_kiosk_run(k.run);
        let misrouted_before = shared.kiosk_misrouted.load(Ordering::SeqCst);
        let next_session = Arc::new(AtomicUsize::new(0));
        let (rest, sessions) = (self.rest.clone(), sessions.clone());
        let batch = Batch {
            writers: k.writers,
            rate: k.rate,
            duration: k.duration,
            server_pid: self.server_pid,
        };
        let (writes, cpu) = drive(batch, move |_, sent_us| {
            let i = next_session.fetch_add(1, Ordering::Relaxed) % sessions.len().max(1);
            let session = sessions.get(i)?.clone();
            let rest = rest.clone();
            Some(async move { rest.insert_kiosk_result(&session, k.run, sent_us).await })
        })
        .await;
        // Drain: every committed write must reach its one subscriber.
        let drain_until = Instant::now() + Duration::from_secs(5);
        while shared.kiosk_received.load(Ordering::SeqCst) < writes.ok
            && Instant::now() < drain_until
        {
            sleep(Duration::from_millis(20)).await;
        }
        KioskResult {
            writes,
            cpu,
            writers: k.writers,
            delivered: shared.kiosk_received.load(Ordering::SeqCst),
            misrouted: shared.kiosk_misrouted.load(Ordering::SeqCst) - misrouted_before,
            latency_ms: Summary::of(take_all(&shared.kiosk_lat_us)).scaled(1000.0),
            commit_latency_ms: CommitLatency::of(take_all(&shared.kiosk_commit_ms)),
        }
    }
}
