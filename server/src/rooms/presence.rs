//! One channel topic's Presence table, as Phoenix.Presence keeps it: each key (the channel's
//! `config.presence.key`, or a generated one) holds one *meta* per tracking channel, each with
//! its own `phx_ref`. realtime-js turns `phx_ref` into `presence_ref`.
//!
//! Changes come out as Phoenix `presence_diff` payloads: `{"joins": {key: {"metas": [...]}},
//! "leaves": {...}}`. Re-tracking with a new payload is a leave of the old meta plus a join of
//! the new one carrying `phx_ref_prev`, as Phoenix.Tracker's update does.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::MemberId;

struct Entry {
    member: MemberId,
    phx_ref: String,
    meta: Map<String, Value>,
}

impl Entry {
    fn render(&self, prev: Option<&str>) -> Value {
        let mut m = self.meta.clone();
        m.insert("phx_ref".into(), Value::String(self.phx_ref.clone()));
        if let Some(p) = prev {
            m.insert("phx_ref_prev".into(), Value::String(p.to_owned()));
        }
        Value::Object(m)
    }
}

/// What a track did.
#[derive(Debug, PartialEq)]
pub enum Tracked {
    /// Same payload as before: nothing to tell anyone (Supabase: `no_payload_change`).
    Unchanged,
    /// A `presence_diff` payload.
    Diff(Value),
}

#[derive(Default)]
pub struct PresenceTable {
    by_key: BTreeMap<String, Vec<Entry>>,
    len: usize,
}

fn one(key: &str, metas: Vec<Value>) -> Value {
    json!({ key: {"metas": metas} })
}

impl PresenceTable {
    /// Metas held, over all keys.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `member` already has a meta under `key` (an update, not a new entry).
    pub fn holds(&self, member: MemberId, key: &str) -> bool {
        self.by_key
            .get(key)
            .is_some_and(|v| v.iter().any(|e| e.member == member))
    }

    /// Adds or replaces `member`'s meta under `key`; `phx_ref` is the new meta's ref.
    pub fn track(
        &mut self,
        member: MemberId,
        key: &str,
        meta: Map<String, Value>,
        phx_ref: String,
    ) -> Tracked {
        let metas = self.by_key.entry(key.to_owned()).or_default();
        let new = Entry {
            member,
            phx_ref,
            meta,
        };
        match metas.iter_mut().find(|e| e.member == member) {
            Some(old) if old.meta == new.meta => Tracked::Unchanged,
            Some(old) => {
                let left = old.render(None);
                let prev = std::mem::replace(old, new);
                let joined = old.render(Some(&prev.phx_ref));
                Tracked::Diff(
                    json!({"joins": one(key, vec![joined]), "leaves": one(key, vec![left])}),
                )
            }
            None => {
                let joined = new.render(None);
                metas.push(new);
                self.len += 1;
                Tracked::Diff(json!({"joins": one(key, vec![joined]), "leaves": {}}))
            }
        }
    }

    /// Removes `member`'s meta under `key`; the `presence_diff` payload if there was one.
    pub fn untrack(&mut self, member: MemberId, key: &str) -> Option<Value> {
        let metas = self.by_key.get_mut(key)?;
        let at = metas.iter().position(|e| e.member == member)?;
        let gone = metas.remove(at);
        if metas.is_empty() {
            self.by_key.remove(key);
        }
        self.len -= 1;
        Some(json!({"joins": {}, "leaves": one(key, vec![gone.render(None)])}))
    }

    /// The `presence_state` payload: every key with its metas.
    pub fn state(&self) -> Value {
        let mut out = Map::new();
        for (key, metas) in &self.by_key {
            let metas: Vec<Value> = metas.iter().map(|e| e.render(None)).collect();
            out.insert(key.clone(), json!({"metas": metas}));
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn track_update_untrack_make_phoenix_diffs() {
        let mut t = PresenceTable::default();
        let d = t.track(1, "anna", meta(json!({"name": "Anna"})), "r1".into());
        assert_eq!(
            d,
            Tracked::Diff(
                json!({"joins": {"anna": {"metas": [{"name": "Anna", "phx_ref": "r1"}]}}, "leaves": {}})
            )
        );
        assert_eq!(
            t.track(1, "anna", meta(json!({"name": "Anna"})), "r2".into()),
            Tracked::Unchanged
        );
        let d = t.track(
            1,
            "anna",
            meta(json!({"name": "Anna", "typing": true})),
            "r3".into(),
        );
        assert_eq!(
            d,
            Tracked::Diff(json!({
                "joins": {"anna": {"metas": [{"name": "Anna", "typing": true, "phx_ref": "r3", "phx_ref_prev": "r1"}]}},
                "leaves": {"anna": {"metas": [{"name": "Anna", "phx_ref": "r1"}]}}
            }))
        );
        t.track(
            2,
            "anna",
            meta(json!({"name": "Anna (phone)"})),
            "r4".into(),
        );
        assert_eq!(t.len(), 2);
        assert_eq!(t.state()["anna"]["metas"].as_array().unwrap().len(), 2);
        let d = t.untrack(1, "anna").unwrap();
        assert_eq!(d["leaves"]["anna"]["metas"][0]["phx_ref"], "r3");
        assert!(t.untrack(1, "anna").is_none());
        assert!(t.untrack(2, "anna").is_some());
        assert_eq!(t.state(), json!({}));
        assert_eq!(t.len(), 0);
    }
}
