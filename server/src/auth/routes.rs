//! The `/auth/v1` routes: each checks the API key first, then reads its body, and answers
//! errors in GoTrue's shapes.

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::error::{API_VERSION, API_VERSION_HEADER, AuthApiError, Rendered};
use super::store::LogoutScope;
use super::tokens;
use crate::accounts::clean_name;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::credentials::Credentials;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/v1/signup", post(signup))
        .route("/auth/v1/token", post(token))
        .route("/auth/v1/logout", post(logout))
        .route("/auth/v1/user", get(user))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

fn ok_json(headers: &HeaderMap, status: StatusCode, body: Value) -> Response {
    let mut r = (status, Json(body)).into_response();
    if headers.contains_key(API_VERSION_HEADER) {
        r.headers_mut()
            .insert(API_VERSION_HEADER, HeaderValue::from_static(API_VERSION));
    }
    r
}

/// Credentials and refresh tokens are small; anything near this size is not a real client.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// The body as a JSON object, or GoTrue's error shape (never axum's plain-text rejection).
fn parse_body(body: Result<Bytes, BytesRejection>) -> Result<Value, AuthApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AuthApiError::BodyTooLarge(MAX_BODY_BYTES)
        } else {
            AuthApiError::Validation(format!("Could not read the request body: {e}"))
        }
    })?;
    if body.is_empty() {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(AuthApiError::BadJson("expected a JSON object".into())),
        Err(e) => Err(AuthApiError::BadJson(e.to_string())),
    }
}

/// A GoTrue answer: the JSON body, or the error in the shape the request asked for.
fn answer(headers: HeaderMap, r: Result<Value, AuthApiError>) -> Response {
    match r {
        Ok(v) => ok_json(&headers, StatusCode::OK, v),
        Err(e) => Rendered(e, headers).into_response(),
    }
}

fn str_field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

/// The client's address, as the listener saw it (no proxy header is trusted). A router
/// served without connection info (in-process tests) counts everyone as one client.
fn client_ip(connect: Option<Extension<ConnectInfo<SocketAddr>>>) -> IpAddr {
    connect.map_or(
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        |Extension(ConnectInfo(a))| a.ip(),
    )
}

async fn signup(
    State(s): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    creds: Credentials,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let r = async {
        s.auth.check_api_key(&creds)?;
        let b = parse_body(body)?;
        let name = clean_name(
            b.get("data")
                .and_then(|d| d.get("name"))
                .and_then(Value::as_str),
        );
        let (email, password) = (str_field(&b, "email"), str_field(&b, "password"));
        // supabase-js `signInAnonymously()` sends neither (GoTrue's rule for an anonymous
        // sign-up: no email, no phone, no password).
        if email.is_empty() && password.is_empty() && str_field(&b, "phone").is_empty() {
            return s.auth.sign_up_anonymously(client_ip(connect), name).await;
        }
        s.auth
            .sign_up(client_ip(connect), email, password, name)
            .await
    }
    .await;
    answer(headers, r)
}

/// One query parameter, the first when repeated (as GoTrue reads it, Go's `Query().Get`).
/// Never refused: axum's `Query` answers a repeated key with a plain-text 400, not GoTrue's.
fn query_param(raw: Option<&str>, key: &str) -> Option<String> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn token(
    State(s): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    RawQuery(raw): RawQuery,
    creds: Credentials,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let r = async {
        s.auth.check_api_key(&creds)?;
        let b = parse_body(body)?;
        match query_param(raw.as_deref(), "grant_type").as_deref() {
            Some("password") => {
                s.auth
                    .sign_in(
                        client_ip(connect),
                        str_field(&b, "email"),
                        str_field(&b, "password"),
                    )
                    .await
            }
            Some("refresh_token") => s.auth.refresh(str_field(&b, "refresh_token")).await,
            _ => Err(AuthApiError::UnsupportedGrant),
        }
    }
    .await;
    answer(headers, r)
}

async fn logout(
    State(s): State<AppState>,
    RawQuery(raw): RawQuery,
    creds: Credentials,
    headers: HeaderMap,
) -> Result<Response, Rendered> {
    let r = async {
        s.auth.check_api_key(&creds)?;
        let scope = match query_param(raw.as_deref(), "scope").as_deref() {
            None | Some("global") => LogoutScope::Global,
            Some("local") => LogoutScope::Local,
            Some("others") => LogoutScope::Others,
            Some(_) => {
                return Err(AuthApiError::Validation(
                    "scope must be global, local or others".into(),
                ));
            }
        };
        s.auth.logout(&creds, scope).await
    }
    .await;
    r.map(|()| StatusCode::NO_CONTENT.into_response())
        .map_err(|e| Rendered(e, headers))
}

async fn user(State(s): State<AppState>, creds: Credentials, headers: HeaderMap) -> Response {
    let r = async {
        s.auth.check_api_key(&creds)?;
        s.auth.bearer_user(&creds).await
    }
    .await;
    answer(headers, r.map(|(u, _)| tokens::user_json(&u)))
}
