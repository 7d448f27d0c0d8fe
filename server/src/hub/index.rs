//! Who listens to what: the joined channels and their bindings, indexed by table and by the
//! (column, value) of `eq` filters so a change finds its subscribers without a full scan.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use concierge_wire::Vsn;
use concierge_wire::realtime::ChangeEvent;

use super::Outbox;
use crate::authz::Principal;
use crate::db::{Change, Table};
use crate::hub::matcher::{RowFilter, Scalar};

/// One `postgres_changes` binding of a channel, on one concrete table.
#[derive(Debug, Clone)]
pub struct Binding {
    pub id: u32,
    pub event: ChangeEvent,
    pub table: Table,
    pub filter: Option<RowFilter>,
}

impl Binding {
    pub(super) fn matches(
        &self,
        change: &Change,
        row: &serde_json::Map<String, serde_json::Value>,
    ) -> bool {
        self.table == change.table
            && self.event.matches(change.change_type)
            && self.filter.as_ref().is_none_or(|f| f.matches(row))
    }

    /// The index key of a `column=eq.value` binding; `None` for the others, which are scanned.
    fn eq_key(&self) -> Option<(&'static str, Scalar)> {
        let f = self.filter.as_ref()?;
        f.eq_key().map(|k| (f.col.name, k.clone()))
    }
}

/// A joined channel as the fan-out sees it.
#[derive(Debug)]
pub struct Channel {
    pub outbox: Arc<Outbox>,
    pub vsn: Vsn,
    pub topic: Arc<str>,
    pub principal: Principal,
    pub bindings: Vec<Binding>,
}

/// Hasher for the hub's own channel ids (sequential `u64`s, never chosen by a client): one
/// multiply instead of SipHash, on the fan-out's per-subscriber lookups.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Channel id → how many of its bindings sit under one key. A map, not a list, so removing
/// one channel touches only its own entries: a list had to be searched, and a socket leaving
/// thousands of bindings under a key many others share walked that list once per binding
/// (quadratic, under the hub's lock).
type Counts = IdMap<usize>;

fn count_up(m: &mut Counts, id: u64) {
    *m.entry(id).or_default() += 1;
}

/// `true` when `id` no longer has an entry in `m`.
fn count_down(m: &mut Counts, id: u64) -> bool {
    if let Some(n) = m.get_mut(&id) {
        *n -= 1;
        if *n == 0 {
            m.remove(&id);
        }
    }
    m.is_empty()
}

#[derive(Default)]
struct TableSubs {
    /// (column, value) of `eq` filters → the channels with such a binding.
    eq: HashMap<(&'static str, Scalar), Counts>,
    /// How many `eq` bindings use each column: the columns to look up per change.
    eq_cols: HashMap<&'static str, usize>,
    /// Channels with an unfiltered or non-`eq` binding on this table.
    scan: Counts,
}

#[derive(Default)]
pub(super) struct Index {
    channels: IdMap<Channel>,
    tables: HashMap<Table, TableSubs>,
}

impl Index {
    pub(super) fn channel(&self, id: u64) -> Option<&Channel> {
        self.channels.get(&id)
    }

    pub(super) fn len(&self) -> usize {
        self.channels.len()
    }

    pub(super) fn add(&mut self, id: u64, ch: Channel) {
        for b in &ch.bindings {
            let subs = self.tables.entry(b.table).or_default();
            match b.eq_key() {
                Some((col, key)) => {
                    count_up(subs.eq.entry((col, key)).or_default(), id);
                    *subs.eq_cols.entry(col).or_default() += 1;
                }
                None => count_up(&mut subs.scan, id),
            }
        }
        self.channels.insert(id, ch);
    }

    pub(super) fn remove(&mut self, id: u64) -> Option<Channel> {
        let ch = self.channels.remove(&id)?;
        for b in &ch.bindings {
            let Some(subs) = self.tables.get_mut(&b.table) else {
                continue;
            };
            match b.eq_key() {
                Some(k) => {
                    let col = k.0;
                    if subs.eq.get_mut(&k).is_some_and(|m| count_down(m, id)) {
                        subs.eq.remove(&k);
                    }
                    if let Some(n) = subs.eq_cols.get_mut(col) {
                        *n -= 1;
                        if *n == 0 {
                            subs.eq_cols.remove(col);
                        }
                    }
                }
                None => {
                    count_down(&mut subs.scan, id);
                }
            }
        }
        Some(ch)
    }

    /// Channel ids that may care about `change` (a superset; bindings decide).
    pub(super) fn candidates(
        &self,
        change: &Change,
        row: &serde_json::Map<String, serde_json::Value>,
    ) -> Vec<u64> {
        let Some(subs) = self.tables.get(&change.table) else {
            return Vec::new();
        };
        let mut out: Vec<u64> = subs.scan.keys().copied().collect();
        let mut from_eq = false;
        for col in subs.eq_cols.keys() {
            let Some(def) = change.table.column(col) else {
                continue;
            };
            if let Some(v) = Scalar::from_row(def, row).and_then(|s| subs.eq.get(&(def.name, s))) {
                from_eq = true;
                out.extend(v.keys().copied());
            }
        }
        // Keys of one map are distinct, but a channel may be under several (columns, `scan`).
        // The catalogue case (10,000 unfiltered channels) skips the sort.
        if from_eq {
            out.sort_unstable();
            out.dedup();
        }
        out
    }
}
