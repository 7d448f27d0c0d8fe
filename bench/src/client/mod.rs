//! `concierge-bench client`: CPU cost of the app's sync core (concierge-wire + concierge-sync),
//! natively, in one process and one run, against plain-serde baselines on the same bytes.
//!
//! (a) decoding `postgres_changes` frames (vsn 1.0.0 and 2.0.0);
//! (b) the path of a realtime event to the UI (decode + merge; and the whole `Engine::handle`,
//!     which also emits the sorted rows) and the merge of a poll snapshot;
//! (c) the heartbeat and poll state machines' per-tick cost (a sanity figure).
//!
//! Every figure is the median of several samples taken round-robin within its group (see
//! [`harness`]); ratios compare cases of the same group.

mod decoding;
mod fixtures;
mod harness;
mod live_engine;
mod snapshot;
mod store;
mod ticks;

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use harness::{Noise, Settings};

pub const USAGE: &str = "\
concierge-bench client [--quick] [--reps N] [--sample-ms MS] [--markdown PATH]

CPU cost of the app's sync core (decode, merge, state machines), natively, against plain
serde_json baselines on the same bytes. Prints the figures; --markdown writes them as Markdown
(the body of BENCHMARKS.md's \"Sync core (client)\" section, which scripts/bench fills).
  --reps N        samples per case, the median is reported (default 15; --quick: 7)
  --sample-ms MS  target duration of one sample (default 25; --quick: 10)";

/// Rows in the store for (b), and realtime UPDATEs spread over them.
const ROWS: usize = 200;
const UPDATES: usize = 10_000;
/// UPDATEs per sample through the whole engine (each emits the sorted rows): one per row.
const ENGINE_UPDATES: usize = ROWS;
/// Version (ms after midnight) of the snapshot rows the store starts from.
const BASE_MS: u64 = 36_000_000;
/// The engine's clock (ms since the Unix epoch); only the latency figure depends on it.
const NOW: u64 = 1_795_305_600_000;

pub fn main(argv: impl Iterator<Item = String>) -> ExitCode {
    let mut settings = Settings {
        reps: 15,
        sample: Duration::from_millis(25),
    };
    let mut markdown = None;
    let mut argv = argv;
    let mut explicit = (None, None);
    while let Some(a) = argv.next() {
        let mut value = |flag: &str| argv.next().ok_or_else(|| format!("{flag} needs a value"));
        let r: Result<(), String> = match a.as_str() {
            "--quick" => {
                settings = Settings {
                    reps: 7,
                    sample: Duration::from_millis(10),
                };
                Ok(())
            }
            "--reps" => value("--reps").and_then(|v| {
                v.parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(|n| explicit.0 = Some(n))
                    .ok_or_else(|| format!("--reps: bad value {v:?}"))
            }),
            "--sample-ms" => value("--sample-ms").and_then(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(|n| explicit.1 = Some(Duration::from_millis(n)))
                    .ok_or_else(|| format!("--sample-ms: bad value {v:?}"))
            }),
            "--markdown" => value("--markdown").map(|v| markdown = Some(v)),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => Err(format!("unknown flag {other:?}")),
        };
        if let Err(e) = r {
            eprintln!("concierge-bench client: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    settings.reps = explicit.0.unwrap_or(settings.reps);
    settings.sample = explicit.1.unwrap_or(settings.sample);

    let started = Instant::now();
    let md = match run(settings) {
        Ok(md) => md,
        Err(e) => {
            eprintln!("concierge-bench client: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "\n(all groups: {} samples per case, ~{} ms each; {:.1} s in all)",
        settings.reps,
        settings.sample.as_millis(),
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = markdown
        && let Err(e) = std::fs::write(&path, md)
    {
        eprintln!("concierge-bench client: writing {path}: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Runs the three sections in order; returns their Markdown (the figures are printed as they
/// are measured).
fn run(s: Settings) -> Result<String, String> {
    let mut noise = Noise::default();
    let mut md = decoding::section(s, &mut noise)?;
    md += &store::section(s, &mut noise)?;
    md += &ticks::section(s, &mut noise)?;
    let _ = writeln!(
        md,
        "Noise: the largest interquartile range of any case's samples was {:.1}% of its median.",
        noise.worst_iqr * 100.0
    );
    Ok(md)
}
