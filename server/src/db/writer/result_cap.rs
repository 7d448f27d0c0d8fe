//! At most so many kiosk results per kiosk session: each search (or a client with the anon
//! key) adds one, and until the retention removes them nothing else bounds one session's rows.
//! Checked on the writer thread right before the insert, so no other write slips in between.

use std::collections::HashMap;

use serde_json::Value;

use super::commit::Inner;
use crate::db::{DbError, Row};

/// Refuses `rows` (new kiosk results) when one of their sessions would hold more than `cap`.
pub(super) fn check(w: &Inner, rows: &[Row], cap: u32) -> Result<(), DbError> {
    let mut adding: HashMap<&str, u64> = HashMap::new();
    for row in rows {
        if let Some(session) = row.get("session_id").and_then(Value::as_str) {
            *adding.entry(session).or_default() += 1;
        }
    }
    for (session, n) in adding {
        let held: i64 = w
            .conn()
            .prepare_cached("SELECT count(*) FROM kiosk_results WHERE session_id = ?1")?
            .query_row([session], |r| r.get(0))?;
        if u64::try_from(held).unwrap_or(0) + n > u64::from(cap) {
            return Err(DbError::TooManyResults { cap });
        }
    }
    Ok(())
}
