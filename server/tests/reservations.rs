//! Reservations with live capacity (issue 17) through the real server: `rpc/reserve` and
//! `rpc/cancel_reservation` as supabase-js calls them, their refusals in PostgREST's shape,
//! the rate limit, and the 200-on-10 race with realtime subscribers watching `places_left`.

mod common;

use common::{Client, SECRET, TestServer};
use concierge_server::jwt::Keys;
use concierge_wire::phoenix::{Event, Message, Vsn};
use reqwest::StatusCode;
use serde_json::{Value, json};

const STAFF: &str = "55555555-5555-4555-8555-555555555555";
const CUSTOMER: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";

fn token(sub: &str, staff: bool) -> String {
    let mut app = json!({"provider": "email"});
    if staff {
        app["role"] = json!("staff");
    }
    Keys::new(SECRET).sign_as(&json!({"role": "authenticated", "sub": sub,
        "exp": 4_000_000_000i64, "app_metadata": app, "user_metadata": {"name": "T"}}))
}

/// `POST /rest/v1/rpc/<f>` with the anon key as `apikey` and `bearer` as the token.
async fn rpc(s: &TestServer, bearer: &str, f: &str, body: Value) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(s.url(&format!("/rest/v1/rpc/{f}")))
        .header("apikey", &s.anon)
        .bearer_auth(bearer)
        .json(&body)
        .send()
        .await
        .expect("rpc");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn event(s: &TestServer, capacity: Option<i64>, starts_at: &str) -> String {
    s.insert("hotels", json!({"id": "h", "name": "H", "timezone": "UTC"}))
        .await;
    let row = s
        .insert(
            "events",
            json!({"hotel_id": "h", "title": "Wine tasting", "category": "food",
                   "starts_at": starts_at, "capacity": capacity, "places_left": 99}),
        )
        .await;
    row[0]["id"].as_str().unwrap().to_owned()
}

async fn places_left(s: &TestServer, id: &str) -> Value {
    let r: Value = reqwest::Client::new()
        .get(s.url(&format!("/rest/v1/events?id=eq.{id}&select=places_left")))
        .header("apikey", &s.anon)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r[0]["places_left"].clone()
}

fn booking(event_id: &str, party: i64) -> Value {
    json!({"event_id": event_id, "guest_name": "Ada Guest", "room": "101", "party_size": party})
}

/// Joins `realtime:<name>` with one postgres_changes spec as `access_token`'s principal.
async fn subscribe(c: &mut Client, name: &str, spec: Value, access_token: &str) {
    let payload = json!({"config": {"broadcast": {"ack": false, "self": false},
        "presence": {"key": "", "enabled": false}, "postgres_changes": [spec], "private": false},
        "access_token": access_token});
    let m = Message::new(format!("realtime:{name}"), Event::Join, payload)
        .with_refs(Some("1".into()), Some("1".into()));
    c.send_raw(&m.encode(c.vsn)).await;
    let reply = c.recv().await;
    assert_eq!(reply.payload["status"], "ok", "{:?}", reply.payload);
    let system = c.recv().await;
    assert_eq!(system.payload["status"], "ok", "{:?}", system.payload);
}

/// The records of every change that arrives until the socket is quiet for `quiet_ms`.
async fn drain(c: &mut Client, quiet_ms: u64) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(m) = c.recv_within(quiet_ms).await {
        if m.event == Event::PostgresChanges {
            out.push(m.payload["data"].clone());
        }
    }
    out
}

/// The proof: 200 concurrent `reserve` calls for 10 places give exactly 10 confirmations and
/// 190 clear refusals, places_left ends at 0, and every subscriber's last places_left is 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_calls_for_ten_places() {
    let s = TestServer::start(&[
        "--reserves-per-ip-per-minute",
        "0",
        "--reserves-per-user-per-minute",
        "0",
    ])
    .await;
    let id = event(&s, Some(10), "2099-01-01T19:00:00Z").await;
    assert_eq!(
        places_left(&s, &id).await,
        json!(10),
        "derived, not the 99 sent"
    );

    // Kiosks (the anon key, both protocol versions) watch the event; staff the reservations.
    let mut kiosks = Vec::new();
    for (i, vsn) in [Vsn::V1, Vsn::V2, Vsn::V1, Vsn::V2, Vsn::V2]
        .into_iter()
        .enumerate()
    {
        let mut c = s.client(&s.anon, vsn).await;
        let spec = json!({"event": "UPDATE", "schema": "public", "table": "events",
                          "filter": format!("id=eq.{id}")});
        subscribe(&mut c, &format!("kiosk-{i}"), spec, &s.anon).await;
        kiosks.push(c);
    }
    let mut staff = s.client(&s.anon, Vsn::V2).await;
    let spec = json!({"event": "*", "schema": "public", "table": "reservations"});
    subscribe(&mut staff, "staff", spec, &token(STAFF, true)).await;

    let calls: Vec<_> = (0..200)
        .map(|_| {
            let (url, anon, body) = (
                s.url("/rest/v1/rpc/reserve"),
                s.anon.clone(),
                booking(&id, 1),
            );
            tokio::spawn(async move {
                let r = reqwest::Client::new()
                    .post(url)
                    .header("apikey", &anon)
                    .bearer_auth(&anon)
                    .json(&body)
                    .send()
                    .await
                    .expect("reserve");
                let status = r.status();
                (status, r.json::<Value>().await.expect("json"))
            })
        })
        .collect();
    let (mut confirmed, mut refused) = (0, 0);
    for call in calls {
        let (status, body) = call.await.unwrap();
        match status {
            StatusCode::OK => {
                assert_eq!(body["status"], "confirmed", "{body}");
                confirmed += 1;
            }
            StatusCode::BAD_REQUEST => {
                assert_eq!(body["code"], "P0001", "{body}");
                assert_eq!(body["message"], "no places left", "{body}");
                assert_eq!(body["details"], "0 places left, 1 asked", "{body}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((confirmed, refused), (10, 190));
    assert_eq!(places_left(&s, &id).await, json!(0));

    for (i, k) in kiosks.iter_mut().enumerate() {
        let seen = drain(k, 1_000).await;
        let lefts: Vec<i64> = seen
            .iter()
            .map(|d| d["record"]["places_left"].as_i64().unwrap())
            .collect();
        assert_eq!(lefts, (0..10).rev().collect::<Vec<_>>(), "kiosk {i}");
        assert!(seen.iter().all(|d| d["record"].get("guest_name").is_none()));
    }
    let bookings = drain(&mut staff, 1_000).await;
    assert_eq!(bookings.len(), 10);
    assert!(
        bookings
            .iter()
            .all(|d| d["type"] == "INSERT" && d["record"]["guest_name"] == "Ada Guest")
    );
}

#[tokio::test]
async fn refusals_are_postgrest_errors_and_change_nothing() {
    let s = TestServer::start(&[]).await;
    let id = event(&s, Some(3), "2099-01-01T19:00:00Z").await;
    let anon = s.anon.clone();
    let (status, ok) = rpc(&s, &anon, "reserve", booking(&id, 2)).await;
    assert_eq!(status, StatusCode::OK, "{ok}");
    assert_eq!(ok["places_left"], 1);
    assert!(ok.get("guest_name").is_none(), "{ok}");
    let reservation = ok["id"].as_str().unwrap().to_owned();

    let past = s
        .insert(
            "events",
            json!({"hotel_id": "h", "title": "Yesterday", "category": "food",
                   "starts_at": "2000-01-01T00:00:00Z", "capacity": 5}),
        )
        .await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let walk_in = s
        .insert(
            "events",
            json!({"hotel_id": "h", "title": "Walk-in", "category": "food",
                   "starts_at": "2099-01-01T00:00:00Z"}),
        )
        .await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unknown = "ee000000-0000-4000-8000-0000000000ff";
    let name = |n: &str| json!({"event_id": id, "guest_name": n, "room": "1", "party_size": 1});
    for (body, status, code, message) in [
        (booking(&id, 2), 400, "P0001", "no places left"),
        (
            booking(&id, 0),
            400,
            "P0001",
            "party size must be between 1 and 10",
        ),
        (
            booking(&id, 11),
            400,
            "P0001",
            "party size must be between 1 and 10",
        ),
        (
            name("  "),
            400,
            "P0001",
            "guest name must be 1 to 120 characters",
        ),
        (booking(unknown, 1), 404, "P0002", "unknown event"),
        (booking(&past, 1), 400, "P0001", "event has started"),
        (booking(&walk_in, 1), 400, "P0001", "event is not bookable"),
    ] {
        let (got, b) = rpc(&s, &anon, "reserve", body.clone()).await;
        assert_eq!(
            (got.as_u16(), b["code"].as_str(), b["message"].as_str()),
            (status, Some(code), Some(message)),
            "{body}"
        );
    }
    assert_eq!(places_left(&s, &id).await, json!(1), "nothing changed");

    // PostgREST's own refusals: no such function, wrong arguments, a bad uuid.
    let (st, b) = rpc(&s, &anon, "nope", json!({})).await;
    assert_eq!((st.as_u16(), b["code"].as_str()), (404, Some("PGRST202")));
    let (st, b) = rpc(&s, &anon, "reserve", json!({"event_id": id})).await;
    assert_eq!((st.as_u16(), b["code"].as_str()), (404, Some("PGRST202")));
    let (st, b) = rpc(&s, &anon, "reserve", booking("not-a-uuid", 1)).await;
    assert_eq!((st.as_u16(), b["code"].as_str()), (400, Some("22P02")));

    // Cancelling: staff only.
    let cancel = json!({"reservation_id": reservation});
    let (st, b) = rpc(&s, &anon, "cancel_reservation", cancel.clone()).await;
    assert_eq!(
        (st.as_u16(), b["code"].as_str()),
        (401, Some("42501")),
        "{b}"
    );
    let customer = token(CUSTOMER, false);
    let (st, b) = rpc(&s, &customer, "cancel_reservation", cancel.clone()).await;
    assert_eq!(
        (st.as_u16(), b["code"].as_str()),
        (403, Some("42501")),
        "{b}"
    );
    let staff = token(STAFF, true);
    let (st, b) = rpc(&s, &staff, "cancel_reservation", cancel.clone()).await;
    assert_eq!(st, StatusCode::OK, "{b}");
    assert_eq!(
        (b["status"].as_str(), b["places_left"].as_i64()),
        (Some("cancelled"), Some(3))
    );
    let (st, b) = rpc(&s, &staff, "cancel_reservation", cancel).await;
    assert_eq!(
        (st.as_u16(), b["message"].as_str()),
        (400, Some("reservation is already cancelled"))
    );
    let (st, b) = rpc(
        &s,
        &staff,
        "cancel_reservation",
        json!({"reservation_id": unknown}),
    )
    .await;
    assert_eq!((st.as_u16(), b["code"].as_str()), (404, Some("P0002")));
    assert_eq!(places_left(&s, &id).await, json!(3));
}

#[tokio::test]
async fn reserve_is_rate_limited_per_address() {
    let s = TestServer::start(&["--reserves-per-ip-per-minute", "2"]).await;
    let id = event(&s, Some(10), "2099-01-01T19:00:00Z").await;
    for _ in 0..2 {
        let (st, b) = rpc(&s, &s.anon, "reserve", booking(&id, 1)).await;
        assert_eq!(st, StatusCode::OK, "{b}");
    }
    let r = reqwest::Client::new()
        .post(s.url("/rest/v1/rpc/reserve"))
        .header("apikey", &s.anon)
        .json(&booking(&id, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "PGRST429");
    assert_eq!(
        places_left(&s, &id).await,
        json!(8),
        "the refused call booked nothing"
    );
}
