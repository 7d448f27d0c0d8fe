//! The reply benchmark's figures: a console line and the body of the "## Concierge replies"
//! section of BENCHMARKS.md.

use std::fmt::Write as _;
use std::time::Duration;

use super::conversation::Exchange;
use crate::report::cpu_cell;
use crate::stats::Summary;
use crate::workload::CpuUse;

/// The target: p99 below 6 s from the guest's send.
pub const TARGET: Duration = Duration::from_secs(6);

/// One reading of the reply queue.
#[derive(Debug, Clone, Copy)]
pub struct QueueSample {
    /// Every waiting message (most are inside the wait for staff).
    pub depth: u64,
    /// Those stored at least the reply delay ago: due, not yet answered.
    pub older: u64,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub conversations_asked: usize,
    pub conversations: usize,
    pub open_error: Option<String>,
    pub delay: Duration,
    pub workers: Option<usize>,
    pub elapsed_s: f64,
    pub exchanges: Vec<Exchange>,
    /// The queue every 250 ms.
    pub queue: Vec<QueueSample>,
    pub cpu: CpuUse,
}

/// The figures derived from a report.
struct Figures {
    asked: usize,
    send_errors: usize,
    first_send_error: Option<String>,
    replies: usize,
    /// send → reply, s.
    total: Summary,
    /// send → reply minus the delay, s.
    after_delay: Summary,
    /// The question's created_at → the reply's, s (server clock, ms resolution).
    stored: Summary,
    queue: Summary,
    queue_mean: f64,
    /// Messages past the delay, not yet answered.
    overdue: Summary,
    overdue_mean: f64,
}

fn mean(v: &[u64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<u64>() as f64 / v.len() as f64
    }
}

fn figures(r: &Report) -> Figures {
    let delay_us = u64::try_from(r.delay.as_micros()).unwrap_or(u64::MAX);
    let replies: Vec<u64> = r.exchanges.iter().filter_map(|e| e.reply_us).collect();
    let depths: Vec<u64> = r.queue.iter().map(|q| q.depth).collect();
    let overdue: Vec<u64> = r.queue.iter().map(|q| q.older).collect();
    Figures {
        asked: r
            .exchanges
            .iter()
            .filter(|e| e.send_error.is_none())
            .count(),
        send_errors: r
            .exchanges
            .iter()
            .filter(|e| e.send_error.is_some())
            .count(),
        first_send_error: r.exchanges.iter().find_map(|e| e.send_error.clone()),
        replies: replies.len(),
        total: Summary::of(replies.clone()).scaled(1e6),
        after_delay: Summary::of(
            replies
                .iter()
                .map(|us| us.saturating_sub(delay_us))
                .collect(),
        )
        .scaled(1e6),
        stored: Summary::of(
            r.exchanges
                .iter()
                .filter_map(|e| e.stored_to_reply_ms)
                .map(|ms| u64::try_from(ms).unwrap_or(0))
                .collect(),
        )
        .scaled(1e3),
        queue_mean: mean(&depths),
        queue: Summary::of(depths),
        overdue_mean: mean(&overdue),
        overdue: Summary::of(overdue),
    }
}

fn secs(s: &Summary) -> String {
    if s.count == 0 {
        "n/a".to_owned()
    } else {
        format!("{:.2} / {:.2} / {:.2}", s.p50, s.p99, s.max)
    }
}

pub fn line(r: &Report) -> String {
    let f = figures(r);
    format!(
        "replies: {} conversations, {} questions ({} send errors{}), {} replies ({} missing); \
         send→reply p50/p99/max {} s, after the {:.1} s delay {} s, stored→reply stored {} s; \
         queue depth p50/p99/max {:.0}/{:.0}/{:.0} (mean {:.1}, {} samples), past the delay {:.0}/{:.0}/{:.0} (mean {:.1}); \
         CPU server / client {} cores",
        r.conversations,
        f.asked,
        f.send_errors,
        f.first_send_error
            .as_deref()
            .map(|e| format!(", first: {e}"))
            .unwrap_or_default(),
        f.replies,
        f.asked - f.replies,
        secs(&f.total),
        r.delay.as_secs_f64(),
        secs(&f.after_delay),
        secs(&f.stored),
        f.queue.p50,
        f.queue.p99,
        f.queue.max,
        f.queue_mean,
        f.queue.count,
        f.overdue.p50,
        f.overdue.p99,
        f.overdue.max,
        f.overdue_mean,
        cpu_cell(&r.cpu),
    )
}

/// The section body (without its heading and how-measured paragraph).
pub fn markdown(r: &Report) -> String {
    let f = figures(r);
    let mut m = String::new();
    let _ = writeln!(
        m,
        "Conversations: {} of {} opened{}; questions asked over {:.0} s: {} ({:.1}/s), send errors {}{}.\n",
        r.conversations,
        r.conversations_asked,
        r.open_error
            .as_deref()
            .map(|e| format!(" (first error: `{e}`)"))
            .unwrap_or_default(),
        r.elapsed_s,
        f.asked,
        f.asked as f64 / r.elapsed_s,
        f.send_errors,
        f.first_send_error
            .as_deref()
            .map(|e| format!(" (first: `{e}`)"))
            .unwrap_or_default(),
    );
    let _ = writeln!(
        m,
        "| reply delay (wait for staff) | workers | replies / questions | send→reply over realtime p50 / p99 / max (s) | the same minus the delay (s) | server: question stored→reply stored p50 / p99 / max (s) | queue depth p50 / p99 / max (mean) | of which past the delay p50 / p99 / max (mean) | CPU server / client (cores) |\n|---|---|---|---|---|---|---|---|---|"
    );
    let _ = writeln!(
        m,
        "| {:.1} s | {} | {} / {} | {} | {} | {} | {:.0} / {:.0} / {:.0} ({:.1}) | {:.0} / {:.0} / {:.0} ({:.1}) | {} |",
        r.delay.as_secs_f64(),
        r.workers
            .map_or_else(|| "n/a".to_owned(), |w| w.to_string()),
        f.replies,
        f.asked,
        secs(&f.total),
        secs(&f.after_delay),
        secs(&f.stored),
        f.queue.p50,
        f.queue.p99,
        f.queue.max,
        f.queue_mean,
        f.overdue.p50,
        f.overdue.p99,
        f.overdue.max,
        f.overdue_mean,
        cpu_cell(&r.cpu),
    );
    let met = f.total.count > 0 && f.replies == f.asked && f.total.p99 < TARGET.as_secs_f64();
    let _ = writeln!(
        m,
        "\nTarget (issue 16): reply p99 under {} s from the guest's send with ≥ 200 concurrent conversations: **{}** \
         (p99 {:.2} s with {} conversations{}).",
        TARGET.as_secs(),
        if met && r.conversations >= 200 {
            "met"
        } else {
            "not met"
        },
        f.total.p99,
        r.conversations,
        if f.replies < f.asked {
            format!(", {} questions unanswered within 30 s", f.asked - f.replies)
        } else {
            String::new()
        },
    );
    m
}
