//! THE write path. Every insert, update and delete — REST, `/api`, anything added later —
//! goes through [`Writer`]: it checks the authorization layer, validates values against the
//! schema, commits on the one writer connection, and then, still holding the writer lock,
//! hands the committed changes to the realtime fan-out. Holding the lock while publishing is
//! what makes realtime delivery follow commit order.

mod booking;
mod cache;
mod change;
mod checkpoint;
mod commit;
mod conversation;
mod messages;
mod open_session;
mod result_cap;
mod storage;
mod validate;

use std::sync::Arc;

use concierge_wire::filter::Filter;
use rusqlite::Connection;

use super::Options;
use super::deadline::Deadline;
use super::{DbError, Group, Row, Table};
use crate::authz::{self, Action, Principal};
use checkpoint::{CheckpointLock, WalBound, spawn_checkpointer};
use commit::Inner;

pub(crate) use booking::uuid_arg;
pub use change::{Change, ChangeSink};
pub(crate) use storage::limit_size;

type Job = Box<dyn FnOnce(&mut Inner) + Send>;

/// Handle to the writer thread. Writes queue in FIFO order on one dedicated thread that owns
/// the connection: no lock convoy, no starved writer, and the order of the queue is the commit
/// order that realtime publishes.
#[derive(Clone)]
pub struct Writer {
    jobs: std::sync::mpsc::Sender<Job>,
    /// The checkpointer thread runs while any handle is alive.
    _alive: Arc<()>,
    /// Kiosk results one kiosk session may hold (0 = no cap).
    results_per_session: u32,
    /// Limits on messages (per conversation, the reply queue's depth).
    message_caps: messages::Caps,
    /// Message writes per user and minute.
    message_writes: Arc<crate::rate_window::Window<String>>,
}

impl Writer {
    pub(crate) fn new(
        conn: Connection,
        sink: ChangeSink,
        deadline: Arc<Deadline>,
        opts: &Options,
    ) -> Writer {
        let alive = Arc::new(());
        let mut bound = None;
        match conn
            .path()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
        {
            Some(path) => {
                // Once a checkpoint has reset the WAL, the next write shrinks the file back to
                // the checkpoint threshold instead of leaving its high-water mark on disk.
                let limit = i64::try_from(opts.wal_checkpoint_threshold()).unwrap_or(i64::MAX);
                if let Err(e) = conn.pragma_update(None, "journal_size_limit", limit) {
                    tracing::warn!("cannot set journal_size_limit: {e}");
                }
                if let Err(e) = conn.pragma_update(None, "wal_autocheckpoint", 0) {
                    tracing::warn!("cannot move checkpoints off the write path: {e}");
                } else {
                    let lock = CheckpointLock::default();
                    bound = Some(WalBound::new(&path, opts, lock.clone()));
                    spawn_checkpointer(path, Arc::downgrade(&alive), opts, lock);
                }
            }
            None => tracing::debug!("in-memory database: no checkpointer"),
        }
        let mut release = opts.cache_release_every.map(cache::CacheRelease::new);
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        let mut inner =
            Inner::new(conn, sink, deadline).with_reply_queue(opts.reply_queue_depth > 0);
        // The thread ends when the last Writer handle is dropped.
        let spawned = std::thread::Builder::new()
            .name("concierge-writer".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job(&mut inner);
                    if let Some(b) = bound.as_mut() {
                        b.after_write(inner.conn());
                    }
                    if let Some(c) = release.as_mut() {
                        c.after_write(inner.conn());
                    }
                }
            });
        if let Err(e) = spawned {
            // Without the thread every write reports a worker error instead of hanging.
            tracing::error!("cannot start the database writer thread: {e}");
        }
        Writer {
            jobs,
            _alive: alive,
            results_per_session: opts.max_results_per_session,
            message_caps: messages::Caps {
                per_session: opts.max_messages_per_session,
                queue_depth: opts.reply_queue_depth,
            },
            message_writes: Arc::new(crate::rate_window::Window::new(
                opts.message_writes_per_minute,
                std::time::Duration::from_secs(60),
            )),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Inner) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |inner: &mut Inner| {
            // A panic here would kill the writer thread; the parsers are total, but keep the
            // thread alive regardless and report the failure to this caller.
            inner.deadline().arm();
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(inner)))
                .unwrap_or_else(|_| Err(DbError::Worker("write panicked".into())));
            let out = inner.deadline().settle(out);
            inner.note_outcome(&out);
            let _ = tx.send(out);
        });
        self.jobs
            .send(job)
            .map_err(|_| DbError::Worker("database writer thread is gone".into()))?;
        rx.await
            .map_err(|_| DbError::Worker("database writer dropped the request".into()))?
    }

    /// Inserts `rows` (all-or-nothing) and returns them as stored.
    pub async fn insert(
        &self,
        principal: &Principal,
        table: Table,
        rows: Vec<Row>,
    ) -> Result<Vec<Row>, DbError> {
        authz::check(principal, table, Action::Insert, &[])?;
        let mut rows = rows;
        for row in &mut rows {
            authz::prepare_insert(principal, table, row)?;
        }
        // A customer's request; the service role (operators, the seed) is not held to it.
        let one_open = table == Table::Sessions && matches!(principal, Principal::User(_));
        let cap = match table {
            Table::KioskResults => self.results_per_session,
            _ => 0,
        };
        if table == Table::Messages
            && let Some(user) = principal.user_id()
        {
            let now = std::time::Instant::now();
            for _ in &rows {
                self.message_writes
                    .take(&user.to_owned(), now)
                    .map_err(|wait| DbError::TooManyWrites {
                        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
                    })?;
            }
        }
        let message_caps = (table == Table::Messages).then_some(self.message_caps);
        let from_client = principal.user_id().is_some();
        let principal = principal.clone();
        self.run(move |w| {
            if one_open {
                open_session::check(w, &rows)?;
            }
            if cap > 0 {
                result_cap::check(w, &rows, cap)?;
            }
            if let Some(caps) = message_caps {
                messages::check(w, &principal, &rows, caps)?;
            }
            w.insert(table, rows, from_client)
        })
        .await
    }

    /// Forgets a message of the concierge's reply queue (answered, or needing no answer).
    pub async fn reply_done(&self, message_id: String) -> Result<(), DbError> {
        self.run(move |w| crate::db::reply_queue::remove(w.conn(), &message_id))
            .await
    }

    /// Convenience for one row.
    pub async fn insert_one(
        &self,
        principal: &Principal,
        table: Table,
        row: Row,
    ) -> Result<Row, DbError> {
        let mut v = self.insert(principal, table, vec![row]).await?;
        v.pop()
            .ok_or_else(|| DbError::Worker("insert returned no row".into()))
    }

    /// Updates the rows matching `filters` and `groups` (not both empty) with `patch`.
    pub async fn update(
        &self,
        principal: &Principal,
        table: Table,
        (filters, groups): (Vec<Filter>, Vec<Group>),
        patch: Row,
    ) -> Result<Vec<Row>, DbError> {
        if filters.is_empty() && groups.is_empty() {
            return Err(DbError::Unfiltered(Action::Update));
        }
        authz::check(principal, table, Action::Update, &filters)?;
        let scope = authz::row_scope(principal, table);
        let principal = principal.clone();
        self.run(move |w| w.update(&principal, table, (&filters, &groups), &scope, patch))
            .await
    }

    /// Deletes the rows matching `filters` and `groups` (not both empty).
    pub async fn delete(
        &self,
        principal: &Principal,
        table: Table,
        (filters, groups): (Vec<Filter>, Vec<Group>),
    ) -> Result<Vec<Row>, DbError> {
        if filters.is_empty() && groups.is_empty() {
            return Err(DbError::Unfiltered(Action::Delete));
        }
        authz::check(principal, table, Action::Delete, &filters)?;
        let scope = authz::row_scope(principal, table);
        self.run(move |w| w.delete(table, (&filters, &groups), &scope))
            .await
    }

    /// `rpc/reserve`: books `booking` in one transaction, or refuses and changes nothing.
    pub async fn reserve(
        &self,
        principal: &Principal,
        booking: crate::db::booking::Booking,
    ) -> Result<serde_json::Value, DbError> {
        authz::may_call(principal, authz::Function::Reserve)?;
        self.run(move |w| w.reserve(booking)).await
    }

    /// `rpc/cancel_reservation`: gives the reservation's places back in one transaction.
    pub async fn cancel_reservation(
        &self,
        principal: &Principal,
        reservation_id: Option<String>,
    ) -> Result<serde_json::Value, DbError> {
        authz::may_call(principal, authz::Function::CancelReservation)?;
        self.run(move |w| w.cancel_reservation(reservation_id))
            .await
    }
}
