//! Supabase Realtime payloads carried inside Phoenix frames (`postgres_changes` flavour).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::phoenix::{Event, Message};

/// Which change kinds a binding listens to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChangeEvent {
    #[serde(rename = "*")]
    All,
    #[serde(rename = "INSERT")]
    Insert,
    #[serde(rename = "UPDATE")]
    Update,
    #[serde(rename = "DELETE")]
    Delete,
}

/// The kind of a committed change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChangeType {
    #[serde(rename = "INSERT")]
    Insert,
    #[serde(rename = "UPDATE")]
    Update,
    #[serde(rename = "DELETE")]
    Delete,
}

impl ChangeEvent {
    pub fn matches(self, t: ChangeType) -> bool {
        matches!(
            (self, t),
            (ChangeEvent::All, _)
                | (ChangeEvent::Insert, ChangeType::Insert)
                | (ChangeEvent::Update, ChangeType::Update)
                | (ChangeEvent::Delete, ChangeType::Delete)
        )
    }
}

/// One `config.postgres_changes[]` entry of a `phx_join`, as realtime-js sends it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PostgresChangeSpec {
    pub event: ChangeEvent,
    pub schema: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

/// The join reply's echo of a spec, with the server-assigned subscription id.
///
/// Read through [`FlatBoundChange`]: deserialising a `#[serde(flatten)]` field buffers the
/// object in serde's generic `Content` tree, and that machinery was ~65 KB of the app's wasm
/// (the app reads join replies). Writing it flattened costs little, so `Serialize` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "FlatBoundChange")]
pub struct BoundChange {
    pub id: u32,
    #[serde(flatten)]
    pub spec: PostgresChangeSpec,
}

/// [`BoundChange`] as it is on the wire: the id beside the spec's own fields.
#[derive(Deserialize)]
struct FlatBoundChange {
    id: u32,
    event: ChangeEvent,
    schema: String,
    #[serde(default)]
    table: Option<String>,
    #[serde(default)]
    filter: Option<String>,
}

impl From<FlatBoundChange> for BoundChange {
    fn from(f: FlatBoundChange) -> BoundChange {
        BoundChange {
            id: f.id,
            spec: PostgresChangeSpec {
                event: f.event,
                schema: f.schema,
                table: f.table,
                filter: f.filter,
            },
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JoinConfig {
    #[serde(default)]
    pub postgres_changes: Vec<PostgresChangeSpec>,
    /// Broadcast / presence / private settings are accepted and echoed but unused here.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A Broadcast + Presence channel's join settings (`config.broadcast`, `config.presence`,
/// `config.private`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RoomConfig {
    /// `broadcast.self`: receive our own broadcasts too.
    pub broadcast_self: bool,
    /// `broadcast.ack`: the server replies to each broadcast push.
    pub ack: bool,
    /// `presence.key`: the key our presence is tracked under (empty: the server makes one).
    pub presence_key: String,
    /// `private`: the server checks who may join (Supabase: RLS on `realtime.messages`).
    pub private: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JoinPayload {
    #[serde(default)]
    pub config: JoinConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

impl JoinPayload {
    /// A `phx_join` payload for `postgres_changes` alone, as supabase-js sends it: the full
    /// bindings, broadcast and presence off, a public channel, and the access token.
    pub fn postgres_changes(bindings: Vec<PostgresChangeSpec>, access_token: &str) -> JoinPayload {
        let mut other = Map::new();
        other.insert("broadcast".into(), json!({"ack": false, "self": false}));
        other.insert("presence".into(), json!({"key": "", "enabled": false}));
        other.insert("private".into(), json!(false));
        JoinPayload {
            config: JoinConfig {
                postgres_changes: bindings,
                other,
            },
            access_token: Some(access_token.to_owned()),
        }
    }

    /// A `phx_join` payload for a Broadcast + Presence channel (no `postgres_changes`), as
    /// supabase-js sends it for `channel(name, {config: {broadcast: {self, ack}, presence:
    /// {key}, private}})` with a presence listener (which turns `presence.enabled` on).
    pub fn room(room: &RoomConfig, access_token: &str) -> JoinPayload {
        let mut other = Map::new();
        other.insert(
            "broadcast".into(),
            json!({"ack": room.ack, "self": room.broadcast_self}),
        );
        other.insert(
            "presence".into(),
            json!({"key": room.presence_key, "enabled": true}),
        );
        other.insert("private".into(), json!(room.private));
        JoinPayload {
            config: JoinConfig {
                postgres_changes: Vec::new(),
                other,
            },
            access_token: Some(access_token.to_owned()),
        }
    }

    /// The `phx_join` frame on `topic`. A join's ref is also its join ref, which every later
    /// message of that join carries.
    pub fn into_message(self, topic: String, join_ref: String) -> Message {
        let payload = serde_json::to_value(self).unwrap_or(Value::Null);
        Message::new(topic, Event::Join, payload).with_refs(Some(join_ref.clone()), Some(join_ref))
    }
}

/// `phx_reply` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyPayload {
    pub status: ReplyStatus,
    #[serde(default)]
    pub response: Value,
}

impl ReplyPayload {
    /// The `reason` an error reply gives, if any.
    pub fn reason(&self) -> Option<&str> {
        self.response.get("reason").and_then(Value::as_str)
    }

    /// The server's subscription ids for `bindings`, from a join reply's `postgres_changes`:
    /// entry i must echo binding i (event, schema, table, filter; a missing filter equals a
    /// missing filter), as realtime-js `_updatePostgresBindings` checks. `None` on a mismatch.
    pub fn bound_ids(&self, bindings: &[PostgresChangeSpec]) -> Option<Vec<u32>> {
        let server: Vec<BoundChange> = self
            .response
            .get("postgres_changes")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        bindings
            .iter()
            .enumerate()
            .map(|(i, ours)| server.get(i).filter(|s| s.spec == *ours).map(|s| s.id))
            .collect()
    }
}

/// What a `phx_join` reply means for a channel with given bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinOutcome<'a> {
    /// Joined: the server's subscription id for each binding, in order.
    Joined(Vec<u32>),
    /// An error or timeout reply, with the server's reason if it gave one.
    Refused(Option<&'a str>),
    /// An ok reply whose `postgres_changes` do not echo the bindings (see
    /// [`ReplyPayload::bound_ids`]).
    Mismatch,
}

impl ReplyPayload {
    /// Reads this reply as the answer to a `phx_join` with `bindings`.
    pub fn join_outcome(&self, bindings: &[PostgresChangeSpec]) -> JoinOutcome<'_> {
        match self.status {
            ReplyStatus::Ok => self
                .bound_ids(bindings)
                .map_or(JoinOutcome::Mismatch, JoinOutcome::Joined),
            ReplyStatus::Error | ReplyStatus::Timeout => JoinOutcome::Refused(self.reason()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyStatus {
    Ok,
    Error,
    Timeout,
}

/// `system` payload, e.g. `{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"orders"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemPayload {
    pub extension: String,
    pub status: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

pub const SUBSCRIBED_TO_POSTGRES: &str = "Subscribed to PostgreSQL";

/// What a `system` message says about a channel's `postgres_changes` subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostgresNotice<'a> {
    /// "Subscribed to PostgreSQL": changes flow from now on.
    Subscribed,
    /// The subscription failed; the message says why.
    Failed(&'a str),
}

impl SystemPayload {
    /// The `postgres_changes` notice this message carries; `None` for other extensions and
    /// other ok messages.
    pub fn postgres_notice(&self) -> Option<PostgresNotice<'_>> {
        match (self.extension.as_str(), self.status.as_str()) {
            ("postgres_changes", "ok") if self.message == SUBSCRIBED_TO_POSTGRES => {
                Some(PostgresNotice::Subscribed)
            }
            ("postgres_changes", "error") => Some(PostgresNotice::Failed(&self.message)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
}

/// `postgres_changes` payload `data`. Key presence per type follows hosted Supabase:
/// INSERT has `record` only, UPDATE both, DELETE `old_record` only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeData {
    pub schema: String,
    pub table: String,
    pub commit_timestamp: String,
    #[serde(rename = "type")]
    pub change_type: ChangeType,
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_record: Option<Map<String, Value>>,
    pub errors: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangesPayload {
    pub ids: Vec<u32>,
    pub data: ChangeData,
}

impl ChangesPayload {
    /// Whether this change is for a channel whose bindings got these server ids: realtime-js
    /// dispatches when one of them is in `ids` (a change without ids is for every binding).
    pub fn is_for(&self, bound_ids: &[u32]) -> bool {
        self.ids.is_empty() || self.ids.iter().any(|id| bound_ids.contains(id))
    }
}

/// Topic for a channel name (`realtime:<name>`).
pub fn topic_for(name: &str) -> String {
    format!("realtime:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_payload_key_presence() {
        let insert = ChangeData {
            schema: "public".into(),
            table: "t".into(),
            commit_timestamp: "2025-01-01T00:00:00.000Z".into(),
            change_type: ChangeType::Insert,
            columns: vec![],
            record: Some(Map::new()),
            old_record: None,
            errors: None,
        };
        let v = serde_json::to_value(&insert).unwrap();
        assert!(v.get("record").is_some());
        assert!(v.get("old_record").is_none());
        assert_eq!(v["errors"], Value::Null);
    }

    #[test]
    fn bound_change_round_trips_flat() {
        let b = BoundChange {
            id: 7,
            spec: PostgresChangeSpec {
                event: ChangeEvent::Insert,
                schema: "public".into(),
                table: Some("kiosk_results".into()),
                filter: None,
            },
        };
        let v = serde_json::to_value(&b).unwrap();
        assert_eq!(
            v,
            json!({"id": 7, "event": "INSERT", "schema": "public", "table": "kiosk_results"})
        );
        assert_eq!(serde_json::from_value::<BoundChange>(v).unwrap(), b);
        // Extra keys are ignored, as they were with `flatten`.
        let extra =
            json!({"id": 1, "event": "*", "schema": "public", "filter": "a=eq.1", "x": true});
        let parsed: BoundChange = serde_json::from_value(extra).unwrap();
        assert_eq!(parsed.spec.filter.as_deref(), Some("a=eq.1"));
        assert_eq!(parsed.spec.table, None);
    }

    #[test]
    fn room_join_matches_supabase_js() {
        let room = RoomConfig {
            broadcast_self: false,
            ack: true,
            presence_key: "u1".into(),
            private: true,
        };
        let v = serde_json::to_value(JoinPayload::room(&room, "tok")).unwrap();
        assert_eq!(
            v,
            json!({"config": {"postgres_changes": [], "broadcast": {"ack": true, "self": false},
                "presence": {"key": "u1", "enabled": true}, "private": true}, "access_token": "tok"})
        );
    }

    #[test]
    fn join_payload_parses_realtime_js_shape() {
        let p: JoinPayload = serde_json::from_value(json!({
            "config": {"broadcast": {"ack": false, "self": false}, "presence": {"key": "", "enabled": false},
              "postgres_changes": [{"event": "*", "schema": "public", "table": "orders", "filter": "status=eq.open"}],
              "private": false},
            "access_token": "tok"
        }))
        .unwrap();
        assert_eq!(p.config.postgres_changes[0].event, ChangeEvent::All);
        assert_eq!(p.access_token.as_deref(), Some("tok"));
        assert!(
            serde_json::from_value::<JoinPayload>(
                json!({"config": {"postgres_changes": [{"event": "TRUNCATE", "schema": "public"}]}})
            )
            .is_err()
        );
    }
}
