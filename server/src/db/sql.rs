//! Builds parameterised SQL from validated queries. Identifiers come only from the static
//! schema ([`crate::schema`]); every value is a bound parameter.

use concierge_wire::filter::{Filter, FilterOp, FilterValue};
use rusqlite::types::Value as Sql;

use super::error::DbError;
use super::value;
use crate::schema::{ColType, ColumnDef, Table};

/// Most rows one read returns (Supabase's default `max_rows`).
pub const MAX_ROWS: u64 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub col: &'static ColumnDef,
    pub desc: bool,
    /// `None` = Postgres' default (NULLs last ascending, first descending).
    pub nulls_first: Option<bool>,
}

/// A PostgREST logic tree, `or=(…)` / `and=(…)`, nested and each negatable with `not.`.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// `or` (any item) rather than `and` (every item).
    pub any: bool,
    pub negated: bool,
    pub items: Vec<Cond>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Filter(Filter),
    Group(Group),
}

/// A read: `select` columns (empty = all), ANDed filters and logic groups, order, page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReadQuery {
    pub columns: Vec<&'static ColumnDef>,
    pub filters: Vec<Filter>,
    pub groups: Vec<Group>,
    pub order: Vec<Order>,
    pub limit: Option<u64>,
    pub offset: u64,
    /// Also count every matching row (`Prefer: count=exact`).
    pub count: bool,
}

pub fn quote(ident: &'static str) -> String {
    // Identifiers are our own lowercase snake_case names; quoting is belt and braces.
    format!("\"{ident}\"")
}

pub fn column_list(cols: &[&'static ColumnDef]) -> String {
    cols.iter()
        .map(|c| quote(c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn all_columns(table: Table) -> Vec<&'static ColumnDef> {
    table.columns().iter().collect()
}

/// Resolves a filter's column against the table.
pub fn column_of(table: Table, name: &str) -> Result<&'static ColumnDef, DbError> {
    table.column(name).ok_or_else(|| DbError::UnknownColumn {
        table: table.name(),
        column: name.chars().take(64).collect(),
    })
}

/// `WHERE` text (empty when no filters) plus its parameters, appended to `params`.
pub fn where_clause(
    table: Table,
    filters: &[Filter],
    params: &mut Vec<Sql>,
) -> Result<String, DbError> {
    conditions_clause(table, filters, &[], params)
}

/// [`where_clause`] for filters and logic groups, all ANDed.
pub fn conditions_clause(
    table: Table,
    filters: &[Filter],
    groups: &[Group],
    params: &mut Vec<Sql>,
) -> Result<String, DbError> {
    let mut parts = Vec::with_capacity(filters.len() + groups.len());
    for f in filters {
        parts.push(filter_sql(table, f, params)?);
    }
    for g in groups {
        parts.push(group_sql(table, g, params)?);
    }
    Ok(if parts.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", parts.join(" AND "))
    })
}

fn group_sql(table: Table, g: &Group, params: &mut Vec<Sql>) -> Result<String, DbError> {
    let mut parts = Vec::with_capacity(g.items.len());
    for item in &g.items {
        parts.push(match item {
            Cond::Filter(f) => filter_sql(table, f, params)?,
            Cond::Group(inner) => group_sql(table, inner, params)?,
        });
    }
    let joined = parts.join(if g.any { " OR " } else { " AND " });
    Ok(if g.negated {
        format!("NOT ({joined})")
    } else {
        format!("({joined})")
    })
}

/// One filter as SQL, its values appended to `params`.
fn filter_sql(table: Table, f: &Filter, params: &mut Vec<Sql>) -> Result<String, DbError> {
    let col = column_of(table, &f.column)?;
    let q = quote(col.name);
    let op_err = || DbError::Operator {
        ty: col.ty.pg_name(),
        op: f.op.as_str(),
    };
    let cmp = |sym: &str, v: &str, params: &mut Vec<Sql>| -> Result<String, DbError> {
        if col.ty == ColType::Jsonb {
            return Err(op_err());
        }
        params.push(value::from_text(col, v)?);
        Ok(format!("{q} {sym} ?"))
    };
    let part = match (f.op, &f.value) {
        (FilterOp::Eq, FilterValue::One(v)) => cmp("=", v, params)?,
        (FilterOp::Neq, FilterValue::One(v)) => cmp("<>", v, params)?,
        (FilterOp::Lt, FilterValue::One(v)) => cmp("<", v, params)?,
        (FilterOp::Lte, FilterValue::One(v)) => cmp("<=", v, params)?,
        (FilterOp::Gt, FilterValue::One(v)) => cmp(">", v, params)?,
        (FilterOp::Gte, FilterValue::One(v)) => cmp(">=", v, params)?,
        (FilterOp::In, FilterValue::List(vs)) => {
            if col.ty == ColType::Jsonb {
                return Err(op_err());
            }
            if vs.is_empty() {
                // `in.()` matches nothing, as in Postgres.
                "0".to_owned()
            } else {
                for v in vs {
                    params.push(value::from_text(col, v)?);
                }
                format!("{q} IN ({})", vec!["?"; vs.len()].join(", "))
            }
        }
        (FilterOp::Like | FilterOp::ILike, FilterValue::One(v)) => {
            // Postgres has LIKE for text only (`integer ~~ unknown` does not exist).
            if col.ty != ColType::Text {
                return Err(op_err());
            }
            let pattern = super::like::from_postgrest(v);
            if !super::like::is_valid(&pattern) {
                return Err(DbError::LikePattern);
            }
            params.push(Sql::Text(pattern));
            params.push(Sql::Integer((f.op == FilterOp::ILike) as i64));
            format!("{}(?, {q}, ?)", super::like::FUNCTION)
        }
        (FilterOp::Is, FilterValue::Null) => format!("{q} IS NULL"),
        (FilterOp::Is, FilterValue::Bool(b)) => {
            if col.ty != ColType::Bool {
                return Err(op_err());
            }
            params.push(Sql::Integer(*b as i64));
            format!("{q} = ?")
        }
        _ => return Err(op_err()),
    };
    // SQL's three-valued NOT: a NULL cell satisfies neither `x = v` nor `NOT (x = v)`,
    // as in PostgREST over Postgres.
    Ok(if f.negated {
        format!("NOT ({part})")
    } else {
        part
    })
}

/// [`conditions_clause`] for the caller's filters and groups, ANDed with the authorization
/// layer's row scope (`(a AND b) OR (c)`), so no caller condition (an `or=` group included)
/// can reach rows outside the scope.
pub fn scoped_where_clause(
    table: Table,
    filters: &[Filter],
    groups: &[Group],
    scope: &crate::authz::RowScope,
    params: &mut Vec<Sql>,
) -> Result<String, DbError> {
    let base = conditions_clause(table, filters, groups, params)?;
    let scope_sql = match scope {
        crate::authz::RowScope::All => return Ok(base),
        crate::authz::RowScope::AnyOf(branches) => {
            let mut alts = Vec::with_capacity(branches.len());
            for conj in branches {
                let w = where_clause(table, conj, params)?;
                // An empty conjunction is "true"; an empty list of branches is "false".
                alts.push(match w.strip_prefix(" WHERE ") {
                    Some(cond) => format!("({cond})"),
                    None => "1".to_owned(),
                });
            }
            if alts.is_empty() {
                "0".to_owned()
            } else {
                alts.join(" OR ")
            }
        }
        crate::authz::RowScope::Through {
            column,
            table: other,
            filters: conj,
        } => {
            let col = column_of(table, column)?;
            let w = where_clause(*other, conj, params)?;
            format!(
                "{} IN (SELECT {} FROM {}{w})",
                quote(col.name),
                quote(other.pk().name),
                quote(other.name())
            )
        }
    };
    Ok(match base.strip_prefix(" WHERE ") {
        Some(cond) => format!(" WHERE ({cond}) AND ({scope_sql})"),
        None => format!(" WHERE ({scope_sql})"),
    })
}

pub fn order_clause(order: &[Order]) -> String {
    if order.is_empty() {
        return String::new();
    }
    let terms: Vec<String> = order
        .iter()
        .map(|o| {
            let nulls_first = o.nulls_first.unwrap_or(o.desc);
            format!(
                "{} {} NULLS {}",
                quote(o.col.name),
                if o.desc { "DESC" } else { "ASC" },
                if nulls_first { "FIRST" } else { "LAST" }
            )
        })
        .collect();
    format!(" ORDER BY {}", terms.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rest(c: &str, v: &str) -> Filter {
        Filter::parse_rest(c, v).unwrap()
    }

    #[test]
    fn where_binds_every_value() {
        let mut p = Vec::new();
        let w = where_clause(
            Table::Events,
            &[
                rest("title", "eq.x' OR '1'='1"),
                rest("distance_km", "lt.5"),
                rest("category", "in.(a,b)"),
                rest("ends_at", "is.null"),
            ],
            &mut p,
        )
        .unwrap();
        assert_eq!(
            w,
            " WHERE \"title\" = ? AND \"distance_km\" < ? AND \"category\" IN (?, ?) AND \"ends_at\" IS NULL"
        );
        assert_eq!(p[0], Sql::Text("x' OR '1'='1".into()));
        assert_eq!(p[1], Sql::Real(5.0));
    }

    #[test]
    fn row_scope_is_anded_as_or_of_ands() {
        use crate::authz::RowScope;
        let mut p = Vec::new();
        let scope = RowScope::AnyOf(vec![
            vec![rest("status", "eq.pending")],
            vec![
                rest("staff_id", "eq.a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                rest("kind", "eq.chat"),
            ],
        ]);
        let w = scoped_where_clause(
            Table::Sessions,
            &[rest("status", "neq.live")],
            &[],
            &scope,
            &mut p,
        )
        .unwrap();
        assert_eq!(
            w,
            " WHERE (\"status\" <> ?) AND ((\"status\" = ?) OR (\"staff_id\" = ? AND \"kind\" = ?))"
        );
        assert_eq!(p.len(), 4);
        let mut p = Vec::new();
        assert_eq!(
            scoped_where_clause(Table::Sessions, &[], &[], &RowScope::AnyOf(vec![]), &mut p)
                .unwrap(),
            " WHERE (0)"
        );
    }

    #[test]
    fn a_scope_through_another_table_is_a_subquery() {
        use crate::authz::RowScope;
        let mut p = Vec::new();
        let scope = RowScope::Through {
            column: "session_id",
            table: Table::Sessions,
            filters: vec![rest(
                "customer_id",
                "eq.a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            )],
        };
        let w = scoped_where_clause(
            Table::Messages,
            &[rest("body", "eq.hi")],
            &[],
            &scope,
            &mut p,
        )
        .unwrap();
        assert_eq!(
            w,
            " WHERE (\"body\" = ?) AND (\"session_id\" IN (SELECT \"id\" FROM \"sessions\" WHERE \"customer_id\" = ?))"
        );
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn rejects_unknown_columns_and_bad_types() {
        let mut p = Vec::new();
        assert!(matches!(
            where_clause(Table::Events, &[rest("nope", "eq.1")], &mut p),
            Err(DbError::UnknownColumn { .. })
        ));
        assert!(matches!(
            where_clause(Table::Events, &[rest("distance_km", "gt.far")], &mut p),
            Err(DbError::InvalidInput { .. })
        ));
        assert!(matches!(
            where_clause(Table::Events, &[rest("title", "is.true")], &mut p),
            Err(DbError::Operator { .. })
        ));
        assert!(matches!(
            where_clause(Table::KioskResults, &[rest("results", "eq.{}")], &mut p),
            Err(DbError::Operator { .. })
        ));
    }
}
