//! The row set of one live query, merged from two sources that race each other: realtime
//! events and REST snapshots.
//!
//! # Ordering rules
//! Every row carries a *version* (a parsed timestamp, see [`crate::spec::VersionSource`]) and
//! the *sequence number* of the last realtime event that touched it. A REST snapshot is taken
//! at some unknown moment between the request's start and its answer, so the store records its
//! event sequence when the request starts (the *mark*, [`Store::mark`]):
//!
//! - A row touched by realtime **after** the mark may be newer than the snapshot: the snapshot
//!   cannot overwrite it, cannot delete it (its insert may postdate the snapshot) and cannot
//!   resurrect it if realtime deleted it — unless the snapshot's copy has a strictly newer
//!   version (the row really changed again, e.g. re-inserted after a delete).
//! - A row touched only **before** the mark is reflected in the snapshot (the event reached
//!   us after its commit, the request started later): the snapshot wins, and a row absent
//!   from it is gone — except that no copy ever replaces one with a newer version.
//! - Realtime events apply unless older than the copy held (then they are stale);
//!   an identical copy is a duplicate and changes nothing. Deletes leave a *tombstone* so a
//!   stale snapshot or a late duplicate INSERT cannot bring the row back; tombstones are
//!   dropped once a snapshot started after them has been applied.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use concierge_wire::realtime::{ChangeData, ChangeType};
use serde_json::{Map, Value};

use crate::spec::{LiveQuerySpec, OrderBy, VersionSource};
use crate::timestamp::parse_micros;

/// What a realtime event did to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOutcome {
    /// The visible row set changed.
    Applied,
    /// Same version and content as held (or a delete of an absent row): nothing changed.
    Duplicate,
    /// Older than the copy held: ignored.
    Stale,
    /// Not for this query (wrong table, no key, event kind not subscribed, carries errors).
    Ignored,
}

/// One row as the store hands it out: shared, because every change re-emits the whole sorted
/// view and copying each row for it cost more than everything else the engine does.
pub type Row = Arc<Map<String, Value>>;

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    row: Row,
    /// The row's `order` cells, parsed once when the row is stored rather than on every
    /// comparison of every sort.
    sort_key: Vec<SortCell>,
    version: Option<i64>,
    /// Sequence of the realtime event that last wrote it; 0 when it came from a snapshot.
    seq: u64,
}

/// One cell of a row's sort key; `None` is SQL null (or a missing column).
#[derive(Debug, Clone, PartialEq)]
struct SortCell(Option<SortValue>);

#[derive(Debug, Clone, PartialEq)]
enum SortValue {
    Number(f64),
    Bool(bool),
    /// Text, with its instant when it reads as a timestamp (timestamps sort by instant,
    /// whatever offset they are written with).
    Text(String, Option<i64>),
    /// Arrays and objects, by their JSON text.
    Other(String),
}

impl SortCell {
    fn of(v: Option<&Value>) -> SortCell {
        SortCell(match v {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => Some(SortValue::Number(n.as_f64().unwrap_or(0.0))),
            Some(Value::Bool(b)) => Some(SortValue::Bool(*b)),
            Some(Value::String(s)) => Some(SortValue::Text(s.clone(), parse_micros(s))),
            Some(other) => Some(SortValue::Other(other.to_string())),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Tombstone {
    version: Option<i64>,
    seq: u64,
}

/// The rows of one query plus what is needed to merge the next event or snapshot correctly.
#[derive(Debug, Clone)]
pub struct Store {
    spec: LiveQuerySpec,
    rows: BTreeMap<String, Entry>,
    tombstones: BTreeMap<String, Tombstone>,
    seq: u64,
    /// Bumped whenever the visible result may have changed; the engine emits rows on change.
    revision: u64,
}

/// `a` is known to be strictly newer than `b`.
fn newer(a: Option<i64>, b: Option<i64>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a > b)
}

/// The canonical text of a key cell (`"abc"` → `abc`, `42` → `42`); `None` when missing/null.
fn key_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

impl Store {
    pub fn new(spec: LiveQuerySpec) -> Store {
        Store {
            spec,
            rows: BTreeMap::new(),
            tombstones: BTreeMap::new(),
            seq: 0,
            revision: 0,
        }
    }

    /// Record this when a REST request starts; pass it back to [`Store::apply_snapshot`].
    pub fn mark(&self) -> u64 {
        self.seq
    }

    /// Increases whenever the visible rows changed.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn row_version(&self, row: &Map<String, Value>) -> Option<i64> {
        match &self.spec.version {
            VersionSource::Column(c) => row.get(c).and_then(Value::as_str).and_then(parse_micros),
            VersionSource::CommitTimestamp => None,
        }
    }

    fn entry(&self, row: Map<String, Value>, version: Option<i64>, seq: u64) -> Entry {
        let sort_key = self
            .spec
            .order
            .iter()
            .map(|o| SortCell::of(row.get(&o.column)))
            .collect();
        Entry {
            row: Arc::new(row),
            sort_key,
            version,
            seq,
        }
    }

    /// Applies one `postgres_changes` event.
    pub fn apply_change(&mut self, change: &ChangeData) -> ChangeOutcome {
        if change.table != self.spec.table
            || !self.spec.events.matches(change.change_type)
            || change.errors.as_ref().is_some_and(|e| !e.is_empty())
        {
            return ChangeOutcome::Ignored;
        }
        let commit = parse_micros(&change.commit_timestamp);
        match change.change_type {
            ChangeType::Insert | ChangeType::Update => {
                let Some(record) = &change.record else {
                    return ChangeOutcome::Ignored;
                };
                let Some(key) = key_text(record.get(&self.spec.key_column)) else {
                    return ChangeOutcome::Ignored;
                };
                let version = self.row_version(record).or(commit);
                if let Some(t) = self.tombstones.get(&key)
                    && !newer(version, t.version)
                {
                    return ChangeOutcome::Stale;
                }
                if let Some(e) = self.rows.get(&key) {
                    if newer(e.version, version) {
                        return ChangeOutcome::Stale;
                    }
                    if e.version == version && *e.row == *record {
                        return ChangeOutcome::Duplicate;
                    }
                }
                self.seq += 1;
                let seq = self.seq;
                self.tombstones.remove(&key);
                if !self.spec.row_matches(record) {
                    // The row moved out of the filter: to us it is deleted.
                    self.tombstones
                        .insert(key.clone(), Tombstone { version, seq });
                    return if self.rows.remove(&key).is_some() {
                        self.revision += 1;
                        ChangeOutcome::Applied
                    } else {
                        ChangeOutcome::Duplicate
                    };
                }
                let entry = self.entry(record.clone(), version, seq);
                self.rows.insert(key, entry);
                self.revision += 1;
                ChangeOutcome::Applied
            }
            ChangeType::Delete => {
                let Some(old) = &change.old_record else {
                    return ChangeOutcome::Ignored;
                };
                let Some(key) = key_text(old.get(&self.spec.key_column)) else {
                    return ChangeOutcome::Ignored;
                };
                if let Some(e) = self.rows.get(&key)
                    && newer(e.version, commit)
                {
                    return ChangeOutcome::Stale;
                }
                self.seq += 1;
                let seq = self.seq;
                self.tombstones.insert(
                    key.clone(),
                    Tombstone {
                        version: commit,
                        seq,
                    },
                );
                if self.rows.remove(&key).is_some() {
                    self.revision += 1;
                    ChangeOutcome::Applied
                } else {
                    ChangeOutcome::Duplicate
                }
            }
        }
    }

    /// Merges a REST snapshot whose request started at `mark`. Returns whether the visible
    /// rows changed. Rows that are not JSON objects or lack a key are skipped.
    pub fn apply_snapshot(&mut self, mark: u64, snapshot: Vec<Value>) -> bool {
        let mut changed = false;
        let mut seen = HashSet::new();
        for v in snapshot {
            let Value::Object(row) = v else { continue };
            let Some(key) = key_text(row.get(&self.spec.key_column)) else {
                continue;
            };
            seen.insert(key.clone());
            let version = self.row_version(&row);
            if let Some(t) = self.tombstones.get(&key) {
                if t.seq > mark && !newer(version, t.version) {
                    continue; // deleted after the snapshot may have been taken
                }
                if newer(t.version, version) {
                    continue; // a delete newer than this copy
                }
                self.tombstones.remove(&key);
            }
            if let Some(e) = self.rows.get(&key) {
                let realtime_is_newer = e.seq > mark && !newer(version, e.version);
                if realtime_is_newer || newer(e.version, version) || *e.row == row {
                    continue;
                }
            }
            let entry = self.entry(row, version, 0);
            self.rows.insert(key, entry);
            changed = true;
        }
        let before = self.rows.len();
        self.rows.retain(|k, e| seen.contains(k) || e.seq > mark);
        changed |= self.rows.len() != before;
        self.tombstones.retain(|_, t| t.seq > mark);
        if changed {
            self.revision += 1;
        }
        changed
    }

    /// The rows in the query's order (ties broken by key), cut to its limit. Cheap: the sort
    /// keys are pre-parsed and the rows are shared, not copied.
    pub fn view(&self) -> Vec<Row> {
        let mut entries: Vec<(&String, &Entry)> = self.rows.iter().collect();
        let order = &self.spec.order;
        entries.sort_by(|(ka, a), (kb, b)| {
            compare_keys(order, &a.sort_key, &b.sort_key).then(ka.cmp(kb))
        });
        let limit = self.spec.limit.map_or(usize::MAX, |n| n as usize);
        entries
            .into_iter()
            .take(limit)
            .map(|(_, e)| Arc::clone(&e.row))
            .collect()
    }
}

fn compare_keys(order: &[OrderBy], a: &[SortCell], b: &[SortCell]) -> Ordering {
    for (o, (ca, cb)) in order.iter().zip(a.iter().zip(b)) {
        // Postgres: NULLS LAST for ASC, NULLS FIRST for DESC — i.e. null is "largest".
        let ord = match (&ca.0, &cb.0) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(x), Some(y)) => compare_values(x, y),
        };
        let ord = if o.descending { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// A total order (the standard sort may panic on one that is not, and rows come from the
/// network): within a column every value normally has one kind; mixed kinds are ranked by kind.
/// Text that reads as a timestamp sorts by instant (`…+01:00` and `…Z` forms interleave by
/// time; the same instant written two ways falls back to the characters), ahead of text that
/// does not, which sorts by its characters.
fn compare_values(a: &SortValue, b: &SortValue) -> Ordering {
    use SortValue::*;
    match (a, b) {
        (Number(x), Number(y)) => x.total_cmp(y),
        (Bool(x), Bool(y)) => x.cmp(y),
        (Text(x, tx), Text(y, ty)) => match (tx, ty) {
            (Some(tx), Some(ty)) => tx.cmp(ty).then_with(|| x.cmp(y)),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => x.cmp(y),
        },
        (Other(x), Other(y)) => x.cmp(y),
        _ => kind_rank(a).cmp(&kind_rank(b)),
    }
}

fn kind_rank(v: &SortValue) -> u8 {
    match v {
        SortValue::Number(_) => 0,
        SortValue::Bool(_) => 1,
        SortValue::Text(..) => 2,
        SortValue::Other(_) => 3,
    }
}
