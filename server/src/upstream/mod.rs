//! Upstream mode (issue 15): concierge-server in front of a hosted Supabase project.
//!
//! A hosted deployment is the Supabase project (Postgres, PostgREST, GoTrue, Realtime) plus any
//! number of stateless concierge-servers behind a load balancer. Such a server keeps no
//! database; it serves the app, its `/config.json` (naming the project's URL and anon key) and
//! the one thing the project cannot do by itself: the kiosk search
//! (`POST /api/event/by-interests`). The search reads the hotel and its events from the
//! project's REST API and writes the `kiosk_results` row there, both with the service key; the
//! project's trigger then sets the row's owner from `kiosk_sessions`, and Realtime delivers it
//! to the kiosk that claimed the session.
//!
//! This module is the REST client ([`Upstream`]); the server is `app::upstream_router`, started from `lib.rs`.
//!
//! Decisions:
//! - Every call has a connect timeout and an overall timeout, and an answer larger than
//!   [`MAX_RESPONSE_BYTES`] is refused: a slow or misbehaving upstream costs a kiosk one clear
//!   error, never a stuck worker or unbounded memory.
//! - Upstream trouble keeps PostgREST's error shape (`{code, message, details, hint}`): the
//!   project not answering (refused, timed out) is 503 `UPSTREAM_UNREACHABLE`; an answer that is
//!   an error status, too large or not PostgREST's JSON is 502 `UPSTREAM_ERROR`, with the
//!   upstream status and the start of its body in `details`.
//! - The caller's API key must be the project's anon or service key (compared, not decoded:
//!   the project's new `sb_publishable_…` keys are not JWTs, and its signing keys may be
//!   asymmetric). A bearer token is not verified here: the search writes with the service role
//!   whoever asks, exactly as in local mode, so the token could not change what is written.

use std::time::Duration;

use axum::http::StatusCode;
use reqwest::Url;
use serde_json::Value;

use crate::credentials::{Authorization, CredentialError, Credentials};
use crate::db::Row;
use crate::rest_error::RestError;

/// Largest upstream answer read (a hotel's whole catalogue fits many times over).
pub const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
/// Time to open a connection to the project.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Time for one whole upstream call, answer included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Error codes of upstream trouble (PostgREST's shape, our codes).
pub const UNREACHABLE_CODE: &str = "UPSTREAM_UNREACHABLE";
pub const BAD_ANSWER_CODE: &str = "UPSTREAM_ERROR";

/// Why upstream mode cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("--upstream-supabase {url}: {msg}")]
    Url { url: String, msg: String },
    #[error(
        "upstream mode needs the project's service key (CONCIERGE_UPSTREAM_SERVICE_KEY or --upstream-service-key)"
    )]
    MissingServiceKey,
    #[error(
        "upstream mode needs the project's anon key for /config.json (CONCIERGE_UPSTREAM_ANON_KEY or --upstream-anon-key)"
    )]
    MissingAnonKey,
    #[error("upstream HTTP client: {0}")]
    Client(String),
}

/// Why one upstream call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum UpstreamError {
    #[error("the upstream Supabase project did not answer")]
    Unreachable(String),
    #[error("the upstream Supabase project answered {status}")]
    Status { status: u16, body: String },
    #[error("the upstream Supabase project's answer is larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("the upstream Supabase project's answer is not what PostgREST sends")]
    BadAnswer(String),
}

impl From<UpstreamError> for RestError {
    fn from(e: UpstreamError) -> RestError {
        let message = e.to_string();
        match e {
            UpstreamError::Unreachable(why) => {
                RestError::new(StatusCode::SERVICE_UNAVAILABLE, UNREACHABLE_CODE, message)
                    .details(why)
                    .hint("Check the project's status and --upstream-supabase; retry shortly.")
            }
            UpstreamError::Status { body, .. } => {
                RestError::new(StatusCode::BAD_GATEWAY, BAD_ANSWER_CODE, message)
                    .details(body)
                    .hint("A 401 here means the service key does not belong to the project.")
            }
            UpstreamError::TooLarge => {
                RestError::new(StatusCode::BAD_GATEWAY, BAD_ANSWER_CODE, message)
            }
            UpstreamError::BadAnswer(why) => {
                RestError::new(StatusCode::BAD_GATEWAY, BAD_ANSWER_CODE, message).details(why)
            }
        }
    }
}

/// What to reach and with which keys.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// The project's base URL, without a trailing slash.
    pub url: String,
    pub service_key: String,
    pub anon_key: String,
}

impl UpstreamConfig {
    pub fn new(
        url: &str,
        service_key: Option<&str>,
        anon_key: Option<&str>,
    ) -> Result<UpstreamConfig, SetupError> {
        let bad = |msg: &str| SetupError::Url {
            url: url.to_owned(),
            msg: msg.to_owned(),
        };
        let parsed = Url::parse(url.trim()).map_err(|e| bad(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(bad("must be an http(s) URL with a host"));
        }
        let key = |k: Option<&str>| {
            k.map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
        };
        Ok(UpstreamConfig {
            url: parsed.as_str().trim_end_matches('/').to_owned(),
            service_key: key(service_key).ok_or(SetupError::MissingServiceKey)?,
            anon_key: key(anon_key).ok_or(SetupError::MissingAnonKey)?,
        })
    }
}

/// The hosted project's REST API, as the service role.
pub struct Upstream {
    http: reqwest::Client,
    config: UpstreamConfig,
}

impl Upstream {
    pub fn new(config: UpstreamConfig) -> Result<Upstream, SetupError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(|e| SetupError::Client(e.to_string()))?;
        Ok(Upstream { http, config })
    }

    pub fn config(&self) -> &UpstreamConfig {
        &self.config
    }

    /// The gateway's rule, for this project's keys: a key is required and must be the anon
    /// or the service key; an `Authorization` header, when sent, must be a bearer token.
    pub fn check_key(&self, creds: &Credentials) -> Result<(), RestError> {
        let key = creds
            .api_key
            .as_deref()
            .ok_or(CredentialError::MissingApiKey)?;
        match &creds.authorization {
            Authorization::NotBearer => return Err(CredentialError::NotBearer.into()),
            Authorization::NotText => return Err(CredentialError::AuthorizationNotText.into()),
            Authorization::Absent | Authorization::Bearer(_) => {}
        }
        if same(key, &self.config.anon_key) || same(key, &self.config.service_key) {
            Ok(())
        } else {
            Err(
                RestError::new(StatusCode::UNAUTHORIZED, "PGRST301", "Invalid API key")
                    .details("not the anon or service key of the upstream project"),
            )
        }
    }

    fn table_url(&self, table: &str) -> String {
        format!("{}/rest/v1/{table}", self.config.url)
    }

    fn authorized(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let key = &self.config.service_key;
        let req = req.header("apikey", key);
        // A legacy service_role key is a JWT and goes in both headers; the new `sb_secret_…`
        // keys are not, and the gateway wants them in `apikey` alone.
        if key.split('.').count() == 3 {
            req.bearer_auth(key)
        } else {
            req
        }
    }

    /// `GET /rest/v1/<table>?<query>` → the rows.
    async fn select(&self, table: &str, query: &[(&str, &str)]) -> Result<Vec<Row>, UpstreamError> {
        let req = self.authorized(self.http.get(self.table_url(table)).query(query));
        rows(read_json(req.send().await.map_err(transport)?).await?)
    }

    /// The hotel, when the project has it.
    pub async fn hotel(&self, hotel_id: &str) -> Result<Option<Row>, UpstreamError> {
        let id = format!("eq.{hotel_id}");
        let found = self
            .select("hotels", &[("select", "*"), ("id", &id), ("limit", "1")])
            .await?;
        Ok(found.into_iter().next())
    }

    /// All of the hotel's events (the search keeps the upcoming ones and orders them).
    pub async fn events(&self, hotel_id: &str) -> Result<Vec<Row>, UpstreamError> {
        let id = format!("eq.{hotel_id}");
        self.select("events", &[("select", "*"), ("hotel_id", &id)])
            .await
    }

    /// Inserts one `kiosk_results` row and returns it as stored.
    pub async fn insert_result(&self, row: Row) -> Result<Row, UpstreamError> {
        let req = self.authorized(
            self.http
                .post(self.table_url("kiosk_results"))
                .header("Prefer", "return=representation")
                .json(&Value::Object(row)),
        );
        let stored = rows(read_json(req.send().await.map_err(transport)?).await?)?;
        stored
            .into_iter()
            .next()
            .ok_or_else(|| UpstreamError::BadAnswer("the insert returned no row".into()))
    }
}

/// Key comparison that does not stop at the first differing byte.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn transport(e: reqwest::Error) -> UpstreamError {
    // `reqwest` names the URL in its message; the URL is the operator's, not a secret.
    // The whole chain: the last link is the useful one ("Connection refused").
    let mut why = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        why = format!("{why}: {c}");
        cause = c.source();
    }
    if e.is_connect() || e.is_timeout() || e.is_request() {
        UpstreamError::Unreachable(why)
    } else {
        UpstreamError::BadAnswer(why)
    }
}

/// Reads at most [`MAX_RESPONSE_BYTES`] of an answer; a non-2xx status is an error carrying
/// the start of the body (PostgREST's own error JSON, usually).
async fn read_json(mut resp: reqwest::Response) -> Result<Value, UpstreamError> {
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(UpstreamError::TooLarge);
    }
    let status = resp.status();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(UpstreamError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        return Err(UpstreamError::Status {
            status: status.as_u16(),
            body: text.chars().take(300).collect(),
        });
    }
    serde_json::from_slice(&body).map_err(|e| UpstreamError::BadAnswer(e.to_string()))
}

fn rows(v: Value) -> Result<Vec<Row>, UpstreamError> {
    let Value::Array(items) = v else {
        return Err(UpstreamError::BadAnswer(
            "expected a JSON array of rows".into(),
        ));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Object(row) => Ok(row),
            _ => Err(UpstreamError::BadAnswer(
                "a row is not a JSON object".into(),
            )),
        })
        .collect()
}

/// `/config.json` for the hosted project: the app talks to `url` (not to this server) with
/// its anon key; `overrides` (the `--app-config` object) win over both.
pub fn app_config(config: &UpstreamConfig, overrides: Option<Value>) -> Result<Value, String> {
    let base = concierge_wire::config::AppConfig {
        url: Some(config.url.clone()),
        // The search is ours, not the project's: the page's own origin.
        search_url: Some("/".into()),
        ..concierge_wire::config::AppConfig::with_anon_key(config.anon_key.clone())
    };
    let mut v = serde_json::to_value(base).map_err(|e| e.to_string())?;
    match (overrides, &mut v) {
        (None, _) => {}
        (Some(Value::Object(o)), Value::Object(m)) => m.extend(o),
        (Some(_), _) => return Err("--app-config must hold a JSON object".into()),
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_wants_an_http_url_and_both_keys() {
        let c = UpstreamConfig::new("https://abc.supabase.co/", Some("s"), Some("a")).unwrap();
        assert_eq!(c.url, "https://abc.supabase.co");
        assert!(matches!(
            UpstreamConfig::new("ftp://x", Some("s"), Some("a")),
            Err(SetupError::Url { .. })
        ));
        assert!(matches!(
            UpstreamConfig::new("not a url", Some("s"), Some("a")),
            Err(SetupError::Url { .. })
        ));
        assert!(matches!(
            UpstreamConfig::new("http://x", Some(" "), Some("a")),
            Err(SetupError::MissingServiceKey)
        ));
        assert!(matches!(
            UpstreamConfig::new("http://x", Some("s"), None),
            Err(SetupError::MissingAnonKey)
        ));
    }

    #[test]
    fn keys_compare_exactly() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "abcd"));
        assert!(!same("", "a"));
    }

    #[test]
    fn upstream_trouble_is_502_or_503_in_postgrest_shape() {
        let e: RestError = UpstreamError::Unreachable("connection refused".into()).into();
        assert_eq!(
            (e.status, e.code),
            (StatusCode::SERVICE_UNAVAILABLE, UNREACHABLE_CODE)
        );
        let e: RestError = UpstreamError::Status {
            status: 401,
            body: "{}".into(),
        }
        .into();
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_GATEWAY, BAD_ANSWER_CODE)
        );
        assert!(e.message.contains("401"), "{}", e.message);
        let e: RestError = UpstreamError::TooLarge.into();
        assert_eq!(e.status, StatusCode::BAD_GATEWAY);
    }
}
