//! The app's one HTTP client: every request to the backend (PostgREST, GoTrue, the search API,
//! the sync engine's polls) is built and sent here, and every refusal is read by one parser.
//!
//! Reads of live rows never come through here directly: they are live queries (the sync
//! engine), whose shell sends its polls with [`Request`] too.

use concierge_wire::config::AppConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortSignal;

/// The HTTP methods the app uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// One backend: its base URL and the project's anon key, which every request carries as
/// `apikey` (as supabase-js does).
#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    pub base: String,
    pub anon_key: String,
}

impl Backend {
    pub fn new(base: impl Into<String>, anon_key: impl Into<String>) -> Backend {
        Backend {
            base: base.into(),
            anon_key: anon_key.into(),
        }
    }

    /// `config.url` (or the page's origin) and `config.anon_key`.
    pub fn from_config(config: &AppConfig) -> Backend {
        Backend::new(crate::boot::api_base(config), config.anon_key.clone())
    }

    /// `path` (starting with `/`) under the base URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.trim_end_matches('/'))
    }

    pub fn get(&self, path: &str) -> Request {
        self.request(Method::Get, path)
    }

    pub fn post(&self, path: &str) -> Request {
        self.request(Method::Post, path)
    }

    pub fn patch(&self, path: &str) -> Request {
        self.request(Method::Patch, path)
    }

    fn request(&self, method: Method, path: &str) -> Request {
        Request::new(method, self.url(path)).header("apikey", &self.anon_key)
    }
}

/// A request being built: method, URL, query pairs, headers and an optional body.
#[derive(Debug)]
pub struct Request {
    method: Method,
    url: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Option<String>,
    signal: Option<AbortSignal>,
}

/// A response of any status, with its body as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub text: String,
}

impl Reply {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body of a 2xx answer, or the server's refusal.
    pub fn into_text(self) -> Result<String, HttpError> {
        if self.ok() {
            Ok(self.text)
        } else {
            Err(HttpError::Refused(Refusal::parse(self.status, &self.text)))
        }
    }
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            signal: None,
        }
    }

    /// A GET of a full URL (the sync engine builds its own, headers included).
    pub fn get(url: impl Into<String>) -> Request {
        Request::new(Method::Get, url)
    }

    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `Authorization: Bearer <token>`: a user's access token, or the anon key for an
    /// anonymous caller.
    pub fn bearer(self, token: &str) -> Request {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    /// One query pair, URL-encoded when sent.
    pub fn query(mut self, name: &str, value: &str) -> Request {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A JSON body (and its `Content-Type`).
    pub fn json(mut self, body: &impl Serialize) -> Result<Request, HttpError> {
        let text = serde_json::to_string(body).map_err(|e| HttpError::Malformed(e.to_string()))?;
        self.body = Some(text);
        Ok(self.header("Content-Type", "application/json"))
    }

    /// Aborts the request when `signal` fires.
    pub fn abort_signal(mut self, signal: AbortSignal) -> Request {
        self.signal = Some(signal);
        self
    }

    /// Sends the request; any status is an answer. Only a failure to reach the server (or an
    /// abort) is an error.
    pub async fn send(self) -> Result<Reply, HttpError> {
        // `fetch` through web-sys directly: gloo-net's builder was a convenience only, and
        // dropping it takes its error and JSON layers out of the wasm.
        let request = self
            .build()
            .map_err(|e| HttpError::Malformed(js_message(&e)))?;
        let window = web_sys::window().ok_or_else(|| HttpError::Network("no window".into()))?;
        let resp: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .and_then(|r| r.dyn_into())
            .map_err(|e| HttpError::Network(js_message(&e)))?;
        let status = resp.status();
        let text = match resp.text() {
            Ok(promise) => JsFuture::from(promise).await.map(|t| t.as_string()),
            Err(e) => Err(e),
        };
        let text = match text {
            Ok(text) => text.unwrap_or_default(),
            // A refusal whose body is lost is still a refusal.
            Err(_) if !resp.ok() => String::new(),
            Err(e) => return Err(HttpError::Network(js_message(&e))),
        };
        Ok(Reply { status, text })
    }

    /// The `web_sys::Request`: query pairs form-encoded (as `URLSearchParams` does) after
    /// any the URL already has.
    fn build(&self) -> Result<web_sys::Request, JsValue> {
        let mut url = self.url.clone();
        if !self.query.is_empty() {
            let params = web_sys::UrlSearchParams::new()?;
            for (k, v) in &self.query {
                params.append(k, v);
            }
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(&String::from(params.to_string()));
        }
        let headers = web_sys::Headers::new()?;
        for (k, v) in &self.headers {
            headers.append(k, v)?;
        }
        let init = web_sys::RequestInit::new();
        init.set_method(self.method.as_str());
        init.set_headers(&headers);
        if let Some(body) = &self.body {
            init.set_body(&JsValue::from_str(body));
        }
        if let Some(signal) = &self.signal {
            init.set_signal(Some(signal));
        }
        web_sys::Request::new_with_str_and_init(&url, &init)
    }

    /// The body of a 2xx answer; any other status is the server's [`Refusal`].
    pub async fn text(self) -> Result<String, HttpError> {
        self.send().await?.into_text()
    }

    /// A 2xx answer's JSON body as `T`.
    pub async fn fetch_json<T: DeserializeOwned>(self) -> Result<T, HttpError> {
        let text = self.text().await?;
        serde_json::from_str(&text).map_err(|e| HttpError::Malformed(e.to_string()))
    }
}

/// A thrown JS value as text: an `Error`'s `toString()` (`TypeError: Failed to fetch`).
fn js_message(value: &JsValue) -> String {
    match value.dyn_ref::<js_sys::Error>() {
        Some(e) => String::from(e.to_string()),
        None => value.as_string().unwrap_or_else(|| format!("{value:?}")),
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HttpError {
    #[error("Cannot reach the server ({0}).")]
    Network(String),
    /// The server answered with an error: its message is what the user reads.
    #[error("{}", .0.message)]
    Refused(Refusal),
    #[error("The server answered something unexpected ({0}).")]
    Malformed(String),
    /// A request that needs a signed-in user was about to go out without one.
    #[error("You are signed out. Please sign in again.")]
    SignedOut,
}

impl HttpError {
    /// What went wrong, without the sentence around it (for a caller that words its own).
    pub fn detail(&self) -> String {
        match self {
            HttpError::Network(m) | HttpError::Malformed(m) => m.clone(),
            other => other.to_string(),
        }
    }

    /// The machine-readable code of a refusal.
    pub fn code(&self) -> Option<&str> {
        match self {
            HttpError::Refused(r) => Some(&r.code),
            _ => None,
        }
    }

    /// GoTrue says the refresh token is gone for good (signed out elsewhere, rotated, revoked).
    pub fn is_session_dead(&self) -> bool {
        self.code().is_some_and(|c| {
            c.starts_with("refresh_token") || c == "session_not_found" || c == "user_not_found"
        })
    }
}

/// A server's error body, whichever service wrote it: PostgREST's
/// `{code, message, details, hint}`, GoTrue's `{code, message}` (API version 2024-01-01),
/// `{error_code, msg}` or OAuth's `{error, error_description}`. A body that is none of these
/// (an HTML error page) still gives a code and a message from the status.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub details: Option<String>,
    pub hint: Option<String>,
}

impl Refusal {
    pub fn parse(status: u16, body: &str) -> Refusal {
        let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let pick = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_owned))
        };
        Refusal {
            status,
            code: pick(&["error_code", "code", "error"])
                .unwrap_or_else(|| format!("http_{status}")),
            message: pick(&["message", "msg", "error_description"])
                .unwrap_or_else(|| format!("HTTP {status}")),
            details: pick(&["details"]),
            hint: pick(&["hint"]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(status: u16, body: &str) -> HttpError {
        HttpError::Refused(Refusal::parse(status, body))
    }

    #[test]
    fn parses_gotrue_errors_of_every_vintage() {
        let cases = [
            // API version 2024-01-01
            (
                400,
                r#"{"code":"invalid_credentials","message":"Invalid login credentials"}"#,
                "invalid_credentials",
                "Invalid login credentials",
            ),
            // Older GoTrue: a numeric `code` beside `error_code`.
            (
                422,
                r#"{"code":422,"error_code":"user_already_exists","msg":"User already registered"}"#,
                "user_already_exists",
                "User already registered",
            ),
            // OAuth
            (
                400,
                r#"{"error":"invalid_grant","error_description":"Invalid Refresh Token"}"#,
                "invalid_grant",
                "Invalid Refresh Token",
            ),
            // Not JSON at all: a proxy's error page.
            (502, "<html>", "http_502", "HTTP 502"),
        ];
        for (status, body, code, message) in cases {
            let e = refused(status, body);
            assert_eq!((e.code(), e.to_string()), (Some(code), message.to_owned()));
        }
    }

    #[test]
    fn only_a_gone_refresh_token_ends_the_session() {
        let dead = refused(
            400,
            r#"{"code":"refresh_token_already_used","message":"x"}"#,
        );
        assert!(dead.is_session_dead());
        assert!(!refused(400, r#"{"code":"invalid_credentials","message":"x"}"#).is_session_dead());
        assert!(!HttpError::Network("down".into()).is_session_dead());
    }

    #[test]
    fn refusals_carry_postgrest_messages() {
        let r = Refusal::parse(
            403,
            r#"{"code":"42501","message":"new row violates row-level security policy for table \"sessions\": x","details":null,"hint":"h"}"#,
        );
        assert_eq!(
            r,
            Refusal {
                status: 403,
                code: "42501".into(),
                message: "new row violates row-level security policy for table \"sessions\": x"
                    .into(),
                details: None,
                hint: Some("h".into()),
            }
        );
        assert_eq!(refused(500, "").to_string(), "HTTP 500");
    }

    #[test]
    fn urls_join_the_base_without_doubling_the_slash() {
        let b = Backend::new("http://h:1/", "k");
        assert_eq!(b.url("/rest/v1/sessions"), "http://h:1/rest/v1/sessions");
        assert_eq!(
            Backend::new("", "k").url("/auth/v1/signup"),
            "/auth/v1/signup"
        );
    }
}
