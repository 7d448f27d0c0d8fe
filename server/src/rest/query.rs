//! Parses PostgREST query strings (`select`, filters, `order`, `limit`, `offset`) and the
//! headers that shape a request (`Prefer`, `Accept`, `Range`) into typed values. Column names
//! must be columns of the table; anything else is an error, never SQL.

use concierge_wire::filter::{Filter, FilterError};

use super::error::RestError;
use crate::db::sql::column_of;
use crate::db::{ColumnDef, Cond, Group, Order, ReadQuery, Table};
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

/// Deepest nesting of `or(…)` / `and(…)` accepted, and most conditions in one tree: enough for
/// any real query, and a hostile one cannot recurse the parser (or SQLite) into the ground.
const MAX_GROUP_DEPTH: usize = 8;
const MAX_GROUP_ITEMS: usize = 100;

/// `or` / `and` / `not.or` / `not.and`: a logic-tree key (or nested prefix) and its meaning.
fn group_kind(key: &str) -> Option<(bool, bool)> {
    let (negated, key) = match key.strip_prefix("not.") {
        Some(k) => (true, k),
        None => (false, key),
    };
    match key {
        "or" => Some((true, negated)),
        "and" => Some((false, negated)),
        _ => None,
    }
}

/// Splits `a,b(c,d),"e,f"` at its top-level commas.
fn split_top(s: &str) -> Option<Vec<&str>> {
    let (mut depth, mut quoted, mut escaped, mut start) = (0usize, false, false, 0usize);
    let mut out = Vec::new();
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth = depth.checked_sub(1)?,
            ',' if !quoted && depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted || depth != 0 {
        return None;
    }
    out.push(&s[start..]);
    Some(out)
}

/// Parses the `(…)` of `or=(…)` (PostgREST's logic trees: `col.op.value` items, nested
/// `or(…)` / `and(…)`, any of them negatable with `not.`).
fn parse_group(
    table: Table,
    any: bool,
    negated: bool,
    list: &str,
    depth: usize,
    budget: &mut usize,
) -> Result<Group, RestError> {
    let bad = |why: &str| RestError::bad_query("logic tree", list, why.to_owned());
    if depth > MAX_GROUP_DEPTH {
        return Err(bad("nested too deeply"));
    }
    let inner = list
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad("expected (condition,condition,…)"))?;
    let parts = split_top(inner).ok_or_else(|| bad("unbalanced parentheses or quotes"))?;
    let mut items = Vec::with_capacity(parts.len());
    for part in parts {
        let part = part.trim();
        *budget = budget
            .checked_sub(1)
            .ok_or_else(|| bad("too many conditions"))?;
        if let Some(open) = part.find('(')
            && let Some((any, negated)) = group_kind(&part[..open])
        {
            let g = parse_group(table, any, negated, &part[open..], depth + 1, budget)?;
            items.push(Cond::Group(g));
            continue;
        }
        let (col, op_value) = part
            .split_once('.')
            .ok_or_else(|| bad("expected column.operator.value"))?;
        let mut f = Filter::parse_rest(col, op_value).map_err(|e| match e {
            FilterError::BadColumn(_) | FilterError::EmptyColumn => unknown_column(table, col),
            e => filter_error(part, e),
        })?;
        // Inside a tree a value may be double-quoted to hold `,` `(` `)`.
        if let concierge_wire::filter::FilterValue::One(v) = &mut f.value
            && let Some(unq) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"'))
        {
            *v = unq.replace("\\\"", "\"").replace("\\\\", "\\");
        }
        column(table, &f.column)?;
        items.push(Cond::Filter(f));
    }
    Ok(Group {
        any,
        negated,
        items,
    })
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
    use concierge_wire::filter::FilterValue;

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
    fn logic_trees_nest_negate_and_quote() {
        let q = parse(
            "or=(category.eq.comedy,and(distance_km.lt.1,not.or(title.eq.\"a,b\",venue.is.null)),id.not.in.(x,y))",
        )
        .unwrap();
        assert_eq!(q.groups.len(), 1);
        let g = &q.groups[0];
        assert!(g.any && !g.negated);
        assert_eq!(g.items.len(), 3);
        let Cond::Group(and) = &g.items[1] else {
            panic!("nested and: {g:?}")
        };
        assert!(!and.any);
        let Cond::Group(not_or) = &and.items[1] else {
            panic!("nested not.or: {and:?}")
        };
        assert!(not_or.any && not_or.negated);
        let Cond::Filter(f) = &not_or.items[0] else {
            panic!("{not_or:?}")
        };
        assert_eq!(
            f.value,
            FilterValue::One("a,b".into()),
            "quotes protect the comma"
        );
        let Cond::Filter(f) = &g.items[2] else {
            panic!("{g:?}")
        };
        assert!(f.negated && f.op == concierge_wire::filter::FilterOp::In);
        let q = parse("not.and=(category.eq.music,distance_km.gt.5)").unwrap();
        assert!(!q.groups[0].any && q.groups[0].negated);
    }

    #[test]
    fn hostile_logic_trees_are_refused() {
        let deep = format!("or=({}a.eq.1{})", "or(".repeat(20), ")".repeat(20));
        let wide = format!(
            "or=({})",
            (0..101)
                .map(|i| format!("title.eq.{i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        for q in [
            "or=",
            "or=a.eq.1",
            "or=(title.eq.1",
            "or=(title.eq.\"unterminated)",
            "or=(title)",
            "or=(nope.eq.1)",
            "or=(title.regex.x)",
            "or=(title.eq.1))(",
            deep.as_str(),
            wide.as_str(),
        ] {
            assert!(parse(q).is_err(), "{q}");
        }
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
