//! The kiosk search: `POST /api/event/by-interests?session_id=<uuid>` with
//! `{"interests": "<free text>", "hotel_id": "<id>"}`.
//!
//! It maps the free text to categories ([`crate::matcher`]), selects the hotel's upcoming
//! events in those categories — hotel services first, then nearest, then soonest — and writes **one**
//! `kiosk_results` row through the single write path, so realtime broadcasts the INSERT to the
//! kiosk subscribed to `session_id=eq.<uuid>`. The answer is that row (201).
//!
//! Anyone holding the session id and a valid API key (the public anon key is enough) may
//! search for that kiosk: a voice agent or a phone drives the screen the same way the screen
//! does. The row is written with the service role because anon writes nothing over REST.
//!
//! Decisions:
//! - Nothing matched (no known word, or no upcoming event in the matched categories) is **not
//!   an error**: the row is still written, with `events: []` and `suggestions` (phrases for the
//!   categories that do have upcoming events), so the kiosk shows "nothing matches — try …".
//! - "Upcoming" means `coalesce(ends_at, starts_at)` is not in the past: events in progress
//!   stay, an event without an end time leaves once it has started.
//! - The session id must be a UUID (the kiosk makes a v4); it is stored in canonical
//!   lowercase hyphenated form, so `{ABC…}` and `abc…` reach the same kiosk.
//! - At most [`MAX_EVENTS`] events per result: a lobby screen, not a catalogue.
//!
//! Errors are PostgREST-shaped (`{code, message, details, hint}`), and write nothing:
//!
//! | case | status | code |
//! |---|---|---|
//! | no / invalid API key | 401 | `PGRST301` |
//! | `session_id` missing | 400 | `PGRST100` |
//! | `session_id` not a UUID | 400 | `22P02` |
//! | body not JSON / not an object / wrong types | 400 | `PGRST102` |
//! | `interests` missing or blank, or longer than [`MAX_INTERESTS_CHARS`] | 400 | `22023` |
//! | `hotel_id` missing | 400 | `22023` |
//! | unknown hotel | 404 | `PGRST116` |
//! | body over [`MAX_BODY_BYTES`] | 413 | `PGRST413` |
//!
//! The same handler serves the upstream mode ([`crate::upstream`]): there the catalogue comes
//! from and the row goes to a hosted project's REST API ([`source::Backend`]), the API key must
//! be that project's anon or service key, and the project not answering adds 503
//! `UPSTREAM_UNREACHABLE` and a bad answer 502 `UPSTREAM_ERROR`.

mod source;

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use self::source::Backend;
use crate::client_ip::ClientIp;
use crate::credentials::Credentials;
use crate::db::Row;
use crate::matcher;
use crate::rest_error::RestError;
use crate::search_limits::SearchLimits;
use crate::state::AppState;
use crate::time_fmt;
use crate::upstream::Upstream;

/// Largest accepted request body. The real payload is a sentence and an id.
pub const MAX_BODY_BYTES: usize = 4 * 1024;
/// Longest accepted `interests` text, in characters.
pub const MAX_INTERESTS_CHARS: usize = 500;
/// Most events in one result.
pub const MAX_EVENTS: usize = 24;

const PATH: &str = "/api/event/by-interests";

pub fn router() -> Router<AppState> {
    Router::new().route(PATH, post(by_interests))
}

/// The same endpoint in upstream mode, over the hosted project's REST client.
pub fn upstream_router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<Upstream>: axum::extract::FromRef<S>,
    Arc<SearchLimits>: axum::extract::FromRef<S>,
{
    Router::new().route(PATH, post(by_interests_upstream))
}

fn bad(code: &'static str, message: impl Into<String>) -> RestError {
    RestError::new(StatusCode::BAD_REQUEST, code, message)
}

/// The request, validated.
#[derive(Debug, Clone, PartialEq)]
struct SearchRequest {
    session_id: String,
    interests: String,
    hotel_id: String,
}

fn parse_session_id(raw_query: Option<&str>) -> Result<String, RestError> {
    let pairs = form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes());
    let raw = pairs
        .into_iter()
        .find(|(k, _)| k == "session_id")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            bad("PGRST100", "session_id is required")
                .hint("Call /api/event/by-interests?session_id=<the kiosk's session UUID>.")
        })?;
    Uuid::parse_str(raw.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|e| {
            bad(
                "22P02",
                format!(
                    "invalid input syntax for type uuid: \"{}\"",
                    crate::rest_error::truncate(&raw)
                ),
            )
            .details(e.to_string())
        })
}

fn parse_body(body: &[u8]) -> Result<(String, String), RestError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| RestError::bad_json(e.to_string()))?;
    let Value::Object(obj) = v else {
        return Err(RestError::bad_json("the body must be a JSON object"));
    };
    let text_field = |name: &str| -> Result<Option<String>, RestError> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(_) => Err(RestError::bad_json(format!("{name} must be a string"))),
        }
    };
    let interests = text_field("interests")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            bad("22023", "interests must not be empty").hint(
                "Send what the guest is in the mood for, e.g. {\"interests\": \"live music\"}.",
            )
        })?;
    if interests.chars().count() > MAX_INTERESTS_CHARS {
        return Err(bad(
            "22023",
            format!("interests is longer than {MAX_INTERESTS_CHARS} characters"),
        ));
    }
    let hotel_id = text_field("hotel_id")?
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("22023", "hotel_id is required"))?;
    Ok((interests, hotel_id))
}

async fn read_body(body: Body) -> Result<axum::body::Bytes, RestError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            RestError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PGRST413",
                format!("request body is larger than {MAX_BODY_BYTES} bytes"),
            )
        })
}

/// Rate-limited before any work, once the session id is known (a malformed request is
/// refused by `handle` without counting). Both modes: each search writes a row.
fn over_limit(limits: &SearchLimits, raw_query: Option<&str>, ip: IpAddr) -> Option<Response> {
    let session_id = parse_session_id(raw_query).ok()?;
    limits
        .check(&session_id, ip)
        .err()
        .map(IntoResponse::into_response)
}

async fn by_interests(
    State(state): State<AppState>,
    RawQuery(raw_query): RawQuery,
    ClientIp(ip): ClientIp,
    creds: Credentials,
    body: Body,
) -> Response {
    if let Some(refused) = over_limit(&state.search_limits, raw_query.as_deref(), ip) {
        return refused;
    }
    respond(handle(Backend::Local(&state), raw_query.as_deref(), &creds, body).await)
}

async fn by_interests_upstream(
    State(upstream): State<Arc<Upstream>>,
    State(limits): State<Arc<SearchLimits>>,
    RawQuery(raw_query): RawQuery,
    ClientIp(ip): ClientIp,
    creds: Credentials,
    body: Body,
) -> Response {
    if let Some(refused) = over_limit(&limits, raw_query.as_deref(), ip) {
        return refused;
    }
    let backend = Backend::Upstream(&upstream);
    respond(handle(backend, raw_query.as_deref(), &creds, body).await)
}

fn respond(result: Result<Row, RestError>) -> Response {
    match result {
        Ok(row) => (StatusCode::CREATED, Json(Value::Object(row))).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(
    backend: Backend<'_>,
    raw_query: Option<&str>,
    creds: &Credentials,
    body: Body,
) -> Result<Row, RestError> {
    // Any valid key may search; the caller's role does not widen what is written.
    backend.check_key(creds)?;
    let session_id = parse_session_id(raw_query)?;
    let bytes = read_body(body).await?;
    let (interests, hotel_id) = parse_body(&bytes)?;
    let req = SearchRequest {
        session_id,
        interests,
        hotel_id,
    };
    search(backend, &req).await
}

/// The hotel's events that are not over at `now_ms`, in kiosk order.
async fn upcoming_events(
    backend: Backend<'_>,
    hotel_id: &str,
    now_ms: i64,
) -> Result<Vec<Row>, RestError> {
    Ok(matcher::upcoming(backend.events(hotel_id).await?, now_ms))
}

/// Builds the `results` document for `interests` from the hotel's upcoming events.
fn build_results(interests: &str, hotel: &Row, upcoming: &[Row]) -> (Value, usize) {
    let found = matcher::matching(upcoming, interests, MAX_EVENTS);
    let count = found.events.len();
    let mut results = json!({
        "interests": interests,
        "categories": found.asked.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "events": found.events,
        "hotel_id": hotel.get("id").cloned().unwrap_or(Value::Null),
        "timezone": hotel.get("timezone").cloned().unwrap_or(Value::Null),
    });
    if count == 0 {
        results["suggestions"] = json!(found.offered);
    }
    (results, count)
}

async fn search(backend: Backend<'_>, req: &SearchRequest) -> Result<Row, RestError> {
    let hotel = backend.hotel(&req.hotel_id).await?;
    let upcoming = upcoming_events(backend, &req.hotel_id, time_fmt::now_ms()).await?;
    let (results, count) = build_results(&req.interests, &hotel, &upcoming);
    let mut row = Map::new();
    row.insert("session_id".into(), Value::String(req.session_id.clone()));
    row.insert("results".into(), results);
    let stored = backend.insert_result(row).await?;
    tracing::info!(
        session_id = %req.session_id,
        hotel_id = %req.hotel_id,
        events = count,
        "kiosk search"
    );
    Ok(stored)
}

#[cfg(test)]
mod tests;
