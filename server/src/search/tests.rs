//! Endpoint tests: the full router in-process (tower `oneshot`) over a temporary database,
//! with the write path's change sink observed directly: exactly what realtime would publish.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use concierge_wire::realtime::ChangeType;
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;
use tower::ServiceExt;

use super::*;
use crate::authz::Principal;
use crate::db::{self, Change, Table};
use crate::jwt::Keys;
use crate::matcher::interests;
use concierge_wire::Category;

const HOTEL: &str = "test-hotel";
const SESSION: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

struct Fixture {
    state: AppState,
    changes: UnboundedReceiver<Arc<Change>>,
    anon: String,
    _dir: tempfile::TempDir,
}

fn iso_in(minutes: i64) -> String {
    time_fmt::format_ms(time_fmt::now_ms() + minutes * 60_000)
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sink, changes) = tokio::sync::mpsc::unbounded_channel();
    let (db, writer) = db::open(&dir.path().join("t.db"), sink).expect("open db");
    let keys = Arc::new(Keys::new("test-secret-for-search-tests-0123456789"));
    let anon = keys.anon_key();
    let app_config =
        crate::assets::Document::json(&crate::app::app_config(&keys, None).expect("config"));
    let state = AppState {
        db,
        writer,
        keys: keys.clone(),
        app_config,
        site: None,
        realtime: crate::realtime::Hub::new(crate::realtime::Limits::default()),
        rooms: crate::rooms::Rooms::new(Default::default()),
        auth: crate::accounts::AuthService::open(&dir.path().join("t.db"), keys.clone(), 3600)
            .expect("auth"),
        search_limits: Default::default(),
        session_limits: Default::default(),
        reserve_limits: Default::default(),
    };
    let mut f = Fixture {
        state,
        changes,
        anon,
        _dir: dir,
    };
    seed(&f.state).await;
    // The seed's own changes are not what the tests look at.
    while f.changes.try_recv().is_ok() {}
    f
}

fn obj(v: Value) -> Row {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A hotel with events chosen to exercise the order and the "upcoming" rule.
async fn seed(state: &AppState) {
    let w = &state.writer;
    let sr = Principal::ServiceRole;
    for (id, tz) in [(HOTEL, "Asia/Kolkata"), ("other-hotel", "UTC")] {
        w.insert_one(
            &sr,
            Table::Hotels,
            obj(json!({"id": id, "name": format!("Hotel {id}"), "timezone": tz})),
        )
        .await
        .expect("hotel");
    }
    let events = [
        // (title, hotel, category, service, km, starts in min, ends in min)
        ("Far jazz", HOTEL, "music", false, Some(8.0), 60, None),
        (
            "Near jazz late",
            HOTEL,
            "music",
            false,
            Some(1.0),
            300,
            None,
        ),
        (
            "Near jazz early",
            HOTEL,
            "music",
            false,
            Some(1.0),
            120,
            None,
        ),
        ("Lobby pianist", HOTEL, "music", true, Some(0.0), 240, None),
        (
            "Jazz, distance unknown",
            HOTEL,
            "music",
            false,
            None,
            30,
            None,
        ),
        (
            "Jazz in progress",
            HOTEL,
            "music",
            false,
            Some(2.0),
            -30,
            Some(60),
        ),
        (
            "Jazz that ended",
            HOTEL,
            "music",
            false,
            Some(0.5),
            -180,
            Some(-60),
        ),
        (
            "Jazz started, no end",
            HOTEL,
            "music",
            false,
            Some(0.5),
            -10,
            None,
        ),
        (
            "Kids' puppet show",
            HOTEL,
            "family",
            false,
            Some(3.0),
            90,
            None,
        ),
        ("Spa ritual", HOTEL, "wellness", true, Some(0.0), 45, None),
        (
            "Other hotel's jazz",
            "other-hotel",
            "music",
            false,
            Some(0.1),
            60,
            None,
        ),
    ];
    for (title, hotel, category, service, km, starts, ends) in events {
        w.insert_one(
            &sr,
            Table::Events,
            obj(json!({
                "hotel_id": hotel,
                "title": title,
                "category": category,
                "is_hotel_service": service,
                "distance_km": km,
                "starts_at": iso_in(starts),
                "ends_at": ends.map(iso_in),
                "booking_url": "https://example.com/book",
            })),
        )
        .await
        .expect("event");
    }
}

async fn post(
    f: &Fixture,
    query: &str,
    body: impl Into<Body>,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::post(format!("/api/event/by-interests{query}"))
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("apikey", k);
    }
    let resp = crate::app::router(f.state.clone())
        .oneshot(req.body(body.into()).expect("request"))
        .await
        .expect("response");
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn search_body(interests: &str) -> String {
    json!({"interests": interests, "hotel_id": HOTEL}).to_string()
}

fn titles(v: &Value) -> Vec<String> {
    v["results"]["events"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["title"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn drain(f: &mut Fixture) -> Vec<Arc<Change>> {
    let mut out = Vec::new();
    while let Ok(c) = f.changes.try_recv() {
        out.push(c);
    }
    out
}

#[tokio::test]
async fn returns_upcoming_events_in_kiosk_order_and_writes_one_row() {
    let mut f = fixture().await;
    let key = f.anon.clone();
    let q = format!("?session_id={SESSION}");
    let (status, body) = post(&f, &q, search_body("Live JAZZ, please!"), Some(&key)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["session_id"], SESSION);
    assert_eq!(body["results"]["categories"], json!(["music"]));
    assert_eq!(body["results"]["interests"], "Live JAZZ, please!");
    assert_eq!(body["results"]["timezone"], "Asia/Kolkata");
    assert!(body["results"].get("suggestions").is_none());
    assert_eq!(
        titles(&body),
        [
            "Lobby pianist",
            "Near jazz early",
            "Near jazz late",
            "Jazz in progress",
            "Far jazz",
            "Jazz, distance unknown",
        ]
    );
    // The response is the stored row, and exactly one INSERT went to realtime.
    let changes = drain(&mut f);
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert_eq!(c.table, Table::KioskResults);
    assert_eq!(c.change_type, ChangeType::Insert);
    let record = Value::Object(c.record.clone().unwrap_or_default());
    assert_eq!(record["session_id"], SESSION);
    assert_eq!(record, body);
}

#[tokio::test]
async fn several_interests_in_one_sentence() {
    let f = fixture().await;
    let key = f.anon.clone();
    let q = format!("?session_id={SESSION}");
    let (status, body) = post(
        &f,
        &q,
        search_body("a spa and something for the kids"),
        Some(&key),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["results"]["categories"], json!(["wellness", "family"]));
    assert_eq!(titles(&body), ["Spa ritual", "Kids' puppet show"]);
}

#[tokio::test]
async fn nothing_matched_is_an_empty_result_with_suggestions() {
    let mut f = fixture().await;
    let key = f.anon.clone();
    let q = format!("?session_id={SESSION}");
    for phrase in ["quantum physics", "cricket"] {
        let (status, body) = post(&f, &q, search_body(phrase), Some(&key)).await;
        assert_eq!(status, StatusCode::CREATED, "{phrase}: {body}");
        assert_eq!(body["results"]["events"], json!([]), "{phrase}");
        // Only categories with upcoming events at this hotel are suggested.
        assert_eq!(
            body["results"]["suggestions"],
            json!(["live music", "spa and wellness", "something for the kids"]),
            "{phrase}"
        );
    }
    assert_eq!(drain(&mut f).len(), 2, "empty results are still written");
}

#[tokio::test]
async fn session_ids_are_canonicalised() {
    let f = fixture().await;
    let key = f.anon.clone();
    let upper = format!("?session_id={}", SESSION.to_uppercase());
    let (status, body) = post(&f, &upper, search_body("jazz"), Some(&key)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["session_id"], SESSION);
}

#[tokio::test]
async fn bad_requests_are_refused_in_postgrest_shape_and_write_nothing() {
    let mut f = fixture().await;
    let key = f.anon.clone();
    let ok_q = format!("?session_id={SESSION}");
    let big = json!({"interests": "a".repeat(MAX_BODY_BYTES), "hotel_id": HOTEL}).to_string();
    let long = json!({"interests": "jazz ".repeat(120), "hotel_id": HOTEL}).to_string();
    /// (name, query, body, API key, expected status, expected code)
    type Case<'a> = (
        &'a str,
        String,
        String,
        Option<&'a str>,
        StatusCode,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "no key",
            ok_q.clone(),
            search_body("jazz"),
            None,
            StatusCode::UNAUTHORIZED,
            "PGRST301",
        ),
        (
            "forged key",
            ok_q.clone(),
            search_body("jazz"),
            Some("not.a.jwt"),
            StatusCode::UNAUTHORIZED,
            "PGRST301",
        ),
        (
            "no session",
            String::new(),
            search_body("jazz"),
            Some(&key),
            StatusCode::BAD_REQUEST,
            "PGRST100",
        ),
        (
            "blank session",
            "?session_id=%20".into(),
            search_body("jazz"),
            Some(&key),
            StatusCode::BAD_REQUEST,
            "PGRST100",
        ),
        (
            "bad session",
            "?session_id=kiosk-1".into(),
            search_body("jazz"),
            Some(&key),
            StatusCode::BAD_REQUEST,
            "22P02",
        ),
        (
            "injection",
            "?session_id=x%27%20OR%201%3D1".into(),
            search_body("jazz"),
            Some(&key),
            StatusCode::BAD_REQUEST,
            "22P02",
        ),
        (
            "not json",
            ok_q.clone(),
            "interests=jazz".into(),
            Some(&key),
            StatusCode::BAD_REQUEST,
            "PGRST102",
        ),
        (
            "array",
            ok_q.clone(),
            "[]".into(),
            Some(&key),
            StatusCode::BAD_REQUEST,
            "PGRST102",
        ),
        (
            "number",
            ok_q.clone(),
            json!({"interests": 5, "hotel_id": HOTEL}).to_string(),
            Some(&key),
            StatusCode::BAD_REQUEST,
            "PGRST102",
        ),
        (
            "no interests",
            ok_q.clone(),
            json!({"hotel_id": HOTEL}).to_string(),
            Some(&key),
            StatusCode::BAD_REQUEST,
            "22023",
        ),
        (
            "blank interests",
            ok_q.clone(),
            search_body("   "),
            Some(&key),
            StatusCode::BAD_REQUEST,
            "22023",
        ),
        (
            "long interests",
            ok_q.clone(),
            long,
            Some(&key),
            StatusCode::BAD_REQUEST,
            "22023",
        ),
        (
            "no hotel",
            ok_q.clone(),
            json!({"interests": "jazz"}).to_string(),
            Some(&key),
            StatusCode::BAD_REQUEST,
            "22023",
        ),
        (
            "unknown hotel",
            ok_q.clone(),
            json!({"interests": "jazz", "hotel_id": "nope"}).to_string(),
            Some(&key),
            StatusCode::NOT_FOUND,
            "PGRST116",
        ),
        (
            "oversized",
            ok_q.clone(),
            big,
            Some(&key),
            StatusCode::PAYLOAD_TOO_LARGE,
            "PGRST413",
        ),
    ];
    for (name, q, body, key, status, code) in cases {
        let (got, err) = post(&f, &q, body, key).await;
        assert_eq!(got, status, "{name}: {err}");
        assert_eq!(err["code"], code, "{name}: {err}");
        assert!(
            err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{name}"
        );
        for k in ["details", "hint"] {
            assert!(err.get(k).is_some(), "{name}: no {k} in {err}");
        }
    }
    assert!(
        drain(&mut f).is_empty(),
        "a refused request wrote something"
    );
}

#[tokio::test]
async fn every_kiosk_chip_is_understood() {
    // The kiosk's chips send `Category::phrase()`; each must land in exactly the category the
    // chip shows, through the endpoint the chip calls.
    let f = fixture().await;
    let key = f.anon.clone();
    let q = format!("?session_id={SESSION}");
    for c in Category::ALL {
        assert_eq!(
            interests::categories_for(c.phrase()),
            vec![c.as_str()],
            "chip {:?}",
            c.chip_label()
        );
        let (status, body) = post(&f, &q, search_body(c.phrase()), Some(&key)).await;
        assert_eq!(status, StatusCode::CREATED, "{c:?}: {body}");
        assert_eq!(body["results"]["categories"], json!([c.as_str()]), "{c:?}");
    }
}
