//! `GET /api/concierge/queue[?older_than_ms=N]`: how many messages wait for the concierge, for
//! operators and the load benchmark (issue 16 asks `bench` for the queue depth under load). The
//! `reply_queue` table is deliberately not a REST table (see migration 6), so its depth is this
//! figure, for the service role only: it tells how busy the hotel's conversations are. With
//! `older_than_ms` (the reply delay, say) it also counts the messages stored that long ago or
//! more, `older`: those past the wait for staff that no worker has answered yet, the backlog.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::authz::Principal;
use crate::credentials::Credentials;
use crate::rest_error::RestError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/concierge/queue", get(depth))
}

#[derive(Debug, Deserialize)]
struct Params {
    older_than_ms: Option<u64>,
}

/// `{"depth": n}` (and `"older": m` when asked) to the service role; 401 without valid
/// credentials, 403 to anyone else.
async fn depth(
    State(state): State<AppState>,
    creds: Credentials,
    Query(params): Query<Params>,
) -> Response {
    match creds.principal(&state.keys) {
        Ok(Principal::ServiceRole) => {}
        Ok(_) => {
            return RestError::new(
                StatusCode::FORBIDDEN,
                "42501",
                "the reply queue's depth is for the service role",
            )
            .into_response();
        }
        Err(e) => {
            return RestError::new(StatusCode::UNAUTHORIZED, "PGRST301", e.to_string())
                .into_response();
        }
    }
    let depths = async {
        let depth = state.db.reply_queue_depth().await?;
        let older = match params.older_than_ms {
            Some(ms) => {
                let age = i64::try_from(ms).unwrap_or(i64::MAX);
                let cutoff = crate::time_fmt::now_ms().saturating_sub(age);
                Some(state.db.reply_queue_due(cutoff).await?)
            }
            None => None,
        };
        Ok::<_, crate::db::DbError>((depth, older))
    };
    match depths.await {
        Ok((depth, None)) => Json(json!({ "depth": depth })).into_response(),
        Ok((depth, Some(older))) => Json(json!({ "depth": depth, "older": older })).into_response(),
        Err(e) => {
            tracing::warn!("reading the reply queue's depth failed: {e}");
            RestError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "PGRST000",
                "the reply queue could not be read",
            )
            .into_response()
        }
    }
}
