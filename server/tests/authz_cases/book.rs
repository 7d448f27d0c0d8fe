//! The rule book, `tests/authz/cases.toml`, read with the `toml` crate: its types, and the
//! resolution of its values (`@NAME`, `@NAME.name`, `$null`, jsonb text) exactly as
//! `scripts/pg-cases` resolves them for the pgTAP side.

use std::collections::BTreeMap;

use concierge_server::jwt::Keys;
use concierge_wire::{AppRole, SessionStatus};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/authz/cases.toml");

#[derive(Debug, Deserialize)]
pub struct Book {
    pub version: u32,
    pub principals: BTreeMap<String, Who>,
    pub fixture: Vec<Fixture>,
    pub schema: BTreeMap<String, TableSpec>,
    pub realtime: Realtime,
    pub case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DbRole {
    Anon,
    ServiceRole,
    Authenticated,
}

#[derive(Debug, Deserialize)]
pub struct Who {
    pub role: DbRole,
    pub id: Option<String>,
    pub app_role: Option<AppRole>,
    pub name: Option<String>,
    #[serde(default)]
    pub anonymous: bool,
}

#[derive(Debug, Deserialize)]
pub struct Fixture {
    pub table: String,
    pub name: String,
    pub row: toml::Table,
}

#[derive(Debug, Deserialize)]
pub struct TableSpec {
    pub columns: Vec<ColumnSpec>,
    #[serde(default)]
    pub checks: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
pub struct ColumnSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub null: bool,
}

#[derive(Debug, Deserialize)]
pub struct Realtime {
    pub tables: BTreeMap<String, String>,
    #[serde(default)]
    pub absent: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Do {
    Select,
    Insert,
    Update,
    Delete,
    /// A private Realtime channel join (`topic`): receive and send Broadcast and Presence.
    Join,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Allowed,
    Denied,
    Unreachable,
    Invalid,
}

#[derive(Debug, Deserialize)]
pub struct Transition {
    pub by: AppRole,
    pub from: SessionStatus,
    pub to: SessionStatus,
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub id: String,
    pub who: String,
    #[serde(rename = "do")]
    pub action: Do,
    /// Empty for a join, which names a `topic` instead.
    #[serde(default)]
    pub table: String,
    pub topic: Option<String>,
    pub row: Option<String>,
    pub values: Option<toml::Table>,
    pub filter: Option<String>,
    pub transition: Option<Transition>,
    pub expect: Option<Outcome>,
    pub visible: Option<Vec<String>>,
    pub then: Option<toml::Table>,
}

/// A `then` expectation for one column.
#[derive(Debug, Clone, PartialEq)]
pub enum Want {
    /// The time of the write.
    Now,
    /// A value the server made: not null, not the one sent.
    Fresh,
    Is(Value),
}

impl Book {
    pub fn load() -> Book {
        let text = std::fs::read_to_string(PATH).expect("read tests/authz/cases.toml");
        let book: Book = toml::from_str(&text).expect("cases.toml parses");
        assert_eq!(book.version, 1, "cases.toml format version");
        book
    }

    pub fn col_type(&self, table: &str, col: &str) -> Option<&str> {
        self.schema
            .get(table)?
            .columns
            .iter()
            .find(|c| c.name == col)
            .map(|c| c.ty.as_str())
    }

    /// A column value of the book as JSON, as the REST API takes it.
    pub fn value(&self, table: &str, col: &str, v: &toml::Value) -> Value {
        if let toml::Value::String(s) = v {
            if let Some(rest) = s.strip_prefix('@') {
                let (who, attr) = rest.split_once('.').unwrap_or((rest, ""));
                let p = &self.principals[who];
                return match attr {
                    "" => json!(p.id.as_deref().expect("principal id")),
                    "name" => json!(p.name.as_deref().expect("principal name")),
                    other => panic!("unknown principal attribute {other:?} in {s:?}"),
                };
            }
            if s == "$null" {
                return Value::Null;
            }
            if let Some(name) = s.strip_prefix("$fixture:") {
                return json!(self.fixture_id(table, name));
            }
            assert!(!s.starts_with('$'), "{s:?} is not a value here");
            if self.col_type(table, col) == Some("jsonb") {
                return serde_json::from_str(s).expect("a jsonb value is JSON text");
            }
        }
        serde_json::to_value(v).expect("TOML value as JSON")
    }

    pub fn row(&self, table: &str, values: &toml::Table) -> Map<String, Value> {
        values
            .iter()
            .map(|(k, v)| (k.clone(), self.value(table, k, v)))
            .collect()
    }

    pub fn want(&self, table: &str, then: &toml::Table) -> BTreeMap<String, Want> {
        then.iter()
            .map(|(k, v)| {
                let w = match v.as_str() {
                    Some("$now") => Want::Now,
                    Some("$fresh") => Want::Fresh,
                    _ => Want::Is(self.value(table, k, v)),
                };
                (k.clone(), w)
            })
            .collect()
    }

    pub fn fixtures<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a Fixture> + 'a {
        self.fixture.iter().filter(move |f| f.table == table)
    }

    pub fn fixture_id(&self, table: &str, name: &str) -> String {
        let f = self
            .fixtures(table)
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no fixture {name} in {table}"));
        match self.value(table, "id", &f.row["id"]) {
            Value::String(s) => s,
            other => other.to_string(),
        }
    }

    /// The fixture name of a row id of `table`, or the id itself marked as a stranger.
    pub fn fixture_name(&self, table: &str, id: &str) -> String {
        self.fixtures(table)
            .find(|f| self.fixture_id(table, &f.name) == id)
            .map_or_else(|| format!("?{id}"), |f| f.name.clone())
    }

    /// A join case's topic, each `$fixture:<name>` in it replaced by that session's id (as
    /// `scripts/pg-cases` does).
    pub fn topic(&self, c: &Case) -> String {
        let mut rest = c.topic.as_deref().expect("a join case has a topic");
        let mut out = String::new();
        while let Some(at) = rest.find("$fixture:") {
            out.push_str(&rest[..at]);
            let tail = &rest[at + "$fixture:".len()..];
            let end = tail
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(tail.len());
            out.push_str(&self.fixture_id("sessions", &tail[..end]));
            rest = &tail[end..];
        }
        out.push_str(rest);
        out
    }

    /// The claims `scripts/pg-cases` (`Book.claims`) builds for a principal, signed.
    pub fn token(&self, keys: &Keys, who: &str) -> String {
        let p = &self.principals[who];
        let role = match p.role {
            DbRole::Anon => "anon",
            DbRole::ServiceRole => "service_role",
            DbRole::Authenticated => "authenticated",
        };
        let mut c = json!({"role": role, "exp": 4_000_000_000i64});
        if let DbRole::Authenticated = p.role {
            c["sub"] = json!(
                p.id.as_deref()
                    .expect("an authenticated principal has an id")
            );
            c["is_anonymous"] = json!(p.anonymous);
            let provider = if p.anonymous { "anonymous" } else { "email" };
            c["app_metadata"] = json!({"provider": provider});
            if p.app_role == Some(AppRole::Staff) {
                c["app_metadata"]["role"] = json!("staff");
            }
            c["user_metadata"] = match &p.name {
                Some(n) => json!({"name": n}),
                None => json!({}),
            };
        }
        keys.sign_as(&c)
    }
}
