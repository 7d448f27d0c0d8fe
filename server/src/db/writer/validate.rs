//! Checks a write makes against the schema before SQLite sees it (the table's CHECK and NOT NULL
//! constraints stay as the backstop).

use rusqlite::types::Value as Sql;

use crate::db::{ColumnDef, DbError, Row, Table};

pub(super) fn check_value(table: Table, col: &ColumnDef, v: &Sql) -> Result<(), DbError> {
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

/// Rejects keys that are not columns of `table`.
pub(super) fn known_keys(table: Table, obj: &Row) -> Result<(), DbError> {
    match obj.keys().find(|k| table.column(k).is_none()) {
        Some(k) => Err(DbError::UnknownWriteColumn {
            table: table.name(),
            column: k.chars().take(64).collect(),
        }),
        None => Ok(()),
    }
}
