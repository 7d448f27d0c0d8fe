//! `GET /api/concierge/queue`: how many messages wait for the concierge, for operators and the
//! load benchmark (issue 16 asks `bench` for the queue depth under load). The `reply_queue`
//! table is deliberately not a REST table (see migration 6), so its depth is this one figure,
//! for the service role only: it tells how busy the hotel's conversations are.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::json;

use crate::app::json_error;
use crate::authz::Principal;
use crate::credentials::Credentials;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/concierge/queue", get(depth))
}

/// `{"depth": n}` to the service role; 401 without valid credentials, 403 to anyone else.
async fn depth(State(state): State<AppState>, creds: Credentials) -> Response {
    match creds.principal(&state.keys) {
        Ok(Principal::ServiceRole) => {}
        Ok(_) => {
            return json_error(
                StatusCode::FORBIDDEN,
                "42501",
                "the reply queue's depth is for the service role",
            );
        }
        Err(e) => return json_error(StatusCode::UNAUTHORIZED, "PGRST301", &e.to_string()),
    }
    match state.db.reply_queue_depth().await {
        Ok(n) => Json(json!({ "depth": n })).into_response(),
        Err(e) => {
            tracing::warn!("reading the reply queue's depth failed: {e}");
            json_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "PGRST000",
                "the reply queue could not be read",
            )
        }
    }
}
