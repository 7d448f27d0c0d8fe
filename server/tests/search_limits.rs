//! Kiosk search abuse limits (issue 14, Medium 7): N searches per kiosk session and per
//! client address in a minute, then 429 in PostgREST's error shape with `Retry-After`.

mod common;

use common::TestServer;
use serde_json::{Value, json};

const A: &str = "0b7d5a8e-2c3f-4e4a-9d61-5f0a7c9e1b23";
const B: &str = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
const C: &str = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";

async fn search(s: &TestServer, session: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(s.url(&format!("/api/event/by-interests?session_id={session}")))
        .header("apikey", &s.anon)
        .json(&json!({"interests": "jazz", "hotel_id": "lim-hotel"}))
        .send()
        .await
        .expect("search")
}

async fn with_hotel(extra: &[&str]) -> TestServer {
    let s = TestServer::start(extra).await;
    s.insert(
        "hotels",
        json!({"id": "lim-hotel", "name": "Lim Hotel", "timezone": "UTC"}),
    )
    .await;
    s
}

async fn assert_too_many(r: reqwest::Response, per: &str) {
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "PGRST429", "{body}");
    assert!(body["message"].as_str().unwrap().contains(per), "{body}");
    assert!(body.get("details").is_some() && body.get("hint").is_some());
}

#[tokio::test]
async fn the_searches_of_one_session_past_its_limit_get_429() {
    let s = with_hotel(&["--searches-per-session-per-minute", "3"]).await;
    for _ in 0..3 {
        assert_eq!(search(&s, A).await.status().as_u16(), 201);
    }
    assert_too_many(search(&s, A).await, "kiosk session").await;
    // Another session has its own count.
    assert_eq!(search(&s, B).await.status().as_u16(), 201);
}

#[tokio::test]
async fn the_searches_of_one_address_past_its_limit_get_429() {
    let s = with_hotel(&["--searches-per-ip-per-minute", "2"]).await;
    assert_eq!(search(&s, A).await.status().as_u16(), 201);
    assert_eq!(search(&s, B).await.status().as_u16(), 201);
    assert_too_many(search(&s, C).await, "client address").await;
}

#[tokio::test]
async fn a_kiosk_session_holds_at_most_its_cap_of_results() {
    let s = with_hotel(&["--kiosk-results-per-session", "2"]).await;
    assert_eq!(search(&s, A).await.status().as_u16(), 201);
    assert_eq!(search(&s, A).await.status().as_u16(), 201);
    let r = search(&s, A).await;
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "23514", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("at most 2 results"),
        "{body}"
    );
    // The same cap holds for a direct write, and another session is not affected.
    let r = reqwest::Client::new()
        .post(s.url("/rest/v1/kiosk_results"))
        .header("apikey", &s.service)
        .json(&json!({"session_id": A, "results": {"events": []}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(search(&s, B).await.status().as_u16(), 201);
}
