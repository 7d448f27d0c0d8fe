//! Sign-in and sign-up abuse limits (issue 14, Medium 6): per client address, per account, and
//! the bound on concurrent password hashing, all answered as GoTrue does (`429`,
//! `over_request_rate_limit`, `Retry-After`).

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::{Value, json};

struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

async fn post(s: &TestServer, path: &str, body: Value) -> Answer {
    let r = reqwest::Client::new()
        .post(s.url(path))
        .header("apikey", &s.anon)
        .header("x-supabase-api-version", "2024-01-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = r.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        retry_after,
        body,
    }
}

async fn sign_in(s: &TestServer, email: &str, password: &str) -> Answer {
    post(
        s,
        "/auth/v1/token?grant_type=password",
        json!({"email": email, "password": password}),
    )
    .await
}

async fn sign_up(s: &TestServer, email: &str) -> Answer {
    post(
        s,
        "/auth/v1/signup",
        json!({"email": email, "password": "correct-horse"}),
    )
    .await
}

fn assert_rate_limited(a: &Answer, what: &str) {
    assert_eq!(a.status, 429, "{what}: {}", a.body);
    assert_eq!(
        a.body["code"], "over_request_rate_limit",
        "{what}: {}",
        a.body
    );
    assert!(a.body["message"].as_str().is_some(), "{what}: {}", a.body);
    assert!(a.retry_after.is_some_and(|s| s >= 1), "{what}: Retry-After");
}

#[tokio::test]
async fn failed_sign_ins_for_one_account_are_limited() {
    let s = TestServer::start(&["--failed-sign-in-burst", "3"]).await;
    assert_eq!(sign_up(&s, "victim@x.test").await.status, 200);
    for i in 0..3 {
        let a = sign_in(&s, "victim@x.test", "wrong-guess").await;
        assert_eq!(a.status, 400, "guess {i}: {}", a.body);
        assert_eq!(a.body["code"], "invalid_credentials");
    }
    let a = sign_in(&s, "Victim@X.test", "wrong-guess").await;
    assert_rate_limited(&a, "the fourth guess, any spelling of the email");
    // While the account is locked, even the right password waits (a guesser cannot tell).
    assert_eq!(
        sign_in(&s, "victim@x.test", "correct-horse").await.status,
        429
    );
    // Another account is unaffected, and an unknown one is limited the same way.
    assert_eq!(sign_up(&s, "other@x.test").await.status, 200);
    assert_eq!(
        sign_in(&s, "other@x.test", "correct-horse").await.status,
        200
    );
    for _ in 0..3 {
        assert_eq!(sign_in(&s, "nobody@x.test", "x-guess").await.status, 400);
    }
    assert_rate_limited(&sign_in(&s, "nobody@x.test", "x-guess").await, "unknown");
}

#[tokio::test]
async fn successful_sign_ins_do_not_use_up_the_account_limit() {
    let s = TestServer::start(&["--failed-sign-in-burst", "2"]).await;
    assert_eq!(sign_up(&s, "staff@x.test").await.status, 200);
    for i in 0..6 {
        let a = sign_in(&s, "staff@x.test", "correct-horse").await;
        assert_eq!(a.status, 200, "sign-in {i}: {}", a.body);
    }
}

#[tokio::test]
async fn sign_ins_and_sign_ups_per_address_are_limited() {
    let s = TestServer::start(&["--sign-in-burst", "4"]).await;
    let a = sign_up(&s, "a@x.test").await;
    assert_eq!(a.status, 200);
    assert_eq!(sign_up(&s, "b@x.test").await.status, 200);
    assert_eq!(sign_in(&s, "a@x.test", "correct-horse").await.status, 200);
    assert_eq!(sign_in(&s, "c@x.test", "nope-nope").await.status, 400);
    assert_rate_limited(&sign_in(&s, "b@x.test", "correct-horse").await, "sign-in");
    assert_rate_limited(&sign_up(&s, "d@x.test").await, "sign-up");
    // Refreshing a session is not a sign-in and stays open.
    let refreshed = post(
        &s,
        "/auth/v1/token?grant_type=refresh_token",
        json!({"refresh_token": a.body["refresh_token"]}),
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
}

#[tokio::test]
async fn a_flood_beyond_the_hashing_queue_is_refused_not_queued() {
    let s = TestServer::start(&[
        "--hash-workers",
        "1",
        "--hash-queue",
        "2",
        "--sign-in-burst",
        "1000",
    ])
    .await;
    let s = std::sync::Arc::new(s);
    // Distinct unknown accounts: only the hashing bound can refuse them.
    let flood: Vec<_> = (0..40)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { sign_in(&s, &format!("u{i}@x.test"), "guess-guess").await })
        })
        .collect();
    let (mut refused, mut failed) = (0, 0);
    for t in flood {
        let a = tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .expect("no sign-in hangs")
            .unwrap();
        match a.status {
            400 => failed += 1,
            429 => {
                assert_rate_limited(&a, "beyond the queue");
                refused += 1;
            }
            other => panic!("{other}: {}", a.body),
        }
    }
    assert!(refused > 0, "some are refused ({failed} checked)");
    assert!(failed >= 3, "the worker and the queue were used ({failed})");
    // Once the flood drains, sign-ins are checked again.
    assert_eq!(sign_in(&s, "late@x.test", "guess-guess").await.status, 400);
}

async fn refresh(s: &TestServer, token: &Value) -> Answer {
    post(
        s,
        "/auth/v1/token?grant_type=refresh_token",
        json!({ "refresh_token": token }),
    )
    .await
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_get_the_same_successor() {
    let s = TestServer::start(&[]).await;
    let t0 = sign_up(&s, "tabs@x.test").await.body["refresh_token"].clone();
    let (a, b) = tokio::join!(refresh(&s, &t0), refresh(&s, &t0));
    assert_eq!((a.status, b.status), (200, 200), "{} {}", a.body, b.body);
    assert_eq!(a.body["refresh_token"], b.body["refresh_token"]);
    assert_ne!(a.body["refresh_token"], t0);
    // The sign-in is still alive: its successor refreshes.
    assert_eq!(refresh(&s, &a.body["refresh_token"]).await.status, 200);
}

#[tokio::test]
async fn reuse_after_the_interval_revokes_the_chain() {
    let s = TestServer::start(&["--refresh-token-reuse-interval-secs", "0"]).await;
    let t0 = sign_up(&s, "thief@x.test").await.body["refresh_token"].clone();
    let t1 = refresh(&s, &t0).await.body["refresh_token"].clone();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let reuse = refresh(&s, &t0).await;
    assert_eq!(reuse.status, 400);
    assert_eq!(reuse.body["code"], "refresh_token_already_used");
    assert_eq!(
        refresh(&s, &t1).await.body["code"],
        "refresh_token_already_used"
    );
}

#[tokio::test]
async fn refresh_tokens_expire() {
    let s = TestServer::start(&["--refresh-token-ttl-secs", "1"]).await;
    let t0 = sign_up(&s, "idle@x.test").await.body["refresh_token"].clone();
    let t1 = refresh(&s, &t0).await;
    assert_eq!(t1.status, 200, "young: {}", t1.body);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let old = refresh(&s, &t1.body["refresh_token"]).await;
    assert_eq!(old.status, 400, "{}", old.body);
    assert_eq!(old.body["code"], "session_expired");
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused_over_rest() {
    let s = TestServer::start(&[]).await;
    let keys = concierge_server::jwt::Keys::new(common::SECRET);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let get = |nbf: i64| {
        let token = keys.sign_as(&json!({"role": "anon", "exp": now + 3600, "nbf": nbf}));
        let url = s.url("/rest/v1/events?select=id&limit=1");
        async move {
            reqwest::Client::new()
                .get(url)
                .header("apikey", &token)
                .header("authorization", format!("Bearer {token}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(get(now + 3600).await, 401, "nbf an hour ahead");
    assert_eq!(get(now + 5).await, 200, "a few seconds of clock skew");
    assert_eq!(get(now - 60).await, 200);
}

#[tokio::test]
async fn access_tokens_die_with_their_sign_in_over_rest_and_realtime() {
    use concierge_wire::phoenix::Vsn;
    let s = TestServer::start(&[]).await;
    let up = sign_up(&s, "leaving@x.test").await;
    let token = up.body["access_token"].as_str().unwrap().to_owned();
    let rest = |token: String| {
        let url = s.url("/rest/v1/events?select=id&limit=1");
        let anon = s.anon.clone();
        async move {
            reqwest::Client::new()
                .get(url)
                .header("apikey", anon)
                .header("authorization", format!("Bearer {token}"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(rest(token.clone()).await, 200);
    // A second sign-in of the same user survives a local sign-out of the first.
    let other = sign_in(&s, "leaving@x.test", "correct-horse").await;
    let other = other.body["access_token"].as_str().unwrap().to_owned();
    let out = reqwest::Client::new()
        .post(s.url("/auth/v1/logout?scope=local"))
        .header("apikey", &s.anon)
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    assert_eq!(
        rest(token.clone()).await,
        401,
        "REST refuses the signed-out token"
    );
    assert_eq!(rest(other).await, 200, "the other sign-in still works");
    let mut c = s.client(&s.anon, Vsn::V2).await;
    c.push(
        "realtime:after-logout",
        "phx_join",
        json!({"config": {"postgres_changes": []}, "access_token": token}),
        Some("j"),
    )
    .await;
    let reply = c.recv().await.payload;
    assert_eq!(reply["status"], "error", "realtime refuses it: {reply}");
}
