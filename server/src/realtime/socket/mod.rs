//! One realtime WebSocket: reads Phoenix frames, answers them, and drains the socket's
//! outgoing queue. A malformed frame is logged and dropped; it never ends the connection.

mod broadcast;
mod channels;
mod conn;
mod outgoing;
mod presence;
mod private;
mod signed_out;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::ws::{Message as WsMessage, WebSocket};
use concierge_wire::Vsn;
use futures_util::StreamExt;
use tokio::time::{Instant, sleep_until, timeout};

use crate::authz::Principal;
use crate::db::Db;
use crate::hub::{CloseReason, Hub, Outbox};
use crate::jwt::Keys;
use crate::rooms::Rooms;
use crate::rooms::rate::Rate;
use conn::Conn;
use outgoing::CLOSE_GRACE;
pub use outgoing::WRITE_BUFFER_BYTES;

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Whether a read failed because the client sent a frame or message over the size limit.
fn too_big(e: axum::Error) -> bool {
    e.into_inner()
        .downcast::<tungstenite::Error>()
        .is_ok_and(|e| matches!(*e, tungstenite::Error::Capacity(_)))
}

/// What a socket reaches besides its own connection.
pub struct Services {
    pub hub: Arc<Hub>,
    pub rooms: Arc<Rooms>,
    pub keys: Arc<Keys>,
    pub db: Db,
}

pub async fn run(ws: WebSocket, services: Services, vsn: Vsn, principal: Principal) {
    let Services {
        hub,
        rooms,
        keys,
        db,
    } = services;
    let (sink, mut stream) = ws.split();
    let kill = hub.shutdown.child_token();
    let (outbox, queue) = Outbox::new(hub.limits.queue_bytes, kill.clone());
    let outbox = Arc::new(outbox);
    let writer = outgoing::spawn_writer(sink, queue);
    let mut conn = Conn {
        hub: hub.clone(),
        keys,
        vsn,
        principal,
        outbox,
        channels: HashMap::new(),
        rate: Rate::per_second(rooms.limits.messages_per_sec),
        rooms,
        db,
    };
    let idle = hub.limits.idle_timeout;
    let mut sign_outs = conn.keys.signed_out().watch();
    let killed = kill.cancelled();
    tokio::pin!(killed);
    loop {
        let expiry = conn
            .channels
            .values()
            .filter_map(|j| j.principal.expires_at())
            .min()
            .map(|exp| {
                Instant::now() + std::time::Duration::from_secs((exp - now_secs()).max(0) as u64)
            });
        tokio::select! {
            _ = &mut killed => break,
            _ = sleep_until(expiry.unwrap_or_else(Instant::now)), if expiry.is_some() => conn.expire_tokens(),
            Ok(()) = sign_outs.changed() => conn.end_signed_out(),
            next = timeout(idle, stream.next()) => match next {
                Err(_) => {
                    tracing::info!("realtime socket idle for {idle:?}; closing");
                    break;
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    tracing::debug!("realtime socket error: {e}");
                    if too_big(e) {
                        conn.outbox.close(CloseReason::MessageTooBig { limit_bytes: hub.limits.max_message_bytes });
                    }
                    break;
                }
                Ok(Some(Ok(msg))) => match msg {
                    WsMessage::Text(t) => conn.handle_text(t.as_str()).await,
                    WsMessage::Binary(b) => conn.handle_binary(&b),
                    WsMessage::Ping(_) | WsMessage::Pong(_) => {}
                    WsMessage::Close(_) => break,
                },
            },
        }
    }
    // One channel per lock: a socket with many subscriptions never holds the hub for all of
    // them at once, so other sockets' changes are dispatched in between.
    for j in conn.channels.values() {
        hub.leave(j.id);
        conn.rooms
            .exit(&j.seat.key, j.seat.member, &j.seat.presence_key);
    }
    conn.outbox.shut();
    if timeout(CLOSE_GRACE * 2, writer).await.is_err() {
        tracing::debug!("realtime writer did not stop in time; detached");
    }
}
