//! A join's Broadcast / Presence / private settings (`config.broadcast`, `config.presence`,
//! `config.private`), read leniently: Supabase accepts `"true"` as well as `true`.

use serde_json::{Map, Value};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelOptions {
    /// `config.broadcast.self`: receive its own broadcasts.
    pub self_broadcast: bool,
    /// `config.broadcast.ack`: the server replies to each broadcast push.
    pub ack: bool,
    /// `config.presence.key`; empty means "generate one" (Supabase: a UUID).
    pub presence_key: String,
    /// `config.presence.enabled`: send `presence_state` on join.
    pub presence: bool,
    /// `config.private`.
    pub private: bool,
}

fn flag(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

impl ChannelOptions {
    /// From the join config's keys other than `postgres_changes`.
    pub fn from_config(config: &Map<String, Value>) -> ChannelOptions {
        let broadcast = config.get("broadcast");
        let presence = config.get("presence");
        let key = presence
            .and_then(|p| p.get("key"))
            .map(|k| match k {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        ChannelOptions {
            self_broadcast: flag(broadcast.and_then(|b| b.get("self"))),
            ack: flag(broadcast.and_then(|b| b.get("ack"))),
            presence_key: if key.is_empty() {
                uuid::Uuid::new_v4().to_string()
            } else {
                key
            },
            presence: flag(presence.and_then(|p| p.get("enabled"))),
            private: flag(config.get("private")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_supabase_js_config_and_generates_a_key() {
        let c = json!({"broadcast": {"ack": true, "self": "true"}, "presence": {"key": "", "enabled": true}, "private": true});
        let o = ChannelOptions::from_config(c.as_object().unwrap());
        assert!(o.ack && o.self_broadcast && o.presence && o.private);
        assert_eq!(o.presence_key.len(), 36);
        let o =
            ChannelOptions::from_config(json!({"presence": {"key": "anna"}}).as_object().unwrap());
        assert_eq!(o.presence_key, "anna");
        assert!(!o.ack && !o.self_broadcast && !o.presence && !o.private);
    }
}
