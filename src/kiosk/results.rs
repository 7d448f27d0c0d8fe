//! What the results region shows, computed from plain data (native-testable):
//! which `kiosk_results` row is the newest, what it contains, and which of its cards are still
//! current once the hotel's live catalogue has had its say.

use std::cmp::Ordering;
use std::collections::HashSet;

use concierge_wire::model::{EventRow, KioskResultRow};
use serde::Deserialize;

use super::when::{UnixSeconds, parse_timestamp};

/// `kiosk_results.results`, read leniently: missing lists are empty, unknown keys ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Outcome {
    #[serde(default)]
    pub interests: String,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub events: Vec<EventRow>,
    #[serde(default)]
    pub suggestions: Vec<String>,
    /// The hotel's IANA zone, as the server saw it when searching.
    #[serde(default)]
    pub timezone: Option<String>,
}

impl Outcome {
    pub fn from_row(row: &KioskResultRow) -> Result<Outcome, String> {
        // Read from the borrowed tree: no copy of the whole result first.
        Outcome::deserialize(&row.results).map_err(|e| e.to_string())
    }
}

fn created(row: &KioskResultRow) -> Option<UnixSeconds> {
    parse_timestamp(&row.created_at)
}

/// The newest of the rows the live query delivered and the one our own search returned
/// (the same row arrives both ways when all is well; equal ids are one result).
pub fn newest<'a>(
    live: impl IntoIterator<Item = &'a KioskResultRow>,
    posted: Option<&'a KioskResultRow>,
) -> Option<&'a KioskResultRow> {
    live.into_iter()
        .chain(posted)
        .fold(None, |best, row| match best {
            None => Some(row),
            Some(b) => {
                // Timestamps tie at millisecond precision; the id breaks ties deterministically.
                let key = |r: &KioskResultRow| {
                    (
                        created(r).unwrap_or(i64::MIN),
                        r.created_at.clone(),
                        r.id.clone(),
                    )
                };
                if key(row) > key(b) {
                    Some(row)
                } else {
                    Some(b)
                }
            }
        })
}

fn version(e: &EventRow) -> Option<UnixSeconds> {
    e.updated_at.as_deref().and_then(parse_timestamp)
}

/// Whether an event is over at `now` (and should leave the screen). The server's rule for
/// "upcoming": its end, or without one its start, is not in the past. Unparseable times keep
/// the card (a wrong card is better than a silently missing one).
pub fn is_over(e: &EventRow, now: UnixSeconds) -> bool {
    e.ends_at
        .as_deref()
        .and_then(parse_timestamp)
        .or_else(|| parse_timestamp(&e.starts_at))
        .is_some_and(|end| end < now)
}

/// The server's order, re-applied so that an update (a changed distance, a moved start time)
/// lands the card where a fresh search would put it: hotel services first, then nearest,
/// then soonest.
pub fn card_order(a: &EventRow, b: &EventRow) -> Ordering {
    b.is_hotel_service
        .cmp(&a.is_hotel_service)
        .then_with(|| match (a.distance_km, b.distance_km) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then_with(|| {
            parse_timestamp(&a.starts_at)
                .unwrap_or(i64::MAX)
                .cmp(&parse_timestamp(&b.starts_at).unwrap_or(i64::MAX))
        })
        .then_with(|| a.id.cmp(&b.id))
}

/// The cards to show: the result's events, each replaced by the catalogue's copy when that is
/// newer, dropped when the catalogue had it and no longer has (deleted) or when it is over.
/// An event the catalogue has not `seen` yet (its snapshot predates the event) shows as the
/// result carried it.
pub fn current_cards(
    snapshot: &[EventRow],
    catalogue: &[EventRow],
    seen: &HashSet<String>,
    now: UnixSeconds,
) -> Vec<EventRow> {
    let mut cards: Vec<EventRow> = snapshot
        .iter()
        .filter_map(|snap| match catalogue.iter().find(|l| l.id == snap.id) {
            Some(l) if version(l) >= version(snap) => Some(l.clone()),
            Some(_) => Some(snap.clone()),
            None if seen.contains(&snap.id) => None,
            None => Some(snap.clone()),
        })
        .filter(|e| !is_over(e, now))
        .collect();
    cards.sort_by(card_order);
    cards
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(id: &str, service: bool, km: Option<f64>, starts: &str) -> EventRow {
        EventRow {
            id: id.into(),
            hotel_id: "h".into(),
            title: format!("Event {id}"),
            category: "music".into(),
            description: None,
            venue: None,
            starts_at: starts.into(),
            ends_at: None,
            price_text: None,
            distance_km: km,
            is_hotel_service: service,
            image_url: None,
            booking_url: None,
            updated_at: Some("2026-11-22T10:00:00.000Z".into()),
            capacity: None,
            places_left: None,
        }
    }

    fn row(id: &str, created: &str) -> KioskResultRow {
        KioskResultRow {
            id: id.into(),
            session_id: "s".into(),
            results: json!({}),
            created_at: created.into(),
        }
    }

    const NOW: &str = "2026-11-22T12:00:00Z";
    fn now() -> UnixSeconds {
        parse_timestamp(NOW).unwrap_or(0)
    }

    #[test]
    fn newest_of_live_and_posted() {
        let a = row("a", "2026-11-22T10:00:00.000Z");
        let b = row("b", "2026-11-22T10:00:01.000Z");
        assert_eq!(newest([&a], Some(&b)).map(|r| r.id.as_str()), Some("b"));
        assert_eq!(newest([&b], Some(&a)).map(|r| r.id.as_str()), Some("b"));
        assert_eq!(newest([], Some(&a)).map(|r| r.id.as_str()), Some("a"));
        assert_eq!(newest([&a, &b], None).map(|r| r.id.as_str()), Some("b"));
        assert_eq!(newest([], None), None);
    }

    #[test]
    fn outcome_reads_leniently() {
        let mut r = row("a", NOW);
        r.results = json!({"interests": "jazz", "categories": ["music"], "extra": 1});
        let o = Outcome::from_row(&r).unwrap();
        assert_eq!(o.categories, vec!["music"]);
        assert!(o.events.is_empty() && o.suggestions.is_empty());
        r.results = json!({"events": "nope"});
        assert!(Outcome::from_row(&r).is_err());
    }

    #[test]
    fn order_is_services_then_distance_then_time() {
        let snap = vec![
            event("far", false, Some(5.0), "2026-11-22T13:00:00Z"),
            event("near-late", false, Some(1.0), "2026-11-22T18:00:00Z"),
            event("near-early", false, Some(1.0), "2026-11-22T14:00:00Z"),
            event("spa", true, Some(0.0), "2026-11-22T19:00:00Z"),
            event("unknown-distance", false, None, "2026-11-22T13:00:00Z"),
        ];
        let ids: Vec<_> = current_cards(&snap, &[], &HashSet::new(), now())
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(
            ids,
            ["spa", "near-early", "near-late", "far", "unknown-distance"]
        );
    }

    #[test]
    fn live_updates_and_deletions_win() {
        let snap = vec![
            event("a", false, Some(1.0), "2026-11-22T13:00:00Z"),
            event("b", false, Some(2.0), "2026-11-22T13:00:00Z"),
            event("c", false, Some(3.0), "2026-11-22T13:00:00Z"),
        ];
        let mut a2 = snap[0].clone();
        a2.title = "Renamed".into();
        a2.distance_km = Some(9.0);
        a2.updated_at = Some("2026-11-22T11:00:00.000Z".into());
        let mut c_old = snap[2].clone();
        c_old.title = "Stale".into();
        c_old.updated_at = Some("2026-11-22T09:00:00.000Z".into());
        // "b" is gone from the catalogue, which had it: deleted.
        let live = vec![a2, c_old];
        let seen = ["a", "b", "c"].map(String::from).into();
        let cards = current_cards(&snap, &live, &seen, now());
        let got: Vec<_> = cards
            .iter()
            .map(|e| (e.id.as_str(), e.title.as_str()))
            .collect();
        assert_eq!(got, [("c", "Event c"), ("a", "Renamed")]);
    }

    /// While realtime is down the catalogue is only as fresh as its last poll: an event newer
    /// than that is not missing, just not there yet.
    #[test]
    fn events_the_catalogue_has_not_seen_keep_their_card() {
        let snap = vec![
            event("old", false, Some(1.0), "2026-11-22T13:00:00Z"),
            event("new", false, Some(2.0), "2026-11-22T13:00:00Z"),
        ];
        let seen = HashSet::from(["old".to_owned()]);
        let ids: Vec<_> = current_cards(&snap, &snap[..1], &seen, now())
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, ["old", "new"]);
        let ids: Vec<_> = current_cards(&snap, &[], &seen, now())
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(
            ids,
            ["new"],
            "the catalogue had \"old\" and lost it: deleted"
        );
    }

    #[test]
    fn finished_events_leave() {
        let mut done = event("done", false, None, "2026-11-22T08:00:00Z");
        done.ends_at = Some("2026-11-22T11:59:00Z".into());
        let mut on = event("on", false, None, "2026-11-22T08:00:00Z");
        on.ends_at = Some("2026-11-22T13:00:00Z".into());
        let open_ended_started = event("started", false, None, "2026-11-22T11:00:00Z");
        let open_ended_later = event("later", false, None, "2026-11-22T13:00:00Z");
        let ids: Vec<_> = current_cards(
            &[done, on, open_ended_started, open_ended_later],
            &[],
            &HashSet::new(),
            now(),
        )
        .into_iter()
        .map(|e| e.id)
        .collect();
        assert_eq!(ids, ["on", "later"]);
    }
}
