//! `concierge-bench --abuse SECS`: what an attack mix costs an ordinary client. The ordinary
//! client ([`probe`]) is measured for SECS without any attack, then for SECS while the attacks
//! ([`attacks`], [`sockets`]) run, in the same process against the same server; a catalogue
//! writer ([`feeder`]) runs through both, the legitimate fan-out the non-reading sockets sit
//! under. The report ([`report`]) puts the two side by side and counts, per attack, what the
//! server answered, so it shows which limit acted.

mod attacks;
mod feeder;
mod probe;
mod report;
mod sockets;
mod tally;

use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::sync::watch;
use tokio::time::sleep;

use crate::args::Args;
use crate::identity::{Api as Identities, IdentityError};
use crate::procinfo::{cpu_seconds, rss_kib};
use probe::{Probe, ProbeFigures};
use tally::{Tally, TallySnapshot};

#[derive(Debug, Error)]
pub enum AbuseError {
    #[error("http client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("identities: {0}")]
    Identity(#[from] IdentityError),
    #[error("set-up: {0}")]
    Setup(String),
}

/// What every part talks to.
#[derive(Clone)]
pub struct Ctx {
    pub url: Arc<str>,
    pub anon_key: Arc<str>,
    pub service_key: Arc<str>,
    /// `/realtime/v1/websocket?apikey=<anon key>&vsn=2.0.0`.
    pub ws_url: Arc<str>,
    pub http: reqwest::Client,
    pub identities: Identities,
}

/// One phase: the ordinary client's figures and the server's resources meanwhile.
#[derive(Debug, Clone, Default)]
pub struct PhaseFigures {
    pub probe: ProbeFigures,
    /// Server CPU over the phase, cores.
    pub server_cores: Option<f64>,
    /// Highest server RSS sampled (every 250 ms) during the phase, KiB.
    pub rss_peak_kib: Option<u64>,
    /// Seconds of requests sent (answers and deliveries may come later).
    pub seconds: f64,
}

/// Each attack's counts, in report order.
#[derive(Debug, Clone, Default)]
pub struct AttackFigures {
    pub patterns: TallySnapshot,
    pub flood: TallySnapshot,
    pub non_readers: TallySnapshot,
    pub sign_ins: TallySnapshot,
    /// Server RSS a few seconds after the attacks stopped, KiB.
    pub rss_after_kib: Option<u64>,
}

pub async fn run(args: Args, length: Duration) -> Result<(), AbuseError> {
    let _ = crate::clock::now_us();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()?;
    let ctx = Ctx {
        url: args.url.as_str().into(),
        anon_key: args.anon_key.as_str().into(),
        service_key: args.service_key.as_str().into(),
        ws_url: args.ws_url().into(),
        http,
        identities: Identities::new(&args.url, &args.anon_key, 32)?,
    };
    println!(
        "abuse: signing up the ordinary client's {} kiosk identities…",
        probe::PROBES
    );
    let probe = Probe::start(&ctx).await.map_err(AbuseError::Setup)?;
    if probe.sockets_ready < probe::PROBES {
        return Err(AbuseError::Setup(format!(
            "only {} of {} probe sockets subscribed",
            probe.sockets_ready,
            probe::PROBES
        )));
    }
    println!("abuse: preparing the attackers' long messages…");
    let attackers = attacks::prepare_patterns(&ctx)
        .await
        .map_err(AbuseError::Setup)?;
    let (feed_stop, feed_rx) = watch::channel(false);
    let feed_tally = Arc::new(Tally::default());
    let feeder = tokio::spawn(feeder::run(ctx.clone(), feed_tally.clone(), feed_rx));
    sleep(Duration::from_secs(1)).await;

    println!("abuse: {} s without attack…", length.as_secs_f64());
    let quiet = phase(&ctx, &probe, 1, length, args.server_pid).await;
    println!("{}", report::phase_line("without attack", &quiet));

    let (stop, stop_rx) = watch::channel(false);
    let tallies: [Arc<Tally>; 4] = Default::default();
    let [patterns, flood, non_readers, sign_ins] = tallies.clone();
    let running = vec![
        tokio::spawn(attacks::slow_patterns(
            ctx.clone(),
            attackers,
            patterns,
            stop_rx.clone(),
        )),
        tokio::spawn(sockets::subscription_flood(
            ctx.clone(),
            flood,
            stop_rx.clone(),
        )),
        tokio::spawn(sockets::non_readers(
            ctx.clone(),
            non_readers,
            stop_rx.clone(),
        )),
        tokio::spawn(attacks::sign_in_flood(ctx.clone(), sign_ins, stop_rx)),
    ];
    // Let the attacks get going (sockets joined, queues filling) before measuring.
    sleep(Duration::from_secs(2)).await;
    println!("abuse: {} s under attack…", length.as_secs_f64());
    let attacked = phase(&ctx, &probe, 2, length, args.server_pid).await;
    println!("{}", report::phase_line("under attack", &attacked));
    let _ = stop.send(true);
    for t in running {
        if tokio::time::timeout(Duration::from_secs(30), t)
            .await
            .is_err()
        {
            eprintln!("abuse: an attack did not stop within 30 s");
        }
    }
    sleep(Duration::from_secs(3)).await;
    let rss_after_kib = args.server_pid.and_then(rss_kib);
    let _ = feed_stop.send(true);
    let _ = feeder.await;
    probe.stop();
    let [patterns, flood, non_readers, sign_ins] = tallies;
    let attack = AttackFigures {
        patterns: patterns.snapshot(),
        flood: flood.snapshot(),
        non_readers: non_readers.snapshot(),
        sign_ins: sign_ins.snapshot(),
        rss_after_kib,
    };
    let md = report::markdown(&quiet, &attacked, &attack, &feed_tally.snapshot());
    println!("\n{md}");
    if let Some(path) = &args.markdown
        && let Err(e) = std::fs::write(path, &md)
    {
        eprintln!("concierge-bench: writing {path}: {e}");
    }
    Ok(())
}

/// Measures the probe for `length` as phase `id`, sampling the server's RSS meanwhile.
async fn phase(
    ctx: &Ctx,
    probe: &Probe,
    id: u32,
    length: Duration,
    pid: Option<u32>,
) -> PhaseFigures {
    let (done, mut done_rx) = watch::channel(false);
    let sampler = tokio::spawn(async move {
        let mut peak = pid.and_then(rss_kib);
        loop {
            tokio::select! {
                _ = done_rx.changed() => return peak,
                () = sleep(Duration::from_millis(250)) => {
                    peak = peak.max(pid.and_then(rss_kib));
                }
            }
        }
    });
    let cpu0 = pid.and_then(cpu_seconds);
    let t0 = std::time::Instant::now();
    let figures = probe.measure(ctx, id, length).await;
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu1 = pid.and_then(cpu_seconds);
    let _ = done.send(true);
    PhaseFigures {
        probe: figures,
        server_cores: cpu0.zip(cpu1).map(|(a, b)| (b - a) / elapsed),
        rss_peak_kib: sampler.await.ok().flatten(),
        seconds: length.as_secs_f64(),
    }
}
