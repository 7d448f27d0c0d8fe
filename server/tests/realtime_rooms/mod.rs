//! Helpers shared by the Broadcast and Presence tests: joins with a full `config`, and
//! waiting for one frame among others.
#![allow(dead_code)]

use concierge_server::jwt::Keys;
use concierge_wire::phoenix::{Event, Message};
use serde_json::{Value, json};

use crate::common::{Client, SECRET};

/// Joins `realtime:<name>` with `config` (and `access_token` when given); returns the join
/// ref and the reply.
pub async fn join(
    c: &mut Client,
    name: &str,
    config: Value,
    token: Option<&str>,
) -> (String, Message) {
    let topic = format!("realtime:{name}");
    let join_ref = format!("j-{name}-{}", uuid::Uuid::new_v4().simple());
    let mut payload = json!({ "config": config });
    if let Some(t) = token {
        payload["access_token"] = json!(t);
    }
    let m = Message::new(topic, Event::Join, payload)
        .with_refs(Some(join_ref.clone()), Some(join_ref.clone()));
    c.send_raw(&m.encode(c.vsn)).await;
    let reply = recv_event(c, "phx_reply").await;
    (join_ref, reply)
}

/// supabase-js's config for a Broadcast / Presence channel.
pub fn config(self_: bool, ack: bool, presence_key: &str, presence: bool, private: bool) -> Value {
    json!({
        "broadcast": {"self": self_, "ack": ack},
        "presence": {"key": presence_key, "enabled": presence},
        "postgres_changes": [],
        "private": private,
    })
}

/// The next frame whose event is `event` (others are skipped), or a panic after 5 s.
pub async fn recv_event(c: &mut Client, event: &str) -> Message {
    loop {
        let m = c.recv().await;
        if m.event.as_str() == event {
            return m;
        }
    }
}

/// Asserts no frame with `event` arrives within `ms`.
pub async fn assert_no_event(c: &mut Client, event: &str, ms: u64) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(ms);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match c.recv_within(left.as_millis() as u64).await {
            None => return,
            Some(m) if m.event.as_str() == event => panic!("unexpected {event}: {m:?}"),
            Some(_) => {}
        }
    }
}

/// A signed-in user's token (`app_metadata.role` = `role`).
pub fn user_token(id: &str, role: &str) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    Keys::new(SECRET).sign_as(&json!({
        "role": "authenticated",
        "sub": id,
        "exp": exp,
        "app_metadata": {"role": role},
        "user_metadata": {"name": role},
    }))
}

/// A broadcast push's payload, as supabase-js builds it.
pub fn broadcast(event: &str, payload: Value) -> Value {
    json!({"type": "broadcast", "event": event, "payload": payload})
}
