//! Socket and channel behaviour: heartbeat timeout, reconnect and rejoin timing, join checks,
//! grace period, stale join refs, token pushes, page life, serializer 1.0.0.

mod harness;

use concierge_sync::*;
use concierge_wire::phoenix::{Event, Message, Vsn};
use harness::*;
use serde_json::json;

#[test]
fn join_payload_matches_realtime_js() {
    let mut h = H::new(cfg());
    h.subscribe(
        1,
        LiveQuerySpec::new("kiosk_results")
            .filter(concierge_wire::Filter::parse_realtime("session_id=eq.abc").unwrap()),
    );
    let connect = h.log.iter().find_map(|(_, a)| match a {
        Action::Connect { url, .. } => Some(url.clone()),
        _ => None,
    });
    assert_eq!(
        connect.as_deref(),
        Some("ws://test.local/realtime/v1/websocket?apikey=anon&vsn=2.0.0")
    );
    let j = h.last_join();
    assert!(j.topic.starts_with("realtime:"));
    assert_eq!(j.join_ref, j.msg_ref, "a join's join_ref is its own ref");
    assert_eq!(
        j.payload["config"]["postgres_changes"],
        json!([{"event": "*", "schema": "public", "table": "kiosk_results", "filter": "session_id=eq.abc"}])
    );
    assert_eq!(j.payload["config"]["private"], json!(false));
    assert_eq!(
        j.payload["access_token"],
        json!("anon"),
        "anon key until a user signs in"
    );
}

#[test]
fn heartbeat_every_interval_and_dead_socket_after_one_unanswered() {
    let mut h = H::new(cfg());
    h.subscribe(1, spec());
    h.advance_to(75_000);
    let beats: Vec<u64> = h
        .sent_events(Event::Heartbeat)
        .iter()
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(beats, [25_000, 50_000, 75_000]);
    assert!(
        h.sent_events(Event::Heartbeat)
            .iter()
            .all(|(_, m)| m.topic == "phoenix" && m.join_ref.is_none())
    );
    // The server goes silent (half-open TCP): the beat at 100 s is unanswered…
    h.auto_heartbeat = false;
    h.server_up = false;
    h.advance_to(99_999);
    assert_eq!(h.diag.connection, ConnectionState::Live);
    h.advance_to(100_000);
    assert_eq!(
        h.diag.connection,
        ConnectionState::Live,
        "one unanswered beat is not death yet"
    );
    // …and at 125 s, one interval later, the socket is declared dead, closed, polled around.
    h.advance_to(125_000);
    let closes: Vec<_> = h
        .log
        .iter()
        .filter_map(|(t, a)| match a {
            Action::CloseSocket { code, reason, .. } => Some((*t, *code, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(closes, [(125_000, 1000, "heartbeat timeout".to_string())]);
    assert_eq!(h.diag.heartbeat_timeouts, 1);
    assert_eq!(h.diag.connection, ConnectionState::Reconnecting);
    assert_eq!(
        h.fetches_between(125_000, 125_000),
        [125_000],
        "realtime lost: fetch at once"
    );
    h.advance_to(126_000);
    assert_eq!(
        h.connect_times.last(),
        Some(&126_000),
        "reconnect after 1 s"
    );
    // A late close event for the abandoned socket changes nothing.
    let before = h.diag.clone();
    h.input(Input::SocketClosed {
        conn: ConnId(1),
        code: 1006,
        clean: false,
    });
    assert_eq!(h.diag, before);
}

#[test]
fn reconnect_backoff_resets_after_a_successful_open() {
    let mut h = H::new(cfg());
    h.subscribe(1, spec());
    h.server_up = false;
    h.at(1_000, Input::Tick);
    h.drop_socket();
    h.advance_to(30_000);
    assert_eq!(h.connect_times, [0, 2_000, 4_000, 9_000, 19_000, 29_000]);
    h.server_up = true;
    h.advance_to(39_000);
    assert_eq!(h.diag.connection, ConnectionState::Live);
    assert_eq!(h.diag.reconnects, 6);
    h.server_up = false;
    h.drop_socket();
    h.advance_to(41_000);
    assert_eq!(
        *h.connect_times.last().unwrap(),
        40_000,
        "back to 1 s after an open"
    );
}

#[test]
fn reconnect_jitter_is_bounded() {
    let mut h = H::new(EngineConfig {
        reconnect_jitter: 0.2,
        ..cfg()
    });
    h.subscribe(1, spec());
    h.server_up = false;
    h.drop_socket();
    h.advance_to(200_000);
    let gaps: Vec<u64> = h.connect_times.windows(2).map(|w| w[1] - w[0]).collect();
    let nominal = [1_000u64, 2_000, 5_000, 10_000];
    for (i, g) in gaps.iter().enumerate() {
        let n = nominal.get(i).copied().unwrap_or(10_000) as f64;
        assert!(
            (*g as f64) >= n * 0.8 - 1.0 && (*g as f64) <= n * 1.2 + 1.0,
            "gap {i} = {g}"
        );
    }
    assert!(gaps.iter().skip(4).any(|g| *g != 10_000), "jitter applied");
}

#[test]
fn no_reconnect_while_hidden_immediate_on_visible() {
    let mut h = H::new(cfg());
    h.subscribe(1, spec());
    h.server_up = false;
    h.at(1_000, Input::Visibility { visible: false });
    h.drop_socket();
    h.advance_to(60_000);
    assert_eq!(h.connect_times, [0], "no attempts while hidden");
    h.server_up = true;
    h.input(Input::Visibility { visible: true });
    assert_eq!(h.connect_times, [0, 60_000]);
    assert_eq!(h.diag.connection, ConnectionState::Live);
}

#[test]
fn online_reconnects_at_once() {
    let mut h = H::new(cfg());
    h.subscribe(1, spec());
    h.server_up = false;
    h.drop_socket();
    h.advance_to(20_000); // attempts at 1, 3, 8, 18 s; next at 28 s
    h.server_up = true;
    h.at(21_000, Input::Online);
    assert_eq!(*h.connect_times.last().unwrap(), 21_000);
    assert_eq!(h.diag.connection, ConnectionState::Live);
}

#[test]
fn pagehide_closes_pageshow_reopens() {
    let mut h = H::new(cfg());
    h.subscribe(1, spec());
    h.at(5_000, Input::PageHide);
    assert!(h.log.iter().any(|(t, a)| *t == 5_000
        && matches!(a, Action::CloseSocket { reason, .. } if reason == "page hidden")));
    h.advance_to(100_000);
    assert_eq!(h.connect_times, [0], "held closed");
    assert_eq!(h.fetch_times.len(), 2, "no polls while the page is hidden");
    h.input(Input::PageShow);
    assert_eq!(h.connect_times, [0, 100_000]);
    assert_eq!(h.diag.connection, ConnectionState::Live);
    assert!(
        !h.fetches_between(100_000, 100_000).is_empty(),
        "resync on return"
    );
}

#[test]
fn rejoin_backoff_after_join_errors() {
    let mut h = H::new(cfg());
    h.auto_join = false;
    let q = h.subscribe(1, spec());
    let mut join_times = vec![];
    for _ in 0..5 {
        let j = h.last_join();
        join_times.push(h.now);
        let err = h.server_msg(j.join_ref.clone(), j.msg_ref.clone(), &j.topic, Event::Reply,
            json!({"status": "error", "response": {"reason": "ClientJoinRateLimitReached: Too many joins per second"}}));
        h.frame(err);
        assert!(
            matches!(&h.states[&q].channel, ChannelStatus::ChannelError(r) if r.contains("Too many joins"))
        );
        let n = h.sent_events(Event::Join).len();
        while h.sent_events(Event::Join).len() == n {
            h.advance(100);
        }
    }
    join_times.push(h.now);
    let gaps: Vec<u64> = join_times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, [1_000, 2_000, 5_000, 10_000, 10_000]);
    // Every rejoin resends the full bindings and gets a fresh join ref.
    let joins = h.sent_events(Event::Join);
    assert!(
        joins
            .iter()
            .all(|(_, m)| m.payload["config"]["postgres_changes"][0]["table"] == "sessions")
    );
    let refs: std::collections::HashSet<_> =
        joins.iter().map(|(_, m)| m.join_ref.clone()).collect();
    assert_eq!(refs.len(), joins.len());
}

#[test]
fn join_timeout_leaves_and_rejoins() {
    let mut h = H::new(cfg());
    h.auto_join = false;
    let q = h.subscribe(1, spec());
    h.advance_to(10_000);
    assert_eq!(h.states[&q].channel, ChannelStatus::TimedOut);
    assert_eq!(
        h.sent_events(Event::Leave)
            .iter()
            .map(|(t, _)| *t)
            .collect::<Vec<_>>(),
        [10_000]
    );
    h.advance_to(11_000);
    assert_eq!(
        h.sent_events(Event::Join)
            .iter()
            .map(|(t, _)| *t)
            .collect::<Vec<_>>(),
        [0, 11_000]
    );
    // The late reply to the first join is from a stale join_ref: dropped.
    let first = h.sent_events(Event::Join)[0].1.clone();
    let late = h.join_reply_for(&first);
    h.frame(late);
    assert_eq!(h.states[&q].channel, ChannelStatus::Joining);
    let cur = h.last_join();
    let ok = h.join_reply_for(&cur);
    h.frame(ok);
    assert_eq!(h.states[&q].channel, ChannelStatus::Joined);
}

#[test]
fn subscribed_means_the_system_message_or_the_grace_period() {
    let mut h = H::new(cfg());
    h.auto_confirm = false;
    let q = h.subscribe(1, spec());
    assert_eq!(h.states[&q].channel, ChannelStatus::Joined);
    assert_eq!(
        h.diag.connection,
        ConnectionState::Connecting,
        "a join reply alone is not live"
    );
    assert_eq!(h.fetch_times.len(), 1);
    h.advance_to(2_999);
    assert_eq!(h.fetch_times.len(), 1);
    h.advance_to(3_000);
    assert_eq!(h.states[&q].channel, ChannelStatus::Subscribed);
    assert_eq!(
        h.fetches_between(3_000, 3_000),
        [3_000],
        "snapshot when taken as subscribed"
    );
    // The confirmation arrives late: the gap may have lost changes → another snapshot.
    let j = h.last_join();
    let c = h.confirm_for(&j);
    h.at(4_500, Input::Tick);
    h.frame(c);
    assert_eq!(h.fetches_between(4_500, 4_500), [4_500]);
}

#[test]
fn system_confirmation_before_grace_subscribes_at_once() {
    let mut h = H::new(cfg());
    h.auto_confirm = false;
    let q = h.subscribe(1, spec());
    let j = h.last_join();
    let c = h.confirm_for(&j);
    h.at(800, Input::Tick);
    h.frame(c);
    assert_eq!(h.states[&q].channel, ChannelStatus::Subscribed);
    assert_eq!(h.fetches_between(800, 800), [800]);
    h.advance_to(10_000);
    assert_eq!(
        h.fetch_times.len(),
        2,
        "no extra snapshot when the grace period would have ended"
    );
}

#[test]
fn binding_mismatch_is_a_channel_error_without_retry() {
    let mut h = H::new(cfg());
    h.auto_join = false;
    let q = h.subscribe(1, spec());
    let j = h.last_join();
    let bad = h.server_msg(j.join_ref.clone(), j.msg_ref.clone(), &j.topic, Event::Reply,
        json!({"status":"ok","response":{"postgres_changes":[{"id":1,"event":"INSERT","schema":"public","table":"sessions"}]}}));
    h.frame(bad);
    assert!(
        matches!(&h.states[&q].channel, ChannelStatus::ChannelError(e) if e.contains("mismatch"))
    );
    assert_eq!(h.sent_events(Event::Leave).len(), 1);
    h.advance_to(60_000);
    assert_eq!(h.sent_events(Event::Join).len(), 1, "no rejoin");
    assert_eq!(h.diag.connection, ConnectionState::Polling);
    assert!(h.fetch_times.len() >= 4, "the poller serves the query");
}

#[test]
fn phx_close_ends_phx_error_rejoins() {
    let mut h = H::new(cfg());
    let q = h.subscribe(1, spec());
    let j = h.last_join();
    let err = h.server_msg(
        j.join_ref.clone(),
        j.join_ref.clone(),
        &j.topic,
        Event::Error,
        json!({}),
    );
    h.at(5_000, Input::Tick);
    h.frame(err);
    assert!(matches!(
        h.states[&q].channel,
        ChannelStatus::ChannelError(_)
    ));
    assert_eq!(
        h.fetches_between(5_000, 5_000),
        [5_000],
        "realtime lost: fetch at once"
    );
    h.advance_to(6_000);
    assert_eq!(h.sent_events(Event::Join).len(), 2, "rejoined after 1 s");
    assert_eq!(h.states[&q].channel, ChannelStatus::Subscribed);
    // A stale phx_close (old join ref) is dropped…
    let stale = h.server_msg(
        j.join_ref.clone(),
        j.join_ref.clone(),
        &j.topic,
        Event::Close,
        json!({}),
    );
    h.frame(stale);
    assert_eq!(h.states[&q].channel, ChannelStatus::Subscribed);
    // …the current one closes the channel for good.
    let cur = h.last_join();
    let close = h.server_msg(
        cur.join_ref.clone(),
        cur.join_ref.clone(),
        &cur.topic,
        Event::Close,
        json!({}),
    );
    h.frame(close);
    assert_eq!(h.states[&q].channel, ChannelStatus::Closed);
    h.advance_to(100_000);
    assert_eq!(
        h.sent_events(Event::Join).len(),
        2,
        "no rejoin after phx_close"
    );
}

#[test]
fn token_change_pushes_access_token_and_refetches() {
    let mut h = H::new(cfg());
    h.subscribe(1, spec());
    h.at(1_000, Input::SetToken(Some("user.jwt".into())));
    let pushes = h.sent_events(Event::AccessToken);
    assert_eq!(pushes.len(), 1);
    let j = h.last_join();
    assert_eq!(
        pushes[0].1.join_ref, j.join_ref,
        "pushed on the joined channel"
    );
    assert_eq!(pushes[0].1.payload, json!({"access_token": "user.jwt"}));
    let last_fetch = h
        .log
        .iter()
        .rev()
        .find_map(|(_, a)| match a {
            Action::Fetch { request, .. } => Some(request.clone()),
            _ => None,
        })
        .unwrap();
    assert!(
        last_fetch
            .headers
            .contains(&("Authorization".into(), "Bearer user.jwt".into()))
    );
    h.input(Input::SetToken(Some("user.jwt".into())));
    assert_eq!(
        h.sent_events(Event::AccessToken).len(),
        1,
        "same token: nothing sent"
    );
    // Rejoins carry the new token.
    h.drop_socket();
    h.advance_to(2_000);
    assert_eq!(h.last_join().payload["access_token"], json!("user.jwt"));
}

#[test]
fn realtime_events_apply_and_measure_latency() {
    let mut h = H::new(cfg());
    // Clock: 2025-01-01T00:00:01.250Z
    h.now = 1_735_689_601_250;
    let q = h.subscribe(1, spec());
    let topic = h.last_join().topic;
    let ins = h.change(&topic, "INSERT", json!({"id": "s1", "status": "pending", "created_at": "2025-01-01T00:00:01Z", "updated_at": "2025-01-01T00:00:01Z"}), "2025-01-01T00:00:01.000Z");
    h.frame(ins.clone());
    assert_eq!(h.rows[&q].len(), 1);
    assert_eq!(h.diag.realtime_events, 1);
    assert_eq!(h.diag.last_latency_ms, Some(250));
    h.frame(ins);
    assert_eq!(h.diag.realtime_events, 2);
    assert_eq!(h.rows[&q].len(), 1, "duplicate is idempotent");
    // An event for ids this channel does not own is not dispatched.
    let mut other: serde_json::Value = serde_json::from_str(&h.change(
        &topic,
        "DELETE",
        json!({"id": "s1"}),
        "2025-01-01T00:00:02Z",
    ))
    .unwrap();
    other[4]["ids"] = json!([1]);
    h.frame(other.to_string());
    assert_eq!(h.rows[&q].len(), 1);
    let del = h.change(
        &topic,
        "DELETE",
        json!({"id": "s1"}),
        "2025-01-01T00:00:02Z",
    );
    h.frame(del);
    assert!(h.rows[&q].is_empty());
}

#[test]
fn serializer_v1_works_end_to_end() {
    let mut h = H::new(EngineConfig {
        vsn: Vsn::V1,
        ..cfg()
    });
    let q = h.subscribe(1, spec());
    assert!(
        h.log
            .iter()
            .any(|(_, a)| matches!(a, Action::Connect { url, .. } if url.ends_with("vsn=1.0.0")))
    );
    let raw = h
        .log
        .iter()
        .find_map(|(_, a)| match a {
            Action::Send { text, .. } => Some(text.clone()),
            _ => None,
        })
        .unwrap();
    assert!(raw.starts_with('{'), "V1 frames are objects: {raw}");
    assert_eq!(h.states[&q].channel, ChannelStatus::Subscribed);
    h.advance_to(60_000);
    assert_eq!(
        h.diag.connection,
        ConnectionState::Live,
        "heartbeat replies understood"
    );
}

#[test]
fn malformed_frames_are_dropped_not_fatal() {
    let mut h = H::new(cfg());
    let q = h.subscribe(1, spec());
    let topic = h.last_join().topic;
    for junk in [
        "".to_string(),
        "[".into(),
        "null".into(),
        "[1,2,3,4,5]".into(),
        "{\"topic\":1}".into(),
        format!("[null,null,\"{topic}\",\"postgres_changes\",{{\"ids\":\"x\"}}]"),
        format!(
            "[null,null,\"{topic}\",\"postgres_changes\",{{\"ids\":[],\"data\":{{\"type\":\"INSERT\"}}}}]"
        ),
        format!("[\"9\",\"9\",\"{topic}\",\"phx_reply\",{{\"status\":\"weird\"}}]"),
        format!("[null,null,\"{topic}\",\"system\",[]]"),
        "x".repeat(2 * 1024 * 1024),
    ] {
        h.frame(junk);
    }
    assert_eq!(h.states[&q].channel, ChannelStatus::Subscribed);
    assert!(h.e.malformed_frames() >= 5);
    let m = Message::new("phoenix", Event::Reply, json!(null)).encode_server(Vsn::V2);
    h.frame(m);
}

#[test]
fn deletes_by_key_joins_an_unfiltered_delete_binding_and_applies_it() {
    let filter = |f: &str| concierge_wire::Filter::parse_realtime(f).unwrap();
    let bindings = |s: LiveQuerySpec| serde_json::to_value(s.realtime_bindings()).unwrap();
    // A filter on the key lets deletes through already; without the option nothing is added.
    assert_eq!(
        bindings(
            LiveQuerySpec::new("sessions")
                .filter(filter("id=in.(a,b)"))
                .deletes_by_key()
        )
        .as_array()
        .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        bindings(LiveQuerySpec::new("sessions").filter(filter("customer_id=eq.c")))
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let mut h = H::new(cfg());
    h.now = 1_735_689_601_250;
    let q = h.subscribe(
        1,
        spec().filter(filter("customer_id=eq.c")).deletes_by_key(),
    );
    let j = h.last_join();
    assert_eq!(
        j.payload["config"]["postgres_changes"],
        json!([
            {"event": "*", "schema": "public", "table": "sessions", "filter": "customer_id=eq.c"},
            {"event": "DELETE", "schema": "public", "table": "sessions"},
        ])
    );
    let ins = h.change(&j.topic, "INSERT", json!({"id": "s1", "customer_id": "c", "created_at": "2025-01-01T00:00:01Z", "updated_at": "2025-01-01T00:00:01Z"}), "2025-01-01T00:00:01.000Z");
    h.frame(ins);
    assert_eq!(h.rows[&q].len(), 1);
    // Another customer's row: the store does not hold it, nothing changes.
    let other = h.change(
        &j.topic,
        "DELETE",
        json!({"id": "s9"}),
        "2025-01-01T00:00:02Z",
    );
    h.frame(other);
    assert_eq!(h.rows[&q].len(), 1);
    // The old record carries only the key, and that is enough.
    let del = h.change(
        &j.topic,
        "DELETE",
        json!({"id": "s1"}),
        "2025-01-01T00:00:02Z",
    );
    h.frame(del);
    assert!(h.rows[&q].is_empty());
}
