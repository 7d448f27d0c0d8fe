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

mod fixtures;
mod harness;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use concierge_sync::poller::{Gate, Poller};
use concierge_sync::socket::Socket;
use concierge_sync::{
    Action, ChangeOutcome, ConnId, ConnectionState, Endpoint, Engine, EngineConfig, FetchId,
    FetchReason, Input, LiveQuerySpec, QueryId, Store,
};
use concierge_wire::Filter;
use concierge_wire::phoenix::{Event, Message, Vsn};
use concierge_wire::realtime::{ChangeData, ChangesPayload};
use serde::Deserialize;
use serde_json::{Value, json};

use fixtures::*;
use harness::{Case, Measured, Settings, fmt_ns, fmt_rate, group_thousands, run_group};

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

fn median_of(ms: &[Measured], i: usize) -> f64 {
    ms.get(i).map_or(f64::NAN, Measured::median)
}

fn ratio(a: f64, b: f64) -> String {
    format!("{:.2}×", a / b)
}

fn run(s: Settings) -> Result<String, String> {
    let mut md = String::new();
    let mut worst_iqr: f64 = 0.0;
    let mut note = |ms: &[Measured]| {
        for m in ms {
            worst_iqr = worst_iqr.max(m.iqr_rel());
        }
    };

    // ---- (a) decoding ------------------------------------------------------------------
    let _ = writeln!(
        md,
        "### (a) Decoding a `postgres_changes` frame\n\n\
         Baseline: `serde_json::from_str::<serde_json::Value>` on the same bytes (a JSON tree and \
         nothing else). Ours: `Message::decode` (the Phoenix frame, payload left as a `Value`), \
         then `serde_json::from_value::<ChangesPayload>` as `Channel` does (the typed payload the \
         store merges). Reference (not in the app): one-pass `serde_json::from_str` straight into \
         the typed frame. Ratios are to the baseline.\n\n\
         | frame | vsn | bytes | baseline `Value` ns | `Message::decode` ns (ratio) | + typed payload ns (ratio) | one-pass typed ns (ratio) | MB/s (decode + typed) |\n\
         |---|---|---:|---:|---:|---:|---:|---:|"
    );
    let topic_kiosk = "realtime:concierge-kiosk_results-1";
    let topic_events = "realtime:concierge-events-2";
    for (label, mk) in [
        (
            "kiosk_results INSERT (6 event cards)",
            &(|v| kiosk_insert_frame(v, topic_kiosk)) as &dyn Fn(Vsn) -> String,
        ),
        (
            "events UPDATE",
            &(|v| event_update_frame(v, topic_events, 7, 3, BASE_MS + 1000)),
        ),
    ] {
        for vsn in [Vsn::V1, Vsn::V2] {
            let text = mk(vsn);
            // Sanity: our decode accepts it and yields a change.
            let m = Message::decode(&text, vsn).map_err(|e| format!("{label}: {e}"))?;
            serde_json::from_value::<ChangesPayload>(m.payload)
                .map_err(|e| format!("{label}: typed payload: {e}"))?;
            typed_one_pass(&text, vsn).ok_or_else(|| format!("{label}: one-pass decode"))?;
            let t = text.as_str();
            let ms = run_group(
                &format!("(a) {label}, vsn {}, {} bytes", vsn.as_str(), text.len()),
                s,
                vec![
                    Case::simple("baseline: serde_json::from_str::<Value>", 1, || {
                        black_box(serde_json::from_str::<Value>(black_box(t)).ok());
                    }),
                    Case::simple("ours: Message::decode", 1, || {
                        black_box(Message::decode(black_box(t), vsn).ok());
                    }),
                    Case::simple(
                        "ours: Message::decode + from_value::<ChangesPayload>",
                        1,
                        || {
                            black_box(decode_change(black_box(t), vsn));
                        },
                    ),
                    Case::simple("reference: one-pass typed from_str", 1, || {
                        black_box(typed_one_pass(black_box(t), vsn));
                    }),
                ],
            );
            note(&ms);
            let base = median_of(&ms, 0);
            let (dec, typed, one) = (median_of(&ms, 1), median_of(&ms, 2), median_of(&ms, 3));
            let _ = writeln!(
                md,
                "| {label} | {} | {} | {} | {} ({}) | {} ({}) | {} ({}) | {:.0} |",
                vsn.as_str(),
                group_thousands(text.len() as u64),
                fmt_ns(base),
                fmt_ns(dec),
                ratio(dec, base),
                fmt_ns(typed),
                ratio(typed, base),
                fmt_ns(one),
                ratio(one, base),
                text.len() as f64 / typed * 1e3
            );
        }
    }

    // ---- (b) realtime events and snapshots into the store ------------------------------
    let spec = LiveQuerySpec::new("events")
        .filter(
            Filter::parse_realtime(&format!("hotel_id=eq.{HOTEL_ID}"))
                .map_err(|e| format!("filter: {e:?}"))?,
        )
        .order_by("starts_at", false)
        .version_column("updated_at");
    let base_rows = event_rows(ROWS, 1, BASE_MS);
    let mut base_store = Store::new(spec.clone());
    base_store.apply_snapshot(base_store.mark(), base_rows.clone());
    if base_store.len() != ROWS {
        return Err(format!("store holds {} rows, not {ROWS}", base_store.len()));
    }
    // Learn the engine's channel topic, so the frames are addressed to it.
    let snapshot_body = Value::Array(base_rows.clone()).to_string();
    let probe = live_engine(Vsn::V2, spec.clone(), &snapshot_body)?;
    let topic = probe.topic.clone();
    drop(probe);
    // UPDATE k touches row k % ROWS with a newer version each time (all of them apply).
    let frames: Vec<String> = (0..UPDATES)
        .map(|k| {
            event_update_frame(
                Vsn::V2,
                &topic,
                k % ROWS,
                k as u32 + 2,
                BASE_MS + 10 * (k as u64 + 1),
            )
        })
        .collect();
    let decoded: Vec<ChangeData> = frames
        .iter()
        .map(|f| decode_change(f, Vsn::V2).map(|p| p.data))
        .collect::<Option<_>>()
        .ok_or("the update frames do not decode")?;
    let frame_bytes = frames.iter().map(String::len).sum::<usize>() / frames.len();

    let ms = run_group(
        &format!(
            "(b1) {UPDATES} realtime UPDATEs over {ROWS} rows (vsn 2.0.0, ~{frame_bytes} B each)"
        ),
        s,
        vec![
            Case::new(
                "naive: from_str::<Value> + replace by id in a Vec",
                UPDATES as u64,
                |iters| {
                    let mut took = Duration::ZERO;
                    for _ in 0..iters {
                        let mut rows = base_rows.clone();
                        let t = Instant::now();
                        for f in &frames {
                            naive_apply(&mut rows, f);
                        }
                        took += t.elapsed();
                        black_box(&rows);
                    }
                    took
                },
            ),
            Case::new(
                "ours: decode + Store::apply_change",
                UPDATES as u64,
                |iters| {
                    let mut took = Duration::ZERO;
                    for _ in 0..iters {
                        let mut store = base_store.clone();
                        let t = Instant::now();
                        let mut applied = 0;
                        for f in &frames {
                            if let Some(p) = decode_change(f, Vsn::V2)
                                && store.apply_change(&p.data) == ChangeOutcome::Applied
                            {
                                applied += 1;
                            }
                        }
                        took += t.elapsed();
                        assert_eq!(applied, UPDATES, "every update must apply");
                        black_box(&store);
                    }
                    took
                },
            ),
            Case::new(
                "ours: Store::apply_change alone (pre-decoded)",
                UPDATES as u64,
                |iters| {
                    let mut took = Duration::ZERO;
                    for _ in 0..iters {
                        let mut store = base_store.clone();
                        let t = Instant::now();
                        for d in &decoded {
                            black_box(store.apply_change(d));
                        }
                        took += t.elapsed();
                        black_box(&store);
                    }
                    took
                },
            ),
            Case::simple(
                format!("Store::view() of {ROWS} rows (sort by pre-parsed starts_at, rows shared)"),
                1,
                || {
                    black_box(base_store.view());
                },
            ),
        ],
    );
    note(&ms);
    let (naive, ours, merge, view) = (
        median_of(&ms, 0),
        median_of(&ms, 1),
        median_of(&ms, 2),
        median_of(&ms, 3),
    );

    let ms2 = run_group(
        &format!("(b2) {ENGINE_UPDATES} realtime UPDATEs through the whole engine, {ROWS} rows"),
        s,
        vec![
            Case::new(
                "naive: from_str::<Value> + replace by id + clone the Vec for the UI",
                ENGINE_UPDATES as u64,
                |iters| {
                    let mut took = Duration::ZERO;
                    for _ in 0..iters {
                        let mut rows = base_rows.clone();
                        let t = Instant::now();
                        for f in &frames[..ENGINE_UPDATES] {
                            naive_apply(&mut rows, f);
                            black_box(rows.clone());
                        }
                        took += t.elapsed();
                    }
                    took
                },
            ),
            Case::new(
                "ours: Engine::handle(SocketFrame) → Action::Rows (sorted view)",
                ENGINE_UPDATES as u64,
                |iters| {
                    let mut took = Duration::ZERO;
                    for _ in 0..iters {
                        let Ok(mut le) = live_engine(Vsn::V2, spec.clone(), &snapshot_body) else {
                            panic!("engine set-up failed");
                        };
                        let inputs: Vec<Input> = frames[..ENGINE_UPDATES]
                            .iter()
                            .map(|f| Input::SocketFrame {
                                conn: le.conn,
                                text: f.clone(),
                            })
                            .collect();
                        let t = Instant::now();
                        let mut emitted = 0;
                        for i in inputs {
                            for a in le.e.handle(NOW, i) {
                                if let Action::Rows { rows, .. } = a {
                                    emitted += 1;
                                    black_box(rows);
                                }
                            }
                        }
                        took += t.elapsed();
                        assert_eq!(emitted, ENGINE_UPDATES, "every update must emit rows");
                    }
                    took
                },
            ),
        ],
    );
    note(&ms2);
    let (naive_ui, engine) = (median_of(&ms2, 0), median_of(&ms2, 1));

    // Snapshot over newer realtime versions: the store holds ROWS rows at BASE_MS; a poll
    // starts (mark); realtime then updates every other row (BASE_MS + 2 s); the poll's answer
    // has every row at BASE_MS + 1 s with a new title. Odd rows take the snapshot's copy, even
    // rows keep their newer realtime copy.
    let mut snap_store = base_store.clone();
    let mark = snap_store.mark();
    for i in (0..ROWS).step_by(2) {
        let f = event_update_frame(Vsn::V2, &topic, i, 900, BASE_MS + 2000);
        let p = decode_change(&f, Vsn::V2).ok_or("snapshot set-up frame")?;
        if snap_store.apply_change(&p.data) != ChangeOutcome::Applied {
            return Err("snapshot set-up: realtime update not applied".into());
        }
    }
    let snapshot = event_rows(ROWS, 500, BASE_MS + 1000);
    let body = Value::Array(snapshot.clone()).to_string();
    {
        let mut st = snap_store.clone();
        if !st.apply_snapshot(mark, snapshot.clone()) {
            return Err("snapshot merge changed nothing".into());
        }
        let view = st.view();
        let kept = view
            .iter()
            .filter(|r| {
                r["title"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("(rev 900)"))
            })
            .count();
        let taken = view
            .iter()
            .filter(|r| {
                r["title"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("(rev 500)"))
            })
            .count();
        if (kept, taken) != (ROWS / 2, ROWS / 2) {
            return Err(format!(
                "snapshot merge: kept {kept} realtime rows and took {taken} snapshot rows"
            ));
        }
    }
    let ms3 = run_group(
        &format!(
            "(b3) a {ROWS}-row poll snapshot ({} B) over a store with {} newer realtime rows",
            body.len(),
            ROWS / 2
        ),
        s,
        vec![
            Case::simple(
                "naive: from_str::<Value> (replace the list wholesale)",
                1,
                || {
                    black_box(serde_json::from_str::<Value>(black_box(&body)).ok());
                },
            ),
            Case::new(
                "ours: from_str::<Value> + Store::apply_snapshot",
                1,
                |iters| {
                    let mut took = Duration::ZERO;
                    for _ in 0..iters {
                        let mut st = snap_store.clone();
                        let t = Instant::now();
                        if let Ok(Value::Array(rows)) = serde_json::from_str::<Value>(&body) {
                            black_box(st.apply_snapshot(mark, rows));
                        }
                        took += t.elapsed();
                        black_box(st);
                    }
                    took
                },
            ),
            Case::new(
                "ours: Store::apply_snapshot alone (pre-parsed)",
                1,
                |iters| {
                    let mut took = Duration::ZERO;
                    for _ in 0..iters {
                        let mut st = snap_store.clone();
                        // Parsed (untimed), as the engine gets them.
                        let Ok(Value::Array(rows)) = serde_json::from_str::<Value>(&body) else {
                            panic!("snapshot body does not parse");
                        };
                        let t = Instant::now();
                        black_box(st.apply_snapshot(mark, rows));
                        took += t.elapsed();
                        black_box(st);
                    }
                    took
                },
            ),
        ],
    );
    note(&ms3);
    let (snap_naive, snap_ours, snap_merge) =
        (median_of(&ms3, 0), median_of(&ms3, 1), median_of(&ms3, 2));

    let _ = writeln!(
        md,
        "\n### (b) Realtime events and poll snapshots into the store\n\n\
         Query: `events` filtered by `hotel_id=eq.…`, ordered by `starts_at`, versioned by \
         `updated_at`, {ROWS} rows. {} realtime UPDATEs (vsn 2.0.0 frames of ~{frame_bytes} bytes) \
         touch the rows in turn, each newer than the last, so every one applies. The naive \
         baseline keeps a `Vec<Value>`, parses each frame with `from_str::<Value>` and replaces \
         the row with the same `id` — no version check, no filter, no tombstones, no order.\n\n\
         | operation | ours ns/op | naive ns/op | ours/naive |\n|---|---:|---:|---:|\n\
         | decode + merge one UPDATE (`Message::decode`, `from_value::<ChangesPayload>`, `Store::apply_change`) | {} | {} | {} |\n\
         | … of which `Store::apply_change` alone (pre-decoded) | {} | | |\n\
         | one UPDATE through `Engine::handle(SocketFrame)`, which also emits `Action::Rows` (the sorted view); naive: + clone the `Vec` | {} | {} | {} |\n\
         | … of which `Store::view()` of {ROWS} rows (sort on keys parsed when each row was stored; rows shared by `Arc`, not copied) | {} | | |\n\
         | {ROWS}-row poll snapshot ({} bytes) over a store in which {} rows have newer realtime versions: parse + `Store::apply_snapshot`; naive: parse only | {} | {} | {} |\n\
         | … of which `Store::apply_snapshot` alone (pre-parsed), per snapshot / per row | {} / {} | | |\n",
        group_thousands(UPDATES as u64),
        fmt_ns(ours),
        fmt_ns(naive),
        ratio(ours, naive),
        fmt_ns(merge),
        fmt_ns(engine),
        fmt_ns(naive_ui),
        ratio(engine, naive_ui),
        fmt_ns(view),
        group_thousands(body.len() as u64),
        ROWS / 2,
        fmt_ns(snap_ours),
        fmt_ns(snap_naive),
        ratio(snap_ours, snap_naive),
        fmt_ns(snap_merge),
        fmt_ns(snap_merge / ROWS as f64),
    );
    let _ = writeln!(
        md,
        "Realtime UPDATEs per second one core could absorb at these costs: {} decode + merge, \
         {} through the whole engine (sorted view emitted for each).\n",
        fmt_rate(ours),
        fmt_rate(engine)
    );

    // ---- (c) state machines --------------------------------------------------------------
    let mut socket = Socket::new(
        "ws://bench.local/realtime/v1/websocket".into(),
        Vsn::V2,
        25_000,
        vec![1000, 2000, 5000, 10_000],
        0.0,
    );
    let mut out = Vec::new();
    socket.connect(&mut out);
    if !socket.on_open(0, socket.conn()) {
        return Err("socket did not open".into());
    }
    let mut rng = concierge_sync::backoff::Rng::new(1);
    let mut next_ref: u64 = 0;

    let mut skip_poller = polling_poller();
    let mut poll_poller = polling_poller();
    let mut fetch_no = 1u64;

    let kiosk_spec = LiveQuerySpec::new("kiosk_results")
        .filter(
            Filter::parse_realtime(&format!("session_id=eq.{SESSION_ID}"))
                .map_err(|e| format!("filter: {e:?}"))?,
        )
        .order_by("created_at", true)
        .limit(1)
        .version_column("created_at")
        .events(concierge_wire::realtime::ChangeEvent::Insert);
    let mut ke = live_engine(Vsn::V2, kiosk_spec, "[]")?;
    // Refs so far: the join's; every later ref is a heartbeat's.
    let mut engine_ref: u64 = 1;

    let ms4 = run_group(
        "(c) state machines, per tick",
        s,
        vec![
            Case::simple(
                "Socket::on_tick (sends a heartbeat) + on_heartbeat_reply",
                1,
                || {
                    out.clear();
                    let Some(due) = socket.deadline() else {
                        panic!("open socket without a heartbeat deadline")
                    };
                    socket.on_tick(due, false, &mut out, &mut rng);
                    next_ref += 1;
                    socket.on_heartbeat_reply(Some(&next_ref.to_string()));
                    assert_eq!(socket.heartbeat_timeouts, 0);
                },
            ),
            Case::simple("Poller::tick, skipped (realtime live)", 1, || {
                let due = skip_poller.next_tick().unwrap_or(0);
                let gate = Gate {
                    hidden: false,
                    realtime_live: true,
                };
                assert!(skip_poller.tick(due, gate).is_none());
            }),
            Case::simple(
                "Poller::tick → started → finished (a poll, no change)",
                1,
                || {
                    let due = poll_poller.next_tick().unwrap_or(0);
                    if let Some(reason) = poll_poller.tick(due, Gate::default()) {
                        fetch_no += 1;
                        poll_poller.started(due, FetchId(fetch_no), reason, 0);
                        poll_poller.finished(due, FetchId(fetch_no), Ok(false));
                    }
                },
            ),
            Case::simple(
                "Engine::handle(Tick) at each deadline (+ the heartbeat reply frame)",
                1,
                || {
                    let now = ke.e.next_deadline().unwrap_or(NOW);
                    for a in ke.e.handle(now, Input::Tick) {
                        if matches!(a, Action::Send { .. }) {
                            engine_ref += 1;
                            let text = format!(
                                r#"[null,"{engine_ref}","phoenix","phx_reply",{{"status":"ok","response":{{}}}}]"#
                            );
                            black_box(ke.e.handle(
                                now,
                                Input::SocketFrame {
                                    conn: ke.conn,
                                    text,
                                },
                            ));
                        }
                    }
                },
            ),
        ],
    );
    note(&ms4);
    let diag = ke.e.diagnostics();
    if diag.heartbeat_timeouts != 0 || diag.connection != ConnectionState::Live {
        return Err(format!(
            "engine tick bench went wrong: {} heartbeat timeouts, connection {:?}",
            diag.heartbeat_timeouts, diag.connection
        ));
    }
    let _ = writeln!(
        md,
        "### (c) Heartbeat and poll state machines (sanity figure)\n\n\
         In the app these run a few times a minute; the figures only show the cost is negligible.\n\n\
         | step | ns/tick | ticks/s |\n|---|---:|---:|"
    );
    for m in &ms4 {
        let _ = writeln!(
            md,
            "| {} | {} | {} |",
            m.name,
            fmt_ns(m.median()),
            fmt_rate(m.median())
        );
    }
    let _ = writeln!(
        md,
        "\nThe engine-tick row is a kiosk engine (one `kiosk_results` query, realtime live): its \
         deadlines alternate between heartbeats (every 25 s; the reply is fed back as a frame) and \
         poll ticks (skipped while realtime is live). It made {} heartbeats and skipped {} polls \
         in this run, with 0 heartbeat timeouts.\n",
        group_thousands(engine_ref - 1),
        group_thousands(diag.polls_skipped)
    );
    let _ = writeln!(
        md,
        "Noise: the largest interquartile range of any case's samples was {:.1}% of its median.",
        worst_iqr * 100.0
    );
    Ok(md)
}

/// A poller that has loaded once and has its next tick scheduled.
fn polling_poller() -> Poller {
    let mut p = Poller::new(10_000, 30_000, 1.5);
    p.resync(0, FetchReason::Initial, false);
    p.started(0, FetchId(1), FetchReason::Initial, 0);
    p.finished(0, FetchId(1), Ok(true));
    p
}

/// Our decode path for a change: the frame, then the typed payload (as `Channel` does).
fn decode_change(text: &str, vsn: Vsn) -> Option<ChangesPayload> {
    let m = Message::decode(text, vsn).ok()?;
    serde_json::from_value(m.payload).ok()
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct V1Typed {
    topic: String,
    event: String,
    payload: ChangesPayload,
    #[serde(rename = "ref")]
    msg_ref: Option<String>,
}

type V2Typed = (
    Option<String>,
    Option<String>,
    String,
    String,
    ChangesPayload,
);

/// One-pass serde into the typed frame: what a decoder without the intermediate `Value` costs.
fn typed_one_pass(text: &str, vsn: Vsn) -> Option<ChangesPayload> {
    match vsn {
        Vsn::V1 => serde_json::from_str::<V1Typed>(text)
            .ok()
            .map(|f| f.payload),
        Vsn::V2 => serde_json::from_str::<V2Typed>(text).ok().map(|f| f.4),
    }
}

/// The naive client: parse to a `Value`, take `payload.data.record`, replace the row by `id`.
fn naive_apply(rows: &mut [Value], frame: &str) {
    let Ok(mut v) = serde_json::from_str::<Value>(frame) else {
        return;
    };
    let Some(record) = v
        .get_mut(4)
        .and_then(|p| p.get_mut("data"))
        .and_then(|d| d.get_mut("record"))
        .map(Value::take)
    else {
        return;
    };
    if let Some(slot) = rows.iter_mut().find(|r| r.get("id") == record.get("id")) {
        *slot = record;
    }
}

/// An engine with one live query: socket open, channel joined and confirmed, snapshot loaded.
struct LiveEngine {
    e: Engine,
    conn: ConnId,
    topic: String,
}

fn live_engine(vsn: Vsn, spec: LiveQuerySpec, body: &str) -> Result<LiveEngine, String> {
    let cfg = EngineConfig {
        vsn,
        reconnect_jitter: 0.0,
        ..EngineConfig::default()
    };
    let mut e = Engine::new(cfg, Endpoint::new("http://bench.local", "anon"), 7);
    let mut queue = VecDeque::from([Input::Subscribe {
        query: QueryId(1),
        spec,
    }]);
    let (mut conn, mut topic) = (None, None);
    let mut steps = 0;
    while let Some(input) = queue.pop_front() {
        steps += 1;
        if steps > 100 {
            return Err("engine set-up did not settle".into());
        }
        for a in e.handle(NOW, input) {
            match a {
                Action::Connect { conn: c, .. } => {
                    conn = Some(c);
                    queue.push_back(Input::SocketOpen { conn: c });
                }
                Action::Send { conn: c, text } => {
                    let m = Message::decode(&text, vsn).map_err(|e| e.to_string())?;
                    if m.event != Event::Join {
                        continue;
                    }
                    let bindings: Vec<Value> = m.payload["config"]["postgres_changes"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|mut b| {
                            b["id"] = json!(SUB_ID);
                            b
                        })
                        .collect();
                    let reply = Message::new(
                        m.topic.clone(),
                        Event::Reply,
                        json!({"status": "ok", "response": {"postgres_changes": bindings}}),
                    )
                    .with_refs(m.join_ref.clone(), m.msg_ref.clone());
                    let confirm = Message::new(
                        m.topic.clone(),
                        Event::System,
                        json!({"extension": "postgres_changes", "status": "ok",
                               "message": "Subscribed to PostgreSQL", "channel": "bench"}),
                    )
                    .with_refs(m.join_ref.clone(), None);
                    for msg in [reply, confirm] {
                        queue.push_back(Input::SocketFrame {
                            conn: c,
                            text: msg.encode_server(vsn),
                        });
                    }
                    topic = Some(m.topic);
                }
                Action::Fetch { query, fetch, .. } => queue.push_back(Input::FetchDone {
                    query,
                    fetch,
                    result: Ok(body.to_owned()),
                }),
                _ => {}
            }
        }
    }
    let (Some(conn), Some(topic)) = (conn, topic) else {
        return Err("engine set-up: no connection or no join".into());
    };
    if e.diagnostics().connection != ConnectionState::Live {
        return Err(format!(
            "engine set-up: connection is {:?}, not Live",
            e.diagnostics().connection
        ));
    }
    Ok(LiveEngine { e, conn, topic })
}
