//! `--seed-demo`: the demo hotel and its catalogue, timed relative to now in the hotel's zone.
//!
//! Idempotent: rows have fixed ids and are upserted, so a restart re-times them instead of
//! duplicating. Runs at start, before the server accepts connections (so no realtime
//! subscriber can exist to miss these writes).

use std::path::Path;

use rusqlite::{Connection, params};
use time::{Duration, OffsetDateTime, Time, UtcOffset, Weekday};

use super::error::DbError;
use crate::time_fmt;

pub const DEMO_HOTEL_ID: &str = "marriott-bangalore";
const HOTEL_NAME: &str = "Bengaluru Marriott Hotel Whitefield";
const HOTEL_TZ: &str = "Asia/Kolkata";
/// Asia/Kolkata has no daylight saving time: a fixed +05:30 is exact.
const IST_SECONDS: i32 = 5 * 3600 + 30 * 60;
const LATITUDE: f64 = 12.9791;
const LONGITUDE: f64 = 77.7286;

/// When an item happens, relative to "now" in the hotel's zone.
#[derive(Debug, Clone, Copy)]
enum When {
    /// Today at h:m, or tomorrow if today's has already ended.
    Today(u8, u8),
    Tomorrow(u8, u8),
    /// The coming Saturday / Sunday (today if it is that day and not over yet).
    Saturday(u8, u8),
    Sunday(u8, u8),
    /// Starting this many minutes from now.
    InMinutes(i64),
}

struct Item {
    title: &'static str,
    category: &'static str,
    venue: &'static str,
    description: &'static str,
    when: When,
    minutes: i64,
    price: &'static str,
    distance_km: f64,
    hotel_service: bool,
    booking_url: &'static str,
}

#[allow(clippy::too_many_arguments)] // a table of literals reads best positionally
const fn item(
    title: &'static str,
    category: &'static str,
    venue: &'static str,
    description: &'static str,
    when: When,
    minutes: i64,
    price: &'static str,
    distance_km: f64,
    hotel_service: bool,
    booking_url: &'static str,
) -> Item {
    Item {
        title,
        category,
        venue,
        description,
        when,
        minutes,
        price,
        distance_km,
        hotel_service,
        booking_url,
    }
}

use When::*;

const HOTEL_URL: &str =
    "https://www.marriott.com/en-us/hotels/blrwf-bengaluru-marriott-hotel-whitefield/overview/";
const BMS: &str = "https://in.bookmyshow.com/explore/events-bengaluru";

static ITEMS: &[Item] = &[
    // Hotel services (distance 0).
    item(
        "Quan Spa: signature Balinese massage",
        "wellness",
        "Quan Spa, Level 2",
        "Ninety minutes of warm-oil massage; steam room and relaxation lounge included.",
        Today(10, 0),
        660,
        "₹6,500",
        0.0,
        true,
        HOTEL_URL,
    ),
    item(
        "Sunrise yoga by the pool",
        "wellness",
        "Pool deck, Level 4",
        "Hatha yoga for all levels with an in-house instructor. Mats provided.",
        Tomorrow(6, 30),
        60,
        "Free for guests",
        0.0,
        true,
        HOTEL_URL,
    ),
    item(
        "24-hour fitness centre",
        "sport",
        "Fitness centre, Level 4",
        "Cardio, free weights and a personal trainer on request.",
        InMinutes(0),
        1440,
        "Free for guests",
        0.0,
        true,
        HOTEL_URL,
    ),
    item(
        "Guided 5 km hotel run",
        "sport",
        "Hotel lobby",
        "An easy-paced run around the Whitefield tech park loop with a trainer.",
        Tomorrow(6, 0),
        45,
        "Free for guests",
        0.0,
        true,
        HOTEL_URL,
    ),
    item(
        "Saffron: North Indian dinner",
        "dining",
        "Saffron, Level 1",
        "Tandoor and Awadhi classics with live ghazal on weekends.",
        Today(19, 0),
        240,
        "₹2,800 for two",
        0.0,
        true,
        HOTEL_URL,
    ),
    item(
        "Bengaluru Baking Company: high tea",
        "dining",
        "Lobby café",
        "Filter coffee, masala chai and fresh pastries every afternoon.",
        Today(15, 30),
        150,
        "₹1,200 per person",
        0.0,
        true,
        HOTEL_URL,
    ),
    item(
        "Sunday brunch at Mist",
        "dining",
        "Mist, all-day dining",
        "Live counters from Chettinad to sushi, a kids' corner and a DJ.",
        Sunday(12, 30),
        210,
        "₹3,500 per person",
        0.0,
        true,
        HOTEL_URL,
    ),
    item(
        "Kids' club: craft afternoon",
        "family",
        "Kids' club, Level 3",
        "Supervised crafts, board games and storytelling for ages 4–12.",
        Today(14, 0),
        180,
        "Free for guests",
        0.0,
        true,
        HOTEL_URL,
    ),
    item(
        "Family movie night by the pool",
        "family",
        "Pool deck, Level 4",
        "An animated favourite on the big screen with popcorn and bean bags.",
        Saturday(19, 0),
        120,
        "Free for guests",
        0.0,
        true,
        HOTEL_URL,
    ),
    item(
        "Rooftop bar: live acoustic set",
        "nightlife",
        "The Bar, Level 12",
        "Cocktails and small plates over the city with a local acoustic duo.",
        Today(20, 0),
        180,
        "No cover",
        0.0,
        true,
        HOTEL_URL,
    ),
    item(
        "Infinity pool",
        "wellness",
        "Pool deck, Level 4",
        "Heated outdoor pool with cabanas and poolside service.",
        Today(7, 0),
        900,
        "Free for guests",
        0.0,
        true,
        HOTEL_URL,
    ),
    // Comedy.
    item(
        "Stand-up night: Kannada & English",
        "comedy",
        "Phoenix Marketcity, The Courtyard",
        "Five Bengaluru comics, bilingual sets, 18+.",
        Today(20, 30),
        100,
        "₹499",
        3.2,
        false,
        BMS,
    ),
    item(
        "Improv comedy jam",
        "comedy",
        "The Humming Tree, Indiranagar",
        "Audience suggestions, no scripts. Early show.",
        Tomorrow(19, 30),
        90,
        "₹399",
        12.4,
        false,
        BMS,
    ),
    item(
        "Headliner special: weekend comedy gala",
        "comedy",
        "Chowdiah Memorial Hall",
        "A national headliner with two openers.",
        Saturday(20, 0),
        120,
        "₹999",
        17.8,
        false,
        BMS,
    ),
    item(
        "Open mic comedy",
        "comedy",
        "Windmills Craftworks, Whitefield",
        "New voices every week; sign-up at the door.",
        Today(21, 0),
        90,
        "₹250",
        1.6,
        false,
        BMS,
    ),
    // Music.
    item(
        "Jazz evening at Windmills",
        "music",
        "Windmills Craftworks, Whitefield",
        "A jazz quartet in a craft brewery library. Reservations advised.",
        Today(20, 0),
        150,
        "₹800 cover",
        1.6,
        false,
        BMS,
    ),
    item(
        "Carnatic violin recital",
        "music",
        "Bangalore Gayana Samaja",
        "Classical recital with mridangam and ghatam accompaniment.",
        Tomorrow(18, 0),
        120,
        "₹300",
        19.5,
        false,
        BMS,
    ),
    item(
        "Indie rock showcase",
        "music",
        "The Humming Tree, Indiranagar",
        "Three Bengaluru bands, doors at 8.",
        Saturday(20, 0),
        180,
        "₹600",
        12.4,
        false,
        BMS,
    ),
    item(
        "Bollywood unplugged",
        "music",
        "Phoenix Marketcity amphitheatre",
        "Acoustic covers of film songs under the stars.",
        Sunday(18, 30),
        120,
        "₹450",
        3.2,
        false,
        BMS,
    ),
    // Culture.
    item(
        "Guided walk: Bangalore Palace",
        "culture",
        "Bangalore Palace, Vasanth Nagar",
        "Tudor-style palace, audio guide and royal artefacts.",
        Tomorrow(10, 0),
        120,
        "₹460",
        21.0,
        false,
        "https://bangalorepalace.in/",
    ),
    item(
        "Museum of Art & Photography",
        "culture",
        "MAP, Kasturba Road",
        "Modern Indian art and photography; free guided tour at 11.",
        Tomorrow(11, 0),
        180,
        "₹150",
        18.9,
        false,
        "https://map-india.org/",
    ),
    item(
        "Kathakali performance",
        "culture",
        "Ranga Shankara, JP Nagar",
        "Classical dance-drama from Kerala with an English introduction.",
        Saturday(18, 0),
        150,
        "₹350",
        24.3,
        false,
        BMS,
    ),
    item(
        "Lalbagh flower show walk",
        "culture",
        "Lalbagh Botanical Garden",
        "Morning walk through the glasshouse and 200-year-old trees.",
        Sunday(8, 0),
        120,
        "₹30",
        22.6,
        false,
        "https://www.lalbaghbotanicalgarden.com/",
    ),
    // Family.
    item(
        "Visvesvaraya Industrial & Technological Museum",
        "family",
        "Kasturba Road",
        "Hands-on science galleries and a planetarium for kids.",
        Tomorrow(10, 0),
        240,
        "₹90",
        19.1,
        false,
        "https://www.vismuseum.gov.in/",
    ),
    item(
        "Wonderla amusement park",
        "family",
        "Mysore Road",
        "Water rides and dry rides; a full day out.",
        Saturday(10, 30),
        480,
        "₹1,599",
        46.0,
        false,
        "https://www.wonderla.com/bangalore-park/",
    ),
    item(
        "Snow City",
        "family",
        "Jayamahal Road",
        "Indoor snow play for all ages, jackets provided.",
        Sunday(11, 0),
        60,
        "₹690",
        20.2,
        false,
        BMS,
    ),
    // Nightlife.
    item(
        "Toit brewpub: live DJ",
        "nightlife",
        "Toit, Indiranagar",
        "Bengaluru's favourite brewpub, house beers and a DJ from 9.",
        Today(21, 0),
        180,
        "No cover",
        12.8,
        false,
        BMS,
    ),
    item(
        "Skyline lounge night",
        "nightlife",
        "High Ultra Lounge, Malleswaram",
        "Rooftop lounge with city views; smart casual.",
        Saturday(21, 0),
        240,
        "₹1,500 cover",
        25.7,
        false,
        BMS,
    ),
    item(
        "Brewery crawl: Whitefield",
        "nightlife",
        "Whitefield",
        "Three craft breweries in one evening with a guide and tastings.",
        Tomorrow(19, 0),
        210,
        "₹1,800",
        2.1,
        false,
        BMS,
    ),
    // Sport.
    item(
        "IPL screening with dinner",
        "sport",
        "Phoenix Marketcity sports bar",
        "The evening match on the big screen with a set menu.",
        Today(19, 30),
        210,
        "₹1,200",
        3.2,
        false,
        BMS,
    ),
    item(
        "Cricket nets and coaching",
        "sport",
        "Whitefield cricket academy",
        "One hour in the nets with a coach; kit provided.",
        Tomorrow(7, 0),
        60,
        "₹800",
        4.5,
        false,
        BMS,
    ),
    item(
        "Cubbon Park morning cycle tour",
        "sport",
        "Cubbon Park",
        "Easy 10 km ride through the park and heritage buildings, bikes included.",
        Sunday(6, 30),
        150,
        "₹1,000",
        20.8,
        false,
        BMS,
    ),
    item(
        "Rock climbing at a bouldering gym",
        "sport",
        "Whitefield",
        "Intro session with shoes and chalk; beginners welcome.",
        Saturday(16, 0),
        90,
        "₹700",
        5.3,
        false,
        BMS,
    ),
    // Dining out.
    item(
        "Dosa trail: VV Puram food street",
        "dining",
        "VV Puram",
        "Evening street-food walk: dosas, holige and akki rotti.",
        Tomorrow(18, 30),
        150,
        "₹900",
        24.0,
        false,
        BMS,
    ),
    item(
        "MTR breakfast experience",
        "dining",
        "Mavalli Tiffin Rooms, Lalbagh Road",
        "Rava idli and filter coffee at a 1924 institution.",
        Sunday(8, 0),
        60,
        "₹300",
        22.9,
        false,
        "https://www.mtrrestaurants.co.in/",
    ),
];

fn at(date: time::Date, h: u8, m: u8, off: UtcOffset) -> OffsetDateTime {
    let t = Time::from_hms(h.min(23), m.min(59), 0).unwrap_or(Time::MIDNIGHT);
    date.with_time(t).assume_offset(off)
}

fn next_weekday(
    now: OffsetDateTime,
    day: Weekday,
    h: u8,
    m: u8,
    minutes: i64,
    off: UtcOffset,
) -> OffsetDateTime {
    let mut d = now.date();
    for _ in 0..8 {
        if d.weekday() == day {
            let start = at(d, h, m, off);
            if start + Duration::minutes(minutes) > now {
                return start;
            }
        }
        d = d.next_day().unwrap_or(d);
    }
    at(d, h, m, off)
}

fn resolve(when: When, minutes: i64, now: OffsetDateTime, off: UtcOffset) -> OffsetDateTime {
    let today = now.date();
    let tomorrow = today.next_day().unwrap_or(today);
    match when {
        Today(h, m) => {
            let start = at(today, h, m, off);
            if start + Duration::minutes(minutes) > now {
                start
            } else {
                at(tomorrow, h, m, off)
            }
        }
        Tomorrow(h, m) => at(tomorrow, h, m, off),
        Saturday(h, m) => next_weekday(now, Weekday::Saturday, h, m, minutes, off),
        Sunday(h, m) => next_weekday(now, Weekday::Sunday, h, m, minutes, off),
        InMinutes(n) => now + Duration::minutes(n),
    }
}

fn iso(t: OffsetDateTime) -> String {
    time_fmt::format_ms((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

pub fn item_id(i: usize) -> String {
    format!("5eed0000-0000-4000-8000-{i:012}")
}

/// Loads (or re-times) the demo hotel and catalogue. Returns the number of events.
pub fn apply(path: &Path) -> Result<usize, DbError> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let off = UtcOffset::from_whole_seconds(IST_SECONDS).unwrap_or(UtcOffset::UTC);
    let now = OffsetDateTime::now_utc().to_offset(off);
    let stamp = time_fmt::format_ms(time_fmt::now_ms());
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO hotels (id, name, latitude, longitude, timezone) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, latitude = excluded.latitude,
           longitude = excluded.longitude, timezone = excluded.timezone",
        params![DEMO_HOTEL_ID, HOTEL_NAME, LATITUDE, LONGITUDE, HOTEL_TZ],
    )?;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO events (id, hotel_id, title, category, description, venue, starts_at, ends_at,
               price_text, distance_km, is_hotel_service, image_url, booking_url, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12, ?13)
             ON CONFLICT (id) DO UPDATE SET hotel_id = excluded.hotel_id, title = excluded.title,
               category = excluded.category, description = excluded.description, venue = excluded.venue,
               starts_at = excluded.starts_at, ends_at = excluded.ends_at, price_text = excluded.price_text,
               distance_km = excluded.distance_km, is_hotel_service = excluded.is_hotel_service,
               booking_url = excluded.booking_url, updated_at = excluded.updated_at",
        )?;
        for (i, it) in ITEMS.iter().enumerate() {
            let start = resolve(it.when, it.minutes, now, off);
            let end = start + Duration::minutes(it.minutes);
            stmt.execute(params![
                item_id(i),
                DEMO_HOTEL_ID,
                it.title,
                it.category,
                it.description,
                it.venue,
                iso(start),
                iso(end),
                it.price,
                it.distance_km,
                it.hotel_service as i64,
                it.booking_url,
                stamp,
            ])?;
        }
    }
    tx.commit()?;
    Ok(ITEMS.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn catalogue_covers_every_category_and_is_idempotent() {
        let cats: HashSet<&str> = ITEMS.iter().map(|i| i.category).collect();
        for c in [
            "comedy",
            "music",
            "dining",
            "wellness",
            "family",
            "culture",
            "nightlife",
            "sport",
        ] {
            assert!(cats.contains(c), "{c}");
        }
        assert_eq!(cats.len(), 8, "only the eight known categories");
        assert!(ITEMS.len() >= 30);
        assert!(ITEMS.iter().any(|i| i.hotel_service) && ITEMS.iter().any(|i| !i.hotel_service));
        for i in 0..ITEMS.len() {
            assert!(uuid::Uuid::parse_str(&item_id(i)).is_ok());
        }

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let (sink, _rx) = tokio::sync::mpsc::unbounded_channel();
        drop(crate::db::open(&path, sink).unwrap());
        assert_eq!(apply(&path).unwrap(), ITEMS.len());
        assert_eq!(apply(&path).unwrap(), ITEMS.len());
        let conn = Connection::open(&path).unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n as usize, ITEMS.len());
        let h: i64 = conn
            .query_row("SELECT COUNT(*) FROM hotels", [], |r| r.get(0))
            .unwrap();
        assert_eq!(h, 1);
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

    #[test]
    fn relative_times() {
        let off = UtcOffset::from_whole_seconds(IST_SECONDS).unwrap();
        // Friday 2026-11-20 21:00 IST.
        let now = time::macros::datetime!(2026-11-20 21:00 +05:30);
        assert_eq!(
            resolve(Today(20, 0), 180, now, off),
            time::macros::datetime!(2026-11-20 20:00 +05:30),
            "still on"
        );
        assert_eq!(
            resolve(Today(10, 0), 60, now, off),
            time::macros::datetime!(2026-11-21 10:00 +05:30),
            "over → tomorrow"
        );
        assert_eq!(
            resolve(Saturday(19, 0), 60, now, off),
            time::macros::datetime!(2026-11-21 19:00 +05:30)
        );
        assert_eq!(
            resolve(Sunday(8, 0), 60, now, off),
            time::macros::datetime!(2026-11-22 08:00 +05:30)
        );
    }
}
