//! The two measured workloads. Writers go through the server's REST API with the service key,
//! paced open-loop when a rate is given: each write's latency is measured from its *scheduled*
//! send time, so a writer that falls behind does not hide queueing delay (no coordinated
//! omission). Unpaced runs (rate 0) measure from the actual send time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use thiserror::Error;
use tokio::time::{Instant, sleep, sleep_until};

use crate::clock::now_us;
use crate::procinfo::cpu_seconds;
use crate::shared::Shared;
use crate::socket::{CATALOGUE_MARK, KIOSK_MARK};
use crate::stats::{CommitLatency, Summary};

#[derive(Debug, Error)]
pub enum WorkloadError {
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("server answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("could not find {0} rows in events to update")]
    NoRows(usize),
}

/// Talks to `/rest/v1` with the service key.
#[derive(Clone)]
pub struct Rest {
    client: reqwest::Client,
    base: Arc<str>,
    key: Arc<str>,
}

impl Rest {
    pub fn new(url: &str, service_key: &str, pool: usize) -> Result<Rest, WorkloadError> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(pool)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Rest {
            client,
            base: format!("{url}/rest/v1").into(),
            key: service_key.into(),
        })
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        body: String,
    ) -> Result<String, WorkloadError> {
        let res = req
            .header("apikey", &*self.key)
            .header("Authorization", format!("Bearer {}", self.key))
            .header("Content-Type", "application/json")
            .header("Prefer", "return=minimal")
            .body(body)
            .send()
            .await?;
        let status = res.status();
        let text = res.text().await?;
        if status.is_success() {
            Ok(text)
        } else {
            Err(WorkloadError::Status {
                status: status.as_u16(),
                body: text.chars().take(200).collect(),
            })
        }
    }

    pub async fn insert_kiosk_result(
        &self,
        session: &str,
        run: u32,
        sent_us: u64,
    ) -> Result<(), WorkloadError> {
        let id = uuid::Uuid::new_v4();
        let body = format!(
            r#"{{"id":"{id}","session_id":"{session}","results":{{"m":"{KIOSK_MARK}{run}:{sent_us}","events":[]}}}}"#
        );
        self.send(
            self.client.post(format!("{}/kiosk_results", self.base)),
            body,
        )
        .await
        .map(|_| ())
    }

    pub async fn mark_event(&self, id: &str, seq: u64, sent_us: u64) -> Result<(), WorkloadError> {
        let body = format!(r#"{{"description":"{CATALOGUE_MARK}{seq}:{sent_us}"}}"#);
        self.send(
            self.client
                .patch(format!("{}/events?id=eq.{id}", self.base)),
            body,
        )
        .await
        .map(|_| ())
    }

    /// Ids of `n` existing `events` rows (the catalogue writers each own one).
    pub async fn event_ids(&self, n: usize) -> Result<Vec<String>, WorkloadError> {
        let res = self
            .client
            .get(format!("{}/events?select=id&order=id&limit={n}", self.base))
            .header("apikey", &*self.key)
            .header("Authorization", format!("Bearer {}", self.key))
            .send()
            .await?;
        let status = res.status();
        let text = res.text().await?;
        if !status.is_success() {
            return Err(WorkloadError::Status {
                status: status.as_u16(),
                body: text,
            });
        }
        let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
        let ids: Vec<String> = rows
            .iter()
            .filter_map(|r| r.get("id").and_then(|v| v.as_str()).map(str::to_owned))
            .collect();
        if ids.len() < n {
            return Err(WorkloadError::NoRows(n));
        }
        Ok(ids)
    }
}

/// Shared counters of one batch of writers.
#[derive(Default)]
struct WriteCounters {
    ok: AtomicU64,
    failed: AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
    /// (Scheduled) send → HTTP response, µs: how much of the latency is the write itself.
    write_us: std::sync::Mutex<Vec<u64>>,
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
    fn first_error(&self) -> Option<String> {
        self.first_error.lock().ok().and_then(|e| e.clone())
    }
    fn write_latency_ms(&self) -> Summary {
        let v = self
            .write_us
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        Summary::of(v).scaled(1000.0)
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

#[derive(Debug, Clone)]
pub struct KioskResult {
    pub target_rate: u32,
    pub writers: usize,
    pub elapsed_s: f64,
    pub writes_ok: u64,
    pub write_errors: u64,
    pub first_error: Option<String>,
    /// send (scheduled) → HTTP response of the write, ms.
    pub write_ms: Summary,
    pub delivered: u64,
    pub misrouted: u64,
    /// send (scheduled) → matching client, ms.
    pub latency_ms: Summary,
    /// commit_timestamp → matching client, ms (ms resolution).
    pub commit_latency_ms: CommitLatency,
    pub server_cpu: Option<f64>,
    /// CPU used by this load client during the run, in cores.
    pub client_cpu: Option<f64>,
}

/// Workload 1: writes spread over all sockets' sessions, each delivered to exactly one socket.
#[allow(clippy::too_many_arguments)]
pub async fn kiosk_run(
    rest: &Rest,
    shared: &Arc<Shared>,
    sessions: &Arc<Vec<Arc<str>>>,
    run: u32,
    rate: u32,
    writers: usize,
    duration: Duration,
    server_pid: Option<u32>,
) -> KioskResult {
    shared.kiosk_run.store(run, Ordering::SeqCst);
    shared.kiosk_received.store(0, Ordering::SeqCst);
    if let Ok(mut v) = shared.kiosk_lat_us.lock() {
        v.clear();
    }
    if let Ok(mut v) = shared.kiosk_commit_ms.lock() {
        v.clear();
    }
    let misrouted_before = shared.kiosk_misrouted.load(Ordering::SeqCst);
    let counters = Arc::new(WriteCounters::default());
    let next_session = Arc::new(AtomicUsize::new(0));
    let cpu0 = server_pid.and_then(cpu_seconds);
    let me = std::process::id();
    let own0 = cpu_seconds(me);
    let start = Instant::now();
    let start_us = now_us();
    let deadline = start + duration;
    let mut tasks = Vec::with_capacity(writers);
    for w in 0..writers {
        let (rest, counters, sessions, next) = (
            rest.clone(),
            counters.clone(),
            sessions.clone(),
            next_session.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut k: u64 = 0;
            loop {
                let sent_us = if rate > 0 {
                    let at = scheduled(start, rate, writers, w, k);
                    if at >= deadline {
                        break;
                    }
                    sleep_until(at).await;
                    instant_us(start_us, start, at)
                } else {
                    if Instant::now() >= deadline {
                        break;
                    }
                    now_us()
                };
                k += 1;
                let i = next.fetch_add(1, Ordering::Relaxed) % sessions.len().max(1);
                let Some(session) = sessions.get(i) else {
                    break;
                };
                counters.note(
                    sent_us,
                    rest.insert_kiosk_result(session, run, sent_us).await,
                );
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed_s = start.elapsed().as_secs_f64();
    let cpu1 = server_pid.and_then(cpu_seconds);
    let own1 = cpu_seconds(me);
    let writes_ok = counters.ok.load(Ordering::SeqCst);
    // Drain: every committed write must reach its one subscriber.
    let drain_until = Instant::now() + Duration::from_secs(5);
    while shared.kiosk_received.load(Ordering::SeqCst) < writes_ok && Instant::now() < drain_until {
        sleep(Duration::from_millis(20)).await;
    }
    let lat = shared
        .kiosk_lat_us
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default();
    let commit = shared
        .kiosk_commit_ms
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default();
    KioskResult {
        target_rate: rate,
        writers,
        elapsed_s,
        writes_ok,
        write_errors: counters.failed.load(Ordering::SeqCst),
        first_error: counters.first_error(),
        write_ms: counters.write_latency_ms(),
        delivered: shared.kiosk_received.load(Ordering::SeqCst),
        misrouted: shared.kiosk_misrouted.load(Ordering::SeqCst) - misrouted_before,
        latency_ms: Summary::of(lat).scaled(1000.0),
        commit_latency_ms: CommitLatency::of(commit),
        server_cpu: cpu0.zip(cpu1).map(|(a, b)| (b - a) / elapsed_s),
        client_cpu: own0.zip(own1).map(|(a, b)| (b - a) / elapsed_s),
    }
}

#[derive(Debug, Clone)]
pub struct CatalogueResult {
    pub target_rate: u32,
    pub subscribers: usize,
    pub elapsed_s: f64,
    pub writes_ok: u64,
    pub write_errors: u64,
    pub first_error: Option<String>,
    /// send (scheduled) → HTTP response of the write, ms.
    pub write_ms: Summary,
    /// Changes that reached every subscriber.
    pub complete: u64,
    pub deliveries: u64,
    /// send (scheduled) → last subscriber, ms.
    pub last_latency_ms: Summary,
    /// commit_timestamp → last subscriber, ms (ms resolution).
    pub commit_last_latency_ms: CommitLatency,
    pub server_cpu: Option<f64>,
    /// CPU used by this load client during the run, in cores.
    pub client_cpu: Option<f64>,
}

/// Workload 2: each change on `events` goes to every subscribed socket.
#[allow(clippy::too_many_arguments)]
pub async fn catalogue_run(
    rest: &Rest,
    shared: &Arc<Shared>,
    row_ids: &[String],
    next_seq: &Arc<AtomicU64>,
    rate: u32,
    duration: Duration,
    subscribers: usize,
    server_pid: Option<u32>,
) -> CatalogueResult {
    let writers = row_ids.len().max(1);
    let first_seq = next_seq.load(Ordering::SeqCst);
    let counters = Arc::new(WriteCounters::default());
    let cpu0 = server_pid.and_then(cpu_seconds);
    let me = std::process::id();
    let own0 = cpu_seconds(me);
    let start = Instant::now();
    let start_us = now_us();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for (w, id) in row_ids.iter().enumerate() {
        let (rest, counters, shared, next_seq, id) = (
            rest.clone(),
            counters.clone(),
            shared.clone(),
            next_seq.clone(),
            id.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for k in 0.. {
                let at = scheduled(start, rate, writers, w, k);
                if at >= deadline {
                    break;
                }
                sleep_until(at).await;
                let sent_us = instant_us(start_us, start, at);
                // Taken after the previous write of this row completed: per row, seq only grows.
                let seq = next_seq.fetch_add(1, Ordering::SeqCst);
                let Some(slot) = usize::try_from(seq)
                    .ok()
                    .and_then(|i| shared.catalogue.get(i))
                else {
                    break;
                };
                slot.sent_us.store(sent_us, Ordering::SeqCst);
                counters.note(sent_us, rest.mark_event(&id, seq, sent_us).await);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed_s = start.elapsed().as_secs_f64();
    let cpu1 = server_pid.and_then(cpu_seconds);
    let own1 = cpu_seconds(me);
    let last_seq = next_seq.load(Ordering::SeqCst);
    let range = || {
        (first_seq..last_seq)
            .filter_map(|s| usize::try_from(s).ok())
            .filter_map(|i| shared.catalogue.get(i))
    };
    let drain_until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < drain_until
        && range().any(|s| {
            s.sent_us.load(Ordering::SeqCst) > 0
                && (s.received.load(Ordering::SeqCst) as usize) < subscribers
        })
    {
        sleep(Duration::from_millis(50)).await;
    }
    let mut last = Vec::new();
    let mut commit_last = Vec::new();
    let mut deliveries = 0u64;
    for s in range() {
        let got = s.received.load(Ordering::SeqCst) as usize;
        deliveries += got as u64;
        if got >= subscribers && subscribers > 0 {
            last.push(
                s.last_us
                    .load(Ordering::SeqCst)
                    .saturating_sub(s.sent_us.load(Ordering::SeqCst)),
            );
            let c = s.commit_ms.load(Ordering::SeqCst);
            if c > 0 {
                commit_last.push(s.last_wall_ms.load(Ordering::SeqCst) - c);
            }
        }
    }
    CatalogueResult {
        target_rate: rate,
        subscribers,
        elapsed_s,
        writes_ok: counters.ok.load(Ordering::SeqCst),
        write_errors: counters.failed.load(Ordering::SeqCst),
        first_error: counters.first_error(),
        write_ms: counters.write_latency_ms(),
        complete: last.len() as u64,
        deliveries,
        last_latency_ms: Summary::of(last).scaled(1000.0),
        commit_last_latency_ms: CommitLatency::of(commit_last),
        server_cpu: cpu0.zip(cpu1).map(|(a, b)| (b - a) / elapsed_s),
        client_cpu: own0.zip(own1).map(|(a, b)| (b - a) / elapsed_s),
    }
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
