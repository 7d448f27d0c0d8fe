//! Kiosk identities end to end (issue 15): an anonymous sign-up, a claimed session, a search,
//! and only that kiosk reads the results, over REST and realtime. Also the abuse limit on
//! anonymous sign-ups, and the removed `--legacy-anon-kiosk-reads` switch (now refused).

mod common;

use clap::Parser;
use common::{SECRET, TestServer};
use concierge_server::cli::Cli;
use concierge_server::jwt::Keys;
use concierge_wire::phoenix::{Event, Vsn};
use serde_json::{Value, json};

const SESSION: &str = "0b7d5a8e-2c3f-4e4a-9d61-5f0a7c9e1b23";

struct Call {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

async fn call(
    s: &TestServer,
    method: reqwest::Method,
    path: &str,
    bearer: Option<&str>,
    body: Value,
) -> Call {
    let mut r = reqwest::Client::new()
        .request(method, s.url(path))
        .header("apikey", &s.anon)
        .header("x-supabase-api-version", "2024-01-01")
        .header("Prefer", "return=representation")
        .json(&body);
    if let Some(t) = bearer {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.expect("request");
    let status = r.status().as_u16();
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = r.json().await.unwrap_or(Value::Null);
    Call {
        status,
        retry_after,
        body,
    }
}

/// `supabase.auth.signInAnonymously()`: an access token and the kiosk's user id.
async fn sign_in_anonymously(s: &TestServer) -> (String, String) {
    let (token, id, _) = anonymous_session(s).await;
    (token, id)
}

/// The same, with the refresh token.
async fn anonymous_session(s: &TestServer) -> (String, String, String) {
    let c = call(s, reqwest::Method::POST, "/auth/v1/signup", None, json!({})).await;
    assert_eq!(c.status, 200, "{}", c.body);
    let user = &c.body["user"];
    assert_eq!(user["is_anonymous"], true, "{user}");
    assert_eq!(user["role"], "authenticated");
    assert_eq!(user["email"], "");
    assert!(user["app_metadata"].get("role").is_none(), "{user}");
    let token = c.body["access_token"].as_str().unwrap().to_owned();
    let claims: Value = Keys::new(SECRET).verify_as(&token).unwrap();
    assert_eq!(claims["is_anonymous"], true);
    assert_eq!(claims["role"], "authenticated");
    let refresh = c.body["refresh_token"].as_str().unwrap().to_owned();
    (token, user["id"].as_str().unwrap().to_owned(), refresh)
}

async fn catalogue(s: &TestServer) {
    s.insert(
        "hotels",
        json!({"id": "rt-hotel", "name": "RT Hotel", "timezone": "Asia/Kolkata"}),
    )
    .await;
    let starts =
        concierge_server::time_fmt::format_ms(concierge_server::time_fmt::now_ms() + 3_600_000);
    s.insert(
        "events",
        json!({"hotel_id": "rt-hotel", "title": "Jazz", "category": "music", "starts_at": starts}),
    )
    .await;
}

fn results_of(session: &str) -> String {
    format!("/rest/v1/kiosk_results?session_id=eq.{session}")
}

#[tokio::test]
async fn only_the_kiosk_that_claimed_a_session_reads_its_results() {
    // The default server: no switch.
    let s = TestServer::start(&[]).await;
    catalogue(&s).await;
    let (k1, k1_id, k1_refresh) = anonymous_session(&s).await;
    let (k2, _) = sign_in_anonymously(&s).await;

    // K1 claims the session it shows; nobody can claim it again.
    let c = call(
        &s,
        reqwest::Method::POST,
        "/rest/v1/kiosk_sessions",
        Some(&k1),
        json!({"id": SESSION}),
    )
    .await;
    assert_eq!(c.status, 201, "{}", c.body);
    assert_eq!(c.body[0]["owner_id"], k1_id.as_str());
    let c = call(
        &s,
        reqwest::Method::POST,
        "/rest/v1/kiosk_sessions",
        Some(&k2),
        json!({"id": SESSION}),
    )
    .await;
    assert_eq!(
        (c.status, c.body["code"].as_str()),
        (409, Some("23505")),
        "{}",
        c.body
    );

    // Both kiosks watch the session's results; only the owner's subscription delivers.
    let spec = json!([{"event": "INSERT", "schema": "public", "table": "kiosk_results",
                       "filter": format!("session_id=eq.{SESSION}")}]);
    let mut watchers = Vec::new();
    for token in [&k1, &k2] {
        let mut ws = s.client(&s.anon, Vsn::V2).await;
        let payload = json!({"config": {"postgres_changes": spec}, "access_token": token});
        ws.push("realtime:kiosk", "phx_join", payload, Some("1"))
            .await;
        assert_eq!(ws.recv().await.payload["status"], "ok");
        assert_eq!(ws.recv().await.payload["status"], "ok", "subscribed");
        watchers.push(ws);
    }
    let c = call(
        &s,
        reqwest::Method::POST,
        &format!("/api/event/by-interests?session_id={SESSION}"),
        None,
        json!({"interests": "live jazz", "hotel_id": "rt-hotel"}),
    )
    .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let m = watchers[0].recv().await;
    assert_eq!(m.event, Event::PostgresChanges);
    assert_eq!(m.payload["data"]["record"]["owner_id"], k1_id.as_str());
    assert!(
        watchers[1].recv_within(400).await.is_none(),
        "K2 saw K1's results"
    );

    // REST: the owner reads them (with or without naming the session); nobody else does.
    for path in [results_of(SESSION), "/rest/v1/kiosk_results".into()] {
        let c = call(&s, reqwest::Method::GET, &path, Some(&k1), Value::Null).await;
        assert_eq!(c.status, 200, "{}", c.body);
        assert_eq!(
            c.body.as_array().map(Vec::len),
            Some(1),
            "{path}: {}",
            c.body
        );
    }
    let c = call(
        &s,
        reqwest::Method::GET,
        &results_of(SESSION),
        Some(&k2),
        Value::Null,
    )
    .await;
    assert_eq!(c.body, json!([]));
    let c = call(
        &s,
        reqwest::Method::GET,
        &results_of(SESSION),
        None,
        Value::Null,
    )
    .await;
    assert_eq!(
        (c.status, c.body["code"].as_str()),
        (401, Some("42501")),
        "{}",
        c.body
    );

    // The identity is a user of /auth/v1 like any other: it reads itself and refreshes.
    let c = call(
        &s,
        reqwest::Method::GET,
        "/auth/v1/user",
        Some(&k1),
        Value::Null,
    )
    .await;
    assert_eq!(
        (c.status, &c.body["is_anonymous"]),
        (200, &json!(true)),
        "{}",
        c.body
    );
    let c = call(
        &s,
        reqwest::Method::POST,
        "/auth/v1/token?grant_type=refresh_token",
        None,
        json!({"refresh_token": k1_refresh}),
    )
    .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(
        c.body["user"]["id"],
        k1_id.as_str(),
        "the same kiosk identity"
    );
}

#[tokio::test]
async fn anonymous_sign_ups_are_rate_limited_per_address() {
    let s = TestServer::start(&[
        "--anonymous-sign-up-burst",
        "2",
        "--anonymous-sign-ups-per-hour",
        "1",
    ])
    .await;
    sign_in_anonymously(&s).await;
    sign_in_anonymously(&s).await;
    let c = call(
        &s,
        reqwest::Method::POST,
        "/auth/v1/signup",
        None,
        json!({}),
    )
    .await;
    assert_eq!(c.status, 429, "{}", c.body);
    assert_eq!(c.body["code"], "over_request_rate_limit");
    let wait: u64 = c.retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    // Email sign-ups are not this limit's business.
    let c = call(
        &s,
        reqwest::Method::POST,
        "/auth/v1/signup",
        None,
        json!({"email": "guest@x.test", "password": "secret-pw"}),
    )
    .await;
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.body["user"]["is_anonymous"], false);

    let off = TestServer::start(&["--anonymous-sign-ups-per-hour", "0"]).await;
    let c = call(
        &off,
        reqwest::Method::POST,
        "/auth/v1/signup",
        None,
        json!({}),
    )
    .await;
    assert_eq!(
        (c.status, &c.body["code"]),
        (422, &json!("anonymous_provider_disabled"))
    );
}

/// The anon key's old reading right (`--legacy-anon-kiosk-reads`, a session id as the
/// capability) is gone, switch and all: the server refuses the flag as an unknown argument, in
/// its parser and as a binary, rather than starting with a setting it no longer has.
#[test]
fn the_removed_legacy_anon_switch_is_refused_as_an_unknown_argument() {
    let parsed = Cli::try_parse_from(["concierge-server", "--legacy-anon-kiosk-reads", "true"]);
    let e = parsed.expect_err("the flag must be refused");
    assert_eq!(e.kind(), clap::error::ErrorKind::UnknownArgument, "{e}");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("t.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_concierge-server"))
        .args(["--addr", "127.0.0.1:0", "--db"])
        .arg(&db)
        .args(["--legacy-anon-kiosk-reads", "true"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run concierge-server");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // clap's exit status for a usage error, and its message naming the flag.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unexpected argument '--legacy-anon-kiosk-reads'"),
        "{stderr}"
    );
    assert!(!db.exists(), "refused before opening the database");
}

/// Naming a session is not a capability: the bare anon key reads no kiosk's results over
/// REST, even the one session it names and even right after searching for it.
#[tokio::test]
async fn the_anon_key_reads_no_named_session() {
    let s = TestServer::start(&[]).await;
    catalogue(&s).await;
    let c = call(
        &s,
        reqwest::Method::POST,
        &format!("/api/event/by-interests?session_id={SESSION}"),
        None,
        json!({"interests": "live jazz", "hotel_id": "rt-hotel"}),
    )
    .await;
    assert_eq!(c.status, 201, "{}", c.body);
    let c = call(
        &s,
        reqwest::Method::GET,
        &results_of(SESSION),
        None,
        Value::Null,
    )
    .await;
    assert_eq!(
        (c.status, &c.body["code"]),
        (401, &json!("42501")),
        "{}",
        c.body
    );
}
