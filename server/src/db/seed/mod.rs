//! `--seed-demo`: the demo hotel and its catalogue, timed relative to now in the hotel's zone.
//!
//! Idempotent: rows have fixed ids and are upserted, so a restart re-times them instead of
//! duplicating. Runs at start, before the server accepts connections (so no realtime
//! subscriber can exist to miss these writes).

mod catalogue;
mod when;

use std::path::Path;

use rusqlite::{Connection, params};
use time::{Duration, OffsetDateTime};

use super::error::DbError;
use crate::time_fmt;
use catalogue::Catalogue;

/// The demo hotel is the one the app shows by default.
pub const DEMO_HOTEL_ID: &str = concierge_wire::config::DEFAULT_HOTEL_ID;

/// Why the demo seed failed.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("demo catalogue: {0}")]
    Catalogue(#[from] serde_json::Error),
    #[error("database: {0}")]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for SeedError {
    fn from(e: rusqlite::Error) -> SeedError {
        SeedError::Db(e.into())
    }
}

fn iso(t: OffsetDateTime) -> String {
    time_fmt::format_ms((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

pub fn item_id(i: usize) -> String {
    format!("5eed0000-0000-4000-8000-{i:012}")
}

/// The `j`th demo reservation of item `i`.
fn reservation_id(i: usize, j: usize) -> String {
    format!("5eed0001-0000-4000-8000-{i:06}{j:06}")
}

/// Loads (or re-times) the demo hotel and catalogue. Returns the number of events.
pub fn apply(path: &Path) -> Result<usize, SeedError> {
    let Catalogue { hotel, items } = catalogue::load()?;
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let off = hotel.offset();
    let now = OffsetDateTime::now_utc().to_offset(off);
    let stamp = time_fmt::format_ms(time_fmt::now_ms());
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO hotels (id, name, latitude, longitude, timezone) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, latitude = excluded.latitude,
           longitude = excluded.longitude, timezone = excluded.timezone",
        params![
            DEMO_HOTEL_ID,
            hotel.name,
            hotel.latitude,
            hotel.longitude,
            hotel.timezone
        ],
    )?;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO events (id, hotel_id, title, category, description, venue, starts_at, ends_at,
               price_text, distance_km, is_hotel_service, image_url, booking_url, updated_at, capacity)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12, ?13, ?14)
             ON CONFLICT (id) DO UPDATE SET hotel_id = excluded.hotel_id, title = excluded.title,
               category = excluded.category, description = excluded.description, venue = excluded.venue,
               starts_at = excluded.starts_at, ends_at = excluded.ends_at, price_text = excluded.price_text,
               distance_km = excluded.distance_km, is_hotel_service = excluded.is_hotel_service,
               booking_url = excluded.booking_url, updated_at = excluded.updated_at,
               capacity = excluded.capacity",
        )?;
        // Re-dated on a restart like the events, but a cancelled one stays cancelled; bookings
        // made since count too.
        let mut booking = tx.prepare(
            "INSERT INTO reservations (id, event_id, guest_name, room, party_size, status, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'confirmed', ?6)
             ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at",
        )?;
        for (i, it) in items.iter().enumerate() {
            let start = it.when.resolve(it.duration_minutes, now, off);
            let end = start + Duration::minutes(it.duration_minutes);
            stmt.execute(params![
                item_id(i),
                DEMO_HOTEL_ID,
                it.title,
                it.category.as_str(),
                it.description,
                it.venue,
                iso(start),
                iso(end),
                it.price,
                it.distance_km,
                it.hotel_service as i64,
                it.booking_url,
                stamp,
                it.capacity,
            ])?;
            for (j, r) in it.reservations.iter().enumerate() {
                booking.execute(params![
                    reservation_id(i, j),
                    item_id(i),
                    r.guest_name,
                    r.room,
                    r.party_size,
                    stamp,
                ])?;
            }
        }
    }
    // What the writer derives for every other write (`db::derive::places_left`): the seed
    // writes below it, so it derives the same here.
    tx.execute(
        "UPDATE events SET places_left = CASE WHEN capacity IS NULL THEN NULL ELSE max(capacity -
           (SELECT coalesce(sum(party_size), 0) FROM reservations r
            WHERE r.event_id = events.id AND r.status = 'confirmed'), 0) END
         WHERE hotel_id = ?1",
        [DEMO_HOTEL_ID],
    )?;
    tx.commit()?;
    Ok(items.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use concierge_wire::Category;
    use std::collections::HashSet;

    #[test]
    fn catalogue_covers_every_category_and_is_idempotent() {
        let items = catalogue::load().unwrap().items;
        let cats: HashSet<Category> = items.iter().map(|i| i.category).collect();
        for c in Category::ALL {
            assert!(cats.contains(&c), "{c:?}");
        }
        assert_eq!(cats.len(), Category::ALL.len(), "only the known categories");
        assert!(items.len() >= 30);
        assert!(items.iter().any(|i| i.hotel_service) && items.iter().any(|i| !i.hotel_service));
        for i in 0..items.len() {
            assert!(uuid::Uuid::parse_str(&item_id(i)).is_ok());
        }

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let (sink, _rx) = tokio::sync::mpsc::unbounded_channel();
        drop(crate::db::open(&path, sink).unwrap());
        assert_eq!(apply(&path).unwrap(), items.len());
        assert_eq!(apply(&path).unwrap(), items.len());
        let conn = Connection::open(&path).unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n as usize, items.len());
        let h: i64 = conn
            .query_row("SELECT COUNT(*) FROM hotels", [], |r| r.get(0))
            .unwrap();
        assert_eq!(h, 1);
        // Bookable events, one nearly full: places left are the capacity minus the bookings,
        // also after a second run (the demo bookings are not made twice).
        let mut stmt = conn
            .prepare("SELECT capacity, places_left FROM events WHERE capacity IS NOT NULL")
            .unwrap();
        let places: Vec<(i64, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(places.len() >= 3, "{places:?}");
        assert!(
            places.iter().any(|&(c, l)| l > 0 && l <= c / 4),
            "{places:?}"
        );
        let booked: i64 = items
            .iter()
            .flat_map(|i| &i.reservations)
            .map(|r| i64::from(r.party_size))
            .sum();
        let left: i64 = places.iter().map(|(c, l)| c - l).sum();
        assert_eq!(left, booked);
        // Everything ends in the future (today's past items moved to tomorrow).
        let now = time_fmt::format_ms(time_fmt::now_ms());
        let past: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM events WHERE ends_at <= ?1",
                [&now],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(past, 0);
    }
}
