//! The channel observer: a `do = "join"` case through the realtime server itself. The rule
//! book has one rule for joining a private channel and sending on it (the local server has
//! one, `concierge_server::authz::channels::may_join`), so each case is observed three ways
//! and they must agree:
//!   * receive: the principal's `phx_join` of `realtime:<topic>` with `config.private: true`
//!     and its token as `access_token`; an `ok` reply is allowed, an `error` reply with
//!     Supabase's text is denied;
//!   * send on the socket (when joined): a Broadcast with `ack` (the `ok` reply, then the
//!     message back with `self`) and a Presence `track` (its `ok` reply);
//!   * send without a socket: `POST /realtime/v1/api/broadcast` with `private: true` as the
//!     principal, then a sentinel as the service role; a listener joined as the service role
//!     (which may join any channel) sees the principal's message before the sentinel, or, when
//!     it was dropped (as Supabase drops it, with a 202), only the sentinel. One room fans out
//!     in the order the messages arrive, so the sentinel closes the window without a timer.
//!
//! The PostgreSQL side (`authz_test.observe_join`) checks the same two things, receive and
//! send, on the RLS policies of `realtime.messages` as hosted Realtime does.

use concierge_wire::phoenix::{Event, Vsn};
use serde_json::{Value, json};

use crate::book::{Case, Outcome};
use crate::common::Client;
use crate::rest::Rest;

/// How long any one answer may take before the case fails (not a timing assertion: the
/// answers come in well under it, this only ends a case that would otherwise hang).
const ANSWER_MS: u64 = 5_000;

/// What the server let the case's principal do on its topic.
pub async fn observe(rest: &Rest<'_>, c: &Case) -> Result<Outcome, String> {
    let book = rest.book;
    let topic = book.topic(c);
    let full = format!("realtime:{topic}");
    let mut listener = rest.server.client(&rest.server.anon, Vsn::V2).await;
    let service = book.token(&rest.keys, "service");
    if !join(&mut listener, &topic, &service, false).await? {
        return Err("the service role's listener was refused".into());
    }
    let mut ws = rest.server.client(&rest.server.anon, Vsn::V2).await;
    let receive = join(&mut ws, &topic, &book.token(&rest.keys, &c.who), true).await?;
    let socket_send = if receive {
        Some(socket_sends(&mut ws, &full).await?)
    } else {
        None
    };
    let rest_send = rest_sends(rest, &c.who, &topic, &mut listener).await?;
    match (receive, socket_send, rest_send) {
        (true, Some(true), true) => Ok(Outcome::Allowed),
        (false, None, false) => Ok(Outcome::Denied),
        (r, s, a) => Err(format!(
            "one rule, three answers: join {r}, socket send {s:?}, REST send {a}"
        )),
    }
}

/// Joins `realtime:<topic>` privately as the holder of `token` (tracking presence when
/// `presence`); `false` when refused with Supabase's error.
async fn join(ws: &mut Client, topic: &str, token: &str, presence: bool) -> Result<bool, String> {
    let full = format!("realtime:{topic}");
    let config = json!({
        "broadcast": {"self": true, "ack": true},
        "presence": {"key": "probe", "enabled": presence},
        "postgres_changes": [],
        "private": true,
    });
    let r = ws
        .push(
            &full,
            "phx_join",
            json!({"config": config, "access_token": token}),
            Some("j"),
        )
        .await;
    let reply = reply_to(ws, &full, &r).await?;
    match reply["status"].as_str() {
        Some("ok") => Ok(true),
        Some("error") => {
            let want = format!(
                "Unauthorized: You do not have permissions to read from this Channel topic: {topic}"
            );
            if reply["response"]["reason"] == want.as_str() {
                Ok(false)
            } else {
                Err(format!("refused, but not with Supabase's error: {reply}"))
            }
        }
        _ => Err(format!("join reply: {reply}")),
    }
}

/// A Broadcast with `ack` (acknowledged and echoed back with `self`) and a Presence track
/// (acknowledged) on a joined channel: `true` when both went through.
async fn socket_sends(ws: &mut Client, full: &str) -> Result<bool, String> {
    let probe = json!({"type": "broadcast", "event": "socket-probe", "payload": {}});
    let r = ws.push(full, "broadcast", probe, Some("j")).await;
    let mut acked = None;
    let mut echoed = false;
    while acked.is_none() || !echoed {
        let m = ws
            .recv_within(ANSWER_MS)
            .await
            .ok_or("no ack and echo of the broadcast")?;
        match m.event {
            Event::Reply if m.topic == full && m.msg_ref.as_deref() == Some(&r) => {
                acked = Some(m.payload["status"] == "ok");
                if acked == Some(false) {
                    return Ok(false);
                }
            }
            Event::Broadcast if m.topic == full && m.payload["event"] == "socket-probe" => {
                echoed = true;
            }
            _ => {}
        }
    }
    let track = json!({"type": "presence", "event": "track", "payload": {"probe": true}});
    let r = ws.push(full, "presence", track, Some("j")).await;
    Ok(reply_to(ws, full, &r).await?["status"] == "ok")
}

/// A private REST broadcast as `who`, then a sentinel as the service role: whether the
/// listener heard `who`'s message first.
async fn rest_sends(
    rest: &Rest<'_>,
    who: &str,
    topic: &str,
    listener: &mut Client,
) -> Result<bool, String> {
    for (sender, event) in [(who, "rest-probe"), ("service", "sentinel")] {
        let body = json!({"messages": [
            {"topic": topic, "event": event, "payload": {}, "private": true}
        ]});
        let r = rest
            .http
            .post(rest.server.url("/realtime/v1/api/broadcast"))
            .header("apikey", &rest.server.anon)
            .bearer_auth(rest.book.token(&rest.keys, sender))
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if r.status() != reqwest::StatusCode::ACCEPTED {
            return Err(format!("REST broadcast as {sender}: {}", r.status()));
        }
    }
    let full = format!("realtime:{topic}");
    let mut heard = false;
    loop {
        let m = listener
            .recv_within(ANSWER_MS)
            .await
            .ok_or("the sentinel never reached the listener")?;
        if m.event != Event::Broadcast || m.topic != full {
            continue;
        }
        match m.payload["event"].as_str() {
            Some("rest-probe") => heard = true,
            Some("sentinel") => return Ok(heard),
            _ => {}
        }
    }
}

/// The payload of the reply to push `r` on `full`.
async fn reply_to(ws: &mut Client, full: &str, r: &str) -> Result<Value, String> {
    loop {
        let m = ws
            .recv_within(ANSWER_MS)
            .await
            .ok_or_else(|| format!("no reply to push {r} on {full}"))?;
        if m.event == Event::Reply && m.topic == full && m.msg_ref.as_deref() == Some(r) {
            return Ok(m.payload);
        }
    }
}
