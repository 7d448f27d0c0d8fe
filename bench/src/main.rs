//! `concierge-bench`: a load client for concierge-server's realtime path.
//!
//! One tokio runtime; every WebSocket is a task. It connects N sockets (each a kiosk identity of
//! its own, joined to its `kiosk_results` INSERT channel filtered by `session_id=eq.<uuid>`), measures the server's
//! memory per connection, runs the kiosk-like workload (each change to one socket) at the given
//! rates, joins a catalogue channel (`events`, every change) on every socket, runs the
//! catalogue-like workload (each change to all sockets), then closes everything and exits.
//! With `--soak SECS` it runs both workloads together for that long instead (see `soak`); with
//! `--abuse SECS` it measures an ordinary client without and under an attack mix (see `abuse`).

mod abuse;
mod args;
mod booking;
mod client;
mod clock;
mod connect;
mod identity;
mod procinfo;
mod replies;
mod report;
mod shared;
mod soak;
mod socket;
mod stats;
mod watcher;
mod workload;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::sleep;

use args::{Args, USAGE};
use procinfo::rss_kib;
use report::Setup;
use shared::{Phase, Shared};
use workload::{CatalogueRun, Driver, KioskRun, Rest};

/// Writers of the catalogue workload, each owning one `events` row.
pub(crate) const CATALOGUE_WRITERS: usize = 4;

fn main() -> ExitCode {
    // `concierge-bench client …`: the sync core's CPU cost, no server involved.
    if std::env::args().nth(1).as_deref() == Some("client") {
        return client::main(std::env::args().skip(2));
    }
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}\n{}\n{}", booking::USAGE, replies::USAGE);
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
    if let Some(length) = args.abuse {
        return match rt.block_on(abuse::run(args, length)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("concierge-bench --abuse: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let outcome = if args.soak.is_some() {
        rt.block_on(soak::run(args)).map_err(|e| e.to_string())
    } else if args.booking.secs.is_some() {
        rt.block_on(booking::main(args)).map_err(|e| e.to_string())
    } else if args.replies.secs.is_some() {
        rt.block_on(replies::main(args)).map_err(|e| e.to_string())
    } else {
        rt.block_on(run(args)).map_err(|e| e.to_string())
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("concierge-bench: {e}");
            ExitCode::FAILURE
        }
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
    let mut setup = Setup {
        sockets_requested: args.sockets,
        duration_s: args.duration.as_secs_f64(),
        ..Setup::default()
    };
    let pid = args.server_pid;
    setup.rss_before_kib = pid.and_then(rss_kib);

    // Connect and subscribe every socket.
    let connected = connect::connect_all(&args, &shared).await;
    setup.connect_s = connected.connect_s;
    setup.sockets_ready = connected.ready;
    setup.sockets_failed = connected.failed;
    setup.first_connect_error = connected.first_error.clone();
    sleep(Duration::from_millis(500)).await; // let the server settle before reading its RSS
    setup.rss_kiosk_kib = pid.and_then(rss_kib);
    println!(
        "connected {} / {} in {:.1} s ({} failed{}); server RSS {:?} → {:?} KiB",
        setup.sockets_ready,
        args.sockets,
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
    let phase_tx = &connected.phase;
    if setup.sockets_ready == 0 {
        let _ = phase_tx.send(Phase::Stop);
        return Ok(());
    }
    let targets = connected.targets.clone();
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
    setup.catalogue_ready = connect::join_catalogue(&connected, &shared).await;
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
