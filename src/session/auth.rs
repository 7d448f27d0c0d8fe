//! Signing in against `/auth/v1` (the GoTrue subset the server speaks; hosted Supabase Auth
//! answers the same requests), keeping the session in `localStorage` so it survives a reload,
//! refreshing the access token before it expires, and handing every new token to the sync
//! engine so REST polls and the realtime channel use it.
//!
//! Several tabs share one stored session. A refresh token can be used once (the server rotates
//! it and treats a second use as theft), so before refreshing a tab re-reads the store and
//! adopts a newer session another tab already got, and every tab follows `storage` events.

use std::time::Duration;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::sync;

/// What the app calls the account types (the server puts it in `app_metadata.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppRole {
    Customer,
    Staff,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthUser {
    pub id: String,
    pub email: String,
    pub role: AppRole,
    pub name: Option<String>,
}

/// A signed-in session as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthSession {
    pub access_token: String,
    pub refresh_token: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// Lifetime the server gave the access token (seconds), to place the refresh.
    pub expires_in: i64,
    pub user: AuthUser,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthError {
    /// The server refused (bad credentials, taken email, weak password…): show its message.
    #[error("{message}")]
    Refused { code: String, message: String },
    #[error("Cannot reach the server ({0}). Check your connection and try again.")]
    Network(String),
    #[error("The server answered something unexpected ({0}).")]
    Protocol(String),
}

impl AuthError {
    /// The refresh token is gone for good (signed out elsewhere, rotated, revoked).
    pub fn is_session_dead(&self) -> bool {
        matches!(self, AuthError::Refused { code, .. } if code.starts_with("refresh_token") || code == "session_not_found" || code == "user_not_found")
    }
}

/// The auth endpoints of one backend.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthApi {
    pub base: String,
    pub anon_key: String,
}

fn now_secs() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// GoTrue's session body → our stored session.
fn parse_session(v: &Value) -> Result<AuthSession, AuthError> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let user = v
        .get("user")
        .ok_or_else(|| AuthError::Protocol("no user".into()))?;
    let role = match user
        .get("app_metadata")
        .and_then(|m| m.get("role"))
        .and_then(Value::as_str)
    {
        Some("staff") => AppRole::Staff,
        _ => AppRole::Customer,
    };
    let expires_in = v.get("expires_in").and_then(Value::as_i64).unwrap_or(3600);
    Ok(AuthSession {
        access_token: s("access_token")
            .ok_or_else(|| AuthError::Protocol("no access_token".into()))?,
        refresh_token: s("refresh_token")
            .ok_or_else(|| AuthError::Protocol("no refresh_token".into()))?,
        expires_at: v
            .get("expires_at")
            .and_then(Value::as_i64)
            .unwrap_or_else(|| now_secs() + expires_in),
        expires_in,
        user: AuthUser {
            id: user
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            email: user
                .get("email")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            role,
            name: user
                .get("user_metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
    })
}

/// GoTrue error bodies: `{code, message}` (API version 2024-01-01) or `{error_code, msg}`
/// or OAuth's `{error, error_description}`.
fn parse_error(status: u16, body: &str) -> AuthError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let pick = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_owned))
    };
    let code = pick(&["error_code", "code", "error"]).unwrap_or_else(|| format!("http_{status}"));
    let message =
        pick(&["message", "msg", "error_description"]).unwrap_or_else(|| format!("HTTP {status}"));
    AuthError::Refused { code, message }
}

impl AuthApi {
    async fn post(
        &self,
        path: &str,
        body: Value,
        bearer: Option<&str>,
    ) -> Result<Option<Value>, AuthError> {
        let url = format!("{}/auth/v1/{path}", self.base.trim_end_matches('/'));
        let mut req = gloo_net::http::Request::post(&url)
            .header("apikey", &self.anon_key)
            .header("X-Supabase-Api-Version", "2024-01-01")
            .header("Content-Type", "application/json");
        if let Some(t) = bearer {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let resp = req
            .body(body.to_string())
            .map_err(|e| AuthError::Protocol(e.to_string()))?
            .send()
            .await
            .map_err(|e| AuthError::Network(e.to_string()))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .map_err(|e| AuthError::Network(e.to_string()))?;
        if !(200..300).contains(&status) {
            return Err(parse_error(status, &text));
        }
        if text.trim().is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| AuthError::Protocol(e.to_string()))
    }

    async fn session(&self, path: &str, body: Value) -> Result<AuthSession, AuthError> {
        let v = self
            .post(path, body, None)
            .await?
            .ok_or_else(|| AuthError::Protocol("empty answer".into()))?;
        parse_session(&v)
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Result<AuthSession, AuthError> {
        self.session(
            "token?grant_type=password",
            json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        name: &str,
    ) -> Result<AuthSession, AuthError> {
        self.session(
            "signup",
            json!({"email": email, "password": password, "data": {"name": name}}),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<AuthSession, AuthError> {
        self.session(
            "token?grant_type=refresh_token",
            json!({"refresh_token": refresh_token}),
        )
        .await
    }

    pub async fn sign_out(&self, access_token: &str) -> Result<(), AuthError> {
        self.post("logout?scope=local", json!({}), Some(access_token))
            .await
            .map(|_| ())
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn load(key: &str) -> Option<AuthSession> {
    let text = storage()?.get_item(key).ok().flatten()?;
    serde_json::from_str(&text).ok()
}

fn store(key: &str, s: Option<&AuthSession>) {
    let Some(st) = storage() else { return };
    let _ = match s.and_then(|s| serde_json::to_string(s).ok()) {
        Some(text) => st.set_item(key, &text),
        None => st.remove_item(key),
    };
}

/// Seconds before expiry at which to refresh: a third of the lifetime, at most a minute, plus
/// up to two seconds of per-tab jitter so tabs sharing a session do not all refresh at once.
fn refresh_margin(s: &AuthSession) -> f64 {
    let base = (s.expires_in as f64 / 3.0).clamp(1.0, 60.0);
    base + js_sys::Math::random() * base.min(2.0)
}

/// The signed-in state of one area of the app (customer or staff: separate storage keys, so
/// one browser can hold both).
#[derive(Clone, Copy)]
pub struct Auth {
    pub session: RwSignal<Option<AuthSession>>,
    /// Set when a stored session could not be refreshed and the user must sign in again.
    pub expired_notice: RwSignal<Option<String>>,
    key: &'static str,
    api: StoredValue<AuthApi>,
}

impl Auth {
    /// Loads the stored session, keeps the sync engine's token in step, schedules refreshes
    /// and follows other tabs. Call once per page, after the sync engine is provided.
    pub fn provide(key: &'static str, api: AuthApi) -> Auth {
        let stored = load(key).filter(|s| s.expires_at > now_secs() || !s.refresh_token.is_empty());
        let auth = Auth {
            session: RwSignal::new(stored),
            expired_notice: RwSignal::new(None),
            key,
            api: StoredValue::new(api),
        };
        // The engine gets the token before any view can subscribe with it (a first fetch
        // with the anon key would be refused); later changes go through `adopt`.
        let session = auth.session;
        sync::set_access_token(
            session.with_untracked(|s| s.as_ref().map(|s| s.access_token.clone())),
        );
        // One refresh timer, re-armed whenever the session changes.
        let timer: StoredValue<Option<TimeoutHandle>> = StoredValue::new(None);
        Effect::new(move |_| {
            if let Some(h) = timer.try_update_value(|t| t.take()).flatten() {
                h.clear();
            }
            let Some(s) = session.get() else { return };
            let wait =
                (s.expires_at as f64 - refresh_margin(&s) - js_sys::Date::now() / 1000.0).max(0.0);
            let h = set_timeout_with_handle(
                move || leptos::task::spawn_local(async move { auth.refresh_now().await }),
                Duration::from_millis((wait * 1000.0) as u64),
            );
            if let Ok(h) = h {
                timer.set_value(Some(h));
            }
        });
        on_cleanup(move || {
            if let Some(h) = timer.try_update_value(|t| t.take()).flatten() {
                h.clear();
            }
        });
        // Another tab signed in, refreshed or signed out.
        let handle = window_event_listener(leptos::ev::storage, move |e| {
            if e.key().as_deref() != Some(key) {
                return;
            }
            let next = load(key);
            if session.with_untracked(|cur| *cur != next) {
                auth.adopt(next);
            }
        });
        on_cleanup(move || handle.remove());
        provide_context(auth);
        auth
    }

    pub fn api(&self) -> AuthApi {
        self.api.get_value()
    }

    /// Stores `s` (for other tabs and reloads) and makes it current.
    pub fn set(&self, s: Option<AuthSession>) {
        store(self.key, s.as_ref());
        self.expired_notice.set(None);
        self.adopt(s);
    }

    /// Makes `s` current: the sync engine first (REST and the realtime channel use the new
    /// token from the next request on), then the views.
    fn adopt(&self, s: Option<AuthSession>) {
        sync::set_access_token(s.as_ref().map(|s| s.access_token.clone()));
        self.session.set(s);
    }

    /// The current access token, refreshed first if it is about to expire.
    pub async fn fresh_token(&self) -> Option<String> {
        let s = self.session.get_untracked()?;
        if s.expires_at - now_secs() <= 5 {
            self.refresh_now().await;
        }
        self.session.get_untracked().map(|s| s.access_token)
    }

    /// Refreshes the session (or adopts the newer one another tab stored).
    pub async fn refresh_now(&self) {
        let Some(mine) = self.session.get_untracked() else {
            return;
        };
        if let Some(theirs) = load(self.key)
            && theirs.refresh_token != mine.refresh_token
            && theirs.expires_at >= mine.expires_at
        {
            self.adopt(Some(theirs));
            return;
        }
        match self.api().refresh(&mine.refresh_token).await {
            Ok(next) => self.set(Some(next)),
            Err(e) if e.is_session_dead() => {
                // A tab that lost the race may find the winner's session stored by now.
                if let Some(theirs) =
                    load(self.key).filter(|t| t.refresh_token != mine.refresh_token)
                {
                    self.adopt(Some(theirs));
                    return;
                }
                leptos::logging::warn!("session ended: {e}");
                self.set(None);
                self.expired_notice
                    .set(Some("Your sign-in has ended. Please sign in again.".into()));
            }
            Err(e) => {
                // Offline or a server hiccup: try again shortly, keep the user signed in.
                leptos::logging::warn!("token refresh failed, retrying: {e}");
                let auth = *self;
                let _ = set_timeout_with_handle(
                    move || leptos::task::spawn_local(async move { auth.refresh_now().await }),
                    Duration::from_secs(3),
                );
            }
        }
    }

    pub async fn sign_out(&self) {
        if let Some(s) = self.session.get_untracked() {
            // Best effort: the local sign-out happens whatever the server says.
            if let Err(e) = self.api().sign_out(&s.access_token).await {
                leptos::logging::warn!("sign-out: {e}");
            }
        }
        self.set(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gotrue_errors_of_every_vintage() {
        assert_eq!(
            parse_error(
                400,
                r#"{"code":"invalid_credentials","message":"Invalid login credentials"}"#
            ),
            AuthError::Refused {
                code: "invalid_credentials".into(),
                message: "Invalid login credentials".into()
            }
        );
        assert_eq!(
            parse_error(
                422,
                r#"{"code":422,"error_code":"user_already_exists","msg":"User already registered"}"#
            ),
            AuthError::Refused {
                code: "user_already_exists".into(),
                message: "User already registered".into()
            }
        );
        let e = parse_error(
            400,
            r#"{"error":"invalid_grant","error_description":"Invalid Refresh Token"}"#,
        );
        assert_eq!(
            e,
            AuthError::Refused {
                code: "invalid_grant".into(),
                message: "Invalid Refresh Token".into()
            }
        );
        assert!(
            parse_error(
                400,
                r#"{"code":"refresh_token_already_used","message":"x"}"#
            )
            .is_session_dead()
        );
        assert!(
            !parse_error(400, r#"{"code":"invalid_credentials","message":"x"}"#).is_session_dead()
        );
        assert_eq!(
            parse_error(502, "<html>"),
            AuthError::Refused {
                code: "http_502".into(),
                message: "HTTP 502".into()
            }
        );
    }

    #[test]
    fn parses_sessions() {
        let v = json!({"access_token": "a", "refresh_token": "r", "expires_in": 60, "expires_at": 100,
            "token_type": "bearer",
            "user": {"id": "u", "email": "e@x.test", "app_metadata": {"role": "staff"}, "user_metadata": {"name": "P"}}});
        let s = parse_session(&v).unwrap();
        assert_eq!(
            (s.expires_at, s.expires_in, s.user.role),
            (100, 60, AppRole::Staff)
        );
        assert_eq!(s.user.name.as_deref(), Some("P"));
        assert!(parse_session(&json!({"user": {}})).is_err());
    }
}
