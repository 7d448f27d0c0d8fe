//! The kiosk's live data, in one place: the results for this guest's session, and the current
//! version of the events on screen. Everything else in the kiosk reads these signals and never
//! talks to the sync engine directly, so the engine's API is used in exactly one file.
//!
//! TEMPORARY: until the sync engine's `use_live_query` lands, this polls REST on the config's
//! base interval. The signatures are the ones the engine will fill.

use concierge_wire::config::AppConfig;
use concierge_wire::model::{EventRow, KioskResultRow};
use leptos::prelude::*;
use serde::de::DeserializeOwned;

/// Rows of a live query, plus whether the first load has completed (so "no rows" can be told
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
    /// Realtime down or disabled; the poller keeps the screen current.
    Polling,
    /// Trying to get realtime back.
    Reconnecting,
    /// Nothing works at the moment.
    Offline,
}

impl Connection {
    pub fn label(self) -> &'static str {
        match self {
            Connection::Live => "Live",
            Connection::Polling => "Updating",
            Connection::Reconnecting => "Reconnecting",
            Connection::Offline => "Offline",
        }
    }
    pub fn class(self) -> &'static str {
        match self {
            Connection::Live => "live",
            Connection::Polling => "polling",
            Connection::Reconnecting => "reconnecting",
            Connection::Offline => "offline",
        }
    }
}

/// The newest `kiosk_results` row for `session_id` (a list of at most one).
/// Must be called under the guest's owner: disposing that owner closes the subscription.
pub fn session_results(config: &AppConfig, session_id: &str) -> Live<KioskResultRow> {
    let query = [
        ("session_id".to_owned(), format!("eq.{session_id}")),
        ("order".to_owned(), "created_at.desc".to_owned()),
        ("limit".to_owned(), "1".to_owned()),
    ];
    poll_rows(config, "kiosk_results", query.to_vec())
}

/// The current rows of the given events (deleted ones are simply absent).
pub fn events_by_ids(config: &AppConfig, ids: &[String]) -> Live<EventRow> {
    let list = ids.join(",");
    let query = [("id".to_owned(), format!("in.({list})"))];
    poll_rows(config, "events", query.to_vec())
}

/// The connection state for the indicator.
pub fn connection() -> Signal<Connection> {
    let state = CONNECTION.with(|c| *c);
    state.into()
}

thread_local! {
    static CONNECTION: RwSignal<Connection> = RwSignal::new(Connection::Polling);
}

fn poll_rows<T>(config: &AppConfig, table: &str, query: Vec<(String, String)>) -> Live<T>
where
    T: DeserializeOwned + Clone + Send + Sync + 'static,
{
    let rows = RwSignal::new(Vec::<T>::new());
    let loaded = RwSignal::new(false);
    let url = format!("{}/rest/v1/{table}", crate::boot::api_base(config));
    let key = config.anon_key.clone();
    let every = std::time::Duration::from_millis(config.poll_base_ms.min(2_000));
    leptos::task::spawn_local_scoped_with_cancellation(async move {
        loop {
            let req = gloo_net::http::Request::get(&url)
                .header("apikey", &key)
                .header("Authorization", &format!("Bearer {key}"))
                .query(query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let ok = match req.send().await {
                Ok(resp) if resp.ok() => match resp.json::<Vec<T>>().await {
                    Ok(fresh) => {
                        rows.try_set(fresh);
                        loaded.try_set(true);
                        true
                    }
                    Err(_) => false,
                },
                _ => false,
            };
            CONNECTION.with(|c| {
                c.try_set(if ok {
                    Connection::Polling
                } else {
                    Connection::Offline
                })
            });
            gloo_timers::future::sleep(every).await;
        }
    });
    Live {
        rows: rows.into(),
        loaded: loaded.into(),
    }
}
