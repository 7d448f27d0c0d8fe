//! The ordinary client whose experience the abuse section measures: a few kiosk identities (as
//! the app makes them), each writing messages into its own kiosk conversation over REST and
//! watching them come back on its own realtime channel (write → client), plus catalogue reads
//! over REST. Both paced open-loop, well inside the per-user limits, so nothing of theirs is
//! refused and a slow answer does not hold back the next request.

use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;

use super::Ctx;
use super::tally::{Tally, TallySnapshot, http_kind};
use crate::clock::now_us;
use crate::shared::take_all;
use crate::socket::join_frame;
use crate::stats::Summary;

/// Kiosk identities writing and watching; each writes one message per [`WRITE_EVERY`].
pub const PROBES: usize = 16;
/// 48 a minute per identity, under the 60 a minute a user may write.
const WRITE_EVERY: Duration = Duration::from_millis(1250);
/// Catalogue readers, each sending a read every [`READ_EVERY`] (open loop).
const READERS: usize = 2;
const READ_EVERY: Duration = Duration::from_millis(100);
/// What each reader asks for: the kiosk's catalogue page.
const READ_PATH: &str =
    "/rest/v1/events?select=id,title,category,starts_at,places_left&order=starts_at.asc&limit=20";
const MARK: &str = "probe:";
const HEARTBEAT: Duration = Duration::from_secs(25);
/// How long deliveries may trail the last write of a phase.
pub const GRACE: Duration = Duration::from_secs(3);

/// Deliveries of the phase being measured.
#[derive(Default)]
struct Seen {
    phase: AtomicU32,
    delivered: AtomicU64,
    lat_us: Mutex<Vec<u64>>,
}

impl Seen {
    fn record(&self, text: &str) {
        let recv = now_us();
        let Some((phase, sent_us)) = marker(text) else {
            return;
        };
        if phase != self.phase.load(Ordering::SeqCst) {
            return;
        }
        self.delivered.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut v) = self.lat_us.lock() {
            v.push(recv.saturating_sub(sent_us));
        }
    }
}

/// `probe:<phase>:<sent_us>:…` in a change frame: the phase and the write's send time.
fn marker(text: &str) -> Option<(u32, u64)> {
    let rest = &text[text.find(MARK)? + MARK.len()..];
    let mut parts = rest.splitn(3, ':');
    let phase = parts.next()?.parse().ok()?;
    let sent = parts.next()?.parse().ok()?;
    parts.next()?;
    Some((phase, sent))
}

/// One phase's figures for the ordinary client.
#[derive(Debug, Clone, Default)]
pub struct ProbeFigures {
    /// Write sent → the change on the writer's own channel, ms.
    pub write_client_ms: Summary,
    /// Write sent → `201`, ms.
    pub write_ms: Summary,
    /// Catalogue read sent (scheduled) → answered, ms.
    pub read_ms: Summary,
    pub writes: TallySnapshot,
    pub reads: TallySnapshot,
    pub delivered: u64,
}

struct Identity {
    token: String,
    session: String,
}

/// The probe's identities, with their sockets listening.
pub struct Probe {
    ids: Vec<Identity>,
    seen: Arc<Seen>,
    stop: watch::Sender<bool>,
    pub sockets_ready: usize,
}

impl Probe {
    /// Signs up [`PROBES`] kiosk identities and subscribes each to its own conversation.
    pub async fn start(ctx: &Ctx) -> Result<Probe, String> {
        let mut ids = Vec::new();
        for _ in 0..PROBES {
            let session = uuid::Uuid::new_v4().to_string();
            let token = ctx
                .identities
                .kiosk(&session)
                .await
                .map_err(|e| format!("probe identity: {e}"))?;
            ids.push(Identity { token, session });
        }
        let seen = Arc::new(Seen::default());
        let (stop, stop_rx) = watch::channel(false);
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(PROBES);
        for (i, id) in ids.iter().enumerate() {
            let binding = format!(
                r#"{{"event":"INSERT","schema":"public","table":"messages","filter":"session_id=eq.{}"}}"#,
                id.session
            );
            let join = join_frame("1", "realtime:probe", &binding, &id.token);
            let (url, seen, stop, ready) = (
                ctx.ws_url.clone(),
                seen.clone(),
                stop_rx.clone(),
                ready_tx.clone(),
            );
            tokio::spawn(async move { listen(i, &url, join, seen, stop, ready).await });
        }
        drop(ready_tx);
        let mut sockets_ready = 0;
        while let Ok(Some(ok)) = timeout(Duration::from_secs(60), ready_rx.recv()).await {
            sockets_ready += usize::from(ok);
        }
        Ok(Probe {
            ids,
            seen,
            stop,
            sockets_ready,
        })
    }

    /// Writes and reads for `length` as phase `phase`, then waits [`GRACE`] for deliveries.
    pub async fn measure(&self, ctx: &Ctx, phase: u32, length: Duration) -> ProbeFigures {
        self.seen.phase.store(phase, Ordering::SeqCst);
        self.seen.delivered.store(0, Ordering::SeqCst);
        take_all(&self.seen.lat_us);
        let writes = Arc::new(Tally::default());
        let reads = Arc::new(Tally::default());
        let start = Instant::now();
        let deadline = start + length;
        let mut tasks = Vec::new();
        for (i, id) in self.ids.iter().enumerate() {
            let offset = WRITE_EVERY.mul_f64(i as f64 / self.ids.len() as f64);
            let (http, url, anon) = (ctx.http.clone(), ctx.url.clone(), ctx.anon_key.clone());
            let (token, session, writes) = (id.token.clone(), id.session.clone(), writes.clone());
            let write = move |sent: u64| {
                let body =
                    format!(r#"{{"session_id":"{session}","body":"{MARK}{phase}:{sent}:{i}"}}"#);
                let req = http
                    .post(format!("{url}/rest/v1/messages"))
                    .header("apikey", &*anon)
                    .bearer_auth(&token)
                    .header("Content-Type", "application/json")
                    .header("Prefer", "return=minimal")
                    .body(body);
                let writes = writes.clone();
                async move { answer(&writes, req, sent).await }
            };
            let pace = Pace {
                start: start + offset,
                every: WRITE_EVERY,
                deadline,
            };
            tasks.push(tokio::spawn(open_loop(pace, write)));
        }
        for r in 0..READERS {
            let offset = READ_EVERY.mul_f64(r as f64 / READERS as f64);
            let (http, url, anon) = (ctx.http.clone(), ctx.url.clone(), ctx.anon_key.clone());
            let (token, reads) = (self.ids[r % self.ids.len()].token.clone(), reads.clone());
            let read = move |sent: u64| {
                let req = http
                    .get(format!("{url}{READ_PATH}"))
                    .header("apikey", &*anon)
                    .bearer_auth(&token);
                let reads = reads.clone();
                async move { answer(&reads, req, sent).await }
            };
            let pace = Pace {
                start: start + offset,
                every: READ_EVERY,
                deadline,
            };
            tasks.push(tokio::spawn(open_loop(pace, read)));
        }
        for t in tasks {
            let _ = t.await;
        }
        tokio::time::sleep(GRACE).await;
        let (writes, reads) = (writes.snapshot(), reads.snapshot());
        ProbeFigures {
            write_client_ms: Summary::of(take_all(&self.seen.lat_us)).scaled(1000.0),
            write_ms: writes.answer_ms,
            read_ms: reads.answer_ms,
            delivered: self.seen.delivered.load(Ordering::SeqCst),
            writes,
            reads,
        }
    }

    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

/// When an open-loop sender sends: at `start`, then every `every`, until `deadline`.
#[derive(Clone, Copy)]
struct Pace {
    start: Instant,
    every: Duration,
    deadline: Instant,
}

/// Open loop: each request is spawned at its time whether or not the earlier ones have been
/// answered, so a slow answer neither delays nor hides the next request (the phase ends on
/// time and every request's latency is its own). Returns once all are answered.
async fn open_loop<F, Fut>(pace: Pace, send: F)
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut at = pace.start;
    let mut in_flight = Vec::new();
    while at < pace.deadline {
        sleep_until(at).await;
        at += pace.every;
        in_flight.push(tokio::spawn(send(now_us())));
    }
    for t in in_flight {
        let _ = t.await;
    }
}

/// Sends `req`, counting its answer's kind and its latency from `sent_us`.
async fn answer(tally: &Tally, req: reqwest::RequestBuilder, sent_us: u64) {
    tally.sent();
    match req.send().await {
        Ok(res) => {
            let status = res.status().as_u16();
            let body = res.text().await.unwrap_or_default();
            tally.answered_after(now_us().saturating_sub(sent_us));
            tally.note(http_kind(status, &body));
        }
        Err(e) => tally.note(if e.is_timeout() { "timeout" } else { "error" }),
    }
}

/// One probe socket: joins its channel (reporting whether that worked on `ready`), then
/// records deliveries and heartbeats until `stop`.
async fn listen(
    index: usize,
    url: &str,
    join: String,
    seen: Arc<Seen>,
    mut stop: watch::Receiver<bool>,
    ready: tokio::sync::mpsc::Sender<bool>,
) {
    let Ok(Ok((mut ws, _))) = timeout(
        Duration::from_secs(30),
        tokio_tungstenite::connect_async(url),
    )
    .await
    else {
        let _ = ready.send(false).await;
        return;
    };
    if ws.send(Message::Text(join.into())).await.is_err() {
        let _ = ready.send(false).await;
        return;
    }
    let mut announced = false;
    let mut beat = Instant::now() + HEARTBEAT;
    let mut hb: u64 = 0;
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let t = t.as_str();
                    if t.contains(MARK) {
                        seen.record(t);
                    } else if !announced && t.contains(r#""system""#) && t.contains(r#""status":"ok""#) {
                        announced = true;
                        let _ = ready.send(true).await;
                    } else if !announced && t.contains(r#""status":"error""#) {
                        eprintln!("probe socket {index}: join refused: {t}");
                        let _ = ready.send(false).await;
                        return;
                    }
                }
                Some(Ok(_)) => {}
                _ => {
                    eprintln!("probe socket {index} closed by the server");
                    if !announced {
                        let _ = ready.send(false).await;
                    }
                    return;
                }
            },
            () = sleep_until(beat) => {
                beat = Instant::now() + HEARTBEAT;
                hb += 1;
                let frame = format!(r#"[null,"hb{hb}","phoenix","heartbeat",{{}}]"#);
                if ws.send(Message::Text(frame.into())).await.is_err() {
                    return;
                }
            }
            _ = stop.changed() => {
                let _ = ws.close(None).await;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_marker() {
        let f = r#"{"record":{"body":"probe:2:123456:7","session_id":"s"}}"#;
        assert_eq!(marker(f), Some((2, 123456)));
        assert_eq!(marker(r#""probe:2:12""#), None);
        assert_eq!(marker("no marker"), None);
    }
}
