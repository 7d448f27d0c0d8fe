//! Parses PostgREST query strings (`select`, filters, `order`, `limit`, `offset`) and the
//! headers that shape a request (`Prefer`, `Accept`, `Range`) into typed values. Column names
//! must be columns of the table; anything else is an error, never SQL.

use concierge_wire::filter::{Filter, FilterError};

use super::error::RestError;
use crate::db::sql::column_of;
use crate::db::{ColumnDef, Order, ReadQuery, Table};
use crate::rest::error::truncate;

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

pub fn parse_select(table: Table, s: &str) -> Result<Vec<&'static ColumnDef>, RestError> {
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

fn parse_count(what: &str, s: &str) -> Result<u64, RestError> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| RestError::bad_query(what, s, "expected a non-negative integer"))
}

fn filter_error(value: &str, e: FilterError) -> RestError {
    RestError::bad_query("filter", value, e.to_string())
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
    for (k, v) in pairs {
        match k.as_str() {
            "select" => q.columns = parse_select(table, v)?,
            "order" => q.order = parse_order(table, v)?,
            "limit" => q.limit = Some(parse_count("limit", v)?),
            "offset" => q.offset = parse_count("offset", v)?,
            k if RESERVED.contains(&k) => {}
            col => {
                if matches!(col, "or" | "and" | "not") {
                    return Err(RestError::bad_query(
                        "logic tree",
                        v,
                        "or=/and= groups are not supported by this server",
                    ));
                }
                let f = Filter::parse_rest(col, v).map_err(|e| match e {
                    FilterError::BadColumn(_) | FilterError::EmptyColumn => {
                        unknown_column(table, col)
                    }
                    e => filter_error(v, e),
                })?;
                column(table, &f.column)?;
                q.filters.push(f);
            }
        }
    }
    Ok(q)
}

/// `Prefer` header preferences that matter here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prefer {
    pub representation: bool,
    pub count_exact: bool,
}

pub fn parse_prefer<'a>(values: impl Iterator<Item = &'a str>) -> Prefer {
    let mut p = Prefer::default();
    for token in values.flat_map(|v| v.split(',')) {
        match token.trim() {
            "return=representation" => p.representation = true,
            "return=minimal" | "return=headers-only" => p.representation = false,
            "count=exact" | "count=planned" | "count=estimated" => p.count_exact = true,
            _ => {}
        }
    }
    p
}

/// `Range: 0-19` → (offset 0, limit 20). `None` when absent or unparsable (PostgREST ignores those).
pub fn parse_range(s: &str) -> Option<(u64, Option<u64>)> {
    let s = s.trim().strip_prefix("items=").unwrap_or(s.trim());
    let (a, b) = s.split_once('-')?;
    let start: u64 = a.trim().parse().ok()?;
    if b.trim().is_empty() {
        return Some((start, None));
    }
    let end: u64 = b.trim().parse().ok()?;
    let len = end.checked_sub(start)?.checked_add(1)?;
    Some((start, Some(len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }

    fn parse(q: &str) -> Result<ReadQuery, RestError> {
        parse_query(Table::Events, &pairs(q))
    }

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
            ("or=(a.eq.1,b.eq.2)", "PGRST100"),
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

    #[test]
    fn prefer_and_range() {
        let p = parse_prefer(["return=representation, count=exact"].into_iter());
        assert!(p.representation && p.count_exact);
        assert!(!parse_prefer(["return=minimal"].into_iter()).representation);
        assert_eq!(parse_range("0-19"), Some((0, Some(20))));
        assert_eq!(parse_range("items=5-"), Some((5, None)));
        assert_eq!(parse_range("9-1"), None);
        assert_eq!(parse_range("x"), None);
        assert_eq!(parse_range(&format!("0-{}", u64::MAX)), None);
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(k in ".{0,40}", v in ".{0,80}") {
            let _ = parse_query(Table::Events, &[(k, v)]);
        }
    }
}
