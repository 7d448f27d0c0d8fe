//! The realtime attacks: subscription floods (joins with the most `postgres_changes` entries a
//! join may carry, up to the channel cap, one over each cap, then churn: leave everything or
//! drop the socket and come back) and sockets that never read while the catalogue's changes
//! fan out to them. Both with the bare anon key, which may watch `events`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, sleep, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::Ctx;
use super::tally::{Tally, reason_kind};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The server's realtime caps (SECURITY.md): channels per socket, entries per join.
const MAX_CHANNELS: usize = 100;
const MAX_CHANGES: usize = 100;
/// Flooding sockets, and the shortest time one takes for a cycle (this client shares the
/// server's cores).
pub const FLOODERS: usize = 4;
const MIN_CYCLE: Duration = Duration::from_millis(250);
/// Sockets that stop reading; how long each holds still before looking for its close.
pub const NON_READERS: usize = 2;
const HOLD: Duration = Duration::from_secs(8);
const REPLY_WAIT: Duration = Duration::from_secs(15);

fn join(topic: &str, join_ref: u64, entries: &[String]) -> String {
    format!(
        r#"["{join_ref}","{join_ref}","realtime:{topic}","phx_join",{{"config":{{"broadcast":{{"ack":false,"self":false}},"presence":{{"key":"","enabled":false}},"postgres_changes":[{}],"private":false}}}}]"#,
        entries.join(",")
    )
}

fn leave(topic: &str, join_ref: u64, msg_ref: u64) -> String {
    format!(r#"["{join_ref}","{msg_ref}","realtime:{topic}","phx_leave",{{}}]"#)
}

/// `n` entries on `events`, each filtered to a row id that does not exist: every one is an
/// index entry the server must add and remove, none delivers anything.
fn flood_entries(n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            format!(
                r#"{{"event":"*","schema":"public","table":"events","filter":"id=eq.{}"}}"#,
                uuid::Uuid::new_v4()
            )
        })
        .collect()
}

const ALL_EVENTS: &str = r#"{"event":"*","schema":"public","table":"events"}"#;

async fn open(ctx: &Ctx, tally: &Tally) -> Option<Ws> {
    match timeout(
        Duration::from_secs(30),
        tokio_tungstenite::connect_async(&*ctx.ws_url),
    )
    .await
    {
        Ok(Ok((ws, _))) => Some(ws),
        Ok(Err(e)) => {
            tally.note(format!("connect refused: {}", short(&e.to_string())));
            None
        }
        Err(_) => {
            tally.note("connect timed out");
            None
        }
    }
}

fn short(s: &str) -> String {
    s.chars().take(60).collect()
}

/// A heartbeat with ref `hb<n>`: the server answers frames in order, so its reply comes after
/// the replies to everything sent before it.
fn heartbeat(n: u64) -> String {
    format!(r#"[null,"hb{n}","phoenix","heartbeat",{{}}]"#)
}

/// Sends heartbeat `hb` and reads until its reply, counting every channel's `phx_reply` on the
/// way as "ok" or its refusal kind (when `tally` is given); a close is counted and ends the
/// socket (`false`).
async fn until_ack(ws: &mut Ws, hb: u64, tally: Option<&Tally>) -> bool {
    let note = |k: String| {
        if let Some(t) = tally {
            t.note(k);
        }
    };
    if ws.send(Message::Text(heartbeat(hb).into())).await.is_err() {
        note("send failed".into());
        return false;
    }
    let want = format!("hb{hb}");
    let deadline = Instant::now() + REPLY_WAIT;
    loop {
        let Ok(msg) = tokio::time::timeout_at(deadline, ws.next()).await else {
            note("replies timed out".into());
            return false;
        };
        match msg {
            Some(Ok(Message::Text(t))) => {
                let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else {
                    continue;
                };
                if v.get(3).and_then(Value::as_str) != Some("phx_reply") {
                    continue;
                }
                if v.get(1).and_then(Value::as_str) == Some(want.as_str()) {
                    return true;
                }
                let p = &v[4];
                match p.get("status").and_then(Value::as_str) {
                    Some("ok") => note("ok".into()),
                    _ => note(reason_kind(
                        p["response"]["reason"].as_str().unwrap_or("error"),
                    )),
                }
            }
            Some(Ok(Message::Close(c))) => {
                note(close_kind(c.map(|c| c.code)));
                return false;
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                note(error_kind(&e));
                return false;
            }
            None => {
                note("closed without a close frame".into());
                return false;
            }
        }
    }
}

/// A socket error as a kind: the server dropping the connection without a close frame (what
/// it does to a socket whose queue it gave up on while its own send buffer was full) is the
/// common one.
fn error_kind(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    use tokio_tungstenite::tungstenite::error::ProtocolError;
    match e {
        Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            "reset without a close frame".to_owned()
        }
        Error::Io(io) => format!("io error: {:?}", io.kind()),
        other => format!("socket error: {}", short(&other.to_string())),
    }
}

fn close_kind(code: Option<CloseCode>) -> String {
    match code {
        Some(c) => format!("close {}", u16::from(c)),
        None => "close (no code)".to_owned(),
    }
}

/// One flooding socket per [`FLOODERS`]: each cycle joins [`MAX_CHANNELS`] channels of
/// [`MAX_CHANGES`] entries, one channel more (over the channel cap), one join of
/// `MAX_CHANGES + 1` entries (over the entry cap), then leaves every channel (even cycles) or
/// drops the socket with all its subscriptions and reconnects (odd ones).
pub async fn subscription_flood(ctx: Ctx, tally: Arc<Tally>, stop: watch::Receiver<bool>) {
    let mut tasks = Vec::new();
    for _ in 0..FLOODERS {
        let (ctx, tally, stop) = (ctx.clone(), tally.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut ws: Option<Ws> = None;
            let mut cycle: u64 = 0;
            while !*stop.borrow() {
                let started = Instant::now();
                cycle += 1;
                let Some(mut s) = (match ws.take() {
                    Some(s) => Some(s),
                    None => open(&ctx, &tally).await,
                }) else {
                    sleep(MIN_CYCLE).await;
                    continue;
                };
                let mut r = cycle * 1000;
                let mut frames = Vec::new();
                for c in 0..=MAX_CHANNELS {
                    r += 1;
                    frames.push(join(&format!("flood-{c}"), r, &flood_entries(MAX_CHANGES)));
                }
                r += 1;
                frames.push(join("flood-0", r, &flood_entries(MAX_CHANGES + 1)));
                let mut alive = true;
                for f in frames {
                    tally.sent();
                    if s.send(Message::Text(f.into())).await.is_err() {
                        tally.note("send failed");
                        alive = false;
                        break;
                    }
                }
                alive = alive && until_ack(&mut s, cycle * 2, Some(&tally)).await;
                if alive && cycle.is_multiple_of(2) {
                    for c in 1..MAX_CHANNELS {
                        r += 1;
                        let _ = s
                            .send(Message::Text(leave(&format!("flood-{c}"), r, r).into()))
                            .await;
                    }
                    if until_ack(&mut s, cycle * 2 + 1, None).await {
                        ws = Some(s);
                    }
                } else if alive {
                    let _ = s.close(None).await;
                }
                tokio::time::sleep_until(started + MIN_CYCLE).await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// [`NON_READERS`] sockets, each joined to [`MAX_CHANNELS`] channels that receive every
/// catalogue change, that then stop reading for [`HOLD`]; afterwards each reads what is left
/// and counts how the server ended it (the outgoing-queue bound closes it with 1008), then
/// starts over.
pub async fn non_readers(ctx: Ctx, tally: Arc<Tally>, stop: watch::Receiver<bool>) {
    let mut tasks = Vec::new();
    for _ in 0..NON_READERS {
        let (ctx, tally, stop) = (ctx.clone(), tally.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            while !*stop.borrow() {
                let Some(mut s) = open(&ctx, &tally).await else {
                    sleep(Duration::from_secs(1)).await;
                    continue;
                };
                tally.sent();
                let joins = Tally::default(); // their answers are the flood's business
                let mut ok = true;
                for c in 0..MAX_CHANNELS {
                    let f = join(&format!("all-{c}"), c as u64 + 1, &[ALL_EVENTS.to_owned()]);
                    ok = ok && s.send(Message::Text(f.into())).await.is_ok();
                }
                if !ok || !until_ack(&mut s, 1, Some(&joins)).await {
                    tally.note("ended before holding");
                    continue;
                }
                // Not reading: the server's queue for this socket fills.
                let mut stop_w = stop.clone();
                if timeout(HOLD, stop_w.wait_for(|s| *s)).await.is_ok() {
                    tally.note("cut short by the end of the phase");
                    break;
                }
                tally.note(drain(&mut s).await);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// Reads whatever is buffered until the socket ends; how it ended, or "still open" if it
/// goes quiet for two seconds without ending.
async fn drain(ws: &mut Ws) -> String {
    loop {
        match timeout(Duration::from_secs(2), ws.next()).await {
            Err(_) => return "still open".to_owned(),
            Ok(Some(Ok(Message::Close(c)))) => return close_kind(c.map(|c| c.code)),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return error_kind(&e),
            Ok(None) => return "closed without a close frame".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_phoenix_v2() {
        let j = join("flood-1", 7, &flood_entries(2));
        let v: Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v[2], "realtime:flood-1");
        assert_eq!(
            v[4]["config"]["postgres_changes"].as_array().unwrap().len(),
            2
        );
        let l: Value = serde_json::from_str(&leave("flood-1", 7, 9)).unwrap();
        assert_eq!(
            (l[1].as_str(), l[3].as_str()),
            (Some("9"), Some("phx_leave"))
        );
        assert_eq!(close_kind(Some(CloseCode::Policy)), "close 1008");
    }
}
