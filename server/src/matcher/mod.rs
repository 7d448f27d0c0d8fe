//! What the kiosk search and the concierge's replies share: reading free text as categories
//! ([`interests`]) and choosing a hotel's upcoming events for them. It sits below the routers
//! so the search endpoint (`crate::search`) and the reply worker (`crate::concierge`) each use
//! it without one depending on the other.

pub mod interests;
mod keywords;

use concierge_wire::{Category, Filter};
use serde_json::Value;

use crate::authz::Principal;
use crate::db::{Db, DbError, Order, ReadQuery, Row, Table};
use crate::time_fmt;

/// Suggestions offered when nothing matched.
pub const MAX_SUGGESTIONS: usize = 4;

/// What a text asked for and what the catalogue has for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// The categories the text reads as.
    pub asked: Vec<Category>,
    /// Up to the limit of upcoming events in those categories, in kiosk order.
    pub events: Vec<Row>,
    /// When no event matched: phrases for categories that do have upcoming events.
    pub offered: Vec<String>,
}

/// Reads `words` against the hotel's `upcoming` events (already in kiosk order).
pub fn matching(upcoming: &[Row], words: &str, limit: usize) -> Match {
    let asked = interests::interpret(words).categories;
    let events: Vec<Row> = upcoming
        .iter()
        .filter(|r| {
            text(r, "category")
                .and_then(Category::parse)
                .is_some_and(|c| asked.contains(&c))
        })
        .take(limit)
        .cloned()
        .collect();
    let offered = if events.is_empty() {
        suggestions(upcoming, &asked)
    } else {
        Vec::new()
    };
    Match {
        asked,
        events,
        offered,
    }
}

/// The hotel's events in the local database, past ones included (see [`upcoming`]).
pub async fn local_events(db: &Db, hotel_id: &str) -> Result<Vec<Row>, DbError> {
    let order = |name: &str, desc: bool| {
        Table::Events.column(name).map(|col| Order {
            col,
            desc,
            nulls_first: Some(false),
        })
    };
    let q = ReadQuery {
        filters: vec![Filter::eq("hotel_id", hotel_id)],
        order: [
            order("is_hotel_service", true),
            order("distance_km", false),
            order("starts_at", false),
        ]
        .into_iter()
        .flatten()
        .collect(),
        ..ReadQuery::default()
    };
    Ok(db
        .select(&Principal::ServiceRole, Table::Events, q)
        .await?
        .rows)
}

/// The events of `rows` that are not over at `now_ms`, in kiosk order.
pub fn upcoming(rows: Vec<Row>, now_ms: i64) -> Vec<Row> {
    let mut upcoming: Vec<Row> = rows.into_iter().filter(|r| !is_over(r, now_ms)).collect();
    // Whatever order the source returned (the local query already asks for the kiosk order),
    // sorting here makes it true for every source and documents it in one place.
    upcoming.sort_by(kiosk_order);
    upcoming
}

/// A text column of a row.
pub fn text<'a>(row: &'a Row, col: &str) -> Option<&'a str> {
    row.get(col).and_then(Value::as_str)
}

fn is_over(row: &Row, now_ms: i64) -> bool {
    let end = text(row, "ends_at")
        .and_then(time_fmt::parse_ms)
        .or_else(|| text(row, "starts_at").and_then(time_fmt::parse_ms));
    // An event whose times do not parse is shown rather than silently hidden.
    end.is_some_and(|end| end < now_ms)
}

/// Hotel services first, then nearest (unknown distance last), then soonest.
pub fn kiosk_order(a: &Row, b: &Row) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let service = |r: &Row| r.get("is_hotel_service").and_then(Value::as_bool) == Some(true);
    let km = |r: &Row| r.get("distance_km").and_then(Value::as_f64);
    let starts = |r: &Row| text(r, "starts_at").and_then(time_fmt::parse_ms);
    service(b)
        .cmp(&service(a))
        .then_with(|| match (km(a), km(b)) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
        .then_with(|| match (starts(a), starts(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        })
}

/// Phrases for categories that have upcoming events, in catalogue order, excluding the ones
/// already asked for (they came up empty).
pub fn suggestions(upcoming: &[Row], asked: &[Category]) -> Vec<String> {
    Category::ALL
        .into_iter()
        .filter(|c| !asked.contains(c))
        .filter(|c| {
            upcoming
                .iter()
                .any(|r| text(r, "category") == Some(c.as_str()))
        })
        .take(MAX_SUGGESTIONS)
        .map(|c| c.phrase().to_owned())
        .collect()
}
