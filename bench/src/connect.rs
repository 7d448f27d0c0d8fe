//! Connecting every socket (each a kiosk identity of its own, as the app makes one, joined to
//! its own kiosk channel) and, on demand, joining the catalogue channel on all of them: the
//! set-up both the measured runs and the soak share.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, sleep};

use crate::args::Args;
use crate::identity::Api as Identities;
use crate::shared::{Phase, Shared};
use crate::socket;

/// Polls `done` every 50 ms until it says so or `limit` has passed, printing its progress every
/// 5 s.
pub async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> (bool, String)) {
    let start = Instant::now();
    let mut last_report = start;
    loop {
        let (ok, progress) = done();
        if ok {
            return;
        }
        if start.elapsed() > limit {
            println!(
                "  {what}: gave up after {:.0} s ({progress})",
                limit.as_secs_f64()
            );
            return;
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            println!("  {what}: {progress}");
            last_report = Instant::now();
        }
        sleep(Duration::from_millis(50)).await;
    }
}

/// The sockets once connected: who is listening, and how to tell them what to do next.
pub struct Connected {
    pub phase: watch::Sender<Phase>,
    /// Sessions whose socket is listening (a failed socket would count as "missing").
    pub targets: Arc<Vec<Arc<str>>>,
    pub ready: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    pub connect_s: f64,
}

/// Connects `args.sockets` sockets, each joined to the kiosk channel of a fresh session by a
/// fresh kiosk identity (anonymous sign-up, claim), with at most `args.connect_concurrency`
/// sign-ups and handshakes in flight; waits (up to 5 minutes) for all of them.
pub async fn connect_all(args: &Args, shared: &Arc<Shared>) -> Connected {
    let sessions: Vec<Arc<str>> = (0..args.sockets)
        .map(|_| Arc::from(uuid::Uuid::new_v4().to_string()))
        .collect();
    println!(
        "signing up and connecting {} kiosk sockets (≤{} in flight)…",
        args.sockets, args.connect_concurrency
    );
    let identities = match Identities::new(&args.url, &args.anon_key, args.connect_concurrency) {
        Ok(i) => i,
        Err(e) => {
            let (phase, _) = watch::channel(Phase::Stop);
            return Connected {
                phase,
                targets: Arc::default(),
                ready: 0,
                failed: args.sockets,
                first_error: Some(e.to_string()),
                connect_s: 0.0,
            };
        }
    };
    let (phase_tx, phase_rx) = watch::channel(Phase::Kiosk);
    let gate = Arc::new(Semaphore::new(args.connect_concurrency));
    let first_error: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let ready_sessions: Arc<std::sync::Mutex<Vec<Arc<str>>>> = Arc::default();
    let ws_url: Arc<str> = args.ws_url().into();
    let start = Instant::now();
    for (i, session) in sessions.into_iter().enumerate() {
        let (gate, shared, phase, url, first_error, ready, identities) = (
            gate.clone(),
            shared.clone(),
            phase_rx.clone(),
            ws_url.clone(),
            first_error.clone(),
            ready_sessions.clone(),
            identities.clone(),
        );
        tokio::spawn(async move {
            let Ok(permit) = gate.acquire_owned().await else {
                return;
            };
            let joined = match identities.kiosk(&session).await {
                Ok(token) => socket::connect(&url, &session, &token, permit)
                    .await
                    .map(|ws| (ws, token))
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match joined {
                Ok((ws, token)) => {
                    if let Ok(mut r) = ready.lock() {
                        r.push(session.clone());
                    }
                    shared.kiosk_ready.fetch_add(1, Ordering::SeqCst);
                    socket::listen(ws, i, session, token, shared, phase).await;
                }
                Err(e) => {
                    shared.failed.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut f) = first_error.lock()
                        && f.is_none()
                    {
                        *f = Some(e);
                    }
                }
            }
        });
    }
    let n = args.sockets;
    wait_for("connecting", Duration::from_secs(300), || {
        let (r, f) = (
            shared.kiosk_ready.load(Ordering::SeqCst),
            shared.failed.load(Ordering::SeqCst),
        );
        (r + f >= n, format!("{r} ready, {f} failed"))
    })
    .await;
    let first_error = first_error.lock().ok().and_then(|e| e.clone());
    let targets = Arc::new(ready_sessions.lock().map(|r| r.clone()).unwrap_or_default());
    Connected {
        phase: phase_tx,
        targets,
        ready: shared.kiosk_ready.load(Ordering::SeqCst),
        failed: shared.failed.load(Ordering::SeqCst),
        first_error,
        connect_s: start.elapsed().as_secs_f64(),
    }
}

/// Joins the catalogue channel on every listening socket; waits (up to 2 minutes) for all of
/// them and returns how many joined.
pub async fn join_catalogue(c: &Connected, shared: &Shared) -> usize {
    let _ = c.phase.send(Phase::JoinCatalogue);
    let expected = c
        .ready
        .saturating_sub(shared.dropped.load(Ordering::SeqCst));
    wait_for("joining catalogue", Duration::from_secs(120), || {
        let r = shared.catalogue_ready.load(Ordering::SeqCst);
        (r >= expected, format!("{r} / {expected}"))
    })
    .await;
    shared.catalogue_ready.load(Ordering::SeqCst)
}
