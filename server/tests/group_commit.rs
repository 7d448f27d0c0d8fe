//! Group commit (`db::writer::batch`): concurrent writes share transactions, yet each write
//! stands alone. A failed write undoes only itself, every acknowledged write is stored and
//! published once, in commit order, and a write refused for a full database loses nothing
//! acknowledged around it.

use std::collections::BTreeSet;
use std::sync::Arc;

use concierge_server::authz::Principal;
use concierge_server::db::{self, DbError, Options, Table, Writer};
use concierge_server::db::{Change, Row};
use serde_json::json;

fn row(id: &str, padding: usize) -> Row {
    json!({"id": id, "session_id": "s", "results": {"padding": "x".repeat(padding)}})
        .as_object()
        .cloned()
        .unwrap()
}

fn uuid(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn stored_ids(path: &std::path::Path) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn.prepare("SELECT id FROM kiosk_results").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn published(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Arc<Change>>) -> Vec<Arc<Change>> {
    let mut out = Vec::new();
    while let Ok(c) = rx.try_recv() {
        out.push(c);
    }
    out
}

/// Every fifth write inserts two rows with the same id: the first row is written inside the
/// write's savepoint before the second fails, so only a savepoint rollback keeps it out.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_write_undoes_only_itself_and_the_others_commit_and_publish_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.db");
    let (sink, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (_db, writer) = db::open(&path, sink).unwrap();
    let tasks: Vec<_> = (0..400)
        .map(|n| {
            let writer: Writer = writer.clone();
            tokio::spawn(async move {
                let id = uuid(n);
                let rows = if n % 5 == 0 {
                    vec![row(&id, 10), row(&id, 10)]
                } else {
                    vec![row(&id, 10)]
                };
                (
                    n,
                    writer
                        .insert(&Principal::ServiceRole, Table::KioskResults, rows)
                        .await,
                )
            })
        })
        .collect();
    let mut acknowledged = BTreeSet::new();
    for t in tasks {
        let (n, out) = t.await.unwrap();
        match out {
            Ok(rows) => {
                assert_ne!(
                    n % 5,
                    0,
                    "write {n} had a duplicate key yet was acknowledged"
                );
                assert_eq!(rows.len(), 1);
                acknowledged.insert(uuid(n));
            }
            Err(e) => {
                assert_eq!(n % 5, 0, "write {n} failed: {e}");
                assert!(matches!(e, DbError::Duplicate { .. }), "{e}");
            }
        }
    }
    assert_eq!(acknowledged.len(), 320);
    assert_eq!(
        stored_ids(&path),
        acknowledged,
        "stored rows ≠ acknowledged writes"
    );

    let changes = published(&mut rx);
    let ids: Vec<String> = changes
        .iter()
        .map(|c| {
            c.record.as_ref().unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 320, "each acknowledged write published once");
    assert_eq!(ids.iter().cloned().collect::<BTreeSet<_>>(), acknowledged);
    let stamps: Vec<&str> = changes
        .iter()
        .map(|c| c.commit_timestamp.as_str())
        .collect();
    assert!(
        stamps.windows(2).all(|w| w[0] <= w[1]),
        "published out of commit order"
    );
}

/// 32 writers fill a 1 MiB database at once. Writes refused for space get `StorageFull`; every
/// acknowledged row is on disk after the writer is gone, and was published; nothing refused
/// is either.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_into_a_full_database_lose_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");
    let (sink, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let opts = Options {
        max_db_bytes: Some(1024 * 1024),
        ..Options::default()
    };
    let (db, writer) = db::open_with(&path, sink, &opts).unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|w| {
            let writer = writer.clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                let mut refused = Vec::new();
                for k in 0..200 {
                    let id = uuid(w * 1000 + k);
                    match writer
                        .insert(
                            &Principal::ServiceRole,
                            Table::KioskResults,
                            vec![row(&id, 2_000)],
                        )
                        .await
                    {
                        Ok(_) => acked.push(id),
                        Err(DbError::StorageFull) => refused.push(id),
                        Err(e) => panic!("write {id}: {e}"),
                    }
                }
                (acked, refused)
            })
        })
        .collect();
    let mut acknowledged = BTreeSet::new();
    let mut refused = BTreeSet::new();
    for t in tasks {
        let (a, r) = t.await.unwrap();
        acknowledged.extend(a);
        refused.extend(r);
    }
    assert!(acknowledged.len() > 50, "{} rows fit", acknowledged.len());
    assert!(refused.len() > 1000, "the limit was reached early on");
    let published: BTreeSet<String> = published(&mut rx)
        .iter()
        .map(|c| {
            c.record.as_ref().unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(published, acknowledged, "published ≠ acknowledged");
    drop((db, writer));
    assert_eq!(stored_ids(&path), acknowledged, "stored ≠ acknowledged");
    assert!(refused.is_disjoint(&acknowledged));
}
