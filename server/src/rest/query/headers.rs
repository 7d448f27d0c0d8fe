//! The request headers that shape a query: `Prefer` and `Range`.

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
}
