//! The upstream mode's server: the stateless front of a hosted Supabase project
//! ([`crate::upstream`] is its REST client). It serves the app, `/config.json`, `/healthz` and
//! the kiosk search; no `/rest`, `/auth` or `/realtime` (the hosted project serves those, and
//! their paths answer a JSON 404 here, as unknown API paths do in local mode).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, Request, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;
use tower_http::trace::TraceLayer;

use crate::upstream::{SetupError, Upstream, UpstreamConfig};

/// What the upstream mode's handlers can reach.
#[derive(Clone)]
pub struct UpstreamState {
    pub upstream: Arc<Upstream>,
    /// The `/config.json` body: the project's URL and anon key, then `--app-config`.
    pub app_config: crate::assets::Document,
    /// The built app, precompressed, as in local mode.
    pub site: Option<Arc<crate::assets::Site>>,
}

/// The search's handler takes the client alone.
impl FromRef<UpstreamState> for Arc<Upstream> {
    fn from_ref(state: &UpstreamState) -> Arc<Upstream> {
        state.upstream.clone()
    }
}

/// `/config.json` for the hosted project: the app talks to `url` (not to this server) with
/// its anon key; `overrides` (the `--app-config` object) win over both.
pub fn app_config(config: &UpstreamConfig, overrides: Option<Value>) -> Result<Value, String> {
    let base = concierge_wire::config::AppConfig {
        url: Some(config.url.clone()),
        // The search is ours, not the project's: the page's own origin.
        search_url: Some("/".into()),
        ..concierge_wire::config::AppConfig::with_anon_key(config.anon_key.clone())
    };
    let mut v = serde_json::to_value(base).map_err(|e| e.to_string())?;
    match (overrides, &mut v) {
        (None, _) => {}
        (Some(Value::Object(o)), Value::Object(m)) => m.extend(o),
        (Some(_), _) => return Err("--app-config must hold a JSON object".into()),
    }
    Ok(v)
}

pub fn router(state: UpstreamState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/config.json", get(config_json))
        .merge(crate::search::upstream_router())
        .fallback(fallback)
        .layer(crate::app::cors())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Liveness of this (stateless) server; the project's health is the project's.
async fn healthz() -> &'static str {
    "ok"
}

async fn config_json(State(s): State<UpstreamState>, headers: HeaderMap) -> Response {
    s.app_config.respond(&headers)
}

async fn fallback(State(s): State<UpstreamState>, req: Request) -> Response {
    crate::app::static_app(s.site.clone(), req).await
}

/// A bound upstream-mode server, before it starts serving.
pub struct Server {
    pub state: UpstreamState,
    pub listener: tokio::net::TcpListener,
}

impl Server {
    pub fn new(
        config: UpstreamConfig,
        app_config: Value,
        site: Option<Arc<crate::assets::Site>>,
        listener: tokio::net::TcpListener,
    ) -> Result<Server, SetupError> {
        let state = UpstreamState {
            upstream: Arc::new(Upstream::new(config)?),
            app_config: crate::assets::Document::json(&app_config),
            site,
        };
        Ok(Server { state, listener })
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        crate::app::serve(self.listener, router(self.state), shutdown).await
    }
}
