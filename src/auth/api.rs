//! The GoTrue subset the server speaks at `/auth/v1` (hosted Supabase Auth answers the same
//! requests): sign in, sign up, anonymous sign-in (the kiosk's identity), refresh, sign out.

use serde_json::{Value, json};

use super::session::{AuthSession, parse_session};
use crate::http::{Backend, HttpError};

/// The auth endpoints of one backend.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthApi {
    pub backend: Backend,
}

impl AuthApi {
    async fn post(
        &self,
        path: &str,
        body: Value,
        bearer: Option<&str>,
    ) -> Result<Option<Value>, HttpError> {
        let mut req = self
            .backend
            .post(&format!("/auth/v1/{path}"))
            .header("X-Supabase-Api-Version", "2024-01-01");
        if let Some(t) = bearer {
            req = req.bearer(t);
        }
        let text = req.json(&body)?.text().await?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| HttpError::Malformed(e.to_string()))
    }

    async fn session(&self, path: &str, body: Value) -> Result<AuthSession, HttpError> {
        let v = self
            .post(path, body, None)
            .await?
            .ok_or_else(|| HttpError::Malformed("empty answer".into()))?;
        parse_session(&v, crate::clock::now_unix())
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Result<AuthSession, HttpError> {
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
    ) -> Result<AuthSession, HttpError> {
        self.session(
            "signup",
            json!({"email": email, "password": password, "data": {"name": name}}),
        )
        .await
    }

    /// supabase-js `signInAnonymously()`: `POST /signup` with neither email nor password
    /// makes a new user with `is_anonymous: true` (role `authenticated`). Each call is a new
    /// user; nothing links it to an earlier one.
    pub async fn sign_in_anonymously(&self) -> Result<AuthSession, HttpError> {
        self.session("signup", json!({"data": {}})).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<AuthSession, HttpError> {
        self.session(
            "token?grant_type=refresh_token",
            json!({"refresh_token": refresh_token}),
        )
        .await
    }

    pub async fn sign_out(&self, access_token: &str) -> Result<(), HttpError> {
        self.post("logout?scope=local", json!({}), Some(access_token))
            .await
            .map(|_| ())
    }
}
