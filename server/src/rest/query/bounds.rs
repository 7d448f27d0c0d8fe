//! Size limits on what one query string may ask for, so a single request has a bounded cost
//! (SECURITY.md lists them). Each is far above what the app sends; past it, PGRST100.

use concierge_wire::filter::{Filter, FilterOp, FilterValue};

use crate::db::like;
use crate::rest::error::RestError;

/// Longest `op.value` of one filter, in bytes (an `in.(…)` list counts as one value).
pub const MAX_FILTER_VALUE_BYTES: usize = 1024;
/// Most wildcards (`*`, `%`, `_`) in one `like` / `ilike` pattern: matching cost grows with them.
pub const MAX_LIKE_WILDCARDS: usize = 16;
/// Most `order=` terms.
pub const MAX_ORDER_TERMS: usize = 32;
/// Most `select=` items.
pub const MAX_SELECT_COLUMNS: usize = 64;

/// Refuses an over-long filter value before it is parsed.
pub(super) fn check_filter_value(op_value: &str, shown: &str) -> Result<(), RestError> {
    if op_value.len() > MAX_FILTER_VALUE_BYTES {
        return Err(RestError::bad_query(
            "filter",
            shown,
            format!("a filter value may be at most {MAX_FILTER_VALUE_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Refuses a `like` / `ilike` pattern with too many wildcards.
pub(super) fn check_pattern(f: &Filter, shown: &str) -> Result<(), RestError> {
    if let (FilterOp::Like | FilterOp::ILike, FilterValue::One(p)) = (f.op, &f.value)
        && like::wildcards(p) > MAX_LIKE_WILDCARDS
    {
        return Err(RestError::bad_query(
            "filter",
            shown,
            format!("a like/ilike pattern may have at most {MAX_LIKE_WILDCARDS} wildcards"),
        ));
    }
    Ok(())
}

/// Refuses a `select=` / `order=` list longer than `max` items.
pub(super) fn check_list(what: &str, s: &str, max: usize) -> Result<(), RestError> {
    if s.split(',').nth(max).is_some() {
        return Err(RestError::bad_query(
            what,
            s,
            format!("{what} takes at most {max} items"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::parse_events as parse;
    use super::*;

    fn list(item: &str, n: usize, sep: &str) -> String {
        vec![item; n].join(sep)
    }

    #[test]
    fn limits_are_inclusive_and_refusals_are_pgrst100() {
        let ok = [
            format!("title=eq.{}", "x".repeat(MAX_FILTER_VALUE_BYTES - 3)),
            format!("title=ilike.{}", list("a", MAX_LIKE_WILDCARDS + 1, "*")),
            format!("order={}", list("title", MAX_ORDER_TERMS, ",")),
            format!("select={}", list("title", MAX_SELECT_COLUMNS, ",")),
        ];
        for q in &ok {
            assert!(parse(q).is_ok(), "{q}");
        }
        let refused = [
            format!("title=eq.{}", "x".repeat(MAX_FILTER_VALUE_BYTES)),
            format!("or=(title.eq.{})", "x".repeat(MAX_FILTER_VALUE_BYTES)),
            format!("title=ilike.{}", list("a", MAX_LIKE_WILDCARDS + 2, "*")),
            format!("title=like.{}", "%_".repeat(9)),
            format!("or=(title.like.{})", "*".repeat(MAX_LIKE_WILDCARDS + 1)),
            format!("order={}", list("title", MAX_ORDER_TERMS + 1, ",")),
            format!("order={}", list("title.desc", 2_500, ",")),
            format!("select={}", list("title", MAX_SELECT_COLUMNS + 1, ",")),
        ];
        for q in &refused {
            let e = parse(q).expect_err(q);
            assert_eq!((e.status.as_u16(), e.code), (400, "PGRST100"), "{q}");
        }
        // Escaped wildcards are literal characters, not wildcards.
        assert!(parse(&format!("title=like.{}", "\\%".repeat(40))).is_ok());
    }
}
