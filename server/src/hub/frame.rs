//! The `postgres_changes` frame on the wire, in both serializers.

use concierge_wire::Vsn;
use concierge_wire::realtime::ChangeData;

use crate::db::Change;

/// The `data` object, serialized once per change.
pub fn encode_data(change: &Change) -> String {
    let data = ChangeData {
        schema: "public".into(),
        table: change.table.name().into(),
        commit_timestamp: change.commit_timestamp.clone(),
        change_type: change.change_type,
        columns: change.table.realtime_columns(),
        record: change.record.clone(),
        old_record: change.old_record.clone(),
        errors: None,
    };
    serde_json::to_string(&data).unwrap_or_default()
}

/// A whole `postgres_changes` frame around pre-encoded `data` (server form: refs null; V1
/// frames carry no `join_ref`).
pub fn encode_frame(vsn: Vsn, topic: &str, ids: &[u32], data: &str) -> String {
    let topic = serde_json::to_string(topic).unwrap_or_default();
    let ids = serde_json::to_string(ids).unwrap_or_default();
    match vsn {
        Vsn::V1 => format!(
            r#"{{"topic":{topic},"event":"postgres_changes","payload":{{"ids":{ids},"data":{data}}},"ref":null}}"#
        ),
        Vsn::V2 => {
            format!(r#"[null,null,{topic},"postgres_changes",{{"ids":{ids},"data":{data}}}]"#)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concierge_wire::phoenix::Message;
    use serde_json::json;

    #[test]
    fn frames_decode_in_both_serializers() {
        let data = r#"{"a":1}"#;
        let v1 =
            Message::decode(&encode_frame(Vsn::V1, "realtime:x\"y", &[3], data), Vsn::V1).unwrap();
        let v2 =
            Message::decode(&encode_frame(Vsn::V2, "realtime:x\"y", &[3], data), Vsn::V2).unwrap();
        assert_eq!(v1, v2);
        assert_eq!(v1.topic, "realtime:x\"y");
        assert_eq!(v1.payload, json!({"ids": [3], "data": {"a": 1}}));
        assert!(!encode_frame(Vsn::V1, "t", &[1], data).contains("join_ref"));
    }
}
