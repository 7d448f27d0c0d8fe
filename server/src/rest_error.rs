//! PostgREST-shaped errors: `{code, message, details, hint}` with PostgREST's status codes.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::authz::Principal;
use crate::credentials::CredentialError;
use crate::db::DbError;

#[derive(Debug, Clone, PartialEq)]
pub struct RestError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<String>,
    pub hint: Option<String>,
    /// Seconds for a `Retry-After` header (the rate limits' `429`).
    pub retry_after: Option<u64>,
}

impl RestError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> RestError {
        RestError {
            status,
            code,
            message: message.into(),
            details: None,
            hint: None,
            retry_after: None,
        }
    }

    pub fn details(mut self, d: impl Into<String>) -> RestError {
        self.details = Some(d.into());
        self
    }

    pub fn hint(mut self, h: impl Into<String>) -> RestError {
        self.hint = Some(h.into());
        self
    }

    pub fn retry_after(mut self, secs: u64) -> RestError {
        self.retry_after = Some(secs);
        self
    }

    /// PGRST100: a query parameter could not be parsed.
    pub fn bad_query(what: &str, input: &str, details: impl Into<String>) -> RestError {
        RestError::new(
            StatusCode::BAD_REQUEST,
            "PGRST100",
            format!("\"failed to parse {what} ({})\"", truncate(input)),
        )
        .details(details)
    }

    /// PGRST102: the body is not the JSON we need.
    pub fn bad_json(details: impl Into<String>) -> RestError {
        RestError::new(StatusCode::BAD_REQUEST, "PGRST102", "Empty or invalid json")
            .details(details)
    }

    /// Maps a database-layer error; `principal` decides 401 vs 403 for permission errors.
    pub fn from_db(e: DbError, principal: &Principal) -> RestError {
        let msg = e.to_string();
        match e {
            DbError::UnknownColumn { .. } => RestError::new(StatusCode::BAD_REQUEST, "42703", msg),
            DbError::UnknownWriteColumn { .. } => {
                RestError::new(StatusCode::BAD_REQUEST, "PGRST204", msg)
            }
            DbError::InvalidInput { .. } => RestError::new(StatusCode::BAD_REQUEST, "22P02", msg),
            DbError::LikePattern => RestError::new(StatusCode::BAD_REQUEST, "22025", msg),
            DbError::Operator { .. } => RestError::new(StatusCode::NOT_FOUND, "42883", msg)
                .hint("No operator matches the given name and argument types."),
            DbError::NotNull { .. } => RestError::new(StatusCode::BAD_REQUEST, "23502", msg),
            DbError::Check { value, .. } => RestError::new(StatusCode::BAD_REQUEST, "23514", msg)
                .details(format!("Failing value: {value:?}")),
            DbError::TooManyResults { .. } | DbError::TooManyMessages { .. } => {
                RestError::new(StatusCode::BAD_REQUEST, "23514", msg)
            }
            DbError::NoSuchSession(_) => RestError::new(StatusCode::CONFLICT, "23503", msg),
            DbError::ReplyQueueFull { .. } => {
                RestError::new(StatusCode::SERVICE_UNAVAILABLE, "53400", msg)
                    .hint("Send the same message (same id) again in a few seconds.")
            }
            DbError::TooManyWrites { retry_after_secs } => {
                RestError::new(StatusCode::TOO_MANY_REQUESTS, "PGRST429", msg)
                    .hint(format!("Retry after {retry_after_secs} s."))
                    .retry_after(retry_after_secs)
            }
            DbError::PatternReadsBusy { .. } => {
                RestError::new(StatusCode::TOO_MANY_REQUESTS, "PGRST429", msg)
                    .hint("Retry in a second; filters without like/ilike are not affected.")
                    .retry_after(1)
            }
            DbError::Duplicate { .. } | DbError::OneOpenSession => {
                RestError::new(StatusCode::CONFLICT, "23505", msg)
            }
            DbError::Denied(_) => {
                let status = if principal.is_authenticated() {
                    StatusCode::FORBIDDEN
                } else {
                    StatusCode::UNAUTHORIZED
                };
                RestError::new(status, "42501", msg)
            }
            DbError::Refused(r) => {
                let status = match r.sqlstate() {
                    "P0002" => StatusCode::NOT_FOUND,
                    _ => StatusCode::BAD_REQUEST,
                };
                let e = RestError::new(status, r.sqlstate(), msg);
                match r.details() {
                    Some(d) => e.details(d),
                    None => e,
                }
            }
            DbError::Unfiltered(_) => RestError::new(StatusCode::BAD_REQUEST, "21000", msg).hint(
                "Add a filter such as id=eq.<value>; unfiltered PATCH and DELETE are refused.",
            ),
            // PostgREST answers Postgres' class 57 (operator intervention, 57014 among it)
            // with 500 and class 53 (insufficient resources, 53100 disk_full) with 503
            // (https://postgrest.org/en/stable/references/errors.html#http-status-codes).
            DbError::StatementTimeout => {
                RestError::new(StatusCode::INTERNAL_SERVER_ERROR, "57014", msg)
            }
            // Logged once by the writer when the storage fills up, not once per request.
            DbError::StorageFull => RestError::new(StatusCode::SERVICE_UNAVAILABLE, "53100", msg)
                .details("The database reached its maximum size or the disk is full.")
                .hint("Reads continue. Writes resume once space is freed or the limit raised."),
            DbError::Sqlite(_) | DbError::Worker(_) => {
                tracing::error!(error = %msg, "database failure");
                RestError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "XX000",
                    "internal database error",
                )
            }
        }
    }
}

/// PostgREST answers every credential problem with 401 `PGRST301`.
impl From<CredentialError> for RestError {
    fn from(e: CredentialError) -> RestError {
        let r = RestError::new(StatusCode::UNAUTHORIZED, "PGRST301", e.to_string());
        match (&e, e.cause()) {
            (CredentialError::MissingApiKey, _) => {
                r.hint("No `apikey` request header or url param was found.")
            }
            (_, Some(cause)) => r.details(cause.to_string()),
            (_, None) => r,
        }
    }
}

pub fn truncate(s: &str) -> String {
    s.chars().take(120).collect()
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(json!({
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "hint": self.hint,
            })),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }
}
