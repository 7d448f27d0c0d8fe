//! The fan-out: which channel listens to what, and delivery of committed changes.
//!
//! Subscriptions are indexed by table and, for `column=eq.value` filters, by (column, value),
//! so a change reaches its matching channels without scanning every socket (the kiosk
//! workload: thousands of sockets, each with its own `session_id=eq.<id>`). Each event is
//! encoded once per distinct (serializer, topic, ids) and the bytes are shared.
//!
//! One dispatcher task consumes changes in commit order (the writer publishes under its lock)
//! and pushes into each socket's bounded queue, so every socket sees commit order too.
//!
//! The dispatcher and every socket's writer task run on their own runtime ([`spawn_fanout`]):
//! one catalogue change wakes 10,000 writer tasks, and on the server's main runtime those sat in
//! the run queues ahead of the REST handlers, so a write's own HTTP response (and the next
//! write) waited for the previous change's whole fan-out. On separate threads the OS scheduler
//! interleaves them instead.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, RwLock};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use concierge_wire::Vsn;
use concierge_wire::realtime::{ChangeData, ChangeEvent};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::authz::{self, Principal};
use crate::db::{Change, Table};
use crate::realtime::matcher::{RowFilter, Scalar};

/// The fan-out runtime; `None` if it could not be built (then fan-out shares the caller's).
static FANOUT: LazyLock<Option<tokio::runtime::Runtime>> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("realtime-fanout")
        .enable_all()
        .build()
        .inspect_err(|e| tracing::warn!("realtime fan-out runtime: {e}; sharing the main one"))
        .ok()
});

/// Spawns `fut` on the fan-out runtime (socket writers and the dispatcher).
pub fn spawn_fanout<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    match FANOUT.as_ref() {
        Some(rt) => rt.spawn(fut),
        None => tokio::spawn(fut),
    }
}

/// Limits that keep one client from hurting the others.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Close a socket after this long without a frame from the client.
    pub idle_timeout: Duration,
    /// Frames queued for one socket before it counts as too slow and is disconnected.
    pub queue_frames: usize,
    pub max_channels: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            idle_timeout: Duration::from_secs(60),
            queue_frames: 1024,
            max_channels: 100,
        }
    }
}

/// A socket's outgoing side: a bounded queue drained by the socket's writer task.
#[derive(Debug)]
pub struct Outbox {
    tx: mpsc::Sender<Utf8Bytes>,
    /// Cancelled to close the socket (overflow, shutdown, or the client went away).
    pub kill: CancellationToken,
}

impl Outbox {
    pub fn new(tx: mpsc::Sender<Utf8Bytes>, kill: CancellationToken) -> Outbox {
        Outbox { tx, kill }
    }

    /// Queues a frame; a full queue disconnects the client rather than buffering without limit.
    pub fn push(&self, frame: Utf8Bytes) -> bool {
        match self.tx.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.kill.is_cancelled() {
                    tracing::warn!("realtime client too slow: outgoing queue full, disconnecting");
                    self.kill.cancel();
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

/// One `postgres_changes` binding of a channel, on one concrete table.
#[derive(Debug, Clone)]
pub struct Binding {
    pub id: u32,
    pub event: ChangeEvent,
    pub table: Table,
    pub filter: Option<RowFilter>,
}

impl Binding {
    fn matches(&self, change: &Change, row: &serde_json::Map<String, serde_json::Value>) -> bool {
        self.table == change.table
            && self.event.matches(change.change_type)
            && self.filter.as_ref().is_none_or(|f| f.matches(row))
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

#[derive(Default)]
struct TableSubs {
    /// (column, value) of `eq` filters → channel ids (one entry per binding).
    eq: HashMap<(&'static str, Scalar), Vec<u64>>,
    /// How many `eq` bindings use each column: the columns to look up per change.
    eq_cols: HashMap<&'static str, usize>,
    /// Channels with an unfiltered or non-`eq` binding on this table.
    scan: IdMap<usize>,
}

#[derive(Default)]
struct Index {
    channels: IdMap<Channel>,
    tables: HashMap<Table, TableSubs>,
}

impl Index {
    fn add(&mut self, id: u64, ch: Channel) {
        for b in &ch.bindings {
            let subs = self.tables.entry(b.table).or_default();
            match b
                .filter
                .as_ref()
                .and_then(|f| f.eq_key().map(|k| (f.col, k)))
            {
                Some((col, key)) => {
                    subs.eq.entry((col.name, key.clone())).or_default().push(id);
                    *subs.eq_cols.entry(col.name).or_default() += 1;
                }
                None => *subs.scan.entry(id).or_default() += 1,
            }
        }
        self.channels.insert(id, ch);
    }

    fn remove(&mut self, id: u64) -> Option<Channel> {
        let ch = self.channels.remove(&id)?;
        for b in &ch.bindings {
            let Some(subs) = self.tables.get_mut(&b.table) else {
                continue;
            };
            match b
                .filter
                .as_ref()
                .and_then(|f| f.eq_key().map(|k| (f.col, k)))
            {
                Some((col, key)) => {
                    let k = (col.name, key.clone());
                    if let Some(v) = subs.eq.get_mut(&k) {
                        if let Some(pos) = v.iter().position(|c| *c == id) {
                            v.swap_remove(pos);
                        }
                        if v.is_empty() {
                            subs.eq.remove(&k);
                        }
                    }
                    if let Some(n) = subs.eq_cols.get_mut(col.name) {
                        *n -= 1;
                        if *n == 0 {
                            subs.eq_cols.remove(col.name);
                        }
                    }
                }
                None => {
                    if let Some(n) = subs.scan.get_mut(&id) {
                        *n -= 1;
                        if *n == 0 {
                            subs.scan.remove(&id);
                        }
                    }
                }
            }
        }
        Some(ch)
    }

    /// Channel ids that may care about `change` (a superset; bindings decide).
    fn candidates(
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
                out.extend_from_slice(v);
            }
        }
        // The `scan` keys are distinct; `eq` lists hold one entry per binding and may overlap.
        // The catalogue case (10,000 unfiltered channels) skips the sort.
        if from_eq {
            out.sort_unstable();
            out.dedup();
        }
        out
    }
}

/// The realtime hub: subscription index plus the shutdown signal for every socket.
pub struct Hub {
    index: RwLock<Index>,
    next_id: AtomicU64,
    pub limits: Limits,
    pub shutdown: CancellationToken,
}

impl Hub {
    pub fn new(limits: Limits) -> Arc<Hub> {
        Arc::new(Hub {
            index: RwLock::new(Index::default()),
            next_id: AtomicU64::new(1),
            limits,
            shutdown: CancellationToken::new(),
        })
    }

    pub fn next_channel_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a channel and, under the same lock, queues `then` (the "Subscribed to
    /// PostgreSQL" message), so no change can reach the client before it.
    pub fn join(&self, id: u64, ch: Channel, then: Option<Utf8Bytes>) {
        let mut idx = self.index.write().unwrap_or_else(|e| e.into_inner());
        let outbox = ch.outbox.clone();
        idx.add(id, ch);
        if let Some(frame) = then {
            outbox.push(frame);
        }
    }

    /// Swaps a channel's subscription (new claims after `access_token`) under one lock, so
    /// no change dispatched in between is lost to it.
    pub fn replace(&self, old: u64, new: u64, ch: Channel) {
        let mut idx = self.index.write().unwrap_or_else(|e| e.into_inner());
        idx.remove(old);
        idx.add(new, ch);
    }

    pub fn leave(&self, id: u64) -> Option<Channel> {
        self.index
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
    }

    /// Number of channels currently subscribed (for tests and diagnostics).
    pub fn channel_count(&self) -> usize {
        self.index
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .channels
            .len()
    }

    /// Consumes committed changes in order until the writer side is dropped. Runs on the
    /// fan-out runtime, next to the socket writers it wakes.
    pub async fn run_dispatcher(self: Arc<Hub>, mut rx: mpsc::UnboundedReceiver<Arc<Change>>) {
        let task = spawn_fanout(async move {
            while let Some(change) = rx.recv().await {
                self.dispatch(&change);
            }
        });
        if let Err(e) = task.await {
            tracing::error!("realtime dispatcher stopped: {e}");
        }
    }

    /// Delivers one change to every channel whose bindings match and whose principal may see
    /// the row. Returns how many sockets it was queued for.
    pub fn dispatch(&self, change: &Change) -> usize {
        let Some(row) = change.filter_row() else {
            return 0;
        };
        let idx = self.index.read().unwrap_or_else(|e| e.into_inner());
        let candidates = idx.candidates(change, row);
        if candidates.is_empty() {
            return 0;
        }
        let data = encode_data(change);
        // One frame per distinct (serializer, topic, ids); almost every subscriber of a change
        // shares the previous one's, so that is compared first, without hashing.
        let mut frames: HashMap<FrameKey, Utf8Bytes> = HashMap::new();
        let mut last: Option<(FrameKey, Utf8Bytes)> = None;
        let mut ids: Vec<u32> = Vec::new();
        let mut sent = 0;
        for cid in candidates {
            let Some(ch) = idx.channels.get(&cid) else {
                continue;
            };
            ids.clear();
            ids.extend(
                ch.bindings
                    .iter()
                    .filter(|b| b.matches(change, row))
                    .map(|b| b.id),
            );
            if ids.is_empty() || !visible(&ch.principal, change) {
                continue;
            }
            if ids.len() > 1 {
                ids.sort_unstable();
                ids.dedup();
            }
            let frame = match &last {
                Some(((vsn, topic, lids), f))
                    if *vsn == ch.vsn && **topic == *ch.topic && *lids == ids =>
                {
                    f.clone()
                }
                _ => {
                    let key = (ch.vsn, ch.topic.clone(), ids.clone());
                    let f = frames
                        .entry(key.clone())
                        .or_insert_with(|| {
                            Utf8Bytes::from(encode_frame(key.0, &key.1, &key.2, &data))
                        })
                        .clone();
                    last = Some((key, f.clone()));
                    f
                }
            };
            if ch.outbox.push(frame) {
                sent += 1;
            }
        }
        sent
    }
}

type FrameKey = (Vsn, Arc<str>, Vec<u32>);

/// Whether `p` may receive this change. An UPDATE is delivered when the row is visible after
/// the change or was visible before it (so a subscriber learns that a row left its view).
/// Judged on the row as it is after the change, as hosted Supabase's RLS check does: an UPDATE
/// that moves a row out of a subscriber's sight is not delivered (its new contents are not
/// theirs to read). Clients learn of it on their next snapshot or refused write.
fn visible(p: &Principal, change: &Change) -> bool {
    change
        .auth_row()
        .is_some_and(|r| authz::row_visible(p, change.table, r))
}

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
    use concierge_wire::filter::Filter;
    use concierge_wire::phoenix::{Event, Message};
    use concierge_wire::realtime::{ChangeType, ChangesPayload};
    use serde_json::json;

    fn change(table: Table, t: ChangeType, rec: serde_json::Value) -> Change {
        let r = rec.as_object().cloned().unwrap();
        Change {
            table,
            change_type: t,
            commit_timestamp: "2026-01-01T00:00:00.000Z".into(),
            record: (t != ChangeType::Delete).then(|| r.clone()),
            old_record: (t != ChangeType::Insert).then(|| {
                let mut m = serde_json::Map::new();
                m.insert("id".into(), r["id"].clone());
                m
            }),
            deleted_row: (t == ChangeType::Delete).then(|| r.clone()),
        }
    }

    fn channel(
        hub: &Hub,
        p: Principal,
        vsn: Vsn,
        bindings: Vec<Binding>,
    ) -> (u64, mpsc::Receiver<Utf8Bytes>) {
        let (tx, rx) = mpsc::channel(4);
        let id = hub.next_channel_id();
        hub.join(
            id,
            Channel {
                outbox: Arc::new(Outbox::new(tx, CancellationToken::new())),
                vsn,
                topic: "realtime:t".into(),
                principal: p,
                bindings,
            },
            None,
        );
        (id, rx)
    }

    fn kiosk(id: u32, session: &str) -> Binding {
        let f = Filter::parse_realtime(&format!("session_id=eq.{session}")).unwrap();
        Binding {
            id,
            event: ChangeEvent::Insert,
            table: Table::KioskResults,
            filter: Some(RowFilter::compile(Table::KioskResults, &f).unwrap()),
        }
    }

    #[test]
    fn eq_index_delivers_only_to_the_matching_session() {
        let hub = Hub::new(Limits::default());
        let (_a, mut ra) = channel(
            &hub,
            Principal::LegacyKioskAnon,
            Vsn::V2,
            vec![kiosk(7, "A")],
        );
        let (b, mut rb) = channel(
            &hub,
            Principal::LegacyKioskAnon,
            Vsn::V1,
            vec![kiosk(8, "B")],
        );
        let c = change(
            Table::KioskResults,
            ChangeType::Insert,
            json!({"id": "x", "session_id": "A", "results": {}, "created_at": "t"}),
        );
        assert_eq!(hub.dispatch(&c), 1);
        let frame = ra.try_recv().unwrap();
        let m = Message::decode(frame.as_str(), Vsn::V2).unwrap();
        assert_eq!(m.event, Event::PostgresChanges);
        assert_eq!((m.join_ref, m.msg_ref), (None, None));
        let p: ChangesPayload = serde_json::from_value(m.payload).unwrap();
        assert_eq!(p.ids, vec![7]);
        assert_eq!(p.data.record.unwrap()["session_id"], "A");
        assert!(p.data.old_record.is_none());
        assert!(rb.try_recv().is_err());
        // After leaving, B's index entry is gone.
        hub.leave(b);
        let c = change(
            Table::KioskResults,
            ChangeType::Insert,
            json!({"id": "y", "session_id": "B", "results": {}, "created_at": "t"}),
        );
        assert_eq!(hub.dispatch(&c), 0);
    }

    #[test]
    fn one_frame_per_channel_when_several_bindings_match() {
        let hub = Hub::new(Limits::default());
        let all = Binding {
            id: 3,
            event: ChangeEvent::All,
            table: Table::KioskResults,
            filter: None,
        };
        let (_a, mut ra) = channel(
            &hub,
            Principal::LegacyKioskAnon,
            Vsn::V2,
            vec![kiosk(1, "A"), kiosk(2, "A"), all],
        );
        let c = change(
            Table::KioskResults,
            ChangeType::Insert,
            json!({"id": "x", "session_id": "A", "results": {}, "created_at": "t"}),
        );
        assert_eq!(hub.dispatch(&c), 1);
        let m = Message::decode(ra.try_recv().unwrap().as_str(), Vsn::V2).unwrap();
        let p: ChangesPayload = serde_json::from_value(m.payload).unwrap();
        assert_eq!(p.ids, vec![1, 2, 3]);
        assert!(ra.try_recv().is_err(), "one frame, not one per binding");
    }

    #[test]
    fn visibility_and_event_filters() {
        let hub = Hub::new(Limits::default());
        let all_sessions = Binding {
            id: 1,
            event: ChangeEvent::All,
            table: Table::Sessions,
            filter: None,
        };
        let (_x, mut anon) = channel(&hub, Principal::Anon, Vsn::V2, vec![all_sessions.clone()]);
        let (_y, mut svc) = channel(
            &hub,
            Principal::ServiceRole,
            Vsn::V2,
            vec![
                all_sessions,
                Binding {
                    id: 2,
                    event: ChangeEvent::Delete,
                    table: Table::Sessions,
                    filter: None,
                },
            ],
        );
        let c = change(
            Table::Sessions,
            ChangeType::Delete,
            json!({"id": "s1", "customer_id": "c", "status": "live"}),
        );
        assert_eq!(hub.dispatch(&c), 1);
        assert!(anon.try_recv().is_err(), "anon never sees sessions");
        let m = Message::decode(svc.try_recv().unwrap().as_str(), Vsn::V2).unwrap();
        let p: ChangesPayload = serde_json::from_value(m.payload).unwrap();
        assert_eq!(p.ids, vec![1, 2]);
        assert_eq!(
            p.data.old_record.unwrap().len(),
            1,
            "DELETE carries the primary key only"
        );
        assert!(p.data.record.is_none());
    }

    #[test]
    fn slow_client_is_disconnected_not_buffered() {
        let hub = Hub::new(Limits::default());
        let b = Binding {
            id: 1,
            event: ChangeEvent::All,
            table: Table::Events,
            filter: None,
        };
        let (tx, _rx) = mpsc::channel(2);
        let outbox = Arc::new(Outbox::new(tx, CancellationToken::new()));
        hub.join(
            1,
            Channel {
                outbox: outbox.clone(),
                vsn: Vsn::V2,
                topic: "realtime:e".into(),
                principal: Principal::Anon,
                bindings: vec![b],
            },
            None,
        );
        let c = change(Table::Events, ChangeType::Insert, json!({"id": "e"}));
        assert_eq!(hub.dispatch(&c), 1);
        assert_eq!(hub.dispatch(&c), 1);
        assert!(!outbox.kill.is_cancelled());
        assert_eq!(hub.dispatch(&c), 0);
        assert!(outbox.kill.is_cancelled());
    }

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
