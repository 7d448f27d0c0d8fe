//! `/auth/v1` against the real server: what a hostile or broken client gets back. The happy
//! paths are proven with supabase-js itself (`tests/conformance/auth.test.mjs`).

mod common;

use common::TestServer;
use serde_json::Value;

async fn post(s: &TestServer, path: &str, body: Vec<u8>, versioned: bool) -> (u16, Value) {
    let mut r = reqwest::Client::new()
        .post(s.url(path))
        .header("apikey", &s.anon)
        .header("content-type", "application/json")
        .body(body);
    if versioned {
        r = r.header("x-supabase-api-version", "2024-01-01");
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

#[tokio::test]
async fn bad_bodies_get_gotrue_shaped_errors() {
    let s = TestServer::start(&[]).await;
    // An oversized body: refused before it is read into memory, in GoTrue's shape.
    let huge = format!(
        r#"{{"email":"a@b.test","password":"{}"}}"#,
        "x".repeat(200 * 1024)
    );
    for path in ["/auth/v1/signup", "/auth/v1/token?grant_type=password"] {
        let (st, body) = post(&s, path, huge.clone().into_bytes(), true).await;
        assert_eq!(st, 413, "{path}: {body}");
        assert_eq!(body["code"], "request_too_large", "{path}: {body}");
        assert!(body["message"].as_str().is_some(), "{path}: {body}");

        let (st, body) = post(&s, path, huge.clone().into_bytes(), false).await;
        assert_eq!(st, 413, "{path}: {body}");
        assert_eq!(body["code"], 413, "legacy shape: {body}");
        assert_eq!(body["error_code"], "request_too_large", "{body}");
    }
    // Not JSON, not an object, not UTF-8.
    for bad in [
        b"{\"email\": ".to_vec(),
        b"[1, 2]".to_vec(),
        vec![0xff, 0xfe, 0x00],
    ] {
        let (st, body) = post(&s, "/auth/v1/signup", bad.clone(), true).await;
        assert_eq!(st, 400, "{bad:?}: {body}");
        assert_eq!(body["code"], "bad_json", "{bad:?}: {body}");
    }
    // Nothing was created by any of it: the same email can still sign up.
    let (st, body) = post(
        &s,
        "/auth/v1/signup",
        br#"{"email":"a@b.test","password":"long-enough"}"#.to_vec(),
        true,
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert!(body["access_token"].as_str().is_some(), "{body}");
}
