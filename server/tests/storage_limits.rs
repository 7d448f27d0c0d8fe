//! Storage that stays bounded: the WAL stays under its limit through a burst of writes many
//! times larger, a crash image holds every acknowledged row, and a full database answers
//! writes with PostgREST's 503 while reads and realtime go on, then recovers.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use concierge_server::authz::Principal;
use concierge_server::cli::Cli;
use concierge_server::db::{self, Options, Table};
use concierge_wire::phoenix::{Event, Vsn};
use serde_json::{Value, json};

const MIB: u64 = 1024 * 1024;

fn wal_size(db: &Path) -> u64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(PathBuf::from(wal))
        .map(|m| m.len())
        .unwrap_or(0)
}

fn count_rows(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM kiosk_results", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn the_wal_stays_under_its_bound_through_a_burst_ten_times_larger() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let (sink, _rx) = tokio::sync::mpsc::unbounded_channel();
    let opts = Options {
        wal_limit_bytes: MIB,
        ..Options::default()
    };
    let (_db, writer) = db::open_with(&path, sink, &opts).unwrap();
    let padding = "x".repeat(4_000);
    let mut written = 0u64;
    let mut acknowledged = 0i64;
    let mut largest = 0u64;
    // 10 MiB of rows in transactions of about 32 KiB, each far below half the bound.
    while written < 10 * MIB {
        let rows: Vec<_> = (0..8)
            .map(|i| {
                json!({"session_id": format!("s{acknowledged}-{i}"), "results": {"padding": padding}})
                    .as_object()
                    .cloned()
                    .unwrap()
            })
            .collect();
        writer
            .insert(&Principal::ServiceRole, Table::KioskResults, rows)
            .await
            .unwrap();
        acknowledged += 8;
        written += 8 * 4_000;
        largest = largest.max(wal_size(&path));
    }
    assert!(
        largest <= MIB,
        "the WAL reached {largest} bytes, over its {MIB}-byte bound"
    );
    assert!(largest > 0, "the burst went through the WAL");

    // A crash image (database and WAL as they are on disk right now, no clean close) recovers
    // to exactly the acknowledged rows.
    let image = tempfile::tempdir().unwrap();
    // The WAL is copied first: the background checkpointer may run during the copy, and a
    // checkpoint moves frames from the WAL into the database (then may truncate the WAL), so a
    // database copied after the WAL holds at least what the copied WAL lacks. (The other order
    // can miss a transaction checkpointed and truncated between the two copies.)
    let copy = image.path().join("w.db");
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mut wal_copy = copy.as_os_str().to_owned();
    wal_copy.push("-wal");
    if Path::new(&wal).exists() {
        std::fs::copy(&wal, &wal_copy).unwrap();
    }
    std::fs::copy(&path, &copy).unwrap();
    assert_eq!(count_rows(&copy), acknowledged);
}

/// A server on `db` (kept across restarts) with extra flags.
async fn serve(
    db: &Path,
    extra: &[&str],
) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let mut argv = vec![
        "concierge-server".to_owned(),
        "--addr".into(),
        "127.0.0.1:0".into(),
        "--db".into(),
        db.display().to_string(),
        "--jwt-secret".into(),
        common::SECRET.into(),
    ];
    argv.extend(extra.iter().map(|s| s.to_string()));
    let cli = Cli::try_parse_from(argv).unwrap();
    let server = concierge_server::build(&cli.serve).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.run(async move {
        let _ = rx.await;
    }));
    (addr, tx)
}

fn service_key() -> String {
    concierge_server::jwt::Keys::new(common::SECRET).service_role_key()
}

async fn post_row(addr: std::net::SocketAddr, n: usize) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/rest/v1/kiosk_results"))
        .header("apikey", service_key())
        .header("Prefer", "return=representation")
        .json(
            &json!({"session_id": format!("row-{n}"), "results": {"padding": "y".repeat(20_000)}}),
        )
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn ids(addr: std::net::SocketAddr) -> Vec<String> {
    let r = reqwest::Client::new()
        .get(format!("http://{addr}/rest/v1/kiosk_results?select=id"))
        .header("apikey", service_key())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "reads keep working");
    let v: Value = r.json().await.unwrap();
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_full_database_refuses_writes_with_503_keeps_reads_and_realtime_and_recovers() {
    let mut s = common::TestServer::start(&["--max-db-mib", "1"]).await;
    let addr = s.addr;
    let mut rt = s.client(&s.service, Vsn::V2).await;
    rt.join(
        "full",
        json!([{"event": "DELETE", "schema": "public", "table": "kiosk_results"}]),
    )
    .await;

    let mut acknowledged = Vec::new();
    let mut refusal = None;
    for n in 0..200 {
        match post_row(addr, n).await {
            (201, row) => acknowledged.push(row[0]["id"].as_str().unwrap().to_owned()),
            other => {
                refusal = Some(other);
                break;
            }
        }
    }
    let (status, body) = refusal.expect("1 MiB fills up within 4 MiB of rows");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "53100");
    assert!(body["message"].as_str().unwrap().contains("storage limit"));
    assert!(acknowledged.len() > 5, "{} rows fit", acknowledged.len());
    // Still full: writes keep getting the same answer; reads see every acknowledged row.
    assert_eq!(post_row(addr, 1_000).await.0, 503);
    acknowledged.sort();
    assert_eq!(ids(addr).await, acknowledged);

    // Freeing space (a delete needs no new pages) lets writes in again, and realtime delivers.
    // Three rows freed leave room for one more even if its index entry splits a page.
    let victims: Vec<String> = acknowledged.drain(..3).collect();
    let r = reqwest::Client::new()
        .delete(format!(
            "http://{addr}/rest/v1/kiosk_results?id=in.({})",
            victims.join(",")
        ))
        .header("apikey", service_key())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let m = rt.recv().await;
    assert_eq!(m.event, Event::PostgresChanges);
    let gone = m.payload["data"]["old_record"]["id"].as_str().unwrap();
    assert!(victims.iter().any(|v| v == gone), "{gone}");
    let (status, row) = post_row(addr, 2_000).await;
    assert_eq!(status, 201, "{row}");
    acknowledged.push(row[0]["id"].as_str().unwrap().to_owned());
    acknowledged.sort();
    while post_row(addr, 3_000).await.0 == 201 {
        // Fill the freed space again (the loop ends at the limit); those rows are not tracked.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }

    // A restart with a larger limit accepts writes again, with nothing acknowledged lost.
    s.stop();
    let (addr, _stop) = serve(&s.db_path, &["--max-db-mib", "8"]).await;
    let after = ids(addr).await;
    assert!(
        acknowledged
            .iter()
            .all(|id| after.binary_search(id).is_ok()),
        "an acknowledged row is missing after the restart"
    );
    assert_eq!(post_row(addr, 4_000).await.0, 201);
}

/// Users and refresh tokens count under `--max-db-mib` too: once the data fills the database,
/// anonymous sign-ups (no password, so cheap to spray) get a clear 503 instead of growing the
/// file past its cap.
#[tokio::test]
async fn sign_ups_count_under_the_storage_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("full.db");
    let (addr, _stop) = serve(
        &path,
        &[
            "--max-db-mib",
            "1",
            "--anonymous-sign-ups-per-hour",
            "100000",
            "--anonymous-sign-up-burst",
            "100000",
        ],
    )
    .await;
    let mut n = 0;
    while post_row(addr, n).await.0 == 201 {
        n += 1;
        assert!(n < 200, "the data never filled the database");
    }
    let anon = concierge_server::jwt::Keys::new(common::SECRET).anon_key();
    let mut refused = None;
    for _ in 0..300 {
        let r = reqwest::Client::new()
            .post(format!("http://{addr}/auth/v1/signup"))
            .header("apikey", &anon)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        if r.status().as_u16() != 200 {
            refused = Some((r.status().as_u16(), r.json::<Value>().await.unwrap()));
            break;
        }
    }
    let (status, body) = refused.expect("sign-ups never refused on a full database");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error_code"], "disk_full", "{body}");
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size <= MIB + 64 * 1024, "the file grew to {size} bytes");
}
