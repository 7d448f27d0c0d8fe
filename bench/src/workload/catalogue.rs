//! Workload 2, catalogue-like: each change on `events` goes to every subscribed socket. Each
//! writer owns one row; every write carries a sequence number, whose slot in
//! [`Shared::catalogue`](crate::shared::Shared) counts its deliveries.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::{Instant, sleep};

use super::Driver;
use super::writers::{Batch, CpuUse, WriteFigures, drive};
use crate::shared::CatalogueSlot;
use crate::stats::{CommitLatency, Summary};

/// One catalogue run.
#[derive(Debug, Clone, Copy)]
pub struct CatalogueRun {
    /// Changes/s over all writers.
    pub rate: u32,
    pub duration: Duration,
    /// Sockets joined to the catalogue channel: a change is complete when all got it.
    pub subscribers: usize,
}

#[derive(Debug, Clone)]
pub struct CatalogueResult {
    pub writes: WriteFigures,
    pub cpu: CpuUse,
    pub subscribers: usize,
    /// Changes that reached every subscriber.
    pub complete: u64,
    pub deliveries: u64,
    /// send (scheduled) → last subscriber, ms.
    pub last_latency_ms: Summary,
    /// commit_timestamp → last subscriber, ms (ms resolution).
    pub commit_last_latency_ms: CommitLatency,
}

impl Driver {
    /// Runs `c`, one writer per row in `row_ids`, numbering the writes from `next_seq`; then
    /// waits (up to 10 s) for every change to reach every subscriber.
    pub async fn catalogue(
        &self,
        row_ids: &[String],
        next_seq: &Arc<AtomicU64>,
        c: CatalogueRun,
    ) -> CatalogueResult {
        let first_seq = next_seq.load(Ordering::SeqCst);
        let batch = Batch {
            writers: row_ids.len().max(1),
            rate: c.rate,
            duration: c.duration,
            server_pid: self.server_pid,
        };
        let (rest, shared, ids, seqs) = (
            self.rest.clone(),
            self.shared.clone(),
            Arc::new(row_ids.to_vec()),
            next_seq.clone(),
        );
        let (writes, cpu) = drive(batch, move |w, sent_us| {
            let id = ids.get(w)?.clone();
            // Taken after the previous write of this row completed: per row, seq only grows.
            let seq = seqs.fetch_add(1, Ordering::SeqCst);
            let slot = usize::try_from(seq)
                .ok()
                .and_then(|i| shared.catalogue.get(i))?;
            slot.sent_us.store(sent_us, Ordering::SeqCst);
            let rest = rest.clone();
            Some(async move { rest.mark_event(&id, seq, sent_us).await })
        })
        .await;
        let last_seq = next_seq.load(Ordering::SeqCst);
        let slots = || {
            (first_seq..last_seq)
                .filter_map(|s| usize::try_from(s).ok())
                .filter_map(|i| self.shared.catalogue.get(i))
        };
        let drain_until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < drain_until
            && slots().any(|s| {
                s.sent_us.load(Ordering::SeqCst) > 0
                    && (s.received.load(Ordering::SeqCst) as usize) < c.subscribers
            })
        {
            sleep(Duration::from_millis(50)).await;
        }
        let d = Deliveries::count(slots(), c.subscribers);
        CatalogueResult {
            writes,
            cpu,
            subscribers: c.subscribers,
            complete: d.last.len() as u64,
            deliveries: d.total,
            last_latency_ms: Summary::of(d.last).scaled(1000.0),
            commit_last_latency_ms: CommitLatency::of(d.commit_last),
        }
    }
}

/// What the slots of one run recorded.
struct Deliveries {
    total: u64,
    /// send → last subscriber, µs, of each change that reached every subscriber.
    last: Vec<u64>,
    /// commit_timestamp → last subscriber, ms (wall clock), of the same changes.
    commit_last: Vec<i64>,
}

impl Deliveries {
    fn count<'a>(slots: impl Iterator<Item = &'a CatalogueSlot>, subscribers: usize) -> Self {
        let mut d = Deliveries {
            total: 0,
            last: Vec::new(),
            commit_last: Vec::new(),
        };
        for s in slots {
            let got = s.received.load(Ordering::SeqCst) as usize;
            d.total += got as u64;
            if got >= subscribers && subscribers > 0 {
                d.last.push(
                    s.last_us
                        .load(Ordering::SeqCst)
                        .saturating_sub(s.sent_us.load(Ordering::SeqCst)),
                );
                let c = s.commit_ms.load(Ordering::SeqCst);
                if c > 0 {
                    d.commit_last
                        .push(s.last_wall_ms.load(Ordering::SeqCst) - c);
                }
            }
        }
        d
    }
}
