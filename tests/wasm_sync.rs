//! The sync engine's browser shell, for real, in headless Chromium: real timers, real
//! `fetch`, real DOM events, and (with a server) a real WebSocket.
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p concierge --target wasm32-unknown-unknown --test wasm_sync`
//!
//! The tests marked SERVER need a running `concierge-server` with realtime, named at compile
//! time: `CONCIERGE_TEST_SERVER=http://127.0.0.1:PORT`. The page under test is served by the
//! test runner from another origin, so the server must answer CORS (as hosted Supabase does);
//! the anon key comes from `CONCIERGE_TEST_ANON_KEY` or, failing that, `{server}/config.json`.
//! Without `CONCIERGE_TEST_SERVER` those tests log that they were skipped and return.
#![cfg(target_arch = "wasm32")]

use concierge::sync::{
    self, ChangeEvent, ChannelStatus, ConnectionState, Diagnostics, Endpoint, EngineConfig, Filter,
    LiveQuerySpec, QueryStatus,
};
use concierge_wire::phoenix::Vsn;
use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;
use serde_json::Value;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Nothing listens here: connections are refused at once.
const DEAD_BACKEND: &str = "http://127.0.0.1:9";

fn owner() -> Owner {
    let owner = Owner::new();
    owner.set();
    owner
}

async fn wait_until(what: &str, timeout_ms: f64, mut ok: impl FnMut() -> bool) {
    let start = js_sys::Date::now();
    while !ok() {
        assert!(
            js_sys::Date::now() - start < timeout_ms,
            "timed out after {timeout_ms} ms waiting for {what}"
        );
        TimeoutFuture::new(10).await;
    }
}

fn polling_only(base: u64, max: u64) -> EngineConfig {
    EngineConfig {
        realtime_enabled: false,
        poll_base_ms: base,
        poll_max_ms: max,
        ..EngineConfig::default()
    }
}

fn diag(d: Signal<Diagnostics>) -> Diagnostics {
    d.get_untracked()
}

/// Makes `document.visibilityState` report `state` (it is read-only, so shadow it) and
/// fires `visibilitychange`, as the browser does when a tab is hidden or shown.
fn set_visibility(state: &str) {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let desc = js_sys::Object::new();
    js_sys::Reflect::set(&desc, &"value".into(), &state.into()).expect("set value");
    js_sys::Reflect::set(&desc, &"configurable".into(), &true.into()).expect("set configurable");
    js_sys::Object::define_property(&doc, &"visibilityState".into(), &desc);
    let ev = web_sys::Event::new("visibilitychange").expect("event");
    doc.dispatch_event(&ev).expect("dispatch");
}

fn fire_on_window(name: &str) {
    let w = web_sys::window().expect("a window");
    let ev = web_sys::Event::new(name).expect("event");
    w.dispatch_event(&ev).expect("dispatch");
}

#[wasm_bindgen_test]
async fn real_timer_ticks_drive_the_poller_and_failures_show() {
    let owner = owner();
    let engine =
        sync::provide_sync_engine_with(polling_only(100, 400), Endpoint::new(DEAD_BACKEND, "k"));
    let q = sync::use_live_query::<Value>(LiveQuerySpec::new("events"));
    let d = engine.diagnostics();
    assert_eq!(diag(d).polls_made, 1, "the first load starts at once");
    // Fetches to a dead port fail; the poller's timer (setTimeout) keeps polling, backing off.
    wait_until("three polls", 5_000.0, || diag(d).polls_made >= 3).await;
    assert!(
        matches!(q.status.get_untracked(), QueryStatus::Error(_)),
        "{:?}",
        q.status.get_untracked()
    );
    assert_eq!(diag(d).connection, ConnectionState::Offline);
    assert!(
        diag(d).poll_interval_ms > 100,
        "failures grow the interval: {}",
        diag(d).poll_interval_ms
    );
    assert!(diag(d).poll_interval_ms <= 400);
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn hidden_page_skips_polls_and_visible_resyncs_at_once() {
    let owner = owner();
    let engine =
        sync::provide_sync_engine_with(polling_only(80, 80), Endpoint::new(DEAD_BACKEND, "k"));
    let _q = sync::use_live_query::<Value>(LiveQuerySpec::new("events"));
    let d = engine.diagnostics();
    wait_until("two polls", 3_000.0, || diag(d).polls_made >= 2).await;
    set_visibility("hidden");
    // Let any request already in flight finish, then watch ticks skip.
    TimeoutFuture::new(150).await;
    let made = diag(d).polls_made;
    let skipped = diag(d).polls_skipped;
    TimeoutFuture::new(500).await;
    assert_eq!(diag(d).polls_made, made, "no polls while hidden");
    assert!(
        diag(d).polls_skipped >= skipped + 3,
        "ticks still fire and skip"
    );
    set_visibility("visible");
    // The resync is synchronous with the event: the request is already made.
    assert_eq!(
        diag(d).polls_made,
        made + 1,
        "one immediate resync on visible"
    );
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn unmounting_a_view_unsubscribes_and_stops_its_polls() {
    let owner = owner();
    let engine =
        sync::provide_sync_engine_with(polling_only(50, 50), Endpoint::new(DEAD_BACKEND, "k"));
    let d = engine.diagnostics();
    let view = owner.child();
    view.with(|| {
        let _ = sync::use_live_query::<Value>(LiveQuerySpec::new("events"));
    });
    assert_eq!(diag(d).live_queries, 1);
    wait_until("a poll cycle", 3_000.0, || diag(d).polls_made >= 2).await;
    view.cleanup();
    assert_eq!(diag(d).live_queries, 0);
    let made = diag(d).polls_made;
    TimeoutFuture::new(300).await;
    assert_eq!(diag(d).polls_made, made, "no polls for a disposed view");
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn token_set_outside_the_tree_reaches_the_engine() {
    let owner = owner();
    let engine = sync::provide_sync_engine_with(
        polling_only(60_000, 60_000),
        Endpoint::new(DEAD_BACKEND, "k"),
    );
    let _q = sync::use_live_query::<Value>(LiveQuerySpec::new("sessions"));
    let d = engine.diagnostics();
    wait_until("the first load to fail", 3_000.0, || {
        diag(d).connection == ConnectionState::Offline
    })
    .await;
    let made = diag(d).polls_made;
    // An auth callback runs outside the reactive tree (no context): it keeps the handle the
    // root was given, and a new identity means a fresh read at once.
    owner.clone().unset();
    assert!(sync::use_sync_engine().is_none(), "no context out here");
    engine.set_access_token(Some("user.jwt".into()));
    assert_eq!(diag(d).polls_made, made + 1);
    owner.cleanup();
    // A handle kept past the root's end is harmless: the stopped engine ignores it.
    engine.set_access_token(Some("other.jwt".into()));
}

#[wasm_bindgen_test]
async fn failed_websocket_reconnects_with_backoff() {
    let owner = owner();
    let cfg = EngineConfig {
        poll_base_ms: 60_000,
        poll_max_ms: 60_000,
        reconnect_steps_ms: vec![50, 100, 200],
        reconnect_jitter: 0.0,
        ..EngineConfig::default()
    };
    let engine = sync::provide_sync_engine_with(cfg, Endpoint::new(DEAD_BACKEND, "k"));
    let q = sync::use_live_query::<Value>(LiveQuerySpec::new("events"));
    let d = engine.diagnostics();
    // A real WebSocket to a dead port closes (1006); the engine retries on its timer.
    wait_until("three reconnects", 5_000.0, || diag(d).reconnects >= 3).await;
    assert!(matches!(
        q.channel.get_untracked(),
        ChannelStatus::ChannelError(_) | ChannelStatus::Idle
    ));
    assert_ne!(diag(d).connection, ConnectionState::Live);
    owner.cleanup();
}

// ---- SERVER: a real concierge-server with realtime ------------------------------------------

fn test_server() -> Option<&'static str> {
    let s = option_env!("CONCIERGE_TEST_SERVER");
    if s.is_none() {
        web_sys::console::log_1(
            &"SKIPPED: set CONCIERGE_TEST_SERVER at build time to run the server tests".into(),
        );
    }
    s
}

async fn anon_key(base: &str) -> String {
    if let Some(k) = option_env!("CONCIERGE_TEST_ANON_KEY") {
        return k.to_owned();
    }
    let resp = gloo_net::http::Request::get(&format!("{base}/config.json"))
        .send()
        .await
        .expect("GET /config.json (the server must allow CORS, or set CONCIERGE_TEST_ANON_KEY)");
    let v: Value = resp.json().await.expect("config.json is JSON");
    v["anon_key"]
        .as_str()
        .expect("config.json has anon_key")
        .to_owned()
}

/// A kiosk as the app makes one: an anonymous sign-in that claims `session`. Its access token,
/// the only one that reads the session's results (the anon key reads none).
async fn kiosk_token(base: &str, key: &str, session: &str) -> String {
    let resp = gloo_net::http::Request::post(&format!("{base}/auth/v1/signup"))
        .header("apikey", key)
        .json(&serde_json::json!({"data": {}}))
        .expect("json body")
        .send()
        .await
        .expect("POST /auth/v1/signup");
    assert!(resp.ok(), "anonymous sign-in answered {}", resp.status());
    let v: Value = resp.json().await.expect("a session");
    let token = v["access_token"].as_str().expect("access_token").to_owned();
    let resp = gloo_net::http::Request::post(&format!("{base}/rest/v1/kiosk_sessions"))
        .header("apikey", key)
        .header("Authorization", &format!("Bearer {token}"))
        .json(&serde_json::json!({"id": session}))
        .expect("json body")
        .send()
        .await
        .expect("POST /rest/v1/kiosk_sessions");
    assert!(resp.ok(), "the claim answered {}", resp.status());
    token
}

fn realtime_cfg() -> EngineConfig {
    EngineConfig {
        // Long poll intervals: within the test, rows can only arrive by realtime (or the
        // one snapshot taken on subscribe).
        poll_base_ms: 60_000,
        poll_max_ms: 60_000,
        heartbeat_ms: 1_000,
        subscribe_grace_ms: 3_000,
        reconnect_steps_ms: vec![100, 200, 500],
        reconnect_jitter: 0.0,
        ..EngineConfig::default()
    }
}

async fn search(base: &str, key: &str, session: &str) {
    let body = serde_json::json!({"interests": "comedy", "hotel_id": "marriott-bangalore"});
    let resp = gloo_net::http::Request::post(&format!(
        "{base}/api/event/by-interests?session_id={session}"
    ))
    .header("apikey", key)
    .header("Authorization", &format!("Bearer {key}"))
    .json(&body)
    .expect("json body")
    .send()
    .await
    .expect("POST by-interests");
    assert!(resp.ok(), "by-interests answered {}", resp.status());
}

async fn realtime_insert_arrives(vsn: Vsn) {
    let Some(base) = test_server() else { return };
    let key = anon_key(base).await;
    let owner = owner();
    let engine = sync::provide_sync_engine_with(
        EngineConfig {
            vsn,
            ..realtime_cfg()
        },
        Endpoint::new(base, key.clone()),
    );
    let session = uuid::Uuid::new_v4().to_string();
    engine.set_access_token(Some(kiosk_token(base, &key, &session).await));
    let spec = LiveQuerySpec::new("kiosk_results")
        .filter(Filter::parse_realtime(&format!("session_id=eq.{session}")).expect("filter"))
        .order_by("created_at", true)
        .limit(1)
        .version_column("created_at")
        .events(ChangeEvent::Insert);
    let q = sync::use_live_query::<Value>(spec);
    let d = engine.diagnostics();
    wait_until("subscribed", 8_000.0, || {
        q.channel.get_untracked() == ChannelStatus::Subscribed
    })
    .await;
    wait_until("live", 2_000.0, || {
        diag(d).connection == ConnectionState::Live
    })
    .await;
    wait_until("the subscribe snapshot", 2_000.0, || {
        q.status.get_untracked() == QueryStatus::Ready
    })
    .await;
    assert!(q.rows.get_untracked().is_empty());
    let polls = diag(d).polls_made;
    search(base, &key, &session).await;
    wait_until("the insert by realtime", 3_000.0, || {
        !q.rows.get_untracked().is_empty()
    })
    .await;
    assert_eq!(q.rows.get_untracked()[0]["session_id"], session.as_str());
    assert!(diag(d).realtime_events >= 1);
    assert_eq!(
        diag(d).polls_made,
        polls,
        "delivered by realtime, not by a poll"
    );
    assert!(diag(d).last_latency_ms.is_some());
    // Heartbeats are answered: still live after several intervals.
    TimeoutFuture::new(2_500).await;
    assert_eq!(diag(d).connection, ConnectionState::Live);
    assert_eq!(diag(d).heartbeat_timeouts, 0);
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn server_realtime_join_subscribe_and_insert_v2() {
    realtime_insert_arrives(Vsn::V2).await;
}

#[wasm_bindgen_test]
async fn server_realtime_join_subscribe_and_insert_v1() {
    realtime_insert_arrives(Vsn::V1).await;
}

#[wasm_bindgen_test]
async fn server_pagehide_closes_and_pageshow_resubscribes_with_a_snapshot() {
    let Some(base) = test_server() else { return };
    let key = anon_key(base).await;
    let owner = owner();
    let engine = sync::provide_sync_engine_with(realtime_cfg(), Endpoint::new(base, key.clone()));
    let session = uuid::Uuid::new_v4().to_string();
    engine.set_access_token(Some(kiosk_token(base, &key, &session).await));
    let spec = LiveQuerySpec::new("kiosk_results")
        .filter(Filter::parse_realtime(&format!("session_id=eq.{session}")).expect("filter"))
        .version_column("created_at")
        .events(ChangeEvent::Insert);
    let q = sync::use_live_query::<Value>(spec);
    let d = engine.diagnostics();
    wait_until("live", 8_000.0, || {
        diag(d).connection == ConnectionState::Live
    })
    .await;
    fire_on_window("pagehide");
    assert_eq!(diag(d).socket, Some(sync::SocketState::Held));
    // A result written while the page is away is not replayed by realtime…
    search(base, &key, &session).await;
    TimeoutFuture::new(300).await;
    assert!(q.rows.get_untracked().is_empty());
    // …the snapshot taken on resubscribe brings it.
    fire_on_window("pageshow");
    wait_until("live again", 8_000.0, || {
        diag(d).connection == ConnectionState::Live
    })
    .await;
    wait_until("the missed row", 3_000.0, || {
        q.rows.get_untracked().len() == 1
    })
    .await;
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn diagnostics_panel_renders_live_counters() {
    use wasm_bindgen::JsCast;
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    let host: web_sys::HtmlElement = doc
        .create_element("div")
        .expect("div")
        .dyn_into()
        .expect("an HtmlElement");
    doc.body()
        .expect("a body")
        .append_child(&host)
        .expect("append");
    let handle = leptos::mount::mount_to(host.clone(), || {
        sync::provide_sync_engine_with(polling_only(60, 60), Endpoint::new(DEAD_BACKEND, "k"));
        let _q = sync::use_live_query::<Value>(LiveQuerySpec::new("events"));
        view! { <sync::SyncDiagnosticsPanel/> }
    });
    let text = |id: &str| {
        host.query_selector(&format!("[data-testid={id}]"))
            .ok()
            .flatten()
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    };
    wait_until("the panel to count three polls", 5_000.0, || {
        text("diag-polls").parse::<u64>().unwrap_or(0) >= 3
    })
    .await;
    assert_eq!(text("diag-connection"), "Offline");
    assert!(
        text("diag-error").contains("events"),
        "{}",
        text("diag-error")
    );
    drop(handle);
    host.remove();
}
