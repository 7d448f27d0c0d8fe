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
