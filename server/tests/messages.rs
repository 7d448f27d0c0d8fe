//! Messages over REST: the limits the rule book does not cover (a conversation's cap, the
//! per-user write rate, the reply queue's depth) and a retried send. The rules themselves are
//! cases in `tests/authz/cases.toml` (section "messages").

mod common;

use common::{SECRET, TestServer};
use concierge_server::jwt::Keys;
use reqwest::StatusCode;
use serde_json::{Value, json};

const CUSTOMER: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";

fn customer_token() -> String {
    Keys::new(SECRET).sign_as(&json!({
        "role": "authenticated", "sub": CUSTOMER, "exp": 4_000_000_000i64,
        "user_metadata": {"name": "Ada"}
    }))
}

/// A live session of the customer, made by the service role.
async fn session(s: &TestServer) -> String {
    let rows = s
        .insert(
            "sessions",
            json!({"customer_id": CUSTOMER, "status": "live", "kind": "chat"}),
        )
        .await;
    rows[0]["id"].as_str().unwrap().to_owned()
}

async fn send(s: &TestServer, session: &str, body: &str) -> (StatusCode, Value) {
    send_id(s, session, &uuid::Uuid::new_v4().to_string(), body).await
}

async fn send_id(s: &TestServer, session: &str, id: &str, body: &str) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(s.url("/rest/v1/messages"))
        .header("apikey", &s.anon)
        .bearer_auth(customer_token())
        .header("Prefer", "return=representation")
        .json(&json!({"id": id, "session_id": session, "body": body}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_retried_send_is_one_message() {
    let s = TestServer::start(&["--concierge-queue-depth", "0"]).await;
    let sid = session(&s).await;
    let id = uuid::Uuid::new_v4().to_string();
    let (first, row) = send_id(&s, &sid, &id, "Late checkout?").await;
    assert_eq!(first, StatusCode::CREATED, "{row}");
    assert_eq!(row[0]["author_role"], "customer");
    assert_eq!(row[0]["author_name"], "Ada");
    let (again, err) = send_id(&s, &sid, &id, "Late checkout?").await;
    assert_eq!(
        (again, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("23505"))
    );
    let all: Value = reqwest::Client::new()
        .get(s.url(&format!("/rest/v1/messages?session_id=eq.{sid}")))
        .header("apikey", &s.service)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_conversation_holds_at_most_its_cap() {
    let s = TestServer::start(&[
        "--messages-per-session",
        "2",
        "--concierge-queue-depth",
        "0",
    ])
    .await;
    let sid = session(&s).await;
    assert_eq!(send(&s, &sid, "one").await.0, StatusCode::CREATED);
    assert_eq!(send(&s, &sid, "two").await.0, StatusCode::CREATED);
    let (status, err) = send(&s, &sid, "three").await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("23514"))
    );
    assert!(
        err["message"].as_str().unwrap().contains("at most 2"),
        "{err}"
    );
}

#[tokio::test]
async fn message_writes_are_rate_limited_per_user() {
    let s = TestServer::start(&[
        "--message-writes-per-minute",
        "2",
        "--concierge-queue-depth",
        "0",
    ])
    .await;
    let sid = session(&s).await;
    assert_eq!(send(&s, &sid, "one").await.0, StatusCode::CREATED);
    assert_eq!(send(&s, &sid, "two").await.0, StatusCode::CREATED);
    let (status, err) = send(&s, &sid, "three").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{err}");
    assert_eq!(err["code"], "PGRST429");
    assert!(
        err["hint"].as_str().unwrap().starts_with("Retry after"),
        "{err}"
    );
    // The service role (the concierge, operators) is not limited.
    for i in 0..3 {
        s.insert(
            "messages",
            json!({"session_id": sid, "author_role": "concierge", "body": format!("r{i}")}),
        )
        .await;
    }
}

#[tokio::test]
async fn a_full_reply_queue_refuses_clearly() {
    // A day's delay: nothing is answered, so the one place in the queue stays taken.
    let s = TestServer::start(&[
        "--concierge-queue-depth",
        "1",
        "--concierge-reply-delay-ms",
        "86400000",
    ])
    .await;
    let sid = session(&s).await;
    assert_eq!(send(&s, &sid, "first").await.0, StatusCode::CREATED);
    let (status, err) = send(&s, &sid, "second").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{err}");
    assert_eq!(err["code"], "53400");
}
