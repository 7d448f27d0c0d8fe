//! Broadcast (issue 16): pushes reach the other members of a topic in both serializers, with
//! `self` and `ack`; vsn 2.0.0's binary user-broadcast pushes; `POST /realtime/v1/api/broadcast`;
//! private channels; and the limits (payload size, messages per second, batch size).

mod common;
mod realtime_rooms;

use common::TestServer;
use concierge_wire::phoenix::Vsn;
use concierge_wire::user_broadcast::{PayloadEncoding, UserBroadcastPush};
use futures_util::SinkExt;
use realtime_rooms::{assert_no_event, broadcast, config, join, recv_event, user_token};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;

const CUSTOMER: &str = "11111111-1111-4111-8111-111111111111";
const STAFF: &str = "22222222-2222-4222-8222-222222222222";
const OTHER: &str = "33333333-3333-4333-8333-333333333333";

#[tokio::test]
async fn a_broadcast_reaches_the_others_in_both_serializers_but_not_the_sender() {
    let s = TestServer::start(&[]).await;
    let mut a = s.client(&s.anon, Vsn::V2).await;
    let mut b = s.client(&s.anon, Vsn::V1).await;
    let mut other_room = s.client(&s.anon, Vsn::V2).await;
    let (ja, reply) = join(
        &mut a,
        "room1",
        config(false, false, "", false, false),
        None,
    )
    .await;
    assert_eq!(reply.payload["status"], "ok", "{reply:?}");
    assert_eq!(reply.payload["response"], json!({"postgres_changes": []}));
    join(
        &mut b,
        "room1",
        config(false, false, "", false, false),
        None,
    )
    .await;
    join(
        &mut other_room,
        "room2",
        config(false, false, "", false, false),
        None,
    )
    .await;

    let sent = broadcast("typing", json!({"who": "Anna"}));
    a.push("realtime:room1", "broadcast", sent.clone(), Some(&ja))
        .await;
    let got = recv_event(&mut b, "broadcast").await;
    assert_eq!(got.topic, "realtime:room1");
    assert_eq!(got.payload, sent);
    assert_eq!((got.join_ref, got.msg_ref), (None, None), "refs are null");
    assert_no_event(&mut a, "broadcast", 300).await;
    assert_no_event(&mut a, "phx_reply", 0).await;
    assert_no_event(&mut other_room, "broadcast", 100).await;
}

#[tokio::test]
async fn self_and_ack_are_honoured() {
    let s = TestServer::start(&[]).await;
    let mut a = s.client(&s.anon, Vsn::V2).await;
    let (ja, _) = join(&mut a, "echo", config(true, true, "", false, false), None).await;
    let r = a
        .push(
            "realtime:echo",
            "broadcast",
            broadcast("e", json!({"n": 1})),
            Some(&ja),
        )
        .await;
    let reply = recv_event(&mut a, "phx_reply").await;
    assert_eq!(reply.msg_ref.as_deref(), Some(r.as_str()));
    assert_eq!(reply.join_ref.as_deref(), Some(ja.as_str()));
    assert_eq!(reply.payload, json!({"status": "ok", "response": {}}));
    let own = recv_event(&mut a, "broadcast").await;
    assert_eq!(own.payload["payload"], json!({"n": 1}));
}

#[tokio::test]
async fn binary_user_broadcast_pushes_are_relayed_as_json_broadcasts() {
    let s = TestServer::start(&[]).await;
    let mut a = s.client(&s.anon, Vsn::V2).await;
    let mut b = s.client(&s.anon, Vsn::V1).await;
    let mut c = s.client(&s.anon, Vsn::V2).await;
    let (ja, _) = join(&mut a, "bin", config(false, true, "", false, false), None).await;
    join(&mut b, "bin", config(false, false, "", false, false), None).await;
    join(&mut c, "bin", config(false, false, "", false, false), None).await;
    let push = UserBroadcastPush {
        join_ref: Some(ja.clone()),
        msg_ref: Some("77".into()),
        topic: "realtime:bin".into(),
        event: "cursor".into(),
        metadata: None,
        encoding: PayloadEncoding::Json,
        payload: br#"{"x":1,"y":2}"#.to_vec(),
    };
    a.ws.send(WsMessage::Binary(push.encode().unwrap().into()))
        .await
        .unwrap();
    let ack = recv_event(&mut a, "phx_reply").await;
    assert_eq!(ack.msg_ref.as_deref(), Some("77"));
    assert_eq!(ack.payload["status"], "ok");
    let want = broadcast("cursor", json!({"x": 1, "y": 2}));
    assert_eq!(recv_event(&mut b, "broadcast").await.payload, want);
    assert_eq!(recv_event(&mut c, "broadcast").await.payload, want);

    // Raw bytes cannot travel on this server's text queues: refused, saying so.
    let raw = UserBroadcastPush {
        encoding: PayloadEncoding::Binary,
        msg_ref: Some("78".into()),
        payload: vec![0, 1, 2],
        ..push
    };
    a.ws.send(WsMessage::Binary(raw.encode().unwrap().into()))
        .await
        .unwrap();
    let no = recv_event(&mut a, "phx_reply").await;
    assert_eq!(no.payload["status"], "error");
    assert_no_event(&mut b, "broadcast", 200).await;
}

async fn rest_broadcast(
    s: &TestServer,
    key: Option<&str>,
    bearer: Option<&str>,
    body: Value,
) -> (u16, String) {
    let mut r = reqwest::Client::new()
        .post(s.url("/realtime/v1/api/broadcast"))
        .json(&body);
    if let Some(k) = key {
        r = r.header("apikey", k);
    }
    if let Some(b) = bearer {
        r = r.bearer_auth(b);
    }
    let r = r.send().await.expect("request");
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn the_rest_endpoint_broadcasts_to_subscribers() {
    let s = TestServer::start(&["--broadcast-api-max-messages", "2"]).await;
    let mut a = s.client(&s.anon, Vsn::V1).await;
    join(&mut a, "news", config(false, false, "", false, false), None).await;
    let body = json!({"messages": [{"topic": "news", "event": "flash", "payload": {"t": "hi"}}]});
    let (st, text) = rest_broadcast(&s, Some(&s.anon), None, body.clone()).await;
    assert_eq!((st, text.as_str()), (202, ""));
    let got = recv_event(&mut a, "broadcast").await;
    assert_eq!(got.payload, broadcast("flash", json!({"t": "hi"})));

    let (st, text) = rest_broadcast(&s, None, None, body).await;
    assert_eq!(st, 401, "{text}");
    let three = json!({"messages": [
        {"topic": "news", "event": "a", "payload": {}},
        {"topic": "news", "event": "b", "payload": {}},
        {"topic": "news", "event": "c", "payload": {}}]});
    let (st, text) = rest_broadcast(&s, Some(&s.anon), None, three).await;
    assert_eq!(st, 429, "{text}");
    assert!(text.contains("reduce the batch size"), "{text}");
    let (st, _) = rest_broadcast(&s, Some(&s.anon), None, json!({"nope": 1})).await;
    assert_eq!(st, 422);
    assert_no_event(&mut a, "broadcast", 200).await;
}

async fn session(s: &TestServer, staff: Option<&str>) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    s.insert(
        "sessions",
        json!({"id": id, "customer_id": CUSTOMER, "staff_id": staff, "status": "live", "kind": "chat"}),
    )
    .await;
    id
}

#[tokio::test]
async fn private_session_channels_admit_only_its_customer_staff_and_the_service_role() {
    let s = TestServer::start(&[]).await;
    let id = session(&s, Some(STAFF)).await;
    let name = format!("session:{id}");
    let private = config(false, false, "", false, true);
    let mut customer = s.client(&s.anon, Vsn::V2).await;
    let (_, r) = join(
        &mut customer,
        &name,
        private.clone(),
        Some(&user_token(CUSTOMER, "customer")),
    )
    .await;
    assert_eq!(r.payload["status"], "ok", "{r:?}");
    let mut staff = s.client(&s.anon, Vsn::V1).await;
    let (js, r) = join(
        &mut staff,
        &name,
        private.clone(),
        Some(&user_token(STAFF, "staff")),
    )
    .await;
    assert_eq!(r.payload["status"], "ok", "{r:?}");
    let mut svc = s.client(&s.service, Vsn::V2).await;
    let (_, r) = join(&mut svc, &name, private.clone(), None).await;
    assert_eq!(r.payload["status"], "ok", "{r:?}");

    let want = json!({"status": "error", "response": {"reason": format!(
        "Unauthorized: You do not have permissions to read from this Channel topic: {name}")}});
    let mut other = s.client(&s.anon, Vsn::V2).await;
    let (_, r) = join(
        &mut other,
        &name,
        private.clone(),
        Some(&user_token(OTHER, "staff")),
    )
    .await;
    assert_eq!(r.payload, want);
    let (_, r) = join(&mut other, &name, private.clone(), None).await;
    assert_eq!(r.payload, want, "the bare anon key");
    let (_, r) = join(&mut other, "lobby", private, None).await;
    assert_eq!(
        r.payload["status"], "error",
        "no policy for other private topics"
    );

    // The public channel of the same name is another room: it hears nothing private.
    let (_, r) = join(
        &mut other,
        &name,
        config(false, false, "", false, false),
        None,
    )
    .await;
    assert_eq!(r.payload["status"], "ok");
    staff
        .push(
            &format!("realtime:{name}"),
            "broadcast",
            broadcast("typing", json!({})),
            Some(&js),
        )
        .await;
    assert_eq!(
        recv_event(&mut customer, "broadcast").await.payload["event"],
        "typing"
    );
    assert_eq!(
        recv_event(&mut svc, "broadcast").await.payload["event"],
        "typing"
    );
    assert_no_event(&mut other, "broadcast", 300).await;

    // REST: a private message reaches the room only from someone allowed to send there.
    let msg = |e: &str| json!({"messages": [{"topic": name, "event": e, "payload": {}, "private": true}]});
    let (st, _) = rest_broadcast(
        &s,
        Some(&s.anon),
        Some(&user_token(OTHER, "staff")),
        msg("sneaky"),
    )
    .await;
    assert_eq!(st, 202, "dropped, not refused, as on Supabase");
    let (st, _) = rest_broadcast(
        &s,
        Some(&s.anon),
        Some(&user_token(STAFF, "staff")),
        msg("hello"),
    )
    .await;
    assert_eq!(st, 202);
    assert_eq!(
        recv_event(&mut customer, "broadcast").await.payload["event"],
        "hello"
    );
}

#[tokio::test]
async fn oversized_payloads_and_floods_are_refused() {
    let s = TestServer::start(&[
        "--ws-max-broadcast-bytes",
        "64",
        "--ws-messages-per-sec",
        "3",
    ])
    .await;
    let mut a = s.client(&s.anon, Vsn::V2).await;
    let mut b = s.client(&s.anon, Vsn::V2).await;
    let (ja, _) = join(&mut a, "lim", config(false, false, "", false, false), None).await;
    join(&mut b, "lim", config(false, false, "", false, false), None).await;
    let big = broadcast("e", json!({"text": "x".repeat(100)}));
    a.push("realtime:lim", "broadcast", big, Some(&ja)).await;
    let r = recv_event(&mut a, "phx_reply").await;
    assert_eq!(r.payload["status"], "error");
    let reason = r.payload["response"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("PayloadTooLarge:") && reason.contains("64"),
        "{reason}"
    );
    assert_no_event(&mut b, "broadcast", 200).await;

    // The big one counted: two more fit in this second, the next closes the channel.
    for _ in 0..3 {
        a.push(
            "realtime:lim",
            "broadcast",
            broadcast("e", json!({})),
            Some(&ja),
        )
        .await;
    }
    let sys = recv_event(&mut a, "system").await;
    assert_eq!(sys.payload["status"], "error");
    assert_eq!(sys.payload["message"], "Too many messages per second");
    let close = recv_event(&mut a, "phx_close").await;
    assert_eq!(close.topic, "realtime:lim");
}
