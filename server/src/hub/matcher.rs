//! Subscription filters compiled against the schema, evaluated in memory on committed rows
//! with the column's type (numbers as numbers, timestamps and UUIDs in canonical form).

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use concierge_wire::filter::{Filter, FilterOp, FilterValue};
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value};

use crate::db::{ColType, ColumnDef, Table, value};

/// A typed, comparable cell value. Floats are finite (the parsers refuse NaN/inf).
#[derive(Debug, Clone)]
pub enum Scalar {
    Num(f64),
    Bool(bool),
    Text(String),
}

impl Scalar {
    fn norm(f: f64) -> f64 {
        if f == 0.0 { 0.0 } else { f }
    }

    fn cmp(&self, other: &Scalar) -> Option<Ordering> {
        match (self, other) {
            (Scalar::Num(a), Scalar::Num(b)) => a.partial_cmp(b),
            (Scalar::Bool(a), Scalar::Bool(b)) => Some(a.cmp(b)),
            (Scalar::Text(a), Scalar::Text(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }

    /// The cell of `col` in a stored row (`None` for NULL, which matches no operator).
    pub fn from_row(col: &ColumnDef, row: &Map<String, Value>) -> Option<Scalar> {
        match (col.ty, row.get(col.name)?) {
            (ColType::Float8 | ColType::Int4, v) => {
                v.as_f64().map(|f| Scalar::Num(Scalar::norm(f)))
            }
            (ColType::Bool, v) => v.as_bool().map(Scalar::Bool),
            (ColType::Jsonb, _) => None,
            (_, Value::String(s)) => Some(Scalar::Text(s.clone())),
            _ => None,
        }
    }

    /// A filter operand, parsed as the column's type (the same conversion SQL filters use).
    pub fn from_text(col: &ColumnDef, s: &str) -> Result<Scalar, String> {
        match value::from_text(col, s).map_err(|e| e.to_string())? {
            Sql::Real(f) => Ok(Scalar::Num(Scalar::norm(f))),
            Sql::Integer(i) if col.ty == ColType::Bool => Ok(Scalar::Bool(i != 0)),
            Sql::Integer(i) => Ok(Scalar::Num(i as f64)),
            Sql::Text(t) => Ok(Scalar::Text(t)),
            _ => Err(format!("unsupported value for column {}", col.name)),
        }
    }
}

impl PartialEq for Scalar {
    fn eq(&self, other: &Scalar) -> bool {
        self.cmp(other) == Some(Ordering::Equal)
    }
}
impl Eq for Scalar {}

impl Hash for Scalar {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self {
            Scalar::Num(f) => (0u8, f.to_bits()).hash(h),
            Scalar::Bool(b) => (1u8, b).hash(h),
            Scalar::Text(s) => (2u8, s).hash(h),
        }
    }
}

/// A compiled `column=op.value` realtime filter.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFilter {
    pub col: &'static ColumnDef,
    pub op: FilterOp,
    pub operands: Vec<Scalar>,
}

impl RowFilter {
    pub fn compile(table: Table, f: &Filter) -> Result<RowFilter, String> {
        let col = table.column(&f.column).ok_or_else(|| {
            format!(
                "column {} does not exist in table {}",
                f.column,
                table.name()
            )
        })?;
        if col.ty == ColType::Jsonb {
            return Err(format!("column {} (jsonb) cannot be filtered", col.name));
        }
        if !f.op.is_realtime() || f.negated {
            let op = if f.negated { "not" } else { f.op.as_str() };
            return Err(format!("`{op}` is not supported in realtime filters"));
        }
        let operands = match &f.value {
            FilterValue::One(v) => vec![Scalar::from_text(col, v)?],
            FilterValue::List(vs) => vs
                .iter()
                .map(|v| Scalar::from_text(col, v))
                .collect::<Result<_, _>>()?,
            FilterValue::Null | FilterValue::Bool(_) => {
                return Err("`is` is not supported in realtime filters".into());
            }
        };
        Ok(RowFilter {
            col,
            op: f.op,
            operands,
        })
    }

    /// `Some(value)` when this is an equality filter, which the fan-out indexes.
    pub fn eq_key(&self) -> Option<&Scalar> {
        match (self.op, self.operands.as_slice()) {
            (FilterOp::Eq, [v]) => Some(v),
            _ => None,
        }
    }

    pub fn matches(&self, row: &Map<String, Value>) -> bool {
        let Some(cell) = Scalar::from_row(self.col, row) else {
            return false;
        };
        let first = self.operands.first();
        let ord = || first.and_then(|v| cell.cmp(v));
        match self.op {
            FilterOp::Eq => ord() == Some(Ordering::Equal),
            FilterOp::Neq => matches!(ord(), Some(Ordering::Less | Ordering::Greater)),
            FilterOp::Lt => ord() == Some(Ordering::Less),
            FilterOp::Lte => matches!(ord(), Some(Ordering::Less | Ordering::Equal)),
            FilterOp::Gt => ord() == Some(Ordering::Greater),
            FilterOp::Gte => matches!(ord(), Some(Ordering::Greater | Ordering::Equal)),
            FilterOp::In => self.operands.contains(&cell),
            // Refused by `compile`; never reached.
            FilterOp::Is | FilterOp::Like | FilterOp::ILike => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rf(t: Table, s: &str) -> RowFilter {
        RowFilter::compile(t, &Filter::parse_realtime(s).unwrap()).unwrap()
    }

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn typed_matching() {
        let r = row(
            json!({"distance_km": 2.5, "is_hotel_service": true, "title": "Jazz", "starts_at": "2026-01-01T10:00:00.000Z", "venue": null}),
        );
        assert!(rf(Table::Events, "distance_km=lt.10").matches(&r));
        // Numeric, not text, comparison: "10" < "2.5" as text but 10 > 2.5 as numbers.
        assert!(!rf(Table::Events, "distance_km=gt.10").matches(&r));
        assert!(rf(Table::Events, "distance_km=eq.2.50").matches(&r));
        assert!(rf(Table::Events, "is_hotel_service=eq.true").matches(&r));
        assert!(rf(Table::Events, "title=in.(Comedy,Jazz)").matches(&r));
        assert!(rf(Table::Events, "title=neq.Comedy").matches(&r));
        assert!(
            !rf(Table::Events, "venue=neq.x").matches(&r),
            "NULL matches nothing"
        );
        // Timestamps compare as instants, whatever offset the filter used.
        assert!(rf(Table::Events, "starts_at=eq.2026-01-01T15:30:00+05:30").matches(&r));
        assert!(rf(Table::Events, "starts_at=gte.2026-01-01T09:00:00Z").matches(&r));
        assert!(!rf(Table::Events, "starts_at=gt.2026-01-01T10:00:00Z").matches(&r));
        // UUIDs are case-insensitive.
        let s = row(json!({"customer_id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}));
        assert!(
            rf(
                Table::Sessions,
                "customer_id=eq.A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"
            )
            .matches(&s)
        );
    }

    #[test]
    fn compile_errors() {
        let c = |t: Table, s: &str| RowFilter::compile(t, &Filter::parse_realtime(s).unwrap());
        assert!(c(Table::Events, "nope=eq.1").is_err());
        assert!(c(Table::Events, "distance_km=eq.far").is_err());
        assert!(c(Table::Events, "id=eq.not-a-uuid").is_err());
        assert!(c(Table::KioskResults, "results=eq.{}").is_err());
        assert!(c(Table::KioskResults, "session_id=eq.anything").is_ok());
    }
}
