//! The engine's boundary with its shell: what can happen ([`Input`]) and what to do
//! ([`Action`]). The engine speaks it; the machines do not (they return their own commands,
//! such as [`SocketCmd`], which the engine translates here).

use concierge_wire::room::PresenceMeta;

use crate::Millis;
use crate::room::{RoomId, RoomSpec, RoomView};
use crate::socket::SocketCmd;
use crate::spec::{FetchId, HttpRequest, LiveQuerySpec, QueryId};
use crate::status::{Diagnostics, QueryState};
use crate::store::Row;

/// Defined by the socket, which numbers its connections; named here too because the shell
/// sees it in every socket [`Input`] and [`Action`].
pub use crate::socket::ConnId;

/// Why a REST request failed, as the shell saw it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("network error: {0}")]
    Network(String),
    #[error("HTTP {status}: {body}")]
    Http { status: u16, body: String },
}

/// Everything that can happen to the engine. Each call to [`crate::Engine::handle`] also
/// passes the current time (milliseconds since the Unix epoch, from the injected clock).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// The timer set by [`Action::SetTimer`] fired (early or spurious ticks are harmless).
    Tick,
    SocketOpen {
        conn: ConnId,
    },
    SocketFrame {
        conn: ConnId,
        text: String,
    },
    SocketClosed {
        conn: ConnId,
        code: u16,
        clean: bool,
    },
    /// `visibilitychange` (also sent once at start with the initial state).
    Visibility {
        visible: bool,
    },
    Online,
    Offline,
    PageHide,
    PageShow,
    /// A REST request finished: the body text on 2xx, else the error.
    FetchDone {
        query: QueryId,
        fetch: FetchId,
        result: Result<String, FetchError>,
    },
    Subscribe {
        query: QueryId,
        spec: LiveQuerySpec,
    },
    Unsubscribe {
        query: QueryId,
    },
    /// Fetch a fresh snapshot now (e.g. after the view's own write).
    Refresh {
        query: QueryId,
    },
    /// The signed-in user's JWT (`None` = anonymous: the anon key is used).
    SetToken(Option<String>),
    /// Something for a Broadcast + Presence room.
    Room(RoomInput),
}

/// What the shell can ask of a room (see [`crate::room::Room`]).
#[derive(Debug, Clone, PartialEq)]
pub enum RoomInput {
    Join {
        room: RoomId,
        spec: RoomSpec,
    },
    Leave {
        room: RoomId,
    },
    /// Track this presence from now on (and after every rejoin); `None` untracks.
    Track {
        room: RoomId,
        me: Option<PresenceMeta>,
    },
    /// The user typed a key in the room's conversation.
    Typed {
        room: RoomId,
    },
    /// A message by the person with this presence key arrived: they have stopped typing.
    Spoke {
        room: RoomId,
        key: String,
    },
}

/// What the shell must do. Order matters only within one `handle` result.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Connect {
        conn: ConnId,
        url: String,
    },
    Send {
        conn: ConnId,
        text: String,
    },
    CloseSocket {
        conn: ConnId,
        code: u16,
        reason: String,
    },
    Fetch {
        query: QueryId,
        fetch: FetchId,
        request: HttpRequest,
    },
    /// Abort the request (AbortController); its answer, if any, will be ignored anyway.
    CancelFetch {
        query: QueryId,
        fetch: FetchId,
    },
    /// Call back with [`Input::Tick`] at this time (replaces any earlier timer); `None`: no timer.
    SetTimer {
        at: Option<Millis>,
    },
    /// The query's rows changed: sorted, limited, shared (cheap to emit, cheap to compare).
    Rows {
        query: QueryId,
        rows: Vec<Row>,
    },
    QueryState {
        query: QueryId,
        state: QueryState,
    },
    Diagnostics(Diagnostics),
    /// What views see of a room changed.
    Room {
        room: RoomId,
        view: RoomView,
    },
}

impl From<SocketCmd> for Action {
    fn from(cmd: SocketCmd) -> Action {
        match cmd {
            SocketCmd::Connect { conn, url } => Action::Connect { conn, url },
            SocketCmd::Send { conn, text } => Action::Send { conn, text },
            SocketCmd::Close { conn, code, reason } => Action::CloseSocket { conn, code, reason },
        }
    }
}
