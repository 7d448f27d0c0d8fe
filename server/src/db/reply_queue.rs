//! The concierge's reply queue (`reply_queue`, migration 6): one row per customer message the
//! concierge may still have to answer, written in the message's own transaction and removed
//! once it is handled, so a restart or a crash loses none and answers none twice (the reply's
//! id is derived from the message's, see `concierge::reply_id`).

use rusqlite::Connection;

use super::{Db, DbError};

/// One waiting message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub message_id: String,
    pub session_id: String,
    /// When the message was stored (Unix ms).
    pub enqueued_ms: i64,
}

/// How many messages wait.
pub fn depth(conn: &Connection) -> Result<u64, DbError> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM reply_queue")?
        .query_row([], |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Queues one message (again: a no-op).
pub(crate) fn enqueue(
    conn: &Connection,
    message_id: &str,
    session_id: &str,
    now_ms: i64,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO reply_queue (message_id, session_id, enqueued_ms) VALUES (?1, ?2, ?3)",
    )?
    .execute(rusqlite::params![message_id, session_id, now_ms])?;
    Ok(())
}

/// Forgets one message: it is answered, or needs no answer.
pub(crate) fn remove(conn: &Connection, message_id: &str) -> Result<(), DbError> {
    conn.prepare_cached("DELETE FROM reply_queue WHERE message_id = ?1")?
        .execute([message_id])?;
    Ok(())
}

fn due_on(conn: &Connection, cutoff_ms: i64, limit: u32) -> Result<Vec<Pending>, DbError> {
    let mut stmt = conn.prepare_cached(
        "SELECT message_id, session_id, enqueued_ms FROM reply_queue
         WHERE enqueued_ms <= ?1 ORDER BY enqueued_ms LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(rusqlite::params![cutoff_ms, limit], |r| {
            Ok(Pending {
                message_id: r.get(0)?,
                session_id: r.get(1)?,
                enqueued_ms: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

impl Db {
    /// The oldest `limit` messages stored at or before `cutoff_ms`.
    pub async fn due_replies(&self, cutoff_ms: i64, limit: u32) -> Result<Vec<Pending>, DbError> {
        self.with_reader(move |conn| due_on(conn, cutoff_ms, limit))
            .await
    }

    /// How many messages wait for the concierge.
    pub async fn reply_queue_depth(&self) -> Result<u64, DbError> {
        self.with_reader(depth).await
    }

    /// How many waiting messages were stored at or before `cutoff_ms`: past the reply delay,
    /// the backlog the workers have yet to reach (the rest are still waiting for staff).
    pub async fn reply_queue_due(&self, cutoff_ms: i64) -> Result<u64, DbError> {
        self.with_reader(move |conn| {
            let n: i64 = conn
                .prepare_cached("SELECT count(*) FROM reply_queue WHERE enqueued_ms <= ?1")?
                .query_row([cutoff_ms], |r| r.get(0))?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }
}
