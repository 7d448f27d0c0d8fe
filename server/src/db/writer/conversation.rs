//! The session a message belongs to, looked up on the writer's connection: the rules of
//! `messages` read it (`authz::Conversation`), for the insert check and for realtime delivery.

use concierge_wire::SessionStatus;
use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;

use crate::authz::{self, Conversation};
use crate::db::{DbError, Row, Table};

/// The `sessions` row named `session_id`, else the `kiosk_sessions` claim; `None` when
/// neither exists.
pub(super) fn lookup(conn: &Connection, session_id: &str) -> Result<Option<Conversation>, DbError> {
    let session = conn
        .prepare_cached("SELECT customer_id, staff_id, status FROM sessions WHERE id = ?1")?
        .query_row([session_id], |r| {
            Ok(Conversation::Session {
                customer_id: r.get(0)?,
                staff_id: r.get(1)?,
                status: SessionStatus::parse(&r.get::<_, String>(2)?),
            })
        })
        .optional()?;
    if session.is_some() {
        return Ok(session);
    }
    Ok(conn
        .prepare_cached("SELECT owner_id FROM kiosk_sessions WHERE id = ?1")?
        .query_row([session_id], |r| {
            Ok(Conversation::Kiosk {
                owner_id: r.get(0)?,
            })
        })
        .optional()?)
}

/// The conversation of `row` when `table`'s rules read one, else `None`.
pub(super) fn of_row(
    conn: &Connection,
    table: Table,
    row: &Row,
) -> Result<Option<Conversation>, DbError> {
    if !authz::needs_conversation(table) {
        return Ok(None);
    }
    match row.get("session_id").and_then(Value::as_str) {
        Some(id) => lookup(conn, id),
        None => Ok(None),
    }
}
