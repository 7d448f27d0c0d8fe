//! Database-layer errors, named after the Postgres conditions they mirror so REST can answer
//! with PostgREST's codes.

use crate::authz::{Action, Denied};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A filter, order or select names a column the table does not have (42703).
    #[error("column {table}.{column} does not exist")]
    UnknownColumn { table: &'static str, column: String },
    /// A written object has a key the table does not have (PGRST204).
    #[error("Could not find the '{column}' column of '{table}' in the schema cache")]
    UnknownWriteColumn { table: &'static str, column: String },
    /// A value does not parse as the column's type (22P02).
    #[error("invalid input syntax for type {ty}: \"{value}\"")]
    InvalidInput { ty: &'static str, value: String },
    /// The operator makes no sense for the column's type (42883).
    #[error("operator does not exist: {ty} {op}")]
    Operator { ty: &'static str, op: &'static str },
    #[error("LIKE pattern must not end with escape character")]
    LikePattern,
    #[error(
        "null value in column \"{column}\" of relation \"{table}\" violates not-null constraint"
    )]
    NotNull {
        table: &'static str,
        column: &'static str,
    },
    #[error(
        "new row for relation \"{table}\" violates check constraint \"{table}_{column}_check\""
    )]
    Check {
        table: &'static str,
        column: &'static str,
        value: String,
    },
    #[error("duplicate key value violates unique constraint \"{table}_pkey\"")]
    Duplicate { table: &'static str, key: String },
    /// The product's rule: a customer has at most one open session at a time.
    #[error(
        "a customer may have only one open session at a time (pending, waiting or live): \
         end it before requesting another"
    )]
    OneOpenSession,
    /// A kiosk session already holds as many results as it may.
    #[error("a kiosk session holds at most {cap} results; older ones expire after the retention")]
    TooManyResults { cap: u32 },
    /// A conversation already holds as many messages as it may.
    #[error("a conversation holds at most {cap} messages")]
    TooManyMessages { cap: u32 },
    /// A message names a session that does not exist (Postgres' 23503, from the hosted
    /// `messages_guard` trigger).
    #[error(
        "insert on table \"messages\" violates foreign key: session {0:?} is neither a session nor a kiosk session"
    )]
    NoSuchSession(String),
    /// The concierge's reply queue is full (53400, configuration_limit_exceeded).
    #[error("the concierge's reply queue is full ({depth} messages wait): try again shortly")]
    ReplyQueueFull { depth: u32 },
    /// Too many `like`/`ilike` reads are already running or waiting for a pattern lane.
    #[error("too many pattern (like/ilike) reads at once: at most {limit} run or wait")]
    PatternReadsBusy { limit: usize },
    /// One user wrote more messages than the per-minute limit allows.
    #[error("too many messages from this user: retry after {retry_after_secs} s")]
    TooManyWrites { retry_after_secs: u64 },
    #[error("{0}")]
    Denied(#[from] Denied),
    /// A `reserve` or `cancel_reservation` call refused by a rule (P0001) or for an unknown
    /// row (P0002); nothing changed.
    #[error("{0}")]
    Refused(#[from] super::booking::Refusal),
    /// PATCH / DELETE without a filter (Supabase's safeupdate: 21000).
    #[error("{} requires a WHERE clause", .0.verb().to_uppercase())]
    Unfiltered(Action),
    /// A statement ran past the statement timeout (Postgres' 57014).
    #[error("canceling statement due to statement timeout")]
    StatementTimeout,
    /// The database reached its configured maximum size, or the disk is full (SQLITE_FULL;
    /// Postgres' 53100 `disk_full`).
    #[error("could not extend the database: the storage limit is reached")]
    StorageFull,
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("database worker failed: {0}")]
    Worker(String),
}

/// SQLite's interrupt only ever comes from the statement timeout (see [`super::deadline`]), and
/// `SQLITE_FULL` from `max_page_count` or a full disk: both get their own variant wherever
/// the error surfaces.
impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::OperationInterrupted) => DbError::StatementTimeout,
            Some(rusqlite::ErrorCode::DiskFull) => DbError::StorageFull,
            _ => DbError::Sqlite(e),
        }
    }
}

/// Maps SQLite constraint failures that slipped past validation (the CHECK constraints are the
/// backstop) to the Postgres-style variants.
pub fn classify(table: crate::schema::Table, e: rusqlite::Error) -> DbError {
    use rusqlite::ffi;
    if let rusqlite::Error::SqliteFailure(err, msg) = &e {
        let msg = msg.clone().unwrap_or_default();
        let column = || {
            table
                .columns()
                .iter()
                .find(|c| msg.contains(c.name))
                .map(|c| c.name)
                .unwrap_or("?")
        };
        match err.extended_code {
            ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE => {
                return DbError::Duplicate {
                    table: table.name(),
                    key: msg,
                };
            }
            ffi::SQLITE_CONSTRAINT_NOTNULL => {
                return DbError::NotNull {
                    table: table.name(),
                    column: column(),
                };
            }
            ffi::SQLITE_CONSTRAINT_CHECK => {
                return DbError::Check {
                    table: table.name(),
                    column: column(),
                    value: String::new(),
                };
            }
            _ => {}
        }
    }
    DbError::from(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::ffi;

    fn sqlite(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), None)
    }

    #[test]
    fn a_full_disk_and_an_interrupt_have_their_own_variants() {
        // SQLite reports ENOSPC from the disk as SQLITE_FULL, like max_page_count.
        assert!(matches!(
            DbError::from(sqlite(ffi::SQLITE_FULL)),
            DbError::StorageFull
        ));
        assert!(matches!(
            DbError::from(sqlite(ffi::SQLITE_INTERRUPT)),
            DbError::StatementTimeout
        ));
        assert!(matches!(
            classify(crate::schema::Table::Events, sqlite(ffi::SQLITE_FULL)),
            DbError::StorageFull
        ));
        assert!(matches!(
            DbError::from(sqlite(ffi::SQLITE_IOERR)),
            DbError::Sqlite(_)
        ));
    }
}
