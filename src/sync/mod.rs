//! The sync engine in the browser: the one API views use to show live rows.
//!
//! ```ignore
//! // Once, at the root (`app.rs`), after the config is loaded:
//! provide_sync_engine(&config, boot::api_base(&config), config.anon_key.clone());
//! // In a view:
//! let spec = LiveQuerySpec::new("kiosk_results")
//!     .filter(Filter::parse_realtime(&format!("session_id=eq.{id}"))?)
//!     .order_by("created_at", true)
//!     .limit(1)
//!     .version_column("created_at")
//!     .events(ChangeEvent::Insert);
//! let results = use_live_query::<KioskResultRow>(spec);
//! view! { <For each=move || results.rows.get() … /> }
//! ```
//!
//! All the logic (schedules, merging, protocol) lives in the pure `concierge-sync` crate;
//! this module is the thin shell around it ([`shell`]): it owns the WebSocket, the one timer,
//! the fetches (with `AbortController`s) and the page-life listeners, feeds every event into
//! the engine as an `Input`, and performs the `Action`s it returns — including writing the
//! Leptos signals handed out here.
//!
//! A live query lives as long as the reactive owner that called [`use_live_query`]: when that
//! owner is disposed (a route changes, the kiosk's idle reset makes a new session) the channel
//! is left and any request in flight is aborted.

pub mod connection;
mod dom;
mod panel;
mod room;
mod shell;

use std::marker::PhantomData;

use concierge_wire::config::AppConfig;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use serde::de::DeserializeOwned;

pub use concierge_sync::{
    ChannelStatus, ConnectionState, Diagnostics, Endpoint, EngineConfig, LiveQuerySpec, OrderBy,
    QueryId, QueryState, QueryStatus, SocketState, VersionSource,
};
pub use concierge_wire::Filter;
pub use concierge_wire::realtime::ChangeEvent;

pub use concierge_sync::{Presence, RoomSpec};
pub use concierge_wire::realtime::RoomConfig;
pub use concierge_wire::room::PresenceMeta;
pub use connection::{ConnectionBadge, ConnectionPill};
pub use panel::SyncDiagnosticsPanel;
pub use room::{LiveRoom, use_room, use_room_with};
use shell::Shell;

/// A handle on the page's sync engine (cheap to clone; lives in Leptos context).
#[derive(Clone)]
pub struct SyncEngine {
    shell: SendWrapper<std::rc::Rc<Shell>>,
    diagnostics: RwSignal<Diagnostics>,
}

impl SyncEngine {
    /// Reactive engine diagnostics (connection state and counters).
    pub fn diagnostics(&self) -> Signal<Diagnostics> {
        self.diagnostics.into()
    }

    /// Sets the signed-in user's JWT (`None`: anonymous, the anon key is used). REST requests
    /// then send `Authorization: Bearer <token>` and joined channels get an `access_token` push.
    pub fn set_access_token(&self, token: Option<String>) {
        self.shell.dispatch(concierge_sync::Input::SetToken(token));
    }
}

/// Starts the page's sync engine from the app configuration and puts it in context.
/// `api_base` is `config.url` or the page origin (see `boot::api_base`). Called once, at the
/// root; the engine stops (socket closed, requests aborted, listeners removed) when the
/// calling owner is disposed. Code that runs outside the reactive tree (an auth timer setting
/// the token) keeps the returned handle rather than looking for it in context.
pub fn provide_sync_engine(config: &AppConfig, api_base: String, anon_key: String) -> SyncEngine {
    provide_sync_engine_with(
        EngineConfig::from_app(config),
        Endpoint::new(api_base, anon_key),
    )
}

/// [`provide_sync_engine`] with every engine setting explicit (tests use short intervals).
pub fn provide_sync_engine_with(config: EngineConfig, endpoint: Endpoint) -> SyncEngine {
    let diagnostics = RwSignal::new(Diagnostics::default());
    let shell = Shell::start(config, endpoint, diagnostics);
    let engine = SyncEngine {
        shell: SendWrapper::new(shell),
        diagnostics,
    };
    let stopper = engine.shell.clone();
    on_cleanup(move || stopper.stop());
    provide_context(engine.clone());
    engine
}

/// The engine the root provided.
pub fn use_sync_engine() -> Option<SyncEngine> {
    use_context::<SyncEngine>()
}

/// Reactive diagnostics of the engine in context (defaults if none is provided).
pub fn use_sync_diagnostics() -> Signal<Diagnostics> {
    match use_sync_engine() {
        Some(e) => e.diagnostics(),
        None => {
            leptos::logging::error!("use_sync_diagnostics: no sync engine in context");
            Signal::derive(Diagnostics::default)
        }
    }
}

/// A live query's reactive view. Rows that fail to deserialise into `T` are skipped (and
/// logged), never fatal. `Copy`, like the signals inside it, so closures can capture it freely.
pub struct LiveQuery<T: Send + Sync + 'static> {
    /// The rows, in the spec's order, cut to its limit.
    pub rows: Signal<Vec<T>>,
    /// Loading / Ready / Error (the last fetch failed; rows may be stale).
    pub status: Signal<QueryStatus>,
    /// The realtime channel's status for this query.
    pub channel: Signal<ChannelStatus>,
    id: Option<QueryId>,
    engine: StoredValue<Option<SyncEngine>>,
    _row: PhantomData<fn() -> T>,
}

impl<T: Send + Sync + 'static> Clone for LiveQuery<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for LiveQuery<T> {}

impl<T: Send + Sync + 'static> LiveQuery<T> {
    /// Fetches a fresh snapshot now (e.g. after this view's own write was refused).
    pub fn refresh(&self) {
        let Some(id) = self.id else { return };
        self.engine.with_value(|e| {
            if let Some(e) = e {
                e.shell
                    .dispatch(concierge_sync::Input::Refresh { query: id });
            }
        });
    }

    /// Whether a first load has completed, and stays so: "no rows" can then be told apart
    /// from "not loaded yet", and a later failed poll leaves the last rows on screen.
    pub fn loaded(&self) -> Signal<bool> {
        let status = self.status;
        Memo::new(move |prev: Option<&bool>| {
            prev.copied().unwrap_or(false) || status.with(|s| *s == QueryStatus::Ready)
        })
        .into()
    }

    /// The engine's id for this query (diagnostics, tests).
    pub fn id(&self) -> Option<QueryId> {
        self.id
    }
}

/// Subscribes to `spec` for as long as the current reactive owner lives.
pub fn use_live_query<T>(spec: LiveQuerySpec) -> LiveQuery<T>
where
    T: DeserializeOwned + Clone + PartialEq + Send + Sync + 'static,
{
    let rows = RwSignal::new(Vec::<T>::new());
    let table = spec.table.clone();
    // Only the row parsing depends on `T`; the rest is shared by every row type
    // (`subscribe_rows`) so it is compiled once, not once per row type.
    let on_rows = move |values: Vec<concierge_sync::Row>| {
        let parsed: Vec<T> = values
            .iter()
            .filter_map(|v| match T::deserialize(&**v) {
                Ok(row) => Some(row),
                Err(e) => {
                    leptos::logging::warn!("{table}: skipping a row that does not parse: {e}");
                    None
                }
            })
            .collect();
        if rows.try_with_untracked(|r| *r != parsed).unwrap_or(false) {
            rows.try_set(parsed);
        }
    };
    let q = subscribe_rows(spec, std::rc::Rc::new(on_rows));
    LiveQuery {
        rows: rows.into(),
        status: q.status,
        channel: q.channel,
        id: q.id,
        engine: q.engine,
        _row: PhantomData,
    }
}

/// The part of a [`LiveQuery`] that does not depend on its row type.
struct Subscription {
    status: Signal<QueryStatus>,
    channel: Signal<ChannelStatus>,
    id: Option<QueryId>,
    engine: StoredValue<Option<SyncEngine>>,
}

fn subscribe_rows(spec: LiveQuerySpec, on_rows: shell::RowsSink) -> Subscription {
    let state = RwSignal::new(QueryState {
        status: QueryStatus::Loading,
        channel: ChannelStatus::Idle,
    });
    let status = Memo::new(move |_| state.with(|s| s.status.clone()));
    let channel = Memo::new(move |_| state.with(|s| s.channel.clone()));
    let Some(engine) = use_sync_engine() else {
        leptos::logging::error!("use_live_query({}): no sync engine in context", spec.table);
        state.set(QueryState {
            status: QueryStatus::Error("the sync engine is not running".into()),
            channel: ChannelStatus::Idle,
        });
        return Subscription {
            status: status.into(),
            channel: channel.into(),
            id: None,
            engine: StoredValue::new(None),
        };
    };
    let on_state = move |s: QueryState| {
        if state.try_with_untracked(|cur| *cur != s).unwrap_or(false) {
            state.try_set(s);
        }
    };
    let id = engine
        .shell
        .subscribe(spec, on_rows, std::rc::Rc::new(on_state));
    let shell = engine.shell.clone();
    on_cleanup(move || shell.unsubscribe(id));
    Subscription {
        status: status.into(),
        channel: channel.into(),
        id: Some(id),
        engine: StoredValue::new(Some(engine)),
    }
}
