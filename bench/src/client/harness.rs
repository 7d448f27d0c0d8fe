//! A small timing harness: `std::time::Instant`, a calibrated warm-up, interleaved repetitions
//! and medians.
//!
//! A *case* is a closure that runs `iters` iterations and returns the time spent in the part
//! being measured (so per-iteration set-up, such as cloning a store, stays outside). The cases of
//! a *group* are calibrated one by one (doubling `iters` until one sample takes the target time;
//! this is also the warm-up), then sampled round-robin — case 1, case 2, …, case 1, case 2, … —
//! so a burst of load from other processes on the shared machine hits every case of the group,
//! and their ratios stay comparable.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// A measured case: closure(iters) → time spent in the measured part.
pub struct Case<'a> {
    pub name: String,
    /// Operations per iteration (ns/op = time / (iters × ops_per_iter)).
    pub ops_per_iter: u64,
    run: Box<dyn FnMut(u64) -> Duration + 'a>,
}

impl<'a> Case<'a> {
    pub fn new(
        name: impl Into<String>,
        ops_per_iter: u64,
        run: impl FnMut(u64) -> Duration + 'a,
    ) -> Case<'a> {
        Case {
            name: name.into(),
            ops_per_iter,
            run: Box::new(run),
        }
    }

    /// A case whose every iteration is measured whole (no per-iteration set-up).
    pub fn simple(
        name: impl Into<String>,
        ops_per_iter: u64,
        mut f: impl FnMut() + 'a,
    ) -> Case<'a> {
        Case::new(name, ops_per_iter, move |iters| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed()
        })
    }

    /// A case whose iterations each start from a fresh state made by `setup` (not timed, e.g.
    /// cloning a store), then run `timed` on it. The state and `timed`'s result go through
    /// `black_box` after the clock stops, so the work cannot be optimised away.
    pub fn with_setup<S, R>(
        name: impl Into<String>,
        ops_per_iter: u64,
        mut setup: impl FnMut() -> S + 'a,
        mut timed: impl FnMut(&mut S) -> R + 'a,
    ) -> Case<'a> {
        Case::new(name, ops_per_iter, move |iters| {
            let mut took = Duration::ZERO;
            for _ in 0..iters {
                let mut state = setup();
                let t = Instant::now();
                let out = timed(&mut state);
                took += t.elapsed();
                black_box((state, out));
            }
            took
        })
    }
}

/// The samples of one case, in ns per operation.
#[derive(Debug, Clone)]
pub struct Measured {
    pub name: String,
    pub samples: Vec<f64>,
}

impl Measured {
    fn quantile(&self, q: f64) -> f64 {
        let mut s = self.samples.clone();
        s.sort_by(f64::total_cmp);
        if s.is_empty() {
            return f64::NAN;
        }
        let pos = q * (s.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
    }

    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// Interquartile range relative to the median (a noise indicator).
    pub fn iqr_rel(&self) -> f64 {
        (self.quantile(0.75) - self.quantile(0.25)) / self.median()
    }

    pub fn min(&self) -> f64 {
        self.quantile(0.0)
    }

    pub fn max(&self) -> f64 {
        self.quantile(1.0)
    }
}

/// The median of case `i` of a group (NaN if the group has no such case).
pub fn median_of(ms: &[Measured], i: usize) -> f64 {
    ms.get(i).map_or(f64::NAN, Measured::median)
}

/// The noisiest case seen so far: the largest interquartile range relative to its median.
#[derive(Debug, Clone, Copy, Default)]
pub struct Noise {
    pub worst_iqr: f64,
}

impl Noise {
    pub fn note(&mut self, ms: &[Measured]) {
        for m in ms {
            self.worst_iqr = self.worst_iqr.max(m.iqr_rel());
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Samples per case (the median of these is reported).
    pub reps: usize,
    /// Target duration of one sample.
    pub sample: Duration,
}

/// Calibrates (warm-up), then samples the cases round-robin. Prints one line per case.
pub fn run_group(title: &str, settings: Settings, cases: Vec<Case<'_>>) -> Vec<Measured> {
    println!("\n{title}");
    let mut cases: Vec<(Case<'_>, u64)> = cases.into_iter().map(|c| (c, 1)).collect();
    for (case, iters) in cases.iter_mut() {
        // Warm-up and calibration: double until one sample reaches the target time, then
        // run once more at that size.
        loop {
            let took = (case.run)(*iters);
            if took >= settings.sample || *iters >= 1 << 40 {
                break;
            }
            let grow = if took < settings.sample / 16 { 4 } else { 2 };
            *iters *= grow;
        }
        (case.run)(*iters);
    }
    let mut out: Vec<Measured> = cases
        .iter()
        .map(|(c, _)| Measured {
            name: c.name.clone(),
            samples: Vec::with_capacity(settings.reps),
        })
        .collect();
    for _ in 0..settings.reps {
        for ((case, iters), m) in cases.iter_mut().zip(out.iter_mut()) {
            let took = (case.run)(*iters);
            let ops = (*iters * case.ops_per_iter) as f64;
            m.samples.push(took.as_nanos() as f64 / ops);
        }
    }
    for m in &out {
        println!(
            "  {:<64} median {:>12} ns/op   min {:>10}  max {:>10}  IQR {:>4.1}%",
            m.name,
            fmt_ns(m.median()),
            fmt_ns(m.min()),
            fmt_ns(m.max()),
            m.iqr_rel() * 100.0
        );
    }
    out
}

/// `1234.5` → `1,234`; small values keep one decimal.
pub fn fmt_ns(ns: f64) -> String {
    if !ns.is_finite() {
        return "n/a".into();
    }
    if ns < 100.0 {
        return format!("{ns:.1}");
    }
    group_thousands(ns.round() as u64)
}

pub fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `a / b` as `1.23×`.
pub fn ratio(a: f64, b: f64) -> String {
    format!("{:.2}×", a / b)
}

/// Operations per second for a cost in ns/op, e.g. `12.3 M/s`.
pub fn fmt_rate(ns_per_op: f64) -> String {
    let per_s = 1e9 / ns_per_op;
    if per_s >= 1e6 {
        format!("{:.1} M/s", per_s / 1e6)
    } else if per_s >= 1e3 {
        format!("{:.1} k/s", per_s / 1e3)
    } else {
        format!("{per_s:.0}/s")
    }
}
