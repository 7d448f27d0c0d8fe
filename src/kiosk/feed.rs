//! The kiosk's live data, in one place: the results for this guest's session, and the hotel's
//! catalogue the cards are kept current with, both through the sync engine (realtime with the
//! fallback poller behind it). Everything else in the kiosk reads these signals and never talks
//! to the engine directly, so its API is used in exactly one file.
//!
//! Two subscriptions, and never one per result: a result carries its events in full, so it
//! renders as it arrives (no request, no channel join), and the catalogue, subscribed once per
//! page, overlays the updates and deletions that happen after.

use std::collections::HashSet;

use concierge_wire::Filter;
use concierge_wire::model::{EventRow, KioskResultRow};
use leptos::prelude::*;

use crate::sync::{self, ChangeEvent, LiveQuerySpec};

/// The newest `kiosk_results` row for `session_id` (a list of at most one): INSERTs filtered
/// by `session_id=eq.<id>`. Must be called under the guest's owner: disposing that owner
/// leaves the channel.
pub fn session_results(session_id: &str) -> Signal<Vec<KioskResultRow>> {
    let spec = LiveQuerySpec::new("kiosk_results")
        .filter(Filter::eq("session_id", session_id))
        .order_by("created_at", true)
        .limit(1)
        .version_column("created_at")
        .events(ChangeEvent::Insert);
    sync::use_live_query(spec).rows
}

/// The hotel's events as they are now.
#[derive(Clone, Copy)]
pub struct Catalogue {
    pub rows: Signal<Vec<EventRow>>,
    /// Every event id `rows` has held since the page loaded. One it held and no longer holds
    /// was deleted; one it never held is newer than its last snapshot (a poll still to come
    /// while realtime is down), and its card shows what the result carried.
    pub seen: Signal<HashSet<String>>,
}

/// The hotel's `events`, all changes: filtered by `hotel_id`, plus every DELETE by key
/// (realtime cannot filter deletes on `hotel_id`: their old record holds only the id).
/// Called once, by the kiosk page: it lives as long as the page.
pub fn hotel_catalogue(hotel_id: &str) -> Catalogue {
    let spec = LiveQuerySpec::new("events")
        .filter(Filter::eq("hotel_id", hotel_id))
        .version_column("updated_at")
        .events(ChangeEvent::All)
        .deletes_by_key();
    let rows = sync::use_live_query::<EventRow>(spec).rows;
    let seen = Memo::new(move |prev: Option<&HashSet<String>>| {
        let mut seen = prev.cloned().unwrap_or_default();
        rows.with(|rows| seen.extend(rows.iter().map(|e| e.id.clone())));
        seen
    });
    Catalogue {
        rows,
        seen: seen.into(),
    }
}
