//! One guest's conversation at a kiosk: its own anonymous user and claimed kiosk session, a
//! socket subscribed to the session's `messages` INSERTs (as that user), and a closed loop of
//! questions: send, wait for the concierge's reply over realtime, pause, ask again.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep, sleep_until, timeout};

use crate::clock::{now_us, parse_commit_ms};
use crate::identity::{Api, Identity, with_json};
use crate::watcher::{self, Join};

/// What guests ask: the matcher reads interests in most of them; one matches nothing.
const QUESTIONS: [&str; 6] = [
    "Is there any live music tonight?",
    "Something for the kids this afternoon?",
    "We'd love a wine tasting or a nice dinner",
    "Any yoga or a spa treatment tomorrow morning?",
    "What's on?",
    "Where can I watch a comedy show?",
];

/// How long a conversation waits for a reply before counting it missing.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// A message of this conversation as it arrived over realtime.
#[derive(Debug, Clone)]
struct Arrived {
    id: String,
    concierge: bool,
    /// The row's `created_at` (server time), Unix ms.
    created_ms: Option<i64>,
    recv_us: u64,
}

fn arrived(data: &Value, recv_us: u64) -> Option<Arrived> {
    if data.get("type").and_then(Value::as_str) != Some("INSERT") {
        return None;
    }
    let r = data.get("record")?;
    Some(Arrived {
        id: r.get("id")?.as_str()?.to_owned(),
        concierge: r.get("author_role").and_then(Value::as_str) == Some("concierge"),
        created_ms: r
            .get("created_at")
            .and_then(Value::as_str)
            .and_then(parse_commit_ms),
        recv_us,
    })
}

/// One question and what came of it.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    /// send → the reply's arrival, µs; `None` when none came within [`REPLY_TIMEOUT`].
    pub reply_us: Option<u64>,
    /// The server's view: the question's `created_at` → the reply's, ms.
    pub stored_to_reply_ms: Option<i64>,
    /// The send failed: why.
    pub send_error: Option<String>,
}

/// A conversation ready to talk: its user, its session, its socket.
pub struct Conversation {
    api: Api,
    who: Identity,
    session_id: String,
    rx: mpsc::UnboundedReceiver<Arrived>,
    seed: u64,
}

/// Claims a fresh kiosk session for `who` and subscribes to its messages; the socket listens
/// until `stop`.
pub async fn open(
    api: &Api,
    ws_url: &str,
    who: Identity,
    index: usize,
    stop: watch::Receiver<bool>,
) -> Result<Conversation, String> {
    let session_id = uuid::Uuid::new_v4().to_string();
    api.claim_session(&who, &session_id)
        .await
        .map_err(|e| e.to_string())?;
    let join = Join {
        channel: &format!("conversation-{index}"),
        binding: json!({"event": "INSERT", "schema": "public", "table": "messages",
                        "filter": format!("session_id=eq.{session_id}")}),
        access_token: Some(&who.access_token),
    };
    let ws = watcher::open(ws_url, &join)
        .await
        .map_err(|e| e.to_string())?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(watcher::listen(ws, index, stop, move |a| {
        if let Some(m) = arrived(a.data, a.recv_us) {
            let _ = tx.send(m);
        }
    }));
    Ok(Conversation {
        api: api.clone(),
        who,
        session_id,
        rx,
        seed: index as u64 * 0x9E37_79B9_7F4A_7C15 + 1,
    })
}

impl Conversation {
    /// A pseudo-random pause below `max` (xorshift: no dependency for a jitter).
    fn pause(&mut self, max: Duration) -> Duration {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        max.mul_f64((self.seed % 10_000) as f64 / 10_000.0)
    }

    /// Talks from `first` until `until`: each question waits for its reply (or the timeout)
    /// before a pause below `think` and the next.
    pub async fn talk(mut self, first: Instant, until: Instant, think: Duration) -> Vec<Exchange> {
        let mut out = Vec::new();
        sleep_until(first).await;
        let mut n = self.seed as usize;
        while Instant::now() < until {
            n += 1;
            out.push(self.ask(QUESTIONS[n % QUESTIONS.len()]).await);
            let p = self.pause(think);
            sleep(p).await;
        }
        out
    }

    async fn ask(&mut self, body: &str) -> Exchange {
        while self.rx.try_recv().is_ok() {} // nothing from an earlier, timed-out question
        let id = uuid::Uuid::new_v4().to_string();
        let sent = now_us();
        let req = self
            .api
            .request(
                reqwest::Method::POST,
                "/rest/v1/messages",
                &self.who.access_token,
            )
            .header("Prefer", "return=minimal");
        let msg = json!({"id": id, "session_id": self.session_id, "body": body});
        let res = with_json(req, &msg).send().await;
        let failed = match res {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(format!(
                "{}: {}",
                r.status().as_u16(),
                r.text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(160)
                    .collect::<String>()
            )),
            Err(e) => Some(format!("http: {e}")),
        };
        if let Some(e) = failed {
            return Exchange {
                send_error: Some(e),
                ..Exchange::default()
            };
        }
        let mut asked_ms = None;
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, self.rx.recv()).await {
                Ok(Some(m)) if m.id == id => asked_ms = m.created_ms,
                Ok(Some(m)) if m.concierge => {
                    return Exchange {
                        reply_us: Some(m.recv_us.saturating_sub(sent)),
                        stored_to_reply_ms: asked_ms.zip(m.created_ms).map(|(a, r)| r - a),
                        send_error: None,
                    };
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return Exchange::default(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_inserted_messages() {
        let data = json!({"type": "INSERT", "record": {"id": "m1", "author_role": "concierge",
                          "created_at": "1970-01-01T00:00:01.500Z"}});
        let a = arrived(&data, 7).unwrap();
        assert_eq!(
            (a.id.as_str(), a.concierge, a.created_ms, a.recv_us),
            ("m1", true, Some(1500), 7)
        );
        assert!(arrived(&json!({"type": "UPDATE", "record": {"id": "x"}}), 0).is_none());
        assert!(
            !arrived(
                &json!({"type": "INSERT", "record": {"id": "x", "author_role": "customer"}}),
                0
            )
            .unwrap()
            .concierge
        );
    }
}
