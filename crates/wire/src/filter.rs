//! Row filters in the PostgREST / Realtime syntax: `column=op.value` (Realtime) and
//! `op.value` as a query-string value (PostgREST).

use std::fmt;

/// Most values an `in` list may hold, as hosted Supabase enforces.
pub const MAX_IN_VALUES: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterOp {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    /// `is.null` / `is.true` / `is.false` (PostgREST only).
    Is,
    /// `like.<pattern>`: SQL LIKE, case-sensitive; `*` stands for `%` (PostgREST only).
    Like,
    /// `ilike.<pattern>`: case-insensitive LIKE (PostgREST only).
    ILike,
}

impl FilterOp {
    pub fn parse(s: &str) -> Option<FilterOp> {
        Some(match s {
            "eq" => FilterOp::Eq,
            "neq" => FilterOp::Neq,
            "lt" => FilterOp::Lt,
            "lte" => FilterOp::Lte,
            "gt" => FilterOp::Gt,
            "gte" => FilterOp::Gte,
            "in" => FilterOp::In,
            "is" => FilterOp::Is,
            "like" => FilterOp::Like,
            "ilike" => FilterOp::ILike,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FilterOp::Eq => "eq",
            FilterOp::Neq => "neq",
            FilterOp::Lt => "lt",
            FilterOp::Lte => "lte",
            FilterOp::Gt => "gt",
            FilterOp::Gte => "gte",
            FilterOp::In => "in",
            FilterOp::Is => "is",
            FilterOp::Like => "like",
            FilterOp::ILike => "ilike",
        }
    }

    /// Realtime evaluates only comparisons and `in` (as hosted Supabase does).
    pub fn is_realtime(self) -> bool {
        !matches!(self, FilterOp::Is | FilterOp::Like | FilterOp::ILike)
    }
}

/// The right-hand side of a filter, still as text: the column's type decides how it compares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FilterValue {
    One(String),
    List(Vec<String>),
    /// `is.null`
    Null,
    /// `is.true` / `is.false`
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Filter {
    pub column: String,
    pub op: FilterOp,
    pub value: FilterValue,
    /// PostgREST's `not.` prefix (`col=not.eq.x`): rows where the condition is false (a NULL
    /// cell matches neither the condition nor its negation, as in SQL). REST only.
    pub negated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("filter must look like column=op.value")]
    MissingEquals,
    #[error("filter value must look like op.value")]
    MissingDot,
    #[error("empty column name")]
    EmptyColumn,
    #[error("column name {0:?} is not a plain identifier")]
    BadColumn(String),
    #[error("unsupported operator {0:?}")]
    UnknownOp(String),
    #[error("`in` takes a parenthesised list like in.(a,b)")]
    BadList,
    #[error("too many values for `in` filter. Maximum {MAX_IN_VALUES}")]
    TooManyValues,
    #[error("`is` takes null, true or false")]
    BadIs,
    #[error("operator {0} is not allowed here")]
    OpNotAllowed(&'static str),
}

fn valid_column(c: &str) -> bool {
    !c.is_empty()
        && c.len() <= 63
        && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        && !c.starts_with(|ch: char| ch.is_ascii_digit())
}

impl Filter {
    pub fn new(column: impl Into<String>, op: FilterOp, value: FilterValue) -> Filter {
        Filter {
            column: column.into(),
            op,
            value,
            negated: false,
        }
    }

    /// `column=eq.value`.
    pub fn eq(column: impl Into<String>, value: impl Into<String>) -> Filter {
        Filter::new(column, FilterOp::Eq, FilterValue::One(value.into()))
    }

    /// `column=neq.value`.
    pub fn neq(column: impl Into<String>, value: impl Into<String>) -> Filter {
        Filter::new(column, FilterOp::Neq, FilterValue::One(value.into()))
    }

    /// `column=in.(a,b,…)`.
    pub fn is_in<I, S>(column: impl Into<String>, values: I) -> Filter
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values = values.into_iter().map(Into::into).collect();
        Filter::new(column, FilterOp::In, FilterValue::List(values))
    }

    /// Parses a Realtime subscription filter `column=op.value` (classic single condition).
    pub fn parse_realtime(s: &str) -> Result<Filter, FilterError> {
        let (column, rest) = s.split_once('=').ok_or(FilterError::MissingEquals)?;
        let f = Filter::parse_rest(column, rest)?;
        if !f.op.is_realtime() {
            return Err(FilterError::OpNotAllowed(f.op.as_str()));
        }
        if f.negated {
            return Err(FilterError::OpNotAllowed("not"));
        }
        Ok(f)
    }

    /// Parses a PostgREST query pair: `column` and `op.value`.
    pub fn parse_rest(column: &str, op_value: &str) -> Result<Filter, FilterError> {
        let column = column.trim();
        if column.is_empty() {
            return Err(FilterError::EmptyColumn);
        }
        if !valid_column(column) {
            return Err(FilterError::BadColumn(column.chars().take(64).collect()));
        }
        let (negated, op_value) = match op_value.strip_prefix("not.") {
            Some(rest) => (true, rest),
            None => (false, op_value),
        };
        let (op, value) = op_value.split_once('.').ok_or(FilterError::MissingDot)?;
        let op = FilterOp::parse(op)
            .ok_or_else(|| FilterError::UnknownOp(op.chars().take(32).collect()))?;
        let value = match op {
            FilterOp::In => FilterValue::List(parse_list(value)?),
            FilterOp::Is => match value.to_ascii_lowercase().as_str() {
                "null" => FilterValue::Null,
                "true" => FilterValue::Bool(true),
                "false" => FilterValue::Bool(false),
                _ => return Err(FilterError::BadIs),
            },
            _ => FilterValue::One(value.to_owned()),
        };
        Ok(Filter {
            column: column.to_owned(),
            op,
            value,
            negated,
        })
    }
}

/// `(a,b,"c,d")` → `["a","b","c,d"]`. Double quotes protect commas and parentheses.
fn parse_list(s: &str) -> Result<Vec<String>, FilterError> {
    let inner = s
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or(FilterError::BadList)?;
    let mut out = Vec::new();
    if inner.is_empty() {
        return Ok(out);
    }
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ',' if !quoted => {
                out.push(std::mem::take(&mut cur));
                if out.len() > MAX_IN_VALUES {
                    return Err(FilterError::TooManyValues);
                }
            }
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(FilterError::BadList);
    }
    out.push(cur);
    if out.len() > MAX_IN_VALUES {
        return Err(FilterError::TooManyValues);
    }
    Ok(out)
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = if self.negated { "not." } else { "" };
        write!(f, "{}={not}{}.", self.column, self.op.as_str())?;
        match &self.value {
            FilterValue::One(v) => f.write_str(v),
            FilterValue::List(vs) => {
                f.write_str("(")?;
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    if v.contains([',', '(', ')', '"', '\\']) {
                        write!(f, "\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))?;
                    } else {
                        f.write_str(v)?;
                    }
                }
                f.write_str(")")
            }
            FilterValue::Null => f.write_str("null"),
            FilterValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_classic_ops() {
        let f = Filter::parse_realtime("session_id=eq.abc-123").unwrap();
        assert_eq!(f.column, "session_id");
        assert_eq!(f.op, FilterOp::Eq);
        assert_eq!(f.value, FilterValue::One("abc-123".into()));
        // The value may itself contain '=' and '.'.
        let f = Filter::parse_realtime("x=eq.a=b.c").unwrap();
        assert_eq!(f.value, FilterValue::One("a=b.c".into()));
        let f = Filter::parse_realtime("status=in.(pending,\"a,b\",live)").unwrap();
        assert_eq!(
            f.value,
            FilterValue::List(vec!["pending".into(), "a,b".into(), "live".into()])
        );
        assert_eq!(Filter::parse_realtime(&f.to_string()).unwrap(), f);
    }

    #[test]
    fn rejects_hostile_filters() {
        assert_eq!(
            Filter::parse_realtime("nofilter"),
            Err(FilterError::MissingEquals)
        );
        assert_eq!(Filter::parse_realtime("a=eq"), Err(FilterError::MissingDot));
        assert_eq!(
            Filter::parse_realtime("a=like.x"),
            Err(FilterError::OpNotAllowed("like")),
            "like is REST-only, as on hosted Supabase"
        );
        assert!(Filter::parse_rest("a", "ilike.*x*").is_ok());
        assert!(matches!(
            Filter::parse_realtime("a=regex.x"),
            Err(FilterError::UnknownOp(_))
        ));
        assert!(matches!(
            Filter::parse_realtime("a;drop table x=eq.1"),
            Err(FilterError::BadColumn(_))
        ));
        assert!(matches!(
            Filter::parse_realtime("\"a\"=eq.1"),
            Err(FilterError::BadColumn(_))
        ));
        assert_eq!(
            Filter::parse_realtime("=eq.1"),
            Err(FilterError::EmptyColumn)
        );
        assert_eq!(
            Filter::parse_realtime("a=in.1,2"),
            Err(FilterError::BadList)
        );
        assert_eq!(
            Filter::parse_realtime("a=in.(\"1,2)"),
            Err(FilterError::BadList)
        );
        assert_eq!(
            Filter::parse_realtime("a=is.null"),
            Err(FilterError::OpNotAllowed("is"))
        );
        let many = format!(
            "a=in.({})",
            (0..101)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(
            Filter::parse_realtime(&many),
            Err(FilterError::TooManyValues)
        );
        let ok = format!(
            "a=in.({})",
            (0..100)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(Filter::parse_realtime(&ok).is_ok());
    }

    #[test]
    fn rest_is_values() {
        assert_eq!(
            Filter::parse_rest("ended_at", "is.null").unwrap().value,
            FilterValue::Null
        );
        assert_eq!(Filter::parse_rest("a", "is.maybe"), Err(FilterError::BadIs));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,300}") {
            let _ = Filter::parse_realtime(&s);
        }
    }
}
