//! Phoenix channel frames and the two Supabase Realtime serializers.
//!
//! - `vsn=1.0.0`: JSON objects `{topic, event, payload, ref, join_ref?}`. Server→client frames
//!   carry no `join_ref` key (Phoenix's V1 serializer takes only topic/event/payload/ref).
//! - `vsn=2.0.0`: JSON arrays `[join_ref, ref, topic, event, payload]`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Largest text frame either side accepts; bigger frames are refused before parsing.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;

/// The serializer version negotiated through the `vsn` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Vsn {
    /// JSON objects; the server default when `vsn` is absent.
    V1,
    /// JSON arrays; what current supabase-js sends.
    #[default]
    V2,
}

impl Vsn {
    /// Parses the `vsn` query value. Absent means 1.0.0, as on hosted Supabase.
    pub fn from_query(value: Option<&str>) -> Result<Vsn, CodecError> {
        match value {
            None => Ok(Vsn::V1),
            Some(v) if v.starts_with("1.") => Ok(Vsn::V1),
            Some(v) if v.starts_with("2.") => Ok(Vsn::V2),
            Some(other) => Err(CodecError::UnsupportedVsn(other.chars().take(32).collect())),
        }
    }

    /// The exact version text (`1.0.0` or `2.0.0`), as `/config.json` names it.
    pub fn parse(value: &str) -> Option<Vsn> {
        [Vsn::V1, Vsn::V2].into_iter().find(|v| v.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Vsn::V1 => "1.0.0",
            Vsn::V2 => "2.0.0",
        }
    }
}

/// Serialized as its version text, so `/config.json` keeps `"realtime_vsn": "2.0.0"`.
impl Serialize for Vsn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Vsn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Vsn, D::Error> {
        let text = String::deserialize(d)?;
        Vsn::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(CodecError::UnsupportedVsn(text.chars().take(32).collect()))
        })
    }
}

/// Phoenix and Supabase event names. Unknown names are kept, not rejected: the protocol grows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Event {
    Join,
    Leave,
    Reply,
    Close,
    Error,
    Heartbeat,
    AccessToken,
    System,
    PostgresChanges,
    /// A Broadcast message (client push and server delivery alike).
    Broadcast,
    /// A Presence push (`track` / `untrack` in its payload).
    Presence,
    /// The whole Presence table, sent to a member on join (or on its first track).
    PresenceState,
    /// Presence joins and leaves since the last state or diff.
    PresenceDiff,
    Other(String),
}

impl Event {
    pub fn as_str(&self) -> &str {
        match self {
            Event::Join => "phx_join",
            Event::Leave => "phx_leave",
            Event::Reply => "phx_reply",
            Event::Close => "phx_close",
            Event::Error => "phx_error",
            Event::Heartbeat => "heartbeat",
            Event::AccessToken => "access_token",
            Event::System => "system",
            Event::PostgresChanges => "postgres_changes",
            Event::Broadcast => "broadcast",
            Event::Presence => "presence",
            Event::PresenceState => "presence_state",
            Event::PresenceDiff => "presence_diff",
            Event::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> Event {
        match s {
            "phx_join" => Event::Join,
            "phx_leave" => Event::Leave,
            "phx_reply" => Event::Reply,
            "phx_close" => Event::Close,
            "phx_error" => Event::Error,
            "heartbeat" => Event::Heartbeat,
            "access_token" => Event::AccessToken,
            "system" => Event::System,
            "postgres_changes" => Event::PostgresChanges,
            "broadcast" => Event::Broadcast,
            "presence" => Event::Presence,
            "presence_state" => Event::PresenceState,
            "presence_diff" => Event::PresenceDiff,
            other => Event::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One Phoenix frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub join_ref: Option<String>,
    pub msg_ref: Option<String>,
    pub topic: String,
    pub event: Event,
    pub payload: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("frame is {0} bytes, over the {MAX_FRAME_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("frame is not valid JSON: {0}")]
    Json(String),
    #[error("frame has the wrong shape: {0}")]
    Shape(&'static str),
    #[error("unsupported serializer version {0:?}")]
    UnsupportedVsn(String),
}

/// The topic Phoenix uses for socket-level messages (heartbeats).
pub const PHOENIX_TOPIC: &str = "phoenix";

#[derive(Deserialize)]
struct V1In {
    topic: String,
    event: String,
    #[serde(default)]
    payload: Value,
    #[serde(rename = "ref", default, deserialize_with = "ref_string")]
    msg_ref: Option<String>,
    #[serde(default, deserialize_with = "ref_string")]
    join_ref: Option<String>,
}

#[derive(Serialize)]
struct V1Out<'a> {
    topic: &'a str,
    event: &'a str,
    payload: &'a Value,
    #[serde(rename = "ref")]
    msg_ref: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    join_ref: Option<&'a String>,
}

/// Refs are strings on the wire, but be lenient with integers (some clients send them).
fn ref_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    Ok(match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => return Err(serde::de::Error::custom("ref must be a string")),
    })
}

fn value_ref(v: &Value) -> Result<Option<String>, CodecError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(CodecError::Shape("ref must be a string or null")),
    }
}

impl Message {
    pub fn new(topic: impl Into<String>, event: Event, payload: Value) -> Message {
        Message {
            join_ref: None,
            msg_ref: None,
            topic: topic.into(),
            event,
            payload,
        }
    }

    pub fn with_refs(mut self, join_ref: Option<String>, msg_ref: Option<String>) -> Message {
        self.join_ref = join_ref;
        self.msg_ref = msg_ref;
        self
    }

    /// Encodes as a client would send it (V1 includes `join_ref` when set).
    pub fn encode(&self, vsn: Vsn) -> String {
        self.encode_inner(vsn, true)
    }

    /// Encodes as the server sends it: V1 server frames omit `join_ref`.
    pub fn encode_server(&self, vsn: Vsn) -> String {
        self.encode_inner(vsn, false)
    }

    /// Whether this lifecycle message belongs to the channel join `join_ref` (messages of an
    /// earlier join are dropped, as phoenix.js does). V2 frames carry the join ref; V1 server
    /// frames carry none, and for `phx_close` / `phx_error` their `ref` is the join ref.
    pub fn is_for_join(&self, join_ref: &str) -> bool {
        match (&self.join_ref, &self.event) {
            (Some(jr), _) => jr == join_ref,
            (None, Event::Close | Event::Error) => {
                self.msg_ref.as_deref().is_none_or(|r| r == join_ref)
            }
            (None, _) => true,
        }
    }

    fn encode_inner(&self, vsn: Vsn, v1_join_ref: bool) -> String {
        match vsn {
            Vsn::V1 => serde_json::to_string(&V1Out {
                topic: &self.topic,
                event: self.event.as_str(),
                payload: &self.payload,
                msg_ref: &self.msg_ref,
                join_ref: if v1_join_ref {
                    self.join_ref.as_ref()
                } else {
                    None
                },
            }),
            Vsn::V2 => serde_json::to_string(&(
                &self.join_ref,
                &self.msg_ref,
                &self.topic,
                self.event.as_str(),
                &self.payload,
            )),
        }
        // Serializing owned JSON values and strings cannot fail.
        .unwrap_or_default()
    }

    /// Decodes one text frame. Never panics; every failure is a [`CodecError`].
    pub fn decode(text: &str, vsn: Vsn) -> Result<Message, CodecError> {
        if text.len() > MAX_FRAME_BYTES {
            return Err(CodecError::TooLarge(text.len()));
        }
        match vsn {
            Vsn::V1 => {
                let raw: V1In =
                    serde_json::from_str(text).map_err(|e| CodecError::Json(e.to_string()))?;
                Ok(Message {
                    join_ref: raw.join_ref,
                    msg_ref: raw.msg_ref,
                    topic: raw.topic,
                    event: Event::parse(&raw.event),
                    payload: raw.payload,
                })
            }
            Vsn::V2 => {
                let raw: Value =
                    serde_json::from_str(text).map_err(|e| CodecError::Json(e.to_string()))?;
                let Value::Array(mut items) = raw else {
                    return Err(CodecError::Shape("expected a JSON array"));
                };
                if items.len() != 5 {
                    return Err(CodecError::Shape("expected 5 elements"));
                }
                let payload = items.pop().unwrap_or(Value::Null);
                let event = match items.pop() {
                    Some(Value::String(s)) => Event::parse(&s),
                    _ => return Err(CodecError::Shape("event must be a string")),
                };
                let topic = match items.pop() {
                    Some(Value::String(s)) => s,
                    _ => return Err(CodecError::Shape("topic must be a string")),
                };
                let msg_ref = value_ref(&items.pop().unwrap_or(Value::Null))?;
                let join_ref = value_ref(&items.pop().unwrap_or(Value::Null))?;
                Ok(Message {
                    join_ref,
                    msg_ref,
                    topic,
                    event,
                    payload,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn v2_round_trip() {
        let m = Message::new("realtime:x", Event::Join, json!({"a": 1}))
            .with_refs(Some("1".into()), Some("1".into()));
        let s = m.encode(Vsn::V2);
        assert_eq!(s, r#"["1","1","realtime:x","phx_join",{"a":1}]"#);
        assert_eq!(Message::decode(&s, Vsn::V2).unwrap(), m);
    }

    #[test]
    fn v1_round_trip_and_server_form() {
        let m = Message::new("realtime:x", Event::Reply, json!({}))
            .with_refs(Some("3".into()), Some("4".into()));
        assert_eq!(Message::decode(&m.encode(Vsn::V1), Vsn::V1).unwrap(), m);
        let server = m.encode_server(Vsn::V1);
        assert!(!server.contains("join_ref"), "{server}");
        let back = Message::decode(&server, Vsn::V1).unwrap();
        assert_eq!(back.join_ref, None);
        assert_eq!(back.msg_ref.as_deref(), Some("4"));
    }

    #[test]
    fn v1_null_ref_is_kept_as_null() {
        let m = Message::new("realtime:x", Event::PostgresChanges, json!({}));
        assert_eq!(
            m.encode_server(Vsn::V1),
            r#"{"topic":"realtime:x","event":"postgres_changes","payload":{},"ref":null}"#
        );
    }

    #[test]
    fn malformed_frames_are_errors() {
        for bad in [
            "",
            "[",
            "{}",
            "[1,2,3]",
            r#"[null,null,5,"e",{}]"#,
            r#"[null,null,"t",5,{}]"#,
            r#"[[],null,"t","e",{}]"#,
            r#"{"topic":1,"event":"x","payload":{},"ref":null}"#,
            "\u{0}",
        ] {
            assert!(
                Message::decode(bad, Vsn::V2).is_err() || Message::decode(bad, Vsn::V1).is_err(),
                "{bad}"
            );
        }
        let huge = "x".repeat(MAX_FRAME_BYTES + 1);
        assert_eq!(
            Message::decode(&huge, Vsn::V2),
            Err(CodecError::TooLarge(huge.len()))
        );
    }

    #[test]
    fn vsn_query() {
        assert_eq!(Vsn::from_query(None).unwrap(), Vsn::V1);
        assert_eq!(Vsn::from_query(Some("2.0.0")).unwrap(), Vsn::V2);
        assert!(Vsn::from_query(Some("9")).is_err());
    }

    #[test]
    fn vsn_text_is_exact_and_round_trips_through_serde() {
        assert_eq!(Vsn::parse("1.0.0"), Some(Vsn::V1));
        assert_eq!(Vsn::parse("2.0.0"), Some(Vsn::V2));
        assert_eq!(Vsn::parse("2.0"), None);
        assert_eq!(serde_json::to_value(Vsn::V1).unwrap(), json!("1.0.0"));
        assert_eq!(
            serde_json::from_value::<Vsn>(json!("2.0.0")).unwrap(),
            Vsn::V2
        );
        assert!(serde_json::from_value::<Vsn>(json!("3.0.0")).is_err());
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(s in ".{0,200}") {
            let _ = Message::decode(&s, Vsn::V1);
            let _ = Message::decode(&s, Vsn::V2);
        }

        #[test]
        fn round_trip_any(topic in ".{0,40}", ev in "[a-z_]{1,20}", jr in proptest::option::of("[0-9]{1,5}"), r in proptest::option::of("[0-9]{1,5}")) {
            let m = Message::new(topic, Event::parse(&ev), json!({"k": "v"})).with_refs(jr, r);
            proptest::prop_assert_eq!(Message::decode(&m.encode(Vsn::V2), Vsn::V2).unwrap(), m.clone());
            proptest::prop_assert_eq!(Message::decode(&m.encode(Vsn::V1), Vsn::V1).unwrap(), m);
        }
    }
}
