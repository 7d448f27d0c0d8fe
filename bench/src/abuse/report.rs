//! The abuse section's Markdown body: the ordinary client without and under attack, with
//! ratios, then each attack with what the server answered it.

use std::fmt::Write as _;

use super::tally::{TallySnapshot, describe};
use super::{AttackFigures, PhaseFigures, attacks, feeder, probe, sockets};
use crate::stats::Summary;

fn p50_p99(s: &Summary) -> String {
    if s.count == 0 {
        "n/a".to_owned()
    } else {
        format!("{:.1} / {:.1}", s.p50, s.p99)
    }
}

/// `attacked / quiet` of the p99s, "n/a" without both.
fn ratio(quiet: &Summary, attacked: &Summary) -> String {
    if quiet.count == 0 || attacked.count == 0 || quiet.p99 <= 0.0 {
        "n/a".to_owned()
    } else {
        format!("{:.2}×", attacked.p99 / quiet.p99)
    }
}

fn ok_count(t: &TallySnapshot) -> u64 {
    t.counts
        .iter()
        .filter(|(k, _)| k.starts_with('2'))
        .map(|(_, n)| n)
        .sum()
}

/// One line for the console.
pub fn phase_line(name: &str, f: &PhaseFigures) -> String {
    format!(
        "{name}: write→client p50/p99 {} ms, write {} ms, REST read {} ms; delivered {} of {} written ({}), reads {}",
        p50_p99(&f.probe.write_client_ms),
        p50_p99(&f.probe.write_ms),
        p50_p99(&f.probe.read_ms),
        f.probe.delivered,
        ok_count(&f.probe.writes),
        describe(&f.probe.writes.counts),
        describe(&f.probe.reads.counts),
    )
}

fn cores(c: Option<f64>) -> String {
    c.map_or_else(|| "n/a".to_owned(), |c| format!("{c:.2}"))
}

fn mib(k: Option<u64>) -> String {
    k.map_or_else(
        || "n/a".to_owned(),
        |k| format!("{:.0} MiB", k as f64 / 1024.0),
    )
}

pub fn markdown(
    quiet: &PhaseFigures,
    attacked: &PhaseFigures,
    attack: &AttackFigures,
    feed: &TallySnapshot,
) -> String {
    let (q, a) = (&quiet.probe, &attacked.probe);
    let mut m = String::new();
    let _ = writeln!(
        m,
        "### The ordinary client, without and under attack\n\n\
         {} kiosk identities (anonymous sign-ups that each claimed a session, as the app makes them) \
         each write a message into their own conversation every 1.25 s (`POST /rest/v1/messages`, \
         48 a minute, under the 60 a user may write) and watch it arrive on their own realtime \
         channel; two readers fetch the catalogue page (`GET /rest/v1/events?…&limit=20`, \
         10 a second each). Open loop: every request is sent on schedule whether or not the \
         previous one was answered, so a slow answer neither delays nor hides the next. Both phases also carry a catalogue \
         writer (service role, {} changes/s, {}-character descriptions). p50 / p99 in ms; the \
         ratio is under attack ÷ without, of the p99.\n",
        probe::PROBES,
        feeder::RATE,
        feeder::DESCRIPTION_CHARS,
    );
    let _ = writeln!(
        m,
        "| figure | without attack ({:.0} s of requests) | under attack ({:.0} s of requests) | ratio (p99) |\n|---|---|---|---|",
        quiet.seconds, attacked.seconds
    );
    let row = |m: &mut String, name: &str, x: &Summary, y: &Summary| {
        let _ = writeln!(
            m,
            "| {name} | {} | {} | {} |",
            p50_p99(x),
            p50_p99(y),
            ratio(x, y)
        );
    };
    row(
        &mut m,
        "write → own realtime channel (commit→client)",
        &q.write_client_ms,
        &a.write_client_ms,
    );
    row(&mut m, "write (POST → 201)", &q.write_ms, &a.write_ms);
    row(&mut m, "REST read (GET → 200)", &q.read_ms, &a.read_ms);
    let _ = writeln!(
        m,
        "| writes: delivered / answered 2xx (all answers) | {} / {} ({}) | {} / {} ({}) | |",
        q.delivered,
        ok_count(&q.writes),
        describe(&q.writes.counts),
        a.delivered,
        ok_count(&a.writes),
        describe(&a.writes.counts),
    );
    let _ = writeln!(
        m,
        "| reads (all answers) | {} | {} | |",
        describe(&q.reads.counts),
        describe(&a.reads.counts)
    );
    let _ = writeln!(
        m,
        "| server CPU (cores) | {} | {} | |\n| server RSS, highest sample (every 250 ms) | {} | {} | |\n\n\
         Server RSS 3 s after the attacks stopped: {}.\n",
        cores(quiet.server_cores),
        cores(attacked.server_cores),
        mib(quiet.rss_peak_kib),
        mib(attacked.rss_peak_kib),
        mib(attack.rss_after_kib),
    );
    let _ = writeln!(
        m,
        "### The attacks, and what the server answered\n\n\
         All at once, from the same address as the ordinary client, through the whole attack \
         phase (and 2 s before it). \"sent\" counts requests, joins or socket cycles.\n\n\
         | attack | sent | answers |\n|---|---|---|"
    );
    let line = |m: &mut String, what: String, t: &TallySnapshot, extra: String| {
        let _ = writeln!(
            m,
            "| {what} | {} | {}{extra} |",
            t.sent,
            describe(&t.counts)
        );
    };
    let answer = |t: &TallySnapshot| {
        if t.answer_ms.count == 0 {
            String::new()
        } else {
            format!(
                "; answered in p50 / p99 / max {:.0} / {:.0} / {:.0} ms",
                t.answer_ms.p50, t.answer_ms.p99, t.answer_ms.max
            )
        }
    };
    line(
        &mut m,
        format!(
            "slow patterns: {} kiosk identities, one request in flight each, searching their own \
             50 messages of 2,000 `a`s with `or=` of 16 `ilike` patterns at the bounds (16 \
             wildcards, 1,024-byte values, never matching); every 10th request one wildcard over",
            attacks::PATTERN_ATTACKERS
        ),
        &attack.patterns,
        answer(&attack.patterns),
    );
    line(
        &mut m,
        format!(
            "subscription flood: {} sockets (anon key), each cycle 100 joins of 100 `events` \
             entries, a 101st channel, a join of 101 entries, then leave all or drop the socket",
            sockets::FLOODERS
        ),
        &attack.flood,
        String::new(),
    );
    line(
        &mut m,
        format!(
            "non-reading sockets: {} sockets (anon key), 100 channels on every `events` change each, \
             not reading for 8 s, then read to the end; counted per cycle",
            sockets::NON_READERS
        ),
        &attack.non_readers,
        String::new(),
    );
    line(
        &mut m,
        format!(
            "sign-in flood: {} tasks, password sign-ins with wrong passwords (half for a seeded \
             account, half for made-up addresses), at most 50/s each",
            attacks::SIGN_IN_FLOODERS
        ),
        &attack.sign_ins,
        answer(&attack.sign_ins),
    );
    let _ = writeln!(
        m,
        "\nThe catalogue writer's answers over both phases: {}.",
        describe(&feed.counts)
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratio_is_of_the_p99s() {
        let q = Summary::of(vec![10; 100]);
        let a = Summary::of(vec![25; 100]);
        assert_eq!(ratio(&q, &a), "2.50×");
        assert_eq!(ratio(&Summary::default(), &a), "n/a");
        assert_eq!(p50_p99(&Summary::default()), "n/a");
    }
}
