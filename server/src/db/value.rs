//! Conversions between JSON (the wire), filter text (query strings) and SQLite values, always
//! driven by the column's declared type.

use rusqlite::types::Value as Sql;
use serde_json::{Map, Number, Value};

use super::error::DbError;
use crate::schema::{ColType, ColumnDef};
use crate::time_fmt;

fn invalid(col: &ColumnDef, value: &str) -> DbError {
    DbError::InvalidInput {
        ty: col.ty.pg_name(),
        value: value.chars().take(80).collect(),
    }
}

fn parse_uuid(col: &ColumnDef, s: &str) -> Result<String, DbError> {
    uuid::Uuid::parse_str(s.trim())
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| invalid(col, s))
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
        "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// A filter operand (query-string text) as the SQLite value the column stores.
pub fn from_text(col: &ColumnDef, s: &str) -> Result<Sql, DbError> {
    Ok(match col.ty {
        ColType::Text => Sql::Text(s.to_owned()),
        ColType::Uuid => Sql::Text(parse_uuid(col, s)?),
        ColType::Timestamptz => Sql::Text(time_fmt::canonical(s).ok_or_else(|| invalid(col, s))?),
        ColType::Float8 => {
            let f: f64 = s.trim().parse().map_err(|_| invalid(col, s))?;
            if !f.is_finite() {
                return Err(invalid(col, s));
            }
            Sql::Real(f)
        }
        ColType::Bool => Sql::Integer(parse_bool(s).ok_or_else(|| invalid(col, s))? as i64),
        ColType::Int4 => Sql::Integer(s.trim().parse::<i32>().map_err(|_| invalid(col, s))?.into()),
        ColType::Jsonb => {
            let v: Value = serde_json::from_str(s).map_err(|_| invalid(col, s))?;
            Sql::Text(v.to_string())
        }
    })
}

/// A written JSON value as the SQLite value the column stores. `Null` passes through; the
/// NOT NULL check happens in the write path, which knows defaults.
pub fn from_json(col: &ColumnDef, v: &Value) -> Result<Sql, DbError> {
    if v.is_null() {
        return Ok(Sql::Null);
    }
    if col.ty == ColType::Jsonb {
        return Ok(Sql::Text(v.to_string()));
    }
    match v {
        Value::String(s) => from_text(col, s),
        Value::Number(n) => match col.ty {
            ColType::Float8 => n
                .as_f64()
                .map(Sql::Real)
                .ok_or_else(|| invalid(col, &n.to_string())),
            ColType::Int4 => n
                .as_i64()
                .and_then(|i| i32::try_from(i).ok())
                .map(|i| Sql::Integer(i.into()))
                .ok_or_else(|| invalid(col, &n.to_string())),
            // PostgREST coerces JSON scalars into text columns.
            ColType::Text => Ok(Sql::Text(n.to_string())),
            _ => Err(invalid(col, &n.to_string())),
        },
        Value::Bool(b) => match col.ty {
            ColType::Bool => Ok(Sql::Integer(*b as i64)),
            ColType::Text => Ok(Sql::Text(b.to_string())),
            _ => Err(invalid(col, &b.to_string())),
        },
        other => Err(invalid(col, &other.to_string())),
    }
}

/// A stored SQLite value as JSON: numbers as numbers, booleans as booleans, jsonb as JSON.
pub fn to_json(col: &ColumnDef, v: Sql) -> Value {
    match (col.ty, v) {
        (_, Sql::Null) => Value::Null,
        (ColType::Bool, Sql::Integer(i)) => Value::Bool(i != 0),
        (ColType::Float8, Sql::Real(f)) => Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        (ColType::Float8, Sql::Integer(i)) => Value::Number(i.into()),
        (ColType::Jsonb, Sql::Text(s)) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
        (_, Sql::Text(s)) => Value::String(s),
        (_, Sql::Integer(i)) => Value::Number(i.into()),
        (_, Sql::Real(f)) => Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        (_, Sql::Blob(_)) => Value::Null,
    }
}

/// Reads the columns `cols` (in order) of one result row into a JSON object.
pub fn row_to_json(
    row: &rusqlite::Row<'_>,
    cols: &[&'static ColumnDef],
) -> rusqlite::Result<Map<String, Value>> {
    let mut m = Map::with_capacity(cols.len());
    for (i, c) in cols.iter().enumerate() {
        let v: Sql = row.get(i)?;
        m.insert(c.name.to_owned(), to_json(c, v));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Table;
    use serde_json::json;

    #[test]
    fn typed_conversions() {
        let t = Table::Events;
        let c = |n| t.column(n).unwrap();
        assert_eq!(
            from_json(c("distance_km"), &json!(1.5)).unwrap(),
            Sql::Real(1.5)
        );
        assert_eq!(
            from_json(c("distance_km"), &json!("2")).unwrap(),
            Sql::Real(2.0)
        );
        assert!(from_json(c("distance_km"), &json!("far")).is_err());
        assert!(from_text(c("distance_km"), "NaN").is_err());
        assert_eq!(
            from_json(c("is_hotel_service"), &json!(true)).unwrap(),
            Sql::Integer(1)
        );
        assert!(from_json(c("is_hotel_service"), &json!(3)).is_err());
        assert!(from_json(c("id"), &json!("not-a-uuid")).is_err());
        assert_eq!(
            from_text(c("id"), "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11").unwrap(),
            Sql::Text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into())
        );
        assert_eq!(
            from_text(c("starts_at"), "2026-01-01T05:30:00+05:30").unwrap(),
            Sql::Text("2026-01-01T00:00:00.000Z".into())
        );
        assert_eq!(
            to_json(c("is_hotel_service"), Sql::Integer(0)),
            json!(false)
        );
        let r = Table::KioskResults.column("results").unwrap();
        assert_eq!(
            from_json(r, &json!({"a": [1]})).unwrap(),
            Sql::Text(r#"{"a":[1]}"#.into())
        );
        assert_eq!(
            to_json(r, Sql::Text(r#"{"a":[1]}"#.into())),
            json!({"a": [1]})
        );
        assert!(from_json(c("title"), &json!({"x": 1})).is_err());
    }
}
