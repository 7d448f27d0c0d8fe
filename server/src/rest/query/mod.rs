//! Parses PostgREST query strings (`select`, filters, `order`, `limit`, `offset`) and the
//! headers that shape a request (`Prefer`, `Accept`, `Range`) into typed values. Column names
//! must be columns of the table; anything else is an error, never SQL.

pub mod bounds;
mod headers;
mod logic;
mod select;

use concierge_wire::filter::{Filter, FilterError};

use crate::db::sql::column_of;
use crate::db::{ColumnDef, ReadQuery, Table};
use crate::rest::error::{RestError, truncate};
use logic::{MAX_GROUP_ITEMS, group_kind, parse_group};

pub use headers::{Prefer, parse_prefer, parse_range};
pub use select::{parse_order, parse_select};

/// At most this many query parameters per request (a cheap guard against abuse).
pub const MAX_PARAMS: usize = 64;

/// Query parameters that are not filters.
const RESERVED: &[&str] = &[
    "select",
    "order",
    "limit",
    "offset",
    "columns",
    "on_conflict",
    "apikey",
];

fn unknown_column(table: Table, name: &str) -> RestError {
    RestError::from_db(
        crate::db::DbError::UnknownColumn {
            table: table.name(),
            column: truncate(name),
        },
        &crate::authz::Principal::ServiceRole,
    )
}

fn column(table: Table, name: &str) -> Result<&'static ColumnDef, RestError> {
    column_of(table, name).map_err(|_| unknown_column(table, name))
}

fn parse_count(what: &str, s: &str) -> Result<u64, RestError> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| RestError::bad_query(what, s, "expected a non-negative integer"))
}

/// Parses one `column` + `op.value` filter on `table`; `shown` is what an error quotes.
fn parse_filter(table: Table, col: &str, op_value: &str, shown: &str) -> Result<Filter, RestError> {
    bounds::check_filter_value(op_value, shown)?;
    let f = Filter::parse_rest(col, op_value).map_err(|e| match e {
        FilterError::BadColumn(_) | FilterError::EmptyColumn => unknown_column(table, col),
        e => RestError::bad_query("filter", shown, e.to_string()),
    })?;
    column(table, &f.column)?;
    bounds::check_pattern(&f, shown)?;
    Ok(f)
}

/// Parses the decoded query pairs of a request on `table`.
pub fn parse_query(table: Table, pairs: &[(String, String)]) -> Result<ReadQuery, RestError> {
    if pairs.len() > MAX_PARAMS {
        return Err(RestError::bad_query(
            "query",
            "",
            format!("at most {MAX_PARAMS} query parameters"),
        ));
    }
    let mut q = ReadQuery::default();
    let mut budget = MAX_GROUP_ITEMS;
    for (k, v) in pairs {
        match k.as_str() {
            "select" => q.columns = parse_select(table, v)?,
            "order" => q.order = parse_order(table, v)?,
            "limit" => q.limit = Some(parse_count("limit", v)?),
            "offset" => q.offset = parse_count("offset", v)?,
            k if RESERVED.contains(&k) => {}
            k if group_kind(k).is_some() => {
                if let Some((any, negated)) = group_kind(k) {
                    q.groups
                        .push(parse_group(table, any, negated, v.trim(), 1, &mut budget)?);
                }
            }
            col => {
                q.filters.push(parse_filter(table, col, v, v)?);
            }
        }
    }
    Ok(q)
}

/// Parses a query string on `events`, for the tests of this module and its children.
#[cfg(test)]
fn parse_events(q: &str) -> Result<ReadQuery, RestError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(q.as_bytes()).into_owned().collect();
    parse_query(Table::Events, &pairs)
}

#[cfg(test)]
mod tests {
    use super::parse_events as parse;
    use super::*;

    #[test]
    fn parses_a_typical_query() {
        let q = parse("select=id,title&category=in.(comedy,music)&distance_km=lte.5&order=is_hotel_service.desc,distance_km.asc.nullslast&limit=10&offset=5").unwrap();
        assert_eq!(
            q.columns.iter().map(|c| c.name).collect::<Vec<_>>(),
            ["id", "title"]
        );
        assert_eq!(q.filters.len(), 2);
        assert_eq!(q.order.len(), 2);
        assert!(q.order[0].desc);
        assert_eq!(q.order[1].nulls_first, Some(false));
        assert_eq!((q.limit, q.offset), (Some(10), 5));
        assert!(parse("select=*").unwrap().columns.is_empty());
    }

    #[test]
    fn hostile_input_is_refused_not_interpolated() {
        let cases: &[(&str, &str)] = &[
            ("select=id;drop table events", "PGRST100"),
            ("select=id,(select 1)", "PGRST100"),
            ("select=id::text", "PGRST100"),
            ("select=*,hotels(*)", "PGRST100"),
            ("select=nope", "42703"),
            ("title%22%3Bdrop%20table%20events--=eq.1", "42703"),
            ("order=title;drop table events", "PGRST100"),
            ("order=title.sideways", "PGRST100"),
            ("order=title.desc.desc", "PGRST100"),
            ("order=nope.asc", "42703"),
            ("order=", "PGRST100"),
            ("limit=-1", "PGRST100"),
            ("limit=1;drop", "PGRST100"),
            ("offset=abc", "PGRST100"),
            ("title=regex.*x*", "PGRST100"),
            ("title=eq", "PGRST100"),
            ("title=not.eq", "PGRST100"),
            ("title=not.not.eq.x", "PGRST100"),
            ("or=(title.eq.1,title.regex.2)", "PGRST100"),
            ("or=(a.eq.1,b.eq.2)", "42703"),
            ("category=in.(a,b", "PGRST100"),
            ("nope=eq.1", "42703"),
        ];
        for (q, code) in cases {
            let e = parse(q).expect_err(q);
            assert_eq!(e.code, *code, "{q}: {e:?}");
        }
        let many = format!(
            "category=in.({})",
            (0..101)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(parse(&many).unwrap_err().code, "PGRST100");
        let params = (0..65)
            .map(|i| format!("title=eq.{i}"))
            .collect::<Vec<_>>()
            .join("&");
        assert_eq!(parse(&params).unwrap_err().code, "PGRST100");
        // Quotes and SQL in values are just values (bound later).
        let q = parse("title=eq.x'%20OR%20'1'='1").unwrap();
        assert_eq!(q.filters[0].to_string(), "title=eq.x' OR '1'='1");
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(k in ".{0,40}", v in ".{0,80}") {
            let _ = parse_query(Table::Events, &[(k, v)]);
        }
    }
}
