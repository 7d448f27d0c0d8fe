//! Router composition and serving. Other modules add their routes in [`router`].

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tower_http::cors::{Any, CorsLayer};
use tower_http::trace::TraceLayer;

use crate::jwt::Keys;
use crate::state::{AppState, UpstreamState};

/// Path prefixes that belong to APIs: unknown paths under them get a JSON 404, never the app.
const API_PREFIXES: &[&str] = &["/rest/", "/api/", "/auth/", "/realtime/", "/socket/"];

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/config.json", get(config_json))
        .merge(crate::rest::router())
        .merge(crate::realtime::router())
        .merge(crate::search::router())
        .merge(crate::auth::router())
        .merge(crate::concierge::router())
        .fallback(fallback)
        .layer(cors())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The upstream mode's router: the app, `/config.json`, `/healthz` and the kiosk search; no
/// `/rest`, `/auth` or `/realtime` (the hosted project serves those, and their paths answer a
/// JSON 404 here, as unknown API paths do in local mode).
pub fn upstream_router(state: UpstreamState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/config.json", get(upstream_config_json))
        .merge(crate::search::upstream_router())
        .fallback(upstream_fallback)
        .layer(cors())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn upstream_config_json(State(s): State<UpstreamState>, headers: HeaderMap) -> Response {
    s.app_config.respond(&headers)
}

async fn upstream_fallback(State(s): State<UpstreamState>, req: Request) -> Response {
    static_app(s.site.clone(), req).await
}

/// Hosted Supabase answers browsers from any origin (the anon key, not the origin, is the
/// credential), so apps served elsewhere, `trunk serve` and the wasm test runner can reach us.
fn cors() -> CorsLayer {
    use axum::http::{HeaderName, Method};
    let allow = [
        "apikey",
        "authorization",
        "content-type",
        "accept",
        "accept-profile",
        "content-profile",
        "prefer",
        "range",
        "x-client-info",
        "x-supabase-api-version",
    ]
    .map(HeaderName::from_static);
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PATCH,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(allow)
        .expose_headers([header::CONTENT_RANGE])
        .max_age(std::time::Duration::from_secs(3600))
}

async fn healthz() -> &'static str {
    "ok"
}

async fn config_json(State(s): State<AppState>, headers: HeaderMap) -> Response {
    s.app_config.respond(&headers)
}

pub fn json_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "details": null, "hint": null})),
    )
        .into_response()
}

/// Static app files; client routes (`/kiosk`, `/session`, `/staff`, anything unknown outside
/// the API prefixes) get `index.html` so the app's router can take over.
async fn fallback(State(s): State<AppState>, req: Request) -> Response {
    static_app(s.site.clone(), req).await
}

/// The fallback's work, shared with the upstream mode's router (which has no [`AppState`]).
async fn static_app(site: Option<Arc<crate::assets::Site>>, req: Request) -> Response {
    let path = req.uri().path();
    if API_PREFIXES
        .iter()
        .any(|p| path.starts_with(p) || path == p.trim_end_matches('/'))
    {
        return json_error(
            StatusCode::NOT_FOUND,
            "PGRST125",
            &format!(
                "Invalid path specified in request URL: {}",
                path.chars().take(200).collect::<String>()
            ),
        );
    }
    let Some(site) = site else {
        return (
            StatusCode::NOT_FOUND,
            "the app is not being served: start concierge-server with --static-dir <built app>",
        )
            .into_response();
    };
    site.serve(req).await
}

/// Builds the `/config.json` body: the app's defaults with our anon key, then the operator's
/// overrides. `url` stays null so the app uses its own origin.
pub fn app_config(keys: &Keys, overrides: Option<Value>) -> Result<Value, String> {
    let base = concierge_wire::config::AppConfig::with_anon_key(keys.anon_key());
    let mut v = serde_json::to_value(base).map_err(|e| e.to_string())?;
    match overrides {
        None => {}
        Some(Value::Object(o)) => {
            if let Value::Object(m) = &mut v {
                m.extend(o);
            }
        }
        Some(_) => return Err("--app-config must hold a JSON object".into()),
    }
    Ok(v)
}

/// Serves `router` on `listener` until `shutdown` resolves, with the default connection limits.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, shutdown, crate::conn::ConnLimits::default()).await
}

/// Serves `router` on `listener` until `shutdown` resolves, within `limits` (see [`crate::conn`]).
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: crate::conn::ConnLimits,
) -> std::io::Result<()> {
    crate::conn::serve(listener, app, shutdown, limits).await
}
