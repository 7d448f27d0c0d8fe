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

use concierge_wire::phoenix::{Event, Message, PHOENIX_TOPIC, Vsn};
use serde_json::json;

use crate::Millis;
use crate::backoff::{Rng, Timer};
use crate::io::{Action, ConnId};
use crate::refs::Refs;
use crate::status::SocketState;

/// What a tick did to the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketTick {
    Nothing,
    /// The heartbeat went unanswered: the socket was declared dead and closed.
    HeartbeatTimeout,
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
    pub fn connect(&mut self, out: &mut Vec<Action>) {
        if self.opened_once || self.next_conn > 0 {
            self.reconnects += 1;
        }
        self.next_conn += 1;
        self.conn = ConnId(self.next_conn);
        self.state = SocketState::Connecting;
        self.reconnect.cancel();
        self.heartbeat_at = None;
        self.pending_heartbeat = None;
        out.push(Action::Connect {
            conn: self.conn,
            url: self.url.clone(),
        });
    }

    /// Connects if nothing is connecting or open (first live query, or after `Idle`).
    pub fn ensure_connected(&mut self, out: &mut Vec<Action>) {
        if self.state == SocketState::Idle {
            self.connect(out);
        }
    }

    /// Sends a frame if the socket is open. Returns false (and sends nothing) otherwise:
    /// channel state is rebuilt on reopen, so nothing needs buffering.
    pub fn push(&mut self, out: &mut Vec<Action>, msg: &Message) -> bool {
        if self.state != SocketState::Open {
            return false;
        }
        out.push(Action::Send {
            conn: self.conn,
            text: msg.encode(self.vsn),
        });
        true
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
    pub fn on_tick(
        &mut self,
        now: Millis,
        hidden: bool,
        out: &mut Vec<Action>,
        rng: &mut Rng,
    ) -> SocketTick {
        match self.state {
            SocketState::Open if self.heartbeat_at.is_some_and(|t| t <= now) => {
                if self.pending_heartbeat.is_some() {
                    self.heartbeat_timeouts += 1;
                    out.push(Action::CloseSocket {
                        conn: self.conn,
                        code: 1000,
                        reason: "heartbeat timeout".into(),
                    });
                    self.go_down(now, rng);
                    return SocketTick::HeartbeatTimeout;
                }
                let r = self.make_ref();
                let hb = Message::new(PHOENIX_TOPIC, Event::Heartbeat, json!({}))
                    .with_refs(None, Some(r.clone()));
                self.push(out, &hb);
                self.pending_heartbeat = Some(r);
                self.heartbeat_at = Some(now + self.heartbeat_ms);
            }
            SocketState::Waiting if self.reconnect.is_due(now) => {
                if hidden {
                    // phoenix.js: "Not reconnecting as page is hidden!" — wait for visible.
                    self.reconnect.cancel();
                } else {
                    self.connect(out);
                }
            }
            _ => {}
        }
        SocketTick::Nothing
    }

    /// The page became visible or the browser came online: reconnect now if down.
    pub fn wake(&mut self, out: &mut Vec<Action>) {
        if self.state == SocketState::Waiting {
            self.connect(out);
        }
    }

    /// `pagehide`: close and hold. Returns true if a live connection was closed.
    pub fn hold(&mut self, out: &mut Vec<Action>) -> bool {
        let was_live = matches!(self.state, SocketState::Open | SocketState::Connecting);
        if was_live {
            out.push(Action::CloseSocket {
                conn: self.conn,
                code: 1000,
                reason: "page hidden".into(),
            });
        }
        if self.state != SocketState::Idle {
            self.state = SocketState::Held;
        }
        self.reconnect.cancel();
        self.heartbeat_at = None;
        self.pending_heartbeat = None;
        was_live
    }

    /// `pageshow`: reopen a held socket at once.
    pub fn release(&mut self, out: &mut Vec<Action>) {
        if self.state == SocketState::Held {
            self.connect(out);
        }
    }
}
