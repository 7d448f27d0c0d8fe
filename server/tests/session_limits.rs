//! Sessions (issue 14, Medium 8): a customer has at most one open session at a time; a second
//! request is refused with an error that says so, and is allowed again once the first ends.

mod common;

use common::TestServer;
use serde_json::{Value, json};

/// A customer requests a chat session.
async fn request_session(s: &TestServer, bearer: &str) -> (u16, Value) {
    let body = json!({"kind": "chat"});
    call(s, reqwest::Method::POST, "/rest/v1/sessions", bearer, body).await
}

async fn call(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: Value,
) -> (u16, Value) {
    let r = reqwest::Client::new()
        .request(method, s.url(path))
        .header("apikey", &s.anon)
        .header("Prefer", "return=representation")
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn customer(s: &TestServer, email: &str) -> String {
    let r = reqwest::Client::new()
        .post(s.url("/auth/v1/signup"))
        .header("apikey", &s.anon)
        .json(&json!({"email": email, "password": "secret-pw", "data": {"name": "Guest"}}))
        .send()
        .await
        .expect("signup");
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    body["access_token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn a_second_open_session_is_refused_saying_why() {
    let s = TestServer::start(&[]).await;
    let ada = customer(&s, "ada@x.test").await;
    let ben = customer(&s, "ben@x.test").await;
    let post = reqwest::Method::POST;
    let (st, first) = request_session(&s, &ada).await;
    assert_eq!(st, 201, "{first}");
    let (st, body) = request_session(&s, &ada).await;
    assert_eq!(st, 409, "{body}");
    assert_eq!(body["code"], "23505");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("only one open session"),
        "{body}"
    );
    // Two at once in one request: refused as well.
    let (st, _) = call(
        &s,
        post.clone(),
        "/rest/v1/sessions",
        &ben,
        json!([{"kind": "chat"}, {"kind": "video"}]),
    )
    .await;
    assert_eq!(st, 409);
    // Another customer is not affected.
    let (st, _) = request_session(&s, &ben).await;
    assert_eq!(st, 201);
    // Once the first ends, the customer may ask again.
    let id = first[0]["id"].as_str().expect("id");
    let (st, body) = call(
        &s,
        reqwest::Method::PATCH,
        &format!("/rest/v1/sessions?id=eq.{id}"),
        &ada,
        json!({"status": "cancelled"}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let (st, body) = request_session(&s, &ada).await;
    assert_eq!(st, 201, "{body}");
}

/// A `429` in PostgREST's shape, naming whose budget ran out, with `Retry-After`.
async fn assert_too_many(s: &TestServer, bearer: &str, per: &str) {
    let r = reqwest::Client::new()
        .post(s.url("/rest/v1/sessions"))
        .header("apikey", &s.anon)
        .bearer_auth(bearer)
        .json(&json!({"kind": "chat"}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "PGRST429", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("session requests"), "{body}");
    assert!(message.ends_with(per), "{body}");
}

#[tokio::test]
async fn session_requests_past_the_users_limit_get_429() {
    let s = TestServer::start(&["--session-requests-per-user-per-minute", "2"]).await;
    let ada = customer(&s, "ada@x.test").await;
    let ben = customer(&s, "ben@x.test").await;
    let (st, _) = request_session(&s, &ada).await;
    assert_eq!(st, 201);
    // A refused request (the open-session rule) counts too: each one is work.
    let (st, _) = request_session(&s, &ada).await;
    assert_eq!(st, 409);
    assert_too_many(&s, &ada, "user").await;
    // Another user has a budget of their own.
    let (st, _) = request_session(&s, &ben).await;
    assert_eq!(st, 201);
    // The service role is trusted and not counted.
    let r = reqwest::Client::new()
        .post(s.url("/rest/v1/sessions"))
        .header("apikey", &s.service)
        .json(&json!({"kind": "chat", "customer_id": "00000000-0000-4000-8000-000000000001"}))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status().as_u16(), 429);
}

#[tokio::test]
async fn session_requests_past_the_addresss_limit_get_429() {
    let s = TestServer::start(&["--session-requests-per-ip-per-minute", "2"]).await;
    let ada = customer(&s, "ada@x.test").await;
    let ben = customer(&s, "ben@x.test").await;
    let cy = customer(&s, "cy@x.test").await;
    assert_eq!(request_session(&s, &ada).await.0, 201);
    assert_eq!(request_session(&s, &ben).await.0, 201);
    assert_too_many(&s, &cy, "client address").await;
}
