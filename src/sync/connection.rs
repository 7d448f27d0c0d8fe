//! How the page is connected to the backend, in words: one set of labels for the connection
//! states, and the two quiet indicators that show them (the kiosk's corner badge, the signed-in
//! pages' pill).

use leptos::prelude::*;

use super::{ConnectionState, use_sync_diagnostics};

/// The state's name in lower case, for `data-state` and CSS modifiers. A plain match, not
/// `format!("{:?}").to_lowercase()`, which pulls the Unicode case tables into the wasm.
pub fn key(state: ConnectionState) -> &'static str {
    match state {
        ConnectionState::Live => "live",
        ConnectionState::Connecting => "connecting",
        ConnectionState::Reconnecting => "reconnecting",
        ConnectionState::Polling => "polling",
        ConnectionState::Offline => "offline",
    }
}

/// The label for a connection state, as operators and signed-in users read it.
pub fn label(state: ConnectionState) -> &'static str {
    match state {
        ConnectionState::Live => "Live",
        ConnectionState::Connecting => "Connecting",
        ConnectionState::Reconnecting => "Reconnecting",
        ConnectionState::Polling => "Polling",
        ConnectionState::Offline => "Offline",
    }
}

/// The label a lobby guest reads: "polling" means nothing to them; the screen is updating.
pub fn guest_label(state: ConnectionState) -> &'static str {
    match state {
        ConnectionState::Polling => "Updating",
        other => label(other),
    }
}

/// The engine's connection state, changing only when it does.
pub fn use_connection() -> Signal<ConnectionState> {
    let d = use_sync_diagnostics();
    Memo::new(move |_| d.with(|d| d.connection)).into()
}

/// Quiet connection state for signed-in pages: live (realtime), polling, or reconnecting.
#[component]
pub fn ConnectionPill() -> impl IntoView {
    let state = use_connection();
    view! {
        <span class="conn" data-testid="connection" data-state=move || key(state.get())>
            <span class="conn__dot" aria-hidden="true"></span>
            {move || label(state.get())}
        </span>
    }
}

/// The kiosk's indicator in the corner.
#[component]
pub fn ConnectionBadge() -> impl IntoView {
    let state = use_connection();
    view! {
        <p
            class=move || format!("connection connection--{}", key(state.get()))
            data-testid="connection"
            title="Connection to the concierge service"
        >
            <span class="connection__dot" aria-hidden="true"></span>
            <span class="connection__label">{move || guest_label(state.get())}</span>
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ConnectionState; 5] = [
        ConnectionState::Live,
        ConnectionState::Connecting,
        ConnectionState::Reconnecting,
        ConnectionState::Polling,
        ConnectionState::Offline,
    ];

    #[test]
    fn key_is_the_state_name_in_lower_case() {
        for state in ALL {
            assert_eq!(key(state), format!("{state:?}").to_lowercase());
        }
    }

    #[test]
    fn guests_read_updating_where_operators_read_polling() {
        assert_eq!(label(ConnectionState::Polling), "Polling");
        assert_eq!(guest_label(ConnectionState::Polling), "Updating");
        for state in ALL.into_iter().filter(|s| *s != ConnectionState::Polling) {
            assert_eq!(label(state), guest_label(state));
        }
    }
}
