//! Broadcast and Presence: who is in which channel topic, and delivery between them.
//!
//! Every joined channel is a *member* of its topic's room, whatever else it listens to, as on
//! Supabase (every channel subscribes to its tenant topic). Private and public channels of the
//! same name are different rooms, again as on Supabase. This path is separate from the
//! `postgres_changes` fan-out in [`crate::hub`]: the two share only a socket's outbox.
//!
//! One lock guards the rooms; everything done under it is a map update plus non-blocking
//! pushes into members' byte-bounded queues.

pub mod frames;
pub mod limits;
pub mod options;
pub mod presence;
pub mod rate;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::Utf8Bytes;
use concierge_wire::Vsn;
use serde_json::{Map, Value};

use crate::hub::Outbox;
use frames::{PRESENCE_DIFF, PRESENCE_STATE, TopicFrame, member_frame};
pub use limits::RoomLimits;
use presence::{PresenceTable, Tracked};

/// A channel's place in a room (unique over the server's lifetime).
pub type MemberId = u64;

/// A room: a topic (`realtime:<name>`) and whether its channels are private.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RoomKey {
    pub topic: Arc<str>,
    pub private: bool,
}

/// One joined channel, as the room sees it.
pub struct Member {
    pub outbox: Arc<Outbox>,
    pub vsn: Vsn,
    pub join_ref: Option<String>,
    /// `config.broadcast.self`: receive its own broadcasts too.
    pub self_broadcast: bool,
    /// Receives `presence_state` / `presence_diff` (`config.presence.enabled`, or after its
    /// first track, as on Supabase).
    pub presence: bool,
}

#[derive(Default)]
struct Room {
    members: HashMap<MemberId, Member>,
    presence: PresenceTable,
}

impl Room {
    fn push_diff(&self, topic: &str, diff: &Value, skip: Option<MemberId>) {
        let mut frame = TopicFrame::new(topic, PRESENCE_DIFF, diff);
        for (id, m) in &self.members {
            if m.presence && Some(*id) != skip {
                m.outbox.push(frame.encoded(m.vsn));
            }
        }
    }
}

/// Why a track was refused; each text is the error reply's `reason`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresenceRefused {
    #[error("Presence track payload must be a map")]
    NotAMap,
    #[error("Track message size exceeded: {bytes} bytes, the limit is {limit}")]
    TooBig { bytes: usize, limit: usize },
    #[error("PresenceLimitReached: this channel already holds {limit} presences")]
    ChannelFull { limit: usize },
    #[error("PresenceLimitReached: this socket is already tracked in {limit} channels")]
    SocketFull { limit: usize },
    #[error("channel is not joined")]
    NotJoined,
}

pub struct Rooms {
    rooms: Mutex<HashMap<RoomKey, Room>>,
    next_member: AtomicU64,
    next_ref: AtomicU64,
    pub limits: RoomLimits,
}

impl Rooms {
    pub fn new(limits: RoomLimits) -> Arc<Rooms> {
        Arc::new(Rooms {
            rooms: Mutex::new(HashMap::new()),
            next_member: AtomicU64::new(1),
            next_ref: AtomicU64::new(1),
            limits,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RoomKey, Room>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh `phx_ref`: opaque and unique, like Phoenix's.
    fn phx_ref(&self) -> String {
        let n = self.next_ref.fetch_add(1, Ordering::Relaxed);
        format!("F{n:x}")
    }

    /// Adds a member; one that receives presence gets the room's `presence_state` first.
    pub fn enter(&self, key: &RoomKey, member: Member) -> MemberId {
        let id = self.next_member.fetch_add(1, Ordering::Relaxed);
        let mut rooms = self.lock();
        let room = rooms.entry(key.clone()).or_default();
        if member.presence {
            member.outbox.push(member_frame(
                member.vsn,
                &key.topic,
                &member.join_ref,
                PRESENCE_STATE,
                room.presence.state(),
            ));
        }
        room.members.insert(id, member);
        id
    }

    /// Removes a member and its presence (the others get the leave diff).
    pub fn exit(&self, key: &RoomKey, id: MemberId, presence_key: &str) {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(key) else {
            return;
        };
        room.members.remove(&id);
        if let Some(diff) = room.presence.untrack(id, presence_key) {
            room.push_diff(&key.topic, &diff, None);
        }
        if room.members.is_empty() {
            rooms.remove(key);
        }
    }

    /// Delivers a `broadcast` payload to the room: every member but `from`, unless that member
    /// asked for its own (`self`). Returns how many members it was queued for.
    pub fn broadcast(&self, key: &RoomKey, from: Option<MemberId>, payload: &Value) -> usize {
        let rooms = self.lock();
        let Some(room) = rooms.get(key) else {
            return 0;
        };
        let mut frame = TopicFrame::new(&key.topic, frames::BROADCAST, payload);
        let mut n = 0;
        for (id, m) in &room.members {
            if Some(*id) == from && !m.self_broadcast {
                continue;
            }
            m.outbox.push(frame.encoded(m.vsn));
            n += 1;
        }
        n
    }

    /// Tracks `id` under `presence_key` with `meta`. A member not yet receiving presence starts
    /// now and gets the whole state (its own entry included) instead of the diff. Once the
    /// track is accepted, `ok_reply` is queued for the member ahead of those frames, so the
    /// client sees its push answered first, as on Supabase.
    pub fn track(
        &self,
        key: &RoomKey,
        id: MemberId,
        presence_key: &str,
        meta: Value,
        ok_reply: Utf8Bytes,
    ) -> Result<(), PresenceRefused> {
        let Value::Object(meta) = meta else {
            return Err(PresenceRefused::NotAMap);
        };
        let bytes = Value::Object(meta.clone()).to_string().len();
        if bytes > self.limits.max_presence_bytes {
            return Err(PresenceRefused::TooBig {
                bytes,
                limit: self.limits.max_presence_bytes,
            });
        }
        let phx_ref = self.phx_ref();
        let mut rooms = self.lock();
        let room = rooms.get_mut(key).ok_or(PresenceRefused::NotJoined)?;
        let limit = self.limits.max_presence_per_channel;
        if !room.presence.holds(id, presence_key) && room.presence.len() >= limit {
            return Err(PresenceRefused::ChannelFull { limit });
        }
        let newly = match room.members.get_mut(&id) {
            Some(m) => {
                m.outbox.push(ok_reply);
                !std::mem::replace(&mut m.presence, true)
            }
            None => return Err(PresenceRefused::NotJoined),
        };
        let diff = match room.presence.track(id, presence_key, meta, phx_ref) {
            Tracked::Unchanged => return Ok(()),
            Tracked::Diff(d) => d,
        };
        if newly && let Some(m) = room.members.get(&id) {
            m.outbox.push(member_frame(
                m.vsn,
                &key.topic,
                &m.join_ref,
                PRESENCE_STATE,
                room.presence.state(),
            ));
        }
        room.push_diff(&key.topic, &diff, newly.then_some(id));
        Ok(())
    }

    /// Removes `id`'s presence; `true` if it had one.
    pub fn untrack(&self, key: &RoomKey, id: MemberId, presence_key: &str) -> bool {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(key) else {
            return false;
        };
        match room.presence.untrack(id, presence_key) {
            Some(diff) => {
                room.push_diff(&key.topic, &diff, None);
                true
            }
            None => false,
        }
    }

    /// Rooms with at least one member (for tests and diagnostics).
    pub fn room_count(&self) -> usize {
        self.lock().len()
    }
}

/// The meta of a `presence` push's `track` (its `payload`, `{}` when absent).
pub fn track_meta(push: &Map<String, Value>) -> Value {
    push.get("payload")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()))
}
