//! Bounded fuzzing: random inputs and frames (valid, half-valid and junk) thrown at the engine.
//! Invariants: no panic; never two fetches in flight for one query (asserted by the harness);
//! every poll interval within [base, max]; every tick moves the next deadline forward.

mod harness;

use concierge_sync::*;
use concierge_wire::phoenix::{Event, Message, Vsn};
use harness::*;
use proptest::prelude::*;
use serde_json::{Value, json};

#[derive(Debug, Clone)]
enum Op {
    Advance(u64),
    Junk(String),
    ServerMsg {
        jr: Option<u8>,
        r: Option<u8>,
        topic: u8,
        event: u8,
        payload: u8,
    },
    Drop,
    ServerUp(bool),
    Visible(bool),
    Online,
    Offline,
    PageHide,
    PageShow,
    AnswerOk(u8),
    AnswerErr,
    Subscribe(u8),
    Unsubscribe(u8),
    Token(Option<u8>),
    Refresh(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u64..40_000).prop_map(Op::Advance),
        1 => ".{0,60}".prop_map(Op::Junk),
        4 => (proptest::option::of(0u8..6), proptest::option::of(0u8..6), 0u8..4, 0u8..8, 0u8..10)
            .prop_map(|(jr, r, topic, event, payload)| Op::ServerMsg { jr, r, topic, event, payload }),
        1 => Just(Op::Drop),
        1 => any::<bool>().prop_map(Op::ServerUp),
        1 => any::<bool>().prop_map(Op::Visible),
        1 => Just(Op::Online),
        1 => Just(Op::Offline),
        1 => Just(Op::PageHide),
        1 => Just(Op::PageShow),
        2 => (0u8..4).prop_map(Op::AnswerOk),
        1 => Just(Op::AnswerErr),
        1 => (0u8..3).prop_map(Op::Subscribe),
        1 => (0u8..3).prop_map(Op::Unsubscribe),
        1 => proptest::option::of(0u8..2).prop_map(Op::Token),
        1 => (0u8..3).prop_map(Op::Refresh),
    ]
}

fn payload(n: u8, topic: &str) -> Value {
    let rec = json!({"id": "a", "status": "live", "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:03Z"});
    match n {
        0 => {
            json!({"status": "ok", "response": {"postgres_changes": [{"id": 1000, "event": "*", "schema": "public", "table": "sessions"}]}})
        }
        1 => json!({"status": "error", "response": {"reason": "nope"}}),
        2 => {
            json!({"extension": "postgres_changes", "status": "ok", "message": "Subscribed to PostgreSQL", "channel": topic})
        }
        3 => {
            json!({"extension": "postgres_changes", "status": "error", "message": "Unable to subscribe"})
        }
        4 => {
            json!({"ids": [1000], "data": {"schema": "public", "table": "sessions", "commit_timestamp": "2025-01-01T00:00:03Z", "type": "INSERT", "columns": [], "record": rec, "errors": null}})
        }
        5 => {
            json!({"ids": [1000], "data": {"schema": "public", "table": "sessions", "commit_timestamp": "2025-01-01T00:00:04Z", "type": "DELETE", "columns": [], "old_record": {"id": "a"}, "errors": null}})
        }
        6 => json!({"status": "ok", "response": {"postgres_changes": []}}),
        7 => json!([1, 2, 3]),
        8 => json!({}),
        _ => Value::Null,
    }
}

const EVENTS: [Event; 8] = [
    Event::Reply,
    Event::System,
    Event::PostgresChanges,
    Event::Close,
    Event::Error,
    Event::Heartbeat,
    Event::Join,
    Event::Leave,
];

fn run(ops: Vec<Op>, vsn: Vsn) {
    let base = 1_000;
    let max = 3_000;
    let mut h = H::new(EngineConfig {
        vsn,
        poll_base_ms: base,
        poll_max_ms: max,
        poll_factor: 1.5,
        heartbeat_ms: 5_000,
        reconnect_jitter: 0.3,
        ..cfg()
    });
    h.answer = None;
    h.auto_join = false;
    let mut topics: Vec<String> = vec!["phoenix".into(), "realtime:nope".into()];
    for op in ops {
        match op {
            Op::Advance(dt) => h.advance(dt),
            Op::Junk(s) => {
                if let Some(c) = h.conn {
                    h.input(Input::SocketFrame { conn: c, text: s });
                }
            }
            Op::ServerMsg {
                jr,
                r,
                topic,
                event,
                payload: p,
            } => {
                for (_, m) in h.sent_events(Event::Join) {
                    if !topics.contains(&m.topic) {
                        topics.push(m.topic.clone());
                    }
                }
                let t = topics[topic as usize % topics.len()].clone();
                let text = Message::new(t.clone(), EVENTS[event as usize].clone(), payload(p, &t))
                    .with_refs(jr.map(|x| x.to_string()), r.map(|x| x.to_string()))
                    .encode_server(vsn);
                if let Some(c) = h.conn {
                    h.input(Input::SocketFrame { conn: c, text });
                }
            }
            Op::Drop => {
                if h.conn.is_some() {
                    h.drop_socket();
                }
            }
            Op::ServerUp(up) => h.server_up = up,
            Op::Visible(v) => h.input(Input::Visibility { visible: v }),
            Op::Online => h.input(Input::Online),
            Op::Offline => h.input(Input::Offline),
            Op::PageHide => h.input(Input::PageHide),
            Op::PageShow => h.input(Input::PageShow),
            Op::AnswerOk(n) => {
                let pending: Vec<(QueryId, FetchId)> = h
                    .outstanding
                    .iter()
                    .flat_map(|(q, fs)| fs.iter().map(|f| (*q, *f)))
                    .collect();
                for (q, f) in pending {
                    let rows: Vec<Value> = (0..n).map(|i| json!({"id": i.to_string(), "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:01Z"})).collect();
                    h.input(Input::FetchDone {
                        query: q,
                        fetch: f,
                        result: rows_body(&rows),
                    });
                }
            }
            Op::AnswerErr => {
                let pending: Vec<(QueryId, FetchId)> = h
                    .outstanding
                    .iter()
                    .flat_map(|(q, fs)| fs.iter().map(|f| (*q, *f)))
                    .collect();
                for (q, f) in pending {
                    h.input(Input::FetchDone {
                        query: q,
                        fetch: f,
                        result: Err(FetchError::Network("x".into())),
                    });
                }
            }
            Op::Subscribe(i) => h.input(Input::Subscribe {
                query: QueryId(i as u64),
                spec: spec(),
            }),
            Op::Unsubscribe(i) => h.input(Input::Unsubscribe {
                query: QueryId(i as u64),
            }),
            Op::Token(t) => h.input(Input::SetToken(t.map(|x| format!("tok{x}")))),
            Op::Refresh(i) => h.input(Input::Refresh {
                query: QueryId(i as u64),
            }),
        }
        for i in 0..3 {
            if let Some(iv) = h.e.poll_interval(QueryId(i)) {
                assert!(
                    (base..=max).contains(&iv),
                    "interval {iv} outside [{base}, {max}]"
                );
            }
            if let Some(f) = h.e.fetch_in_flight(QueryId(i)) {
                assert_eq!(
                    h.outstanding.get(&QueryId(i)).map(Vec::as_slice),
                    Some(&[f][..])
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn engine_survives_random_inputs_v2(ops in proptest::collection::vec(op(), 1..120)) {
        run(ops, Vsn::V2);
    }

    #[test]
    fn engine_survives_random_inputs_v1(ops in proptest::collection::vec(op(), 1..60)) {
        run(ops, Vsn::V1);
    }

    #[test]
    fn store_survives_random_snapshots(rows in proptest::collection::vec(proptest::collection::btree_map("[a-z_]{1,6}", proptest::arbitrary::any::<u8>().prop_map(|n| json!(n)), 0..4), 0..10)) {
        let mut s = Store::new(spec());
        let rows: Vec<Value> = rows.into_iter().map(|m| Value::Object(m.into_iter().collect())).collect();
        s.apply_snapshot(0, rows);
        let _ = s.view();
    }
}
