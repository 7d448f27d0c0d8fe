//! The booking benchmark's figures: per-round console lines and the body of the
//! "## Reservations" section of BENCHMARKS.md.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::board::Seen;
use super::calls::{Call, Outcome};
use crate::report::{commit_lat as commit, cpu_cell, lat as ms};
use crate::stats::{CommitLatency, Summary};
use crate::workload::CpuUse;

/// What a batch of `reserve` calls came to.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    pub total: usize,
    pub confirmed: usize,
    pub refused: usize,
    pub other: usize,
    pub first_other: Option<String>,
    /// The `places_left` each confirmation answered, ascending.
    pub lefts: Vec<i64>,
    /// send → response, µs.
    pub latency_us: Vec<u64>,
    pub elapsed_s: f64,
}

impl Calls {
    pub fn of(results: &[Call], elapsed_s: f64) -> Calls {
        let mut c = Calls {
            total: results.len(),
            elapsed_s,
            ..Calls::default()
        };
        for r in results {
            c.latency_us.push(r.latency_us);
            match &r.outcome {
                Outcome::Confirmed { places_left } => {
                    c.confirmed += 1;
                    c.lefts.push(*places_left);
                }
                Outcome::NoPlacesLeft => c.refused += 1,
                Outcome::Other(e) => {
                    c.other += 1;
                    c.first_other.get_or_insert_with(|| e.clone());
                }
            }
        }
        c.lefts.sort_unstable();
        c
    }
}

/// One contention round.
#[derive(Debug, Clone)]
pub struct Round {
    pub calls: Calls,
    pub capacity: i64,
    pub stored_left: Option<i64>,
    pub watchers: usize,
    /// Watchers whose last `places_left` was 0.
    pub last_zero: usize,
    /// Watchers that saw every place go, C − 1 down to 0, in order.
    pub in_order: usize,
    pub seen: Vec<Seen>,
}

impl Round {
    /// C confirmations (each answering a different places_left, C − 1 … 0), the other calls
    /// refused clearly, nothing stored but 0, every watcher ending at 0.
    pub fn exact(&self) -> bool {
        let c = &self.calls;
        c.confirmed as i64 == self.capacity
            && c.lefts == (0..self.capacity).collect::<Vec<_>>()
            && c.refused == c.total - c.confirmed
            && self.stored_left == Some(0)
            && self.last_zero == self.watchers
    }
}

/// The uncontended phase.
#[derive(Debug, Clone)]
pub struct Throughput {
    pub calls: Calls,
    pub writers: usize,
    pub expected_left: i64,
    pub stored_left: Option<i64>,
    pub watchers: usize,
    /// Watchers whose last `places_left` was the expected one.
    pub last_ok: usize,
    pub cpu: CpuUse,
    pub seen: Vec<Seen>,
}

impl Throughput {
    pub fn exact(&self) -> bool {
        self.calls.other == 0
            && self.calls.refused == 0
            && self.stored_left == Some(self.expected_left)
            && self.last_ok == self.watchers
    }
}

#[derive(Debug, Clone)]
pub struct Report {
    pub callers: usize,
    pub capacity: i64,
    pub watchers_asked: usize,
    pub watchers: usize,
    pub watcher_error: Option<String>,
    pub dropped: usize,
    pub rounds: Vec<Round>,
    pub throughput: Throughput,
}

/// commit_timestamp → each delivery, and → the last watcher of each UPDATE (ms, wall clock).
fn delivery_latency<'a>(seen: impl Iterator<Item = &'a Seen>) -> (CommitLatency, CommitLatency) {
    let mut each = Vec::new();
    let mut last: HashMap<(u32, i64), (i64, i64)> = HashMap::new();
    for s in seen {
        let Some(c) = s.commit_ms else { continue };
        each.push(s.recv_wall_ms - c);
        let e = last
            .entry((s.event, s.places_left))
            .or_insert((c, s.recv_wall_ms));
        e.1 = e.1.max(s.recv_wall_ms);
    }
    (
        CommitLatency::of(each),
        CommitLatency::of(last.values().map(|(c, r)| r - c).collect()),
    )
}

fn call_ms(us: &[u64]) -> Summary {
    Summary::of(us.to_vec()).scaled(1000.0)
}

pub fn round_line(r: &Round) -> String {
    let (each, last) = delivery_latency(r.seen.iter());
    format!(
        "booking round: {} calls for {} places: {} confirmed, {} refused, {} other{}; stored places_left {:?}; \
         watchers ending at 0: {}/{} ({} saw all {} in order); call p50/p99/max {} ms; \
         commit→client {} ms, →last watcher {} ms; {}",
        r.calls.total,
        r.capacity,
        r.calls.confirmed,
        r.calls.refused,
        r.calls.other,
        r.calls
            .first_other
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default(),
        r.stored_left,
        r.last_zero,
        r.watchers,
        r.in_order,
        r.capacity,
        ms(&call_ms(&r.calls.latency_us)),
        commit(&each),
        commit(&last),
        if r.exact() { "exact" } else { "NOT EXACT" },
    )
}

pub fn throughput_line(t: &Throughput) -> String {
    let (each, last) = delivery_latency(t.seen.iter());
    format!(
        "booking uncontended: {} writers, {:.0} bookings/s ({} confirmed, {} refused, {} other{}); \
         stored places_left {:?} (expected {}); watchers at it: {}/{}; call p50/p99/max {} ms; \
         commit→client {} ms, →last watcher {} ms; CPU server / client {} cores",
        t.writers,
        t.calls.confirmed as f64 / t.calls.elapsed_s,
        t.calls.confirmed,
        t.calls.refused,
        t.calls.other,
        t.calls
            .first_other
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default(),
        t.stored_left,
        t.expected_left,
        t.last_ok,
        t.watchers,
        ms(&call_ms(&t.calls.latency_us)),
        commit(&each),
        commit(&last),
        cpu_cell(&t.cpu),
    )
}

/// The section body (without its heading and how-measured paragraph).
pub fn markdown(r: &Report) -> String {
    let mut m = String::new();
    let rounds = &r.rounds;
    let exact = rounds.iter().filter(|x| x.exact()).count();
    let sum = |f: fn(&Round) -> usize| rounds.iter().map(f).sum::<usize>();
    let latencies: Vec<u64> = rounds
        .iter()
        .flat_map(|x| x.calls.latency_us.iter().copied())
        .collect();
    let (each, last) = delivery_latency(rounds.iter().flat_map(|x| x.seen.iter()));
    let mut per_s: Vec<u64> = rounds
        .iter()
        .map(|x| (x.calls.total as f64 / x.calls.elapsed_s) as u64)
        .collect();
    per_s.sort_unstable();
    let _ = writeln!(
        m,
        "Watchers: {} of {} kiosk sockets joined the hotel's `events`{}; dropped during the run: {}.\n",
        r.watchers,
        r.watchers_asked,
        r.watcher_error
            .as_deref()
            .map(|e| format!(" (first error: `{e}`)"))
            .unwrap_or_default(),
        r.dropped
    );
    let _ = writeln!(
        m,
        "### Contention: {} concurrent `reserve` calls for {} places, a fresh event per round\n",
        r.callers, r.capacity
    );
    let _ = writeln!(
        m,
        "| rounds | exact rounds | confirmed / expected | clear refusals | other answers | calls/s per round (median) | `reserve` send→response p50 / p99 / max (ms) | commit_timestamp→each watcher p50 / p99 / max (ms) | commit_timestamp→last watcher p50 / p99 / max (ms) | watchers ending at 0 (worst round) | watchers that saw every place go, in order (worst round) |\n|---|---|---|---|---|---|---|---|---|---|---|"
    );
    let _ = writeln!(
        m,
        "| {} | {exact} / {} | {} / {} | {} | {} | {} | {} | {} | {} | {} / {} | {} / {} |",
        rounds.len(),
        rounds.len(),
        sum(|x| x.calls.confirmed),
        rounds.len() as i64 * r.capacity,
        sum(|x| x.calls.refused),
        sum(|x| x.calls.other),
        per_s.get(per_s.len() / 2).copied().unwrap_or(0),
        ms(&call_ms(&latencies)),
        commit(&each),
        commit(&last),
        rounds.iter().map(|x| x.last_zero).min().unwrap_or(0),
        r.watchers,
        rounds.iter().map(|x| x.in_order).min().unwrap_or(0),
        r.watchers,
    );
    if let Some(e) = rounds.iter().find_map(|x| x.calls.first_other.as_ref()) {
        let _ = writeln!(m, "\nFirst unexpected answer: `{e}`");
    }
    let t = &r.throughput;
    let (t_each, t_last) = delivery_latency(t.seen.iter());
    let _ = writeln!(
        m,
        "\n### Uncontended: {} closed-loop callers booking one place each at an event with places to spare\n",
        t.writers
    );
    let _ = writeln!(
        m,
        "| bookings/s | confirmed | refused / other | `reserve` send→response p50 / p99 / max (ms) | commit_timestamp→each watcher p50 / p99 / max (ms) | commit_timestamp→last watcher p50 / p99 / max (ms) | stored places_left = expected | watchers ending there | CPU server / client (cores) |\n|---|---|---|---|---|---|---|---|---|"
    );
    let _ = writeln!(
        m,
        "| {:.0} | {} | {} / {} | {} | {} | {} | {} | {} / {} | {} |",
        t.calls.confirmed as f64 / t.calls.elapsed_s,
        t.calls.confirmed,
        t.calls.refused,
        t.calls.other,
        ms(&call_ms(&t.calls.latency_us)),
        commit(&t_each),
        commit(&t_last),
        if t.stored_left == Some(t.expected_left) {
            "yes"
        } else {
            "**no**"
        },
        t.last_ok,
        t.watchers,
        cpu_cell(&t.cpu),
    );
    if let Some(e) = &t.calls.first_other {
        let _ = writeln!(m, "\nFirst unexpected answer: `{e}`");
    }
    let _ = writeln!(
        m,
        "\n**Exactness: {}.** {exact} of {} contention rounds exact (exactly {} confirmations, each answering a different \
         `places_left` from {} down to 0, every other call refused with `P0001` \"no places left\", stored `places_left` 0, \
         every watcher's last `places_left` 0); uncontended phase {}.",
        if exact == rounds.len() && t.exact() {
            "held"
        } else {
            "**FAILED**"
        },
        rounds.len(),
        r.capacity,
        r.capacity - 1,
        if t.exact() {
            "exact (no refusal, stored and every watcher's last `places_left` = capacity − confirmations)"
        } else {
            "**not exact**"
        },
    );
    m
}
