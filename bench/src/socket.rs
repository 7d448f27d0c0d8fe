//! One realtime client socket: connect, join its kiosk channel with its kiosk identity's token
//! (as the app does: the bare anon key watches no kiosk's results), then listen (and heartbeat)
//! as a light task until told to stop. Change frames are recognised by the markers the writers put in
//! the rows, with substring search instead of a JSON parse: 10,000 copies of every catalogue
//! change go through here on the same two cores as the server.

use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use memchr::memmem;
use thiserror::Error;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::clock::{now_us, parse_commit_ms, wall_ms};
use crate::shared::{Phase, Shared};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub const KIOSK_MARK: &str = "kiosk-t:";
pub const CATALOGUE_MARK: &str = "cat-seq:";
const HEARTBEAT: Duration = Duration::from_secs(25);
const SETUP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Error)]
pub enum SocketError {
    #[error("connect: {0}")]
    Connect(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("timed out during {0}")]
    Timeout(&'static str),
    #[error("socket closed during {0}")]
    Closed(&'static str),
    #[error("join refused: {0}")]
    Refused(String),
}

/// A `phx_join` as supabase-js sends it; `token` is the user's access token it carries.
pub fn join_frame(join_ref: &str, topic: &str, binding: &str, token: &str) -> String {
    format!(
        r#"["{join_ref}","{join_ref}","{topic}","phx_join",{{"config":{{"broadcast":{{"ack":false,"self":false}},"presence":{{"key":"","enabled":false}},"postgres_changes":[{binding}],"private":false}},"access_token":"{token}"}}]"#
    )
}

fn kiosk_binding(session: &str) -> String {
    format!(
        r#"{{"event":"INSERT","schema":"public","table":"kiosk_results","filter":"session_id=eq.{session}"}}"#
    )
}

/// Bytes read per `read` call. tungstenite 0.26 zero-fills its whole read buffer before every
/// read; at the default 128 KiB that memset was about a third of this client's CPU with 10,000
/// sockets each receiving one ~700-byte frame per catalogue change.
const READ_BUFFER: usize = 4 * 1024;

// Built once: `memmem::find` builds a searcher on every call.
static CHANGE_FRAME: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\"postgres_changes\",{"));
static KIOSK_FINDER: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(KIOSK_MARK.as_bytes()));
static CATALOGUE_FINDER: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(CATALOGUE_MARK.as_bytes()));
static COMMIT_TS_FINDER: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(br#""commit_timestamp":""#));

fn finder_for(mark: &str) -> Option<&'static memmem::Finder<'static>> {
    match mark {
        KIOSK_MARK => Some(&KIOSK_FINDER),
        CATALOGUE_MARK => Some(&CATALOGUE_FINDER),
        _ => None,
    }
}

const CATALOGUE_BINDING: &str = r#"{"event":"*","schema":"public","table":"events"}"#;

/// A non-change frame, decoded (rare: replies and system messages).
struct Control {
    topic: String,
    event: String,
    status: Option<String>,
    message: Option<String>,
}

fn decode_control(text: &str) -> Option<Control> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let a = v.as_array()?;
    let payload = a.get(4)?;
    let status = payload
        .get("status")
        .and_then(|s| s.as_str())
        .map(str::to_owned);
    let message = payload
        .get("message")
        .or_else(|| payload.get("response").and_then(|r| r.get("reason")))
        .map(|m| m.to_string());
    Some(Control {
        topic: a.get(2)?.as_str()?.to_owned(),
        event: a.get(3)?.as_str()?.to_owned(),
        status,
        message,
    })
}

/// Reads the decimal number starting at `at`; returns it and the index after it.
fn number_at(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut n: u64 = 0;
    let mut i = at;
    while i < b.len() && b[i].is_ascii_digit() {
        n = n.checked_mul(10)?.checked_add(u64::from(b[i] - b'0'))?;
        i += 1;
    }
    (i > at).then_some((n, i))
}

/// `<mark><a>:<b>` at its first occurrence.
fn marker_pair(text: &str, mark: &str) -> Option<(u64, u64)> {
    let b = text.as_bytes();
    let pos = match finder_for(mark) {
        Some(f) => f.find(b),
        None => memmem::find(b, mark.as_bytes()),
    }? + mark.len();
    let (a, end) = number_at(b, pos)?;
    if b.get(end) != Some(&b':') {
        return None;
    }
    let (c, _) = number_at(b, end + 1)?;
    Some((a, c))
}

/// The highest `<mark><a>:<b>` in the text: an UPDATE frame may also carry the previous value
/// of the same column in `old_record`, and sequence numbers only grow per row.
fn max_marker_pair(text: &str, mark: &str) -> Option<(u64, u64)> {
    let b = text.as_bytes();
    match finder_for(mark) {
        Some(f) => best_pair(b, mark.len(), f.find_iter(b)),
        None => best_pair(b, mark.len(), memmem::find_iter(b, mark.as_bytes())),
    }
}

fn best_pair(b: &[u8], mark_len: usize, at: impl Iterator<Item = usize>) -> Option<(u64, u64)> {
    let mut best: Option<(u64, u64)> = None;
    for pos in at {
        let at = pos + mark_len;
        if let Some((a, end)) = number_at(b, at)
            && b.get(end) == Some(&b':')
            && let Some((c, _)) = number_at(b, end + 1)
            && best.is_none_or(|(ba, _)| a > ba)
        {
            best = Some((a, c));
        }
    }
    best
}

fn commit_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let start = COMMIT_TS_FINDER.find(b)? + COMMIT_TS_FINDER.needle().len();
    let len = memchr::memchr(b'"', &b[start..])?;
    parse_commit_ms(text.get(start..start + len)?)
}

/// Handles a `postgres_changes` frame for the socket subscribed with `session`.
fn on_change(text: &str, session: &str, shared: &Shared) {
    let recv_us = now_us();
    if let Some((run, sent_us)) = marker_pair(text, KIOSK_MARK) {
        if memmem::find(text.as_bytes(), session.as_bytes()).is_none() {
            shared.kiosk_misrouted.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let commit_lat = commit_ms(text).map(|c| wall_ms() - c);
        shared.record_kiosk(run as u32, recv_us.saturating_sub(sent_us), commit_lat);
    } else if let Some((seq, _sent)) = max_marker_pair(text, CATALOGUE_MARK) {
        let Some(slot) = usize::try_from(seq)
            .ok()
            .and_then(|i| shared.catalogue.get(i))
        else {
            return;
        };
        if slot.commit_ms.load(Ordering::Relaxed) == 0
            && let Some(c) = commit_ms(text)
        {
            slot.commit_ms.store(c, Ordering::Relaxed);
        }
        slot.last_us.fetch_max(recv_us, Ordering::Relaxed);
        slot.last_wall_ms.fetch_max(wall_ms(), Ordering::Relaxed);
        slot.received.fetch_add(1, Ordering::Relaxed);
    } else {
        shared.unexpected.fetch_add(1, Ordering::Relaxed);
    }
}

/// Waits for the `system` message on `topic`; a refused join or an error system message fails.
async fn await_subscribed(ws: &mut Ws, topic: &str) -> Result<(), SocketError> {
    loop {
        let msg = timeout(SETUP_TIMEOUT, ws.next())
            .await
            .map_err(|_| SocketError::Timeout("join"))?
            .ok_or(SocketError::Closed("join"))??;
        let Message::Text(t) = msg else { continue };
        let Some(c) = decode_control(t.as_str()) else {
            continue;
        };
        if c.topic != topic {
            continue;
        }
        match (c.event.as_str(), c.status.as_deref()) {
            ("phx_reply", Some("ok")) => {}
            ("system", Some("ok")) => return Ok(()),
            (_, _) => {
                return Err(SocketError::Refused(format!(
                    "{} {}",
                    c.event,
                    c.message.unwrap_or_default()
                )));
            }
        }
    }
}

/// Connects and joins the kiosk channel as the identity holding `token` (which claimed
/// `session`). Holds `permit` only for the handshake.
pub async fn connect(
    url: &str,
    session: &str,
    token: &str,
    permit: OwnedSemaphorePermit,
) -> Result<Ws, SocketError> {
    let (mut ws, _resp) = timeout(
        SETUP_TIMEOUT,
        tokio_tungstenite::connect_async_with_config(
            url,
            Some(WebSocketConfig::default().read_buffer_size(READ_BUFFER)),
            false,
        ),
    )
    .await
    .map_err(|_| SocketError::Timeout("connect"))??;
    ws.send(Message::Text(
        join_frame("1", "realtime:kiosk", &kiosk_binding(session), token).into(),
    ))
    .await?;
    await_subscribed(&mut ws, "realtime:kiosk").await?;
    drop(permit);
    Ok(ws)
}

/// Listens until the phase becomes `Stop` or the server closes the socket.
pub async fn listen(
    mut ws: Ws,
    index: usize,
    session: Arc<str>,
    token: String,
    shared: Arc<Shared>,
    mut phase: watch::Receiver<Phase>,
) {
    // Stagger heartbeats so 10,000 sockets don't all beat in the same millisecond.
    let offset = Duration::from_millis((index as u64 * 7919) % HEARTBEAT.as_millis() as u64);
    let first_beat = Instant::now() + offset;
    let mut hb_ref: u64 = 0;
    let mut catalogue_joined = false;
    // The heartbeat timer and the phase watch are pinned once and re-armed only when they fire:
    // creating them afresh on every received frame registered a waiter on the one watch shared
    // by all 10,000 tasks (a lock each time) and re-polled the timer, per delivery.
    let beat = sleep_until(first_beat);
    tokio::pin!(beat);
    loop {
        let changed = {
            let changed = phase.changed();
            tokio::pin!(changed);
            loop {
                tokio::select! {
                    biased;
                    msg = ws.next() => match msg {
                        Some(Ok(Message::Text(t))) => on_text(t.as_str(), &session, &shared),
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => {
                            shared.dropped.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        Some(Ok(_)) => {}
                    },
                    () = &mut beat => {
                        beat.as_mut().reset(Instant::now() + HEARTBEAT);
                        hb_ref += 1;
                        let frame = format!(r#"[null,"hb{hb_ref}","phoenix","heartbeat",{{}}]"#);
                        if ws.send(Message::Text(frame.into())).await.is_err() {
                            shared.dropped.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    },
                    changed = &mut changed => break changed,
                }
            }
        };
        let now = if changed.is_ok() {
            *phase.borrow_and_update()
        } else {
            Phase::Stop
        };
        match now {
            Phase::JoinCatalogue if !catalogue_joined => {
                catalogue_joined = true;
                let frame = join_frame("2", "realtime:catalogue", CATALOGUE_BINDING, &token);
                if ws.send(Message::Text(frame.into())).await.is_err() {
                    shared.dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            Phase::Stop => {
                let _ = ws.close(None).await;
                return;
            }
            _ => {}
        }
    }
}

/// Handles one text frame: a change (the hot path) or a control message.
fn on_text(text: &str, session: &str, shared: &Shared) {
    if CHANGE_FRAME.find(text.as_bytes()).is_some() {
        on_change(text, session, shared);
    } else if let Some(c) = decode_control(text) {
        match (c.topic.as_str(), c.event.as_str(), c.status.as_deref()) {
            ("realtime:catalogue", "system", Some("ok")) => {
                shared.catalogue_ready.fetch_add(1, Ordering::Relaxed);
            }
            ("phoenix", "phx_reply", Some("ok")) | (_, "phx_reply", Some("ok")) => {}
            _ => {
                shared.unexpected.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_markers() {
        let f = r#"[null,null,"realtime:kiosk","postgres_changes",{"ids":[1],"data":{"record":{"results":{"m":"kiosk-t:3:123456"}}}}]"#;
        assert_eq!(marker_pair(f, KIOSK_MARK), Some((3, 123456)));
        let u = r#"{"record":{"description":"cat-seq:12:900"},"old_record":{"description":"cat-seq:11:800"}}"#;
        assert_eq!(max_marker_pair(u, CATALOGUE_MARK), Some((12, 900)));
        let u2 = r#"{"old_record":{"description":"cat-seq:11:800"},"record":{"description":"cat-seq:12:900"}}"#;
        assert_eq!(max_marker_pair(u2, CATALOGUE_MARK), Some((12, 900)));
        assert_eq!(marker_pair("kiosk-t:12", KIOSK_MARK), None);
        assert_eq!(marker_pair("kiosk-t::1", KIOSK_MARK), None);
        assert_eq!(
            marker_pair("kiosk-t:99999999999999999999999:1", KIOSK_MARK),
            None
        );
    }

    #[test]
    fn reads_commit_timestamp() {
        let f = r#"{"data":{"commit_timestamp":"1970-01-01T00:00:02.500Z","type":"INSERT"}}"#;
        assert_eq!(commit_ms(f), Some(2500));
        assert_eq!(commit_ms(r#"{"commit_timestamp":"nope"}"#), None);
        assert_eq!(commit_ms(r#"{"commit_timestamp":"unterminated"#), None);
    }

    #[test]
    fn decodes_control_frames() {
        let c = decode_control(r#"["1",null,"realtime:kiosk","system",{"extension":"postgres_changes","status":"ok","message":"Subscribed to PostgreSQL","channel":"kiosk"}]"#).unwrap();
        assert_eq!(
            (c.topic.as_str(), c.event.as_str(), c.status.as_deref()),
            ("realtime:kiosk", "system", Some("ok"))
        );
        assert!(decode_control("not json").is_none());
        assert!(decode_control(r#"{"topic":"x"}"#).is_none());
    }
}
