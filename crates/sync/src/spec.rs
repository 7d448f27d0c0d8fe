//! What a view asks for ([`LiveQuerySpec`]) and how that becomes a Realtime binding and a
//! PostgREST request ([`Endpoint`]).

use concierge_wire::filter::{Filter, FilterOp, FilterValue};
use concierge_wire::realtime::{ChangeEvent, ChangeType, PostgresChangeSpec};
use serde_json::Value;

/// Identifies one live query inside an engine. Chosen by the caller (the browser shell counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueryId(pub u64);

/// Identifies one REST request, so a late answer to a cancelled request is recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FetchId(pub u64);

/// Where a row's version comes from, to decide which of two copies of a row is newer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionSource {
    /// A timestamp column present in REST rows and realtime records (`updated_at`, or
    /// `created_at` for insert-only tables). Realtime records lacking it fall back to the
    /// event's `commit_timestamp`.
    Column(String),
    /// Only realtime events carry a version (their `commit_timestamp`); snapshot rows are
    /// ordered against them by arrival alone.
    CommitTimestamp,
}

/// One sort key, as PostgREST's `order=col.asc|desc` (nulls last when ascending, first when
/// descending, like Postgres).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderBy {
    pub column: String,
    pub descending: bool,
}

/// "These rows of this table, kept live." The filter is used both as the Realtime
/// subscription filter and as the REST query, so both paths agree on the row set.
///
/// ```
/// use concierge_sync::spec::LiveQuerySpec;
/// use concierge_wire::{Filter, realtime::ChangeEvent};
/// let spec = LiveQuerySpec::new("kiosk_results")
///     .filter(Filter::parse_realtime("session_id=eq.abc").unwrap())
///     .order_by("created_at", true)
///     .limit(1)
///     .version_column("created_at")
///     .events(ChangeEvent::Insert);
/// assert_eq!(spec.realtime_bindings()[0].filter.as_deref(), Some("session_id=eq.abc"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LiveQuerySpec {
    pub schema: String,
    pub table: String,
    pub filter: Option<Filter>,
    pub order: Vec<OrderBy>,
    pub limit: Option<u32>,
    /// Primary-key column (`id`).
    pub key_column: String,
    pub version: VersionSource,
    /// Which change kinds to subscribe to.
    pub events: ChangeEvent,
    /// Also receive the table's DELETEs unfiltered (see [`LiveQuerySpec::deletes_by_key`]).
    pub deletes_by_key: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("{what} {name:?} is not a plain identifier")]
    BadIdentifier { what: &'static str, name: String },
    /// Realtime could not deliver changes for it, so the view would silently go stale.
    #[error("`{0}` filters cannot be live: realtime evaluates only comparisons and `in`")]
    NotRealtime(&'static str),
}

impl LiveQuerySpec {
    /// All rows of `public.<table>`, keyed by `id`, versioned by `updated_at`, every event.
    pub fn new(table: impl Into<String>) -> LiveQuerySpec {
        LiveQuerySpec {
            schema: "public".into(),
            table: table.into(),
            filter: None,
            order: Vec::new(),
            limit: None,
            key_column: "id".into(),
            version: VersionSource::Column("updated_at".into()),
            events: ChangeEvent::All,
            deletes_by_key: false,
        }
    }
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }
    pub fn order_by(mut self, column: impl Into<String>, descending: bool) -> Self {
        self.order.push(OrderBy {
            column: column.into(),
            descending,
        });
        self
    }
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }
    pub fn key(mut self, column: impl Into<String>) -> Self {
        self.key_column = column.into();
        self
    }
    pub fn version_column(mut self, column: impl Into<String>) -> Self {
        self.version = VersionSource::Column(column.into());
        self
    }
    pub fn version_from_commit_timestamp(mut self) -> Self {
        self.version = VersionSource::CommitTimestamp;
        self
    }
    pub fn events(mut self, events: ChangeEvent) -> Self {
        self.events = events;
        self
    }
    /// Realtime evaluates a DELETE's filter on the old record, which carries only the primary
    /// key: a filter on any other column (`hotel_id=eq.…`) never lets a delete through. This
    /// adds a second binding, every DELETE on the table, so deletes arrive by key: the store
    /// drops the row it holds with that key and ignores the others.
    pub fn deletes_by_key(mut self) -> Self {
        self.deletes_by_key = true;
        self
    }

    /// Every name that ends up in a URL or a subscription must be a plain identifier.
    pub fn validate(&self) -> Result<(), SpecError> {
        let check = |what: &'static str, name: &str| {
            if is_identifier(name) {
                Ok(())
            } else {
                Err(SpecError::BadIdentifier {
                    what,
                    name: name.chars().take(64).collect(),
                })
            }
        };
        check("schema", &self.schema)?;
        check("table", &self.table)?;
        check("key column", &self.key_column)?;
        if let VersionSource::Column(c) = &self.version {
            check("version column", c)?;
        }
        for o in &self.order {
            check("order column", &o.column)?;
        }
        if let Some(f) = &self.filter {
            check("filter column", &f.column)?;
            if matches!(f.op, FilterOp::Like | FilterOp::ILike) {
                return Err(SpecError::NotRealtime(f.op.as_str()));
            }
            if f.negated {
                return Err(SpecError::NotRealtime("not"));
            }
        }
        Ok(())
    }

    /// The `config.postgres_changes` entries for this query: its filter, and the unfiltered
    /// deletes when asked for and the filter would stop them.
    pub fn realtime_bindings(&self) -> Vec<PostgresChangeSpec> {
        let binding = |event, filter: Option<&Filter>| PostgresChangeSpec {
            event,
            schema: self.schema.clone(),
            table: Some(self.table.clone()),
            filter: filter.map(Filter::to_string),
        };
        let mut out = vec![binding(self.events, self.filter.as_ref())];
        let filter_stops_deletes = self
            .filter
            .as_ref()
            .is_some_and(|f| f.column != self.key_column);
        if self.deletes_by_key && filter_stops_deletes && self.events.matches(ChangeType::Delete) {
            out.push(binding(ChangeEvent::Delete, None));
        }
        out
    }

    /// `select=*&<col>=<op>.<value>&order=…&limit=…`, every value percent-encoded.
    pub fn rest_query(&self) -> String {
        let mut q = String::from("select=*");
        if let Some(f) = &self.filter {
            let text = f.to_string();
            // `column=op.value`: the column is a validated identifier; encode the rest.
            let value = text.split_once('=').map(|(_, v)| v).unwrap_or_default();
            q.push('&');
            q.push_str(&f.column);
            q.push('=');
            q.push_str(&percent_encode(value));
        }
        if !self.order.is_empty() {
            q.push_str("&order=");
            let parts: Vec<String> = self
                .order
                .iter()
                .map(|o| format!("{}.{}", o.column, if o.descending { "desc" } else { "asc" }))
                .collect();
            q.push_str(&parts.join(","));
        }
        if let Some(n) = self.limit {
            q.push_str(&format!("&limit={n}"));
        }
        q
    }

    /// Whether a row (a realtime record) belongs to this query's set, as far as the client can
    /// tell. Used when an UPDATE moves a row out of the filter. Ordered comparisons (`lt`…)
    /// depend on column types the client does not know, so they are trusted to the server.
    pub fn row_matches(&self, row: &serde_json::Map<String, Value>) -> bool {
        let Some(f) = &self.filter else { return true };
        let cell = row.get(&f.column);
        match (&f.op, &f.value) {
            (FilterOp::Eq, FilterValue::One(v)) => cell.is_some_and(|c| cell_equals(c, v)),
            (FilterOp::Neq, FilterValue::One(v)) => cell.is_none_or(|c| !cell_equals(c, v)),
            (FilterOp::In, FilterValue::List(vs)) => {
                cell.is_some_and(|c| vs.iter().any(|v| cell_equals(c, v)))
            }
            (FilterOp::Is, FilterValue::Null) => cell.is_none_or(Value::is_null),
            (FilterOp::Is, FilterValue::Bool(b)) => cell.and_then(Value::as_bool) == Some(*b),
            _ => true,
        }
    }
}

/// A filter value is text; a cell may be a JSON string, number or bool.
fn cell_equals(cell: &Value, text: &str) -> bool {
    match cell {
        Value::String(s) => s == text,
        // `text.parse::<f64>() == Ok(a)`, decided without linking `f64::from_str`.
        Value::Number(n) => match n.as_f64().and_then(|a| crate::decimal::denotes(text, a)) {
            Some(equal) => equal,
            None => n.to_string() == text,
        },
        Value::Bool(b) => text.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
        Value::Null => false,
        other => *other == text,
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The backend: its base URL and the public key. REST and Realtime URLs derive from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://<ref>.supabase.co` or the local server's origin, without a trailing slash.
    pub api_base: String,
    pub anon_key: String,
}

/// An HTTP GET the shell performs for the poller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

impl Endpoint {
    pub fn new(api_base: impl Into<String>, anon_key: impl Into<String>) -> Endpoint {
        Endpoint {
            api_base: api_base.into().trim_end_matches('/').to_owned(),
            anon_key: anon_key.into(),
        }
    }

    /// `ws(s)://host/realtime/v1/websocket?apikey=…&vsn=…` (vsn last, as phoenix.js does).
    pub fn realtime_url(&self, vsn: concierge_wire::Vsn) -> String {
        let base = if let Some(rest) = self.api_base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = self.api_base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            self.api_base.clone()
        };
        format!(
            "{base}/realtime/v1/websocket?apikey={}&vsn={}",
            percent_encode(&self.anon_key),
            vsn.as_str()
        )
    }

    /// The poller's GET for `spec`, authorised with the user's token when signed in.
    pub fn rest_request(&self, spec: &LiveQuerySpec, token: Option<&str>) -> HttpRequest {
        let bearer = token.unwrap_or(&self.anon_key);
        HttpRequest {
            url: format!(
                "{}/rest/v1/{}?{}",
                self.api_base,
                spec.table,
                spec.rest_query()
            ),
            headers: vec![
                ("apikey".into(), self.anon_key.clone()),
                ("Authorization".into(), format!("Bearer {bearer}")),
                ("Accept".into(), "application/json".into()),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A live query must be one realtime can keep live; REST-only filters are refused up
    /// front rather than joined and silently never updated.
    #[test]
    fn rest_only_filters_cannot_be_live() {
        let spec = |op: &str| {
            LiveQuerySpec::new("events").filter(Filter::parse_rest("title", op).unwrap())
        };
        assert!(spec("eq.x").validate().is_ok());
        assert!(spec("in.(a,b)").validate().is_ok());
        for op in ["like.*x*", "ilike.*x*", "not.eq.x"] {
            assert!(
                matches!(spec(op).validate(), Err(SpecError::NotRealtime(_))),
                "{op}"
            );
        }
    }

    #[test]
    fn urls() {
        let e = Endpoint::new("http://127.0.0.1:8080/", "a key");
        assert_eq!(
            e.realtime_url(concierge_wire::Vsn::V2),
            "ws://127.0.0.1:8080/realtime/v1/websocket?apikey=a%20key&vsn=2.0.0"
        );
        assert!(
            Endpoint::new("https://x.supabase.co", "k")
                .realtime_url(concierge_wire::Vsn::V1)
                .starts_with("wss://x.supabase.co/realtime/v1/websocket?apikey=k&vsn=1.0.0")
        );
        let spec = LiveQuerySpec::new("sessions")
            .filter(Filter::parse_realtime("status=in.(pending,live)").unwrap())
            .order_by("created_at", true)
            .order_by("id", false)
            .limit(5);
        let r = e.rest_request(&spec, Some("jwt"));
        assert_eq!(
            r.url,
            "http://127.0.0.1:8080/rest/v1/sessions?select=*&status=in.%28pending%2Clive%29&order=created_at.desc,id.asc&limit=5"
        );
        assert!(
            r.headers
                .contains(&("Authorization".into(), "Bearer jwt".into()))
        );
        assert!(r.headers.contains(&("apikey".into(), "a key".into())));
        let anon = e.rest_request(&LiveQuerySpec::new("events"), None);
        assert!(
            anon.headers
                .contains(&("Authorization".into(), "Bearer a key".into()))
        );
    }

    #[test]
    fn validation_rejects_injection() {
        assert!(LiveQuerySpec::new("events").validate().is_ok());
        assert!(LiveQuerySpec::new("events?x=1").validate().is_err());
        assert!(
            LiveQuerySpec::new("e")
                .order_by("a,b", false)
                .validate()
                .is_err()
        );
        assert!(LiveQuerySpec::new("e").key("").validate().is_err());
    }

    #[test]
    fn local_filter_matching() {
        let spec = |f: &str| LiveQuerySpec::new("t").filter(Filter::parse_realtime(f).unwrap());
        let row = |v: Value| v.as_object().cloned().unwrap();
        assert!(spec("s=eq.a").row_matches(&row(json!({"s": "a"}))));
        assert!(!spec("s=eq.a").row_matches(&row(json!({"s": "b"}))));
        assert!(spec("n=eq.3").row_matches(&row(json!({"n": 3.0}))));
        assert!(spec("s=in.(a,b)").row_matches(&row(json!({"s": "b"}))));
        assert!(!spec("s=in.(a,b)").row_matches(&row(json!({"s": "c"}))));
        assert!(spec("s=neq.a").row_matches(&row(json!({}))));
        assert!(
            spec("n=gt.3").row_matches(&row(json!({"n": 1}))),
            "trusted to the server"
        );
    }
}
