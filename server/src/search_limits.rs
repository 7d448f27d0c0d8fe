//! The kiosk search's abuse limit: searches per kiosk session and per client address in a
//! fixed window. Each search writes a `kiosk_results` row and fans it out over realtime, so an
//! unlimited caller with the anon key could flood the table and every subscriber.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::rest_error::RestError;

/// Keys remembered at most per limiter; beyond it expired windows are forgotten first, then
/// newcomers are refused, so memory stays bounded under a spray of session ids or addresses.
const MAX_KEYS: usize = 10_000;

/// Defaults: a kiosk guest searches a few times a minute; a lobby behind one address has
/// tens of kiosks.
pub const DEFAULT_SEARCHES_PER_SESSION_PER_MINUTE: u32 = 30;
pub const DEFAULT_SEARCHES_PER_IP_PER_MINUTE: u32 = 300;

/// At most `limit` takes per key in each `window` (0 = no limit).
#[derive(Debug)]
pub struct Window<K> {
    limit: u32,
    window: Duration,
    counts: Mutex<HashMap<K, (Instant, u32)>>,
}

impl<K: Hash + Eq + Clone> Window<K> {
    pub fn new(limit: u32, window: Duration) -> Window<K> {
        Window {
            limit,
            window,
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one for `key` at `now`, or says how long until its window ends.
    pub fn take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        // A poisoned lock only means another request panicked mid-update; counts are counts.
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.window;
        if counts.len() >= MAX_KEYS && !counts.contains_key(key) {
            counts.retain(|_, (start, _)| now.saturating_duration_since(*start) < window);
            if counts.len() >= MAX_KEYS {
                return Err(window);
            }
        }
        let entry = counts.entry(key.clone()).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= self.limit {
            return Err(window.saturating_sub(now.saturating_duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
    }
}

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
            .map_err(|wait| TooMany::new("client address", wait))?;
        self.per_session
            .take(&session_id.to_owned(), now)
            .map_err(|wait| TooMany::new("kiosk session", wait))
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

/// A 429 in PostgREST's error shape, with `Retry-After` in whole seconds.
#[derive(Debug)]
pub struct TooMany {
    per: &'static str,
    retry_after_secs: u64,
}

impl TooMany {
    fn new(per: &'static str, wait: Duration) -> TooMany {
        TooMany {
            per,
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        }
    }
}

impl IntoResponse for TooMany {
    fn into_response(self) -> Response {
        let mut r = RestError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "PGRST429",
            format!("too many searches for this {}", self.per),
        )
        .hint(format!("Retry after {} s.", self.retry_after_secs))
        .into_response();
        r.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(self.retry_after_secs),
        );
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_per_window_per_key_then_the_next_window() {
        let w = Window::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(w.take(&"a", t0).is_ok());
        assert!(w.take(&"a", t0).is_ok());
        let wait = w.take(&"a", t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(w.take(&"b", t0).is_ok(), "another key has its own count");
        assert!(w.take(&"a", t0 + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn zero_is_no_limit() {
        let w = Window::new(0, Duration::from_secs(60));
        for _ in 0..100 {
            assert!(w.take(&1, Instant::now()).is_ok());
        }
    }
}
