//! The product's rule that a customer has at most one open session (pending, waiting or
//! live) at a time. Checked on the writer thread right before the insert, so no other write
//! can slip in between; the hosted schema enforces the same rule
//! (supabase/migrations/0003_one_open_session.sql).

use concierge_wire::SessionStatus;
use rusqlite::OptionalExtension;
use serde_json::Value;

use super::commit::Inner;
use crate::db::{DbError, Row};

/// Refuses `rows` (new sessions) when one of their customers already has an open session, or
/// when the batch itself opens two for one customer.
pub(super) fn check(w: &Inner, rows: &[Row]) -> Result<(), DbError> {
    let open: Vec<&str> = SessionStatus::ALL
        .into_iter()
        .filter(|s| s.is_active())
        .map(SessionStatus::as_str)
        .collect();
    let sql = format!(
        "SELECT 1 FROM sessions WHERE customer_id = ?1 AND status IN ({}) LIMIT 1",
        open.iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut seen = std::collections::HashSet::new();
    for row in rows {
        let Some(customer) = row.get("customer_id").and_then(Value::as_str) else {
            continue;
        };
        if !seen.insert(customer.to_owned()) {
            return Err(DbError::OneOpenSession);
        }
        let exists = w
            .conn()
            .prepare_cached(&sql)?
            .query_row([customer], |_| Ok(()))
            .optional()?;
        if exists.is_some() {
            return Err(DbError::OneOpenSession);
        }
    }
    Ok(())
}
