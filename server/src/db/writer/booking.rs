//! `reserve` and `cancel_reservation` on the writer thread: each is ONE transaction that
//! checks the event, writes the reservation and the event's `places_left`, and publishes both
//! changes in commit order, or refuses and changes nothing. The writer runs one job at a
//! time, so no other booking can interleave between the check and the write (the hosted
//! function gets the same from `select … for update`).

use concierge_wire::ReservationStatus;
use concierge_wire::realtime::ChangeType;
use rusqlite::OptionalExtension;
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value};

use super::Change;
use super::commit::Inner;
use crate::db::booking::{Booking, Refusal};
use crate::db::deadline::Deadline;
use crate::db::{DbError, Row, Table, derive, sql, value};

/// What a confirmed booking or a cancellation answers: the reservation and the event's places
/// left after it (the caller gave the name and room; nobody else's are returned).
fn answer(reservation: &Row, places_left: &Value) -> Value {
    let mut m = Map::new();
    for k in ["id", "event_id", "party_size", "status", "created_at"] {
        m.insert(
            k.to_owned(),
            reservation.get(k).cloned().unwrap_or(Value::Null),
        );
    }
    m.insert("places_left".to_owned(), places_left.clone());
    Value::Object(m)
}

fn change(table: Table, kind: ChangeType, ts: &str, row: Row) -> Change {
    let old_record = (kind == ChangeType::Update).then(|| {
        let pk = table.pk().name;
        let mut m = Map::new();
        m.insert(pk.to_owned(), row.get(pk).cloned().unwrap_or(Value::Null));
        m
    });
    Change {
        table,
        change_type: kind,
        commit_timestamp: ts.to_owned(),
        record: Some(row),
        old_record,
        deleted_row: None,
        // Events and reservations are not read through a conversation.
        conversation: None,
    }
}

/// Sets the event's `places_left` to its derived value and returns the whole row.
fn refresh_event(
    tx: &rusqlite::Transaction<'_>,
    event_id: &str,
    capacity: Option<i64>,
    ts: &str,
) -> Result<Row, DbError> {
    let left = derive::places_left(tx, Some(event_id), capacity)?;
    let cols = sql::all_columns(Table::Events);
    let text = format!(
        "UPDATE events SET places_left = ?1, updated_at = ?2 WHERE id = ?3 RETURNING {}",
        sql::column_list(&cols)
    );
    Ok(tx
        .prepare_cached(&text)?
        .query_row(rusqlite::params![left, ts, event_id], |r| {
            value::row_to_json(r, &cols)
        })?)
}

impl Inner {
    pub(super) fn reserve(&mut self, booking: Booking) -> Result<Value, DbError> {
        let b = booking.check()?;
        let event_id = b.event_id.ok_or(Refusal::UnknownEvent)?;
        let asked = b.party_size.unwrap_or_default();
        let (_, ts) = self.next_ts();
        let tx = self.conn.transaction()?;
        let event: Option<(Option<i64>, Option<i64>, String)> = tx
            .prepare_cached("SELECT capacity, places_left, starts_at FROM events WHERE id = ?1")?
            .query_row([&event_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (capacity, left, starts_at) = event.ok_or(Refusal::UnknownEvent)?;
        if capacity.is_none() {
            return Err(Refusal::NotBookable.into());
        }
        // Both are canonical UTC text (time_fmt), so text order is time order.
        if starts_at.as_str() <= ts.as_str() {
            return Err(Refusal::EventStarted.into());
        }
        let left = left.unwrap_or_default();
        if left < asked {
            return Err(Refusal::NoPlacesLeft { left, asked }.into());
        }
        let cols = sql::all_columns(Table::Reservations);
        let text = format!(
            "INSERT INTO reservations (id, event_id, guest_name, room, party_size, status, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING {}",
            sql::column_list(&cols)
        );
        let reservation = tx.prepare_cached(&text)?.query_row(
            rusqlite::params![
                uuid::Uuid::new_v4().to_string(),
                event_id,
                b.guest_name,
                b.room,
                asked,
                ReservationStatus::Confirmed.as_str(),
                ts,
            ],
            |r| value::row_to_json(r, &cols),
        )?;
        let event = refresh_event(&tx, &event_id, capacity, &ts)?;
        let (out, changes) = finish(
            tx,
            &self.deadline,
            &ts,
            reservation,
            ChangeType::Insert,
            event,
        )?;
        self.publish(changes);
        Ok(out)
    }

    pub(super) fn cancel_reservation(&mut self, id: Option<String>) -> Result<Value, DbError> {
        let id = id.ok_or(Refusal::UnknownReservation)?;
        let (_, ts) = self.next_ts();
        let tx = self.conn.transaction()?;
        let found: Option<(String, String, Option<i64>)> = tx
            .prepare_cached(
                "SELECT r.event_id, r.status, e.capacity FROM reservations r \
                 JOIN events e ON e.id = r.event_id WHERE r.id = ?1",
            )?
            .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let (event_id, status, capacity) = found.ok_or(Refusal::UnknownReservation)?;
        if status == ReservationStatus::Cancelled.as_str() {
            return Err(Refusal::AlreadyCancelled.into());
        }
        let cols = sql::all_columns(Table::Reservations);
        let text = format!(
            "UPDATE reservations SET status = ?1 WHERE id = ?2 RETURNING {}",
            sql::column_list(&cols)
        );
        let reservation = tx.prepare_cached(&text)?.query_row(
            rusqlite::params![ReservationStatus::Cancelled.as_str(), id],
            |r| value::row_to_json(r, &cols),
        )?;
        let event = refresh_event(&tx, &event_id, capacity, &ts)?;
        let (out, changes) = finish(
            tx,
            &self.deadline,
            &ts,
            reservation,
            ChangeType::Update,
            event,
        )?;
        self.publish(changes);
        Ok(out)
    }
}

/// Commits; then the answer and the changes to publish: the reservation's, then the event's.
fn finish(
    tx: rusqlite::Transaction<'_>,
    deadline: &Deadline,
    ts: &str,
    reservation: Row,
    kind: ChangeType,
    event: Row,
) -> Result<(Value, Vec<Change>), DbError> {
    super::commit::before_commit(deadline)?;
    tx.commit()?;
    let out = answer(
        &reservation,
        event.get("places_left").unwrap_or(&Value::Null),
    );
    Ok((
        out,
        vec![
            change(Table::Reservations, kind, ts, reservation),
            change(Table::Events, ChangeType::Update, ts, event),
        ],
    ))
}

/// The stored form of a UUID argument (`None` stays `None`: JSON null names no row).
pub(crate) fn uuid_arg(v: &Value) -> Result<Option<String>, DbError> {
    if v.is_null() {
        return Ok(None);
    }
    let col = Table::Reservations.pk();
    match value::from_json(col, v)? {
        Sql::Text(s) => Ok(Some(s)),
        _ => Ok(None),
    }
}
