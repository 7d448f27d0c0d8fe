//! A fake browser + fake server around the pure engine: a clock we move by hand, a socket
//! that opens or fails on command, and REST answers chosen by the test.
#![allow(dead_code)]

use std::collections::{BTreeMap, VecDeque};

use concierge_sync::*;
use concierge_wire::phoenix::{Event, Message, Vsn};
use serde_json::{Value, json};

pub type Answer = Box<dyn FnMut(u64, QueryId) -> Result<String, FetchError>>;

pub struct H {
    pub e: Engine,
    pub now: u64,
    pub log: Vec<(u64, Action)>,
    queue: VecDeque<Input>,
    /// Connect attempts succeed (open) or fail (closed 1006) at once.
    pub server_up: bool,
    /// Answer joins with an ok reply echoing the bindings.
    pub auto_join: bool,
    /// Follow ok join replies with the `system` "Subscribed to PostgreSQL".
    pub auto_confirm: bool,
    pub auto_heartbeat: bool,
    /// Answer fetches at once with this; `None`: leave them in flight.
    pub answer: Option<Answer>,
    pub conn: Option<ConnId>,
    pub vsn: Vsn,
    pub fetch_times: Vec<(u64, QueryId)>,
    pub connect_times: Vec<u64>,
    /// Fetches started and not yet answered or cancelled, by query.
    pub outstanding: BTreeMap<QueryId, Vec<FetchId>>,
    pub rows: BTreeMap<QueryId, Vec<Value>>,
    pub states: BTreeMap<QueryId, QueryState>,
    pub diag: Diagnostics,
    pub timer: Option<u64>,
    pub sub_id: u32,
    /// The last view emitted for each room.
    pub rooms: BTreeMap<RoomId, RoomView>,
}

pub fn cfg() -> EngineConfig {
    EngineConfig {
        reconnect_jitter: 0.0,
        ..EngineConfig::default()
    }
}

pub fn spec() -> LiveQuerySpec {
    LiveQuerySpec::new("sessions").order_by("created_at", false)
}

pub fn rows_body(rows: &[Value]) -> Result<String, FetchError> {
    Ok(Value::Array(rows.to_vec()).to_string())
}

impl H {
    pub fn new(cfg: EngineConfig) -> H {
        let vsn = cfg.vsn;
        H {
            e: Engine::new(cfg, Endpoint::new("http://test.local", "anon"), 42),
            now: 0,
            log: Vec::new(),
            queue: VecDeque::new(),
            server_up: true,
            auto_join: true,
            auto_confirm: true,
            auto_heartbeat: true,
            answer: Some(Box::new(|_, _| rows_body(&[]))),
            conn: None,
            vsn,
            fetch_times: Vec::new(),
            connect_times: Vec::new(),
            outstanding: BTreeMap::new(),
            rows: BTreeMap::new(),
            states: BTreeMap::new(),
            diag: Diagnostics::default(),
            timer: None,
            sub_id: 1000,
            rooms: BTreeMap::new(),
        }
    }

    /// Handles `input` (and everything the fake world answers in reaction) at `self.now`.
    pub fn input(&mut self, input: Input) {
        self.queue.push_back(input);
        while let Some(i) = self.queue.pop_front() {
            if let Input::FetchDone { query, fetch, .. } = &i
                && let Some(v) = self.outstanding.get_mut(query)
            {
                v.retain(|f| f != fetch);
            }
            let actions = self.e.handle(self.now, i);
            for a in actions {
                self.react(&a);
                self.log.push((self.now, a));
            }
        }
    }

    fn react(&mut self, a: &Action) {
        match a {
            Action::Connect { conn, .. } => {
                self.connect_times.push(self.now);
                self.conn = Some(*conn);
                self.queue.push_back(if self.server_up {
                    Input::SocketOpen { conn: *conn }
                } else {
                    Input::SocketClosed {
                        conn: *conn,
                        code: 1006,
                        clean: false,
                    }
                });
            }
            Action::Send { conn, text } => {
                let Ok(m) = Message::decode(text, self.vsn) else {
                    panic!("engine sent junk: {text}")
                };
                if m.event == Event::Heartbeat && self.auto_heartbeat {
                    self.queue.push_back(Input::SocketFrame {
                        conn: *conn,
                        text: self.server_msg(
                            None,
                            m.msg_ref.clone(),
                            "phoenix",
                            Event::Reply,
                            json!({"status":"ok","response":{}}),
                        ),
                    });
                }
                if m.event == Event::Join && self.auto_join {
                    let reply = self.join_reply_for(&m);
                    self.queue.push_back(Input::SocketFrame {
                        conn: *conn,
                        text: reply,
                    });
                    // The server confirms a Postgres subscription only when there is one.
                    let has_bindings = m.payload["config"]["postgres_changes"]
                        .as_array()
                        .is_some_and(|b| !b.is_empty());
                    if self.auto_confirm && has_bindings {
                        let c = self.confirm_for(&m);
                        self.queue.push_back(Input::SocketFrame {
                            conn: *conn,
                            text: c,
                        });
                    }
                }
            }
            Action::Fetch { query, fetch, .. } => {
                self.fetch_times.push((self.now, *query));
                let v = self.outstanding.entry(*query).or_default();
                v.push(*fetch);
                assert!(v.len() <= 1, "two fetches in flight for {query:?}");
                if let Some(ans) = self.answer.as_mut() {
                    let result = ans(self.now, *query);
                    self.queue.push_back(Input::FetchDone {
                        query: *query,
                        fetch: *fetch,
                        result,
                    });
                }
            }
            Action::CancelFetch { query, fetch } => {
                if let Some(v) = self.outstanding.get_mut(query) {
                    v.retain(|f| f != fetch);
                }
            }
            Action::Rows { query, rows } => {
                self.rows.insert(
                    *query,
                    rows.iter().map(|r| Value::Object((**r).clone())).collect(),
                );
            }
            Action::QueryState { query, state } => {
                self.states.insert(*query, state.clone());
            }
            Action::Diagnostics(d) => self.diag = d.clone(),
            Action::SetTimer { at } => self.timer = *at,
            Action::CloseSocket { .. } => {}
            Action::Room { room, view } => {
                self.rooms.insert(*room, view.clone());
            }
        }
    }

    pub fn server_msg(
        &self,
        join_ref: Option<String>,
        r: Option<String>,
        topic: &str,
        ev: Event,
        payload: Value,
    ) -> String {
        Message::new(topic, ev, payload)
            .with_refs(join_ref, r)
            .encode_server(self.vsn)
    }

    pub fn join_reply_for(&self, join: &Message) -> String {
        let bindings: Vec<Value> = join.payload["config"]["postgres_changes"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|mut b| {
                b["id"] = json!(self.sub_id);
                b
            })
            .collect();
        self.server_msg(
            join.join_ref.clone(),
            join.msg_ref.clone(),
            &join.topic,
            Event::Reply,
            json!({"status":"ok","response":{"postgres_changes": bindings}}),
        )
    }

    pub fn confirm_for(&self, join: &Message) -> String {
        self.server_msg(
            join.join_ref.clone(),
            None,
            &join.topic,
            Event::System,
            json!({"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"x"}),
        )
    }

    /// Moves the clock to `t`, delivering every timer tick due on the way, each at its time.
    pub fn advance_to(&mut self, t: u64) {
        let mut guard = 0;
        while let Some(d) = self.e.next_deadline() {
            if d > t {
                break;
            }
            self.now = self.now.max(d);
            self.input(Input::Tick);
            if let Some(next) = self.e.next_deadline() {
                assert!(
                    next > self.now,
                    "deadline {next} not after tick at {}",
                    self.now
                );
            }
            guard += 1;
            assert!(guard < 100_000, "timer storm");
        }
        self.now = self.now.max(t);
        assert_eq!(
            self.timer,
            self.e.next_deadline(),
            "SetTimer out of sync with next_deadline"
        );
    }

    pub fn advance(&mut self, dt: u64) {
        self.advance_to(self.now + dt);
    }

    pub fn at(&mut self, t: u64, input: Input) {
        self.advance_to(t);
        self.input(input);
    }

    /// Everything the engine sent, decoded, with the time.
    pub fn sent(&self) -> Vec<(u64, Message)> {
        self.log
            .iter()
            .filter_map(|(t, a)| match a {
                Action::Send { text, .. } => Message::decode(text, self.vsn).ok().map(|m| (*t, m)),
                _ => None,
            })
            .collect()
    }

    pub fn sent_events(&self, ev: Event) -> Vec<(u64, Message)> {
        self.sent()
            .into_iter()
            .filter(|(_, m)| m.event == ev)
            .collect()
    }

    pub fn last_join(&self) -> Message {
        self.sent_events(Event::Join)
            .last()
            .map(|(_, m)| m.clone())
            .expect("no join sent")
    }

    /// A frame from the server on the current connection.
    pub fn frame(&mut self, text: String) {
        let conn = self.conn.expect("no connection");
        self.input(Input::SocketFrame { conn, text });
    }

    /// The server drops the connection.
    pub fn drop_socket(&mut self) {
        let conn = self.conn.expect("no connection");
        self.input(Input::SocketClosed {
            conn,
            code: 1006,
            clean: false,
        });
    }

    pub fn subscribe(&mut self, id: u64, spec: LiveQuerySpec) -> QueryId {
        let q = QueryId(id);
        self.input(Input::Subscribe { query: q, spec });
        q
    }

    pub fn fetches_between(&self, from: u64, to: u64) -> Vec<u64> {
        self.fetch_times
            .iter()
            .filter(|(t, _)| *t >= from && *t <= to)
            .map(|(t, _)| *t)
            .collect()
    }

    /// A postgres_changes frame for the last joined channel.
    pub fn change(&self, topic: &str, kind: &str, record: Value, commit: &str) -> String {
        let mut data = json!({
            "schema": "public", "table": "sessions", "commit_timestamp": commit, "type": kind,
            "columns": [], "errors": null
        });
        if kind == "DELETE" {
            data["old_record"] = record;
        } else {
            data["record"] = record;
        }
        self.server_msg(
            None,
            None,
            topic,
            Event::PostgresChanges,
            json!({"ids": [self.sub_id], "data": data}),
        )
    }
}
