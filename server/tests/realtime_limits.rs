//! Realtime abuse limits (issue 14: subscriptions, slow consumers, frame sizes, expired
//! tokens) over a real socket against the real server. Each test is one attack, and asserts
//! both the refusal and that other clients carry on.

mod common;

use std::time::Duration;

use common::{Client, TestServer};
use concierge_wire::phoenix::{Event, Vsn};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn events_spec() -> Value {
    json!({"event": "*", "schema": "public", "table": "events"})
}

fn event_row(title: &str) -> Value {
    json!({"hotel_id": "h", "title": title, "category": "music", "starts_at": "2026-01-01T00:00:00Z"})
}

/// A `phx_join` with `specs`, answered by one reply (no `client.join`: a refused join has no
/// system message after it).
async fn join_reply(c: &mut Client, topic: &str, specs: Value) -> Value {
    let jr = format!("j-{topic}");
    c.push(
        &format!("realtime:{topic}"),
        "phx_join",
        json!({"config": {"postgres_changes": specs}}),
        Some(&jr),
    )
    .await;
    c.recv().await.payload
}

/// The next frame of `event`, skipping others; `None` if the socket closes or goes quiet.
async fn next_of(c: &mut Client, event: Event, ms: u64) -> Option<serde_json::Value> {
    loop {
        let m = c.recv_within(ms).await?;
        if m.event == event {
            return Some(m.payload);
        }
    }
}

async fn heartbeat_answered(c: &mut Client) {
    let r = c.push("phoenix", "heartbeat", json!({}), None).await;
    loop {
        let m = c.recv().await;
        if m.topic == "phoenix" && m.msg_ref.as_deref() == Some(r.as_str()) {
            return;
        }
    }
}

#[tokio::test]
async fn a_join_with_ten_thousand_entries_is_refused() {
    let s = TestServer::start(&[]).await;
    let mut c = s.client(&s.anon, Vsn::V2).await;
    let flood = Value::Array(vec![events_spec(); 10_000]);
    let reply = join_reply(&mut c, "flood", flood).await;
    assert_eq!(reply["status"], "error", "the flood was accepted");
    let reason = reply["response"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("PostgresChangesLimitReached") && reason.contains("at most 100"),
        "{reason}"
    );
    // Nothing was subscribed: an insert reaches no one on this socket.
    s.insert("events", event_row("after flood")).await;
    assert!(next_of(&mut c, Event::PostgresChanges, 500).await.is_none());
    // The socket itself stays usable, and a join at the cap is accepted.
    let mut c = s.client(&s.anon, Vsn::V2).await;
    heartbeat_answered(&mut c).await;
    let (_, reply, system) = c
        .join("at-cap", Value::Array(vec![events_spec(); 100]))
        .await;
    assert_eq!(reply.payload["status"], "ok");
    assert_eq!(system.payload["status"], "ok");
}

#[tokio::test]
async fn the_entry_cap_is_configurable() {
    let s = TestServer::start(&["--ws-max-changes-per-join", "2"]).await;
    let mut c = s.client(&s.anon, Vsn::V2).await;
    let reply = join_reply(&mut c, "three", Value::Array(vec![events_spec(); 3])).await;
    assert_eq!(reply["status"], "error", "{reply}");
    assert!(
        reply["response"]["reason"]
            .as_str()
            .unwrap()
            .contains("at most 2")
    );
    let (_, reply, _) = c.join("two", Value::Array(vec![events_spec(); 2])).await;
    assert_eq!(reply.payload["status"], "ok");
}

#[tokio::test]
async fn rejoining_a_topic_replaces_its_subscriptions() {
    let s = TestServer::start(&["--ws-max-channels", "3"]).await;
    let mut c = s.client(&s.anon, Vsn::V2).await;
    // Far more re-joins of one topic than the channel cap: each replaces the last.
    for i in 0..20 {
        let payload = join_reply(&mut c, "room", json!([events_spec()])).await;
        if i > 0 {
            // The previous instance is closed first (phx_close), then the new join answered.
            assert_eq!(payload, json!({}), "phx_close of the old instance");
            let reply = c.recv().await.payload;
            assert_eq!(reply["status"], "ok", "{reply}");
        } else {
            assert_eq!(payload["status"], "ok", "{payload}");
        }
        let sys = next_of(&mut c, Event::System, 5000).await.unwrap();
        assert_eq!(sys["status"], "ok");
    }
    // One insert: one frame, not one per join that ever happened.
    s.insert("events", event_row("once")).await;
    let m = next_of(&mut c, Event::PostgresChanges, 5000).await.unwrap();
    assert_eq!(m["data"]["record"]["title"], "once");
    assert!(next_of(&mut c, Event::PostgresChanges, 500).await.is_none());
    // The cap counts distinct topics: two more fit, a fourth does not.
    for t in ["b", "c"] {
        // No `postgres_changes`: a reply and no system message.
        assert_eq!(join_reply(&mut c, t, json!([])).await["status"], "ok");
    }
    let reply = join_reply(&mut c, "d", json!([])).await;
    assert_eq!(reply["status"], "error");
    assert!(
        reply["response"]["reason"]
            .as_str()
            .unwrap()
            .contains("Too many channels")
    );
}

#[tokio::test]
async fn a_socket_that_never_reads_is_closed_at_its_byte_bound_and_others_carry_on() {
    // 1 MiB queue. 200 changes of ~100 KB each (~20 MB) are far more than the queue and the
    // kernel's socket buffers hold, yet far fewer frames than the old 1,024-frame bound, which
    // never fired: the non-reading socket would have stayed open and received everything.
    let s = TestServer::start(&["--ws-queue-bytes", "1048576"]).await;
    let mut slow = s.client(&s.service, Vsn::V2).await;
    slow.join("flood", json!([events_spec()])).await;
    let kiosk = s.kiosk("healthy").await;
    let mut healthy = s.client(&kiosk, Vsn::V2).await;
    healthy
        .join(
            "kiosk",
            json!([{"event": "INSERT", "schema": "public", "table": "kiosk_results", "filter": "session_id=eq.healthy"}]),
        )
        .await;
    const BATCHES: usize = 40;
    const PER_BATCH: usize = 5;
    let big = "d".repeat(100 * 1024);
    for b in 0..BATCHES {
        let rows: Vec<Value> = (0..PER_BATCH)
            .map(|i| {
                let mut r = event_row(&format!("flood {b}/{i}"));
                r["description"] = json!(big);
                r
            })
            .collect();
        s.insert("events", Value::Array(rows)).await;
        s.insert(
            "kiosk_results",
            json!({"session_id": "healthy", "results": {"batch": b}}),
        )
        .await;
    }
    // Every change for the healthy client arrives, in order.
    for b in 0..BATCHES {
        let m = next_of(&mut healthy, Event::PostgresChanges, 5000)
            .await
            .expect("healthy client's change");
        assert_eq!(m["data"]["record"]["results"]["batch"], b);
    }
    // The slow client now drains: it finds the stream cut short.
    let mut got = 0;
    while slow.recv_within(2000).await.is_some() {
        got += 1;
    }
    assert!(
        got < BATCHES * PER_BATCH,
        "a socket over its byte bound should have been closed ({got} frames)"
    );
    heartbeat_answered(&mut healthy).await;
}

#[tokio::test]
async fn closing_a_socket_with_many_subscriptions_does_not_starve_others() {
    let s = TestServer::start(&[]).await;
    // The largest subscription set one socket may hold: 100 channels of 100 entries, all
    // under the `eq` key the victim uses too.
    let mut big = s.client(&s.service, Vsn::V2).await;
    let shared =
        json!({"event": "*", "schema": "public", "table": "events", "filter": "hotel_id=eq.h"});
    for i in 0..100 {
        let specs: Vec<Value> = (0..100)
            .map(|j| {
                let mut sp = shared.clone();
                sp["event"] = json!(if j % 2 == 0 { "INSERT" } else { "*" });
                sp
            })
            .collect();
        let (_, reply, _) = big.join(&format!("c{i}"), Value::Array(specs)).await;
        assert_eq!(reply.payload["status"], "ok");
    }
    let mut victim = s.client(&s.anon, Vsn::V2).await;
    victim.join("events", json!([shared])).await;
    // Close the big socket while changes keep flowing; the victim gets every one of them.
    const N: usize = 60;
    let inserts = async {
        for i in 0..N {
            s.insert("events", event_row(&format!("e{i}"))).await;
        }
    };
    let close = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = big.ws.close(None).await;
    };
    tokio::join!(inserts, close);
    for i in 0..N {
        let m = next_of(&mut victim, Event::PostgresChanges, 5000)
            .await
            .expect("victim's change");
        assert_eq!(m["data"]["record"]["title"], format!("e{i}"));
    }
}

#[tokio::test]
async fn an_oversized_frame_is_refused_with_a_close_reason() {
    let s = TestServer::start(&["--ws-max-message-bytes", "65536"]).await;
    let mut c = s.client(&s.anon, Vsn::V2).await;
    let frame = |n: usize| {
        format!(
            r#"[null,"1","phoenix","heartbeat",{{"x":"{}"}}]"#,
            "a".repeat(n)
        )
    };
    // Just under the limit: answered.
    c.send_raw(&frame(60_000)).await;
    assert_eq!(c.recv().await.event, Event::Reply);
    // Over it (but far under the old 1 MiB bound): the socket is closed with code 1009.
    let mut other = s.client(&s.anon, Vsn::V2).await;
    c.send_raw(&frame(100_000)).await;
    let close = loop {
        match tokio::time::timeout(Duration::from_secs(5), c.ws.next()).await {
            Ok(Some(Ok(WsMessage::Close(f)))) => break f,
            Ok(Some(Ok(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    let close = close.expect("a close frame with a reason");
    assert_eq!(u16::from(close.code), 1009);
    assert!(close.reason.contains("65536"), "{}", close.reason);
    // Other sockets are unaffected.
    heartbeat_answered(&mut other).await;
}

#[tokio::test]
async fn expired_tokens_cannot_join_and_channels_close_when_they_expire() {
    let s = TestServer::start(&["--access-token-ttl-secs", "2"]).await;
    let r: Value = reqwest::Client::new()
        .post(s.url("/auth/v1/signup"))
        .header("apikey", &s.anon)
        .json(&json!({"email": "rt@example.test", "password": "long-enough"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = r["access_token"].as_str().expect("access token").to_owned();
    // A socket opened with the user's token as its key, one channel joined while it is valid.
    let mut c = s.client(&token, Vsn::V2).await;
    let (_, reply, _) = c.join("mine", json!([events_spec()])).await;
    assert_eq!(reply.payload["status"], "ok");
    // Without a refresh, the channel is closed with a system message when the token expires.
    let sys = next_of(&mut c, Event::System, 5000).await.expect("system");
    assert_eq!(sys["status"], "error");
    assert_eq!(sys["extension"], "system");
    assert!(
        sys["message"]
            .as_str()
            .unwrap()
            .starts_with("Token has expired")
    );
    assert!(next_of(&mut c, Event::Close, 2000).await.is_some());
    // A new join on that socket (it still carries the expired token) is refused...
    let reply = join_reply(&mut c, "again", json!([events_spec()])).await;
    assert_eq!(reply["status"], "error", "{reply}");
    let reason = reply["response"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("InvalidJWTToken"), "{reason}");
    assert!(reason.contains("expired"), "{reason}");
    // ...and so is a join that presents the expired token itself.
    let mut anon = s.client(&s.anon, Vsn::V2).await;
    let jr = "x";
    anon.push(
        "realtime:with-token",
        "phx_join",
        json!({"config": {"postgres_changes": []}, "access_token": token}),
        Some(jr),
    )
    .await;
    let reply = anon.recv().await.payload;
    assert_eq!(reply["status"], "error", "{reply}");
    assert!(
        reply["response"]["reason"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn channels_close_when_their_sign_in_is_signed_out() {
    let s = TestServer::start(&[]).await;
    let http = reqwest::Client::new();
    let up: Value = http
        .post(s.url("/auth/v1/signup"))
        .header("apikey", &s.anon)
        .json(&json!({"email": "out@example.test", "password": "long-enough"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = up["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let other: Value = http
        .post(s.url("/auth/v1/token?grant_type=password"))
        .header("apikey", &s.anon)
        .json(&json!({"email": "out@example.test", "password": "long-enough"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other = other["access_token"].as_str().expect("token").to_owned();
    // The token as the socket's key, as a join's own access_token, and another sign-in.
    let mut as_key = s.client(&token, Vsn::V2).await;
    let (_, reply, _) = as_key.join("k", json!([events_spec()])).await;
    assert_eq!(reply.payload["status"], "ok");
    let mut as_join = s.client(&s.anon, Vsn::V2).await;
    as_join
        .push(
            "realtime:j",
            "phx_join",
            json!({"config": {"postgres_changes": [events_spec()]}, "access_token": token}),
            Some("1"),
        )
        .await;
    assert_eq!(as_join.recv().await.payload["status"], "ok");
    // Its "subscribed" system message.
    assert_eq!(as_join.recv().await.event, Event::System);
    let mut kept = s.client(&other, Vsn::V2).await;
    let (_, reply, _) = kept.join("o", json!([events_spec()])).await;
    assert_eq!(reply.payload["status"], "ok");
    let out = http
        .post(s.url("/auth/v1/logout?scope=local"))
        .header("apikey", &s.anon)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    for c in [&mut as_key, &mut as_join] {
        let sys = next_of(c, Event::System, 5000).await.expect("system");
        assert_eq!(sys["status"], "error");
        assert_eq!(sys["extension"], "system");
        assert!(
            sys["message"].as_str().unwrap().contains("signed out"),
            "{sys}"
        );
        assert!(next_of(c, Event::Close, 2000).await.is_some());
    }
    // The other sign-in's channel stays open.
    assert!(next_of(&mut kept, Event::Close, 500).await.is_none());
    heartbeat_answered(&mut kept).await;
}
