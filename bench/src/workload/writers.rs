//! A batch of concurrent HTTP writers, paced open-loop when a rate is given, and what it
//! measures: writes committed and failed, send → HTTP response latency, and the CPU both the
//! server and this client used meanwhile.

use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use super::WorkloadError;
use crate::clock::now_us;
use crate::procinfo::cpu_seconds;
use crate::shared::take_all;
use crate::stats::Summary;

/// What a run measures about its writes.
#[derive(Debug, Clone)]
pub struct WriteFigures {
    /// Writes/s asked for; 0 = unpaced.
    pub target_rate: u32,
    pub elapsed_s: f64,
    pub ok: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// send (scheduled) → HTTP response of the write, ms.
    pub latency_ms: Summary,
}

impl WriteFigures {
    /// Committed writes per second.
    pub fn per_s(&self) -> f64 {
        self.ok as f64 / self.elapsed_s
    }
}

/// CPU used during a run, in cores.
#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    /// The server's (when its pid is known).
    pub server: Option<f64>,
    /// This load client's own.
    pub client: Option<f64>,
}

/// The CPU seconds of the server and of this process at the start of a run.
pub(crate) struct CpuMeter {
    server_pid: Option<u32>,
    server0: Option<f64>,
    own0: Option<f64>,
}

impl CpuMeter {
    pub(crate) fn start(server_pid: Option<u32>) -> CpuMeter {
        CpuMeter {
            server_pid,
            server0: server_pid.and_then(cpu_seconds),
            own0: cpu_seconds(std::process::id()),
        }
    }

    pub(crate) fn stop(&self, elapsed_s: f64) -> CpuUse {
        let server1 = self.server_pid.and_then(cpu_seconds);
        let own1 = cpu_seconds(std::process::id());
        let cores = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| (b - a) / elapsed_s);
        CpuUse {
            server: cores(self.server0, server1),
            client: cores(self.own0, own1),
        }
    }
}

/// Shared counters of one batch of writers.
#[derive(Default)]
struct WriteCounters {
    ok: AtomicU64,
    failed: AtomicU64,
    first_error: Mutex<Option<String>>,
    /// (Scheduled) send → HTTP response, µs: how much of the latency is the write itself.
    write_us: Mutex<Vec<u64>>,
}

impl WriteCounters {
    fn note(&self, sent_us: u64, r: Result<(), WorkloadError>) {
        if let Ok(mut v) = self.write_us.lock() {
            v.push(now_us().saturating_sub(sent_us));
        }
        match r {
            Ok(()) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.first_error.lock()
                    && first.is_none()
                {
                    *first = Some(e.to_string());
                }
            }
        }
    }

    fn figures(&self, target_rate: u32, elapsed_s: f64) -> WriteFigures {
        WriteFigures {
            target_rate,
            elapsed_s,
            ok: self.ok.load(Ordering::SeqCst),
            errors: self.failed.load(Ordering::SeqCst),
            first_error: self.first_error.lock().ok().and_then(|e| e.clone()),
            latency_ms: Summary::of(take_all(&self.write_us)).scaled(1000.0),
        }
    }
}

/// When each writer sends: `rate` writes/s overall, spread evenly over the writers, until
/// `deadline`; or, at rate 0, as fast as each writer gets answers.
#[derive(Clone, Copy)]
struct Pace {
    start: Instant,
    start_us: u64,
    deadline: Instant,
    rate: u32,
    writers: usize,
}

impl Pace {
    /// Waits for the `k`-th send of writer `w`; returns its send time in µs (the scheduled one
    /// when paced), or `None` once the run is over.
    async fn next(&self, w: usize, k: u64) -> Option<u64> {
        if self.rate == 0 {
            return (Instant::now() < self.deadline).then(now_us);
        }
        let at = scheduled(self.start, self.rate, self.writers, w, k);
        if at >= self.deadline {
            return None;
        }
        sleep_until(at).await;
        Some(instant_us(self.start_us, self.start, at))
    }
}

/// When writer `w` of `writers` sends its `k`-th write at `rate` writes/s overall.
fn scheduled(start: Instant, rate: u32, writers: usize, w: usize, k: u64) -> Instant {
    let per_writer = Duration::from_secs_f64(writers as f64 / f64::from(rate));
    let phase = per_writer.mul_f64(w as f64 / writers as f64);
    start + phase + per_writer.mul_f64(k as f64)
}

fn instant_us(base_us: u64, base: Instant, t: Instant) -> u64 {
    base_us + u64::try_from(t.saturating_duration_since(base).as_micros()).unwrap_or(0)
}

/// How a batch of writers runs: how many, how fast, for how long, and whose CPU to meter.
#[derive(Debug, Clone, Copy)]
pub struct Batch {
    pub writers: usize,
    /// Writes/s over all writers; 0 = unpaced.
    pub rate: u32,
    pub duration: Duration,
    pub server_pid: Option<u32>,
}

/// Runs `batch.writers` writer tasks until the batch's duration is over. For each send,
/// `write(w, sent_us)` gives the write of writer `w` (or `None`, which ends that writer).
/// Returns once every writer has finished.
pub async fn drive<F, W>(batch: Batch, write: F) -> (WriteFigures, CpuUse)
where
    F: Fn(usize, u64) -> Option<W> + Clone + Send + 'static,
    W: Future<Output = Result<(), WorkloadError>> + Send + 'static,
{
    let counters = Arc::new(WriteCounters::default());
    let cpu = CpuMeter::start(batch.server_pid);
    let start = Instant::now();
    let pace = Pace {
        start,
        start_us: now_us(),
        deadline: start + batch.duration,
        rate: batch.rate,
        writers: batch.writers,
    };
    let mut tasks = Vec::with_capacity(batch.writers);
    for w in 0..batch.writers {
        let (counters, write) = (counters.clone(), write.clone());
        tasks.push(tokio::spawn(async move {
            for k in 0.. {
                let Some(sent_us) = pace.next(w, k).await else {
                    break;
                };
                let Some(one) = write(w, sent_us) else {
                    break;
                };
                counters.note(sent_us, one.await);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed_s = start.elapsed().as_secs_f64();
    let cpu = cpu.stop(elapsed_s);
    (counters.figures(batch.rate, elapsed_s), cpu)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_spreads_writers_evenly() {
        let s = Instant::now();
        // 4 writers at 100/s: each writes every 40 ms, offset by 10 ms from the previous writer.
        assert_eq!(scheduled(s, 100, 4, 0, 0), s);
        assert_eq!(scheduled(s, 100, 4, 1, 0) - s, Duration::from_millis(10));
        assert_eq!(scheduled(s, 100, 4, 0, 2) - s, Duration::from_millis(80));
    }
}
