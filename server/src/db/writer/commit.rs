//! The commit path, on the writer thread: one transaction per write, then the committed changes
//! are published, in commit order, before the next write starts.

use std::sync::Arc;

use concierge_wire::filter::Filter;
use concierge_wire::realtime::ChangeType;
use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value};

use super::storage::FullState;
use super::validate::{check_value, known_keys, set_clause};
use super::{Change, ChangeSink};
use crate::authz::{self, Principal};
use crate::db::deadline::Deadline;
use crate::db::error::classify;
use crate::db::{DbError, Group, Row, Table, derive, sql, value};
use crate::schema::ColDefault;
use crate::time_fmt;

/// The writer thread's state: the one writer connection, its commit clock and the realtime sink.
pub(super) struct Inner {
    pub(super) conn: Connection,
    /// Last commit time handed out, in microseconds. Never goes backwards (a clock step back
    /// cannot reorder `updated_at`), and never runs ahead of the clock by more than a tick:
    /// at most one write per microsecond, so heavy load cannot push timestamps into the future.
    last_us: i64,
    sink: ChangeSink,
    /// The statement timeout of the writer connection, armed for each write.
    pub(super) deadline: Arc<Deadline>,
    full: FullState,
    /// Whether customer messages are queued for the concierge (`--concierge-queue-depth` > 0).
    reply_queue: bool,
}

/// Called just before COMMIT: a statement the timeout cut short (a `pg_like` that gave up may
/// have made a row look unmatched) must not commit; and COMMIT itself runs unarmed, so what
/// commits is exactly what gets acknowledged.
pub(super) fn before_commit(deadline: &Deadline) -> Result<(), DbError> {
    if deadline.disarm() {
        return Err(DbError::StatementTimeout);
    }
    Ok(())
}

fn pk_only(table: Table, row: &Row) -> Row {
    let pk = table.pk().name;
    let mut m = Map::new();
    m.insert(pk.to_owned(), row.get(pk).cloned().unwrap_or(Value::Null));
    m
}

impl Inner {
    pub(super) fn new(conn: Connection, sink: ChangeSink, deadline: Arc<Deadline>) -> Inner {
        Inner {
            conn,
            last_us: 0,
            sink,
            deadline,
            full: FullState::default(),
            reply_queue: false,
        }
    }

    pub(super) fn with_reply_queue(mut self, on: bool) -> Inner {
        self.reply_queue = on;
        self
    }

    /// The change for `row`, with its conversation when the table's rules read one.
    fn change(
        &self,
        table: Table,
        change_type: ChangeType,
        ts: &str,
        (record, old_record, deleted_row): (Option<Row>, Option<Row>, Option<Row>),
    ) -> Change {
        // After the commit: a failed lookup must not turn a committed write into an error.
        // Without its conversation the change reaches nobody but the service role; clients
        // catch up on their next snapshot.
        let conversation = match record.as_ref().or(deleted_row.as_ref()) {
            Some(r) => super::conversation::of_row(&self.conn, table, r).unwrap_or_else(|e| {
                tracing::warn!(
                    "cannot look up the conversation of a {} change: {e}",
                    table.name()
                );
                None
            }),
            None => None,
        };
        Change {
            table,
            change_type,
            commit_timestamp: ts.to_owned(),
            record,
            old_record,
            deleted_row,
            conversation,
        }
    }

    pub(super) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(super) fn deadline(&self) -> &Deadline {
        &self.deadline
    }

    pub(super) fn note_outcome<T>(&mut self, out: &Result<T, DbError>) {
        let _ = self.full.note(out);
    }

    pub(super) fn next_ts(&mut self) -> (i64, String) {
        self.last_us = time_fmt::now_us().max(self.last_us + 1);
        let ms = self.last_us.div_euclid(1000);
        (ms, time_fmt::format_ms(ms))
    }

    pub(super) fn publish(&self, changes: Vec<Change>) {
        for c in changes {
            // No receiver only happens during shutdown; the write itself has committed.
            let _ = self.sink.send(Arc::new(c));
        }
    }

    /// Inserts `rows`; `from_client` says a client (not a trusted writer) sent them, so its
    /// customer messages wait for the concierge.
    pub(super) fn insert(
        &mut self,
        table: Table,
        rows: Vec<Row>,
        from_client: bool,
    ) -> Result<Vec<Row>, DbError> {
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
                    (None, ColDefault::KioskOwner) => {
                        crate::db::derive::kiosk_owner(&self.conn, row)?
                    }
                    (None, ColDefault::PlacesLeft) => derive::places_left(
                        &self.conn,
                        row.get("id").and_then(Value::as_str),
                        derive::capacity_of(row),
                    )?,
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
        if table == Table::Messages && self.reply_queue && from_client {
            // In the message's own transaction: a stored question is a queued one. Messages
            // from trusted writers (the concierge itself, imports) are not questions.
            let now = time_fmt::now_ms();
            for r in out.iter().filter(|r| super::messages::awaits_reply(r)) {
                let text = |c: &str| r.get(c).and_then(Value::as_str).unwrap_or_default();
                crate::db::reply_queue::enqueue(&tx, text("id"), text("session_id"), now)?;
            }
        }
        before_commit(&self.deadline)?;
        tx.commit()?;
        let changes: Vec<Change> = out
            .iter()
            .map(|r| {
                self.change(
                    table,
                    ChangeType::Insert,
                    &ts,
                    (Some(r.clone()), None, None),
                )
            })
            .collect();
        self.publish(changes);
        Ok(out)
    }

    pub(super) fn update(
        &mut self,
        principal: &Principal,
        table: Table,
        (filters, groups): (&[Filter], &[Group]),
        scope: &authz::RowScope,
        mut patch: Row,
    ) -> Result<Vec<Row>, DbError> {
        known_keys(table, &patch)?;
        // Derived columns are the server's: a sent value is ignored (as the triggers do).
        patch.retain(|k, _| table.column(k).is_none_or(|c| !c.default.is_derived()));
        let places_left = table
            .columns()
            .iter()
            .find(|c| c.default == ColDefault::PlacesLeft);
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
                if let Some(c) = places_left {
                    let capacity = derive::capacity_of(&row_patch)
                        .or_else(|| derive::capacity_of(&old_row))
                        .filter(|_| !row_patch.get("capacity").is_some_and(Value::is_null));
                    let id = old_row.get(pk.name).and_then(Value::as_str);
                    let v = derive::places_left(&tx, id, capacity)?;
                    row_patch.insert(c.name.to_owned(), value::to_json(c, v));
                }
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
                changes.push((row.clone(), old_record));
                out.push(row);
            }
        }
        before_commit(&self.deadline)?;
        tx.commit()?;
        let changes: Vec<Change> = changes
            .into_iter()
            .map(|(row, old)| {
                self.change(table, ChangeType::Update, &ts, (Some(row), Some(old), None))
            })
            .collect();
        self.publish(changes);
        Ok(out)
    }

    pub(super) fn delete(
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
        before_commit(&self.deadline)?;
        tx.commit()?;
        let changes: Vec<Change> = out
            .iter()
            .map(|r| {
                self.change(
                    table,
                    ChangeType::Delete,
                    &ts,
                    (None, Some(pk_only(table, r)), Some(r.clone())),
                )
            })
            .collect();
        self.publish(changes);
        Ok(out)
    }
}
