//! The socket's outgoing side: one task, on the fan-out runtime, drains the socket's queue into
//! the WebSocket in bursts until the socket is closed or the client goes away.
//!
//! With 10,000 subscribers every change wakes this task once per socket, so its loop avoids
//! per-wake-up costs beyond the write itself: the queue tells it about a close (an atomic flag
//! and a waker in the queue), rather than a cancellation token polled on every pass.

use axum::extract::ws::{CloseFrame, Message as WsMessage, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use tokio::task::JoinHandle;
use tokio::time::timeout;

use crate::hub::{Queue, spawn_fanout};

/// Most frames written before a flush.
const WRITE_BATCH: usize = 64;
/// The WebSocket's write buffer: past it the frames go to the socket. A burst also stops at
/// it and flushes before it takes more, because the WebSocket library's buffer keeps its
/// largest size for the life of the socket and grows without bound while the client does not
/// read: a burst of 64 frames could otherwise leave each of thousands of sockets holding 64
/// frames' worth (the soak's heap profile put 22 MB of 4,000 sockets' live memory there).
pub const WRITE_BUFFER_BYTES: usize = 4 * 1024;
/// How long a closing socket may take to send its close frame.
pub(super) const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Starts the writer task: it ends (after a best-effort close frame) when the socket's outbox
/// is closed, the queue's senders are gone, or a write fails.
pub(super) fn spawn_writer(
    mut sink: SplitSink<WebSocket, WsMessage>,
    mut rx: Queue,
) -> JoinHandle<()> {
    spawn_fanout(async move {
        let closing = rx.closing();
        while let Some(first) = rx.recv().await {
            // A client that stops reading blocks these writes once the TCP buffers are full:
            // a close (queue overflow, idle, shutdown) must win over them too. The write is
            // polled first, so the close is only watched while a write waits.
            let wrote = tokio::select! {
                biased;
                ok = write_burst(&mut sink, &mut rx, first) => ok,
                _ = closing.wait() => false,
            };
            if !wrote {
                break;
            }
        }
        // Best effort, and bounded: a stuck client cannot hold this task. The reason tells a
        // client that was cut off (too slow, message too big) why.
        let close = rx.close_reason().map(|r| CloseFrame {
            code: r.code(),
            reason: Utf8Bytes::from(r.text()),
        });
        let _ = timeout(CLOSE_GRACE, sink.send(WsMessage::Close(close))).await;
    })
}

/// Writes `first` and whatever else is already queued (up to [`WRITE_BATCH`] frames, and
/// until [`WRITE_BUFFER_BYTES`] are written), then flushes once: one syscall per burst.
/// `false` when the connection is gone.
async fn write_burst(
    sink: &mut SplitSink<WebSocket, WsMessage>,
    rx: &mut Queue,
    first: Utf8Bytes,
) -> bool {
    let mut fed = first.as_str().len();
    if sink.feed(WsMessage::Text(first)).await.is_err() {
        return false;
    }
    for _ in 1..WRITE_BATCH {
        if fed >= WRITE_BUFFER_BYTES {
            break;
        }
        match rx.try_recv() {
            Some(f) => {
                fed += f.as_str().len();
                if sink.feed(WsMessage::Text(f)).await.is_err() {
                    return false;
                }
            }
            None => break,
        }
    }
    sink.flush().await.is_ok()
}
