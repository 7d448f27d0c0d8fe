//! The REST observer: runs one case through `/rest/v1` and maps the answer onto the case
//! table's outcomes (tests/authz/README.md, "Outcomes, the same on both sides").

use std::collections::BTreeMap;

use concierge_server::jwt::Keys;
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::book::{Book, Case, Do, Outcome, Want};
use crate::common::TestServer;

/// Reset order: the claims go in before the results (their owner is derived from them) and
/// out after. `auth.users` fixtures are not loaded: this server keeps accounts out of the REST
/// schema, no table references them, and the cases' tokens are signed directly. Messages go
/// in after the sessions and claims they name.
pub const TABLES: [&str; 7] = [
    "hotels",
    "events",
    "sessions",
    "kiosk_sessions",
    "kiosk_results",
    "messages",
    // After the events they book (and out before them).
    "reservations",
];

pub struct Rest<'a> {
    pub server: &'a TestServer,
    pub book: &'a Book,
    pub keys: Keys,
    pub http: reqwest::Client,
}

/// What one request answered.
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

fn now_ms() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_millisecond(t.millisecond()).expect("ms")
}

impl Rest<'_> {
    /// Sends `method path` as principal `who` (the anon key as `apikey`, the principal's
    /// token as the bearer, as supabase-js does), with `Prefer: return=representation`.
    pub async fn send(&self, who: &str, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut req = self
            .http
            .request(method, self.server.url(path))
            .header("apikey", &self.server.anon)
            .bearer_auth(self.book.token(&self.keys, who))
            .header("Prefer", "return=representation");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        let status = r.status();
        let body = r.json().await.unwrap_or(Value::Null);
        Answer { status, body }
    }

    /// Every case starts from the fixtures alone.
    pub async fn reset(&self) {
        for table in TABLES.iter().rev() {
            let a = self
                .send(
                    "service",
                    Method::DELETE,
                    &format!("/rest/v1/{table}?id=not.is.null"),
                    None,
                )
                .await;
            assert!(
                a.status.is_success(),
                "reset {table}: {} {}",
                a.status,
                a.body
            );
        }
        for table in TABLES {
            let rows: Vec<Value> = self
                .book
                .fixtures(table)
                .map(|f| Value::Object(self.book.row(table, &f.row)))
                .collect();
            let a = self
                .send(
                    "service",
                    Method::POST,
                    &format!("/rest/v1/{table}"),
                    Some(json!(rows)),
                )
                .await;
            assert_eq!(
                a.status,
                StatusCode::CREATED,
                "fixtures of {table}: {}",
                a.body
            );
        }
    }

    /// The row `id` of `table` as the service role reads it.
    pub async fn read_back(&self, table: &str, id: &str) -> Option<Map<String, Value>> {
        let a = self
            .send(
                "service",
                Method::GET,
                &format!("/rest/v1/{table}?id=eq.{id}"),
                None,
            )
            .await;
        a.body.as_array()?.first()?.as_object().cloned()
    }

    /// Runs `c` and compares with what it states; `Err` says how it differed.
    pub async fn check(&self, c: &Case) -> Result<(), String> {
        let book = self.book;
        let table = c.table.as_str();
        let target = c.row.as_ref().map(|r| book.fixture_id(table, r));
        let sent = c.values.as_ref().map(|v| book.row(table, v));
        let path = match (c.action, &target) {
            (Do::Join, _) => {
                return Err("a join is not a REST case (channels.rs observes it)".into());
            }
            (Do::Select, _) => {
                let mut p = format!("/rest/v1/{table}?select=id");
                if let Some(f) = &c.filter {
                    let (col, v) = f.split_once("=eq.").expect("filter is column=eq.value");
                    p.push_str(&format!("&{col}=eq.{}", urlencode(v)));
                }
                p
            }
            (Do::Insert, _) => format!("/rest/v1/{table}"),
            (_, Some(id)) => format!("/rest/v1/{table}?id=eq.{id}"),
            (_, None) => return Err("an update or delete names its `row`".into()),
        };
        let method = match c.action {
            Do::Select => Method::GET,
            Do::Insert => Method::POST,
            Do::Update => Method::PATCH,
            Do::Delete => Method::DELETE,
            Do::Join => unreachable!("returned above"),
        };
        let before = now_ms();
        let a = self
            .send(&c.who, method, &path, sent.clone().map(Value::Object))
            .await;
        let after = OffsetDateTime::now_utc();
        let code = a
            .body
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let outcome = match a.status {
            s if s.is_success() => Outcome::Allowed,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN if code == "42501" => Outcome::Denied,
            StatusCode::BAD_REQUEST | StatusCode::CONFLICT if code.starts_with("23") => {
                Outcome::Invalid
            }
            s => return Err(format!("unexpected answer {s} {}", a.body)),
        };
        let rows = a.body.as_array().cloned().unwrap_or_default();
        if c.action == Do::Select {
            return match (&c.visible, outcome) {
                (None, o) if Some(o) == c.expect => Ok(()),
                (Some(want), Outcome::Allowed) => {
                    let seen = names(book, table, &rows);
                    let mut want = want.clone();
                    want.sort();
                    (seen == want)
                        .then_some(())
                        .ok_or(format!("sees {seen:?}, not {want:?}"))
                }
                (_, o) => Err(format!("{o:?} ({} {})", a.status, a.body)),
            };
        }
        let id_of = |r: &Value| r.get("id").and_then(Value::as_str).map(str::to_owned);
        let outcome = match (c.action, outcome, &target) {
            (Do::Update | Do::Delete, Outcome::Allowed, Some(id)) => {
                if rows.iter().any(|r| id_of(r).as_ref() == Some(id)) {
                    Outcome::Allowed
                } else if rows.is_empty() {
                    Outcome::Unreachable
                } else {
                    return Err(format!("wrote other rows: {}", a.body));
                }
            }
            (_, o, _) => o,
        };
        if Some(outcome) != c.expect {
            return Err(format!("{outcome:?} ({} {})", a.status, a.body));
        }
        let Some(then) = &c.then else { return Ok(()) };
        let Some(id) = target.clone().or_else(|| rows.first().and_then(id_of)) else {
            return Err(format!("no row to read back: {}", a.body));
        };
        let row = self
            .read_back(table, &id)
            .await
            .ok_or("the written row is gone")?;
        let wants = book.want(table, then);
        compare(book, table, &row, sent.as_ref(), &wants, (before, after))
    }
}

fn names(book: &Book, table: &str, rows: &[Value]) -> Vec<String> {
    let mut seen: Vec<String> = rows
        .iter()
        .map(|r| book.fixture_name(table, r["id"].as_str().unwrap_or_default()))
        .collect();
    seen.sort();
    seen
}

fn urlencode(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

fn instant(v: &Value) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(v.as_str()?, &Rfc3339).ok()
}

/// `then`: each column of the row read back against the case's expectation.
fn compare(
    book: &Book,
    table: &str,
    row: &Map<String, Value>,
    sent: Option<&Map<String, Value>>,
    wants: &BTreeMap<String, Want>,
    (before, after): (OffsetDateTime, OffsetDateTime),
) -> Result<(), String> {
    let mut wrong = Vec::new();
    for (col, want) in wants {
        let have = row.get(col).unwrap_or(&Value::Null);
        let ok = match want {
            Want::Now => instant(have).is_some_and(|t| before <= t && t <= after),
            Want::Fresh => !have.is_null() && sent.and_then(|s| s.get(col)) != Some(have),
            Want::Is(w) => match book.col_type(table, col) {
                Some("timestamptz") if !w.is_null() => instant(have) == instant(w),
                Some("float8") => have.as_f64() == w.as_f64(),
                _ => have == w,
            },
        };
        if !ok {
            wrong.push(format!("{col} = {have} (want {want:?})"));
        }
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("then: {}", wrong.join(", ")))
    }
}
