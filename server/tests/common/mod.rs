//! Starts the real server on an ephemeral port and talks to it like a client would.
#![allow(dead_code)]

use std::time::Duration;

use clap::Parser;
use concierge_server::cli::Cli;
use concierge_server::jwt::Keys;
use concierge_wire::phoenix::{Event, Message, Vsn};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const SECRET: &str = "integration-test-secret-0123456789abcdef";

pub struct TestServer {
    pub addr: std::net::SocketAddr,
    pub anon: String,
    pub service: String,
    pub db_path: std::path::PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start(extra: &[&str]) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("t.db");
        let mut argv = vec![
            "concierge-server".to_owned(),
            "--addr".into(),
            "127.0.0.1:0".into(),
            "--db".into(),
            db.display().to_string(),
            "--jwt-secret".into(),
            SECRET.into(),
        ];
        argv.extend(extra.iter().map(|s| s.to_string()));
        let cli = Cli::try_parse_from(argv).expect("cli");
        let server = concierge_server::build(&cli.serve).await.expect("build");
        let addr = server.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        let keys = Keys::new(SECRET);
        TestServer {
            addr,
            anon: keys.anon_key(),
            service: keys.service_role_key(),
            db_path: db,
            shutdown: Some(tx),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self, key: &str, vsn: Option<&str>) -> String {
        let mut u = format!("ws://{}/realtime/v1/websocket?apikey={key}", self.addr);
        if let Some(v) = vsn {
            u.push_str("&vsn=");
            u.push_str(v);
        }
        u
    }

    pub async fn client(&self, key: &str, vsn: Vsn) -> Client {
        let v = match vsn {
            Vsn::V1 => "1.0.0",
            Vsn::V2 => "2.0.0",
        };
        let (ws, _) = tokio_tungstenite::connect_async(self.ws_url(key, Some(v)))
            .await
            .expect("connect");
        Client {
            ws,
            vsn,
            next_ref: 0,
        }
    }

    /// A kiosk as the app makes one: an anonymous sign-in (supabase-js `signInAnonymously()`)
    /// that claims `session` in `kiosk_sessions`. Its access token, which reads that session's
    /// results (as a socket's or request's API key, too).
    pub async fn kiosk(&self, session: &str) -> String {
        let http = reqwest::Client::new();
        let r = http
            .post(self.url("/auth/v1/signup"))
            .header("apikey", &self.anon)
            .json(&json!({}))
            .send()
            .await
            .expect("anonymous sign-in");
        assert_eq!(r.status(), 200, "{:?}", r.text().await);
        let body: Value = r.json().await.expect("json");
        let token = body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned();
        let r = http
            .post(self.url("/rest/v1/kiosk_sessions"))
            .header("apikey", &self.anon)
            .bearer_auth(&token)
            .json(&json!({"id": session}))
            .send()
            .await
            .expect("claim");
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
        token
    }

    /// POST /rest/v1/<table> as service_role, returning the representation.
    pub async fn insert(&self, table: &str, row: Value) -> Value {
        let r = reqwest::Client::new()
            .post(self.url(&format!("/rest/v1/{table}")))
            .header("apikey", &self.service)
            .header("Prefer", "return=representation")
            .json(&row)
            .send()
            .await
            .expect("insert");
        assert_eq!(r.status(), 201, "{:?}", r.text().await);
        r.json().await.expect("json")
    }
}

impl TestServer {
    /// Starts graceful shutdown (what Ctrl-C / SIGTERM do).
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub vsn: Vsn,
    next_ref: u32,
}

impl Client {
    pub async fn send_raw(&mut self, text: &str) {
        self.ws
            .send(WsMessage::Text(text.into()))
            .await
            .expect("send");
    }

    /// Sends a push with a fresh ref; returns that ref.
    pub async fn push(
        &mut self,
        topic: &str,
        event: &str,
        payload: Value,
        join_ref: Option<&str>,
    ) -> String {
        self.next_ref += 1;
        let r = self.next_ref.to_string();
        let m = Message::new(topic, Event::parse(event), payload)
            .with_refs(join_ref.map(Into::into), Some(r.clone()));
        self.send_raw(&m.encode(self.vsn)).await;
        r
    }

    /// Next text frame decoded, or `None` on timeout / close.
    pub async fn recv_within(&mut self, ms: u64) -> Option<Message> {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        loop {
            let next = tokio::time::timeout_at(deadline, self.ws.next())
                .await
                .ok()??;
            match next.ok()? {
                WsMessage::Text(t) => {
                    return Some(
                        Message::decode(t.as_str(), self.vsn).expect("server frame decodes"),
                    );
                }
                WsMessage::Close(_) => return None,
                _ => continue,
            }
        }
    }

    pub async fn recv_raw(&mut self) -> String {
        loop {
            match tokio::time::timeout(Duration::from_secs(5), self.ws.next()).await {
                Ok(Some(Ok(WsMessage::Text(t)))) => return t.to_string(),
                Ok(Some(Ok(_))) => continue,
                other => panic!("no frame: {other:?}"),
            }
        }
    }

    pub async fn recv(&mut self) -> Message {
        self.recv_within(5000).await.expect("expected a frame")
    }

    /// Joins `realtime:<name>` with postgres_changes specs; returns (join_ref, reply, system).
    pub async fn join(&mut self, name: &str, specs: Value) -> (String, Message, Message) {
        let topic = format!("realtime:{name}");
        self.next_ref += 1;
        let r = self.next_ref.to_string();
        let payload = json!({"config": {"broadcast": {"ack": false, "self": false}, "presence": {"key": "", "enabled": false}, "postgres_changes": specs, "private": false}});
        let m =
            Message::new(topic, Event::Join, payload).with_refs(Some(r.clone()), Some(r.clone()));
        self.send_raw(&m.encode(self.vsn)).await;
        let reply = self.recv().await;
        let system = self.recv().await;
        (r, reply, system)
    }
}
