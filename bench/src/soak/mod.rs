//! Soak mode (`--soak SECS`): the kiosk-like load (the first `--kiosk-rates`, 2,000 changes/s)
//! and the catalogue load (the first `--catalogue-rates`, 20 changes/s to every socket) run
//! TOGETHER on every socket for SECS, one interval at a time. After each interval it samples
//! the server's RSS, the database's, WAL's and `-shm`'s sizes (the WAL's also polled for its
//! peak) and that interval's latencies and counts; at the end it can SIGKILL the server and time
//! its restart on the same database (`--restart-cmd`).

mod restart;
mod sample;
mod table;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::{Instant, sleep};

use crate::args::Args;
use crate::connect;
use crate::procinfo::rss_kib;
use crate::shared::{Phase, Shared};
use crate::workload::{CatalogueRun, Driver, KioskRun, Rest, WorkloadError};
use sample::{DbFiles, Flow, Sample};

/// Kiosk run ids of the soak's intervals start here (the warm-up is 1000).
const FIRST_RUN: u32 = 2000;

pub async fn run(args: Args) -> Result<(), WorkloadError> {
    let _ = crate::clock::now_us();
    let total = args.soak.unwrap_or(args.duration);
    let interval = args.soak_interval.min(total);
    let kiosk_rate = args.kiosk_rates.first().copied().unwrap_or(2000);
    let catalogue_rate = args.catalogue_rates.first().copied().unwrap_or(20);
    // One slot per catalogue change of the whole soak (with the pacing's slack).
    let capacity = (f64::from(catalogue_rate) * total.as_secs_f64() * 1.2) as usize + 256;
    let shared = Arc::new(Shared::new(capacity));
    let rest = Rest::new(
        &args.url,
        &args.service_key,
        args.kiosk_writers + crate::CATALOGUE_WRITERS + 4,
    )?;
    let row_ids = rest.event_ids(crate::CATALOGUE_WRITERS).await?;
    let pid = args.server_pid;
    let files = args.db.as_deref().map(DbFiles::of);

    let connected = connect::connect_all(&args, &shared).await;
    println!(
        "connected {} / {} in {:.1} s ({} failed{})",
        connected.ready,
        args.sockets,
        connected.connect_s,
        connected.failed,
        connected
            .first_error
            .as_deref()
            .map(|e| format!(": {e}"))
            .unwrap_or_default()
    );
    if connected.ready == 0 {
        let _ = connected.phase.send(Phase::Stop);
        return Ok(());
    }
    let subscribers = connect::join_catalogue(&connected, &shared).await;
    println!(
        "catalogue joined on {subscribers} sockets; soak of {:.0} s in {:.0} s intervals: kiosk {kiosk_rate}/s + catalogue {catalogue_rate}/s",
        total.as_secs_f64(),
        interval.as_secs_f64()
    );
    let driver = Driver {
        rest,
        shared: shared.clone(),
        server_pid: pid,
    };
    let wal_peak = files
        .as_ref()
        .map(|f| f.watch_wal(Duration::from_millis(250)));
    let next_seq = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    let mut run_id = FIRST_RUN;
    while start.elapsed() + Duration::from_millis(500) < total {
        let this = interval.min(total.saturating_sub(start.elapsed()));
        let cpu0 = pid.and_then(crate::procinfo::cpu_seconds);
        let t0 = Instant::now();
        let subscribers = subscribers.saturating_sub(shared.dropped.load(Ordering::SeqCst));
        let (k, c) = tokio::join!(
            driver.kiosk(
                &connected.targets,
                KioskRun {
                    run: run_id,
                    rate: kiosk_rate,
                    writers: args.kiosk_writers,
                    duration: this,
                },
            ),
            driver.catalogue(
                &row_ids,
                &next_seq,
                CatalogueRun {
                    rate: catalogue_rate,
                    duration: this,
                    subscribers,
                },
            )
        );
        run_id += 1;
        let cpu1 = pid.and_then(crate::procinfo::cpu_seconds);
        let s = Sample {
            at_s: start.elapsed().as_secs_f64(),
            rss_kib: pid.and_then(rss_kib),
            files: files.as_ref().map(DbFiles::sizes).unwrap_or_default(),
            wal_max: wal_peak.as_ref().map(|p| p.swap(0, Ordering::Relaxed)),
            server_cpu: cpu0
                .zip(cpu1)
                .map(|(a, b)| (b - a) / t0.elapsed().as_secs_f64()),
            kiosk: Flow::kiosk(&k),
            catalogue: Flow::catalogue(&c),
        };
        println!(
            "{}",
            table::rows(std::slice::from_ref(&s))
                .lines()
                .next_back()
                .unwrap_or("")
        );
        samples.push(s);
    }
    let acknowledged = samples.iter().map(|s| s.kiosk.committed).sum::<u64>();
    let restart = match (pid, args.restart_cmd.as_deref()) {
        (Some(pid), Some(cmd)) => {
            println!("SIGKILL to the server (pid {pid}) and restart…");
            let r = restart::kill_and_restart(restart::Plan {
                pid,
                cmd,
                url: &args.url,
                service_key: &args.service_key,
                at_kill: files.as_ref().map(DbFiles::sizes).unwrap_or_default(),
                acknowledged,
            })
            .await;
            println!("{}", r.describe());
            Some(r)
        }
        _ => None,
    };
    let _ = connected.phase.send(Phase::Stop);
    sleep(Duration::from_millis(300)).await;

    let md = format!(
        "{}\n{}",
        table::rows(&samples),
        table::verdicts(&samples, args.wal_limit_mib, restart.as_ref())
    );
    println!("\n{md}");
    println!("{}", summary_line(&samples));
    if let Some(path) = &args.markdown
        && let Err(e) = std::fs::write(path, &md)
    {
        eprintln!("concierge-bench: writing {path}: {e}");
    }
    Ok(())
}

/// One machine-readable line for scripts (e.g. the WAL-bound comparison): the highest
/// per-interval kiosk write (commit) and send→client p99, the committed writes and the errors.
fn summary_line(samples: &[Sample]) -> String {
    let all = |f: fn(&Sample) -> f64| {
        samples
            .iter()
            .filter(|s| s.kiosk.write.count > 0)
            .map(f)
            .fold(0.0_f64, f64::max)
    };
    format!(
        "SOAK-SUMMARY write_p99_ms={:.2} send_client_p99_ms={:.2} committed={} errors={}",
        all(|s| s.kiosk.write.p99),
        all(|s| s.kiosk.latency.p99),
        samples.iter().map(|s| s.kiosk.committed).sum::<u64>(),
        samples.iter().map(|s| s.kiosk.errors).sum::<u64>(),
    )
}
