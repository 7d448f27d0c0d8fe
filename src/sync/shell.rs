//! The browser half of the engine: performs `Action`s with real browser objects and turns
//! browser events into `Input`s. No decisions are made here.
//!
//! Re-entrancy: an input that arrives while actions are being performed (a synchronous
//! WebSocket error, a signal write that runs code) is queued and handled by the outer loop,
//! so the engine is never borrowed twice.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::{Rc, Weak};

use concierge_sync::{
    Action, ConnId, Diagnostics, Endpoint, Engine, EngineConfig, FetchError, FetchId, HttpRequest,
    Input, LiveQuerySpec, QueryId, QueryState, RoomId, RoomInput, RoomSpec, RoomView,
};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{AbortController, CloseEvent, MessageEvent, WebSocket};

use super::dom::{self, Listener};

/// Callbacks into a view's signals. `Rc` so one can be called after the `sinks` borrow is
/// released: a sink may run code that subscribes or unsubscribes.
pub type RowsSink = Rc<dyn Fn(Vec<concierge_sync::Row>)>;
pub type StateSink = Rc<dyn Fn(QueryState)>;
pub type RoomSink = Rc<dyn Fn(RoomView)>;

struct Sinks {
    rows: RowsSink,
    state: StateSink,
}

/// The open WebSocket and its handlers (dropping them detaches the handlers).
struct Conn {
    id: ConnId,
    ws: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Conn {
    fn detach_and_close(self, code: u16, reason: &str) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        if matches!(
            self.ws.ready_state(),
            WebSocket::CONNECTING | WebSocket::OPEN
        ) && let Err(e) = self.ws.close_with_code_and_reason(code, reason)
        {
            log_error(&format!("closing the WebSocket failed: {e:?}"));
        }
    }
}

pub struct Shell {
    me: Weak<Shell>,
    engine: RefCell<Engine>,
    conn: RefCell<Option<Conn>>,
    timer: RefCell<Option<gloo_timers::callback::Timeout>>,
    fetches: RefCell<HashMap<FetchId, AbortController>>,
    sinks: RefCell<HashMap<QueryId, Sinks>>,
    rooms: RefCell<HashMap<RoomId, RoomSink>>,
    diagnostics: RwSignal<Diagnostics>,
    queue: RefCell<VecDeque<Input>>,
    busy: Cell<bool>,
    stopped: Cell<bool>,
    next_query: Cell<u64>,
    listeners: RefCell<Vec<Listener>>,
}

fn now() -> u64 {
    js_sys::Date::now() as u64
}

fn log_error(msg: &str) {
    web_sys::console::error_1(&format!("[sync] {msg}").into());
}

impl Shell {
    pub fn start(
        config: EngineConfig,
        endpoint: Endpoint,
        diagnostics: RwSignal<Diagnostics>,
    ) -> Rc<Shell> {
        let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let shell = Rc::new_cyclic(|me| Shell {
            me: me.clone(),
            engine: RefCell::new(Engine::new(config, endpoint, seed)),
            conn: RefCell::new(None),
            timer: RefCell::new(None),
            fetches: RefCell::new(HashMap::new()),
            sinks: RefCell::new(HashMap::new()),
            rooms: RefCell::new(HashMap::new()),
            diagnostics,
            queue: RefCell::new(VecDeque::new()),
            busy: Cell::new(false),
            stopped: Cell::new(false),
            next_query: Cell::new(0),
            listeners: RefCell::new(Vec::new()),
        });
        shell.listen();
        shell.dispatch(Input::Visibility {
            visible: dom::page_visible(),
        });
        if !dom::browser_online() {
            shell.dispatch(Input::Offline);
        }
        shell
    }

    fn listen(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let mut ls = Vec::new();
        let mut on =
            |target: &web_sys::EventTarget, event: &'static str, make: fn() -> Option<Input>| {
                let me = self.me.clone();
                let l = Listener::new(target, event, move |_| {
                    if let (Some(shell), Some(input)) = (me.upgrade(), make()) {
                        shell.dispatch(input);
                    }
                });
                ls.extend(l);
            };
        if let Some(doc) = window.document() {
            on(&doc, "visibilitychange", || {
                Some(Input::Visibility {
                    visible: dom::page_visible(),
                })
            });
        }
        on(&window, "pagehide", || Some(Input::PageHide));
        on(&window, "pageshow", || Some(Input::PageShow));
        on(&window, "online", || Some(Input::Online));
        on(&window, "offline", || Some(Input::Offline));
        *self.listeners.borrow_mut() = ls;
    }

    /// Feeds one input to the engine and performs the resulting actions (and those of any
    /// inputs queued meanwhile).
    pub fn dispatch(&self, input: Input) {
        if self.stopped.get() {
            return;
        }
        self.queue.borrow_mut().push_back(input);
        if self.busy.replace(true) {
            return;
        }
        loop {
            let next = self.queue.borrow_mut().pop_front();
            let Some(input) = next else { break };
            let actions = self.engine.borrow_mut().handle(now(), input);
            for a in actions {
                self.perform(a);
            }
        }
        self.busy.set(false);
    }

    pub fn subscribe(&self, spec: LiveQuerySpec, rows: RowsSink, state: StateSink) -> QueryId {
        let id = QueryId(self.next_query.get() + 1);
        self.next_query.set(id.0);
        self.sinks.borrow_mut().insert(id, Sinks { rows, state });
        self.dispatch(Input::Subscribe { query: id, spec });
        id
    }

    pub fn unsubscribe(&self, id: QueryId) {
        self.dispatch(Input::Unsubscribe { query: id });
        self.sinks.borrow_mut().remove(&id);
    }

    /// Joins a Broadcast + Presence room; `sink` gets its view whenever it changes.
    pub fn join_room(&self, spec: RoomSpec, sink: RoomSink) -> RoomId {
        let room = RoomId(self.next_query.get() + 1);
        self.next_query.set(room.0);
        self.rooms.borrow_mut().insert(room, sink);
        self.dispatch(Input::Room(RoomInput::Join { room, spec }));
        room
    }

    pub fn leave_room(&self, room: RoomId) {
        self.dispatch(Input::Room(RoomInput::Leave { room }));
        self.rooms.borrow_mut().remove(&room);
    }

    /// Stops everything: socket, timer, requests, listeners. Later inputs are ignored.
    pub fn stop(&self) {
        self.stopped.set(true);
        self.listeners.borrow_mut().clear();
        self.timer.borrow_mut().take();
        if let Some(c) = self.conn.borrow_mut().take() {
            c.detach_and_close(1000, "engine stopped");
        }
        for (_, ctrl) in self.fetches.borrow_mut().drain() {
            ctrl.abort();
        }
        self.sinks.borrow_mut().clear();
        self.rooms.borrow_mut().clear();
    }

    fn perform(&self, action: Action) {
        match action {
            Action::Connect { conn, url } => self.connect(conn, &url),
            Action::Send { conn, text } => {
                let c = self.conn.borrow();
                if let Some(c) = c.as_ref().filter(|c| c.id == conn)
                    && let Err(e) = c.ws.send_with_str(&text)
                {
                    log_error(&format!("WebSocket send failed: {e:?}"));
                }
            }
            Action::CloseSocket { conn, code, reason } => {
                let current = self.conn.borrow().as_ref().is_some_and(|c| c.id == conn);
                let taken = if current {
                    self.conn.borrow_mut().take()
                } else {
                    None
                };
                if let Some(c) = taken {
                    c.detach_and_close(code, &reason);
                }
            }
            Action::Fetch {
                query,
                fetch,
                request,
            } => self.fetch(query, fetch, request),
            Action::CancelFetch { fetch, .. } => {
                if let Some(ctrl) = self.fetches.borrow_mut().remove(&fetch) {
                    ctrl.abort();
                }
            }
            Action::SetTimer { at } => {
                let mut timer = self.timer.borrow_mut();
                timer.take(); // dropping a gloo Timeout cancels it
                if let Some(at) = at {
                    let delay = at.saturating_sub(now()).min(i32::MAX as u64) as u32;
                    let me = self.me.clone();
                    *timer = Some(gloo_timers::callback::Timeout::new(delay, move || {
                        if let Some(shell) = me.upgrade() {
                            shell.dispatch(Input::Tick);
                        }
                    }));
                }
            }
            Action::Rows { query, rows } => {
                let sink = self.sinks.borrow().get(&query).map(|s| s.rows.clone());
                if let Some(sink) = sink {
                    sink(rows);
                }
            }
            Action::QueryState { query, state } => {
                let sink = self.sinks.borrow().get(&query).map(|s| s.state.clone());
                if let Some(sink) = sink {
                    sink(state);
                }
            }
            Action::Diagnostics(d) => {
                self.diagnostics.try_set(d);
            }
            Action::Room { room, view } => {
                let sink = self.rooms.borrow().get(&room).cloned();
                if let Some(sink) = sink {
                    sink(view);
                }
            }
        }
    }

    fn connect(&self, id: ConnId, url: &str) {
        if let Some(old) = self.conn.borrow_mut().take() {
            old.detach_and_close(1000, "replaced");
        }
        let ws = match WebSocket::new(url) {
            Ok(ws) => ws,
            Err(e) => {
                log_error(&format!("cannot open the realtime WebSocket: {e:?}"));
                // Queued: handled right after the current actions.
                self.queue.borrow_mut().push_back(Input::SocketClosed {
                    conn: id,
                    code: 1006,
                    clean: false,
                });
                return;
            }
        };
        let me = self.me.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            if let Some(s) = me.upgrade() {
                s.dispatch(Input::SocketOpen { conn: id });
            }
        });
        let me = self.me.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            // Everything this client reads is text: concierge-server delivers broadcasts as
            // text. (Hosted Supabase may send vsn 2.0.0 broadcasts as binary frames; those are
            // not decoded here, so typing indicators would not show there.)
            if let (Some(s), Some(text)) = (me.upgrade(), e.data().as_string()) {
                s.dispatch(Input::SocketFrame { conn: id, text });
            }
        });
        let me = self.me.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            if let Some(s) = me.upgrade() {
                s.dispatch(Input::SocketClosed {
                    conn: id,
                    code: e.code(),
                    clean: e.was_clean(),
                });
            }
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *self.conn.borrow_mut() = Some(Conn {
            id,
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
        });
    }

    fn fetch(&self, query: QueryId, fetch: FetchId, request: HttpRequest) {
        let ctrl = match AbortController::new() {
            Ok(c) => c,
            Err(e) => {
                log_error(&format!("AbortController unavailable: {e:?}"));
                self.queue.borrow_mut().push_back(Input::FetchDone {
                    query,
                    fetch,
                    result: Err(FetchError::Network("AbortController unavailable".into())),
                });
                return;
            }
        };
        let signal = ctrl.signal();
        self.fetches.borrow_mut().insert(fetch, ctrl);
        let me = self.me.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let mut req = crate::http::Request::get(request.url).abort_signal(signal);
            for (k, v) in &request.headers {
                req = req.header(k, v);
            }
            let result = match req.send().await {
                Ok(reply) if reply.ok() => Ok(reply.text),
                Ok(reply) => Err(FetchError::Http {
                    status: reply.status,
                    body: reply.text.chars().take(300).collect(),
                }),
                Err(e) => Err(FetchError::Network(e.detail())),
            };
            let Some(shell) = me.upgrade() else { return };
            let was_live = shell.fetches.borrow_mut().remove(&fetch).is_some();
            if !was_live {
                return; // aborted: the engine already forgot this request
            }
            if let Err(e) = &result {
                log_error(&format!("poll failed: {e}"));
            }
            shell.dispatch(Input::FetchDone {
                query,
                fetch,
                result,
            });
        });
    }
}
