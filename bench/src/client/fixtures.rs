//! Realistic rows and `postgres_changes` frames, shaped like concierge-server's (which follows
//! hosted Supabase): `data` with schema, table, commit_timestamp, type, columns, record,
//! old_record (the key only, Postgres' default replica identity) and `errors: null`.

use concierge_wire::phoenix::{Event, Message, Vsn};
use concierge_wire::realtime::{ChangeData, ChangeType, ChangesPayload, Column};
use serde_json::{Map, Value, json};

pub const HOTEL_ID: &str = "0a7e1000-0000-4000-8000-000000000001";
pub const SESSION_ID: &str = "5e551000-0000-4000-8000-00000000beef";
/// The subscription id the fake server assigns to every binding.
pub const SUB_ID: u32 = 1000;

/// `2026-11-22T…Z` at `ms` milliseconds after midnight (ms precision, as the server writes).
pub fn stamp(ms: u64) -> String {
    let ms = ms % 86_400_000;
    format!(
        "2026-11-22T{:02}:{:02}:{:02}.{:03}Z",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

pub fn event_id(i: usize) -> String {
    format!("5eed0000-0000-4000-8000-{i:012}")
}

const CATEGORIES: [&str; 6] = [
    "music",
    "food",
    "culture",
    "outdoors",
    "wellness",
    "nightlife",
];
const TITLES: [&str; 6] = [
    "Sunset sitar and tabla on the lawn",
    "Old Delhi street-food walk with a local chef",
    "Hauz Khas heritage and art-gallery trail",
    "Sunrise cycling tour along Rajpath",
    "Ayurvedic spa ritual: abhyanga and shirodhara",
    "Rooftop jazz night with small plates",
];

/// One `events` row (all 14 columns, as REST and realtime carry it).
pub fn event_row(i: usize, title_rev: u32, updated_ms: u64) -> Map<String, Value> {
    let start = 10 * 3_600_000 + (i as u64 * 7 % 48) * 1_800_000;
    let row = json!({
        "id": event_id(i),
        "hotel_id": HOTEL_ID,
        "title": format!("{} #{i} (rev {title_rev})", TITLES[i % 6]),
        "category": CATEGORIES[i % 6],
        "description": "A small-group experience hosted by our concierge team: meet in the lobby ten minutes before the start; comfortable shoes recommended, water provided.",
        "venue": "Lobby lounge, ground floor",
        "starts_at": stamp(start),
        "ends_at": stamp(start + 5_400_000),
        "price_text": "₹1,500 per person",
        "distance_km": 2.4 + (i % 10) as f64 * 0.7,
        "is_hotel_service": i.is_multiple_of(3),
        "image_url": null,
        "booking_url": format!("https://book.example.com/experiences/{i}?ref=concierge"),
        "updated_at": stamp(updated_ms),
    });
    match row {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn columns(spec: &[(&str, &str)]) -> Vec<Column> {
    spec.iter()
        .map(|(n, t)| Column {
            name: (*n).into(),
            type_name: (*t).into(),
        })
        .collect()
}

fn event_columns() -> Vec<Column> {
    columns(&[
        ("id", "uuid"),
        ("hotel_id", "uuid"),
        ("title", "text"),
        ("category", "text"),
        ("description", "text"),
        ("venue", "text"),
        ("starts_at", "timestamptz"),
        ("ends_at", "timestamptz"),
        ("price_text", "text"),
        ("distance_km", "float8"),
        ("is_hotel_service", "bool"),
        ("image_url", "text"),
        ("booking_url", "text"),
        ("updated_at", "timestamptz"),
    ])
}

fn frame(vsn: Vsn, topic: &str, data: ChangeData) -> String {
    let payload = serde_json::to_value(ChangesPayload {
        ids: vec![SUB_ID],
        data,
    })
    .unwrap_or(Value::Null);
    Message::new(topic, Event::PostgresChanges, payload).encode_server(vsn)
}

/// A `kiosk_results` INSERT whose `results` holds six event cards.
pub fn kiosk_insert_frame(vsn: Vsn, topic: &str) -> String {
    let cards: Vec<Value> = (0..6)
        .map(|i| Value::Object(event_row(i, 1, 36_000_000)))
        .collect();
    let record = json!({
        "id": "4e501700-0000-4000-8000-000000000042",
        "session_id": SESSION_ID,
        "results": {
            "interests": "live music tonight, street food, something cultural tomorrow morning",
            "categories": ["music", "food", "culture"],
            "events": cards,
        },
        "created_at": stamp(37_000_123),
    });
    let Value::Object(record) = record else {
        return String::new();
    };
    frame(
        vsn,
        topic,
        ChangeData {
            schema: "public".into(),
            table: "kiosk_results".into(),
            commit_timestamp: stamp(37_000_123),
            change_type: ChangeType::Insert,
            columns: columns(&[
                ("id", "uuid"),
                ("session_id", "uuid"),
                ("results", "jsonb"),
                ("created_at", "timestamptz"),
            ]),
            record: Some(record),
            old_record: None,
            errors: None,
        },
    )
}

/// An `events` UPDATE of row `i` to `updated_ms`.
pub fn event_update_frame(
    vsn: Vsn,
    topic: &str,
    i: usize,
    title_rev: u32,
    updated_ms: u64,
) -> String {
    let mut old = Map::new();
    old.insert("id".into(), Value::String(event_id(i)));
    frame(
        vsn,
        topic,
        ChangeData {
            schema: "public".into(),
            table: "events".into(),
            commit_timestamp: stamp(updated_ms),
            change_type: ChangeType::Update,
            columns: event_columns(),
            record: Some(event_row(i, title_rev, updated_ms)),
            old_record: Some(old),
            errors: None,
        },
    )
}

/// `n` rows of `events`, all at version `updated_ms`.
pub fn event_rows(n: usize, title_rev: u32, updated_ms: u64) -> Vec<Value> {
    (0..n)
        .map(|i| Value::Object(event_row(i, title_rev, updated_ms)))
        .collect()
}
