//! Supabase Realtime (Phoenix channels, `postgres_changes`) at `/realtime/v1/websocket` and
//! `/socket/websocket`.

mod broadcast_api;
mod limits;
mod room_limits;
pub mod socket;
pub mod subscribe;

use std::collections::HashMap;

use axum::Router;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use concierge_wire::Vsn;
use serde_json::json;

use crate::credentials::{CredentialError, Credentials};
use crate::state::AppState;

pub use crate::hub::{Hub, Limits};
pub use limits::RealtimeLimitArgs;
pub use room_limits::RoomLimitArgs;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/realtime/v1/websocket", get(upgrade))
        .route("/socket/websocket", get(upgrade))
        .route("/realtime/v1/api/broadcast", post(broadcast_api::broadcast))
}

fn refuse(status: StatusCode, msg: &str) -> Response {
    (status, Json(json!({"error": msg}))).into_response()
}

async fn upgrade(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
    creds: Credentials,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // A header key wins over the query parameter, as on hosted Realtime.
    let principal = match creds.api_key_principal(&state.keys) {
        Ok(p) => p,
        Err(CredentialError::InvalidApiKey(e)) => {
            return refuse(StatusCode::UNAUTHORIZED, &format!("Invalid API key: {e}"));
        }
        Err(_) => return refuse(StatusCode::UNAUTHORIZED, "API key is missing"),
    };
    let vsn = match Vsn::from_query(query.get("vsn").map(String::as_str)) {
        Ok(v) => v,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    let services = socket::Services {
        hub: state.realtime.clone(),
        rooms: state.rooms.clone(),
        keys: state.keys.clone(),
        db: state.db.clone(),
    };
    let max = services.hub.limits.max_message_bytes;
    // Small buffers: thousands of mostly idle kiosk sockets must stay cheap; they grow on demand.
    // The write buffer never shrinks after a burst (tungstenite keeps its capacity), so its
    // threshold is what a stalled client leaves behind for good: at 16 KiB a 4 s stall of 4,000
    // sockets left +66 MiB of RSS, at 4 KiB +3.4 MiB (BENCHMARKS.md, "Soak"); now none at all
    // (see `WRITE_BUFFER_BYTES`).
    ws.max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(socket::WRITE_BUFFER_BYTES)
        .on_upgrade(move |socket| socket::run(socket, services, vsn, principal))
}
