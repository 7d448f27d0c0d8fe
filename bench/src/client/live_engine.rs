//! An engine brought to the steady state the benchmarks start from: socket open, channel
//! joined and confirmed by a scripted server, first snapshot loaded.

use std::collections::VecDeque;

use concierge_sync::{
    Action, ConnId, ConnectionState, Endpoint, Engine, EngineConfig, Input, LiveQuerySpec, QueryId,
};
use concierge_wire::phoenix::{Event, Message, Vsn};
use serde_json::{Value, json};

use super::NOW;
use super::fixtures::SUB_ID;

/// An engine with one live query: socket open, channel joined and confirmed, snapshot loaded.
pub struct LiveEngine {
    pub e: Engine,
    pub conn: ConnId,
    pub topic: String,
}

pub fn live_engine(vsn: Vsn, spec: LiveQuerySpec, body: &str) -> Result<LiveEngine, String> {
    let cfg = EngineConfig {
        vsn,
        reconnect_jitter: 0.0,
        ..EngineConfig::default()
    };
    let mut e = Engine::new(cfg, Endpoint::new("http://bench.local", "anon"), 7);
    let mut queue = VecDeque::from([Input::Subscribe {
        query: QueryId(1),
        spec,
    }]);
    let (mut conn, mut topic) = (None, None);
    let mut steps = 0;
    while let Some(input) = queue.pop_front() {
        steps += 1;
        if steps > 100 {
            return Err("engine set-up did not settle".into());
        }
        for a in e.handle(NOW, input) {
            match a {
                Action::Connect { conn: c, .. } => {
                    conn = Some(c);
                    queue.push_back(Input::SocketOpen { conn: c });
                }
                Action::Send { conn: c, text } => {
                    let m = Message::decode(&text, vsn).map_err(|e| e.to_string())?;
                    if m.event != Event::Join {
                        continue;
                    }
                    let bindings: Vec<Value> = m.payload["config"]["postgres_changes"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|mut b| {
                            b["id"] = json!(SUB_ID);
                            b
                        })
                        .collect();
                    let reply = Message::new(
                        m.topic.clone(),
                        Event::Reply,
                        json!({"status": "ok", "response": {"postgres_changes": bindings}}),
                    )
                    .with_refs(m.join_ref.clone(), m.msg_ref.clone());
                    let confirm = Message::new(
                        m.topic.clone(),
                        Event::System,
                        json!({"extension": "postgres_changes", "status": "ok",
                               "message": "Subscribed to PostgreSQL", "channel": "bench"}),
                    )
                    .with_refs(m.join_ref.clone(), None);
                    for msg in [reply, confirm] {
                        queue.push_back(Input::SocketFrame {
                            conn: c,
                            text: msg.encode_server(vsn),
                        });
                    }
                    topic = Some(m.topic);
                }
                Action::Fetch { query, fetch, .. } => queue.push_back(Input::FetchDone {
                    query,
                    fetch,
                    result: Ok(body.to_owned()),
                }),
                _ => {}
            }
        }
    }
    let (Some(conn), Some(topic)) = (conn, topic) else {
        return Err("engine set-up: no connection or no join".into());
    };
    if e.diagnostics().connection != ConnectionState::Live {
        return Err(format!(
            "engine set-up: connection is {:?}, not Live",
            e.diagnostics().connection
        ));
    }
    Ok(LiveEngine { e, conn, topic })
}
