//! The poller's exact schedule with realtime up, down and flapping; hidden/visible; dedupe.

mod harness;

use concierge_sync::*;
use harness::*;
use serde_json::json;

fn polling_only() -> EngineConfig {
    EngineConfig {
        realtime_enabled: false,
        ..cfg()
    }
}

#[test]
fn curve_10_15_22_5_30_when_nothing_changes() {
    let mut h = H::new(polling_only());
    h.subscribe(1, spec());
    h.advance_to(200_000);
    assert_eq!(
        h.fetches_between(0, 200_000),
        [
            0, 10_000, 25_000, 47_500, 77_500, 107_500, 137_500, 167_500, 197_500
        ]
    );
    assert!(
        h.log
            .iter()
            .all(|(_, a)| !matches!(a, Action::Connect { .. })),
        "no socket when realtime is off"
    );
    assert_eq!(h.diag.connection, ConnectionState::Polling);
    assert_eq!(h.diag.poll_interval_ms, 30_000);
    assert_eq!(h.diag.polls_made, 9);
}

#[test]
fn a_change_resets_to_base() {
    let mut h = H::new(polling_only());
    // The row set changes on the poll at 47.5 s only.
    h.answer = Some(Box::new(|now, _| {
        if now >= 47_500 {
            rows_body(&[
                json!({"id": "a", "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}),
            ])
        } else {
            rows_body(&[])
        }
    }));
    h.subscribe(1, spec());
    h.advance_to(120_000);
    assert_eq!(
        h.fetches_between(0, 120_000),
        [0, 10_000, 25_000, 47_500, 57_500, 72_500, 95_000]
    );
    assert_eq!(h.rows[&QueryId(1)].len(), 1);
}

#[test]
fn failed_polls_back_off_and_show_the_error() {
    let mut h = H::new(polling_only());
    h.answer = Some(Box::new(|_, _| {
        Err(FetchError::Http {
            status: 503,
            body: "down".into(),
        })
    }));
    let q = h.subscribe(1, spec());
    h.advance_to(50_000);
    assert_eq!(
        h.fetches_between(0, 50_000),
        [0, 15_000, 37_500],
        "failures grow the interval"
    );
    assert!(matches!(&h.states[&q].status, QueryStatus::Error(e) if e.contains("503")));
    assert_eq!(h.diag.connection, ConnectionState::Offline);
    h.answer = Some(Box::new(|_, _| rows_body(&[])));
    h.advance_to(70_000);
    assert_eq!(h.states[&q].status, QueryStatus::Ready);
    assert_eq!(h.diag.connection, ConnectionState::Polling);
}

#[test]
fn skips_while_realtime_is_up_and_catches_up_when_lost() {
    let mut h = H::new(cfg());
    let q = h.subscribe(1, spec());
    // t=0: initial fetch, connect, join, confirm → one snapshot for the subscription.
    assert_eq!(h.fetches_between(0, 0), [0, 0]);
    assert_eq!(h.states[&q].channel, ChannelStatus::Subscribed);
    assert_eq!(h.diag.connection, ConnectionState::Live);
    h.advance_to(100_000);
    assert_eq!(
        h.fetch_times.len(),
        2,
        "no polls while realtime is confirmed"
    );
    // Ticks keep firing and are counted as skipped: 10, 20, … 100 s.
    assert_eq!(h.diag.polls_skipped, 10);
    // Realtime lost at 100.5 s with the server unreachable: fetch at once, then 10, 15, 22.5…
    h.server_up = false;
    h.advance_to(100_500);
    h.drop_socket();
    h.advance_to(200_000);
    assert_eq!(
        h.fetches_between(100_000, 200_000),
        [100_500, 110_500, 125_500, 148_000, 178_000]
    );
    assert_eq!(h.diag.connection, ConnectionState::Reconnecting);
    // Reconnect attempts meanwhile: +1, +2, +5, +10, then every 10 s.
    let connects: Vec<u64> = h
        .connect_times
        .iter()
        .copied()
        .filter(|t| *t > 100_000)
        .take(6)
        .collect();
    assert_eq!(
        connects,
        [101_500, 103_500, 108_500, 118_500, 128_500, 138_500]
    );
    // Server back: the next attempt subscribes and takes one snapshot; polls stop.
    h.server_up = true;
    h.advance_to(200_000 + 10_000);
    let resumed = *h.connect_times.last().unwrap();
    assert_eq!(h.diag.connection, ConnectionState::Live);
    let fetches_after = h.fetches_between(resumed, resumed);
    assert_eq!(fetches_after.len(), 1, "one snapshot after resubscribing");
    let n = h.fetch_times.len();
    h.advance(120_000);
    assert_eq!(h.fetch_times.len(), n, "skipping again");
}

#[test]
fn flapping_realtime_fetches_once_per_edge_never_concurrently() {
    let mut h = H::new(EngineConfig {
        fetch_timeout_ms: 60_000,
        ..cfg()
    });
    h.answer = None; // keep fetches in flight to exercise dedupe
    let q = h.subscribe(1, spec());
    assert_eq!(
        h.fetch_times.len(),
        1,
        "snapshot on subscribe is queued behind the initial load"
    );
    for i in 0..5u64 {
        h.advance_to(1_000 + i * 3_000);
        h.drop_socket(); // lost → wants a fetch; reconnect at +1 s re-subscribes → wants one more
    }
    assert_eq!(h.fetch_times.len(), 1, "still one request in flight");
    // Answer it: exactly one queued follow-up starts (not one per edge).
    let f = h.e.fetch_in_flight(q).unwrap();
    h.input(Input::FetchDone {
        query: q,
        fetch: f,
        result: rows_body(&[]),
    });
    assert_eq!(h.fetch_times.len(), 2);
    assert!(h.e.fetch_in_flight(q).is_some());
}

#[test]
fn no_polls_while_hidden_one_resync_on_visible() {
    let mut h = H::new(polling_only());
    h.subscribe(1, spec());
    h.at(5_000, Input::Visibility { visible: false });
    h.advance_to(300_000);
    assert_eq!(h.fetch_times.len(), 1, "only the initial load");
    assert!(
        h.diag.polls_skipped >= 29,
        "ticks still run: {}",
        h.diag.polls_skipped
    );
    h.input(Input::Visibility { visible: true });
    assert_eq!(
        h.fetches_between(300_000, 300_000),
        [300_000],
        "immediate resync"
    );
    h.advance_to(330_000);
    assert_eq!(
        h.fetches_between(300_001, 330_000),
        [310_000, 325_000],
        "curve restarted"
    );
}

#[test]
fn online_resyncs_at_once() {
    let mut h = H::new(polling_only());
    h.subscribe(1, spec());
    h.at(3_000, Input::Offline);
    assert_eq!(h.diag.connection, ConnectionState::Offline);
    h.at(4_000, Input::Online);
    assert_eq!(h.fetches_between(4_000, 4_000), [4_000]);
}

#[test]
fn unsubscribe_cancels_the_request_and_leaves() {
    let mut h = H::new(cfg());
    h.answer = None;
    let q = h.subscribe(7, spec());
    let f = h.e.fetch_in_flight(q).unwrap();
    let topic = h.last_join().topic;
    h.input(Input::Unsubscribe { query: q });
    assert!(
        h.log
            .iter()
            .any(|(_, a)| *a == Action::CancelFetch { query: q, fetch: f })
    );
    assert!(
        h.sent_events(concierge_wire::Event::Leave)
            .iter()
            .any(|(_, m)| m.topic == topic)
    );
    // A late answer is ignored; no timers remain for the query.
    h.input(Input::FetchDone {
        query: q,
        fetch: f,
        result: rows_body(&[]),
    });
    let n = h.fetch_times.len();
    h.advance(100_000);
    assert_eq!(h.fetch_times.len(), n);
}

#[test]
fn request_that_never_answers_times_out_and_polling_continues() {
    let mut h = H::new(polling_only());
    h.answer = None;
    let q = h.subscribe(1, spec());
    h.advance_to(10_000);
    assert!(
        h.log
            .iter()
            .any(|(t, a)| *t == 10_000 && matches!(a, Action::CancelFetch { .. }))
    );
    assert!(matches!(&h.states[&q].status, QueryStatus::Error(e) if e.contains("timed out")));
    h.advance_to(25_000);
    assert_eq!(h.fetch_times.len(), 2, "next poll at 10 + 15 s");
}

#[test]
fn an_early_tick_re_arms_the_timer() {
    let mut h = H::new(polling_only());
    h.subscribe(1, spec());
    assert_eq!(h.timer, Some(10_000));
    h.now = 9_999; // the browser fired a hair early
    let actions = h.e.handle(9_999, Input::Tick);
    assert!(
        actions.contains(&Action::SetTimer { at: Some(10_000) }),
        "{actions:?}"
    );
}
