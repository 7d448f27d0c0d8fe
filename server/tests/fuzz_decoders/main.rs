//! Property tests of every decoder that reads untrusted input (issue 14, "Also"): Phoenix
//! frames, PostgREST query strings, JSON bodies, tokens and `Authorization` headers. Each gets
//! arbitrary and grammar-shaped input and must answer with its own clear error, never panic:
//! the parsers directly, and the running server end to end (a panicking handler would drop
//! the connection instead of answering).

#[path = "../common/mod.rs"]
mod common;
mod hostile;

use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use common::{SECRET, TestServer};
use concierge_server::authz::Principal;
use concierge_server::credentials::Credentials;
use concierge_server::jwt::Keys;
use concierge_server::rest::query::parse_query;
use concierge_server::schema::Table;
use concierge_wire::phoenix::{Message, Vsn};
use futures_util::{SinkExt, StreamExt};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message as WsMessage;

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A PostgREST-shaped error body: JSON with a `code` and a non-empty `message`.
fn assert_rest_answer(status: u16, body: &[u8], what: &str) -> Result<(), TestCaseError> {
    let text = String::from_utf8_lossy(body);
    // 57014 (statement timeout) is PostgREST's 500; nothing else may be one.
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        TestCaseError::fail(format!("{what}: {status} body is not JSON ({e}): {text}"))
    })?;
    if status >= 400 {
        prop_assert!(v["code"].is_string(), "{what}: {status} {text}");
        prop_assert!(
            !v["message"].as_str().unwrap_or_default().is_empty(),
            "{what}: {text}"
        );
    }
    prop_assert!(
        status < 500 || v["code"] == "57014",
        "{what}: {status} {text}"
    );
    Ok(())
}

#[test]
fn phoenix_frames_decode_or_fail_clearly() {
    let mut runner = TestRunner::new(config(2048));
    runner
        .run(&hostile::phoenix_text(), |text| {
            for vsn in [Vsn::V1, Vsn::V2] {
                if let Err(e) = Message::decode(&text, vsn) {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn query_strings_parse_or_fail_clearly() {
    let mut runner = TestRunner::new(config(4096));
    let tables = proptest::sample::select(Table::ALL.to_vec());
    runner
        .run(&(tables, hostile::query_pairs()), |(table, pairs)| {
            if let Err(e) = parse_query(table, &pairs) {
                prop_assert!(e.status.is_client_error(), "{pairs:?}: {e:?}");
                prop_assert!(!e.message.is_empty());
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn tokens_and_authorization_headers_fail_clearly() {
    let keys = Keys::new(SECRET);
    let header = prop_oneof![
        hostile::token(keys.clone()).prop_map(|t| format!("Bearer {t}")),
        hostile::token(keys.clone()).prop_map(|t| format!("bearer  {t} ")),
        hostile::token(keys.clone()),
        ".{0,40}",
    ];
    let input = (
        proptest::option::of(hostile::token(keys.clone())),
        proptest::option::of(header),
        proptest::option::of(hostile::token(keys.clone())),
    );
    let mut runner = TestRunner::new(config(2048));
    runner
        .run(&input, |(api_key, authorization, query_key)| {
            let mut headers = HeaderMap::new();
            if let Some(v) = api_key.and_then(|k| HeaderValue::from_str(&k).ok()) {
                headers.insert("apikey", v);
            }
            if let Some(v) = authorization.and_then(|a| HeaderValue::from_str(&a).ok()) {
                headers.insert("authorization", v);
            }
            let query = query_key.map(|k| hostile::encode(&[("apikey".into(), k)]));
            let creds = Credentials::from_parts(&headers, query.as_deref());
            for outcome in [creds.principal(&keys), creds.api_key_principal(&keys)] {
                if let Err(e) = outcome {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
            if let Some(t) = creds.bearer()
                && let Err(e) = Principal::from_token(&keys, t)
            {
                prop_assert!(!e.to_string().is_empty());
            }
            Ok(())
        })
        .unwrap();
}

/// The server end to end: the generated query strings on every table's read, as the service
/// role (every filter is then applied, none refused by authorization first).
#[test]
fn the_server_answers_any_query_string() {
    let rt = runtime();
    let s = rt.block_on(TestServer::start(&[]));
    let http = reqwest::Client::new();
    let mut runner = TestRunner::new(config(192));
    runner
        .run(
            &(hostile::table_name(), hostile::query_pairs()),
            |(table, pairs)| {
                let url = s.url(&format!("/rest/v1/{table}?{}", hostile::encode(&pairs)));
                let (status, body) = rt.block_on(async {
                    let r = http
                        .get(url)
                        .header("apikey", &s.service)
                        .send()
                        .await
                        .expect("an answer, not a dropped connection");
                    (r.status().as_u16(), r.bytes().await.expect("body"))
                });
                assert_rest_answer(status, &body, &format!("GET {table} {pairs:?}"))
            },
        )
        .unwrap();
}

/// Insert, update and delete bodies and filters of any shape, as the service role (past
/// authorization) and as the anon key (refused by it).
#[test]
fn the_server_answers_any_write() {
    let rt = runtime();
    let s = rt.block_on(TestServer::start(&[]));
    let http = reqwest::Client::new();
    let method = proptest::sample::select(vec![
        reqwest::Method::POST,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ]);
    let input = (
        method,
        hostile::table_name(),
        hostile::query_pairs(),
        hostile::body(),
        any::<bool>(),
        any::<bool>(),
    );
    let mut runner = TestRunner::new(config(192));
    runner
        .run(
            &input,
            |(method, table, pairs, body, service, represent)| {
                let url = s.url(&format!("/rest/v1/{table}?{}", hostile::encode(&pairs)));
                let key = if service { &s.service } else { &s.anon };
                let prefer = if represent {
                    "return=representation"
                } else {
                    "return=minimal"
                };
                let (status, answer) = rt.block_on(async {
                    let r = http
                        .request(method.clone(), url)
                        .header("apikey", key)
                        .header("content-type", "application/json")
                        .header("prefer", prefer)
                        .body(body.clone())
                        .send()
                        .await
                        .expect("an answer, not a dropped connection");
                    (r.status().as_u16(), r.bytes().await.expect("body"))
                });
                if answer.is_empty() {
                    prop_assert!(status < 400, "{method} {table}: {status} without a body");
                    return Ok(());
                }
                assert_rest_answer(status, &answer, &format!("{method} {table} {pairs:?}"))
            },
        )
        .unwrap();
}

/// Any credentials on REST, auth and the search: an answer in each surface's shape.
#[test]
fn the_server_answers_any_credentials() {
    let rt = runtime();
    let s = rt.block_on(TestServer::start(&[]));
    let http = reqwest::Client::new();
    let keys = Keys::new(SECRET);
    let input = (
        proptest::option::of(hostile::token(keys.clone())),
        proptest::option::of(hostile::token(keys).prop_map(|t| format!("Bearer {t}"))),
        proptest::sample::select(vec!["/rest/v1/events?select=id", "/auth/v1/user"]),
    );
    let mut runner = TestRunner::new(config(128));
    runner
        .run(&input, |(api_key, authorization, path)| {
            let (status, body) = rt.block_on(async {
                let mut req = http.get(s.url(path));
                if let Some(k) = api_key
                    .as_deref()
                    .filter(|k| HeaderValue::from_str(k).is_ok())
                {
                    req = req.header("apikey", k);
                }
                if let Some(a) = authorization
                    .as_deref()
                    .filter(|a| HeaderValue::from_str(a).is_ok())
                {
                    req = req.header("authorization", a);
                }
                let r = req
                    .send()
                    .await
                    .expect("an answer, not a dropped connection");
                (r.status().as_u16(), r.bytes().await.expect("body"))
            });
            prop_assert!(
                status < 500,
                "{path}: {status} {}",
                String::from_utf8_lossy(&body)
            );
            let v: Value =
                serde_json::from_slice(&body).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(v.is_array() || v.is_object(), "{path}: {v}");
            Ok(())
        })
        .unwrap();
}

/// Any frames, text or binary, on a realtime socket: the socket keeps answering heartbeats
/// (a join with a bad payload gets its error reply; nothing ends the connection).
#[test]
fn a_realtime_socket_survives_any_frames() {
    let rt = runtime();
    let s = rt.block_on(TestServer::start(&[]));
    let frame = prop_oneof![
        6 => hostile::phoenix_text().prop_map(|t| WsMessage::Text(t.into())),
        1 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| WsMessage::Binary(b.into())),
    ];
    let vsn = proptest::sample::select(vec!["1.0.0", "2.0.0"]);
    let mut runner = TestRunner::new(config(96));
    runner
        .run(
            &(vsn, proptest::collection::vec(frame, 1..6)),
            |(vsn, frames)| {
                let alive = rt.block_on(async {
                    let (mut ws, _) =
                        tokio_tungstenite::connect_async(s.ws_url(&s.anon, Some(vsn)))
                            .await
                            .expect("connect");
                    for f in frames.clone() {
                        ws.send(f).await.expect("send");
                    }
                    let v = if vsn == "1.0.0" { Vsn::V1 } else { Vsn::V2 };
                    let hb = Message::new(
                        "phoenix",
                        concierge_wire::phoenix::Event::Heartbeat,
                        serde_json::json!({}),
                    )
                    .with_refs(None, Some("hb-probe".into()));
                    ws.send(WsMessage::Text(hb.encode(v).into()))
                        .await
                        .expect("send");
                    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
                    loop {
                        match tokio::time::timeout_at(deadline, ws.next()).await {
                            Ok(Some(Ok(WsMessage::Text(t)))) => {
                                let m =
                                    Message::decode(t.as_str(), v).expect("server frames decode");
                                if m.msg_ref.as_deref() == Some("hb-probe") {
                                    return true;
                                }
                            }
                            Ok(Some(Ok(_))) => continue,
                            _ => return false,
                        }
                    }
                });
                prop_assert!(alive, "socket ({vsn}) stopped answering after {frames:?}");
                Ok(())
            },
        )
        .unwrap();
}

/// `/auth/v1` bodies and query strings of any shape: an answer in GoTrue's error shape.
#[test]
fn the_auth_api_answers_any_body_and_query() {
    let rt = runtime();
    let s = rt.block_on(TestServer::start(&[]));
    let http = reqwest::Client::new();
    let path =
        proptest::sample::select(vec!["/auth/v1/token", "/auth/v1/signup", "/auth/v1/logout"]);
    let query = proptest::collection::vec(
        (
            proptest::sample::select(vec!["grant_type", "scope", "redirect_to", "x"])
                .prop_map(str::to_owned),
            prop_oneof![
                proptest::sample::select(vec!["password", "refresh_token", "global", "local"])
                    .prop_map(str::to_owned),
                hostile::nasty_text(),
            ],
        ),
        0..3,
    );
    let raw_query = prop_oneof![
        3 => query.prop_map(|q| hostile::encode(&q)),
        1 => "[%a-f0-9=&]{0,12}",
    ];
    let mut runner = TestRunner::new(config(128));
    runner
        .run(&(path, raw_query, hostile::body()), |(path, q, body)| {
            let (status, answer) = rt.block_on(async {
                let r = http
                    .post(s.url(&format!("{path}?{q}")))
                    .header("apikey", &s.anon)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .expect("an answer, not a dropped connection");
                (r.status().as_u16(), r.bytes().await.expect("body"))
            });
            let text = String::from_utf8_lossy(&answer);
            prop_assert!(status < 500, "{path}?{q}: {status} {text}");
            if status >= 400 {
                let v: Value = serde_json::from_slice(&answer).map_err(|e| {
                    TestCaseError::fail(format!("{path}?{q}: {status} {text}: {e}"))
                })?;
                prop_assert!(
                    v["msg"].is_string() || v["message"].is_string(),
                    "{path}?{q}: {text}"
                );
            }
            Ok(())
        })
        .unwrap();
}

/// Found by `the_server_answers_any_query_string`: a table name that is not UTF-8 got axum's
/// plain-text 400 instead of PostgREST's 404.
#[tokio::test]
async fn a_table_name_that_is_not_utf8_is_a_missing_relation() {
    let s = TestServer::start(&[]).await;
    let r = reqwest::Client::new()
        .get(s.url("/rest/v1/%aa%ff"))
        .header("apikey", &s.anon)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let v: Value = r.json().await.expect("PostgREST's JSON shape");
    assert_eq!(v["code"], "42P01", "{v}");
}

/// Found by `the_auth_api_answers_any_body_and_query`: a repeated query parameter got axum's
/// plain-text 400; GoTrue reads the first.
#[tokio::test]
async fn a_repeated_auth_query_parameter_is_read_like_gotrue() {
    let s = TestServer::start(&[]).await;
    let r = reqwest::Client::new()
        .post(s.url("/auth/v1/token?grant_type=password&grant_type=password"))
        .header("apikey", &s.anon)
        .json(&serde_json::json!({"email": "nobody@x.test", "password": "wrong-pw"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.expect("GoTrue's JSON shape");
    assert_eq!(v["error_code"], "invalid_credentials", "{v}");
}
