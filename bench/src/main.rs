//! `concierge-bench`: a load client for concierge-server's realtime path.
//!
//! One tokio runtime; every WebSocket is a task. It connects N sockets (each joined to its own
//! `kiosk_results` INSERT channel filtered by `session_id=eq.<uuid>`), measures the server's
//! memory per connection, runs the kiosk-like workload (each change to one socket) at the given
//! rates, joins a catalogue channel (`events`, every change) on every socket, runs the
//! catalogue-like workload (each change to all sockets), then closes everything and exits.

mod args;
mod client;
mod clock;
mod procinfo;
mod report;
mod shared;
mod socket;
mod stats;
mod workload;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::time::{Instant, sleep};

use args::{Args, USAGE};
use procinfo::rss_kib;
use report::Setup;
use shared::{Phase, Shared};
use workload::{CatalogueRun, Driver, KioskRun, Rest};

/// Writers of the catalogue workload, each owning one `events` row.
const CATALOGUE_WRITERS: usize = 4;

fn main() -> ExitCode {
    // `concierge-bench client …`: the sync core's CPU cost, no server involved.
    if std::env::args().nth(1).as_deref() == Some("client") {
        return client::main(std::env::args().skip(2));
    }
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("concierge-bench: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) if (n as usize) < args.sockets + 256 => {
            eprintln!(
                "concierge-bench: open-file limit is {n}, too low for {} sockets",
                args.sockets
            );
            return ExitCode::from(2);
        }
        Ok(_) => {}
        Err(e) => eprintln!("concierge-bench: could not raise the open-file limit: {e}"),
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("concierge-bench: tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("concierge-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> (bool, String)) {
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

async fn run(args: Args) -> Result<(), workload::WorkloadError> {
    let _ = clock::now_us(); // fix the monotonic base before anything is timed
    let catalogue_capacity: usize = args
        .catalogue_rates
        .iter()
        .map(|r| (f64::from(*r) * args.duration.as_secs_f64() * 1.2) as usize + 64)
        .sum();
    let shared = Arc::new(Shared::new(catalogue_capacity));
    let rest = Rest::new(
        &args.url,
        &args.service_key,
        args.kiosk_writers + CATALOGUE_WRITERS + 4,
    )?;
    let row_ids = rest.event_ids(CATALOGUE_WRITERS).await?;
    let sessions: Arc<Vec<Arc<str>>> = Arc::new(
        (0..args.sockets)
            .map(|_| Arc::from(uuid::Uuid::new_v4().to_string()))
            .collect(),
    );
    let mut setup = Setup {
        sockets_requested: args.sockets,
        duration_s: args.duration.as_secs_f64(),
        ..Setup::default()
    };
    let pid = args.server_pid;
    setup.rss_before_kib = pid.and_then(rss_kib);

    // Connect and subscribe every socket.
    println!(
        "connecting {} sockets (≤{} handshakes in flight)…",
        args.sockets, args.connect_concurrency
    );
    let (phase_tx, phase_rx) = watch::channel(Phase::Kiosk);
    let gate = Arc::new(Semaphore::new(args.connect_concurrency));
    let first_error: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
    let ready_sessions: Arc<std::sync::Mutex<Vec<Arc<str>>>> = Arc::default();
    let ws_url: Arc<str> = args.ws_url().into();
    let start = Instant::now();
    for (i, session) in sessions.iter().enumerate() {
        let (gate, shared, session, phase, url, first_error, ready) = (
            gate.clone(),
            shared.clone(),
            session.clone(),
            phase_rx.clone(),
            ws_url.clone(),
            first_error.clone(),
            ready_sessions.clone(),
        );
        tokio::spawn(async move {
            let Ok(permit) = gate.acquire_owned().await else {
                return;
            };
            match socket::connect(&url, &session, permit).await {
                Ok(ws) => {
                    if let Ok(mut r) = ready.lock() {
                        r.push(session.clone());
                    }
                    shared.kiosk_ready.fetch_add(1, Ordering::SeqCst);
                    socket::listen(ws, i, session, shared, phase).await;
                }
                Err(e) => {
                    shared.failed.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut f) = first_error.lock()
                        && f.is_none()
                    {
                        *f = Some(e.to_string());
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
    setup.connect_s = start.elapsed().as_secs_f64();
    setup.sockets_ready = shared.kiosk_ready.load(Ordering::SeqCst);
    setup.sockets_failed = shared.failed.load(Ordering::SeqCst);
    setup.first_connect_error = first_error.lock().ok().and_then(|e| e.clone());
    sleep(Duration::from_millis(500)).await; // let the server settle before reading its RSS
    setup.rss_kiosk_kib = pid.and_then(rss_kib);
    println!(
        "connected {} / {} in {:.1} s ({} failed{}); server RSS {:?} → {:?} KiB",
        setup.sockets_ready,
        n,
        setup.connect_s,
        setup.sockets_failed,
        setup
            .first_connect_error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default(),
        setup.rss_before_kib,
        setup.rss_kiosk_kib
    );
    if setup.sockets_ready == 0 {
        let _ = phase_tx.send(Phase::Stop);
        return Ok(());
    }
    // Only target sessions whose socket is listening (a failed socket would count as "missing").
    let targets: Arc<Vec<Arc<str>>> =
        Arc::new(ready_sessions.lock().map(|r| r.clone()).unwrap_or_default());
    let driver = Driver {
        rest,
        shared: shared.clone(),
        server_pid: pid,
    };
    if !args.warmup.is_zero() {
        // Unmeasured: the first seconds after start-up (fresh database pages, allocator growth,
        // cold code paths) are not the steady state the targets are about; its run id (1000) is never reported.
        let warmup = KioskRun {
            run: 1000,
            rate: 500,
            writers: args.kiosk_writers,
            duration: args.warmup,
        };
        let w = driver.kiosk(&targets, warmup).await;
        println!("warm-up (not reported): {}", report::kiosk_line(&w));
    }
    let mut kiosk = Vec::new();
    for (run, rate) in args.kiosk_rates.iter().enumerate() {
        let run = KioskRun {
            run: run as u32 + 1,
            rate: *rate,
            writers: args.kiosk_writers,
            duration: args.duration,
        };
        let r = driver.kiosk(&targets, run).await;
        println!("{}", report::kiosk_line(&r));
        kiosk.push(r);
    }

    // Second channel on every socket: the catalogue.
    let _ = phase_tx.send(Phase::JoinCatalogue);
    let expected = setup
        .sockets_ready
        .saturating_sub(shared.dropped.load(Ordering::SeqCst));
    wait_for("joining catalogue", Duration::from_secs(120), || {
        let r = shared.catalogue_ready.load(Ordering::SeqCst);
        (r >= expected, format!("{r} / {expected}"))
    })
    .await;
    setup.catalogue_ready = shared.catalogue_ready.load(Ordering::SeqCst);
    sleep(Duration::from_millis(500)).await;
    setup.rss_both_kib = pid.and_then(rss_kib);
    let next_seq = Arc::new(AtomicU64::new(0));
    let mut catalogue = Vec::new();
    for rate in &args.catalogue_rates {
        let subscribers = setup
            .catalogue_ready
            .saturating_sub(shared.dropped.load(Ordering::SeqCst));
        let run = CatalogueRun {
            rate: *rate,
            duration: args.duration,
            subscribers,
        };
        let r = driver.catalogue(&row_ids, &next_seq, run).await;
        println!("{}", report::catalogue_line(&r));
        catalogue.push(r);
    }

    let _ = phase_tx.send(Phase::Stop);
    setup.dropped = shared.dropped.load(Ordering::SeqCst);
    setup.unexpected = shared.unexpected.load(Ordering::SeqCst);
    sleep(Duration::from_millis(300)).await;
    let md = report::markdown(&setup, &kiosk, &catalogue);
    println!("\n{md}");
    if let Some(path) = &args.markdown
        && let Err(e) = std::fs::write(path, &md)
    {
        eprintln!("concierge-bench: writing {path}: {e}");
    }
    Ok(())
}
