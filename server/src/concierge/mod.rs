//! The concierge: answers a guest's or customer's message that no staff member answered
//! within the reply delay (issue 16, "The concierge reply queue").
//!
//! The queue is the `reply_queue` table ([`crate::db::reply_queue`]): the writer adds a row in
//! the same transaction as each customer message, so a restart or a crash loses none. This
//! task polls for rows older than the delay and hands each to one of a bounded number of
//! workers, which:
//! 1. read the conversation; if a staff member or the concierge answered after the message,
//!    or the customer wrote again (the later message is answered instead, with both read
//!    together), or the session has ended, the message needs no reply;
//! 2. otherwise read the unanswered words with the kiosk search's interest matcher and reply
//!    with the matching upcoming events, or a fallback ([`reply::compose`]);
//! 3. forget the queue row.
//!
//! Each message is answered once: the reply's id is derived from the message's
//! ([`reply::reply_id`]), so a reply written before a crash and tried again after the restart
//! is a duplicate key, and only the queue row is removed.
//!
//! Only in local mode: in upstream mode the hosted project holds the messages and this server
//! runs no queue (see the README).

mod args;
mod queue_api;
pub mod reply;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use concierge_wire::{AuthorRole, Filter, SessionStatus};
use serde_json::{Map, Value};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub use args::{ConciergeArgs, DEFAULT_REPLY_DELAY_MS, DEFAULT_WORKERS};
pub use queue_api::router;

use crate::authz::Principal;
use crate::db::reply_queue::Pending;
use crate::db::{DbError, Order, ReadQuery, Row, Table};
use crate::state::AppState;
use crate::time_fmt;

/// Most messages of one conversation the concierge reads (the newest matter; the cap on a
/// conversation is larger, but a reply only needs the recent exchange).
const READ_LIMIT: u64 = 200;

#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a message waits for staff before the concierge answers.
    pub delay: Duration,
    /// Replies composed at once.
    pub workers: usize,
    /// The hotel whose events the concierge suggests (`/config.json`'s `hotel_id`).
    pub hotel_id: String,
}

#[derive(Debug, thiserror::Error)]
enum ReplyError {
    #[error("database: {0}")]
    Db(#[from] DbError),
}

/// Runs the queue until `stop` is cancelled.
pub async fn run(state: AppState, settings: Settings, stop: CancellationToken) {
    let period = (settings.delay / 8).clamp(Duration::from_millis(25), Duration::from_millis(250));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let workers = Arc::new(Semaphore::new(settings.workers));
    // Messages a worker holds: a row stays in the table until it is handled, so the next poll
    // must not hand it out again.
    let busy: Arc<Mutex<HashSet<String>>> = Arc::default();
    let batch = u32::try_from(settings.workers.saturating_mul(16)).unwrap_or(u32::MAX);
    let delay_ms = i64::try_from(settings.delay.as_millis()).unwrap_or(i64::MAX);
    tracing::info!(delay_ms, workers = settings.workers, "concierge replies on");
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return,
        }
        let cutoff = time_fmt::now_ms().saturating_sub(delay_ms);
        let due = match state.db.due_replies(cutoff, batch).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("reading the reply queue failed: {e}");
                continue;
            }
        };
        for p in due {
            if !lock(&busy).insert(p.message_id.clone()) {
                continue;
            }
            let permit = tokio::select! {
                p = workers.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
                () = stop.cancelled() => return,
            };
            let (state, settings, busy) = (state.clone(), settings.clone(), busy.clone());
            tokio::spawn(async move {
                let id = p.message_id.clone();
                match handle(&state, &settings, &p).await {
                    Ok(()) => {}
                    // Left in the queue: the next poll tries again.
                    Err(e) => tracing::warn!(message_id = %id, "concierge reply failed: {e}"),
                }
                lock(&busy).remove(&id);
                drop(permit);
            });
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn text<'a>(row: &'a Row, col: &str) -> Option<&'a str> {
    row.get(col).and_then(Value::as_str)
}

fn role(row: &Row) -> Option<AuthorRole> {
    text(row, "author_role").and_then(AuthorRole::parse)
}

/// The conversation of `session_id`, oldest first.
async fn conversation(state: &AppState, session_id: &str) -> Result<Vec<Row>, DbError> {
    let order = |name: &str, desc: bool| {
        Table::Messages.column(name).map(|col| Order {
            col,
            desc,
            nulls_first: None,
        })
    };
    let q = ReadQuery {
        filters: vec![Filter::eq("session_id", session_id)],
        order: [order("created_at", true)].into_iter().flatten().collect(),
        limit: Some(READ_LIMIT),
        ..ReadQuery::default()
    };
    let mut rows = state
        .db
        .select(&Principal::ServiceRole, Table::Messages, q)
        .await?
        .rows;
    rows.reverse();
    Ok(rows)
}

/// Whether the session named `session_id` has ended (a kiosk conversation never does).
async fn has_ended(state: &AppState, session_id: &str) -> Result<bool, DbError> {
    let q = ReadQuery {
        filters: vec![Filter::eq("id", session_id)],
        limit: Some(1),
        ..ReadQuery::default()
    };
    let rows = state
        .db
        .select(&Principal::ServiceRole, Table::Sessions, q)
        .await?
        .rows;
    Ok(rows
        .first()
        .and_then(|r| text(r, "status"))
        .and_then(SessionStatus::parse)
        .is_some_and(SessionStatus::is_ended))
}

/// The customer's words the reply answers: `rows[at]` and the customer messages before it
/// since the last answer, or `None` when it needs no reply.
fn unanswered(rows: &[Row], at: usize) -> Option<String> {
    // Anything after it: an answer (staff or concierge), or a later question that will be
    // answered instead, reading this one too.
    if rows.len() > at + 1 {
        return None;
    }
    let start = rows[..at]
        .iter()
        .rposition(|r| role(r) != Some(AuthorRole::Customer))
        .map_or(0, |i| i + 1);
    let words: Vec<&str> = rows[start..=at]
        .iter()
        .filter_map(|r| text(r, "body"))
        .collect();
    Some(words.join("\n"))
}

async fn handle(state: &AppState, settings: &Settings, p: &Pending) -> Result<(), ReplyError> {
    let rows = conversation(state, &p.session_id).await?;
    let at = rows
        .iter()
        .position(|r| text(r, "id") == Some(&p.message_id));
    let words = match at {
        Some(at) => unanswered(&rows, at),
        None => None,
    };
    let words = match words {
        Some(w) if !has_ended(state, &p.session_id).await? => w,
        _ => {
            state.writer.reply_done(p.message_id.clone()).await?;
            return Ok(());
        }
    };
    let events = crate::matcher::local_events(&state.db, &settings.hotel_id).await?;
    let upcoming = crate::matcher::upcoming(events, time_fmt::now_ms());
    let found = crate::matcher::matching(&upcoming, &words, reply::MAX_EVENTS);
    let mut row = Map::new();
    row.insert("id".into(), Value::String(reply::reply_id(&p.message_id)));
    row.insert("session_id".into(), Value::String(p.session_id.clone()));
    row.insert(
        "author_role".into(),
        Value::String(AuthorRole::Concierge.as_str().into()),
    );
    row.insert("author_name".into(), Value::String(reply::NAME.into()));
    row.insert(
        "body".into(),
        Value::String(reply::compose(&found.asked, &found.events, &found.offered)),
    );
    match state
        .writer
        .insert_one(&Principal::ServiceRole, Table::Messages, row)
        .await
    {
        Ok(_) => {
            let waited = time_fmt::now_ms().saturating_sub(p.enqueued_ms);
            tracing::debug!(message_id = %p.message_id, waited_ms = waited, "concierge replied");
        }
        // Written before a crash or restart: answered once already.
        Err(DbError::Duplicate { .. }) => {}
        // A full conversation takes no reply; keep trying would never end.
        Err(e @ DbError::TooManyMessages { .. }) => {
            tracing::warn!(message_id = %p.message_id, "concierge cannot reply: {e}");
        }
        Err(e) => return Err(e.into()),
    }
    state.writer.reply_done(p.message_id.clone()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(id: &str, role: &str, body: &str) -> Row {
        serde_json::json!({"id": id, "author_role": role, "body": body})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn only_the_last_unanswered_question_is_answered_with_its_predecessors() {
        let rows = vec![
            msg("1", "customer", "hello"),
            msg("2", "staff", "hi!"),
            msg("3", "customer", "any music"),
            msg("4", "customer", "tonight?"),
        ];
        assert_eq!(unanswered(&rows, 0), None, "staff answered it");
        assert_eq!(unanswered(&rows, 2), None, "the later question reads it");
        assert_eq!(unanswered(&rows, 3).as_deref(), Some("any music\ntonight?"));
        let answered = [rows.clone(), vec![msg("5", "concierge", "…")]].concat();
        assert_eq!(unanswered(&answered, 3), None);
    }
}
