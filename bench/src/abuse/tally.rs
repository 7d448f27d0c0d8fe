//! What the server answered each attack, counted by kind ("429 over_request_rate_limit",
//! "500 57014", "close 1008", "PostgresChangesLimitReached"…), so the report shows which limit
//! acted and how often.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

use crate::shared::take_all;
use crate::stats::Summary;

/// Counts of one attack's outcomes, and how long its HTTP requests took to be answered.
#[derive(Default)]
pub struct Tally {
    sent: AtomicU64,
    counts: Mutex<BTreeMap<String, u64>>,
    answer_us: Mutex<Vec<u64>>,
}

/// A finished attack's figures.
#[derive(Debug, Clone, Default)]
pub struct TallySnapshot {
    pub sent: u64,
    pub counts: BTreeMap<String, u64>,
    /// Send → answer of its HTTP requests, ms (empty for socket attacks).
    pub answer_ms: Summary,
}

impl Tally {
    /// One more request, frame or socket sent.
    pub fn sent(&self) {
        self.sent.fetch_add(1, Ordering::Relaxed);
    }

    pub fn note(&self, kind: impl Into<String>) {
        if let Ok(mut c) = self.counts.lock() {
            *c.entry(kind.into()).or_default() += 1;
        }
    }

    pub fn answered_after(&self, us: u64) {
        if let Ok(mut v) = self.answer_us.lock() {
            v.push(us);
        }
    }

    pub fn snapshot(&self) -> TallySnapshot {
        TallySnapshot {
            sent: self.sent.load(Ordering::SeqCst),
            counts: self.counts.lock().map(|c| c.clone()).unwrap_or_default(),
            answer_ms: Summary::of(take_all(&self.answer_us)).scaled(1000.0),
        }
    }
}

/// "STATUS CODE" for an HTTP answer: the PostgREST `code` ("57014", "PGRST100") or GoTrue's
/// `error_code` ("over_request_rate_limit", "invalid_credentials"); the status alone for a
/// body without either (a success, or a transport error's "error").
pub fn http_kind(status: u16, body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_default();
    let code = v
        .get("error_code")
        .and_then(Value::as_str)
        .or_else(|| v.get("code").and_then(Value::as_str));
    match code {
        Some(c) => format!("{status} {c}"),
        None => status.to_string(),
    }
}

/// The refusal kind of a Phoenix error reply's `reason`: its first word
/// ("ChannelRateLimitReached: Too many channels" → "ChannelRateLimitReached").
pub fn reason_kind(reason: &str) -> String {
    reason
        .split(|c: char| c == ':' || c.is_whitespace())
        .next()
        .unwrap_or(reason)
        .chars()
        .take(40)
        .collect()
}

/// "a: 3, b: 1" for the report, largest first.
pub fn describe(counts: &BTreeMap<String, u64>) -> String {
    let mut v: Vec<(&String, &u64)> = counts.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    if v.is_empty() {
        return "nothing".to_owned();
    }
    v.iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_name_the_limit() {
        assert_eq!(
            http_kind(500, r#"{"code":"57014","message":"canceling statement"}"#),
            "500 57014"
        );
        assert_eq!(
            http_kind(
                429,
                r#"{"code":429,"error_code":"over_request_rate_limit"}"#
            ),
            "429 over_request_rate_limit"
        );
        assert_eq!(http_kind(200, "[]"), "200");
        assert_eq!(
            reason_kind("PostgresChangesLimitReached: 101 entries"),
            "PostgresChangesLimitReached"
        );
        let mut c = BTreeMap::new();
        c.insert("200".to_owned(), 2);
        c.insert("500 57014".to_owned(), 5);
        assert_eq!(describe(&c), "500 57014: 5, 200: 2");
        assert_eq!(describe(&BTreeMap::new()), "nothing");
    }
}
