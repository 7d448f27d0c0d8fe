//! Columns the writer derives from other rows, whoever writes (the SQL migration's
//! `security definer` triggers): never taken from the request.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;

use super::DbError;
use super::Row;

/// `kiosk_results.owner_id`: the owner of the `kiosk_sessions` claim on the row's
/// `session_id`, or NULL when nobody claimed it (results written before a claim stay
/// no one's). Runs on the writer's connection, so it sees every committed claim.
pub(super) fn kiosk_owner(conn: &Connection, row: &Row) -> Result<Sql, DbError> {
    let Some(session) = row.get("session_id").and_then(Value::as_str) else {
        return Ok(Sql::Null);
    };
    let owner: Option<String> = conn
        .prepare_cached("SELECT owner_id FROM kiosk_sessions WHERE id = ?1")?
        .query_row([session], |r| r.get(0))
        .optional()?;
    Ok(owner.map_or(Sql::Null, Sql::Text))
}

/// `events.places_left`: `capacity` minus the party sizes of the event's confirmed
/// reservations, never below 0; NULL when the event takes no bookings (`capacity` NULL).
/// `event_id` is `None` for a row not stored yet (no reservation can name it).
pub(crate) fn places_left(
    conn: &Connection,
    event_id: Option<&str>,
    capacity: Option<i64>,
) -> Result<Sql, DbError> {
    let Some(capacity) = capacity else {
        return Ok(Sql::Null);
    };
    let booked: i64 = match event_id {
        None => 0,
        Some(id) => conn
            .prepare_cached(
                "SELECT coalesce(sum(party_size), 0) FROM reservations \
                 WHERE event_id = ?1 AND status = 'confirmed'",
            )?
            .query_row([id], |r| r.get(0))?,
    };
    Ok(Sql::Integer(capacity.saturating_sub(booked).max(0)))
}

/// The event's capacity as a row of JSON carries it (already checked by the column's type).
pub(crate) fn capacity_of(row: &Row) -> Option<i64> {
    row.get("capacity")
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.trim().parse().ok()))
}
