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
