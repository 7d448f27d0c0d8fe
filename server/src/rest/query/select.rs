//! `select` and `order`: which columns come back, and in what order.

use super::bounds::{MAX_ORDER_TERMS, MAX_SELECT_COLUMNS, check_list};
use super::column;
use crate::db::{ColumnDef, Order, Table};
use crate::rest::error::{RestError, truncate};

pub fn parse_select(table: Table, s: &str) -> Result<Vec<&'static ColumnDef>, RestError> {
    check_list("select", s, MAX_SELECT_COLUMNS)?;
    let mut out = Vec::new();
    for item in s.split(',') {
        let item = item.trim();
        if item == "*" {
            return if s.split(',').count() == 1 {
                Ok(Vec::new())
            } else {
                Err(RestError::bad_query(
                    "select",
                    s,
                    "mixing * with columns, embedding and aliases are not supported",
                ))
            };
        }
        if item.is_empty() || !item.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(RestError::bad_query(
                "select",
                s,
                "expected * or a comma-separated list of column names (no embedding, aliases or casts)",
            ));
        }
        let c = column(table, item)?;
        if !out.contains(&c) {
            out.push(c);
        }
    }
    Ok(out)
}

pub fn parse_order(table: Table, s: &str) -> Result<Vec<Order>, RestError> {
    check_list("order", s, MAX_ORDER_TERMS)?;
    let mut out = Vec::new();
    for term in s.split(',') {
        let mut parts = term.trim().split('.');
        let name = parts.next().unwrap_or_default();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(RestError::bad_query(
                "order",
                s,
                "expected column[.asc|.desc][.nullsfirst|.nullslast]",
            ));
        }
        let col = column(table, name)?;
        let mut o = Order {
            col,
            desc: false,
            nulls_first: None,
        };
        let mut seen_dir = false;
        let mut seen_nulls = false;
        for m in parts {
            match m {
                "asc" | "desc" if !seen_dir && !seen_nulls => {
                    o.desc = m == "desc";
                    seen_dir = true;
                }
                "nullsfirst" | "nullslast" if !seen_nulls => {
                    o.nulls_first = Some(m == "nullsfirst");
                    seen_nulls = true;
                }
                _ => {
                    return Err(RestError::bad_query(
                        "order",
                        s,
                        format!("unexpected modifier {:?}", truncate(m)),
                    ));
                }
            }
        }
        out.push(o);
    }
    Ok(out)
}
