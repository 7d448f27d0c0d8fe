//! `POST /rest/v1/rpc/<function>`: PostgREST's function calls, as supabase-js `.rpc()` sends
//! them (a JSON object of named arguments). The answer is the function's return value as JSON
//! with 200; a refusal is PostgREST's error body with the function's SQLSTATE.

mod args;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;

use super::Body;
use crate::authz::Function;
use crate::credentials::Credentials;
use crate::rest_error::RestError;
use crate::state::AppState;

/// Function calls carry a few short arguments.
const MAX_CALL_BODY_BYTES: usize = 16 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rest/v1/rpc/{function}", post(call))
        .layer(DefaultBodyLimit::max(MAX_CALL_BODY_BYTES))
}

async fn call(
    State(state): State<AppState>,
    Path(name): Path<String>,
    connect: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    creds: Credentials,
    Body(body): Body,
) -> Result<Response, Response> {
    let principal = creds
        .principal(&state.keys)
        .map_err(|e| RestError::from(e).into_response())?;
    let Some(f) = Function::parse(&name) else {
        return Err(args::not_found(&name, &[], None).into_response());
    };
    let m = args::object(f, &body).map_err(IntoResponse::into_response)?;
    let db_err = |e| RestError::from_db(e, &principal).into_response();
    let out = match f {
        Function::Reserve => {
            // Without a peer address (in-process tests) every caller shares the unspecified one.
            let ip = connect.map_or(std::net::IpAddr::from([0, 0, 0, 0]), |c| c.0.0.ip());
            state
                .reserve_limits
                .check(principal.user_id(), ip)
                .map_err(IntoResponse::into_response)?;
            let booking = args::booking(&m).map_err(IntoResponse::into_response)?;
            state.writer.reserve(&principal, booking).await
        }
        Function::CancelReservation => {
            let id = args::uuid(&m, "reservation_id").map_err(IntoResponse::into_response)?;
            state.writer.cancel_reservation(&principal, id).await
        }
    };
    out.map(|v| (StatusCode::OK, Json(v)).into_response())
        .map_err(db_err)
}
