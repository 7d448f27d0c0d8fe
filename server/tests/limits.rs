//! Bounded cost per request: query-size limits answer 400 (PGRST100), and a query that runs
//! past the statement timeout is cancelled with PostgREST's 57014 while other reads go on.

mod common;

use common::TestServer;
use serde_json::{Value, json};

async fn get(s: &TestServer, path_and_query: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(s.url(path_and_query))
        .header("apikey", &s.service)
        .send()
        .await
        .expect("get");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn oversized_queries_are_refused_with_a_parse_error_not_a_500() {
    let s = TestServer::start(&[]).await;
    let many = |item: &str, n: usize| vec![item; n].join(",");
    let cases = [
        // > 2,000 order terms gave a 500 (SQLite's own limit) before.
        format!("/rest/v1/events?order={}", many("title.desc", 2_500)),
        format!("/rest/v1/events?order={}", many("title", 33)),
        format!("/rest/v1/events?select={}", many("title", 65)),
        format!("/rest/v1/events?title=eq.{}", "x".repeat(1025)),
        format!("/rest/v1/events?title=ilike.{}", "*a".repeat(17)),
        format!("/rest/v1/events?or=(title.like.{})", "*a".repeat(17)),
    ];
    for path in &cases {
        let (status, body) = get(&s, path).await;
        assert_eq!(status, 400, "{}: {body}", &path[..60]);
        assert_eq!(body["code"], "PGRST100", "{body}");
        assert!(
            body["details"]
                .as_str()
                .is_some_and(|d| d.contains("at most"))
        );
    }
    // At the limits, the same queries are fine.
    for path in [
        format!("/rest/v1/events?order={}", many("title", 32)),
        format!("/rest/v1/events?select={}", many("title", 64)),
        format!("/rest/v1/events?title=ilike.{}", "*a".repeat(16)),
    ] {
        assert_eq!(get(&s, &path).await.0, 200, "{path}");
    }
}

/// A pattern whose literal tail almost matches everywhere: matching costs text × pattern.
fn slow_pattern() -> String {
    format!("*{}b", "a".repeat(1000))
}

/// A GET as the service role in its own task: its status, `Retry-After` and body; the status
/// is also sent to `done` as soon as it is known.
fn spawn_get(
    s: &TestServer,
    path: &str,
    done: Option<tokio::sync::mpsc::UnboundedSender<u16>>,
) -> tokio::task::JoinHandle<(u16, Option<reqwest::header::HeaderValue>, Value)> {
    let url = s.url(path);
    let key = s.service.clone();
    tokio::spawn(async move {
        let r = reqwest::Client::new()
            .get(url)
            .header("apikey", key)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let retry = r.headers().get("retry-after").cloned();
        let body = r.json::<Value>().await.unwrap();
        if let Some(done) = done {
            let _ = done.send(status);
        }
        (status, retry, body)
    })
}

async fn fill_long_texts(s: &TestServer) {
    let text = "a".repeat(60_000);
    for _ in 0..6 {
        let rows: Vec<Value> = (0..8)
            .map(|_| json!({"session_id": text, "results": {}}))
            .collect();
        let r = reqwest::Client::new()
            .post(s.url("/rest/v1/kiosk_results"))
            .header("apikey", &s.service)
            .json(&rows)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    s.insert(
        "kiosk_results",
        json!({"session_id": "short", "results": {}}),
    )
    .await;
}

#[tokio::test]
async fn a_slow_query_is_cancelled_with_57014_while_ordinary_reads_answer() {
    let s = TestServer::start(&["--statement-timeout-ms", "300"]).await;
    fill_long_texts(&s).await;
    let slow_path = format!(
        "/rest/v1/kiosk_results?select=id&session_id=like.{}",
        slow_pattern()
    );
    let slow = spawn_get(&s, &slow_path, None);
    // Ordinary reads while the slow one runs (or has just been cut off) all answer.
    for _ in 0..5 {
        let (status, body) = get(
            &s,
            "/rest/v1/kiosk_results?select=session_id&session_id=eq.short",
        )
        .await;
        assert_eq!((status, body), (200, json!([{"session_id": "short"}])));
    }
    let (status, _, body) = slow.await.unwrap();
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["code"], "57014");
    assert_eq!(
        body["message"],
        "canceling statement due to statement timeout"
    );

    // The same timeout guards the writer: a PATCH whose filter is slow is cancelled and
    // changes nothing, and the writer goes on serving.
    let r = reqwest::Client::new()
        .patch(s.url(&format!(
            "/rest/v1/kiosk_results?session_id=like.{}",
            slow_pattern()
        )))
        .header("apikey", &s.service)
        .json(&json!({"results": {"changed": true}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "57014");
    let (_, all) = get(&s, "/rest/v1/kiosk_results?select=results").await;
    assert_eq!(all.as_array().unwrap().len(), 49);
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|r| r["results"] == json!({}))
    );
    s.insert(
        "kiosk_results",
        json!({"session_id": "after", "results": {}}),
    )
    .await;
}

/// A flood of slow pattern reads holds at most the pattern lanes (one reader by default):
/// ordinary reads keep answering while every accepted slow read is still running or waiting,
/// and pattern reads beyond the lanes and their queue are refused at once with 429.
#[tokio::test]
async fn a_flood_of_slow_patterns_holds_one_reader_and_the_excess_gets_429() {
    let s = TestServer::start(&[
        "--statement-timeout-ms",
        "1000",
        "--pattern-read-lanes",
        "1",
        "--pattern-read-queue",
        "3",
    ])
    .await;
    fill_long_texts(&s).await;
    let slow_path = format!(
        "/rest/v1/kiosk_results?select=id&session_id=like.{}",
        slow_pattern()
    );
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
    let slow: Vec<_> = (0..12)
        .map(|_| spawn_get(&s, &slow_path, Some(done_tx.clone())))
        .collect();
    // A refusal means the lane and its queue were full: four slow reads are in the gate.
    let first = tokio::time::timeout(std::time::Duration::from_secs(30), done_rx.recv())
        .await
        .expect("a slow read answered")
        .unwrap();
    assert_eq!(
        first, 429,
        "the first answer is a refusal, not a finished slow read"
    );
    for _ in 0..20 {
        let (status, body) = get(
            &s,
            "/rest/v1/kiosk_results?select=session_id&session_id=eq.short",
        )
        .await;
        assert_eq!((status, body), (200, json!([{"session_id": "short"}])));
    }
    // Every ordinary read answered before any accepted slow read did.
    while let Ok(status) = done_rx.try_recv() {
        assert_eq!(
            status, 429,
            "a slow read finished before the ordinary reads"
        );
    }
    let mut answers = Vec::new();
    for h in slow {
        answers.push(h.await.unwrap());
    }
    let refused: Vec<_> = answers.iter().filter(|a| a.0 == 429).collect();
    let cut: Vec<_> = answers.iter().filter(|a| a.0 == 500).collect();
    assert_eq!((refused.len(), cut.len()), (8, 4), "{answers:?}");
    for (_, retry, body) in refused {
        assert_eq!(body["code"], "PGRST429", "{body}");
        assert_eq!(retry.as_ref().unwrap(), "1");
    }
    for (_, _, body) in cut {
        assert_eq!(body["code"], "57014", "{body}");
    }
}
