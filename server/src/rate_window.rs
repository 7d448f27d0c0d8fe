//! Fixed-window counters keyed by anything (a session id, a user id, a client address), and
//! the `429` they answer with. The abuse limits on searches and on session requests share them.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::rest_error::RestError;

/// Keys remembered at most per limiter; beyond it expired windows are forgotten first, then
/// newcomers are refused, so memory stays bounded under a spray of session ids or addresses.
const MAX_KEYS: usize = 10_000;

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

/// A 429 in PostgREST's error shape, with `Retry-After` in whole seconds.
#[derive(Debug)]
pub struct TooMany {
    /// What was counted, plural: "searches", "session requests".
    what: &'static str,
    /// Whose count ran out: "kiosk session", "client address".
    per: &'static str,
    retry_after_secs: u64,
}

impl TooMany {
    pub fn new(what: &'static str, per: &'static str, wait: Duration) -> TooMany {
        TooMany {
            what,
            per,
            retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
        }
    }
}

/// PostgREST's error shape, `Retry-After` in whole seconds.
impl From<TooMany> for RestError {
    fn from(t: TooMany) -> RestError {
        RestError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "PGRST429",
            format!("too many {} for this {}", t.what, t.per),
        )
        .hint(format!("Retry after {} s.", t.retry_after_secs))
        .retry_after(t.retry_after_secs)
    }
}

impl IntoResponse for TooMany {
    fn into_response(self) -> Response {
        RestError::from(self).into_response()
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
