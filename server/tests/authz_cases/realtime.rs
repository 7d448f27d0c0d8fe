//! The realtime observer: the same select cases as standing reads. The principal joins a
//! channel on the case's table (with the case's filter); the service role then touches every
//! fixture row of that table, and the rows whose UPDATEs reach the channel are what the
//! principal sees. A second channel on the same socket watches a sentinel event inserted last:
//! one socket delivers in commit order, so once the sentinel arrives, everything else has.

use concierge_wire::phoenix::{Event, Message, Vsn};
use reqwest::Method;
use serde_json::{Value, json};

use crate::book::Case;
use crate::rest::Rest;

/// What a standing read of `c` saw: `None` when the subscription was refused, else the
/// fixture names whose changes arrived. `Err` for a protocol surprise, and for an UPDATE whose
/// `old_record` is not what the table's replica identity gives.
pub async fn visible(rest: &Rest<'_>, c: &Case) -> Result<Option<Vec<String>>, String> {
    let (book, table) = (rest.book, c.table.as_str());
    let token = book.token(&rest.keys, &c.who);
    let mut ws = rest.server.client(&rest.server.anon, Vsn::V2).await;
    let mut spec = json!({"event": "*", "schema": "public", "table": table});
    if let Some(f) = &c.filter {
        spec["filter"] = json!(f);
    }
    if !join(&mut ws, "case", spec, &token).await? {
        return Ok(None);
    }
    let sentinel = json!({"event": "INSERT", "schema": "public", "table": "events"});
    if !join(&mut ws, "sentinel", sentinel, &token).await? {
        return Err("the sentinel channel on events was refused".into());
    }
    for f in book.fixtures(table) {
        let id = book.fixture_id(table, &f.name);
        let path = format!("/rest/v1/{table}?id=eq.{id}");
        let a = rest
            .send("service", Method::PATCH, &path, Some(json!({"id": id})))
            .await;
        assert!(a.status.is_success(), "touch {id}: {}", a.body);
    }
    let row = json!({"hotel_id": "grand-plaza", "title": "sentinel", "category": "music",
                     "starts_at": "2026-01-05T20:00:00Z"});
    let a = rest
        .send("service", Method::POST, "/rest/v1/events", Some(row))
        .await;
    assert!(a.status.is_success(), "sentinel: {}", a.body);
    let identity = book.realtime.tables.get(table).map(String::as_str);
    let mut seen = Vec::new();
    loop {
        let m = ws
            .recv_within(5_000)
            .await
            .ok_or("no sentinel within 5 s")?;
        if m.event != Event::PostgresChanges {
            continue;
        }
        let data = &m.payload["data"];
        match (m.topic.as_str(), data["type"].as_str()) {
            ("realtime:sentinel", Some("INSERT")) if data["record"]["title"] == "sentinel" => break,
            ("realtime:case", Some("UPDATE")) => {
                let id = data["record"]["id"].as_str().unwrap_or_default();
                let old = data["old_record"].as_object().map(|o| o.keys().count());
                if identity == Some("default") && old != Some(1) {
                    return Err(format!("old_record is not the primary key only: {data}"));
                }
                seen.push(book.fixture_name(table, id));
            }
            _ => {}
        }
    }
    seen.sort();
    Ok(Some(seen))
}

/// Joins `realtime:<name>` as the holder of `token`; `false` when the subscription is
/// refused (hosted Realtime's `system` error after an `ok` reply).
async fn join(
    ws: &mut crate::common::Client,
    name: &str,
    spec: Value,
    token: &str,
) -> Result<bool, String> {
    let payload = json!({"config": {"postgres_changes": [spec]}, "access_token": token});
    let topic = format!("realtime:{name}");
    ws.push(&topic, "phx_join", payload, Some(name)).await;
    let mut reply = None;
    while let Some(m) = ws.recv_within(5_000).await {
        match m.event {
            Event::Reply if m.topic == topic => reply = Some(m),
            Event::System if m.topic == topic => return system(reply, m),
            _ => {}
        }
    }
    Err(format!("no answer to the join of {topic} ({reply:?})"))
}

fn system(reply: Option<Message>, sys: Message) -> Result<bool, String> {
    let reply = reply.ok_or("a system message before the join reply")?;
    if reply.payload["status"] != "ok" {
        return Err(format!("join refused outright: {:?}", reply.payload));
    }
    Ok(sys.payload["status"] == "ok")
}
