//! The demo catalogue, kept as data in `demo_catalogue.json` beside this file: the hotel and
//! the items offered to its guests, each timed relative to when the seed runs.

use concierge_wire::Category;
use serde::Deserialize;
use time::UtcOffset;

use super::when::When;

/// The catalogue file, compiled in so the binary seeds without its source tree.
const CATALOGUE_JSON: &str = include_str!("demo_catalogue.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    pub hotel: Hotel,
    pub items: Vec<Item>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hotel {
    pub name: String,
    /// The IANA zone, stored on the hotel row for the app.
    pub timezone: String,
    /// The zone's offset from UTC, used to resolve the items' local times. A fixed offset is
    /// exact only for a zone without daylight saving time (the demo's Asia/Kolkata is one).
    pub utc_offset_minutes: i32,
    pub latitude: f64,
    pub longitude: f64,
}

impl Hotel {
    /// The hotel's fixed offset (UTC if the file's is out of range).
    pub fn offset(&self) -> UtcOffset {
        UtcOffset::from_whole_seconds(self.utc_offset_minutes * 60).unwrap_or(UtcOffset::UTC)
    }
}

/// One event or hotel service, as stored in `events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    pub title: String,
    pub category: Category,
    pub venue: String,
    pub description: String,
    pub when: When,
    pub duration_minutes: i64,
    pub price: String,
    pub distance_km: f64,
    pub hotel_service: bool,
    pub booking_url: String,
    /// Places bookable at the kiosk (issue 17); absent: not booked through Concierge.
    #[serde(default)]
    pub capacity: Option<i32>,
    /// Bookings already made, so the demo shows an event filling up (and staff a list).
    #[serde(default)]
    pub reservations: Vec<DemoReservation>,
}

/// A booking the demo starts with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoReservation {
    pub guest_name: String,
    pub room: String,
    pub party_size: i32,
}

/// Parses the compiled-in catalogue.
pub fn load() -> Result<Catalogue, serde_json::Error> {
    serde_json::from_str(CATALOGUE_JSON)
}
