//! SQLite storage: one writer connection (see [`writer`]) and a few read-only connections.
//! WAL mode lets the readers run while the writer commits.

pub mod booking;
pub mod deadline;
mod derive;
pub mod error;
pub mod like;
pub mod migrate;
pub mod options;
mod parties;
pub mod read_gate;
pub mod reply_queue;
pub mod retention;
pub mod seed;
pub mod sql;
pub mod value;
pub mod writer;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags};

pub use crate::schema::{ColType, ColumnDef, Row, Table};
use deadline::Deadline;
pub use error::DbError;
pub use options::Options;
use read_gate::{ReadGate, ReadKind};
pub use sql::{Cond, Group, Order, ReadQuery};
pub use writer::{Change, ChangeSink, Writer};

use crate::authz::{self, Action, Principal, RowScope};

/// One read-only connection and the statement deadline its progress handler watches.
struct Reader {
    conn: Connection,
    deadline: Arc<Deadline>,
}

/// Read side of the database.
#[derive(Clone)]
pub struct Db {
    readers: Arc<Vec<Mutex<Reader>>>,
    gate: Arc<ReadGate>,
    next: Arc<AtomicUsize>,
}

/// Rows of a read plus the total match count when it was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    pub rows: Vec<Row>,
    pub total: Option<u64>,
}

/// Settings every connection gets; queries on it run under the returned statement deadline.
fn configure(conn: &Connection, opts: &Options) -> rusqlite::Result<Arc<Deadline>> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    opts.limit_cache(conn)?;
    let deadline = Deadline::new(opts.statement_timeout);
    deadline.install(conn);
    like::register(conn, Some(deadline.clone()))?;
    Ok(deadline)
}

/// [`open_with`] and the default [`Options`].
pub fn open(path: &Path, sink: ChangeSink) -> Result<(Db, Writer), DbError> {
    open_with(path, sink, &Options::default())
}

/// Opens (creating if missing) the database, applies migrations and returns the read side and
/// the single write path, which publishes committed changes into `sink`.
pub fn open_with(path: &Path, sink: ChangeSink, opts: &Options) -> Result<(Db, Writer), DbError> {
    let mut conn = Connection::open(path)?;
    let deadline = configure(&conn, opts)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    migrate::apply(&mut conn)?;
    writer::limit_size(&conn, opts)?;
    let limits = opts.reads.normalised();
    let mut readers = Vec::with_capacity(limits.readers);
    for _ in 0..limits.readers {
        let r = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )?;
        let deadline = configure(&r, opts)?;
        readers.push(Mutex::new(Reader { conn: r, deadline }));
    }
    Ok((
        Db {
            readers: Arc::new(readers),
            gate: Arc::new(ReadGate::new(limits)),
            next: Arc::new(AtomicUsize::new(0)),
        },
        Writer::new(conn, sink, deadline, opts),
    ))
}

impl Db {
    /// Runs `f` on a reader connection off the async runtime, under the statement timeout,
    /// once the [`ReadGate`] lets a read of this kind in (so an idle reader is waiting for it).
    async fn with_reader<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        self.read_as(ReadKind::Plain, f).await
    }

    async fn read_as<T: Send + 'static>(
        &self,
        kind: ReadKind,
        f: impl FnOnce(&Connection) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        let pass = self.gate.enter(kind).await?;
        let readers = self.readers.clone();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            // The pass is released when this work ends, not when the caller stops waiting.
            let _pass = pass;
            let n = readers.len();
            // The gate lets in at most one read per reader, so one is idle; the blocking
            // lock is only for a read still finishing on its thread after its pass was freed.
            let idle = (0..n).find_map(|k| readers[(start + k) % n].try_lock().ok());
            let reader = match idle {
                Some(r) => r,
                None => readers[start % n]
                    .lock()
                    .map_err(|_| DbError::Worker("reader lock poisoned".into()))?,
            };
            reader.deadline.arm();
            let out = f(&reader.conn);
            reader.deadline.settle(out)
        })
        .await
        .map_err(|e| DbError::Worker(e.to_string()))?
    }

    /// Pattern reads (`like`/`ilike`) waiting for or holding a pattern lane right now.
    pub fn pattern_reads(&self) -> usize {
        self.gate.pattern_reads()
    }

    /// A read on behalf of `principal`, through the authorization layer.
    pub async fn select(
        &self,
        principal: &Principal,
        table: Table,
        q: ReadQuery,
    ) -> Result<Selected, DbError> {
        authz::check(principal, table, Action::Select, &q.filters)?;
        let scope = authz::row_scope(principal, table);
        self.read_as(ReadKind::of(&q), move |conn| {
            select_on(conn, table, &q, &scope)
        })
        .await
    }
}

pub(crate) fn select_on(
    conn: &Connection,
    table: Table,
    q: &ReadQuery,
    scope: &RowScope,
) -> Result<Selected, DbError> {
    let cols = if q.columns.is_empty() {
        sql::all_columns(table)
    } else {
        q.columns.clone()
    };
    let mut params = Vec::new();
    let wh = sql::scoped_where_clause(table, &q.filters, &q.groups, scope, &mut params)?;
    let limit = q.limit.unwrap_or(sql::MAX_ROWS).min(sql::MAX_ROWS);
    let text = format!(
        "SELECT {} FROM {}{}{} LIMIT {} OFFSET {}",
        sql::column_list(&cols),
        sql::quote(table.name()),
        wh,
        sql::order_clause(&q.order),
        limit,
        q.offset.min(i64::MAX as u64),
    );
    let mut stmt = conn.prepare_cached(&text)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params.iter()), |r| {
            value::row_to_json(r, &cols)
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let total = if q.count {
        let text = format!("SELECT COUNT(*) FROM {}{}", sql::quote(table.name()), wh);
        let n: i64 = conn.query_row(&text, rusqlite::params_from_iter(params.iter()), |r| {
            r.get(0)
        })?;
        Some(n.max(0) as u64)
    } else {
        None
    };
    Ok(Selected { rows, total })
}
