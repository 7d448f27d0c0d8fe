//! A room channel's Broadcast and Presence payloads, as realtime-js sends and reads them.
//!
//! - Presence pushes: `{"type": "presence", "event": "track", "payload": meta}` and
//!   `{"type": "presence", "event": "untrack"}`.
//! - `presence_state`: `{key: {"metas": [meta + "phx_ref"]}}`; `presence_diff`:
//!   `{"joins": state, "leaves": state}` (a meta may carry `phx_ref_prev` too).
//! - Broadcast pushes and deliveries: `{"type": "broadcast", "event": e, "payload": p}`.
//!
//! The metas are typed to what Concierge tracks ([`PresenceMeta`]: a name and a role); other
//! keys another client may track are ignored when read, so no generic JSON tree is kept.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::message::AuthorRole;

/// What a Concierge client tracks in a room: who it is, for "Anna is here".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenceMeta {
    pub name: String,
    pub role: AuthorRole,
}

/// One meta of a `presence_state` / `presence_diff` key, as the server sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RawMeta {
    /// Unique per track; realtime-js calls it `presence_ref`.
    pub phx_ref: String,
    #[serde(default)]
    pub name: String,
    /// `None`: a meta some other client tracked without a role we know (one odd meta must
    /// not make the whole state unreadable).
    #[serde(default, deserialize_with = "lenient_role")]
    pub role: Option<AuthorRole>,
}

fn lenient_role<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<AuthorRole>, D::Error> {
    let text = Option::<String>::deserialize(d).unwrap_or(None);
    Ok(text.as_deref().and_then(AuthorRole::parse))
}

/// A key's metas on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RawMetas {
    #[serde(default)]
    pub metas: Vec<RawMeta>,
}

/// A `presence_state` payload (also the two halves of a diff).
pub type RawPresenceState = BTreeMap<String, RawMetas>;

/// A `presence_diff` payload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RawPresenceDiff {
    #[serde(default)]
    pub joins: RawPresenceState,
    #[serde(default)]
    pub leaves: RawPresenceState,
}

/// The `type` of a push on a room channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushType {
    Broadcast,
    Presence,
}

/// What a presence push asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresenceOp {
    Track,
    Untrack,
}

/// A `presence` push: track with a meta, or untrack (no payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresencePush<'a> {
    #[serde(rename = "type")]
    pub kind: PushType,
    pub event: PresenceOp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<&'a PresenceMeta>,
}

impl<'a> PresencePush<'a> {
    pub fn track(meta: &'a PresenceMeta) -> PresencePush<'a> {
        PresencePush {
            kind: PushType::Presence,
            event: PresenceOp::Track,
            payload: Some(meta),
        }
    }

    pub fn untrack() -> PresencePush<'static> {
        PresencePush {
            kind: PushType::Presence,
            event: PresenceOp::Untrack,
            payload: None,
        }
    }
}

/// The Broadcast events Concierge sends in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomEvent {
    /// Someone is typing in the conversation.
    Typing,
}

/// Who is typing: the presence key (so a person's tabs count once) and the name to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingPayload {
    pub key: String,
    pub name: String,
}

/// A `broadcast` push or delivery of a [`RoomEvent`]. Broadcasts of events this client does
/// not know fail to parse and are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomBroadcast {
    #[serde(rename = "type")]
    pub kind: PushType,
    pub event: RoomEvent,
    pub payload: TypingPayload,
}

impl RoomBroadcast {
    pub fn typing(key: &str, name: &str) -> RoomBroadcast {
        RoomBroadcast {
            kind: PushType::Broadcast,
            event: RoomEvent::Typing,
            payload: TypingPayload {
                key: key.to_owned(),
                name: name.to_owned(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pushes_have_realtime_js_shapes() {
        let meta = PresenceMeta {
            name: "Anna".into(),
            role: AuthorRole::Staff,
        };
        assert_eq!(
            serde_json::to_value(PresencePush::track(&meta)).unwrap(),
            json!({"type": "presence", "event": "track", "payload": {"name": "Anna", "role": "staff"}})
        );
        assert_eq!(
            serde_json::to_value(PresencePush::untrack()).unwrap(),
            json!({"type": "presence", "event": "untrack"})
        );
        assert_eq!(
            serde_json::to_value(RoomBroadcast::typing("k1", "Anna")).unwrap(),
            json!({"type": "broadcast", "event": "typing", "payload": {"key": "k1", "name": "Anna"}})
        );
    }

    #[test]
    fn diffs_read_leniently() {
        let d: RawPresenceDiff = serde_json::from_value(json!({
            "joins": {"k": {"metas": [{"phx_ref": "F2", "phx_ref_prev": "F1", "name": "Anna", "role": "staff", "x": 1}]}},
            "leaves": {"j": {"metas": [{"phx_ref": "F0", "online_at": 5, "role": "kiosk"}]}}
        }))
        .unwrap();
        assert_eq!(d.joins["k"].metas[0].role, Some(AuthorRole::Staff));
        assert_eq!(d.leaves["j"].metas[0].name, "");
        assert_eq!(d.leaves["j"].metas[0].role, None);
        assert!(
            serde_json::from_value::<RoomBroadcast>(
                json!({"type": "broadcast", "event": "cursor", "payload": {}})
            )
            .is_err()
        );
    }
}
