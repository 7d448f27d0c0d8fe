//! The kiosk's live data, in one place: the results for this guest's session, and the current
//! version of the events on screen, both through the sync engine (realtime with the fallback
//! poller behind it). Everything else in the kiosk reads these signals and never talks to the
//! engine directly, so its API is used in exactly one file.

use concierge_wire::Filter;
use concierge_wire::model::{EventRow, KioskResultRow};
use leptos::prelude::*;

use crate::sync::{self, ChangeEvent, LiveQuerySpec};

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

/// The newest `kiosk_results` row for `session_id` (a list of at most one): INSERTs filtered
/// by `session_id=eq.<id>`. Must be called under the guest's owner: disposing that owner
/// leaves the channel.
pub fn session_results(session_id: &str) -> Live<KioskResultRow> {
    let spec = LiveQuerySpec::new("kiosk_results")
        .filter(Filter::eq("session_id", session_id))
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
        .filter(Filter::is_in("id", ids.iter().cloned()))
        .version_column("updated_at")
        .events(ChangeEvent::All);
    live(spec)
}

fn live<T>(spec: LiveQuerySpec) -> Live<T>
where
    T: serde::de::DeserializeOwned + Clone + PartialEq + Send + Sync + 'static,
{
    let q = sync::use_live_query::<T>(spec);
    Live {
        rows: q.rows,
        loaded: q.loaded(),
    }
}
