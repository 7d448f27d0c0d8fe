//! REST, config and static serving against the real server.

mod common;

use common::TestServer;
use serde_json::{Value, json};

async fn get(
    s: &TestServer,
    path: &str,
    key: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut r = reqwest::Client::new()
        .get(s.url(path))
        .header("apikey", key);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let h = r.headers().clone();
    let body = r.text().await.unwrap();
    (
        status,
        h,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

/// Every event of the seeded catalogue, as the anon key reads it (the oracle's input).
async fn catalogue(s: &TestServer, select: &str) -> Vec<Value> {
    let (st, _, all) = get(s, &format!("/rest/v1/events?select={select}"), &s.anon, &[]).await;
    assert_eq!(st, 200, "{all}");
    all.as_array().cloned().unwrap_or_default()
}

/// Each `(filter query, rows the oracle expects)` returns exactly that many events.
async fn assert_event_counts(s: &TestServer, cases: &[(&str, usize)]) {
    for (query, want) in cases {
        let path = format!("/rest/v1/events?select=id&{query}");
        let (st, _, got) = get(s, &path, &s.anon, &[]).await;
        assert_eq!(st, 200, "{query}: {got}");
        assert_eq!(got.as_array().map(Vec::len), Some(*want), "{query}");
    }
}

#[tokio::test]
async fn health_config_and_static_fallback() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<html>app</html>").unwrap();
    std::fs::write(dir.path().join("app.js"), "js").unwrap();
    let cfg = dir.path().join("cfg.json");
    std::fs::write(
        &cfg,
        r#"{"poll_base_ms":300,"heartbeat_ms":500,"realtime_enabled":false}"#,
    )
    .unwrap();
    let s = TestServer::start(&[
        "--static-dir",
        dir.path().to_str().unwrap(),
        "--app-config",
        cfg.to_str().unwrap(),
        "--seed-demo",
    ])
    .await;
    let http = reqwest::Client::new();
    let text = |p: &str| {
        let http = http.clone();
        let url = s.url(p);
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(text("/healthz").await, (200, "ok".into()));
    let (st, body) = text("/config.json").await;
    assert_eq!(st, 200);
    let c: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(c["anon_key"], s.anon.as_str());
    assert_eq!(c["hotel_id"], "marriott-bangalore");
    assert_eq!(c["poll_base_ms"], 300);
    assert_eq!(c["heartbeat_ms"], 500);
    assert_eq!(c["realtime_enabled"], false);
    assert_eq!(c["url"], Value::Null);
    assert!(
        concierge_wire::config::parse(&body)
            .unwrap()
            .warnings
            .is_empty()
    );
    for route in ["/", "/kiosk", "/session", "/staff", "/kiosk/deep/link"] {
        assert_eq!(
            text(route).await,
            (200, "<html>app</html>".into()),
            "{route}"
        );
    }
    assert_eq!(text("/app.js").await, (200, "js".into()));
    for api in [
        "/rest/v2/events",
        "/api/nothing",
        "/auth/v1/nothing-here",
        "/realtime/v1/other",
    ] {
        let (st, body) = text(api).await;
        assert_eq!(st, 404, "{api}");
        assert!(body.starts_with('{'), "{api}: {body}");
    }
    // The seeded catalogue is readable with the anon key.
    let (st, h, rows) = get(&s, "/rest/v1/events?select=title,category,is_hotel_service,distance_km&order=is_hotel_service.desc,distance_km.asc", &s.anon, &[]).await;
    assert_eq!(st, 200);
    let rows = rows.as_array().unwrap();
    assert!(rows.len() >= 30);
    assert_eq!(rows[0]["is_hotel_service"], true);
    assert!(rows[0]["distance_km"].is_number());
    assert_eq!(
        h["content-range"],
        format!("0-{}/*", rows.len() - 1).as_str()
    );
    let (_, _, hotel) = get(
        &s,
        "/rest/v1/hotels?id=eq.marriott-bangalore",
        &s.anon,
        &[("accept", "application/vnd.pgrst.object+json")],
    )
    .await;
    assert_eq!(hotel["timezone"], "Asia/Kolkata");
}

#[tokio::test]
async fn reads_filters_order_and_errors() {
    let s = TestServer::start(&[]).await;
    for (i, (cat, d)) in [
        ("music", 1.5),
        ("comedy", 10.0),
        ("music", 2.0),
        ("dining", 0.5),
    ]
    .iter()
    .enumerate()
    {
        s.insert("events", json!({"hotel_id": "h", "title": format!("e{i}"), "category": cat, "starts_at": format!("2026-01-0{}T10:00:00Z", i + 1), "distance_km": d})).await;
    }
    let titles = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    // Numbers compare as numbers: 10 > 2 (text comparison would say otherwise).
    let (_, _, v) = get(
        &s,
        "/rest/v1/events?distance_km=gt.2&select=title",
        &s.anon,
        &[],
    )
    .await;
    assert_eq!(titles(&v), ["e1"]);
    let (_, _, v) = get(
        &s,
        "/rest/v1/events?category=in.(music,dining)&order=distance_km.desc",
        &s.anon,
        &[],
    )
    .await;
    assert_eq!(titles(&v), ["e2", "e0", "e3"]);
    let (_, h, v) = get(
        &s,
        "/rest/v1/events?order=starts_at.asc&limit=2&offset=1",
        &s.anon,
        &[("prefer", "count=exact")],
    )
    .await;
    assert_eq!(titles(&v), ["e1", "e2"]);
    assert_eq!(h["content-range"], "1-2/4");
    let (_, _, v) = get(
        &s,
        "/rest/v1/events?order=title",
        &s.anon,
        &[("range", "3-10")],
    )
    .await;
    assert_eq!(titles(&v), ["e3"]);
    // Timestamps in any offset compare as instants.
    let (_, _, v) = get(
        &s,
        "/rest/v1/events?starts_at=gte.2026-01-03T15:30:00%2B05:30&select=title&order=title",
        &s.anon,
        &[],
    )
    .await;
    assert_eq!(titles(&v), ["e2", "e3"]);
    let (_, _, v) = get(
        &s,
        "/rest/v1/events?title=eq.x'%20OR%20'1'='1",
        &s.anon,
        &[],
    )
    .await;
    assert_eq!(v, json!([]));

    for (path, status, code) in [
        ("/rest/v1/nope", 404, "42P01"),
        ("/rest/v1/events?nope=eq.1", 400, "42703"),
        ("/rest/v1/events?select=nope", 400, "42703"),
        ("/rest/v1/events?title=regex.x", 400, "PGRST100"),
        ("/rest/v1/events?distance_km=like.1*", 404, "42883"),
        ("/rest/v1/events?title=like.ends%20with%20%5C", 400, "22025"),
        (
            "/rest/v1/events?order=title;drop%20table%20events",
            400,
            "PGRST100",
        ),
        ("/rest/v1/events?distance_km=gt.far", 400, "22P02"),
        ("/rest/v1/kiosk_results", 401, "42501"),
        ("/rest/v1/sessions", 401, "42501"),
    ] {
        let (st, _, body) = get(&s, path, &s.anon, &[]).await;
        assert_eq!(
            (st, body["code"].as_str().unwrap()),
            (status, code),
            "{path}: {body}"
        );
        for k in ["message", "details", "hint"] {
            assert!(body.get(k).is_some(), "{path}: {body}");
        }
    }
    let (st, _, body) = get(
        &s,
        "/rest/v1/events",
        &s.anon,
        &[("accept", "application/vnd.pgrst.object+json")],
    )
    .await;
    assert_eq!((st, body["code"].as_str()), (406, Some("PGRST116")));
    let (st, _, _) = get(&s, "/rest/v1/events", "not-a-key", &[]).await;
    assert_eq!(st, 401);
    let (st, _, _) = get(
        &s,
        "/rest/v1/events",
        &s.anon,
        &[("authorization", "Bearer forged")],
    )
    .await;
    assert_eq!(st, 401);
    // The kiosk may read its own session's results (claimed before they are written).
    let k1 = s.kiosk("k1").await;
    s.insert(
        "kiosk_results",
        json!({"session_id": "k1", "results": {"events": []}}),
    )
    .await;
    s.insert(
        "kiosk_results",
        json!({"session_id": "k2", "results": {"events": []}}),
    )
    .await;
    let (st, _, v) = get(&s, "/rest/v1/kiosk_results?session_id=eq.k1", &k1, &[]).await;
    assert_eq!(st, 200);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert!(v[0]["results"].is_object());
}

#[tokio::test]
async fn writes_constraints_and_representation() {
    let s = TestServer::start(&[]).await;
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method,
                path: &str,
                key: &str,
                body: Option<Value>,
                prefer: Option<&str>| {
        let mut r = http.request(method, s.url(path)).header("apikey", key);
        if let Some(p) = prefer {
            r = r.header("prefer", p);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        async move {
            let r = r.send().await.unwrap();
            let st = r.status().as_u16();
            let t = r.text().await.unwrap();
            (
                st,
                serde_json::from_str::<Value>(&t).unwrap_or(Value::String(t)),
            )
        }
    };
    let sess = json!({"customer_id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "status": "pending", "kind": "chat"});
    let (st, body) = send(
        reqwest::Method::POST,
        "/rest/v1/sessions",
        &s.service,
        Some(json!([sess, sess])),
        Some("return=representation"),
    )
    .await;
    assert_eq!(st, 201);
    let rows = body.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let id = rows[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(rows[0]["created_at"], rows[0]["updated_at"]);
    let (st, body) = send(
        reqwest::Method::POST,
        "/rest/v1/sessions",
        &s.service,
        Some(sess.clone()),
        None,
    )
    .await;
    assert_eq!((st, body), (201, Value::String(String::new())));
    // Constraints.
    for (row, status, code) in [
        (
            json!({"customer_id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "status": "done", "kind": "chat"}),
            400,
            "23514",
        ),
        (
            json!({"customer_id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "status": "live", "kind": "phone"}),
            400,
            "23514",
        ),
        (json!({"status": "live", "kind": "chat"}), 400, "23502"),
        (
            json!({"customer_id": "nope", "status": "live", "kind": "chat"}),
            400,
            "22P02",
        ),
        (
            json!({"id": id, "customer_id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "status": "live", "kind": "chat"}),
            409,
            "23505",
        ),
        (
            json!({"customer_id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "status": "live", "kind": "chat", "extra": 1}),
            400,
            "PGRST204",
        ),
    ] {
        let (st, body) = send(
            reqwest::Method::POST,
            "/rest/v1/sessions",
            &s.service,
            Some(row.clone()),
            None,
        )
        .await;
        assert_eq!(
            (st, body["code"].as_str().unwrap()),
            (status, code),
            "{row}: {body}"
        );
    }
    let r = http
        .post(s.url("/rest/v1/sessions"))
        .header("apikey", &s.service)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "PGRST102");
    let r = http
        .post(s.url("/rest/v1/events"))
        .header("apikey", &s.service)
        .body(vec![b' '; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let e = r.json::<Value>().await.unwrap();
    assert_eq!(
        e["code"], "PGRST413",
        "PostgREST-shaped, not axum's plain text: {e}"
    );
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
    // Anon writes nothing.
    let (st, body) = send(
        reqwest::Method::POST,
        "/rest/v1/kiosk_results",
        &s.anon,
        Some(json!({"session_id": "x", "results": {}})),
        None,
    )
    .await;
    assert_eq!((st, body["code"].as_str()), (401, Some("42501")));
    // PATCH / DELETE need a filter; updated_at moves forward on update.
    let (st, body) = send(
        reqwest::Method::PATCH,
        "/rest/v1/sessions",
        &s.service,
        Some(json!({"status": "live"})),
        None,
    )
    .await;
    assert_eq!((st, body["code"].as_str()), (400, Some("21000")));
    let (st, body) = send(
        reqwest::Method::DELETE,
        "/rest/v1/sessions",
        &s.service,
        None,
        None,
    )
    .await;
    assert_eq!((st, body["code"].as_str()), (400, Some("21000")));
    let (st, body) = send(
        reqwest::Method::PATCH,
        &format!("/rest/v1/sessions?id=eq.{id}&select=status,updated_at"),
        &s.service,
        Some(json!({"status": "waiting", "staff_name": "Asha"})),
        Some("return=representation"),
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(body[0]["status"], "waiting");
    assert_eq!(
        body[0].as_object().unwrap().len(),
        2,
        "select= shapes the representation"
    );
    assert!(body[0]["updated_at"].as_str().unwrap() > rows[0]["updated_at"].as_str().unwrap());
    let (st, body) = send(
        reqwest::Method::PATCH,
        &format!("/rest/v1/sessions?id=eq.{id}"),
        &s.service,
        Some(json!({"status": "over"})),
        None,
    )
    .await;
    assert_eq!((st, body["code"].as_str()), (400, Some("23514")));
    let (st, _) = send(
        reqwest::Method::DELETE,
        &format!("/rest/v1/sessions?id=eq.{id}"),
        &s.service,
        None,
        None,
    )
    .await;
    assert_eq!(st, 204);
    let (_, _, v) = get(&s, "/rest/v1/sessions?select=id", &s.service, &[]).await;
    assert_eq!(v.as_array().unwrap().len(), 2);
}

/// Browsers on another origin (the wasm test runner, `trunk serve`, an app hosted elsewhere)
/// must get through the preflight and read `Content-Range`, as with hosted Supabase.
#[tokio::test]
async fn cors_preflight_and_exposed_headers() {
    let s = TestServer::start(&[]).await;
    let r = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, s.url("/rest/v1/events"))
        .header("origin", "http://127.0.0.1:9")
        .header("access-control-request-method", "PATCH")
        .header(
            "access-control-request-headers",
            "apikey, authorization, content-type, prefer, x-client-info",
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "preflight status {}", r.status());
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    let methods = h["access-control-allow-methods"].to_str().unwrap();
    assert!(methods.contains("PATCH"), "{methods}");
    let allowed = h["access-control-allow-headers"].to_str().unwrap();
    for name in ["apikey", "authorization", "prefer", "x-client-info"] {
        assert!(allowed.contains(name), "{name} not in {allowed}");
    }

    let (_, h, _) = get(&s, "/config.json", "", &[("origin", "http://127.0.0.1:9")]).await;
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(
        h["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("content-range")
    );
}

/// PostgREST's `like` / `ilike` (`*` standing for `%`), checked against the seeded catalogue
/// with a plain substring oracle.
#[tokio::test]
async fn like_and_ilike_filter_like_postgres() {
    let s = TestServer::start(&["--seed-demo"]).await;
    let titles: Vec<String> = catalogue(&s, "title")
        .await
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_owned())
        .collect();
    let sorted = |v: &Value| {
        let mut t: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_owned())
            .collect();
        t.sort();
        t
    };
    for needle in ["jazz", "Jazz", "SPA", "the", "zzzz-nothing"] {
        // `*` for `%` (PostgREST's alias), and `%` spelled out (URL-encoded) as supabase-js
        // sends it.
        for (filter, case_insensitive) in [
            (format!("title=ilike.*{needle}*"), true),
            (format!("title=like.%25{needle}%25"), false),
        ] {
            let oracle = |t: &String| {
                if case_insensitive {
                    t.to_lowercase().contains(&needle.to_lowercase())
                } else {
                    t.contains(needle)
                }
            };
            let mut want: Vec<String> = titles.iter().filter(|t| oracle(t)).cloned().collect();
            want.sort();
            let path = format!("/rest/v1/events?select=title&{filter}");
            let (st, _, got) = get(&s, &path, &s.anon, &[]).await;
            assert_eq!(st, 200, "{filter}: {got}");
            assert_eq!(sorted(&got), want, "{filter}");
        }
    }
    assert!(
        titles.iter().any(|t| t.to_lowercase().contains("jazz")),
        "the demo catalogue has something to find"
    );
}

/// PostgREST's `not.` prefix, and that it cannot widen what a caller may read.
#[tokio::test]
async fn not_negates_a_filter_but_never_widens_access() {
    let s = TestServer::start(&["--seed-demo"]).await;
    let all = catalogue(&s, "id,category,image_url").await;
    let count = |pred: &dyn Fn(&Value) -> bool| all.iter().filter(|r| pred(r)).count();
    let cases = [
        (
            "category=not.eq.music",
            count(&|r| r["category"] != "music"),
        ),
        (
            "category=not.in.(music,comedy)",
            count(&|r| r["category"] != "music" && r["category"] != "comedy"),
        ),
        (
            "image_url=not.is.null",
            count(&|r| !r["image_url"].is_null()),
        ),
        ("image_url=is.null", count(&|r| r["image_url"].is_null())),
    ];
    assert_event_counts(&s, &cases).await;
    assert!(
        count(&|r| r["category"] == "music") > 0,
        "the seed has music"
    );
    // A kiosk may read one session's results by pinning it; `not.eq` would read all others.
    let (st, _, body) = get(
        &s,
        "/rest/v1/kiosk_results?session_id=not.eq.00000000-0000-4000-8000-000000000000",
        &s.anon,
        &[],
    )
    .await;
    assert_eq!((st, body["code"].as_str()), (401, Some("42501")), "{body}");
}

/// PostgREST's `or=(…)` / `and=(…)` logic trees: right rows for reads and writes, every value
/// bound, and never a way around the row rules (the tree is ANDed with the caller's scope).
#[tokio::test]
async fn logic_trees_select_and_write_but_never_widen_access() {
    let s = TestServer::start(&["--seed-demo"]).await;
    let all = catalogue(&s, "id,category,distance_km,is_hotel_service").await;
    let count = |pred: &dyn Fn(&Value) -> bool| all.iter().filter(|r| pred(r)).count();
    let near = |r: &Value| r["distance_km"].as_f64().is_some_and(|d| d < 1.0);
    let cases = [
        (
            "or=(category.eq.comedy,distance_km.lt.1)",
            count(&|r| r["category"] == "comedy" || near(r)),
        ),
        (
            "not.or=(category.eq.comedy,distance_km.lt.1)",
            // A NULL distance makes `distance_km < 1` unknown, so NOT(…) excludes the row.
            count(&|r| {
                r["category"] != "comedy" && r["distance_km"].as_f64().is_some_and(|d| d >= 1.0)
            }),
        ),
        (
            "or=(category.eq.music,and(category.eq.dining,is_hotel_service.is.true))",
            count(&|r| {
                r["category"] == "music"
                    || (r["category"] == "dining" && r["is_hotel_service"] == true)
            }),
        ),
        (
            "category=eq.music&or=(is_hotel_service.is.true,distance_km.gt.2)",
            count(&|r| {
                r["category"] == "music"
                    && (r["is_hotel_service"] == true
                        || r["distance_km"].as_f64().is_some_and(|d| d > 2.0))
            }),
        ),
    ];
    assert_event_counts(&s, &cases).await;
    assert!(count(&|r| r["category"] == "comedy") > 0 && count(&near) > 0);
    // Values are bound, never SQL.
    let (st, _, got) = get(
        &s,
        "/rest/v1/events?or=(title.eq.x'%20OR%201=1%20--,title.eq.\"a,b\")",
        &s.anon,
        &[],
    )
    .await;
    assert_eq!((st, got), (200, json!([])));

    // The anon key reads no kiosk's results, `or` or not; a kiosk's `or` ANDed with its own
    // session cannot add the other session's rows.
    let (a, b) = (
        "aaaaaaaa-0000-4000-8000-000000000001",
        "bbbbbbbb-0000-4000-8000-000000000002",
    );
    let kiosk_a = s.kiosk(a).await;
    for sid in [a, b] {
        s.insert("kiosk_results", json!({"session_id": sid, "results": {}}))
            .await;
    }
    let either = format!("or=(session_id.eq.{a},session_id.eq.{b})");
    let (st, _, body) = get(
        &s,
        &format!("/rest/v1/kiosk_results?{either}"),
        &s.anon,
        &[],
    )
    .await;
    assert_eq!((st, body["code"].as_str()), (401, Some("42501")), "{body}");
    let (st, _, body) = get(
        &s,
        &format!("/rest/v1/kiosk_results?select=session_id&session_id=eq.{a}&{either}"),
        &kiosk_a,
        &[],
    )
    .await;
    assert_eq!((st, body), (200, json!([{"session_id": a}])));

    // Writes take trees too (and a tree alone counts as a filter).
    let ids: Vec<String> = all[..2]
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    let http = reqwest::Client::new();
    let r = http
        .patch(s.url(&format!(
            "/rest/v1/events?select=id,price_text&or=(id.eq.{},id.eq.{})",
            ids[0], ids[1]
        )))
        .header("apikey", &s.service)
        .header("Prefer", "return=representation")
        .json(&json!({"price_text": "On the house"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let rows = body.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{body}");
    assert!(rows.iter().all(|r| r["price_text"] == "On the house"));
}
