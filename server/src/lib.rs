//! `concierge-server`: the Concierge local backend. Supabase-compatible realtime
//! (Phoenix channels, `postgres_changes`) and a PostgREST subset over embedded SQLite.

pub mod accounts;
pub mod app;
pub mod assets;
pub mod auth;
pub mod authz;
pub mod cli;
pub mod client_ip;
pub mod concierge;
pub mod conn;
pub mod credentials;
pub mod db;
pub mod hub;
pub mod jwt;
pub mod matcher;
pub mod memory;
pub mod rate_window;
pub mod realtime;
pub mod reserve_limits;
pub mod rest;
pub mod rest_error;
pub mod rooms;
pub mod schema;
pub mod search;
pub mod search_limits;
pub mod secret;
pub mod session_limits;
pub mod state;
pub mod time_fmt;
pub mod upstream;

use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use crate::cli::ServeArgs;
use crate::jwt::Keys;
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database: {0}")]
    Db(#[from] db::DbError),
    #[error("--app-config {path}: {msg}")]
    AppConfig { path: String, msg: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Auth(#[from] auth::AuthSetupError),
    #[error(transparent)]
    Seed(#[from] db::seed::SeedError),
    #[error("--static-dir: {0}")]
    Assets(#[from] assets::PrepareError),
    #[error(transparent)]
    Upstream(#[from] upstream::SetupError),
    #[error(transparent)]
    Secret(#[from] secret::SecretError),
}

/// Everything a running server is made of, before it starts listening.
pub struct Server {
    pub state: AppState,
    pub listener: tokio::net::TcpListener,
    pub conn: conn::ConnLimits,
    /// Kiosk results older than this are deleted in the background; `None` keeps them.
    pub result_retention: Option<std::time::Duration>,
    /// How often freed heap memory goes back to the OS; `None`: never (see [`memory`]).
    pub memory_trim: Option<std::time::Duration>,
    /// The concierge's reply queue (`None`: switched off). Boxed: `Started` holds a `Server`
    /// beside the much smaller upstream server.
    pub concierge: Option<Box<concierge::Settings>>,
}

fn app_config_error(args: &ServeArgs, msg: String) -> StartError {
    StartError::AppConfig {
        path: args
            .app_config
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        msg,
    }
}

/// The `--app-config` object, when one is given.
fn app_config_overrides(args: &ServeArgs) -> Result<Option<Value>, StartError> {
    let err = |msg: String| app_config_error(args, msg);
    match &args.app_config {
        None => Ok(None),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| err(e.to_string()))?;
            Ok(Some(
                serde_json::from_str::<Value>(&text).map_err(|e| err(e.to_string()))?,
            ))
        }
    }
}

fn load_app_config(args: &ServeArgs, keys: &Keys) -> Result<Value, StartError> {
    app::app_config(keys, app_config_overrides(args)?).map_err(|m| app_config_error(args, m))
}

/// Opens the database, applies migrations (and the demo seed) and binds the listener.
pub async fn build(args: &ServeArgs) -> Result<Server, StartError> {
    let secret = args.resolve_secret()?;
    log_secret_source(&secret.source, &args.db);
    let keys = Arc::new(Keys::new(&secret.secret));
    let app_config_value = load_app_config(args, &keys)?;
    let hotel_id = app_config_value
        .get("hotel_id")
        .and_then(Value::as_str)
        .unwrap_or(concierge_wire::config::DEFAULT_HOTEL_ID)
        .to_owned();
    let app_config = assets::Document::json(&app_config_value);
    let (sink, changes) = tokio::sync::mpsc::unbounded_channel();
    let (db, writer) = db::open_with(&args.db, sink, &args.storage_options())?;
    let realtime = realtime::Hub::new(args.realtime.limits(std::time::Duration::from_millis(
        args.ws_idle_timeout_ms.max(1),
    )));
    tokio::spawn(realtime.clone().run_dispatcher(changes));
    let auth = auth::AuthService::open(&args.db, keys.clone(), args.access_token_ttl_secs)?
        .with_anonymous_limit(accounts::limit::Rate {
            per_hour: args.anonymous_sign_ups_per_hour,
            burst: args.anonymous_sign_up_burst,
        })
        .with_limits(args.auth_limits.limits())
        .with_max_db_bytes(args.storage_options().max_db_bytes)?;
    if args.seed_demo {
        let n = db::seed::apply(&args.db)?;
        tracing::info!(
            events = n,
            hotel = db::seed::DEMO_HOTEL_ID,
            "seeded demo catalogue"
        );
        auth.seed_demo_blocking()?;
    }
    let site = start_site(args).await?;
    let listener = bind(args).await?;
    let state = AppState {
        db,
        writer,
        keys,
        app_config,
        site,
        realtime,
        rooms: rooms::Rooms::new(args.room_limits.limits()),
        auth,
        search_limits: Arc::new(search_limits::SearchLimits::per_minute(
            args.searches_per_session_per_minute,
            args.searches_per_ip_per_minute,
        )),
        session_limits: Arc::new(args.session_limits.limits()),
        reserve_limits: Arc::new(reserve_limits::ReserveLimits::per_minute(
            args.reserves_per_user_per_minute,
            args.reserves_per_ip_per_minute,
        )),
    };
    Ok(Server {
        state,
        listener,
        conn: args.conn_limits(),
        result_retention: (args.kiosk_result_retention_secs > 0)
            .then(|| std::time::Duration::from_secs(args.kiosk_result_retention_secs)),
        memory_trim: (args.memory_trim_secs > 0)
            .then(|| std::time::Duration::from_secs(args.memory_trim_secs)),
        concierge: args.concierge.settings(hotel_id).map(Box::new),
    })
}

fn log_secret_source(source: &secret::Source, db: &std::path::Path) {
    match source {
        secret::Source::Configured => {}
        secret::Source::Development => tracing::warn!(
            "using the public DEVELOPMENT JWT secret (allowed on a loopback address only); \
             set --jwt-secret / CONCIERGE_JWT_SECRET for anything real"
        ),
        secret::Source::Stored(path) => {
            tracing::info!(file = %path.display(), "using the stored JWT secret")
        }
        secret::Source::Generated(path) => tracing::info!(
            file = %path.display(),
            "generated a random JWT secret; `concierge-server keys --db {}` prints its keys",
            db.display()
        ),
    }
}

/// `<db>-assets`, beside the database (as SQLite puts `-wal` there): the app's compressed twins
/// survive restarts, so only a new build is compressed again.
async fn bind(args: &ServeArgs) -> Result<tokio::net::TcpListener, StartError> {
    tokio::net::TcpListener::bind(args.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: args.addr.to_string(),
            source,
        })
}

/// The built app (`--static-dir`), snapshotted and precompressed once at start-up.
async fn start_site(args: &ServeArgs) -> Result<Option<Arc<assets::Site>>, StartError> {
    let Some(dist) = &args.static_dir else {
        return Ok(None);
    };
    let site = assets::Site::start(dist.clone(), assets_cache_dir(&args.db)).await?;
    Ok(Some(Arc::new(site)))
}

fn assets_cache_dir(db: &std::path::Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-assets");
    name.into()
}

impl Server {
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        let sockets = self.state.realtime.shutdown.clone();
        if let Some(retention) = self.result_retention {
            let writer = self.state.writer.clone();
            tokio::spawn(db::retention::run(writer, retention, sockets.clone()));
        }
        if let Some(period) = self.memory_trim {
            tokio::spawn(memory::run(period, sockets.clone()));
        }
        if let Some(settings) = self.concierge {
            let state = self.state.clone();
            tokio::spawn(concierge::run(state, *settings, sockets.clone()));
        }
        let router = app::router(self.state);
        // WebSockets outlive HTTP graceful shutdown; close them when shutdown begins.
        let shutdown = async move {
            shutdown.await;
            sockets.cancel();
        };
        app::serve_with(self.listener, router, shutdown, self.conn).await?;
        Ok(())
    }
}

/// What `concierge-server` serves: the local backend, or (with `--upstream-supabase`) the
/// stateless front of a hosted Supabase project.
pub enum Started {
    Local(Server),
    Upstream(UpstreamServer),
}

/// Builds the server `args` ask for (see [`Started`]).
pub async fn start(args: &ServeArgs) -> Result<Started, StartError> {
    let Some(url) = &args.upstream_supabase else {
        return Ok(Started::Local(build(args).await?));
    };
    let config = upstream::UpstreamConfig::new(
        url,
        args.upstream_service_key.as_deref(),
        args.upstream_anon_key.as_deref(),
    )?;
    if args.seed_demo {
        tracing::warn!("--seed-demo does nothing in upstream mode: seed the hosted project");
    }
    let app_config = upstream::app_config(&config, app_config_overrides(args)?)
        .map_err(|m| app_config_error(args, m))?;
    let listener = bind(args).await?;
    let site = start_site(args).await?;
    let state = state::UpstreamState {
        upstream: Arc::new(upstream::Upstream::new(config)?),
        app_config: assets::Document::json(&app_config),
        site,
        search_limits: Arc::new(search_limits::SearchLimits::per_minute(
            args.searches_per_session_per_minute,
            args.searches_per_ip_per_minute,
        )),
    };
    Ok(Started::Upstream(UpstreamServer {
        state,
        listener,
        conn: args.conn_limits(),
    }))
}

/// A bound upstream-mode server, before it starts serving.
pub struct UpstreamServer {
    pub state: state::UpstreamState,
    pub listener: tokio::net::TcpListener,
    /// The connection limits, as in local mode (`--max-connections`, the header timeout).
    pub conn: conn::ConnLimits,
}

impl UpstreamServer {
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = app::upstream_router(self.state);
        app::serve_with(self.listener, router, shutdown, self.conn).await
    }
}

impl Started {
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        match self {
            Started::Local(s) => s.local_addr(),
            Started::Upstream(s) => s.local_addr(),
        }
    }

    /// One line for the start-up log: where the data lives.
    pub fn describe(&self, args: &ServeArgs) -> String {
        match self {
            Started::Local(_) => format!("database {}", args.db.display()),
            Started::Upstream(s) => format!("upstream {}", s.state.upstream.config().url),
        }
    }

    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartError> {
        match self {
            Started::Local(s) => s.run(shutdown).await,
            Started::Upstream(s) => Ok(s.run(shutdown).await?),
        }
    }
}
