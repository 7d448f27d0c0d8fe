//! Kiosk identities as the app makes them (`src/kiosk/identity.rs`): an anonymous sign-in
//! (GoTrue `POST /auth/v1/signup` with neither email nor password, supabase-js
//! `signInAnonymously()`), then a claim of the guest's session id in `kiosk_sessions`. The
//! booking and reply benchmarks act as such kiosks; the server's anonymous sign-up limit must
//! allow as many as they make (scripts/bench raises it for those runs).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum IdentityError {
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("{what}: server answered {status}: {body}")]
    Status {
        what: &'static str,
        status: u16,
        body: String,
    },
    #[error("sign-up answer without {0}")]
    Malformed(&'static str),
}

/// One kiosk user: its access token (valid for the server's token lifetime, an hour by
/// default, longer than any run here).
#[derive(Debug, Clone)]
pub struct Identity {
    pub access_token: Arc<str>,
}

/// The HTTP client and keys every kiosk call needs.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub url: Arc<str>,
    pub anon_key: Arc<str>,
}

impl Api {
    pub fn new(url: &str, anon_key: &str, pool: usize) -> Result<Api, IdentityError> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(pool)
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Api {
            http,
            url: url.into(),
            anon_key: anon_key.into(),
        })
    }

    /// A request to `path` with the anon key as `apikey` and `bearer` as the token.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
    ) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .header("apikey", &*self.anon_key)
            .bearer_auth(bearer)
    }

    /// A new anonymous user.
    pub async fn sign_in_anonymously(&self) -> Result<Identity, IdentityError> {
        let req = self
            .http
            .post(format!("{}/auth/v1/signup", self.url))
            .header("apikey", &*self.anon_key);
        let res = with_json(req, &json!({"data": {}})).send().await?;
        let v: Value = checked("anonymous sign-up", res).await?;
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or(IdentityError::Malformed("access_token"))?;
        Ok(Identity {
            access_token: token.into(),
        })
    }

    /// `who` claims the kiosk session `session_id` (its conversation and results become its).
    pub async fn claim_session(
        &self,
        who: &Identity,
        session_id: &str,
    ) -> Result<(), IdentityError> {
        let req = self
            .request(
                reqwest::Method::POST,
                "/rest/v1/kiosk_sessions",
                &who.access_token,
            )
            .header("Prefer", "return=minimal");
        let res = with_json(req, &json!({ "id": session_id })).send().await?;
        checked::<Value>("session claim", res).await.map(drop)
    }

    /// A new kiosk user that owns `session`: its access token (what the load client's kiosk
    /// sockets and the abuse probes subscribe with).
    pub async fn kiosk(&self, session: &str) -> Result<String, IdentityError> {
        let who = self.sign_in_anonymously().await?;
        self.claim_session(&who, session).await?;
        Ok(who.access_token.to_string())
    }

    /// `n` kiosk users signed in with at most `concurrency` sign-ups in flight; the first
    /// failure ends it.
    pub async fn sign_in_many(
        &self,
        n: usize,
        concurrency: usize,
    ) -> Result<Vec<Identity>, IdentityError> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let batch = concurrency.max(1).min(n - out.len());
            let tasks: Vec<_> = (0..batch)
                .map(|_| {
                    let api = self.clone();
                    tokio::spawn(async move { api.sign_in_anonymously().await })
                })
                .collect();
            for t in tasks {
                match t.await {
                    Ok(r) => out.push(r?),
                    Err(_) => return Err(IdentityError::Malformed("a finished sign-up task")),
                }
            }
        }
        Ok(out)
    }
}

/// `req` with `body` as its JSON body (the bench's reqwest has no `json` feature: the main
/// workload writes pre-formatted bodies).
pub fn with_json(req: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    req.header("Content-Type", "application/json")
        .body(body.to_string())
}

/// The JSON body of a successful answer (`Value::Null` when empty), or the error.
pub async fn checked<T: serde::de::DeserializeOwned + Default>(
    what: &'static str,
    res: reqwest::Response,
) -> Result<T, IdentityError> {
    let status = res.status();
    let text = res.text().await?;
    if !status.is_success() {
        return Err(IdentityError::Status {
            what,
            status: status.as_u16(),
            body: text.chars().take(200).collect(),
        });
    }
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    serde_json::from_str(&text).map_err(|_| IdentityError::Malformed("a JSON body"))
}
