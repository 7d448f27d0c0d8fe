//! What a new message must pass on the writer thread, right before the insert (so no other
//! write slips in between): its conversation exists and the caller may write into it (the
//! insert policy's `exists (…)`), the session holds fewer than the cap, and a customer's
//! message finds room in the concierge's reply queue.

use std::collections::HashMap;

use concierge_wire::AuthorRole;
use serde_json::Value;

use super::commit::Inner;
use super::conversation;
use crate::authz::{self, Principal};
use crate::db::{DbError, Row, Table, reply_queue};

/// The limits a message insert is held to (0 = none).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Caps {
    pub per_session: u32,
    /// Reply queue depth; 0 = no queue (nothing is enqueued).
    pub queue_depth: u32,
}

pub(super) fn check(
    w: &Inner,
    principal: &Principal,
    rows: &[Row],
    caps: Caps,
) -> Result<(), DbError> {
    let mut adding: HashMap<&str, u64> = HashMap::new();
    for row in rows {
        let session = row.get("session_id").and_then(Value::as_str);
        let conv = match session {
            Some(id) => conversation::lookup(w.conn(), id)?,
            None => None,
        };
        if conv.is_none() && matches!(principal, Principal::ServiceRole) {
            // Trusted writers skip the policies but not the reference (the hosted trigger
            // raises 23503 the same way).
            if let Some(id) = session {
                return Err(DbError::NoSuchSession(id.chars().take(64).collect()));
            }
        }
        authz::check_insert_in(principal, Table::Messages, row, conv.as_ref())?;
        if let Some(id) = session {
            *adding.entry(id).or_default() += 1;
        }
    }
    if caps.per_session > 0 {
        for (session, n) in adding {
            let held: i64 = w
                .conn()
                .prepare_cached("SELECT count(*) FROM messages WHERE session_id = ?1")?
                .query_row([session], |r| r.get(0))?;
            if u64::try_from(held).unwrap_or(0) + n > u64::from(caps.per_session) {
                return Err(DbError::TooManyMessages {
                    cap: caps.per_session,
                });
            }
        }
    }
    // Only clients' messages are queued (see `Inner::insert`).
    let queued = match principal.user_id() {
        Some(_) => rows.iter().filter(|r| awaits_reply(r)).count() as u64,
        None => 0,
    };
    if caps.queue_depth > 0 && queued > 0 {
        let depth = reply_queue::depth(w.conn())?;
        if depth + queued > u64::from(caps.queue_depth) {
            return Err(DbError::ReplyQueueFull {
                depth: caps.queue_depth,
            });
        }
    }
    Ok(())
}

/// A guest's or customer's message: the concierge answers it if staff do not.
pub(super) fn awaits_reply(row: &Row) -> bool {
    row.get("author_role").and_then(Value::as_str) == Some(AuthorRole::Customer.as_str())
}
