//! The kiosk search over the real server and real sockets: one search → exactly one realtime
//! INSERT for that session's subscriber, nothing for any other session's.

mod common;

use common::TestServer;
use concierge_wire::phoenix::{Event, Vsn};
use concierge_wire::realtime::ChangesPayload;
use serde_json::{Value, json};

const A: &str = "0b7d5a8e-2c3f-4e4a-9d61-5f0a7c9e1b23";
const B: &str = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";

fn kiosk_spec(session: &str) -> Value {
    json!([{"event": "INSERT", "schema": "public", "table": "kiosk_results",
            "filter": format!("session_id=eq.{session}")}])
}

async fn search(s: &TestServer, session: &str, interests: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(s.url(&format!("/api/event/by-interests?session_id={session}")))
        .header("apikey", &s.anon)
        .json(&json!({"interests": interests, "hotel_id": "rt-hotel"}))
        .send()
        .await
        .expect("search");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_search_reaches_exactly_its_own_session() {
    let s = TestServer::start(&[]).await;
    s.insert(
        "hotels",
        json!({"id": "rt-hotel", "name": "RT Hotel", "timezone": "Asia/Kolkata"}),
    )
    .await;
    let starts =
        concierge_server::time_fmt::format_ms(concierge_server::time_fmt::now_ms() + 3_600_000);
    s.insert(
        "events",
        json!({"hotel_id": "rt-hotel", "title": "Jazz", "category": "music", "starts_at": starts}),
    )
    .await;

    let (ka, kb) = (s.kiosk(A).await, s.kiosk(B).await);
    for vsn in [Vsn::V1, Vsn::V2] {
        // Two kiosks, subscribed the way the app subscribes (its own anonymous user, which
        // claimed the session; a session filter).
        let mut a = s.client(&ka, vsn).await;
        let mut b = s.client(&kb, vsn).await;
        let (_, reply, system) = a.join("kiosk-a", kiosk_spec(A)).await;
        assert_eq!(reply.payload["status"], "ok", "{:?}", reply.payload);
        assert_eq!(system.payload["status"], "ok", "{:?}", system.payload);
        b.join("kiosk-b", kiosk_spec(B)).await;

        let (status, row) = search(&s, A, "live jazz").await;
        assert_eq!(status, 201, "{row}");

        let m = a.recv().await;
        assert_eq!(m.event, Event::PostgresChanges);
        let p: ChangesPayload = serde_json::from_value(m.payload.clone()).expect("payload");
        assert_eq!(
            serde_json::to_value(p.data.change_type).ok(),
            Some(json!("INSERT"))
        );
        assert_eq!(p.data.table, "kiosk_results");
        let record = Value::Object(p.data.record.clone().unwrap_or_default());
        assert_eq!(
            record, row,
            "realtime carries the row the endpoint returned"
        );
        assert_eq!(record["results"]["events"][0]["title"], "Jazz");

        // Exactly one: nothing more for A, nothing at all for B.
        assert!(a.recv_within(400).await.is_none(), "a second event for A");
        assert!(b.recv_within(400).await.is_none(), "B saw A's search");

        // A refused search publishes nothing.
        let (status, _) = search(&s, "not-a-uuid", "jazz").await;
        assert_eq!(status, 400);
        let (status, _) = search(&s, A, "   ").await;
        assert_eq!(status, 400);
        assert!(
            a.recv_within(400).await.is_none(),
            "a refused search published"
        );
    }
}
