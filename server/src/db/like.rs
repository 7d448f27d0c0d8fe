//! Postgres `LIKE` / `ILIKE` for SQLite, registered on every connection as
//! `pg_like(pattern, value, case_insensitive)`. SQLite's own `LIKE` is case-insensitive for
//! ASCII only and case-sensitive for everything else, which is neither of Postgres' operators;
//! PostgREST's `like` and `ilike` filters must behave as hosted Supabase's do.

use std::sync::Arc;

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::ValueRef;

use super::deadline::Deadline;

pub const FUNCTION: &str = "pg_like";

/// Postgres' default escape character.
const ESCAPE: char = '\\';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `_`
    One,
    /// `%`
    Any,
}

/// A pattern is valid unless it ends with a lone escape character (Postgres: 22025).
pub fn is_valid(pattern: &str) -> bool {
    tokens(pattern, false).is_some()
}

/// PostgREST lets `*` stand for `%` so a pattern needs no URL encoding.
pub fn from_postgrest(pattern: &str) -> String {
    pattern.replace('*', "%")
}

fn tokens(pattern: &str, fold: bool) -> Option<Vec<Token>> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            ESCAPE => Token::Char(fold_char(chars.next()?, fold)),
            '%' => Token::Any,
            '_' => Token::One,
            c => Token::Char(fold_char(c, fold)),
        });
    }
    Some(out)
}

fn fold_char(c: char, fold: bool) -> char {
    if !fold {
        return c;
    }
    // One-to-one simple folding; multi-character lower cases (rare) keep the first.
    c.to_lowercase().next().unwrap_or(c)
}

/// Whether `text` matches `pattern`. Linear in `text` for each `%` backtrack (the classic
/// two-pointer wildcard match), so hostile patterns cannot blow up.
pub fn matches(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    matches_until(pattern, text, case_insensitive, || false).unwrap_or(false)
}

/// Steps of the matcher between two calls of `stop`.
const STEPS_BETWEEN_CHECKS: u32 = 1 << 16;

/// [`matches`], asking `stop` every few thousand steps whether to give up (`None`): one call
/// on a long text with a long pattern is a single SQLite step, so the statement timeout has to
/// be able to reach inside it.
pub fn matches_until(
    pattern: &str,
    text: &str,
    case_insensitive: bool,
    stop: impl Fn() -> bool,
) -> Option<bool> {
    let Some(p) = tokens(pattern, case_insensitive) else {
        return Some(false);
    };
    let t: Vec<char> = text
        .chars()
        .map(|c| fold_char(c, case_insensitive))
        .collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    let mut steps = 0u32;
    while ti < t.len() {
        steps = steps.wrapping_add(1);
        if steps.is_multiple_of(STEPS_BETWEEN_CHECKS) && stop() {
            return None;
        }
        match p.get(pi) {
            Some(Token::Any) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(Token::One) => {
                pi += 1;
                ti += 1;
            }
            Some(Token::Char(c)) if *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return Some(false),
            },
        }
    }
    Some(p[pi..].iter().all(|t| *t == Token::Any))
}

/// How many wildcards (`%`, `_`, and PostgREST's `*`) a pattern has, escaped ones excluded.
pub fn wildcards(pattern: &str) -> usize {
    let mut n = 0;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            ESCAPE => {
                chars.next();
            }
            '%' | '_' | '*' => n += 1,
            _ => {}
        }
    }
    n
}

/// Registers [`FUNCTION`] on `conn`. SQL NULL in, NULL out (so `NULL LIKE x` is not true).
/// A match that outlives `deadline` interrupts its statement.
pub fn register(conn: &Connection, deadline: Option<Arc<Deadline>>) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        FUNCTION,
        3,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        move |ctx| {
            let text = match ctx.get_raw(1) {
                ValueRef::Null => return Ok(None),
                ValueRef::Text(b) => String::from_utf8_lossy(b).into_owned(),
                ValueRef::Integer(i) => i.to_string(),
                ValueRef::Real(r) => r.to_string(),
                ValueRef::Blob(_) => return Ok(None),
            };
            let pattern: String = ctx.get(0)?;
            let ci: bool = ctx.get(2)?;
            let stop = || deadline.as_ref().is_some_and(|d| d.passed());
            match matches_until(&pattern, &text, ci, stop) {
                Some(m) => Ok(Some(m)),
                None => Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_INTERRUPT),
                    Some("statement timeout".into()),
                )),
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_like_semantics() {
        let cases: &[(&str, &str, bool, bool)] = &[
            // pattern, text, ilike?, expected
            ("%jazz%", "Late-night Jazz at the Bar", false, false),
            ("%jazz%", "Late-night Jazz at the Bar", true, true),
            ("%Jazz%", "Late-night Jazz at the Bar", false, true),
            ("Jazz", "Jazz", false, true),
            ("Jazz", "Jazz!", false, false),
            ("J_zz", "Jazz", false, true),
            ("J_zz", "Jzz", false, false),
            ("%", "", false, true),
            ("_", "", false, false),
            ("", "", false, true),
            ("a%b%c", "aXXbYYc", false, true),
            ("a%b%c", "aXXbYY", false, false),
            ("100\\%", "100%", false, true),
            ("100\\%", "1000", false, false),
            ("a\\_b", "a_b", false, true),
            ("a\\_b", "axb", false, false),
            ("%ÉTÉ%", "un été à Paris", true, true),
            ("%ÉTÉ%", "un été à Paris", false, false),
            ("%spa%", "Spa & wellness", true, true),
        ];
        for (p, t, ci, want) in cases {
            assert_eq!(matches(p, t, *ci), *want, "{p:?} vs {t:?} (ilike: {ci})");
        }
        assert!(!is_valid("ends with \\"));
        assert!(is_valid("escaped \\\\"));
        assert_eq!(from_postgrest("*jazz*"), "%jazz%");
        assert_eq!(wildcards("*a%b_c\\%d"), 3);
    }

    #[test]
    fn hostile_patterns_stay_cheap_and_never_panic() {
        let text = "a".repeat(10_000);
        let pattern = format!("{}b", "%a".repeat(200));
        assert!(!matches(&pattern, &text, true));
        for p in ["\\", "%\\", "_%_%\\", "\u{0}%", "%%%%%"] {
            let _ = matches(p, "anything \u{1F600}", true);
        }
    }

    #[test]
    fn a_long_match_gives_up_when_asked() {
        let text = "a".repeat(200_000);
        let pattern = format!("{}b", "%a".repeat(16));
        assert_eq!(matches_until(&pattern, &text, false, || true), None);
    }

    #[test]
    fn works_inside_sqlite() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn, None).unwrap();
        let q = |sql: &str| -> Option<bool> { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(q("SELECT pg_like('%jazz%', 'Jazz night', 1)"), Some(true));
        assert_eq!(q("SELECT pg_like('%jazz%', 'Jazz night', 0)"), Some(false));
        assert_eq!(q("SELECT pg_like('%', NULL, 1)"), None);
    }
}
