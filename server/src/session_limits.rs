//! The abuse limit on session requests (`POST /rest/v1/sessions`): per signed-in user and per
//! client address in a fixed window. Each request is a write that staff dashboards receive
//! over realtime, so a script could otherwise churn request/cancel cycles without end (the
//! one-open-session rule bounds how many are open, not how fast they are made).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use clap::Args;

use crate::authz::Principal;
use crate::rate_window::{TooMany, Window};

/// Defaults: a customer asks for a session a few times in a visit (asking again after a
/// cancel is normal); a hotel's guests behind one Wi-Fi address share the address budget.
pub const DEFAULT_SESSION_REQUESTS_PER_USER_PER_MINUTE: u32 = 10;
pub const DEFAULT_SESSION_REQUESTS_PER_IP_PER_MINUTE: u32 = 60;

#[derive(Debug, Clone, Args)]
pub struct SessionLimitArgs {
    /// Session requests (`POST /rest/v1/sessions`) allowed per signed-in user and minute;
    /// 0 = unlimited.
    #[arg(long, env = "CONCIERGE_SESSION_REQUESTS_PER_USER_PER_MINUTE", default_value_t = DEFAULT_SESSION_REQUESTS_PER_USER_PER_MINUTE, global = true)]
    pub session_requests_per_user_per_minute: u32,
    /// Session requests allowed per client address and minute; 0 = unlimited.
    #[arg(long, env = "CONCIERGE_SESSION_REQUESTS_PER_IP_PER_MINUTE", default_value_t = DEFAULT_SESSION_REQUESTS_PER_IP_PER_MINUTE, global = true)]
    pub session_requests_per_ip_per_minute: u32,
}

impl SessionLimitArgs {
    pub fn limits(&self) -> SessionLimits {
        SessionLimits::per_minute(
            self.session_requests_per_user_per_minute,
            self.session_requests_per_ip_per_minute,
        )
    }
}

/// Both session-request limits.
#[derive(Debug)]
pub struct SessionLimits {
    per_user: Window<String>,
    per_ip: Window<IpAddr>,
}

impl SessionLimits {
    pub fn per_minute(per_user: u32, per_ip: u32) -> SessionLimits {
        let minute = Duration::from_secs(60);
        SessionLimits {
            per_user: Window::new(per_user, minute),
            per_ip: Window::new(per_ip, minute),
        }
    }

    /// One session request by `who` from `ip`, or the 429 to answer. Only signed-in callers
    /// count: the service role is trusted, and keys naming no user are refused by the
    /// authorization layer anyway (at no cost worth limiting).
    pub fn check(&self, who: &Principal, ip: IpAddr) -> Result<(), TooMany> {
        let Some(user) = who.user_id() else {
            return Ok(());
        };
        let now = Instant::now();
        self.per_ip
            .take(&ip, now)
            .map_err(|wait| TooMany::new("session requests", "client address", wait))?;
        self.per_user
            .take(&user.to_owned(), now)
            .map_err(|wait| TooMany::new("session requests", "user", wait))
    }
}

impl Default for SessionLimits {
    fn default() -> Self {
        SessionLimits::per_minute(
            DEFAULT_SESSION_REQUESTS_PER_USER_PER_MINUTE,
            DEFAULT_SESSION_REQUESTS_PER_IP_PER_MINUTE,
        )
    }
}
