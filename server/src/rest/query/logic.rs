//! PostgREST logic trees: `or=(…)`, `and=(…)` and their `not.` forms, nested and bounded.

use concierge_wire::filter::FilterValue;

use super::parse_filter;
use crate::db::{Cond, Group, Table};
use crate::rest::error::RestError;

/// Deepest nesting of `or(…)` / `and(…)` accepted, and most conditions in one tree: enough for
/// any real query, and a hostile one cannot recurse the parser (or SQLite) into the ground.
const MAX_GROUP_DEPTH: usize = 8;
pub(super) const MAX_GROUP_ITEMS: usize = 100;

/// `or` / `and` / `not.or` / `not.and`: a logic-tree key (or nested prefix) and its meaning.
pub(super) fn group_kind(key: &str) -> Option<(bool, bool)> {
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
pub(super) fn parse_group(
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
        let mut f = parse_filter(table, col, op_value, part)?;
        // Inside a tree a value may be double-quoted to hold `,` `(` `)`.
        if let FilterValue::One(v) = &mut f.value
            && let Some(unq) = v.strip_prefix('"').and_then(|r| r.strip_suffix('"'))
        {
            *v = unq.replace("\\\"", "\"").replace("\\\\", "\\");
        }
        items.push(Cond::Filter(f));
    }
    Ok(Group {
        any,
        negated,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse_events as parse;
    use crate::db::Cond;
    use concierge_wire::filter::FilterValue;

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
}
