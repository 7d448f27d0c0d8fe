//! Storage behaviour that needs a real file: checkpoints happen off the write path.

use std::time::Duration;

use concierge_server::authz::Principal;
use concierge_server::db::{self, Table};
use serde_json::json;

#[tokio::test]
async fn background_checkpointer_folds_the_wal_into_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let (sink, _rx) = tokio::sync::mpsc::unbounded_channel();
    let (_db, writer) = db::open(&path, sink).unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    let rows: Vec<_> = (0..2000)
        .map(|i| {
            json!({"session_id": format!("s{i}"), "results": {"events": [], "padding": "x".repeat(200)}})
                .as_object()
                .cloned()
                .unwrap()
        })
        .collect();
    writer
        .insert(&Principal::ServiceRole, Table::KioskResults, rows)
        .await
        .unwrap();
    // The writer's own auto-checkpoint is off, so only the checkpointer thread can grow the
    // main file; give it a couple of rounds.
    let mut after = before;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = std::fs::metadata(&path).unwrap().len();
        if after > before + 300_000 {
            break;
        }
    }
    assert!(
        after > before + 300_000,
        "db file {before} → {after} bytes: WAL never checkpointed"
    );
}
