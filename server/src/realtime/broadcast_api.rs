//! `POST /realtime/v1/api/broadcast`: Broadcast from a server or a client without a socket.
//!
//! Body `{"messages": [{"topic": "room", "event": "e", "payload": {...}, "private": false}]}`
//! (topics without `realtime:`), `apikey` plus an optional `Authorization: Bearer` saying who
//! is asking. Answers 202 with an empty body, as Supabase does. A private message the caller
//! may not send is dropped without a word, again as on Supabase; authorization is the same
//! rule as joining ([`crate::authz::channels`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::authz::Principal;
use crate::authz::channels::{may_join, session_of};
use crate::credentials::Credentials;
use crate::rooms::RoomKey;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct Batch {
    messages: Vec<ApiMessage>,
}

#[derive(Debug, Deserialize)]
struct ApiMessage {
    topic: String,
    event: String,
    #[serde(default)]
    payload: Value,
    #[serde(default)]
    private: bool,
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"message": message.into()}))).into_response()
}

async fn allowed(state: &AppState, who: &Principal, m: &ApiMessage) -> bool {
    if !m.private {
        return true;
    }
    let parties = match (who, session_of(&m.topic)) {
        (Principal::User(_), Some(id)) => state.db.session_parties(&id).await.ok().flatten(),
        _ => None,
    };
    may_join(who, &m.topic, parties.as_ref()).is_ok()
}

pub async fn broadcast(
    State(state): State<AppState>,
    creds: Credentials,
    body: Result<Json<Batch>, JsonRejection>,
) -> Response {
    let who = match creds.principal(&state.keys) {
        Ok(p) => p,
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, e.to_string()),
    };
    let Json(batch) = match body {
        Ok(b) => b,
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, e.body_text()),
    };
    let rooms: &Arc<crate::rooms::Rooms> = &state.rooms;
    let limits = &rooms.limits;
    if batch.messages.len() > limits.max_api_messages {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many messages to broadcast, please reduce the batch size (at most {})",
                limits.max_api_messages
            ),
        );
    }
    for m in &batch.messages {
        if m.topic.is_empty() || m.event.is_empty() {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "every message needs a topic and an event",
            );
        }
        let bytes = m.payload.to_string().len();
        if bytes > limits.max_broadcast_bytes {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "payload is {bytes} bytes; the limit is {}",
                    limits.max_broadcast_bytes
                ),
            );
        }
    }
    for m in batch.messages {
        if !allowed(&state, &who, &m).await {
            tracing::info!(topic = %m.topic, "REST broadcast to a private channel dropped: not authorized");
            continue;
        }
        let key = RoomKey {
            topic: Arc::from(format!("realtime:{}", m.topic)),
            private: m.private,
        };
        let payload = json!({"type": "broadcast", "event": m.event, "payload": m.payload});
        rooms.broadcast(&key, None, &payload);
    }
    StatusCode::ACCEPTED.into_response()
}
