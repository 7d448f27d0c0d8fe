//! The one Phoenix socket of a page: connection lifecycle, heartbeat, reconnect backoff.
//!
//! Each WebSocket the shell opens gets a [`ConnId`]; inputs about an older connection are
//! ignored, so a socket the engine already gave up on (heartbeat timeout) can close as slowly
//! as the browser likes without disturbing its successor.
//!
//! - Heartbeat (phoenix.js): every `heartbeat_ms` send `heartbeat` on topic `phoenix`; if the
//!   previous one is still unanswered at the next beat, the socket is dead: close it
//!   (1000, "heartbeat timeout") and reconnect with backoff.
//! - Reconnect (realtime-js): 1, 2, 5, 10 s then 10 s, with jitter; the tries counter resets
//!   on a successful open. A due reconnect is skipped while the page is hidden; becoming
//!   visible or `online` reconnects at once.
//! - `pagehide` closes the socket and holds it closed (keeps the page bfcache-eligible);
//!   `pageshow` reopens it.
//!
//! Sans-IO, quinn-proto style: the socket never performs anything. Each method that wants the
//! WebSocket opened, written or closed returns a [`SocketCmd`]; the engine translates it into
//! the shell's action. The socket's own vocabulary ([`ConnId`], [`SocketState`], [`Refs`])
//! lives here, so the socket imports nothing of the engine.

use concierge_wire::phoenix::{Event, Message, PHOENIX_TOPIC, Vsn};
use serde_json::json;

use crate::Millis;
use crate::backoff::{Rng, Timer};

/// Identifies one WebSocket opened by the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// Where the socket is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketState {
    /// Never asked to connect (no live query yet, or realtime disabled).
    Idle,
    Connecting,
    Open,
    /// Down, a reconnect is scheduled (or deferred until the page is visible).
    Waiting,
    /// Closed on purpose by `pagehide`; reopens on `pageshow`.
    Held,
}

/// Phoenix message refs: one counter per socket, shared by its heartbeats and its channels'
/// pushes (a channel's join ref is one of them), so every ref on a connection is distinct.
/// Lent to channels so they can stamp their own messages without holding the socket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refs(u64);

impl Refs {
    /// A fresh ref.
    pub fn fresh(&mut self) -> String {
        self.0 += 1;
        self.0.to_string()
    }
}

/// What the socket wants done with the WebSocket. The socket only says it; the engine turns
/// it into the shell's `Action` (the socket knows nothing of the engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketCmd {
    /// Open a new WebSocket to `url`, known from now on as `conn`.
    Connect { conn: ConnId, url: String },
    /// Send this text frame.
    Send { conn: ConnId, text: String },
    /// Close the WebSocket.
    Close {
        conn: ConnId,
        code: u16,
        reason: String,
    },
}

/// What a tick did to the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketTick {
    Nothing,
    /// Do this: send a heartbeat, or reconnect.
    Do(SocketCmd),
    /// The heartbeat went unanswered: the socket was declared dead; close it with this.
    HeartbeatTimeout(SocketCmd),
}

#[derive(Debug, Clone)]
pub struct Socket {
    url: String,
    vsn: Vsn,
    heartbeat_ms: u64,
    reconnect_steps: Vec<u64>,
    jitter: f64,
    state: SocketState,
    conn: ConnId,
    next_conn: u64,
    refs: Refs,
    reconnect: Timer,
    heartbeat_at: Option<Millis>,
    pending_heartbeat: Option<String>,
    opened_once: bool,
    /// Connection attempts after the first.
    pub reconnects: u64,
    pub heartbeat_timeouts: u64,
}

impl Socket {
    pub fn new(
        url: String,
        vsn: Vsn,
        heartbeat_ms: u64,
        reconnect_steps: Vec<u64>,
        jitter: f64,
    ) -> Socket {
        Socket {
            url,
            vsn,
            heartbeat_ms: heartbeat_ms.max(1),
            reconnect_steps,
            jitter,
            state: SocketState::Idle,
            conn: ConnId(0),
            next_conn: 0,
            refs: Refs::default(),
            reconnect: Timer::default(),
            heartbeat_at: None,
            pending_heartbeat: None,
            opened_once: false,
            reconnects: 0,
            heartbeat_timeouts: 0,
        }
    }

    pub fn state(&self) -> SocketState {
        self.state
    }

    pub fn is_open(&self) -> bool {
        self.state == SocketState::Open
    }

    pub fn vsn(&self) -> Vsn {
        self.vsn
    }

    /// The connection inputs must name to be heeded.
    pub fn conn(&self) -> ConnId {
        self.conn
    }

    /// Reconnect attempts since the last successful open.
    pub fn tries(&self) -> u32 {
        self.reconnect.tries
    }

    /// The earliest moment this socket needs a tick.
    pub fn deadline(&self) -> Option<Millis> {
        match self.state {
            SocketState::Open => self.heartbeat_at,
            SocketState::Waiting => self.reconnect.due,
            _ => None,
        }
    }

    /// A fresh message ref (also used as a channel's join_ref).
    pub fn make_ref(&mut self) -> String {
        self.refs.fresh()
    }

    /// The ref counter, for channels stamping the messages the engine will push here.
    pub fn refs(&mut self) -> &mut Refs {
        &mut self.refs
    }

    /// Opens a new WebSocket (any previous one is abandoned by id).
    pub fn connect(&mut self) -> SocketCmd {
        if self.opened_once || self.next_conn > 0 {
            self.reconnects += 1;
        }
        self.next_conn += 1;
        self.conn = ConnId(self.next_conn);
        self.state = SocketState::Connecting;
        self.reconnect.cancel();
        self.heartbeat_at = None;
        self.pending_heartbeat = None;
        SocketCmd::Connect {
            conn: self.conn,
            url: self.url.clone(),
        }
    }

    /// Connects if nothing is connecting or open (first live query, or after `Idle`).
    pub fn ensure_connected(&mut self) -> Option<SocketCmd> {
        (self.state == SocketState::Idle).then(|| self.connect())
    }

    /// The frame to send for `msg` if the socket is open; `None` (nothing to send) otherwise:
    /// channel state is rebuilt on reopen, so nothing needs buffering.
    pub fn push(&self, msg: &Message) -> Option<SocketCmd> {
        (self.state == SocketState::Open).then(|| SocketCmd::Send {
            conn: self.conn,
            text: msg.encode(self.vsn),
        })
    }

    /// The shell reports the WebSocket open. Returns true if it is the current one.
    pub fn on_open(&mut self, now: Millis, conn: ConnId) -> bool {
        if conn != self.conn || self.state != SocketState::Connecting {
            return false;
        }
        self.state = SocketState::Open;
        self.opened_once = true;
        self.reconnect.reset();
        self.pending_heartbeat = None;
        self.heartbeat_at = Some(now + self.heartbeat_ms);
        true
    }

    /// The shell reports the WebSocket closed (by the server, the network, or a failed
    /// connect). Returns true if it was the current one (channels must then error).
    pub fn on_closed(&mut self, now: Millis, conn: ConnId, rng: &mut Rng) -> bool {
        if conn != self.conn || !matches!(self.state, SocketState::Open | SocketState::Connecting) {
            return false;
        }
        self.go_down(now, rng);
        true
    }

    fn go_down(&mut self, now: Millis, rng: &mut Rng) {
        self.state = SocketState::Waiting;
        self.heartbeat_at = None;
        self.pending_heartbeat = None;
        self.reconnect
            .schedule(now, &self.reconnect_steps, self.jitter, rng);
    }

    /// A `phx_reply` on topic `phoenix`: clears the pending heartbeat if it answers it.
    pub fn on_heartbeat_reply(&mut self, msg_ref: Option<&str>) {
        if msg_ref.is_some() && self.pending_heartbeat.as_deref() == msg_ref {
            self.pending_heartbeat = None;
        }
    }

    /// Heartbeat and reconnect timers. `hidden`: a due reconnect waits for visibility.
    pub fn on_tick(&mut self, now: Millis, hidden: bool, rng: &mut Rng) -> SocketTick {
        match self.state {
            SocketState::Open if self.heartbeat_at.is_some_and(|t| t <= now) => {
                if self.pending_heartbeat.is_some() {
                    self.heartbeat_timeouts += 1;
                    let close = SocketCmd::Close {
                        conn: self.conn,
                        code: 1000,
                        reason: "heartbeat timeout".into(),
                    };
                    self.go_down(now, rng);
                    return SocketTick::HeartbeatTimeout(close);
                }
                let r = self.make_ref();
                let hb = Message::new(PHOENIX_TOPIC, Event::Heartbeat, json!({}))
                    .with_refs(None, Some(r.clone()));
                self.pending_heartbeat = Some(r);
                self.heartbeat_at = Some(now + self.heartbeat_ms);
                self.push(&hb).map_or(SocketTick::Nothing, SocketTick::Do)
            }
            SocketState::Waiting if self.reconnect.is_due(now) => {
                if hidden {
                    // phoenix.js: "Not reconnecting as page is hidden!" — wait for visible.
                    self.reconnect.cancel();
                    SocketTick::Nothing
                } else {
                    SocketTick::Do(self.connect())
                }
            }
            _ => SocketTick::Nothing,
        }
    }

    /// The page became visible or the browser came online: reconnect now if down.
    pub fn wake(&mut self) -> Option<SocketCmd> {
        (self.state == SocketState::Waiting).then(|| self.connect())
    }

    /// `pagehide`: close and hold. Returns the close if a live connection was closed (its
    /// channels must then error).
    pub fn hold(&mut self) -> Option<SocketCmd> {
        let was_live = matches!(self.state, SocketState::Open | SocketState::Connecting);
        let close = was_live.then(|| SocketCmd::Close {
            conn: self.conn,
            code: 1000,
            reason: "page hidden".into(),
        });
        if self.state != SocketState::Idle {
            self.state = SocketState::Held;
        }
        self.reconnect.cancel();
        self.heartbeat_at = None;
        self.pending_heartbeat = None;
        close
    }

    /// `pageshow`: reopen a held socket at once.
    pub fn release(&mut self) -> Option<SocketCmd> {
        (self.state == SocketState::Held).then(|| self.connect())
    }
}
