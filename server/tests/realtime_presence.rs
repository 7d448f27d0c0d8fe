//! Presence (issue 16): `presence_state` on join, `presence_diff` on track / update / untrack,
//! keyed by `config.presence.key` (or a generated key) with `phx_ref`s, cleaned up when a
//! channel leaves or its socket goes away; and the limits on entries and meta size.

mod common;
mod realtime_rooms;

use common::TestServer;
use concierge_wire::phoenix::Vsn;
use realtime_rooms::{assert_no_event, config, join, recv_event};
use serde_json::{Value, json};

fn track(meta: Value) -> Value {
    json!({"type": "presence", "event": "track", "payload": meta})
}

#[tokio::test]
async fn state_on_join_then_diffs_for_track_update_and_untrack() {
    let s = TestServer::start(&[]).await;
    let mut anna = s.client(&s.anon, Vsn::V2).await;
    let mut ben = s.client(&s.anon, Vsn::V1).await;
    let (ja, _) = join(
        &mut anna,
        "lobby",
        config(false, false, "anna", true, false),
        None,
    )
    .await;
    let state = recv_event(&mut anna, "presence_state").await;
    assert_eq!(state.payload, json!({}));
    assert_eq!(
        state.join_ref.as_deref(),
        Some(ja.as_str()),
        "a push to this channel"
    );

    let r = anna
        .push(
            "realtime:lobby",
            "presence",
            track(json!({"name": "Anna"})),
            Some(&ja),
        )
        .await;
    let reply = recv_event(&mut anna, "phx_reply").await;
    assert_eq!(reply.msg_ref.as_deref(), Some(r.as_str()));
    assert_eq!(reply.payload, json!({"status": "ok", "response": {}}));
    let own = recv_event(&mut anna, "presence_diff").await;
    let first_ref = own.payload["joins"]["anna"]["metas"][0]["phx_ref"].clone();
    assert!(first_ref.is_string(), "{own:?}");
    assert_eq!(own.payload["joins"]["anna"]["metas"][0]["name"], "Anna");
    assert_eq!(own.payload["leaves"], json!({}));

    // A later joiner sees Anna in its presence_state.
    let (jb, _) = join(
        &mut ben,
        "lobby",
        config(false, false, "ben", true, false),
        None,
    )
    .await;
    let state = recv_event(&mut ben, "presence_state").await;
    assert_eq!(
        state.payload,
        json!({"anna": {"metas": [{"name": "Anna", "phx_ref": first_ref}]}})
    );

    // An update: a leave of the old meta and a join of the new one naming it.
    anna.push(
        "realtime:lobby",
        "presence",
        track(json!({"name": "Anna", "typing": true})),
        Some(&ja),
    )
    .await;
    let d = recv_event(&mut ben, "presence_diff").await;
    assert_eq!(
        d.payload["leaves"]["anna"]["metas"][0]["phx_ref"],
        first_ref
    );
    assert_eq!(
        d.payload["joins"]["anna"]["metas"][0]["phx_ref_prev"],
        first_ref
    );
    assert_eq!(d.payload["joins"]["anna"]["metas"][0]["typing"], true);
    // The same payload again changes nothing.
    anna.push(
        "realtime:lobby",
        "presence",
        track(json!({"name": "Anna", "typing": true})),
        Some(&ja),
    )
    .await;
    assert_no_event(&mut ben, "presence_diff", 300).await;

    anna.push(
        "realtime:lobby",
        "presence",
        json!({"type": "presence", "event": "untrack"}),
        Some(&ja),
    )
    .await;
    let d = recv_event(&mut ben, "presence_diff").await;
    assert_eq!(d.payload["joins"], json!({}));
    assert_eq!(d.payload["leaves"]["anna"]["metas"][0]["typing"], true);
    let _ = jb;
}

#[tokio::test]
async fn a_closed_socket_or_a_left_channel_leaves() {
    let s = TestServer::start(&[]).await;
    let mut watcher = s.client(&s.anon, Vsn::V2).await;
    join(
        &mut watcher,
        "room",
        config(false, false, "w", true, false),
        None,
    )
    .await;
    recv_event(&mut watcher, "presence_state").await;

    for how in ["close", "leave"] {
        let mut c = s.client(&s.anon, Vsn::V2).await;
        let (jc, _) = join(
            &mut c,
            "room",
            config(false, false, how, false, false),
            None,
        )
        .await;
        c.push(
            "realtime:room",
            "presence",
            track(json!({"how": how})),
            Some(&jc),
        )
        .await;
        // Not listening to presence before: the track brings the whole state instead of a diff.
        let st = recv_event(&mut c, "presence_state").await;
        assert_eq!(st.payload[how]["metas"][0]["how"], how);
        let d = recv_event(&mut watcher, "presence_diff").await;
        assert!(d.payload["joins"].get(how).is_some(), "{d:?}");
        if how == "close" {
            c.ws.close(None).await.unwrap();
        } else {
            c.push("realtime:room", "phx_leave", json!({}), Some(&jc))
                .await;
        }
        let d = recv_event(&mut watcher, "presence_diff").await;
        assert_eq!(d.payload["leaves"][how]["metas"][0]["how"], how, "{d:?}");
    }
}

#[tokio::test]
async fn a_generated_key_when_none_is_given() {
    let s = TestServer::start(&[]).await;
    let mut c = s.client(&s.anon, Vsn::V1).await;
    let (jc, _) = join(
        &mut c,
        "anon-room",
        config(false, false, "", true, false),
        None,
    )
    .await;
    recv_event(&mut c, "presence_state").await;
    c.push(
        "realtime:anon-room",
        "presence",
        track(json!({})),
        Some(&jc),
    )
    .await;
    let d = recv_event(&mut c, "presence_diff").await;
    let keys: Vec<&String> = d.payload["joins"].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 1);
    assert!(uuid::Uuid::parse_str(keys[0]).is_ok(), "{keys:?}");
}

#[tokio::test]
async fn presence_limits_refuse_with_a_reason() {
    let s = TestServer::start(&[
        "--ws-max-presence-per-channel",
        "1",
        "--ws-max-presence-per-socket",
        "1",
        "--ws-max-presence-bytes",
        "32",
    ])
    .await;
    let mut a = s.client(&s.anon, Vsn::V2).await;
    let mut b = s.client(&s.anon, Vsn::V2).await;
    let (ja, _) = join(&mut a, "p1", config(false, false, "a", false, false), None).await;
    let (ja2, _) = join(&mut a, "p2", config(false, false, "a", false, false), None).await;
    let (jb, _) = join(&mut b, "p1", config(false, false, "b", false, false), None).await;

    a.push(
        "realtime:p1",
        "presence",
        track(json!({"x": "y".repeat(40)})),
        Some(&ja),
    )
    .await;
    let r = recv_event(&mut a, "phx_reply").await;
    assert_eq!(r.payload["status"], "error");
    assert!(
        r.payload["response"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("Track message size exceeded")
    );

    a.push("realtime:p1", "presence", track(json!({"n": 1})), Some(&ja))
        .await;
    assert_eq!(
        recv_event(&mut a, "phx_reply").await.payload["status"],
        "ok"
    );
    // Updating its own entry is not a new one.
    a.push("realtime:p1", "presence", track(json!({"n": 2})), Some(&ja))
        .await;
    assert_eq!(
        recv_event(&mut a, "phx_reply").await.payload["status"],
        "ok"
    );

    b.push("realtime:p1", "presence", track(json!({})), Some(&jb))
        .await;
    let r = recv_event(&mut b, "phx_reply").await;
    assert_eq!(
        r.payload["response"]["reason"],
        "PresenceLimitReached: this channel already holds 1 presences"
    );
    a.push("realtime:p2", "presence", track(json!({})), Some(&ja2))
        .await;
    let r = recv_event(&mut a, "phx_reply").await;
    assert_eq!(
        r.payload["response"]["reason"],
        "PresenceLimitReached: this socket is already tracked in 1 channels"
    );
    a.push(
        "realtime:p1",
        "presence",
        json!({"type": "presence", "event": "track", "payload": [1]}),
        Some(&ja),
    )
    .await;
    let r = recv_event(&mut a, "phx_reply").await;
    assert_eq!(
        r.payload["response"]["reason"],
        "Presence track payload must be a map"
    );
}
