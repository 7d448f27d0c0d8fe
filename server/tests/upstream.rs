//! Upstream mode end to end (issue 15): a normal concierge-server with the demo catalogue stands
//! in for the hosted project's REST API; a second one runs in upstream mode in front of it.
//! The search through the front writes its row on the stand-in, the same row the stand-in's own
//! search would write; the front has no /rest; its /config.json names the project; and an
//! unreachable or refusing project is a clear 503 / 502 in PostgREST's error shape.

mod common;

use clap::Parser;
use common::TestServer;
use concierge_server::cli::Cli;
use concierge_server::db::seed::DEMO_HOTEL_ID;
use serde_json::{Value, json};

const SESSION: &str = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";
const LOCAL_SESSION: &str = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";

/// A concierge-server in upstream mode, in-process.
struct Front {
    addr: std::net::SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Front {
    async fn start(upstream: &str, service_key: &str, anon_key: &str) -> Front {
        Front::start_with(upstream, service_key, anon_key, &[]).await
    }

    async fn start_with(
        upstream: &str,
        service_key: &str,
        anon_key: &str,
        extra: &[&str],
    ) -> Front {
        let dir = tempfile::tempdir().expect("tempdir");
        let overrides = dir.path().join("app-config.json");
        std::fs::write(&overrides, r#"{"idle_timeout_ms": 45000}"#).expect("write");
        let mut argv = vec![
            "concierge-server",
            "--addr",
            "127.0.0.1:0",
            "--upstream-supabase",
            upstream,
            "--upstream-service-key",
            service_key,
            "--upstream-anon-key",
            anon_key,
            "--app-config",
        ];
        let overrides = overrides.display().to_string();
        argv.push(&overrides);
        argv.extend_from_slice(extra);
        let cli = Cli::try_parse_from(argv).expect("cli");
        let started = concierge_server::start(&cli.serve).await.expect("start");
        assert!(matches!(started, concierge_server::Started::Upstream(_)));
        let addr = started.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(started.run(async move {
            let _ = rx.await;
        }));
        Front {
            addr,
            shutdown: Some(tx),
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

async fn search(base: &str, key: &str, session: &str, body: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!(
            "{base}/api/event/by-interests?session_id={session}"
        ))
        .header("apikey", key)
        .json(&body)
        .send()
        .await
        .expect("search");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn get(url: &str, key: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .get(url)
        .header("apikey", key)
        .send()
        .await
        .expect("get");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn titles(results: &Value) -> Vec<String> {
    results["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["title"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn assert_postgrest_shape(body: &Value) {
    for k in ["code", "message", "details", "hint"] {
        assert!(body.get(k).is_some(), "{k} missing in {body}");
    }
}

#[tokio::test]
async fn a_search_through_the_front_writes_its_row_on_the_project() {
    let project = TestServer::start(&["--seed-demo"]).await;
    let front = Front::start(&project.url(""), &project.service, &project.anon).await;
    let base = front.url("");
    let ask = json!({"interests": "live music and something to eat", "hotel_id": DEMO_HOTEL_ID});

    // The kiosk's call, with the project's anon key.
    let (status, row) = search(&base, &project.anon, SESSION, ask.clone()).await;
    assert_eq!(status, 201, "{row}");
    assert_eq!(row["session_id"], SESSION);
    assert_eq!(row["results"]["categories"], json!(["music", "dining"]));
    let found = titles(&row["results"]);
    assert!(!found.is_empty(), "{row}");

    // The row is on the project, read back with the service key.
    let (status, stored) = get(
        &project.url(&format!("/rest/v1/kiosk_results?session_id=eq.{SESSION}")),
        &project.service,
    )
    .await;
    assert_eq!(status, 200, "{stored}");
    let stored = stored.as_array().expect("rows");
    assert_eq!(stored.len(), 1, "exactly one row: {stored:?}");
    assert_eq!(stored[0]["id"], row["id"]);
    assert_eq!(
        stored[0]["results"]["categories"],
        json!(["music", "dining"])
    );
    assert_eq!(titles(&stored[0]["results"]), found);

    // The same search logic as the project's own endpoint: the same categories and events.
    let (status, local) = search(&project.url(""), &project.anon, LOCAL_SESSION, ask).await;
    assert_eq!(status, 201, "{local}");
    assert_eq!(local["results"]["categories"], row["results"]["categories"]);
    assert_eq!(titles(&local["results"]), found);
    assert_eq!(local["results"]["timezone"], row["results"]["timezone"]);

    // Nothing matched is still a row, with suggestions, as locally.
    let (status, none) = search(
        &base,
        &project.anon,
        SESSION,
        json!({"interests": "xyzzy", "hotel_id": DEMO_HOTEL_ID}),
    )
    .await;
    assert_eq!(status, 201, "{none}");
    assert_eq!(none["results"]["events"], json!([]));
    assert!(
        !none["results"]["suggestions"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_front_refuses_what_the_local_endpoint_refuses_in_the_same_words() {
    let project = TestServer::start(&["--seed-demo"]).await;
    let front = Front::start(&project.url(""), &project.service, &project.anon).await;
    let cases: [(&str, &str, Value); 5] = [
        (
            "",
            SESSION,
            json!({"interests": "jazz", "hotel_id": DEMO_HOTEL_ID}),
        ),
        (
            &project.anon,
            "not-a-uuid",
            json!({"interests": "jazz", "hotel_id": DEMO_HOTEL_ID}),
        ),
        (
            &project.anon,
            SESSION,
            json!({"interests": " ", "hotel_id": DEMO_HOTEL_ID}),
        ),
        (&project.anon, SESSION, json!({"interests": "jazz"})),
        (
            &project.anon,
            SESSION,
            json!({"interests": "jazz", "hotel_id": "no-such-hotel"}),
        ),
    ];
    for (key, session, body) in cases {
        let theirs = search(&project.url(""), key, session, body.clone()).await;
        let ours = search(&front.url(""), key, session, body.clone()).await;
        assert!(theirs.0 >= 400, "{body}: {theirs:?}");
        assert_eq!(ours, theirs, "{body}");
    }
    // A key that is not the project's: 401 in the same shape.
    let (status, body) = search(
        &front.url(""),
        "not-a-key",
        SESSION,
        json!({"interests": "jazz", "hotel_id": DEMO_HOTEL_ID}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("PGRST301")),
        "{body}"
    );
    assert_postgrest_shape(&body);
    // Nothing was written by any refused call.
    let (_, stored) = get(
        &project.url(&format!("/rest/v1/kiosk_results?session_id=eq.{SESSION}")),
        &project.service,
    )
    .await;
    assert_eq!(stored, json!([]));
}

#[tokio::test]
async fn the_front_serves_no_rest_and_names_the_project_in_config_json() {
    let project = TestServer::start(&["--seed-demo"]).await;
    let front = Front::start(&project.url("/"), &project.service, &project.anon).await;

    for path in [
        "/rest/v1/hotels",
        "/auth/v1/settings",
        "/realtime/v1/api/tenants",
    ] {
        let (status, body) = get(&front.url(path), &project.service).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_postgrest_shape(&body);
    }
    let (status, cfg) = get(&front.url("/config.json"), "").await;
    assert_eq!(status, 200);
    assert_eq!(cfg["url"], project.url(""), "trailing slash trimmed: {cfg}");
    assert_eq!(cfg["anon_key"], project.anon.as_str());
    // The app searches at the front (its own origin), not at the project, which has no search.
    assert_eq!(cfg["search_url"], "/", "{cfg}");
    assert_eq!(cfg["idle_timeout_ms"], 45000, "--app-config merged: {cfg}");
    assert_eq!(cfg["hotel_id"], DEMO_HOTEL_ID);
    let health = reqwest::get(front.url("/healthz")).await.expect("healthz");
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn an_unreachable_project_is_a_clear_503_and_a_refusing_one_a_502() {
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let front = Front::start(&format!("http://{closed}"), "service", "anon").await;
    let ask = json!({"interests": "jazz", "hotel_id": DEMO_HOTEL_ID});
    let (status, body) = search(&front.url(""), "anon", SESSION, ask.clone()).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "UPSTREAM_UNREACHABLE");
    assert_postgrest_shape(&body);
    assert!(
        body["details"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );

    // A project that refuses our service key: its 401 becomes our 502, its words in details.
    let project = TestServer::start(&["--seed-demo"]).await;
    let front = Front::start(&project.url(""), "wrong-service-key", &project.anon).await;
    let (status, body) = search(&front.url(""), &project.anon, SESSION, ask).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["code"], "UPSTREAM_ERROR");
    assert!(body["message"].as_str().unwrap().contains("401"), "{body}");
    assert!(
        body["details"].as_str().unwrap().contains("PGRST301"),
        "{body}"
    );
}

/// `supabase.auth.signInAnonymously()` on the project: a kiosk identity's token and user id.
async fn kiosk_identity(project: &TestServer) -> (String, String) {
    let r = reqwest::Client::new()
        .post(project.url("/auth/v1/signup"))
        .header("apikey", &project.anon)
        .json(&json!({}))
        .send()
        .await
        .expect("signup");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    (
        body["access_token"].as_str().expect("token").to_owned(),
        body["user"]["id"].as_str().expect("id").to_owned(),
    )
}

#[tokio::test]
async fn a_result_written_through_the_front_belongs_to_the_kiosk_that_claimed_the_session() {
    let project = TestServer::start(&["--seed-demo"]).await;
    let front = Front::start(&project.url(""), &project.service, &project.anon).await;
    let (mine, my_id) = kiosk_identity(&project).await;
    let (other, _) = kiosk_identity(&project).await;
    let claim = reqwest::Client::new()
        .post(project.url("/rest/v1/kiosk_sessions"))
        .header("apikey", &project.anon)
        .bearer_auth(&mine)
        .json(&json!({"id": SESSION}))
        .send()
        .await
        .expect("claim");
    assert_eq!(claim.status(), 201);

    let ask = json!({"interests": "spa", "hotel_id": DEMO_HOTEL_ID});
    let (status, row) = search(&front.url(""), &project.anon, SESSION, ask).await;
    assert_eq!(status, 201, "{row}");
    assert_eq!(
        row["owner_id"],
        my_id.as_str(),
        "the project set the owner: {row}"
    );

    let read = |token: String| {
        let url = project.url(&format!("/rest/v1/kiosk_results?session_id=eq.{SESSION}"));
        let anon = project.anon.clone();
        async move {
            let r = reqwest::Client::new()
                .get(url)
                .header("apikey", anon)
                .bearer_auth(token)
                .send()
                .await
                .expect("read");
            r.json::<Value>().await.expect("json")
        }
    };
    let seen = read(mine).await;
    assert_eq!(seen.as_array().map(Vec::len), Some(1), "{seen}");
    assert_eq!(seen[0]["id"], row["id"]);
    assert_eq!(read(other).await, json!([]), "another kiosk reads nothing");
}

/// The search's abuse limits hold in upstream mode too (each search writes a row on the
/// project): per kiosk session and per client address, the same 429 as the local endpoint.
#[tokio::test]
async fn the_front_rate_limits_searches_like_the_local_endpoint() {
    let project = TestServer::start(&["--seed-demo"]).await;
    let front = Front::start_with(
        &project.url(""),
        &project.service,
        &project.anon,
        &[
            "--searches-per-session-per-minute",
            "2",
            "--searches-per-ip-per-minute",
            "3",
        ],
    )
    .await;
    let body = json!({"interests": "jazz", "hotel_id": DEMO_HOTEL_ID});
    let a = "0b7d5a8e-2c3f-4e4a-9d61-5f0a7c9e1b23";
    let b = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f";
    assert_eq!(
        search(&front.url(""), &project.anon, a, body.clone())
            .await
            .0,
        201
    );
    assert_eq!(
        search(&front.url(""), &project.anon, a, body.clone())
            .await
            .0,
        201
    );
    let (st, refused) = search(&front.url(""), &project.anon, a, body.clone()).await;
    assert_eq!(st, 429, "{refused}");
    assert_eq!(refused["code"], "PGRST429");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("kiosk session")
    );
    assert_postgrest_shape(&refused);
    // The address has used 3: the next session is refused for the address.
    let (st, refused) = search(&front.url(""), &project.anon, b, body).await;
    assert_eq!(st, 429, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("client address")
    );
}
