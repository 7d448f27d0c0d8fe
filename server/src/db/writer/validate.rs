//! Checks a write makes against the schema before SQLite sees it (the table's CHECK and NOT NULL
//! constraints stay as the backstop).

use rusqlite::types::Value as Sql;

use crate::db::{ColumnDef, DbError, Row, Table, sql, value};

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

/// `SET` terms and their parameters for the columns `patch` names, in column order.
pub(super) fn set_clause(
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
pub(super) fn known_keys(table: Table, obj: &Row) -> Result<(), DbError> {
    match obj.keys().find(|k| table.column(k).is_none()) {
        Some(k) => Err(DbError::UnknownWriteColumn {
            table: table.name(),
            column: k.chars().take(64).collect(),
        }),
        None => Ok(()),
    }
}
