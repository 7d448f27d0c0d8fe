//! Human-readable output and the Markdown section for BENCHMARKS.md.

use std::fmt::Write as _;

use crate::stats::{CommitLatency, Summary};
use crate::workload::{CatalogueResult, CpuUse, KioskResult};

#[derive(Debug, Clone, Default)]
pub struct Setup {
    pub sockets_requested: usize,
    pub sockets_ready: usize,
    pub sockets_failed: usize,
    pub connect_s: f64,
    pub first_connect_error: Option<String>,
    pub rss_before_kib: Option<u64>,
    pub rss_kiosk_kib: Option<u64>,
    pub rss_both_kib: Option<u64>,
    pub catalogue_ready: usize,
    pub dropped: usize,
    pub unexpected: u64,
    pub duration_s: f64,
}

impl Setup {
    /// Server memory per connection (one kiosk channel), KiB.
    pub fn kib_per_socket(&self) -> Option<f64> {
        let (a, b) = (self.rss_before_kib?, self.rss_kiosk_kib?);
        (self.sockets_ready > 0).then(|| b.saturating_sub(a) as f64 / self.sockets_ready as f64)
    }
    /// Extra server memory per connection for the second (catalogue) channel, KiB.
    pub fn kib_per_catalogue_channel(&self) -> Option<f64> {
        let (a, b) = (self.rss_kiosk_kib?, self.rss_both_kib?);
        (self.catalogue_ready > 0).then(|| b.saturating_sub(a) as f64 / self.catalogue_ready as f64)
    }
}

pub(crate) fn lat(s: &Summary) -> String {
    if s.count == 0 {
        "n/a".to_owned()
    } else {
        format!("{:.1} / {:.1} / {:.1}", s.p50, s.p99, s.max)
    }
}

pub(crate) fn commit_lat(c: &CommitLatency) -> String {
    if c.valid() {
        lat(&c.summary)
    } else {
        format!(
            "invalid: server commit_timestamp up to {} ms ahead of the clock",
            c.max_ahead_ms
        )
    }
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".to_owned(), |x| format!("{x:.digits$}"))
}

/// A Markdown table row.
fn row(cells: &[String]) -> String {
    format!("| {} |", cells.join(" | "))
}

/// `server / client` CPU use in cores, for a table cell.
pub(crate) fn cpu_cell(c: &CpuUse) -> String {
    format!("{} / {}", opt(c.server, 2), opt(c.client, 2))
}

/// CPU use in cores, for a console line.
fn cpu_words(c: &CpuUse) -> String {
    format!(
        "server CPU {} cores, client CPU {} cores",
        opt(c.server, 2),
        opt(c.client, 2)
    )
}

fn rate(r: u32) -> String {
    if r == 0 {
        "unpaced".to_owned()
    } else {
        format!("{r}/s")
    }
}

pub fn kiosk_line(k: &KioskResult) -> String {
    let w = &k.writes;
    format!(
        "kiosk target {}: {:.0} changes/s committed ({} ok, {} errors, {} writers), delivered {}/{}, misrouted {}, \
         write (send→HTTP 201) {} ms, send→client p50/p99/max {} ms, commit_timestamp→client {} ms, {}",
        rate(w.target_rate),
        w.per_s(),
        w.ok,
        w.errors,
        k.writers,
        k.delivered,
        w.ok,
        k.misrouted,
        lat(&w.latency_ms),
        lat(&k.latency_ms),
        commit_lat(&k.commit_latency_ms),
        cpu_words(&k.cpu),
    )
}

pub fn catalogue_line(c: &CatalogueResult) -> String {
    let w = &c.writes;
    format!(
        "catalogue target {}: {:.1} changes/s committed ({} ok, {} errors), {} subscribers, {} changes reached all, \
         {:.0} deliveries/s, write (send→HTTP 204) {} ms, send→last client p50/p99/max {} ms, \
         commit_timestamp→last client {} ms, {}",
        rate(w.target_rate),
        w.per_s(),
        w.ok,
        w.errors,
        c.subscribers,
        c.complete,
        c.deliveries as f64 / w.elapsed_s,
        lat(&w.latency_ms),
        lat(&c.last_latency_ms),
        commit_lat(&c.commit_last_latency_ms),
        cpu_words(&c.cpu),
    )
}

/// The body of the "## Realtime server" section (without the heading): one part per
/// subsection, in this order.
pub fn markdown(setup: &Setup, kiosk: &[KioskResult], catalogue: &[CatalogueResult]) -> String {
    [
        connections(setup),
        memory(setup),
        kiosk_table(kiosk),
        catalogue_table(catalogue),
        targets(kiosk, catalogue, setup.sockets_requested),
        closing(setup, kiosk, catalogue),
    ]
    .concat()
}

/// How many sockets connected, and the first connection error if any.
fn connections(setup: &Setup) -> String {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "Connections: {} of {} sockets connected and subscribed in {:.1} s ({} failed), each \
         as its own kiosk identity as the app makes one (an anonymous sign-up that claims the \
         socket's session; that token joins the channel), the sign-ups included. Each run \
         lasted {:.0} s.\n",
        setup.sockets_ready,
        setup.sockets_requested,
        setup.connect_s,
        setup.sockets_failed,
        setup.duration_s
    );
    if let Some(e) = &setup.first_connect_error {
        let _ = writeln!(m, "First connection error: `{e}`\n");
    }
    m
}

/// "### Memory per connection (server RSS)".
fn memory(setup: &Setup) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "### Memory per connection (server RSS)\n");
    let _ = writeln!(m, "| state | server RSS | per connection |\n|---|---|---|");
    let kib = |v: Option<u64>| {
        v.map_or_else(
            || "n/a".to_owned(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        )
    };
    let _ = writeln!(m, "| before connecting | {} | |", kib(setup.rss_before_kib));
    let _ = writeln!(
        m,
        "| {} sockets, 1 filtered kiosk channel each | {} | {} KiB |",
        setup.sockets_ready,
        kib(setup.rss_kiosk_kib),
        opt(setup.kib_per_socket(), 1)
    );
    let _ = writeln!(
        m,
        "| + catalogue channel on {} sockets | {} | +{} KiB |\n",
        setup.catalogue_ready,
        kib(setup.rss_both_kib),
        opt(setup.kib_per_catalogue_channel(), 1)
    );
    m
}

/// "### (1) Kiosk-like": one row per run.
fn kiosk_table(kiosk: &[KioskResult]) -> String {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "### (1) Kiosk-like: each change to the one socket whose `session_id=eq.…` filter matches\n"
    );
    let _ = writeln!(
        m,
        "| target | committed changes/s | delivered / committed | write errors | write: send→HTTP response p50 / p99 / max (ms) | send→client p50 / p99 / max (ms) | commit_timestamp→client p50 / p99 / max (ms) | CPU server / client (cores) |\n|---|---|---|---|---|---|---|---|"
    );
    for k in kiosk {
        let w = &k.writes;
        let misrouted = if k.misrouted > 0 {
            format!(" ({} misrouted!)", k.misrouted)
        } else {
            String::new()
        };
        let _ = writeln!(
            m,
            "{}",
            row(&[
                rate(w.target_rate),
                format!("{:.0}", w.per_s()),
                format!("{} / {}{misrouted}", k.delivered, w.ok),
                w.errors.to_string(),
                lat(&w.latency_ms),
                lat(&k.latency_ms),
                commit_lat(&k.commit_latency_ms),
                cpu_cell(&k.cpu),
            ])
        );
    }
    m
}

/// "### (2) Catalogue-like": one row per run.
fn catalogue_table(catalogue: &[CatalogueResult]) -> String {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "\n### (2) Catalogue-like: each change on `events` to every subscribed socket\n"
    );
    let _ = writeln!(
        m,
        "| target | committed changes/s | subscribers | changes that reached all | deliveries/s | write: send→HTTP response p50 / p99 / max (ms) | send→last client p50 / p99 / max (ms) | commit_timestamp→last client p50 / p99 / max (ms) | CPU server / client (cores) |\n|---|---|---|---|---|---|---|---|---|"
    );
    for c in catalogue {
        let w = &c.writes;
        let _ = writeln!(
            m,
            "{}",
            row(&[
                rate(w.target_rate),
                format!("{:.1}", w.per_s()),
                c.subscribers.to_string(),
                format!("{} / {}", c.complete, w.ok),
                format!("{:.0}", c.deliveries as f64 / w.elapsed_s),
                lat(&w.latency_ms),
                lat(&c.last_latency_ms),
                commit_lat(&c.commit_last_latency_ms),
                cpu_cell(&c.cpu),
            ])
        );
    }
    m
}

/// "### Against the targets": one verdict per workload.
fn targets(kiosk: &[KioskResult], catalogue: &[CatalogueResult], sockets: usize) -> String {
    format!(
        "\n### Against the targets\n\n{}\n{}\n",
        verdict_kiosk(kiosk),
        verdict_catalogue(catalogue, sockets)
    )
}

/// The first write error of any run, and what went wrong with the sockets.
fn closing(setup: &Setup, kiosk: &[KioskResult], catalogue: &[CatalogueResult]) -> String {
    let mut m = String::new();
    let first_error = kiosk
        .iter()
        .map(|k| &k.writes)
        .chain(catalogue.iter().map(|c| &c.writes))
        .find_map(|w| w.first_error.as_ref());
    if let Some(e) = first_error {
        let _ = writeln!(m, "\nFirst write error: `{e}`");
    }
    let _ = writeln!(
        m,
        "\nSockets dropped during the runs: {}; unexpected frames: {}.",
        setup.dropped, setup.unexpected
    );
    m
}

/// Kiosk target from the issue: ≥ 2,000 changes/s with p99 ≤ 50 ms (send→client, paced runs).
fn verdict_kiosk(kiosk: &[KioskResult]) -> String {
    let paced = kiosk
        .iter()
        .filter(|k| k.writes.target_rate >= 2000 && k.delivered == k.writes.ok);
    let best = paced.max_by(|a, b| a.writes.target_rate.cmp(&b.writes.target_rate));
    match best {
        Some(k) if k.latency_ms.p99 <= 50.0 && k.writes.per_s() >= 1990.0 => {
            format!(
                "- (1) kiosk, target ≥ 2,000 changes/s at p99 ≤ 50 ms: **met** at {:.0} changes/s, p99 {:.1} ms.",
                k.writes.per_s(),
                k.latency_ms.p99
            )
        }
        Some(k) => format!(
            "- (1) kiosk, target ≥ 2,000 changes/s at p99 ≤ 50 ms: **not met**: {:.0} changes/s, p99 {:.1} ms.",
            k.writes.per_s(),
            k.latency_ms.p99
        ),
        None => "- (1) kiosk: no complete paced run at ≥ 2,000 changes/s.".to_owned(),
    }
}

/// Catalogue target: ≥ 20 changes/s with p99 ≤ 100 ms to the last of all subscribers.
fn verdict_catalogue(catalogue: &[CatalogueResult], sockets: usize) -> String {
    let best = catalogue
        .iter()
        .filter(|c| c.writes.target_rate >= 20 && c.complete == c.writes.ok)
        .min_by(|a, b| a.writes.target_rate.cmp(&b.writes.target_rate));
    match best {
        Some(c) => format!(
            "- (2) catalogue, target ≥ 20 changes/s at p99 ≤ 100 ms to the last of {sockets} subscribers: **{}**: \
             {:.1} changes/s, p99 {:.1} ms to the last of {} subscribers.",
            if c.last_latency_ms.p99 <= 100.0
                && c.writes.per_s() >= 19.9
                && c.subscribers >= sockets
            {
                "met"
            } else {
                "not met"
            },
            c.writes.per_s(),
            c.last_latency_ms.p99,
            c.subscribers
        ),
        None => {
            "- (2) catalogue: no run at ≥ 20 changes/s reached every subscriber with every change."
                .to_owned()
        }
    }
}
