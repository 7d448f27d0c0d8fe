//! Helpers shared by the wasm test files (each `tests/wasm_*.rs` is its own crate).
#![allow(dead_code)]

use gloo_timers::future::TimeoutFuture;
use serde_json::Value;

/// Polls `ok` every 10 ms until it holds; fails the test after `timeout_ms`.
pub async fn wait_until(what: &str, timeout_ms: f64, mut ok: impl FnMut() -> bool) {
    let start = js_sys::Date::now();
    while !ok() {
        assert!(
            js_sys::Date::now() - start < timeout_ms,
            "timed out after {timeout_ms} ms waiting for {what}"
        );
        TimeoutFuture::new(10).await;
    }
}

/// The server named at build time (`CONCIERGE_TEST_SERVER`); `None` (and a log line saying
/// the test was skipped) without one.
pub fn test_server() -> Option<&'static str> {
    let s = option_env!("CONCIERGE_TEST_SERVER");
    if s.is_none() {
        web_sys::console::log_1(
            &"SKIPPED: set CONCIERGE_TEST_SERVER at build time to run the server tests".into(),
        );
    }
    s
}

/// The anon key: `CONCIERGE_TEST_ANON_KEY`, else the server's `/config.json`.
pub async fn anon_key(base: &str) -> String {
    if let Some(k) = option_env!("CONCIERGE_TEST_ANON_KEY") {
        return k.to_owned();
    }
    let resp = gloo_net::http::Request::get(&format!("{base}/config.json"))
        .send()
        .await
        .expect("GET /config.json (the server must allow CORS, or set CONCIERGE_TEST_ANON_KEY)");
    let v: Value = resp.json().await.expect("config.json is JSON");
    v["anon_key"]
        .as_str()
        .expect("config.json has anon_key")
        .to_owned()
}
