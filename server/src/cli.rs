//! Command-line interface. Every serve flag has an environment-variable twin so the same
//! binary can be configured by scripts, containers and tests alike.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "concierge-server",
    version,
    about = "Concierge local backend: Supabase-compatible realtime and REST over SQLite"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, realtime and the built app (the default when no subcommand is given).
    Serve,
    /// Print `{"anon_key": …, "service_role_key": …}` for the JWT secret a server with the same
    /// --jwt-secret, --db and --addr uses (the stored `<db>.jwt-secret` when it exists).
    Keys,
    /// Create a staff account (or promote an existing user to staff and reset its password)
    /// in the database given by --db.
    AddStaff(AddStaffArgs),
}

#[derive(Debug, Clone, Args)]
pub struct AddStaffArgs {
    /// Sign-in email.
    #[arg(long)]
    pub email: String,
    /// Sign-in password (at least 6 characters).
    #[arg(long, env = "CONCIERGE_STAFF_PASSWORD", hide_env_values = true)]
    pub password: String,
    /// The name customers see on their banner when this person accepts their session.
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "CONCIERGE_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub addr: SocketAddr,
    /// SQLite database file (created if missing).
    #[arg(
        long,
        env = "CONCIERGE_DB",
        default_value = "concierge.db",
        global = true
    )]
    pub db: PathBuf,
    /// Directory holding the built app (index.html, wasm, js, css).
    #[arg(long, env = "CONCIERGE_STATIC_DIR", global = true)]
    pub static_dir: Option<PathBuf>,
    /// HS256 secret for the anon / service_role keys and user tokens. When not set: the secret
    /// stored in `<db>.jwt-secret` if that file exists; else on a loopback --addr the public
    /// development secret; else a random secret generated into `<db>.jwt-secret` (mode 0600).
    #[arg(
        long,
        env = "CONCIERGE_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<String>,
    /// Load (or re-time) the demo hotel and its events at start.
    #[arg(long, env = "CONCIERGE_SEED_DEMO", global = true)]
    pub seed_demo: bool,
    /// JSON object whose keys override or extend what /config.json returns.
    #[arg(long, env = "CONCIERGE_APP_CONFIG", global = true)]
    pub app_config: Option<PathBuf>,
    /// Close a realtime socket after this long without any frame from the client.
    #[arg(
        long,
        env = "CONCIERGE_WS_IDLE_TIMEOUT_MS",
        default_value_t = 60_000,
        global = true
    )]
    pub ws_idle_timeout_ms: u64,
    #[command(flatten)]
    pub realtime: crate::realtime::RealtimeLimitArgs,
    #[command(flatten)]
    pub room_limits: crate::realtime::RoomLimitArgs,
    /// Lifetime of the access tokens /auth/v1 issues (seconds).
    #[arg(
        long,
        env = "CONCIERGE_ACCESS_TOKEN_TTL_SECS",
        default_value_t = crate::accounts::DEFAULT_ACCESS_TOKEN_TTL_SECS,
        global = true
    )]
    pub access_token_ttl_secs: u64,
    /// Anonymous sign-ups (kiosk identities) allowed per client address and hour, refilled
    /// continuously; 0 disables anonymous sign-ins.
    #[arg(
        long,
        env = "CONCIERGE_ANONYMOUS_SIGN_UPS_PER_HOUR",
        default_value_t = crate::accounts::DEFAULT_ANONYMOUS_SIGN_UPS_PER_HOUR,
        global = true
    )]
    pub anonymous_sign_ups_per_hour: u32,
    /// How many anonymous sign-ups one client address may make at once before the hourly
    /// rate applies.
    #[arg(
        long,
        env = "CONCIERGE_ANONYMOUS_SIGN_UP_BURST",
        default_value_t = crate::accounts::DEFAULT_ANONYMOUS_SIGN_UP_BURST,
        global = true
    )]
    pub anonymous_sign_up_burst: u32,
    #[command(flatten)]
    pub auth_limits: crate::accounts::AuthLimitArgs,
    /// Cancel any one database query after this long (57014); 0 = never.
    #[arg(
        long,
        env = "CONCIERGE_STATEMENT_TIMEOUT_MS",
        default_value_t = 2_000,
        global = true
    )]
    pub statement_timeout_ms: u64,
    /// Read-only database connections (at least 2).
    #[arg(
        long,
        env = "CONCIERGE_DB_READERS",
        default_value_t = crate::db::read_gate::DEFAULT_READERS,
        global = true
    )]
    pub db_readers: usize,
    /// How many readers `like`/`ilike` reads may hold at once (at most all readers but one, so
    /// ordinary reads always find one).
    #[arg(
        long,
        env = "CONCIERGE_PATTERN_READ_LANES",
        default_value_t = crate::db::read_gate::DEFAULT_PATTERN_LANES,
        global = true
    )]
    pub pattern_read_lanes: usize,
    /// `like`/`ilike` reads that may wait for a lane; more at once get 429.
    #[arg(
        long,
        env = "CONCIERGE_PATTERN_READ_QUEUE",
        default_value_t = crate::db::read_gate::DEFAULT_PATTERN_QUEUE,
        global = true
    )]
    pub pattern_read_queue: usize,
    /// Page cache each database connection adds to SQLite's pooled cache (KiB).
    #[arg(
        long,
        env = "CONCIERGE_DB_CACHE_KIB",
        default_value_t = crate::db::options::DEFAULT_CACHE_KIB,
        global = true
    )]
    pub db_cache_kib: u32,
    /// Keep the write-ahead log below this size (MiB): past half of it the writer checkpoints.
    #[arg(
        long,
        env = "CONCIERGE_WAL_LIMIT_MIB",
        default_value_t = 32,
        global = true
    )]
    pub wal_limit_mib: u64,
    /// Largest the database file may grow (MiB); writes beyond it get 503 (53100). Unlimited
    /// when not set (then only the disk limits it).
    #[arg(long, env = "CONCIERGE_MAX_DB_MIB", global = true)]
    pub max_db_mib: Option<u64>,
    /// Close a connection whose client has not sent a complete request head this long after
    /// connecting or after the previous response (so also the idle keep-alive timeout).
    #[arg(
        long,
        env = "CONCIERGE_HTTP_HEADER_TIMEOUT_MS",
        default_value_t = crate::conn::DEFAULT_HEADER_TIMEOUT_MS,
        global = true
    )]
    pub http_header_timeout_ms: u64,
    /// HTTP connections served at once; beyond it new clients wait to be accepted.
    #[arg(
        long,
        env = "CONCIERGE_MAX_CONNECTIONS",
        default_value_t = crate::conn::DEFAULT_MAX_CONNECTIONS,
        global = true
    )]
    pub max_connections: usize,
    /// Kiosk searches (`POST /api/event/by-interests`) allowed per kiosk session and minute;
    /// 0 = unlimited.
    #[arg(
        long,
        env = "CONCIERGE_SEARCHES_PER_SESSION_PER_MINUTE",
        default_value_t = crate::search_limits::DEFAULT_SEARCHES_PER_SESSION_PER_MINUTE,
        global = true
    )]
    pub searches_per_session_per_minute: u32,
    /// Kiosk searches allowed per client address and minute; 0 = unlimited.
    #[arg(
        long,
        env = "CONCIERGE_SEARCHES_PER_IP_PER_MINUTE",
        default_value_t = crate::search_limits::DEFAULT_SEARCHES_PER_IP_PER_MINUTE,
        global = true
    )]
    pub searches_per_ip_per_minute: u32,
    #[command(flatten)]
    pub session_limits: crate::session_limits::SessionLimitArgs,
    /// Reservations (`POST /rest/v1/rpc/reserve`) allowed per signed-in user (a kiosk's
    /// anonymous sign-in, a customer) and minute; 0 = unlimited.
    #[arg(
        long,
        env = "CONCIERGE_RESERVES_PER_USER_PER_MINUTE",
        default_value_t = crate::reserve_limits::DEFAULT_RESERVES_PER_USER_PER_MINUTE,
        global = true
    )]
    pub reserves_per_user_per_minute: u32,
    /// Reservations allowed per client address and minute; 0 = unlimited.
    #[arg(
        long,
        env = "CONCIERGE_RESERVES_PER_IP_PER_MINUTE",
        default_value_t = crate::reserve_limits::DEFAULT_RESERVES_PER_IP_PER_MINUTE,
        global = true
    )]
    pub reserves_per_ip_per_minute: u32,
    /// Delete kiosk results older than this (seconds), in the background and through the
    /// writer (realtime sees each DELETE); 0 = keep them for ever.
    #[arg(
        long,
        env = "CONCIERGE_KIOSK_RESULT_RETENTION_SECS",
        default_value_t = crate::db::retention::DEFAULT_KIOSK_RESULT_RETENTION_SECS,
        global = true
    )]
    pub kiosk_result_retention_secs: u64,
    /// Kiosk results one kiosk session may hold (until the retention removes them); writes
    /// beyond it get 400 (23514). 0 = no cap.
    #[arg(
        long,
        env = "CONCIERGE_KIOSK_RESULTS_PER_SESSION",
        default_value_t = crate::db::options::DEFAULT_MAX_RESULTS_PER_SESSION,
        global = true
    )]
    pub kiosk_results_per_session: u32,
    /// Every this many seconds, heap memory the server freed goes back to the OS, so its
    /// resident size follows what it uses rather than its highest peak, and the database writer
    /// drops the cached pages no statement holds; 0 = never.
    #[arg(
        long,
        env = "CONCIERGE_MEMORY_TRIM_SECS",
        default_value_t = crate::memory::DEFAULT_TRIM_SECS,
        global = true
    )]
    pub memory_trim_secs: u64,
    /// Messages: limits and the concierge's reply queue (issue 16).
    #[command(flatten)]
    pub concierge: crate::concierge::ConciergeArgs,
    /// Upstream mode: the base URL of a hosted Supabase project (`https://<ref>.supabase.co`).
    /// The server then keeps no database: it serves the app, `/config.json` and the kiosk
    /// search, reading the catalogue from and writing results to that project's REST API.
    #[arg(long, env = "CONCIERGE_UPSTREAM_SUPABASE", global = true)]
    pub upstream_supabase: Option<String>,
    /// Upstream mode: the project's service_role (secret) key, used for the search's reads and
    /// its result writes. Prefer the environment: a flag shows in the process list.
    #[arg(
        long,
        env = "CONCIERGE_UPSTREAM_SERVICE_KEY",
        hide_env_values = true,
        global = true
    )]
    pub upstream_service_key: Option<String>,
    /// Upstream mode: the project's anon (publishable) key, served in `/config.json`; search
    /// callers must present it (or the service key) as their API key.
    #[arg(long, env = "CONCIERGE_UPSTREAM_ANON_KEY", global = true)]
    pub upstream_anon_key: Option<String>,
}

impl ServeArgs {
    /// The JWT secret these flags select (see `crate::secret`); may create `<db>.jwt-secret`.
    pub fn resolve_secret(&self) -> Result<crate::secret::Resolved, crate::secret::SecretError> {
        crate::secret::resolve(self.jwt_secret.as_deref(), self.addr, &self.db)
    }

    /// The connection limits these flags configure.
    pub fn conn_limits(&self) -> crate::conn::ConnLimits {
        crate::conn::ConnLimits {
            header_timeout: std::time::Duration::from_millis(self.http_header_timeout_ms.max(1)),
            max_connections: self.max_connections.max(1),
        }
    }

    /// The storage limits these flags configure.
    pub fn storage_options(&self) -> crate::db::Options {
        const MIB: u64 = 1024 * 1024;
        let mut opts = crate::db::Options {
            statement_timeout: std::time::Duration::from_millis(self.statement_timeout_ms),
            wal_limit_bytes: self.wal_limit_mib.max(1).saturating_mul(MIB),
            max_db_bytes: self.max_db_mib.map(|m| m.saturating_mul(MIB)),
            max_results_per_session: self.kiosk_results_per_session,
            cache_kib: self.db_cache_kib,
            cache_release_every: (self.memory_trim_secs > 0)
                .then(|| std::time::Duration::from_secs(self.memory_trim_secs)),
            reads: crate::db::read_gate::ReadLimits {
                readers: self.db_readers,
                pattern_lanes: self.pattern_read_lanes,
                pattern_queue: self.pattern_read_queue,
            },
            ..crate::db::Options::default()
        };
        self.concierge.storage(&mut opts);
        opts
    }
}
