//! The browser's clocks, and the one ticking "now" views re-render from.

use std::time::Duration;

use leptos::prelude::*;

/// Wall-clock milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Wall-clock seconds since the epoch.
pub fn now_unix() -> i64 {
    (now_ms() / 1000.0) as i64
}

/// The page's monotonic clock in milliseconds (falls back to the wall clock).
pub fn now_monotonic() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(now_ms)
}

/// Wall-clock milliseconds, updated every `period` for as long as the calling owner lives:
/// elapsed times and "starts in…" labels read this and re-render on their own.
pub fn use_now(period: Duration) -> Signal<f64> {
    let now = RwSignal::new(now_ms());
    if let Ok(handle) = set_interval_with_handle(move || now.set(now_ms()), period) {
        on_cleanup(move || handle.clear());
    }
    now.into()
}
