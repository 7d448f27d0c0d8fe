//! THE write path. Every insert, update and delete — REST, `/api`, anything added later —
//! goes through [`Writer`]: it checks the authorization layer, validates values against the
//! schema, commits on the one writer connection, and then, still holding the writer lock,
//! hands the committed changes to the realtime fan-out. Holding the lock while publishing is
//! what makes realtime delivery follow commit order.

use std::sync::Arc;

use concierge_wire::filter::Filter;
use concierge_wire::realtime::ChangeType;
use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value};

use super::error::{DbError, classify};
use super::sql::Group;
use super::{Row, sql, value};
use crate::authz::{self, Action, Principal};
use crate::schema::{ColDefault, ColumnDef, Table};
use crate::time_fmt;

/// One committed row change, as realtime publishes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub table: Table,
    pub change_type: ChangeType,
    pub commit_timestamp: String,
    /// The new row (INSERT, UPDATE).
    pub record: Option<Row>,
    /// The old row's primary key (UPDATE, DELETE), as Postgres' default replica identity gives.
    pub old_record: Option<Row>,
    /// The full deleted row, used only for authorization (never sent).
    pub deleted_row: Option<Row>,
}

impl Change {
    /// The row filters are evaluated against: the new row, or for DELETE the old identity.
    pub fn filter_row(&self) -> Option<&Row> {
        match self.change_type {
            ChangeType::Insert | ChangeType::Update => self.record.as_ref(),
            ChangeType::Delete => self.old_record.as_ref(),
        }
    }

    /// The row the authorization layer judges visibility on.
    pub fn auth_row(&self) -> Option<&Row> {
        self.record.as_ref().or(self.deleted_row.as_ref())
    }
}

pub type ChangeSink = tokio::sync::mpsc::UnboundedSender<Arc<Change>>;

struct Inner {
    conn: Connection,
    /// Last commit time handed out, in microseconds. Never goes backwards (a clock step back
    /// cannot reorder `updated_at`), and never runs ahead of the clock by more than a tick:
    /// at most one write per microsecond, so heavy load cannot push timestamps into the future.
    last_us: i64,
    sink: ChangeSink,
}

type Job = Box<dyn FnOnce(&mut Inner) + Send>;

/// Handle to the writer thread. Writes queue in FIFO order on one dedicated thread that owns
/// the connection: no lock convoy, no starved writer, and the order of the queue is the commit
/// order that realtime publishes.
#[derive(Clone)]
pub struct Writer {
    jobs: std::sync::mpsc::Sender<Job>,
    /// The checkpointer thread runs while any handle is alive.
    _alive: Arc<()>,
}

/// How often the background checkpointer folds the WAL back into the database file.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Checkpoints (which fsync the database file) run on their own thread and connection, so a
/// slow disk never stalls a commit: the writer's automatic checkpoint is switched off.
fn spawn_checkpointer(path: std::path::PathBuf, alive: std::sync::Weak<()>) {
    let spawned = std::thread::Builder::new()
        .name("concierge-checkpoint".into())
        .spawn(move || {
            let conn = match Connection::open(&path) {
                Ok(c) => c,
                Err(e) => return tracing::error!("checkpointer cannot open the database: {e}"),
            };
            let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
            while alive.upgrade().is_some() {
                std::thread::sleep(CHECKPOINT_EVERY);
                // PASSIVE never blocks the writer or the readers.
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::debug!("checkpoint: {e}");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the checkpoint thread: {e}");
    }
}

fn pk_only(table: Table, row: &Row) -> Row {
    let pk = table.pk().name;
    let mut m = Map::new();
    m.insert(pk.to_owned(), row.get(pk).cloned().unwrap_or(Value::Null));
    m
}

fn check_value(table: Table, col: &ColumnDef, v: &Sql) -> Result<(), DbError> {
    match v {
        Sql::Null if !col.nullable => Err(DbError::NotNull {
            table: table.name(),
            column: col.name,
        }),
        Sql::Text(s) if !col.accepts(s) => Err(DbError::Check {
            table: table.name(),
            column: col.name,
            value: s.chars().take(64).collect(),
        }),
        _ => Ok(()),
    }
}

/// `SET` terms and their parameters for the columns `patch` names, in column order.
fn set_clause(
    table: Table,
    cols: &[&'static ColumnDef],
    patch: &Row,
) -> Result<(Vec<String>, Vec<Sql>), DbError> {
    let mut sets = Vec::new();
    let mut params = Vec::new();
    for c in cols {
        if let Some(v) = patch.get(c.name) {
            let v = value::from_json(c, v)?;
            check_value(table, c, &v)?;
            sets.push(format!("{} = ?", sql::quote(c.name)));
            params.push(v);
        }
    }
    Ok((sets, params))
}

/// Rejects keys that are not columns of `table`.
fn known_keys(table: Table, obj: &Row) -> Result<(), DbError> {
    match obj.keys().find(|k| table.column(k).is_none()) {
        Some(k) => Err(DbError::UnknownWriteColumn {
            table: table.name(),
            column: k.chars().take(64).collect(),
        }),
        None => Ok(()),
    }
}

impl Writer {
    pub(crate) fn new(conn: Connection, sink: ChangeSink) -> Writer {
        let alive = Arc::new(());
        match conn
            .path()
            .filter(|p| !p.is_empty())
            .map(std::path::PathBuf::from)
        {
            Some(path) => {
                if let Err(e) = conn.pragma_update(None, "wal_autocheckpoint", 0) {
                    tracing::warn!("cannot move checkpoints off the write path: {e}");
                } else {
                    spawn_checkpointer(path, Arc::downgrade(&alive));
                }
            }
            None => tracing::debug!("in-memory database: no checkpointer"),
        }
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        let mut inner = Inner {
            conn,
            last_us: 0,
            sink,
        };
        // The thread ends when the last Writer handle is dropped.
        let spawned = std::thread::Builder::new()
            .name("concierge-writer".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job(&mut inner);
                }
            });
        if let Err(e) = spawned {
            // Without the thread every write reports a worker error instead of hanging.
            tracing::error!("cannot start the database writer thread: {e}");
        }
        Writer {
            jobs,
            _alive: alive,
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
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(inner)))
                .unwrap_or_else(|_| Err(DbError::Worker("write panicked".into())));
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
        self.run(move |w| w.insert(table, rows)).await
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
}

impl Inner {
    fn next_ts(&mut self) -> (i64, String) {
        self.last_us = time_fmt::now_us().max(self.last_us + 1);
        let ms = self.last_us.div_euclid(1000);
        (ms, time_fmt::format_ms(ms))
    }

    fn publish(&self, changes: Vec<Change>) {
        for c in changes {
            // No receiver only happens during shutdown; the write itself has committed.
            let _ = self.sink.send(Arc::new(c));
        }
    }

    fn insert(&mut self, table: Table, rows: Vec<Row>) -> Result<Vec<Row>, DbError> {
        let (_, ts) = self.next_ts();
        let cols = sql::all_columns(table);
        let mut prepared: Vec<Vec<Sql>> = Vec::with_capacity(rows.len());
        for row in &rows {
            known_keys(table, row)?;
            let mut vals = Vec::with_capacity(cols.len());
            for c in &cols {
                let given = row
                    .get(c.name)
                    .filter(|_| c.name != "updated_at" && !c.default.is_derived());
                let v = match (given, c.default) {
                    (Some(v), _) => value::from_json(c, v)?,
                    (None, ColDefault::KioskOwner) => super::derive::kiosk_owner(&self.conn, row)?,
                    (None, ColDefault::NewUuid) => Sql::Text(uuid::Uuid::new_v4().to_string()),
                    (None, ColDefault::Now) => Sql::Text(ts.clone()),
                    (None, ColDefault::False) => Sql::Integer(0),
                    (None, ColDefault::None) => Sql::Null,
                };
                check_value(table, c, &v)?;
                vals.push(v);
            }
            prepared.push(vals);
        }
        let text = format!(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING {}",
            sql::quote(table.name()),
            sql::column_list(&cols),
            vec!["?"; cols.len()].join(", "),
            sql::column_list(&cols)
        );
        let tx = self.conn.transaction()?;
        let mut out = Vec::with_capacity(prepared.len());
        {
            let mut stmt = tx.prepare_cached(&text)?;
            for vals in &prepared {
                let row = stmt
                    .query_row(rusqlite::params_from_iter(vals.iter()), |r| {
                        value::row_to_json(r, &cols)
                    })
                    .map_err(|e| classify(table, e))?;
                out.push(row);
            }
        }
        tx.commit()?;
        let changes = out
            .iter()
            .map(|r| Change {
                table,
                change_type: ChangeType::Insert,
                commit_timestamp: ts.clone(),
                record: Some(r.clone()),
                old_record: None,
                deleted_row: None,
            })
            .collect();
        self.publish(changes);
        Ok(out)
    }

    fn update(
        &mut self,
        principal: &Principal,
        table: Table,
        (filters, groups): (&[Filter], &[Group]),
        scope: &authz::RowScope,
        mut patch: Row,
    ) -> Result<Vec<Row>, DbError> {
        known_keys(table, &patch)?;
        let (_, ts) = self.next_ts();
        if let Some(u) = table.updated_at() {
            patch.insert(u.name.to_owned(), Value::String(ts.clone()));
        }
        let cols = sql::all_columns(table);
        let (sets, _) = set_clause(table, &cols, &patch)?;
        if sets.is_empty() {
            // Nothing to change (`{}` on a table without updated_at): a no-op, no events.
            return Ok(Vec::new());
        }
        let mut where_params = Vec::new();
        let wh = sql::scoped_where_clause(table, filters, groups, scope, &mut where_params)?;
        let pk = table.pk();
        let tx = self.conn.transaction()?;
        let mut out = Vec::new();
        let mut changes = Vec::new();
        {
            // The full old rows: the row policy judges each transition (old → new), and
            // realtime needs to know who could see the row before it changed.
            let select = format!(
                "SELECT {} FROM {}{}",
                sql::column_list(&cols),
                sql::quote(table.name()),
                wh
            );
            let old_rows: Vec<Row> = tx
                .prepare_cached(&select)?
                .query_map(rusqlite::params_from_iter(where_params.iter()), |r| {
                    value::row_to_json(r, &cols)
                })?
                .collect::<Result<_, _>>()?;
            for old_row in old_rows {
                // The server's own columns depend on the row (a BEFORE UPDATE trigger).
                let mut row_patch = patch.clone();
                authz::prepare_update(principal, table, &old_row, &mut row_patch, &ts)?;
                let (sets, set_params) = set_clause(table, &cols, &row_patch)?;
                let text = format!(
                    "UPDATE {} SET {} WHERE {} = ? RETURNING {}",
                    sql::quote(table.name()),
                    sets.join(", "),
                    sql::quote(pk.name),
                    sql::column_list(&cols)
                );
                let mut stmt = tx.prepare_cached(&text)?;
                let old = value::from_json(pk, old_row.get(pk.name).unwrap_or(&Value::Null))?;
                let mut params = set_params;
                params.push(old.clone());
                let row = stmt
                    .query_row(rusqlite::params_from_iter(params.iter()), |r| {
                        value::row_to_json(r, &cols)
                    })
                    .map_err(|e| classify(table, e))?;
                // WITH CHECK: a refused row aborts the whole statement (the transaction is
                // dropped, i.e. rolled back), as Postgres does.
                authz::check_update(principal, table, &old_row, &row)?;
                let mut old_record = Map::new();
                old_record.insert(pk.name.to_owned(), value::to_json(pk, old));
                changes.push(Change {
                    table,
                    change_type: ChangeType::Update,
                    commit_timestamp: ts.clone(),
                    record: Some(row.clone()),
                    old_record: Some(old_record),
                    deleted_row: None,
                });
                out.push(row);
            }
        }
        tx.commit()?;
        self.publish(changes);
        Ok(out)
    }

    fn delete(
        &mut self,
        table: Table,
        (filters, groups): (&[Filter], &[Group]),
        scope: &authz::RowScope,
    ) -> Result<Vec<Row>, DbError> {
        let (_, ts) = self.next_ts();
        let cols = sql::all_columns(table);
        let mut params = Vec::new();
        let wh = sql::scoped_where_clause(table, filters, groups, scope, &mut params)?;
        let text = format!(
            "DELETE FROM {}{} RETURNING {}",
            sql::quote(table.name()),
            wh,
            sql::column_list(&cols)
        );
        let tx = self.conn.transaction()?;
        let out: Vec<Row> = tx
            .prepare_cached(&text)?
            .query_map(rusqlite::params_from_iter(params.iter()), |r| {
                value::row_to_json(r, &cols)
            })?
            .collect::<Result<_, _>>()?;
        tx.commit()?;
        let changes = out
            .iter()
            .map(|r| Change {
                table,
                change_type: ChangeType::Delete,
                commit_timestamp: ts.clone(),
                record: None,
                old_record: Some(pk_only(table, r)),
                deleted_row: Some(r.clone()),
            })
            .collect();
        self.publish(changes);
        Ok(out)
    }
}
