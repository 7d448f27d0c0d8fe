//! The soak's Markdown: one row per interval, the kill-and-restart time, and the verdicts
//! against the targets (WAL under its bound, RSS flat within ±5 % after the first
//! minute, per-interval p99 flat, restart within seconds).

use std::fmt::Write as _;

use super::restart::Restart;
use super::sample::Sample;
use crate::stats::Summary;

const MIB: f64 = 1024.0 * 1024.0;

/// How far RSS may move after the first minute, as a fraction of its value then.
pub const RSS_TOLERANCE: f64 = 0.05;

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "–".to_owned(), |b| format!("{:.1}", b as f64 / MIB))
}

fn p50_p99(s: &Summary) -> String {
    if s.count == 0 {
        "n/a".to_owned()
    } else {
        format!("{:.1} / {:.1}", s.p50, s.p99)
    }
}

fn clock(at_s: f64) -> String {
    let s = at_s.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// The table, one row per interval.
pub fn rows(samples: &[Sample]) -> String {
    let mut m = String::from(
        "| time (min:s) | server RSS (MiB) | database (MiB) | WAL at end / max in interval (MiB) | -shm (MiB) \
         | kiosk committed / delivered / errors | kiosk send→client p50 / p99 (ms) | kiosk write (commit) p99 (ms) \
         | catalogue committed / reached all / errors | catalogue send→last client p50 / p99 (ms) | server CPU (cores) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for s in samples {
        let _ = writeln!(
            m,
            "| {} | {} | {} | {} / {} | {} | {} / {} / {} | {} | {} | {} / {} / {} | {} | {} |",
            clock(s.at_s),
            s.rss_kib
                .map_or_else(|| "n/a".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0)),
            mib(s.files.db),
            mib(s.files.wal),
            mib(s.wal_max),
            mib(s.files.shm),
            s.kiosk.committed,
            s.kiosk.delivered,
            s.kiosk.errors,
            p50_p99(&s.kiosk.latency),
            if s.kiosk.write.count == 0 {
                "n/a".to_owned()
            } else {
                format!("{:.1}", s.kiosk.write.p99)
            },
            s.catalogue.committed,
            s.catalogue.delivered,
            s.catalogue.errors,
            p50_p99(&s.catalogue.latency),
            s.server_cpu
                .map_or_else(|| "n/a".to_owned(), |c| format!("{c:.2}")),
        );
    }
    m
}

/// RSS after the first minute: the value then, the lowest and highest after it, and the largest
/// deviation from the first value as a fraction (`None` without two samples after a minute).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RssDrift {
    pub base_kib: u64,
    pub min_kib: u64,
    pub max_kib: u64,
    pub deviation: f64,
}

/// Samples ending at or after one minute (the first of them is the base).
pub fn rss_drift(samples: &[Sample]) -> Option<RssDrift> {
    let mut after = samples
        .iter()
        .filter(|s| s.at_s >= 59.5)
        .filter_map(|s| s.rss_kib);
    let base = after.next()?;
    let rest: Vec<u64> = after.collect();
    let (min, max) = (
        rest.iter().copied().min()?.min(base),
        rest.iter().copied().max()?.max(base),
    );
    let dev = |v: u64| (v as f64 - base as f64).abs() / base.max(1) as f64;
    Some(RssDrift {
        base_kib: base,
        min_kib: min,
        max_kib: max,
        deviation: dev(min).max(dev(max)),
    })
}

fn range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// The verdicts, one bullet each.
pub fn verdicts(
    samples: &[Sample],
    wal_limit_mib: Option<u64>,
    restart: Option<&Restart>,
) -> String {
    let mut m = String::new();
    let wal_max = samples.iter().filter_map(|s| s.wal_max).max();
    match (wal_max, wal_limit_mib) {
        (Some(w), Some(limit)) => {
            let met = w <= limit * 1024 * 1024;
            let _ = writeln!(
                m,
                "- WAL under its bound ({limit} MiB): **{}**: largest WAL seen (polled every 250 ms) {:.1} MiB.",
                if met { "met" } else { "not met" },
                w as f64 / MIB
            );
        }
        (Some(w), None) => {
            let _ = writeln!(
                m,
                "- Largest WAL seen (polled every 250 ms): {:.1} MiB.",
                w as f64 / MIB
            );
        }
        (None, _) => {}
    }
    match rss_drift(samples) {
        Some(d) => {
            let _ = writeln!(
                m,
                "- Server RSS after the first minute within ±5 %: **{}**: {:.1} MiB at 1 min, then between {:.1} and {:.1} MiB (at most {:+.1} % away).",
                if d.deviation <= RSS_TOLERANCE {
                    "met"
                } else {
                    "not met"
                },
                d.base_kib as f64 / 1024.0,
                d.min_kib as f64 / 1024.0,
                d.max_kib as f64 / 1024.0,
                d.deviation * 100.0
            );
        }
        None => {
            let _ = writeln!(
                m,
                "- Server RSS: too short a run to judge (needs samples after the first minute)."
            );
        }
    }
    let with_lat = |f: fn(&Sample) -> &Summary| {
        range(samples.iter().map(f).filter(|s| s.count > 0).map(|s| s.p99))
    };
    if let Some((lo, hi)) = with_lat(|s| &s.kiosk.latency) {
        let _ = writeln!(
            m,
            "- Per-interval p99, kiosk send→client: {lo:.1} to {hi:.1} ms (target ≤ 50 ms)."
        );
    }
    if let Some((lo, hi)) = with_lat(|s| &s.catalogue.latency) {
        let _ = writeln!(
            m,
            "- Per-interval p99, catalogue send→last client: {lo:.1} to {hi:.1} ms (target ≤ 100 ms)."
        );
    }
    let total = |f: fn(&Sample) -> u64| samples.iter().map(f).sum::<u64>();
    let _ = writeln!(
        m,
        "- In all: kiosk {} committed, {} delivered, {} errors; catalogue {} committed, {} reached every subscriber, {} errors.",
        total(|s| s.kiosk.committed),
        total(|s| s.kiosk.delivered),
        total(|s| s.kiosk.errors),
        total(|s| s.catalogue.committed),
        total(|s| s.catalogue.delivered),
        total(|s| s.catalogue.errors),
    );
    if let Some(r) = restart {
        let _ = writeln!(m, "- {}", r.describe());
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(at_s: f64, rss_mib: u64) -> Sample {
        Sample {
            at_s,
            rss_kib: Some(rss_mib * 1024),
            ..Sample::default()
        }
    }

    #[test]
    fn rss_drift_starts_after_the_first_minute() {
        // The first sample (30 s) is start-up growth and does not count.
        let s = [at(30.0, 50), at(60.0, 100), at(90.0, 104), at(120.0, 97)];
        let d = rss_drift(&s).unwrap();
        assert_eq!(
            (d.base_kib, d.min_kib, d.max_kib),
            (100 * 1024, 97 * 1024, 104 * 1024)
        );
        assert!((d.deviation - 0.04).abs() < 1e-9);
        assert!(rss_drift(&s[..2]).is_none());
    }

    #[test]
    fn table_has_one_row_per_interval() {
        let s = [at(60.0, 100), at(120.0, 101)];
        let t = rows(&s);
        assert_eq!(t.lines().count(), 4);
        assert!(t.contains("| 2:00 | 101.0 |"));
        let v = verdicts(&s, Some(32), None);
        assert!(v.contains("RSS after the first minute within ±5 %: **met**"));
        let grown = verdicts(&[at(60.0, 100), at(120.0, 110)], None, None);
        assert!(grown.contains("**not met**"));
    }
}
