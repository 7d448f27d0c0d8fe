//! The kiosk's live data, in one place: the results for this guest's session, and the current
//! version of the events on screen, both through the sync engine (realtime with the fallback
//! poller behind it). Everything else in the kiosk reads these signals and never talks to the
//! engine directly, so its API is used in exactly one file.

use concierge_wire::config::AppConfig;
use concierge_wire::filter::{Filter, FilterOp, FilterValue};
use concierge_wire::model::{EventRow, KioskResultRow};
use leptos::prelude::*;

use crate::sync::{self, ChangeEvent, ConnectionState, LiveQuerySpec, QueryStatus};

/// Rows of a live query, plus whether a first load has completed (so "no rows" can be told
/// apart from "not loaded yet": a deleted event vs. a catalogue still on its way).
pub struct Live<T: Send + Sync + 'static> {
    pub rows: Signal<Vec<T>>,
    pub loaded: Signal<bool>,
}

// By hand: a derive would demand `T: Copy`, but signals are copyable handles whatever `T` is.
impl<T: Send + Sync + 'static> Clone for Live<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for Live<T> {}

/// How the screen is connected, for the quiet indicator in the corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Realtime subscribed: changes arrive as they are committed.
    Live,
    /// Starting up.
    Connecting,
    /// Realtime down or disabled; the poller keeps the screen current.
    Polling,
    /// Realtime was live and is coming back; the poller covers the gap.
    Reconnecting,
    /// Neither path reaches the server at the moment.
    Offline,
}

impl Connection {
    pub fn from_engine(state: ConnectionState) -> Connection {
        match state {
            ConnectionState::Live => Connection::Live,
            ConnectionState::Connecting => Connection::Connecting,
            ConnectionState::Reconnecting => Connection::Reconnecting,
            ConnectionState::Polling => Connection::Polling,
            ConnectionState::Offline => Connection::Offline,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Connection::Live => "Live",
            Connection::Connecting => "Connecting",
            Connection::Polling => "Updating",
            Connection::Reconnecting => "Reconnecting",
            Connection::Offline => "Offline",
        }
    }
    pub fn class(self) -> &'static str {
        match self {
            Connection::Live => "live",
            Connection::Connecting => "connecting",
            Connection::Polling => "polling",
            Connection::Reconnecting => "reconnecting",
            Connection::Offline => "offline",
        }
    }
}

/// Makes sure the page has a sync engine (the app shell normally provides one; the kiosk
/// starts its own if not, e.g. when mounted alone in a test).
pub fn ensure_engine(config: &AppConfig) {
    if sync::use_sync_engine().is_none() {
        sync::provide_sync_engine(
            config,
            crate::boot::api_base(config),
            config.anon_key.clone(),
        );
    }
}

/// The newest `kiosk_results` row for `session_id` (a list of at most one): INSERTs filtered
/// by `session_id=eq.<id>`. Must be called under the guest's owner: disposing that owner
/// leaves the channel.
pub fn session_results(session_id: &str) -> Live<KioskResultRow> {
    let spec = LiveQuerySpec::new("kiosk_results")
        .filter(Filter::new(
            "session_id",
            FilterOp::Eq,
            FilterValue::One(session_id.to_owned()),
        ))
        .order_by("created_at", true)
        .limit(1)
        .version_column("created_at")
        .events(ChangeEvent::Insert);
    live(spec)
}

/// The current rows of the given events, filtered by primary key (`id=in.(…)`), which is
/// also what lets their DELETEs through (realtime matches deletes on the key only).
pub fn events_by_ids(ids: &[String]) -> Live<EventRow> {
    let spec = LiveQuerySpec::new("events")
        .filter(Filter::new(
            "id",
            FilterOp::In,
            FilterValue::List(ids.to_vec()),
        ))
        .version_column("updated_at")
        .events(ChangeEvent::All);
    live(spec)
}

fn live<T>(spec: LiveQuerySpec) -> Live<T>
where
    T: serde::de::DeserializeOwned + Clone + PartialEq + Send + Sync + 'static,
{
    let q = sync::use_live_query::<T>(spec);
    let status = q.status;
    // Once loaded, stays loaded: a later failed poll leaves the last rows on screen.
    let loaded = Memo::new(move |prev: Option<&bool>| {
        prev.copied().unwrap_or(false) || status.with(|s| *s == QueryStatus::Ready)
    });
    Live {
        rows: q.rows,
        loaded: loaded.into(),
    }
}

/// The connection state for the indicator.
pub fn connection() -> Signal<Connection> {
    let diagnostics = sync::use_sync_diagnostics();
    Memo::new(move |_| diagnostics.with(|d| Connection::from_engine(d.connection))).into()
}
