//! The operators' diagnostics panel: connection state and the engine's counters, live.
//! Unstyled on purpose (a `<dl>` with stable `data-testid`s); pages place and style it.

use leptos::prelude::*;

use super::{connection, use_sync_diagnostics};

/// Connection state, realtime events received, polls made and skipped, current interval,
/// reconnects, last update latency, last error.
#[component]
pub fn SyncDiagnosticsPanel() -> impl IntoView {
    let d = use_sync_diagnostics();
    let row = |label: &'static str, testid: &'static str, value: Signal<String>| {
        view! {
            <dt>{label}</dt>
            <dd data-testid=testid>{move || value.get()}</dd>
        }
    };
    let text = move |f: fn(&super::Diagnostics) -> String| Signal::derive(move || d.with(f));
    view! {
        <dl class="sync-diagnostics" aria-label="Sync diagnostics">
            {row("Connection", "diag-connection", text(|d| connection::label(d.connection).into()))}
            {row("Realtime events", "diag-events", text(|d| d.realtime_events.to_string()))}
            {row("Polls made", "diag-polls", text(|d| d.polls_made.to_string()))}
            {row("Polls skipped", "diag-skipped", text(|d| d.polls_skipped.to_string()))}
            {row("Poll interval", "diag-interval", text(|d| format!("{} s", crate::fixed::fixed(d.poll_interval_ms as f64 / 1000.0, 1))))}
            {row("Reconnects", "diag-reconnects", text(|d| d.reconnects.to_string()))}
            {row(
                "Last update latency",
                "diag-latency",
                text(|d| d.last_latency_ms.map_or("—".into(), |ms| format!("{ms} ms"))),
            )}
            {row("Last error", "diag-error", text(|d| d.last_error.clone().unwrap_or_else(|| "none".into())))}
        </dl>
    }
}
