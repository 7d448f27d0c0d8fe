//! `/auth/v1`: the GoTrue subset the official supabase-js auth client needs.
//!
//! - `POST /signup` `{email, password, data?: {name}}` → a session (emails are auto-confirmed,
//!   as on a local Supabase). Everyone who signs up is a **customer**; staff are made with
//!   `concierge-server add-staff` (or the `--seed-demo` accounts).
//! - `POST /token?grant_type=password` `{email, password}` → a session.
//! - `POST /token?grant_type=refresh_token` `{refresh_token}` → a new session; the presented
//!   token is revoked (rotation), and presenting a revoked token again revokes its whole chain.
//! - `POST /logout?scope=global|local|others` (Bearer) → 204, refresh tokens revoked.
//! - `GET /user` (Bearer) → the user.
//!
//! Every request needs a valid API key in `apikey` (as the Supabase gateway demands).

pub mod error;
pub mod password;
pub mod store;
pub mod tokens;

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use concierge_wire::AppRole;
use serde::Deserialize;
use serde_json::{Value, json};

use self::error::{API_VERSION, API_VERSION_HEADER, AuthApiError, Rendered};
use self::store::{LogoutScope, Rotation, Store, StoreError, UserRecord};
use crate::authz::Principal;
use crate::jwt::Keys;
use crate::state::AppState;

/// GoTrue's default minimum password length.
pub const MIN_PASSWORD_LEN: usize = 6;
pub const DEFAULT_ACCESS_TOKEN_TTL_SECS: u64 = 3600;

/// DEMO ACCOUNTS, created by `--seed-demo` (documented, not secrets): two staff members and a
/// customer, so a demo can drive the banner from the staff console without any setup.
pub const DEMO_USERS: &[(&str, &str, AppRole, &str)] = &[
    (
        "staff@concierge.test",
        "concierge-staff",
        AppRole::Staff,
        "Priya Sharma",
    ),
    (
        "arjun@concierge.test",
        "concierge-staff",
        AppRole::Staff,
        "Arjun Mehta",
    ),
    (
        "guest@concierge.test",
        "concierge-guest",
        AppRole::Customer,
        "Demo Guest",
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    #[error("auth store: {0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Hash(#[from] password::HashError),
    #[error("{0}")]
    Invalid(AuthApiError),
}

/// The auth service: its store, the signing keys and the access-token lifetime.
#[derive(Clone)]
pub struct AuthService {
    store: Store,
    keys: Arc<Keys>,
    access_ttl_secs: u64,
}

fn now_secs() -> i64 {
    crate::time_fmt::now_ms() / 1000
}

/// Lower-cased, trimmed, and shaped like `local@domain.tld`.
pub fn normalize_email(raw: &str) -> Result<String, AuthApiError> {
    let e = raw.trim().to_lowercase();
    let valid = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && match e.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(e)
    } else {
        Err(AuthApiError::InvalidEmail)
    }
}

fn check_password(p: &str) -> Result<(), AuthApiError> {
    if p.chars().count() < MIN_PASSWORD_LEN {
        return Err(AuthApiError::WeakPassword(MIN_PASSWORD_LEN));
    }
    if p.len() > 1024 {
        return Err(AuthApiError::Validation("Password is too long".into()));
    }
    Ok(())
}

fn clean_name(n: Option<&str>) -> Option<String> {
    n.map(|s| {
        s.trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect::<String>()
    })
    .filter(|s| !s.is_empty())
}

async fn hash_blocking(pw: String) -> Result<String, AuthApiError> {
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|_| AuthApiError::Internal)?
        .map_err(|_| AuthApiError::Internal)
}

fn internal<E: std::fmt::Display>(e: E) -> AuthApiError {
    tracing::error!("auth: {e}");
    AuthApiError::Internal
}

impl AuthService {
    pub fn open(
        db: &Path,
        keys: Arc<Keys>,
        access_ttl_secs: u64,
    ) -> Result<AuthService, AuthSetupError> {
        Ok(AuthService {
            store: Store::open(db)?,
            keys,
            access_ttl_secs: access_ttl_secs.max(1),
        })
    }

    /// Creates or updates a staff or customer account (the CLI and the demo seed).
    pub fn upsert_user_blocking(
        &self,
        email: &str,
        password: &str,
        role: AppRole,
        name: Option<&str>,
    ) -> Result<UserRecord, AuthSetupError> {
        let email = normalize_email(email).map_err(AuthSetupError::Invalid)?;
        check_password(password).map_err(AuthSetupError::Invalid)?;
        let hash = password::hash(password)?;
        let name = clean_name(name);
        Ok(self
            .store
            .run_blocking(|c| store::upsert_user(c, &email, &hash, role, name.as_deref()))?)
    }

    /// `--seed-demo`: the demo accounts, unless they exist already (their passwords stay).
    pub fn seed_demo_blocking(&self) -> Result<(), AuthSetupError> {
        for (email, pw, role, name) in DEMO_USERS {
            let exists = self
                .store
                .run_blocking(|c| store::find_by_email(c, email))?
                .is_some();
            if !exists {
                self.upsert_user_blocking(email, pw, *role, Some(name))?;
                tracing::info!(email, role = role.as_str(), "seeded demo account");
            }
        }
        Ok(())
    }

    /// A fresh sign-in: a new refresh-token chain and the session response body.
    async fn issue_session(&self, user: UserRecord) -> Result<Value, AuthApiError> {
        let session_id = uuid::Uuid::new_v4().to_string();
        let refresh = tokens::new_refresh_token();
        let hash = tokens::refresh_hash(&refresh);
        let (uid, sid) = (user.id.clone(), session_id.clone());
        let user = self
            .store
            .run(move |c| {
                store::insert_refresh(c, &hash, &uid, &sid)?;
                store::touch_sign_in(c, &uid)?;
                Ok(store::find_by_id(c, &uid)?.unwrap_or(user))
            })
            .await
            .map_err(internal)?;
        Ok(self.session_body(&user, &session_id, refresh))
    }

    fn session_body(&self, user: &UserRecord, session_id: &str, refresh: String) -> Value {
        let now = now_secs();
        let (access, exp) =
            tokens::access_token(&self.keys, user, session_id, now, self.access_ttl_secs);
        json!({
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.access_ttl_secs,
            "expires_at": exp,
            "refresh_token": refresh,
            "user": tokens::user_json(user),
        })
    }

    async fn sign_up(
        &self,
        email: &str,
        pw: &str,
        name: Option<String>,
    ) -> Result<Value, AuthApiError> {
        let email = normalize_email(email)?;
        check_password(pw)?;
        let hash = hash_blocking(pw.to_owned()).await?;
        let user = self
            .store
            .run(move |c| store::insert_user(c, &email, &hash, AppRole::Customer, name.as_deref()))
            .await
            .map_err(|e| match e {
                StoreError::EmailTaken => AuthApiError::UserAlreadyExists,
                other => internal(other),
            })?;
        tracing::info!(user = %user.id, "customer signed up");
        self.issue_session(user).await
    }

    async fn sign_in(&self, email: &str, pw: &str) -> Result<Value, AuthApiError> {
        let email = normalize_email(email).map_err(|_| AuthApiError::InvalidCredentials)?;
        let found = self
            .store
            .run(move |c| store::find_by_email(c, &email))
            .await
            .map_err(internal)?;
        let stored = found
            .as_ref()
            .map_or_else(|| password::decoy().to_owned(), |u| u.password_hash.clone());
        let pw = pw.to_owned();
        let ok = tokio::task::spawn_blocking(move || password::verify(&pw, &stored))
            .await
            .map_err(internal)?;
        match (found, ok) {
            (Some(user), true) => self.issue_session(user).await,
            _ => Err(AuthApiError::InvalidCredentials),
        }
    }

    async fn refresh(&self, token: &str) -> Result<Value, AuthApiError> {
        let old = tokens::refresh_hash(token.trim());
        let next = tokens::new_refresh_token();
        let next_hash = tokens::refresh_hash(&next);
        let r = self
            .store
            .run(move |c| store::rotate(c, &old, &next_hash))
            .await
            .map_err(internal)?;
        match r {
            Rotation::Rotated { user, session_id } => {
                Ok(self.session_body(&user, &session_id, next))
            }
            Rotation::NotFound => Err(AuthApiError::RefreshTokenNotFound),
            Rotation::Reused => {
                tracing::warn!("a rotated refresh token was presented again; its chain is revoked");
                Err(AuthApiError::RefreshTokenAlreadyUsed)
            }
        }
    }

    /// Verifies a Bearer access token: a user token, whose sign-in is still alive.
    async fn bearer_user(
        &self,
        headers: &HeaderMap,
    ) -> Result<(UserRecord, Option<String>), AuthApiError> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthApiError::NoAuthorization)?;
        let principal = Principal::from_token(&self.keys, token)
            .map_err(|e| AuthApiError::BadJwt(e.to_string()))?;
        let Principal::User(u) = principal else {
            return Err(AuthApiError::BadJwt("not a user token".into()));
        };
        let claims: tokens::AccessClaims = self
            .keys
            .verify_as(token)
            .map_err(|e| AuthApiError::BadJwt(e.to_string()))?;
        let sid = claims.session_id.clone();
        let id = u.id.clone();
        let (user, alive) = self
            .store
            .run(move |c| Ok((store::find_by_id(c, &id)?, store::session_alive(c, &sid)?)))
            .await
            .map_err(internal)?;
        let user = user.ok_or(AuthApiError::UserNotFound)?;
        if !alive {
            return Err(AuthApiError::SessionNotFound);
        }
        Ok((user, Some(claims.session_id)))
    }

    async fn logout(&self, headers: &HeaderMap, scope: LogoutScope) -> Result<(), AuthApiError> {
        let (user, sid) = self.bearer_user(headers).await?;
        self.store
            .run(move |c| store::revoke(c, &user.id, sid.as_deref(), scope))
            .await
            .map_err(internal)?;
        Ok(())
    }

    /// The gateway's API-key check: any key this server signed (anon, service role, a user).
    fn check_api_key(&self, headers: &HeaderMap) -> Result<(), AuthApiError> {
        let key = headers
            .get("apikey")
            .and_then(|v| v.to_str().ok())
            .ok_or(AuthApiError::BadApiKey)?;
        Principal::from_token(&self.keys, key)
            .map(|_| ())
            .map_err(|_| AuthApiError::BadApiKey)
    }
}

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

fn str_field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or_default()
}

async fn signup(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Rendered> {
    let r = async {
        s.auth.check_api_key(&headers)?;
        let b = parse_body(body)?;
        let name = clean_name(
            b.get("data")
                .and_then(|d| d.get("name"))
                .and_then(Value::as_str),
        );
        s.auth
            .sign_up(str_field(&b, "email"), str_field(&b, "password"), name)
            .await
    }
    .await;
    r.map(|v| ok_json(&headers, StatusCode::OK, v))
        .map_err(|e| Rendered(e, headers))
}

#[derive(Deserialize)]
struct TokenQuery {
    grant_type: Option<String>,
}

async fn token(
    State(s): State<AppState>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Rendered> {
    let r = async {
        s.auth.check_api_key(&headers)?;
        let b = parse_body(body)?;
        match q.grant_type.as_deref() {
            Some("password") => {
                s.auth
                    .sign_in(str_field(&b, "email"), str_field(&b, "password"))
                    .await
            }
            Some("refresh_token") => s.auth.refresh(str_field(&b, "refresh_token")).await,
            _ => Err(AuthApiError::UnsupportedGrant),
        }
    }
    .await;
    r.map(|v| ok_json(&headers, StatusCode::OK, v))
        .map_err(|e| Rendered(e, headers))
}

#[derive(Deserialize)]
struct LogoutQuery {
    scope: Option<String>,
}

async fn logout(
    State(s): State<AppState>,
    Query(q): Query<LogoutQuery>,
    headers: HeaderMap,
) -> Result<Response, Rendered> {
    let r = async {
        s.auth.check_api_key(&headers)?;
        let scope = match q.scope.as_deref() {
            None | Some("global") => LogoutScope::Global,
            Some("local") => LogoutScope::Local,
            Some("others") => LogoutScope::Others,
            Some(_) => {
                return Err(AuthApiError::Validation(
                    "scope must be global, local or others".into(),
                ));
            }
        };
        s.auth.logout(&headers, scope).await
    }
    .await;
    r.map(|()| StatusCode::NO_CONTENT.into_response())
        .map_err(|e| Rendered(e, headers))
}

async fn user(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, Rendered> {
    let r = async {
        s.auth.check_api_key(&headers)?;
        s.auth.bearer_user(&headers).await
    }
    .await;
    r.map(|(u, _)| ok_json(&headers, StatusCode::OK, tokens::user_json(&u)))
        .map_err(|e| Rendered(e, headers))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_validated() {
        assert_eq!(
            normalize_email("  Priya@Hotel.Test ").unwrap(),
            "priya@hotel.test"
        );
        for bad in [
            "",
            "no-at",
            "@x.test",
            "a@b",
            "a@.x",
            "a@x.",
            "a b@x.test",
            "a@b@c.test",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        assert!(check_password("12345").is_err());
        assert!(check_password("123456").is_ok());
        assert_eq!(clean_name(Some("  Ana\u{7}  ")), Some("Ana".into()));
        assert_eq!(clean_name(Some("   ")), None);
    }
}
