//! The socket's outgoing side: one task, on the fan-out runtime, drains the socket's queue into
//! the WebSocket, one frame at a time, until the socket is closed or the client goes away.
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

/// The WebSocket's write buffer: none, so each frame goes to the socket as it is sent. The
/// WebSocket library keeps its buffer's largest size for the life of the socket: with 4 KiB
/// (and bursts of frames written before one flush) buffers grew whenever frames met in them,
/// and a soak's RSS took a 12 MiB step a few minutes in that stayed (4,000 sockets; the heap
/// profile had 22 MB live there). Without one, it holds at most the one frame the kernel has
/// not taken yet: the step was gone, and the catalogue fan-out's p99 was a little lower
/// (172–176 against 189–209 ms) for 6 % more server CPU (BENCHMARKS.md, "Soak").
pub const WRITE_BUFFER_BYTES: usize = 0;
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
        while let Some(frame) = rx.recv().await {
            // A client that stops reading blocks these writes once the TCP buffers are full:
            // a close (queue overflow, idle, shutdown) must win over them too. The write is
            // polled first, so the close is only watched while a write waits.
            let wrote = tokio::select! {
                biased;
                ok = sink.send(WsMessage::Text(frame)) => ok.is_ok(),
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
