//! Who is in a room: the Presence state merged from `presence_state` and `presence_diff`
//! exactly as realtime-js's `RealtimePresence` merges it.
//!
//! - State: presence key → metas, each meta identified by its `presence_ref` (the server's
//!   `phx_ref`; `phx_ref_prev` is dropped).
//! - `presence_state` (`syncState`): keys gone from the new state leave whole; for a key in
//!   both, metas whose ref is new join and metas whose ref is missing leave; new keys join.
//!   The result keeps surviving metas in their old order, then the joined ones.
//! - `presence_diff` (`syncDiff`): joins replace a key's metas by the joined ones, with the
//!   key's other current metas put back in front; leaves remove metas by ref, and a key with
//!   none left is removed.
//! - Diffs that arrive before the `presence_state` of the current join are held and applied
//!   right after it (`pendingDiffs`: realtime-js's `inPendingSyncState`).

use std::collections::BTreeMap;

use concierge_wire::AuthorRole;
use concierge_wire::room::{RawMeta, RawPresenceDiff, RawPresenceState};

/// One tracked meta (one tab or device of a person).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub presence_ref: String,
    pub name: String,
    pub role: Option<AuthorRole>,
}

impl From<RawMeta> for Meta {
    fn from(m: RawMeta) -> Meta {
        Meta {
            presence_ref: m.phx_ref,
            name: m.name,
            role: m.role,
        }
    }
}

/// One person in the room, as views show it: a key with its first meta's name and role.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Presence {
    pub key: String,
    pub name: String,
    pub role: Option<AuthorRole>,
}

/// key → metas (realtime-js `RealtimePresenceState`).
pub type State = BTreeMap<String, Vec<Meta>>;

fn transform(raw: RawPresenceState) -> State {
    raw.into_iter()
        .map(|(k, v)| (k, v.metas.into_iter().map(Meta::from).collect()))
        .collect()
}

fn has_ref(metas: &[Meta], r: &str) -> bool {
    metas.iter().any(|m| m.presence_ref == r)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceState {
    state: State,
    /// The join whose `presence_state` was last applied.
    synced_join: Option<String>,
    pending: Vec<RawPresenceDiff>,
}

impl PresenceState {
    pub fn state(&self) -> &State {
        &self.state
    }

    /// A `presence_state` for the join `join_ref`; then the diffs held for it.
    pub fn on_state(&mut self, join_ref: &str, raw: RawPresenceState) {
        self.synced_join = Some(join_ref.to_owned());
        let new = transform(raw);
        let mut joins = State::new();
        let mut leaves = State::new();
        for (key, metas) in &self.state {
            if !new.contains_key(key) {
                leaves.insert(key.clone(), metas.clone());
            }
        }
        for (key, new_metas) in new {
            match self.state.get(&key) {
                Some(cur) => {
                    let joined: Vec<Meta> = new_metas
                        .iter()
                        .filter(|m| !has_ref(cur, &m.presence_ref))
                        .cloned()
                        .collect();
                    let left: Vec<Meta> = cur
                        .iter()
                        .filter(|m| !has_ref(&new_metas, &m.presence_ref))
                        .cloned()
                        .collect();
                    if !joined.is_empty() {
                        joins.insert(key.clone(), joined);
                    }
                    if !left.is_empty() {
                        leaves.insert(key, left);
                    }
                }
                None => {
                    joins.insert(key, new_metas);
                }
            }
        }
        self.apply(joins, leaves);
        for diff in std::mem::take(&mut self.pending) {
            self.apply(transform(diff.joins), transform(diff.leaves));
        }
    }

    /// A `presence_diff`, while the channel's current join is `current_join`: held until
    /// that join's `presence_state` has been applied.
    pub fn on_diff(&mut self, current_join: Option<&str>, diff: RawPresenceDiff) {
        let pending = current_join.is_none() || self.synced_join.as_deref() != current_join;
        if pending {
            self.pending.push(diff);
        } else {
            self.apply(transform(diff.joins), transform(diff.leaves));
        }
    }

    /// realtime-js `syncDiff`.
    fn apply(&mut self, joins: State, leaves: State) {
        for (key, joined) in joins {
            let current = self.state.remove(&key).unwrap_or_default();
            let mut metas: Vec<Meta> = current
                .into_iter()
                .filter(|m| !has_ref(&joined, &m.presence_ref))
                .collect();
            metas.extend(joined);
            self.state.insert(key, metas);
        }
        for (key, left) in leaves {
            let Some(current) = self.state.get_mut(&key) else {
                continue;
            };
            current.retain(|m| !has_ref(&left, &m.presence_ref));
            if current.is_empty() {
                self.state.remove(&key);
            }
        }
    }

    /// Whether `key` has at least one meta.
    pub fn is_present(&self, key: &str) -> bool {
        self.state.contains_key(key)
    }

    /// One entry per key, in key order.
    pub fn people(&self) -> Vec<Presence> {
        self.state
            .iter()
            .filter_map(|(key, metas)| {
                metas.first().map(|m| Presence {
                    key: key.clone(),
                    name: m.name.clone(),
                    role: m.role,
                })
            })
            .collect()
    }
}
