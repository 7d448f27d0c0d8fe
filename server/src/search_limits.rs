//! The kiosk search's abuse limit: searches per kiosk session and per client address in a
//! fixed window. Each search writes a `kiosk_results` row and fans it out over realtime, so an
//! unlimited caller with the anon key could flood the table and every subscriber.

use std::net::IpAddr;
use std::time::{Duration, Instant};

pub use crate::rate_window::TooMany;
use crate::rate_window::Window;

/// Defaults: a kiosk guest searches a few times a minute; a lobby behind one address has
/// tens of kiosks.
pub const DEFAULT_SEARCHES_PER_SESSION_PER_MINUTE: u32 = 30;
pub const DEFAULT_SEARCHES_PER_IP_PER_MINUTE: u32 = 300;

/// Both search limits.
#[derive(Debug)]
pub struct SearchLimits {
    per_session: Window<String>,
    per_ip: Window<IpAddr>,
}

impl SearchLimits {
    pub fn per_minute(per_session: u32, per_ip: u32) -> SearchLimits {
        let minute = Duration::from_secs(60);
        SearchLimits {
            per_session: Window::new(per_session, minute),
            per_ip: Window::new(per_ip, minute),
        }
    }

    /// One search for `session_id` from `ip`, or the 429 to answer.
    pub fn check(&self, session_id: &str, ip: IpAddr) -> Result<(), TooMany> {
        let now = Instant::now();
        self.per_ip
            .take(&ip, now)
            .map_err(|wait| TooMany::new("searches", "client address", wait))?;
        self.per_session
            .take(&session_id.to_owned(), now)
            .map_err(|wait| TooMany::new("searches", "kiosk session", wait))
    }
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits::per_minute(
            DEFAULT_SEARCHES_PER_SESSION_PER_MINUTE,
            DEFAULT_SEARCHES_PER_IP_PER_MINUTE,
        )
    }
}
