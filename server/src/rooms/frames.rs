//! Broadcast and Presence frames on the wire. A broadcast is encoded at most once per
//! serializer, however many members receive it.

use axum::extract::ws::Utf8Bytes;
use concierge_wire::Vsn;
use concierge_wire::phoenix::{Event, Message};
use serde_json::Value;

pub const BROADCAST: &str = "broadcast";
pub const PRESENCE: &str = "presence";
pub const PRESENCE_STATE: &str = "presence_state";
pub const PRESENCE_DIFF: &str = "presence_diff";

/// A frame pushed to a whole topic (refs null, like Phoenix's fastlane), encoded lazily once
/// per serializer.
pub struct TopicFrame<'a> {
    topic: &'a str,
    event: &'static str,
    payload: &'a Value,
    v1: Option<Utf8Bytes>,
    v2: Option<Utf8Bytes>,
}

impl<'a> TopicFrame<'a> {
    pub fn new(topic: &'a str, event: &'static str, payload: &'a Value) -> TopicFrame<'a> {
        TopicFrame {
            topic,
            event,
            payload,
            v1: None,
            v2: None,
        }
    }

    pub fn encoded(&mut self, vsn: Vsn) -> Utf8Bytes {
        let slot = match vsn {
            Vsn::V1 => &mut self.v1,
            Vsn::V2 => &mut self.v2,
        };
        slot.get_or_insert_with(|| {
            let m = Message::new(
                self.topic,
                Event::Other(self.event.to_owned()),
                self.payload.clone(),
            );
            Utf8Bytes::from(m.encode_server(vsn))
        })
        .clone()
    }
}

/// A push to one member of a channel (its join ref, no ref), e.g. `presence_state`.
pub fn member_frame(
    vsn: Vsn,
    topic: &str,
    join_ref: &Option<String>,
    event: &'static str,
    payload: Value,
) -> Utf8Bytes {
    let m = Message::new(topic, Event::Other(event.to_owned()), payload)
        .with_refs(join_ref.clone(), None);
    Utf8Bytes::from(m.encode_server(vsn))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn topic_frames_have_null_refs_in_both_serializers() {
        let p = json!({"type": "broadcast", "event": "e", "payload": {"a": 1}});
        let mut f = TopicFrame::new("realtime:room", BROADCAST, &p);
        let v2 = f.encoded(Vsn::V2);
        assert_eq!(
            v2.as_str(),
            r#"[null,null,"realtime:room","broadcast",{"type":"broadcast","event":"e","payload":{"a":1}}]"#
        );
        let v1 = f.encoded(Vsn::V1);
        assert!(!v1.as_str().contains("join_ref"));
        assert_eq!(Message::decode(v1.as_str(), Vsn::V1).unwrap().payload, p);
    }
}
