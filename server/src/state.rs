//! What every handler can reach. Routers take [`AppState`] from here; `app` only composes them.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::accounts::AuthService;
use crate::assets::{Document, Site};
use crate::db::{Db, Writer};
use crate::hub::Hub;
use crate::jwt::Keys;
use crate::upstream::Upstream;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// The single write path: use it for every write so realtime sees it.
    pub writer: Writer,
    pub keys: Arc<Keys>,
    /// The `/config.json` body (defaults merged with `--app-config`), with its `ETag`.
    pub app_config: Document,
    /// The built app (`--static-dir`), snapshotted and precompressed at start-up.
    pub site: Option<Arc<Site>>,
    /// Realtime subscriptions and fan-out.
    pub realtime: Arc<Hub>,
    /// Broadcast and Presence rooms (realtime channels' topics).
    pub rooms: Arc<crate::rooms::Rooms>,
    /// `/auth/v1` (users, sessions, tokens).
    pub auth: AuthService,
    /// Searches per kiosk session and per client address (`POST /api/event/by-interests`).
    pub search_limits: Arc<crate::search_limits::SearchLimits>,
    /// Session requests per user and per client address (`POST /rest/v1/sessions`).
    pub session_limits: Arc<crate::session_limits::SessionLimits>,
    /// `rpc/reserve` calls per client address and per user.
    pub reserve_limits: Arc<crate::reserve_limits::ReserveLimits>,
}

/// What the upstream mode's handlers can reach (a stateless front of a hosted project).
#[derive(Clone)]
pub struct UpstreamState {
    pub upstream: Arc<Upstream>,
    /// The `/config.json` body: the project's URL and anon key, then `--app-config`.
    pub app_config: Document,
    /// The built app, precompressed, as in local mode.
    pub site: Option<Arc<Site>>,
    /// The search's limits, as in local mode: each search writes a row on the project.
    pub search_limits: Arc<crate::search_limits::SearchLimits>,
}

impl FromRef<UpstreamState> for Arc<crate::search_limits::SearchLimits> {
    fn from_ref(state: &UpstreamState) -> Self {
        state.search_limits.clone()
    }
}

/// The search's handler takes the client alone.
impl FromRef<UpstreamState> for Arc<Upstream> {
    fn from_ref(state: &UpstreamState) -> Arc<Upstream> {
        state.upstream.clone()
    }
}
