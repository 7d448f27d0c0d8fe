//! One realtime WebSocket: reads Phoenix frames, answers them, and drains the socket's
//! outgoing queue. A malformed frame is logged and dropped; it never ends the connection.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::{Message as WsMessage, Utf8Bytes, WebSocket};
use concierge_wire::Vsn;
use concierge_wire::phoenix::{Event, Message, PHOENIX_TOPIC};
use concierge_wire::realtime::{JoinPayload, SUBSCRIBED_TO_POSTGRES};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until, timeout};

use crate::authz::Principal;
use crate::jwt::Keys;
use crate::realtime::hub::{Channel, Hub, Outbox, spawn_fanout};
use crate::realtime::subscribe;

/// A channel this socket has joined.
struct Joined {
    id: u64,
    join_ref: Option<String>,
    principal: Principal,
    /// The join's params, re-validated when `access_token` changes the principal.
    specs: Vec<concierge_wire::realtime::PostgresChangeSpec>,
    token: Option<String>,
}

struct Conn {
    hub: Arc<Hub>,
    keys: Arc<Keys>,
    vsn: Vsn,
    /// From the connect-time API key; a join's `access_token` overrides it per channel.
    principal: Principal,
    outbox: Arc<Outbox>,
    channels: HashMap<String, Joined>,
}

/// Most frames written before a flush.
const WRITE_BATCH: usize = 64;
/// How long a closing socket may take to send its close frame.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub async fn run(ws: WebSocket, hub: Arc<Hub>, keys: Arc<Keys>, vsn: Vsn, principal: Principal) {
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(hub.limits.queue_frames);
    let kill = hub.shutdown.child_token();
    let outbox = Arc::new(Outbox::new(tx, kill.clone()));
    let writer_kill = kill.clone();
    let writer = spawn_fanout(async move {
        // Created once: re-arming the cancellation waiter on every frame costs a lock each time.
        let cancelled = writer_kill.cancelled();
        tokio::pin!(cancelled);
        loop {
            let next = tokio::select! {
                biased;
                _ = &mut cancelled => None,
                f = rx.recv() => f,
            };
            let Some(first) = next else { break };
            // A client that stops reading blocks these writes once the TCP buffers are full:
            // cancellation (queue overflow, idle, shutdown) must win over them too.
            let wrote = tokio::select! {
                biased;
                _ = &mut cancelled => false,
                ok = write_burst(&mut sink, &mut rx, first) => ok,
            };
            if !wrote {
                break;
            }
        }
        // Best effort, and bounded: a stuck client cannot hold this task.
        let _ = timeout(CLOSE_GRACE, sink.send(WsMessage::Close(None))).await;
    });
    let mut conn = Conn {
        hub: hub.clone(),
        keys,
        vsn,
        principal,
        outbox,
        channels: HashMap::new(),
    };
    let idle = hub.limits.idle_timeout;
    let killed = kill.cancelled();
    tokio::pin!(killed);
    loop {
        let expiry = conn
            .channels
            .values()
            .filter_map(|j| j.principal.expires_at())
            .min()
            .map(|exp| {
                Instant::now() + std::time::Duration::from_secs((exp - now_secs()).max(0) as u64)
            });
        tokio::select! {
            _ = &mut killed => break,
            _ = sleep_until(expiry.unwrap_or_else(Instant::now)), if expiry.is_some() => conn.expire_tokens(),
            next = timeout(idle, stream.next()) => match next {
                Err(_) => {
                    tracing::info!("realtime socket idle for {idle:?}; closing");
                    break;
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    tracing::debug!("realtime socket error: {e}");
                    break;
                }
                Ok(Some(Ok(msg))) => match msg {
                    WsMessage::Text(t) => conn.handle_text(t.as_str()),
                    WsMessage::Binary(b) => tracing::warn!(bytes = b.len(), "dropping binary realtime frame (broadcast is not supported)"),
                    WsMessage::Ping(_) | WsMessage::Pong(_) => {}
                    WsMessage::Close(_) => break,
                },
            },
        }
    }
    for j in conn.channels.values() {
        hub.leave(j.id);
    }
    kill.cancel();
    if timeout(CLOSE_GRACE * 2, writer).await.is_err() {
        tracing::debug!("realtime writer did not stop in time; detached");
    }
}

/// Writes `first` and whatever else is already queued (up to [`WRITE_BATCH`]), then flushes
/// once: one syscall per burst. `false` when the connection is gone.
async fn write_burst(
    sink: &mut futures_util::stream::SplitSink<WebSocket, WsMessage>,
    rx: &mut mpsc::Receiver<Utf8Bytes>,
    first: Utf8Bytes,
) -> bool {
    if sink.feed(WsMessage::Text(first)).await.is_err() {
        return false;
    }
    for _ in 1..WRITE_BATCH {
        match rx.try_recv() {
            Ok(f) => {
                if sink.feed(WsMessage::Text(f)).await.is_err() {
                    return false;
                }
            }
            Err(_) => break,
        }
    }
    sink.flush().await.is_ok()
}

impl Conn {
    fn send(&self, m: Message) {
        self.outbox.push(Utf8Bytes::from(m.encode_server(self.vsn)));
    }

    fn reply(&self, req: &Message, status: &str, response: Value) {
        self.send(
            Message::new(
                req.topic.clone(),
                Event::Reply,
                json!({"status": status, "response": response}),
            )
            .with_refs(req.join_ref.clone(), req.msg_ref.clone()),
        );
    }

    fn system_frame(
        &self,
        topic: &str,
        join_ref: &Option<String>,
        extension: &str,
        status: &str,
        message: &str,
    ) -> Message {
        let channel = topic.strip_prefix("realtime:").unwrap_or(topic);
        Message::new(
            topic.to_owned(),
            Event::System,
            json!({"extension": extension, "status": status, "message": message, "channel": channel}),
        )
        .with_refs(join_ref.clone(), None)
    }

    fn close_channel(&mut self, topic: &str) {
        if let Some(j) = self.channels.remove(topic) {
            self.hub.leave(j.id);
            self.send(
                Message::new(topic.to_owned(), Event::Close, json!({}))
                    .with_refs(j.join_ref.clone(), j.join_ref),
            );
        }
    }

    fn handle_text(&mut self, text: &str) {
        let msg = match Message::decode(text, self.vsn) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "dropping malformed realtime frame");
                return;
            }
        };
        if msg.topic == PHOENIX_TOPIC {
            match msg.event {
                Event::Heartbeat => self.reply(&msg, "ok", json!({})),
                _ => tracing::debug!(event = %msg.event, "ignoring phoenix-topic event"),
            }
            return;
        }
        match msg.event {
            Event::Join => self.join(msg),
            Event::Leave | Event::AccessToken if !self.channels.contains_key(&msg.topic) => {
                self.unmatched(&msg)
            }
            Event::Leave => {
                if self.stale(&msg) {
                    return;
                }
                self.reply(&msg, "ok", json!({}));
                self.close_channel(&msg.topic.clone());
            }
            Event::AccessToken => {
                if !self.stale(&msg) {
                    self.access_token(&msg);
                }
            }
            _ if !self.channels.contains_key(&msg.topic) => self.unmatched(&msg),
            // Broadcast / presence on a joined channel: not supported here; ignored like an
            // unknown extension.
            _ => {
                tracing::debug!(event = %msg.event, topic = %msg.topic, "ignoring unsupported channel event")
            }
        }
    }

    fn unmatched(&self, msg: &Message) {
        self.reply(msg, "error", json!({"reason": "unmatched topic"}));
    }

    /// A push carrying an old join_ref belongs to a channel instance that no longer exists.
    fn stale(&self, msg: &Message) -> bool {
        match (self.channels.get(&msg.topic), &msg.join_ref) {
            (Some(j), Some(r)) if j.join_ref.as_ref() != Some(r) => {
                tracing::debug!(topic = %msg.topic, "ignoring push with a stale join_ref");
                true
            }
            _ => false,
        }
    }

    fn principal_for(&self, token: Option<&str>) -> Result<Principal, String> {
        match token {
            // `sb_…` keys are API keys, not user tokens: keep the connect-time principal.
            None => Ok(self.principal.clone()),
            Some(t) if t.starts_with("sb_") || t.is_empty() => Ok(self.principal.clone()),
            Some(t) => Principal::from_token(&self.keys, t).map_err(|e| e.to_string()),
        }
    }

    fn join(&mut self, msg: Message) {
        let Some(name) = msg.topic.strip_prefix("realtime:") else {
            return self.unmatched(&msg);
        };
        if name.is_empty() {
            return self.reply(
                &msg,
                "error",
                json!({"reason": "TopicNameRequired: You must provide a topic name"}),
            );
        }
        if self.channels.contains_key(&msg.topic) {
            // Phoenix closes the existing instance on a duplicate join.
            self.close_channel(&msg.topic.clone());
        } else if self.channels.len() >= self.hub.limits.max_channels {
            return self.reply(
                &msg,
                "error",
                json!({"reason": "ChannelRateLimitReached: Too many channels"}),
            );
        }
        let payload: JoinPayload = match serde_json::from_value(msg.payload.clone()) {
            Ok(p) => p,
            Err(e) => {
                return self.reply(
                    &msg,
                    "error",
                    json!({"reason": format!("Error parsing `postgres_changes` params: {e}")}),
                );
            }
        };
        let principal = match self.principal_for(payload.access_token.as_deref()) {
            Ok(p) => p,
            Err(e) => {
                return self.reply(
                    &msg,
                    "error",
                    json!({"reason": format!("InvalidJWTToken: {e}")}),
                );
            }
        };
        let specs = payload.config.postgres_changes;
        self.reply(
            &msg,
            "ok",
            json!({"postgres_changes": subscribe::bind(&specs)}),
        );
        let id = self.hub.next_channel_id();
        let compiled = subscribe::compile(&principal, &specs);
        let (bindings, system) = match compiled {
            Ok(b) => {
                let sys = (!specs.is_empty()).then(|| {
                    self.system_frame(
                        &msg.topic,
                        &msg.join_ref,
                        "postgres_changes",
                        "ok",
                        SUBSCRIBED_TO_POSTGRES,
                    )
                });
                (b, sys)
            }
            Err(why) => {
                tracing::info!(topic = %msg.topic, "realtime subscription refused: {why}");
                (
                    Vec::new(),
                    Some(self.system_frame(
                        &msg.topic,
                        &msg.join_ref,
                        "postgres_changes",
                        "error",
                        &why,
                    )),
                )
            }
        };
        let channel = Channel {
            outbox: self.outbox.clone(),
            vsn: self.vsn,
            topic: Arc::from(msg.topic.as_str()),
            principal: principal.clone(),
            bindings,
        };
        self.hub.join(
            id,
            channel,
            system.map(|m| Utf8Bytes::from(m.encode_server(self.vsn))),
        );
        self.channels.insert(
            msg.topic.clone(),
            Joined {
                id,
                join_ref: msg.join_ref.clone(),
                principal,
                specs,
                token: payload.access_token,
            },
        );
    }

    fn access_token(&mut self, msg: &Message) {
        let Some(token) = msg.payload.get("access_token").and_then(Value::as_str) else {
            tracing::debug!("access_token push without a token");
            return;
        };
        let Some(j) = self.channels.get(&msg.topic) else {
            return;
        };
        if j.token.as_deref() == Some(token) || token.starts_with("sb_") {
            return;
        }
        let (join_ref, specs) = (j.join_ref.clone(), j.specs.clone());
        let topic = msg.topic.clone();
        let principal = match Principal::from_token(&self.keys, token) {
            Ok(p) => p,
            Err(e) => {
                let m = self.system_frame(
                    &topic,
                    &join_ref,
                    "system",
                    "error",
                    &format!("Invalid JWT Token: {e}"),
                );
                self.send(m);
                return self.close_channel(&topic);
            }
        };
        match subscribe::compile(&principal, &specs) {
            Ok(bindings) => {
                // Re-create the subscription with the new claims.
                let Some(j) = self.channels.get_mut(&topic) else {
                    return;
                };
                let old = j.id;
                let id = self.hub.next_channel_id();
                j.id = id;
                j.principal = principal.clone();
                j.token = Some(token.to_owned());
                let ch = Channel {
                    outbox: self.outbox.clone(),
                    vsn: self.vsn,
                    topic: Arc::from(topic.as_str()),
                    principal,
                    bindings,
                };
                self.hub.replace(old, id, ch);
                tracing::info!(topic = %topic, "realtime channel token replaced");
            }
            Err(why) => {
                let m = self.system_frame(
                    &topic,
                    &join_ref,
                    "system",
                    "error",
                    &format!("You no longer have permission to read from this table: {why}"),
                );
                self.send(m);
                self.close_channel(&topic);
            }
        }
    }

    /// Closes channels whose user token has expired, as hosted Realtime does.
    fn expire_tokens(&mut self) {
        let now = now_secs();
        let expired: Vec<(String, i64)> = self
            .channels
            .iter()
            .filter_map(|(t, j)| {
                j.principal
                    .expires_at()
                    .filter(|e| *e <= now)
                    .map(|e| (t.clone(), e))
            })
            .collect();
        for (topic, exp) in expired {
            tracing::info!(topic = %topic, "realtime channel token expired; closing it");
            let join_ref = self.channels.get(&topic).and_then(|j| j.join_ref.clone());
            let m = self.system_frame(
                &topic,
                &join_ref,
                "system",
                "error",
                &format!("Token has expired {} seconds ago", now - exp),
            );
            self.send(m);
            self.close_channel(&topic);
        }
    }
}
