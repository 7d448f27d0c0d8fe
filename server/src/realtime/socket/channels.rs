//! A socket's channels: join (with its `postgres_changes` bindings), a new `access_token`,
//! and closing channels whose user token has expired.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use concierge_wire::phoenix::Message;
use concierge_wire::realtime::{JoinPayload, SUBSCRIBED_TO_POSTGRES};
use serde_json::{Value, json};

use super::conn::{Conn, Joined, Seat};
use super::now_secs;
use crate::authz::Principal;
use crate::hub::Channel;
use crate::realtime::subscribe;
use crate::rooms::options::ChannelOptions;
use crate::rooms::{Member, RoomKey};

impl Conn {
    /// Who a join acts as: its own `access_token`, else the connect-time key. A connect-time
    /// user token may have expired since the socket opened; such a join is refused like one
    /// carrying an expired token (hosted: "Token has expired N seconds ago").
    fn principal_for(&self, token: Option<&str>) -> Result<Principal, String> {
        let p = match token {
            // `sb_…` keys are API keys, not user tokens: keep the connect-time principal.
            None => self.principal.clone(),
            Some(t) if t.starts_with("sb_") || t.is_empty() => self.principal.clone(),
            Some(t) => Principal::from_token(&self.keys, t).map_err(|e| e.to_string())?,
        };
        let now = now_secs();
        match p.expires_at() {
            Some(exp) if exp <= now => Err(format!("Token has expired {} seconds ago", now - exp)),
            _ => Ok(p),
        }
    }

    pub(super) async fn join(&mut self, msg: Message) {
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
        let max = self.hub.limits.max_changes_per_join;
        if payload.config.postgres_changes.len() > max {
            return self.reply(
                &msg,
                "error",
                json!({"reason": format!(
                    "PostgresChangesLimitReached: {} postgres_changes entries in one join; at most {max} are allowed",
                    payload.config.postgres_changes.len()
                )}),
            );
        }
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
        let options = ChannelOptions::from_config(&payload.config.other);
        if options.private
            && let Err(reason) = self.authorize_private(&principal, name).await
        {
            tracing::info!(topic = %msg.topic, "private channel join refused");
            return self.reply(&msg, "error", json!({ "reason": reason }));
        }
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
        let key = RoomKey {
            topic: Arc::from(msg.topic.as_str()),
            private: options.private,
        };
        let member = self.rooms.enter(
            &key,
            Member {
                outbox: self.outbox.clone(),
                vsn: self.vsn,
                join_ref: msg.join_ref.clone(),
                self_broadcast: options.self_broadcast,
                presence: options.presence,
            },
        );
        self.channels.insert(
            msg.topic.clone(),
            Joined {
                id,
                join_ref: msg.join_ref.clone(),
                principal,
                specs,
                token: payload.access_token,
                seat: Seat {
                    key,
                    member,
                    presence_key: options.presence_key,
                    ack: options.ack,
                    tracked: false,
                },
            },
        );
    }

    pub(super) fn access_token(&mut self, msg: &Message) {
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
    pub(super) fn expire_tokens(&mut self) {
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
