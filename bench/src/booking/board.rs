//! The kiosks watching the catalogue: M sockets, each joined to the hotel's `events` (every
//! change, `hotel_id=eq.<hotel>`, as the kiosk page subscribes) as a kiosk user, and the board
//! where they note every `places_left` UPDATE of the events the benchmark books.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{Semaphore, watch};

use crate::clock::parse_commit_ms;
use crate::connect::wait_for;
use crate::identity::Identity;
use crate::watcher::{self, Arrival, Join};

/// One `places_left` UPDATE as one watcher saw it.
#[derive(Debug, Clone, Copy)]
pub struct Seen {
    pub event: u32,
    pub watcher: u32,
    pub places_left: i64,
    /// The change's `commit_timestamp`, Unix ms.
    pub commit_ms: Option<i64>,
    pub recv_wall_ms: i64,
}

#[derive(Default)]
struct Notes {
    /// In arrival order (per watcher, the order its socket delivered them).
    seen: Vec<Seen>,
    /// How many arrivals carried (event, places_left).
    reached: HashMap<(u32, i64), usize>,
}

/// What the watchers saw, for the events registered with [`Board::track`].
#[derive(Default)]
pub struct Board {
    events: RwLock<HashMap<String, u32>>,
    notes: Mutex<Notes>,
    /// Sockets closed by the server or an error before being told to stop.
    pub dropped: AtomicUsize,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Board {
    /// Starts noting the UPDATEs of `event_id` under the index `idx`.
    pub fn track(&self, event_id: &str, idx: u32) {
        if let Ok(mut e) = self.events.write() {
            e.insert(event_id.to_owned(), idx);
        }
    }

    fn note(&self, watcher: u32, a: &Arrival<'_>) {
        if a.data.get("type").and_then(Value::as_str) != Some("UPDATE") {
            return;
        }
        let Some(record) = a.data.get("record") else {
            return;
        };
        let Some(event) = record
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| self.events.read().ok()?.get(id).copied())
        else {
            return;
        };
        let Some(places_left) = record.get("places_left").and_then(Value::as_i64) else {
            return;
        };
        let commit_ms = a
            .data
            .get("commit_timestamp")
            .and_then(Value::as_str)
            .and_then(parse_commit_ms);
        let mut n = lock(&self.notes);
        n.seen.push(Seen {
            event,
            watcher,
            places_left,
            commit_ms,
            recv_wall_ms: a.recv_wall_ms,
        });
        *n.reached.entry((event, places_left)).or_default() += 1;
    }

    /// How many arrivals so far carried `places_left` for `event`.
    pub fn reached(&self, event: u32, places_left: i64) -> usize {
        lock(&self.notes)
            .reached
            .get(&(event, places_left))
            .copied()
            .unwrap_or(0)
    }

    /// Waits (up to `limit`) until `watchers` arrivals carried `places_left` for `event`.
    pub async fn wait_reached(
        &self,
        event: u32,
        places_left: i64,
        watchers: usize,
        limit: Duration,
    ) {
        wait_for("waiting for the watchers", limit, || {
            let r = self.reached(event, places_left);
            (
                r >= watchers,
                format!("{r} / {watchers} saw places_left {places_left}"),
            )
        })
        .await;
    }

    /// Everything noted about `event`, in arrival order.
    pub fn seen(&self, event: u32) -> Vec<Seen> {
        lock(&self.notes)
            .seen
            .iter()
            .filter(|s| s.event == event)
            .copied()
            .collect()
    }
}

/// The watching sockets.
pub struct Watchers {
    pub stop: watch::Sender<bool>,
    pub ready: usize,
    pub first_error: Option<String>,
}

/// Opens `m` sockets, socket `i` joined as `ids[i % ids.len()]`, with at most 32 handshakes
/// in flight; waits (up to 2 minutes) for all of them.
pub async fn watch_catalogue(
    ws_url: &str,
    hotel_id: &str,
    ids: &[Identity],
    m: usize,
    board: &Arc<Board>,
) -> Watchers {
    let (stop, stop_rx) = watch::channel(false);
    let gate = Arc::new(Semaphore::new(32));
    let ready = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::default();
    let binding = json!({"event": "*", "schema": "public", "table": "events",
                         "filter": format!("hotel_id=eq.{hotel_id}")});
    for i in 0..m {
        let Some(who) = ids.get(i % ids.len().max(1)).cloned() else {
            break;
        };
        let (gate, ready, failed, first_error, board, stop_rx, binding, url) = (
            gate.clone(),
            ready.clone(),
            failed.clone(),
            first_error.clone(),
            board.clone(),
            stop_rx.clone(),
            binding.clone(),
            ws_url.to_owned(),
        );
        tokio::spawn(async move {
            let join = Join {
                channel: "catalogue",
                binding,
                access_token: Some(&who.access_token),
            };
            let opened = {
                let _permit = gate.acquire().await;
                watcher::open(&url, &join).await
            };
            match opened {
                Ok(ws) => {
                    ready.fetch_add(1, Ordering::SeqCst);
                    let w = i as u32;
                    let open = watcher::listen(ws, i, stop_rx, |a| board.note(w, &a)).await;
                    if !open {
                        board.dropped.fetch_add(1, Ordering::SeqCst);
                    }
                }
                Err(e) => {
                    failed.fetch_add(1, Ordering::SeqCst);
                    lock(&first_error).get_or_insert_with(|| e.to_string());
                }
            }
        });
    }
    wait_for("watchers joining", Duration::from_secs(120), || {
        let (r, f) = (ready.load(Ordering::SeqCst), failed.load(Ordering::SeqCst));
        (r + f >= m, format!("{r} joined, {f} failed"))
    })
    .await;
    let first_error = lock(&first_error).clone();
    Watchers {
        stop,
        ready: ready.load(Ordering::SeqCst),
        first_error,
    }
}
