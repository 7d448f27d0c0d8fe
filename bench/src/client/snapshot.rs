//! (b3) A poll snapshot merged over a store in which half the rows have newer realtime
//! versions: the store holds [`ROWS`] rows at `BASE_MS`; a poll starts (its mark); realtime then
//! updates every other row (`BASE_MS` + 2 s); the poll's answer has every row at `BASE_MS` + 1 s
//! with a new title. Odd rows take the snapshot's copy, even rows keep their newer realtime copy.

use std::hint::black_box;

use concierge_sync::{ChangeOutcome, Store};
use concierge_wire::phoenix::Vsn;
use serde_json::Value;

use super::decoding::decode_change;
use super::fixtures::{event_rows, event_update_frame};
use super::harness::{Case, Noise, Settings, median_of, run_group};
use super::store::Fixture;
use super::{BASE_MS, ROWS};

/// Medians of (b3), ns per snapshot.
pub struct SnapshotCosts {
    /// Size of the snapshot's JSON body.
    pub body_bytes: usize,
    pub naive: f64,
    pub ours: f64,
    pub merge: f64,
}

pub fn snapshot_costs(
    s: Settings,
    noise: &mut Noise,
    fx: &Fixture,
) -> Result<SnapshotCosts, String> {
    let mut snap_store = fx.base_store.clone();
    let mark = snap_store.mark();
    for i in (0..ROWS).step_by(2) {
        let f = event_update_frame(Vsn::V2, &fx.topic, i, 900, BASE_MS + 2000);
        let p = decode_change(&f, Vsn::V2).ok_or("snapshot set-up frame")?;
        if snap_store.apply_change(&p.data) != ChangeOutcome::Applied {
            return Err("snapshot set-up: realtime update not applied".into());
        }
    }
    let snapshot = event_rows(ROWS, 500, BASE_MS + 1000);
    let body = Value::Array(snapshot.clone()).to_string();
    check_merge(&snap_store, mark, snapshot)?;
    let ms = run_group(
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
            Case::with_setup(
                "ours: from_str::<Value> + Store::apply_snapshot",
                1,
                || snap_store.clone(),
                |st| {
                    if let Ok(Value::Array(rows)) = serde_json::from_str::<Value>(&body) {
                        black_box(st.apply_snapshot(mark, rows));
                    }
                },
            ),
            Case::with_setup(
                "ours: Store::apply_snapshot alone (pre-parsed)",
                1,
                // Parsed (untimed), as the engine gets them.
                || {
                    let Ok(Value::Array(rows)) = serde_json::from_str::<Value>(&body) else {
                        panic!("snapshot body does not parse");
                    };
                    (snap_store.clone(), rows)
                },
                |(st, rows)| black_box(st.apply_snapshot(mark, std::mem::take(rows))),
            ),
        ],
    );
    noise.note(&ms);
    Ok(SnapshotCosts {
        body_bytes: body.len(),
        naive: median_of(&ms, 0),
        ours: median_of(&ms, 1),
        merge: median_of(&ms, 2),
    })
}

/// The merge keeps the newer realtime copy of every even row and takes the snapshot's copy of
/// every odd one.
fn check_merge(snap_store: &Store, mark: u64, snapshot: Vec<Value>) -> Result<(), String> {
    let mut st = snap_store.clone();
    if !st.apply_snapshot(mark, snapshot) {
        return Err("snapshot merge changed nothing".into());
    }
    let view = st.view();
    let with_rev = |rev: &str| {
        view.iter()
            .filter(|r| r["title"].as_str().is_some_and(|t| t.ends_with(rev)))
            .count()
    };
    let (kept, taken) = (with_rev("(rev 900)"), with_rev("(rev 500)"));
    if (kept, taken) != (ROWS / 2, ROWS / 2) {
        return Err(format!(
            "snapshot merge: kept {kept} realtime rows and took {taken} snapshot rows"
        ));
    }
    Ok(())
}
