//! Kiosk results expire (issue 14, Medium 7): a result older than the retention is deleted by
//! the background task through the writer, so realtime subscribers see the DELETE.

mod common;

use common::TestServer;
use concierge_wire::phoenix::{Event, Vsn};
use concierge_wire::realtime::ChangesPayload;
use serde_json::json;

#[tokio::test]
async fn a_result_older_than_the_retention_is_deleted_and_realtime_sees_it() {
    let s = TestServer::start(&["--kiosk-result-retention-secs", "1"]).await;
    let mut c = s.client(&s.service, Vsn::V1).await;
    let (_, reply, _) = c
        .join(
            "results",
            json!([{"event": "DELETE", "schema": "public", "table": "kiosk_results"}]),
        )
        .await;
    assert_eq!(reply.payload["status"], "ok", "{:?}", reply.payload);
    let row = s
        .insert(
            "kiosk_results",
            json!({"session_id": "0b7d5a8e-2c3f-4e4a-9d61-5f0a7c9e1b23", "results": {"events": []}}),
        )
        .await;
    let id = row[0]["id"].as_str().expect("id").to_owned();

    let m = c
        .recv_within(10_000)
        .await
        .expect("a DELETE within the retention plus a sweep");
    assert_eq!(m.event, Event::PostgresChanges);
    let p: ChangesPayload = serde_json::from_value(m.payload.clone()).expect("payload");
    assert_eq!(
        serde_json::to_value(p.data.change_type).ok(),
        Some(json!("DELETE"))
    );
    assert_eq!(p.data.old_record.unwrap_or_default()["id"], id);

    let left = rows_left(&s).await;
    assert_eq!(left, json!([]));
}

#[tokio::test]
async fn a_fresh_result_is_kept() {
    let s = TestServer::start(&["--kiosk-result-retention-secs", "3600"]).await;
    s.insert(
        "kiosk_results",
        json!({"session_id": "0b7d5a8e-2c3f-4e4a-9d61-5f0a7c9e1b23", "results": {"events": []}}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let left = rows_left(&s).await;
    assert_eq!(left.as_array().map(Vec::len), Some(1));
}

/// The kiosk results still stored, read with the service role.
async fn rows_left(s: &TestServer) -> serde_json::Value {
    reqwest::Client::new()
        .get(s.url("/rest/v1/kiosk_results?select=id"))
        .header("apikey", &s.service)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
