//! (b) Realtime events and poll snapshots into the store: one `events` query of [`ROWS`] rows,
//! realtime UPDATEs that touch the rows in turn (each newer than the last, so every one
//! applies), and a poll snapshot that lands over newer realtime versions. Each is measured
//! against a naive client that keeps a `Vec<Value>` and replaces rows by id.

use std::fmt::Write as _;
use std::hint::black_box;

use concierge_sync::{Action, ChangeOutcome, Input, LiveQuerySpec, Store};
use concierge_wire::Filter;
use concierge_wire::phoenix::Vsn;
use concierge_wire::realtime::ChangeData;
use serde_json::Value;

use super::decoding::decode_change;
use super::fixtures::{HOTEL_ID, event_rows, event_update_frame};
use super::harness::{
    Case, Noise, Settings, fmt_ns, fmt_rate, group_thousands, median_of, ratio, run_group,
};
use super::live_engine::{LiveEngine, live_engine};
use super::snapshot::{SnapshotCosts, snapshot_costs};
use super::{BASE_MS, ENGINE_UPDATES, NOW, ROWS, UPDATES};

/// What every group of the section starts from.
pub struct Fixture {
    pub spec: LiveQuerySpec,
    /// The rows as REST returns them, all at version `BASE_MS`.
    pub base_rows: Vec<Value>,
    /// A store holding `base_rows`.
    pub base_store: Store,
    /// `base_rows` as the JSON body of a fetch.
    pub snapshot_body: String,
    /// The engine's channel topic, so the frames are addressed to it.
    pub topic: String,
    /// UPDATE k touches row k % ROWS with a newer version each time (all of them apply).
    pub frames: Vec<String>,
    /// `frames`, decoded beforehand.
    pub decoded: Vec<ChangeData>,
    /// Mean size of a frame in bytes.
    pub frame_bytes: usize,
}

impl Fixture {
    fn new() -> Result<Fixture, String> {
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
        let snapshot_body = Value::Array(base_rows.clone()).to_string();
        let topic = live_engine(Vsn::V2, spec.clone(), &snapshot_body)?.topic;
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
        Ok(Fixture {
            spec,
            base_rows,
            base_store,
            snapshot_body,
            topic,
            frames,
            decoded,
            frame_bytes,
        })
    }
}

/// Medians of (b1), ns per UPDATE (`view`: per call).
struct UpdateCosts {
    naive: f64,
    ours: f64,
    merge: f64,
    view: f64,
}

/// Medians of (b2), ns per UPDATE.
struct EngineCosts {
    naive_ui: f64,
    engine: f64,
}

/// Measures (b1), (b2) and (b3); returns the section's Markdown.
pub fn section(s: Settings, noise: &mut Noise) -> Result<String, String> {
    let fx = Fixture::new()?;
    let updates = update_costs(s, noise, &fx)?;
    let engine = engine_costs(s, noise, &fx)?;
    let snapshot = snapshot_costs(s, noise, &fx)?;
    Ok(markdown(&fx, &updates, &engine, &snapshot))
}

/// (b1) decode + merge of each UPDATE into the store.
fn update_costs(s: Settings, noise: &mut Noise, fx: &Fixture) -> Result<UpdateCosts, String> {
    let decode_and_merge = |store: &mut Store| {
        let mut applied = 0;
        for f in &fx.frames {
            if let Some(p) = decode_change(f, Vsn::V2)
                && store.apply_change(&p.data) == ChangeOutcome::Applied
            {
                applied += 1;
            }
        }
        applied
    };
    // Checked once here rather than in every sample: the state is the same each time.
    if decode_and_merge(&mut fx.base_store.clone()) != UPDATES {
        return Err("not every realtime update applies".into());
    }
    let ms = run_group(
        &format!(
            "(b1) {UPDATES} realtime UPDATEs over {ROWS} rows (vsn 2.0.0, ~{} B each)",
            fx.frame_bytes
        ),
        s,
        vec![
            Case::with_setup(
                "naive: from_str::<Value> + replace by id in a Vec",
                UPDATES as u64,
                || fx.base_rows.clone(),
                |rows| {
                    for f in &fx.frames {
                        naive_apply(rows, f);
                    }
                },
            ),
            Case::with_setup(
                "ours: decode + Store::apply_change",
                UPDATES as u64,
                || fx.base_store.clone(),
                decode_and_merge,
            ),
            Case::with_setup(
                "ours: Store::apply_change alone (pre-decoded)",
                UPDATES as u64,
                || fx.base_store.clone(),
                |store| {
                    for d in &fx.decoded {
                        black_box(store.apply_change(d));
                    }
                },
            ),
            Case::simple(
                format!("Store::view() of {ROWS} rows (sort by pre-parsed starts_at, rows shared)"),
                1,
                || {
                    black_box(fx.base_store.view());
                },
            ),
        ],
    );
    noise.note(&ms);
    Ok(UpdateCosts {
        naive: median_of(&ms, 0),
        ours: median_of(&ms, 1),
        merge: median_of(&ms, 2),
        view: median_of(&ms, 3),
    })
}

/// (b2) each UPDATE through the whole engine, which also emits the sorted rows.
fn engine_costs(s: Settings, noise: &mut Noise, fx: &Fixture) -> Result<EngineCosts, String> {
    let frames = &fx.frames[..ENGINE_UPDATES];
    // A fresh engine and its inputs (the frames, addressed to its connection) per sample.
    let setup = || {
        let Ok(le) = live_engine(Vsn::V2, fx.spec.clone(), &fx.snapshot_body) else {
            panic!("engine set-up failed");
        };
        let inputs: Vec<Input> = frames
            .iter()
            .map(|f| Input::SocketFrame {
                conn: le.conn,
                text: f.clone(),
            })
            .collect();
        (le, inputs)
    };
    let handle_all = |(le, inputs): &mut (LiveEngine, Vec<Input>)| {
        let mut emitted = 0;
        for i in inputs.drain(..) {
            for a in le.e.handle(NOW, i) {
                if let Action::Rows { rows, .. } = a {
                    emitted += 1;
                    black_box(rows);
                }
            }
        }
        emitted
    };
    if handle_all(&mut setup()) != ENGINE_UPDATES {
        return Err("not every update through the engine emits rows".into());
    }
    let ms = run_group(
        &format!("(b2) {ENGINE_UPDATES} realtime UPDATEs through the whole engine, {ROWS} rows"),
        s,
        vec![
            Case::with_setup(
                "naive: from_str::<Value> + replace by id + clone the Vec for the UI",
                ENGINE_UPDATES as u64,
                || fx.base_rows.clone(),
                |rows| {
                    for f in frames {
                        naive_apply(rows, f);
                        black_box(rows.clone());
                    }
                },
            ),
            Case::with_setup(
                "ours: Engine::handle(SocketFrame) → Action::Rows (sorted view)",
                ENGINE_UPDATES as u64,
                setup,
                handle_all,
            ),
        ],
    );
    noise.note(&ms);
    Ok(EngineCosts {
        naive_ui: median_of(&ms, 0),
        engine: median_of(&ms, 1),
    })
}

/// The naive client: parse to a `Value`, take `payload.data.record`, replace the row by `id`.
pub fn naive_apply(rows: &mut [Value], frame: &str) {
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

fn markdown(fx: &Fixture, u: &UpdateCosts, e: &EngineCosts, snap: &SnapshotCosts) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "\n### (b) Realtime events and poll snapshots into the store\n\n\
         Query: `events` filtered by `hotel_id=eq.…`, ordered by `starts_at`, versioned by \
         `updated_at`, {ROWS} rows. {} realtime UPDATEs (vsn 2.0.0 frames of ~{} bytes) \
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
        fx.frame_bytes,
        fmt_ns(u.ours),
        fmt_ns(u.naive),
        ratio(u.ours, u.naive),
        fmt_ns(u.merge),
        fmt_ns(e.engine),
        fmt_ns(e.naive_ui),
        ratio(e.engine, e.naive_ui),
        fmt_ns(u.view),
        group_thousands(snap.body_bytes as u64),
        ROWS / 2,
        fmt_ns(snap.ours),
        fmt_ns(snap.naive),
        ratio(snap.ours, snap.naive),
        fmt_ns(snap.merge),
        fmt_ns(snap.merge / ROWS as f64),
    );
    let _ = writeln!(
        md,
        "Realtime UPDATEs per second one core could absorb at these costs: {} decode + merge, \
         {} through the whole engine (sorted view emitted for each).\n",
        fmt_rate(u.ours),
        fmt_rate(e.engine)
    );
    md
}
