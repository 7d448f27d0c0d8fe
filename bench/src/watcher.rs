//! One realtime socket with one `postgres_changes` channel, joined as a given user (its
//! `access_token` in the join, as the app's sync engine does), handing every change to a
//! callback with its arrival time. The booking and reply benchmarks watch a few hundred
//! sockets at tens of changes per second, so frames are simply parsed as JSON (the main
//! benchmark's sockets, at 10,000 × thousands per second, avoid that; see `socket`).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::clock::{now_us, wall_ms};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const HEARTBEAT: Duration = Duration::from_secs(25);
const SETUP_TIMEOUT: Duration = Duration::from_secs(60);

/// The main benchmark's socket errors are the same: connect, time out, close, refusal.
pub use crate::socket::SocketError as WatchError;

/// A channel to join: its name and its one `postgres_changes` binding.
pub struct Join<'a> {
    pub channel: &'a str,
    pub binding: Value,
    /// Whose rights the channel reads with (the connect-time key when `None`).
    pub access_token: Option<&'a str>,
}

/// A change as it arrived: `payload.data` of the frame, and when (µs on the bench's clock,
/// and wall-clock ms to compare with the change's `commit_timestamp`).
pub struct Arrival<'a> {
    pub data: &'a Value,
    pub recv_us: u64,
    pub recv_wall_ms: i64,
}

fn decode(text: &str) -> Option<(String, String, Value)> {
    let v: Value = serde_json::from_str(text).ok()?;
    let mut a = match v {
        Value::Array(a) if a.len() == 5 => a,
        _ => return None,
    };
    let payload = a.pop()?;
    let event = a.pop()?.as_str()?.to_owned();
    let topic = a.pop()?.as_str()?.to_owned();
    Some((topic, event, payload))
}

/// Connects to `ws_url` and joins `j`; returns once the server says the channel is subscribed.
pub async fn open(ws_url: &str, j: &Join<'_>) -> Result<Ws, WatchError> {
    let (mut ws, _) = timeout(SETUP_TIMEOUT, tokio_tungstenite::connect_async(ws_url))
        .await
        .map_err(|_| WatchError::Timeout("connect"))??;
    let topic = format!("realtime:{}", j.channel);
    let mut payload = json!({"config": {"broadcast": {"ack": false, "self": false},
        "presence": {"key": "", "enabled": false}, "postgres_changes": [j.binding],
        "private": false}});
    if let Some(t) = j.access_token {
        payload["access_token"] = json!(t);
    }
    let frame = json!(["1", "1", topic, "phx_join", payload]).to_string();
    ws.send(Message::Text(frame.into())).await?;
    loop {
        let msg = timeout(SETUP_TIMEOUT, ws.next())
            .await
            .map_err(|_| WatchError::Timeout("join"))?
            .ok_or(WatchError::Closed("join"))??;
        let Message::Text(t) = msg else { continue };
        let Some((t_topic, event, payload)) = decode(t.as_str()) else {
            continue;
        };
        if t_topic != topic {
            continue;
        }
        match (
            event.as_str(),
            payload.get("status").and_then(Value::as_str),
        ) {
            ("phx_reply", Some("ok")) => {}
            ("system", Some("ok")) => return Ok(ws),
            _ => return Err(WatchError::Refused(payload.to_string())),
        }
    }
}

/// Hands every change on `ws` to `on_change` until `stop` turns true or the socket closes;
/// heartbeats meanwhile (the first after `index`-staggered delay). Returns whether the socket
/// was still open when told to stop.
pub async fn listen(
    mut ws: Ws,
    index: usize,
    mut stop: watch::Receiver<bool>,
    mut on_change: impl FnMut(Arrival<'_>),
) -> bool {
    let offset = Duration::from_millis((index as u64 * 7919) % HEARTBEAT.as_millis() as u64);
    let beat = sleep_until(Instant::now() + offset);
    tokio::pin!(beat);
    let mut hb_ref: u64 = 0;
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let (recv_us, recv_wall_ms) = (now_us(), wall_ms());
                    if let Some((_, event, payload)) = decode(t.as_str())
                        && event == "postgres_changes"
                        && let Some(data) = payload.get("data")
                    {
                        on_change(Arrival { data, recv_us, recv_wall_ms });
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return false,
            },
            () = &mut beat => {
                hb_ref += 1;
                let frame = format!(r#"[null,"hb{hb_ref}","phoenix","heartbeat",{{}}]"#);
                if ws.send(Message::Text(frame.into())).await.is_err() {
                    return false;
                }
                beat.as_mut().reset(Instant::now() + HEARTBEAT);
            }
            r = stop.changed() => {
                if r.is_err() || *stop.borrow() {
                    let _ = ws.close(None).await;
                    return true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_v2_frames() {
        let (topic, event, payload) = decode(
            r#"[null,null,"realtime:k","postgres_changes",{"ids":[1],"data":{"type":"UPDATE"}}]"#,
        )
        .unwrap();
        assert_eq!(
            (topic.as_str(), event.as_str()),
            ("realtime:k", "postgres_changes")
        );
        assert_eq!(payload["data"]["type"], "UPDATE");
        assert!(decode(r#"{"event":"x"}"#).is_none());
        assert!(decode("[1,2,3]").is_none());
    }
}
