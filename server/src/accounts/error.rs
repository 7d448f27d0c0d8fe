//! `/auth/v1` errors in GoTrue's shapes, which supabase-js's auth client parses: with the
//! `X-Supabase-Api-Version: 2024-01-01` request header (auth-js always sends it) the body is
//! `{"code": "<error_code>", "message": …}` and the response echoes the header; without it,
//! the older `{"code": <status>, "error_code": …, "msg": …}`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use serde_json::json;

pub const API_VERSION_HEADER: &str = "x-supabase-api-version";
pub const API_VERSION: &str = "2024-01-01";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthApiError {
    #[error("Invalid login credentials")]
    InvalidCredentials,
    #[error("User already registered")]
    UserAlreadyExists,
    #[error("Password should be at least {0} characters.")]
    WeakPassword(usize),
    #[error("Unable to validate email address: invalid format")]
    InvalidEmail,
    #[error("{0}")]
    Validation(String),
    #[error("Could not parse request body as JSON: {0}")]
    BadJson(String),
    #[error("Request body is larger than {0} bytes")]
    BodyTooLarge(usize),
    #[error("Invalid Refresh Token: Refresh Token Not Found")]
    RefreshTokenNotFound,
    #[error("Invalid Refresh Token: Already Used")]
    RefreshTokenAlreadyUsed,
    #[error("Invalid Refresh Token: Session Expired")]
    SessionExpired,
    #[error("unsupported_grant_type")]
    UnsupportedGrant,
    #[error("This endpoint requires a valid Bearer token")]
    NoAuthorization,
    #[error("invalid JWT: unable to parse or verify signature, {0}")]
    BadJwt(String),
    #[error("Session from session_id claim in JWT does not exist")]
    SessionNotFound,
    #[error("User from sub claim in JWT does not exist")]
    UserNotFound,
    #[error("Invalid API key")]
    BadApiKey,
    /// Too many requests from this client; try again after the duration.
    #[error("Request rate limit reached")]
    RateLimited(std::time::Duration),
    #[error("Anonymous sign-ins are disabled")]
    AnonymousDisabled,
    /// The database reached `--max-db-mib` (or the disk is full): no new users or sign-ins.
    #[error("could not extend the database: the storage limit is reached")]
    StorageFull,
    #[error("Internal server error")]
    Internal,
}

impl AuthApiError {
    pub fn status(&self) -> StatusCode {
        use AuthApiError::*;
        match self {
            InvalidCredentials
            | InvalidEmail
            | Validation(_)
            | BadJson(_)
            | RefreshTokenNotFound
            | RefreshTokenAlreadyUsed
            | SessionExpired
            | UnsupportedGrant => StatusCode::BAD_REQUEST,
            UserAlreadyExists | WeakPassword(_) | AnonymousDisabled => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            NoAuthorization | BadApiKey => StatusCode::UNAUTHORIZED,
            BadJwt(_) | SessionNotFound | UserNotFound => StatusCode::FORBIDDEN,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
            StorageFull => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub fn code(&self) -> &'static str {
        use AuthApiError::*;
        match self {
            InvalidCredentials => "invalid_credentials",
            UserAlreadyExists => "user_already_exists",
            WeakPassword(_) => "weak_password",
            InvalidEmail => "email_address_invalid",
            Validation(_) => "validation_failed",
            BadJson(_) => "bad_json",
            BodyTooLarge(_) => "request_too_large",
            RefreshTokenNotFound => "refresh_token_not_found",
            RefreshTokenAlreadyUsed => "refresh_token_already_used",
            SessionExpired => "session_expired",
            UnsupportedGrant => "unsupported_grant_type",
            NoAuthorization => "no_authorization",
            BadJwt(_) => "bad_jwt",
            SessionNotFound => "session_not_found",
            UserNotFound => "user_not_found",
            BadApiKey => "bad_api_key",
            RateLimited(_) => "over_request_rate_limit",
            AnonymousDisabled => "anonymous_provider_disabled",
            Internal => "unexpected_failure",
            // Postgres' name for 53100, which REST answers in the same case.
            StorageFull => "disk_full",
        }
    }

    /// Renders for a request with `headers` (API-versioned shape or the legacy one).
    pub fn render(&self, headers: &HeaderMap) -> Response {
        let status = self.status();
        let versioned = headers
            .get(API_VERSION_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v >= API_VERSION);
        let mut body = if versioned {
            json!({"code": self.code(), "message": self.to_string()})
        } else {
            json!({"code": status.as_u16(), "error_code": self.code(), "msg": self.to_string()})
        };
        if let AuthApiError::WeakPassword(_) = self {
            body["weak_password"] = json!({"reasons": ["length"]});
        }
        let mut resp = (status, Json(body)).into_response();
        if let AuthApiError::RateLimited(wait) = self {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        if versioned {
            resp.headers_mut()
                .insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION));
        }
        resp
    }
}

/// An error bound to the request headers, so handlers can just `?`.
pub struct Rendered(pub AuthApiError, pub HeaderMap);

impl IntoResponse for Rendered {
    fn into_response(self) -> Response {
        if matches!(self.0, AuthApiError::Internal) {
            tracing::error!("auth request failed internally");
        }
        self.0.render(&self.1)
    }
}
