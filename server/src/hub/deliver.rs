//! Delivery: the dispatcher that consumes committed changes in order and queues each one, encoded
//! once per distinct frame, for every channel whose bindings match and whose principal may see it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use concierge_wire::Vsn;
use tokio::sync::mpsc;

use super::frame::{encode_data, encode_frame};
use super::{Hub, spawn_fanout};
use crate::authz::{self, Principal};
use crate::db::Change;

impl Hub {
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
            let Some(ch) = idx.channel(cid) else {
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
        self.encoded
            .fetch_add(frames.len() as u64, std::sync::atomic::Ordering::Relaxed);
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
        .is_some_and(|r| authz::change_visible(p, change.table, r, change.conversation.as_ref()))
}
