//! The concierge's reply queue: an unanswered customer message gets one concierge reply after
//! the delay (seen over realtime too); a staff reply in time means none; a queued message
//! survives a restart and is answered exactly once, also when the reply was written just
//! before the crash.

mod common;

use std::path::Path;
use std::time::Duration;

use clap::Parser;
use common::{Client, SECRET, TestServer};
use concierge_server::cli::Cli;
use concierge_server::concierge::reply::reply_id;
use concierge_server::jwt::Keys;
use concierge_wire::phoenix::{Event, Vsn};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CUSTOMER: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const STAFF: &str = "55555555-5555-4555-8555-555555555555";

fn token(sub: &str, staff: bool) -> String {
    let mut claims = json!({"role": "authenticated", "sub": sub, "exp": 4_000_000_000i64,
                            "user_metadata": {"name": if staff { "Sam" } else { "Ada" }}});
    if staff {
        claims["app_metadata"] = json!({"role": "staff"});
    }
    Keys::new(SECRET).sign_as(&claims)
}

/// A server on `db` (so a second one can take over the same file), and its stop switch.
struct Node {
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<()>,
}

impl Node {
    async fn start(db: &Path, extra: &[&str]) -> Node {
        let mut argv = vec![
            "concierge-server".to_owned(),
            "--addr".into(),
            "127.0.0.1:0".into(),
            "--db".into(),
            db.display().to_string(),
            "--jwt-secret".into(),
            SECRET.into(),
        ];
        argv.extend(extra.iter().map(|s| s.to_string()));
        let cli = Cli::try_parse_from(argv).expect("cli");
        let server = concierge_server::build(&cli.serve).await.expect("build");
        let addr = server.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(async move {
            let _ = server
                .run(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Node {
            addr,
            stop: Some(tx),
            done,
        }
    }

    async fn shut_down(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.done).await;
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

fn keys() -> Keys {
    Keys::new(SECRET)
}

async fn rest(
    base: &str,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .request(method, format!("{base}{path}"))
        .header("apikey", keys().anon_key())
        .bearer_auth(bearer)
        .header("Prefer", "return=representation");
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn new_session(base: &str, staff: Option<&str>) -> String {
    let (status, rows) = rest(
        base,
        reqwest::Method::POST,
        "/rest/v1/sessions",
        &keys().service_role_key(),
        Some(json!({"customer_id": CUSTOMER, "status": if staff.is_some() { "live" } else { "pending" },
                    "kind": "chat", "staff_id": staff})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rows}");
    rows[0]["id"].as_str().unwrap().to_owned()
}

async fn say(base: &str, who: &str, session: &str, body: &str) -> String {
    let id = uuid::Uuid::new_v4().to_string();
    let (status, rows) = rest(
        base,
        reqwest::Method::POST,
        "/rest/v1/messages",
        who,
        Some(json!({"id": id, "session_id": session, "body": body})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rows}");
    id
}

async fn conversation(base: &str, session: &str) -> Vec<Value> {
    let (_, rows) = rest(
        base,
        reqwest::Method::GET,
        &format!("/rest/v1/messages?session_id=eq.{session}&order=created_at.asc"),
        &keys().service_role_key(),
        None,
    )
    .await;
    rows.as_array().cloned().unwrap_or_default()
}

fn concierge_replies(rows: &[Value]) -> usize {
    rows.iter()
        .filter(|r| r["author_role"] == "concierge")
        .count()
}

/// Waits until `session` has `n` concierge replies (or `ms` pass); returns the conversation.
async fn until_replies(base: &str, session: &str, n: usize, ms: u64) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    loop {
        let rows = conversation(base, session).await;
        if concierge_replies(&rows) >= n || tokio::time::Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_message_gets_one_concierge_reply_over_realtime() {
    let s = TestServer::start(&["--seed-demo", "--concierge-reply-delay-ms", "300"]).await;
    let base = s.url("");
    let sid = new_session(&base, None).await;
    let customer = token(CUSTOMER, false);
    let mut ws: Client = s.client(&s.anon, Vsn::V2).await;
    let spec = json!({"event": "INSERT", "schema": "public", "table": "messages",
                      "filter": format!("session_id=eq.{sid}")});
    ws.push(
        "realtime:chat",
        "phx_join",
        json!({"config": {"postgres_changes": [spec]}, "access_token": customer}),
        Some("1"),
    )
    .await;
    let asked = say(&base, &customer, &sid, "Any live music tonight?").await;
    let mut seen = Vec::new();
    while let Some(m) = ws.recv_within(5_000).await {
        if m.event != Event::PostgresChanges {
            continue;
        }
        let record = m.payload["data"]["record"].clone();
        let concierge = record["author_role"] == "concierge";
        seen.push(record);
        if concierge {
            break;
        }
    }
    let reply = seen.last().expect("changes arrived");
    assert_eq!(
        seen[0]["id"],
        asked.as_str(),
        "the customer's own message first"
    );
    assert_eq!(reply["author_role"], "concierge", "{seen:?}");
    assert_eq!(reply["id"], reply_id(&asked).as_str());
    let body = reply["body"].as_str().unwrap();
    assert!(body.contains("A member of staff will follow up"), "{body}");
    // Once: no second reply however long we wait.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(concierge_replies(&conversation(&base, &sid).await), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_reply_in_time_means_no_concierge_reply() {
    let s = TestServer::start(&["--concierge-reply-delay-ms", "600"]).await;
    let base = s.url("");
    let sid = new_session(&base, Some(STAFF)).await;
    say(&base, &token(CUSTOMER, false), &sid, "Fresh towels, please").await;
    say(&base, &token(STAFF, true), &sid, "On their way!").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let rows = conversation(&base, &sid).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(concierge_replies(&rows), 0);
    // And two questions in a row get one reply, reading both.
    say(&base, &token(CUSTOMER, false), &sid, "Also,").await;
    say(
        &base,
        &token(CUSTOMER, false),
        &sid,
        "something for the kids?",
    )
    .await;
    let rows = until_replies(&base, &sid, 1, 5_000).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let rows = [rows, conversation(&base, &sid).await].concat();
    let replies: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter(|r| r["author_role"] == "concierge")
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(replies.len(), 1, "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_message_survives_a_restart_and_is_answered_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    // First life: the concierge waits an hour, so the messages are only queued.
    let first = Node::start(&db, &["--concierge-reply-delay-ms", "3600000"]).await;
    let base = first.url("");
    let plain = new_session(&base, None).await;
    let asked = say(&base, &token(CUSTOMER, false), &plain, "A taxi at 6?").await;
    // A second customer whose reply was written just before a crash: the reply is there,
    // its queue row is not yet gone.
    let other = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";
    let (status, rows) = rest(
        &base,
        reqwest::Method::POST,
        "/rest/v1/sessions",
        &keys().service_role_key(),
        Some(json!({"customer_id": other, "status": "pending", "kind": "chat"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rows}");
    let crashed = rows[0]["id"].as_str().unwrap().to_owned();
    let asked_before_crash = say(&base, &token(other, false), &crashed, "Spa tomorrow?").await;
    let (status, rows) = rest(
        &base,
        reqwest::Method::POST,
        "/rest/v1/messages",
        &keys().service_role_key(),
        Some(
            json!({"id": reply_id(&asked_before_crash), "session_id": crashed,
                    "author_role": "concierge", "body": "written before the crash"}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{rows}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(concierge_replies(&conversation(&base, &plain).await), 0);
    first.shut_down().await;

    // Second life on the same file, answering quickly.
    let second = Node::start(&db, &["--concierge-reply-delay-ms", "100"]).await;
    let base = second.url("");
    let rows = until_replies(&base, &plain, 1, 5_000).await;
    assert_eq!(concierge_replies(&rows), 1, "{rows:?}");
    let reply = rows
        .iter()
        .find(|r| r["author_role"] == "concierge")
        .unwrap();
    assert_eq!(reply["id"], reply_id(&asked).as_str());
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(concierge_replies(&conversation(&base, &plain).await), 1);
    let rows = conversation(&base, &crashed).await;
    assert_eq!(concierge_replies(&rows), 1, "answered once: {rows:?}");
    assert_eq!(
        rows.iter()
            .find(|r| r["author_role"] == "concierge")
            .unwrap()["body"],
        "written before the crash"
    );
    second.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kiosk_question_is_answered_like_any_other() {
    let s = TestServer::start(&["--seed-demo", "--concierge-reply-delay-ms", "200"]).await;
    let base = s.url("");
    let kiosk_id = "66666666-6666-4666-8666-666666666666";
    let kiosk = Keys::new(SECRET).sign_as(&json!({
        "role": "authenticated", "sub": kiosk_id, "exp": 4_000_000_000i64, "is_anonymous": true,
        "app_metadata": {"provider": "anonymous"}
    }));
    let claim = uuid::Uuid::new_v4().to_string();
    let (status, body) = rest(
        &base,
        reqwest::Method::POST,
        "/rest/v1/kiosk_sessions",
        &kiosk,
        Some(json!({"id": claim})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let asked = say(&base, &kiosk, &claim, "Something for the kids?").await;
    let rows = until_replies(&base, &claim, 1, 5_000).await;
    assert_eq!(concierge_replies(&rows), 1, "{rows:?}");
    let reply = rows
        .iter()
        .find(|r| r["author_role"] == "concierge")
        .unwrap();
    assert_eq!(reply["id"], reply_id(&asked).as_str());
    // The kiosk reads its conversation, reply included.
    let (_, mine) = rest(
        &base,
        reqwest::Method::GET,
        &format!("/rest/v1/messages?session_id=eq.{claim}"),
        &kiosk,
        None,
    )
    .await;
    assert_eq!(mine.as_array().map(Vec::len), Some(2), "{mine}");
}

/// The queue's depth, for the service role only: a waiting message counts until it is handled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_depth_is_for_the_service_role() {
    let s = TestServer::start(&["--concierge-reply-delay-ms", "600000"]).await;
    let base = s.url("");
    let depth = |bearer: Option<String>| {
        let url = s.url("/api/concierge/queue");
        async move {
            let mut req = reqwest::Client::new()
                .get(url)
                .header("apikey", keys().anon_key());
            if let Some(b) = bearer {
                req = req.bearer_auth(b);
            }
            let r = req.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let service = Some(keys().service_role_key());
    assert_eq!(
        depth(service.clone()).await,
        (StatusCode::OK, json!({"depth": 0}))
    );
    let session = new_session(&base, None).await;
    say(
        &base,
        &token(CUSTOMER, false),
        &session,
        "any jazz tonight?",
    )
    .await;
    say(&base, &token(CUSTOMER, false), &session, "or wine?").await;
    assert_eq!(depth(service).await, (StatusCode::OK, json!({"depth": 2})));
    // Both were stored just now: neither is older than a minute, both older than nothing.
    let older = |ms: u64| {
        let url = s.url(&format!("/api/concierge/queue?older_than_ms={ms}"));
        let key = keys().service_role_key();
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .header("apikey", keys().anon_key())
                .bearer_auth(key)
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(older(60_000).await, json!({"depth": 2, "older": 0}));
    assert_eq!(older(0).await, json!({"depth": 2, "older": 2}));
    assert_eq!(depth(None).await.0, StatusCode::FORBIDDEN, "the anon key");
    assert_eq!(
        depth(Some(token(STAFF, true))).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        depth(Some("not-a-token".into())).await.0,
        StatusCode::UNAUTHORIZED
    );
}
