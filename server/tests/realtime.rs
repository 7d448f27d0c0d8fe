//! Realtime over a real socket against the real server.

mod common;

use std::time::Duration;

use common::TestServer;
use concierge_wire::phoenix::{Event, Vsn};
use concierge_wire::realtime::ChangesPayload;
use serde_json::{Value, json};

fn kiosk_spec(session: &str) -> Value {
    json!([{"event": "INSERT", "schema": "public", "table": "kiosk_results", "filter": format!("session_id=eq.{session}")}])
}

#[tokio::test]
async fn join_reply_echoes_specs_with_stable_ids_then_system_ok() {
    let s = TestServer::start(&[]).await;
    let kiosk = s.kiosk("k1").await;
    let mut c = s.client(&kiosk, Vsn::V2).await;
    let specs = json!([
        {"event": "*", "schema": "public", "table": "events"},
        {"event": "INSERT", "schema": "public", "table": "kiosk_results", "filter": "session_id=eq.k1"}
    ]);
    let (jr, reply, system) = c.join("kiosk", specs.clone()).await;
    assert_eq!(reply.event, Event::Reply);
    assert_eq!(reply.topic, "realtime:kiosk");
    assert_eq!(
        (reply.join_ref.as_deref(), reply.msg_ref.as_deref()),
        (Some(jr.as_str()), Some(jr.as_str()))
    );
    assert_eq!(reply.payload["status"], "ok");
    let echoed = reply.payload["response"]["postgres_changes"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(echoed.len(), 2);
    assert_eq!(echoed[0]["table"], "events");
    assert_eq!(echoed[1]["filter"], "session_id=eq.k1");
    assert!(echoed.iter().all(|e| e["id"].is_u64()));
    assert_eq!(system.event, Event::System);
    assert_eq!(
        (system.join_ref.as_deref(), system.msg_ref.as_deref()),
        (Some(jr.as_str()), None)
    );
    assert_eq!(
        system.payload,
        json!({"extension": "postgres_changes", "status": "ok", "message": "Subscribed to PostgreSQL", "channel": "kiosk"})
    );
    // Identical params on another socket get identical ids.
    let mut c2 = s.client(&kiosk, Vsn::V1).await;
    let (_, reply2, _) = c2.join("other", specs).await;
    let ids = |v: &Value| {
        v["response"]["postgres_changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&reply.payload), ids(&reply2.payload));
}

#[tokio::test]
async fn v1_server_frames_have_no_join_ref_and_heartbeat_is_answered() {
    let s = TestServer::start(&[]).await;
    for vsn in [Vsn::V1, Vsn::V2] {
        let mut c = s.client(&s.anon, vsn).await;
        let r = c.push("phoenix", "heartbeat", json!({}), None).await;
        let raw = c.recv_raw().await;
        match vsn {
            Vsn::V1 => {
                let v: Value = serde_json::from_str(&raw).unwrap();
                assert_eq!(
                    v,
                    json!({"topic": "phoenix", "event": "phx_reply", "payload": {"status": "ok", "response": {}}, "ref": r})
                );
            }
            Vsn::V2 => assert_eq!(
                raw,
                format!(r#"[null,"{r}","phoenix","phx_reply",{{"status":"ok","response":{{}}}}]"#)
            ),
        }
    }
    // vsn absent → 1.0.0 (object frames).
    let (mut ws, _) = tokio_tungstenite::connect_async(s.ws_url(&s.anon, None))
        .await
        .unwrap();
    use futures_util::{SinkExt, StreamExt};
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        r#"{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"9"}"#.into(),
    ))
    .await
    .unwrap();
    let f = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(f.to_text().unwrap().starts_with('{'), "{f:?}");
}

#[tokio::test]
async fn rest_insert_reaches_only_the_matching_session() {
    let s = TestServer::start(&[]).await;
    // Two kiosks, each signed in and subscribed to the session it claimed.
    let (ka, kb) = (s.kiosk("sess-a").await, s.kiosk("sess-b").await);
    for vsn in [Vsn::V1, Vsn::V2] {
        let mut a = s.client(&ka, vsn).await;
        let mut b = s.client(&kb, vsn).await;
        let (_, reply_a, _) = a.join("kiosk-a", kiosk_spec("sess-a")).await;
        let (_, _, _) = b.join("kiosk-b", kiosk_spec("sess-b")).await;
        let row = s.insert("kiosk_results", json!({"session_id": "sess-a", "results": {"interests": "jazz", "categories": ["music"], "events": []}})).await;
        let m = a.recv().await;
        assert_eq!(m.event, Event::PostgresChanges);
        assert_eq!(m.topic, "realtime:kiosk-a");
        assert_eq!((m.join_ref.as_deref(), m.msg_ref.as_deref()), (None, None));
        let p: ChangesPayload = serde_json::from_value(m.payload.clone()).unwrap();
        assert_eq!(
            Value::from(p.ids.clone()),
            json!([reply_a.payload["response"]["postgres_changes"][0]["id"]])
        );
        assert_eq!(p.data.schema, "public");
        assert_eq!(p.data.table, "kiosk_results");
        assert_eq!(serde_json::to_value(p.data.change_type).unwrap(), "INSERT");
        let rec = p.data.record.clone().unwrap();
        assert_eq!(Value::Object(rec.clone()), row[0]);
        assert!(
            rec["results"].is_object(),
            "jsonb arrives as JSON, not a string"
        );
        assert!(m.payload["data"].get("old_record").is_none());
        assert_eq!(m.payload["data"]["errors"], Value::Null);
        assert!(
            p.data
                .columns
                .iter()
                .any(|c| c.name == "results" && c.type_name == "jsonb")
        );
        assert_eq!(
            p.data.commit_timestamp.len(),
            "2025-11-19T00:22:40.877Z".len()
        );
        assert!(
            b.recv_within(300).await.is_none(),
            "session B must not see A's results"
        );
    }
}

#[tokio::test]
async fn update_and_delete_payloads_and_commit_order() {
    let s = TestServer::start(&[]).await;
    let mut c = s.client(&s.service, Vsn::V2).await;
    c.join(
        "all",
        json!([{"event": "*", "schema": "public", "table": "events"}]),
    )
    .await;
    let http = reqwest::Client::new();
    // Concurrent writers: whatever order they commit in, the socket sees that order.
    let mut tasks = Vec::new();
    for i in 0..30 {
        let s_url = s.url("/rest/v1/events");
        let key = s.service.clone();
        let http = http.clone();
        tasks.push(tokio::spawn(async move {
            http.post(s_url)
                .header("apikey", key)
                .json(&json!({"hotel_id": "h", "title": format!("e{i}"), "category": "music", "starts_at": "2026-01-01T10:00:00Z", "distance_km": i}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 201);
    }
    let mut last = String::new();
    let mut ids = Vec::new();
    for _ in 0..30 {
        let p: ChangesPayload = serde_json::from_value(c.recv().await.payload).unwrap();
        // Millisecond timestamps never go backwards (ties are possible within one ms).
        assert!(
            p.data.commit_timestamp >= last,
            "{} after {last}",
            p.data.commit_timestamp
        );
        last = p.data.commit_timestamp.clone();
        ids.push(p.data.record.unwrap()["id"].as_str().unwrap().to_owned());
    }
    // Delivery order is commit order: SQLite's rowids record the order rows were committed.
    let conn = rusqlite::Connection::open(&s.db_path).unwrap();
    let committed: Vec<String> = conn
        .prepare("SELECT id FROM events ORDER BY rowid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(committed, ids);
    // And the timestamps are not in the future (no drift under load).
    assert!(
        last <= concierge_server::time_fmt::format_ms(concierge_server::time_fmt::now_ms() + 5)
    );

    let r = http
        .patch(s.url(&format!("/rest/v1/events?id=eq.{}", ids[0])))
        .header("apikey", &s.service)
        .json(&json!({"title": "renamed", "is_hotel_service": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let m = c.recv().await;
    assert_eq!(m.payload["data"]["type"], "UPDATE");
    assert_eq!(m.payload["data"]["record"]["title"], "renamed");
    assert_eq!(m.payload["data"]["record"]["is_hotel_service"], true);
    assert_eq!(m.payload["data"]["old_record"], json!({"id": ids[0]}));

    let r = http
        .delete(s.url(&format!("/rest/v1/events?id=eq.{}", ids[1])))
        .header("apikey", &s.service)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let m = c.recv().await;
    assert_eq!(m.payload["data"]["type"], "DELETE");
    assert_eq!(m.payload["data"]["old_record"], json!({"id": ids[1]}));
    assert!(m.payload["data"].get("record").is_none());
}

#[tokio::test]
async fn subscription_errors_are_system_messages() {
    let s = TestServer::start(&[]).await;
    let mut c = s.client(&s.anon, Vsn::V2).await;
    for (specs, needle) in [
        (
            json!([{"event": "*", "schema": "public", "table": "nope"}]),
            "Unable to subscribe",
        ),
        (
            json!([{"event": "*", "schema": "public", "table": "events", "filter": "title=like.x"}]),
            "Error parsing `filter` params",
        ),
        (
            json!([{"event": "*", "schema": "public", "table": "sessions"}]),
            "permission denied",
        ),
        (
            json!([{"event": "INSERT", "schema": "public", "table": "kiosk_results", "filter": "session_id=eq.k1"}]),
            "permission denied for table kiosk_results",
        ),
    ] {
        let (_, reply, system) = c.join(&format!("t{needle}"), specs).await;
        assert_eq!(reply.payload["status"], "ok");
        assert_eq!(system.payload["status"], "error", "{system:?}");
        assert_eq!(system.payload["extension"], "postgres_changes");
        assert!(
            system.payload["message"].as_str().unwrap().contains(needle),
            "{system:?}"
        );
    }
    // A refused channel receives nothing.
    s.insert("sessions", json!({"customer_id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "status": "pending", "kind": "chat"})).await;
    assert!(c.recv_within(300).await.is_none());
}

#[tokio::test]
async fn unmatched_topic_leave_and_close() {
    let s = TestServer::start(&[]).await;
    let mut c = s.client(&s.anon, Vsn::V2).await;
    let r = c
        .push("realtime:never-joined", "phx_leave", json!({}), Some("5"))
        .await;
    let m = c.recv().await;
    assert_eq!(m.event, Event::Reply);
    assert_eq!(m.msg_ref.as_deref(), Some(r.as_str()));
    assert_eq!(
        m.payload,
        json!({"status": "error", "response": {"reason": "unmatched topic"}})
    );

    let (jr, _, _) = c
        .join(
            "room",
            json!([{"event": "*", "schema": "public", "table": "events"}]),
        )
        .await;
    let r = c
        .push("realtime:room", "phx_leave", json!({}), Some(&jr))
        .await;
    let reply = c.recv().await;
    assert_eq!(
        (reply.event.clone(), reply.msg_ref.as_deref()),
        (Event::Reply, Some(r.as_str()))
    );
    assert_eq!(reply.payload["status"], "ok");
    let close = c.recv().await;
    assert_eq!(close.event, Event::Close);
    assert_eq!(
        (close.join_ref.as_deref(), close.msg_ref.as_deref()),
        (Some(jr.as_str()), Some(jr.as_str()))
    );
    // Left: no more changes, and pushes are unmatched again.
    s.insert("events", json!({"hotel_id": "h", "title": "t", "category": "music", "starts_at": "2026-01-01T00:00:00Z"})).await;
    assert!(c.recv_within(300).await.is_none());
}

#[tokio::test]
async fn api_key_is_required_and_verified_at_upgrade() {
    let s = TestServer::start(&[]).await;
    let status_body = |url: String| async move {
        let r = reqwest::Client::new()
            .get(url)
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let (st, body) =
        status_body(format!("http://{}/realtime/v1/websocket?vsn=2.0.0", s.addr)).await;
    assert_eq!(
        (st, body.as_str()),
        (401, r#"{"error":"API key is missing"}"#)
    );
    let (st, _) = status_body(format!(
        "http://{}/socket/websocket?apikey=not.a.jwt",
        s.addr
    ))
    .await;
    assert_eq!(st, 401);
    let forged = concierge_server::jwt::Keys::new("another-secret").service_role_key();
    let (st, _) = status_body(format!(
        "http://{}/realtime/v1/websocket?apikey={forged}",
        s.addr
    ))
    .await;
    assert_eq!(st, 401);
    assert!(
        tokio_tungstenite::connect_async(s.ws_url("garbage", Some("2.0.0")))
            .await
            .is_err()
    );
    // x-api-key header works too.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{}/socket/websocket?vsn=2.0.0", s.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("x-api-key", s.anon.parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_ok());
}

#[tokio::test]
async fn malformed_frames_do_not_kill_the_connection() {
    let s = TestServer::start(&[]).await;
    let mut c = s.client(&s.anon, Vsn::V2).await;
    for junk in [
        "",
        "not json",
        "{}",
        "[1,2]",
        r#"[null,null,5,"x",{}]"#,
        r#"{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}"#,
        "\u{0}\u{1}",
    ] {
        c.send_raw(junk).await;
    }
    // A join with a payload that does not parse gets an error reply, not a crash.
    c.send_raw(r#"["1","1","realtime:x","phx_join",{"config":{"postgres_changes":[{"event":"TRUNCATE","schema":"public"}]}}]"#).await;
    let m = c.recv().await;
    assert_eq!(m.payload["status"], "error");
    c.push("realtime:", "phx_join", json!({}), Some("2")).await;
    assert_eq!(c.recv().await.payload["status"], "error");
    let r = c.push("phoenix", "heartbeat", json!({}), None).await;
    let m = c.recv().await;
    assert_eq!(
        (m.event, m.msg_ref.as_deref()),
        (Event::Reply, Some(r.as_str()))
    );
    // A frame over the size limit closes only that socket.
    let mut big = s.client(&s.anon, Vsn::V2).await;
    let huge = format!(
        r#"[null,"1","phoenix","heartbeat",{{"x":"{}"}}]"#,
        "a".repeat(concierge_wire::phoenix::MAX_FRAME_BYTES + 10)
    );
    let _ = futures_util::SinkExt::send(
        &mut big.ws,
        tokio_tungstenite::tungstenite::Message::Text(huge.into()),
    )
    .await;
    assert!(big.recv_within(2000).await.is_none());
    let r = c.push("phoenix", "heartbeat", json!({}), None).await;
    assert_eq!(c.recv().await.msg_ref.as_deref(), Some(r.as_str()));
}

#[tokio::test]
async fn idle_sockets_are_closed() {
    let s = TestServer::start(&["--ws-idle-timeout-ms", "300"]).await;
    let mut idle = s.client(&s.anon, Vsn::V2).await;
    let mut busy = s.client(&s.anon, Vsn::V2).await;
    let start = std::time::Instant::now();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        busy.push("phoenix", "heartbeat", json!({}), None).await;
        assert!(busy.recv_within(1000).await.is_some());
    }
    assert!(
        idle.recv_within(2000).await.is_none(),
        "idle socket should have been closed"
    );
    assert!(start.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn access_token_is_verified() {
    let s = TestServer::start(&[]).await;
    let mut c = s.client(&s.anon, Vsn::V2).await;
    let (jr, _, _) = c
        .join(
            "room",
            json!([{"event": "*", "schema": "public", "table": "events"}]),
        )
        .await;
    // A valid token: silently accepted; the channel keeps working.
    c.push(
        "realtime:room",
        "access_token",
        json!({"access_token": s.service}),
        Some(&jr),
    )
    .await;
    s.insert("events", json!({"hotel_id": "h", "title": "t", "category": "music", "starts_at": "2026-01-01T00:00:00Z"})).await;
    assert_eq!(c.recv().await.event, Event::PostgresChanges);
    // An invalid one: system error, then phx_close.
    c.push(
        "realtime:room",
        "access_token",
        json!({"access_token": "forged.token.value"}),
        Some(&jr),
    )
    .await;
    let sys = c.recv().await;
    assert_eq!(sys.event, Event::System);
    assert_eq!(sys.payload["status"], "error");
    assert_eq!(sys.payload["extension"], "system");
    assert_eq!(c.recv().await.event, Event::Close);
}

#[tokio::test]
async fn shutdown_closes_open_sockets() {
    let mut s = TestServer::start(&[]).await;
    let mut c = s.client(&s.anon, Vsn::V2).await;
    c.join(
        "room",
        json!([{"event": "*", "schema": "public", "table": "events"}]),
    )
    .await;
    s.stop();
    // The server closes the socket (close frame or end of stream) promptly.
    let start = std::time::Instant::now();
    assert!(c.recv_within(3000).await.is_none());
    assert!(start.elapsed() < Duration::from_millis(2500));
}

#[tokio::test]
async fn channels_per_socket_are_capped() {
    let s = TestServer::start(&[]).await;
    let mut c = s.client(&s.anon, Vsn::V2).await;
    for i in 0..100 {
        let (_, reply, _) = c
            .join(
                &format!("c{i}"),
                json!([{"event": "*", "schema": "public", "table": "events"}]),
            )
            .await;
        assert_eq!(reply.payload["status"], "ok");
    }
    c.push(
        "realtime:one-too-many",
        "phx_join",
        json!({"config": {"postgres_changes": []}}),
        Some("x"),
    )
    .await;
    let m = c.recv().await;
    assert_eq!(m.payload["status"], "error");
    assert!(
        m.payload["response"]["reason"]
            .as_str()
            .unwrap()
            .contains("Too many channels")
    );
    // Rejoining an existing topic is still allowed (it replaces the old instance).
    c.push(
        "realtime:c0",
        "phx_join",
        json!({"config": {"postgres_changes": []}}),
        Some("y"),
    )
    .await;
    assert_eq!(c.recv().await.event, Event::Close);
    assert_eq!(c.recv().await.payload["status"], "ok");
}

#[tokio::test]
async fn a_client_that_stops_reading_is_disconnected_and_others_are_unaffected() {
    let s = TestServer::start(&[]).await;
    let mut slow = s.client(&s.service, Vsn::V2).await;
    slow.join(
        "flood",
        json!([{"event": "*", "schema": "public", "table": "events"}]),
    )
    .await;
    let mut healthy = s.client(&s.anon, Vsn::V2).await;
    // About 25 MB: far more than the 8 MiB queue plus what the kernel's socket buffers absorb.
    let rows: Vec<Value> = (0..400)
        .map(|i| json!({"hotel_id": "h", "title": format!("flood {i}"), "category": "music", "starts_at": "2026-01-01T00:00:00Z", "description": "d".repeat(2000)}))
        .collect();
    for _ in 0..30 {
        s.insert("events", Value::Array(rows.clone())).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The slow client now drains: it finds the stream cut short instead of all 12,000 changes.
    let mut got = 0;
    while slow.recv_within(2000).await.is_some() {
        got += 1;
    }
    assert!(
        got < 12_000,
        "a client that could not keep up should have been disconnected ({got} frames)"
    );
    // The server and other clients carry on.
    let r = healthy.push("phoenix", "heartbeat", json!({}), None).await;
    assert_eq!(healthy.recv().await.msg_ref.as_deref(), Some(r.as_str()));
}
