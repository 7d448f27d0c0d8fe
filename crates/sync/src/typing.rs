//! The typing indicator: when to tell the room we type, and who else is typing.
//!
//! - Ours: while the user types, one `typing` broadcast at most every `send_every_ms` (a key
//!   press is an input; the first one sends at once). Nothing is sent when typing stops: the
//!   others' indicator simply expires.
//! - Theirs: each `typing` broadcast (re)starts that person's indicator for `expire_ms`; it
//!   ends then, or at once when the person leaves the room.
//!
//! Time is an input; nothing here reads a clock.

use std::collections::BTreeMap;

use crate::Millis;

/// How often our typing is sent while the user keeps typing.
pub const TYPING_SEND_EVERY_MS: u64 = 2_000;
/// How long another person shows as typing after their last `typing` broadcast.
pub const TYPING_EXPIRE_MS: u64 = 5_000;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Typist {
    name: String,
    until: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typing {
    send_every_ms: u64,
    expire_ms: u64,
    last_sent: Option<Millis>,
    /// By presence key, so one person's tabs count once.
    others: BTreeMap<String, Typist>,
}

impl Default for Typing {
    fn default() -> Self {
        Typing::new(TYPING_SEND_EVERY_MS, TYPING_EXPIRE_MS)
    }
}

impl Typing {
    pub fn new(send_every_ms: u64, expire_ms: u64) -> Typing {
        Typing {
            send_every_ms,
            expire_ms,
            last_sent: None,
            others: BTreeMap::new(),
        }
    }

    /// The user typed at `now`: whether to send a `typing` broadcast now. Call
    /// [`Typing::sent`] once it was actually sent (not while the channel is down).
    pub fn due(&self, now: Millis) -> bool {
        self.last_sent
            .is_none_or(|t| now >= t.saturating_add(self.send_every_ms))
    }

    pub fn sent(&mut self, now: Millis) {
        self.last_sent = Some(now);
    }

    /// Someone else's `typing` broadcast.
    pub fn on_typing(&mut self, now: Millis, key: String, name: String) {
        let until = now.saturating_add(self.expire_ms);
        self.others.insert(key, Typist { name, until });
    }

    /// The person left the room: their indicator ends now. Returns whether it was showing.
    pub fn forget(&mut self, key: &str) -> bool {
        self.others.remove(key).is_some()
    }

    /// Ends the indicators due by `now`. Returns whether any ended.
    pub fn expire(&mut self, now: Millis) -> bool {
        let before = self.others.len();
        self.others.retain(|_, t| t.until > now);
        self.others.len() != before
    }

    /// The next indicator to expire.
    pub fn deadline(&self) -> Option<Millis> {
        self.others.values().map(|t| t.until).min()
    }

    /// The keys currently typing, in key order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.others.keys().map(String::as_str)
    }

    /// Who is typing (names, in key order).
    pub fn names(&self) -> Vec<String> {
        self.others.values().map(|t| t.name.clone()).collect()
    }
}
