//! A kiosk identity made the way the app makes one (src/kiosk/identity.rs): an anonymous
//! sign-up (`POST /auth/v1/signup` with `{}`, what supabase-js `signInAnonymously()` sends),
//! then a claim of the kiosk's session id in `kiosk_sessions`. The results written for that
//! session belong to the identity, and only its access token reads or watches them: the bare
//! anon key reads no kiosk's results.

use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum IdentityError {
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{step} answered {status}: {body}")]
    Status {
        step: &'static str,
        status: u16,
        body: String,
    },
    #[error("sign-up answer without an access_token")]
    NoToken,
}

/// Signs up anonymously and claims sessions, with the anon key as `apikey`.
#[derive(Clone)]
pub struct Identities {
    http: reqwest::Client,
    url: String,
    anon_key: String,
}

impl Identities {
    /// `pool`: idle connections kept per host (about the number of sign-ups in flight).
    pub fn new(url: &str, anon_key: &str, pool: usize) -> Result<Identities, IdentityError> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(pool)
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Identities {
            http,
            url: url.to_owned(),
            anon_key: anon_key.to_owned(),
        })
    }

    /// A new anonymous user; its access token.
    pub async fn sign_up(&self) -> Result<String, IdentityError> {
        let res = self
            .http
            .post(format!("{}/auth/v1/signup", self.url))
            .header("apikey", &self.anon_key)
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .await?;
        let body = checked(res, "sign-up").await?;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        v.get("access_token")
            .and_then(|t| t.as_str())
            .map(str::to_owned)
            .ok_or(IdentityError::NoToken)
    }

    /// Claims `session` for the user holding `token` (a second claim of an id is `409`).
    pub async fn claim(&self, token: &str, session: &str) -> Result<(), IdentityError> {
        let res = self
            .http
            .post(format!("{}/rest/v1/kiosk_sessions", self.url))
            .header("apikey", &self.anon_key)
            .bearer_auth(token)
            .header("Content-Type", "application/json")
            .header("Prefer", "return=minimal")
            .body(format!(r#"{{"id":"{session}"}}"#))
            .send()
            .await?;
        checked(res, "claim").await.map(drop)
    }

    /// A new identity that owns `session`: its access token.
    pub async fn kiosk(&self, session: &str) -> Result<String, IdentityError> {
        let token = self.sign_up().await?;
        self.claim(&token, session).await?;
        Ok(token)
    }
}

async fn checked(res: reqwest::Response, step: &'static str) -> Result<String, IdentityError> {
    let status = res.status();
    let body = res.text().await?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(IdentityError::Status {
            step,
            status: status.as_u16(),
            body: body.chars().take(200).collect(),
        })
    }
}
