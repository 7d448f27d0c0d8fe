//! A socket's outgoing queue, as the fan-out and the socket's frame handling both push to it.
//!
//! The queue is bounded in bytes, not frames: a frame count let about 1 GiB pile up for one
//! socket that never reads (1,024 frames of up to 1 MiB). Each queued frame is charged its
//! length plus [`FRAME_OVERHEAD`], so a flood of tiny frames is bounded too.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What one queued frame costs beyond its text: the shared buffer's header and the queue slot.
pub const FRAME_OVERHEAD: usize = 64;

/// Why the server closed a socket; sent to the client in the WebSocket close frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client did not read fast enough and its outgoing queue passed the byte bound.
    SlowConsumer { limit_bytes: usize },
    /// The client sent a frame or message over the size limit.
    MessageTooBig { limit_bytes: usize },
}

impl CloseReason {
    /// RFC 6455 close code: 1008 (policy violation) or 1009 (message too big).
    pub fn code(self) -> u16 {
        match self {
            CloseReason::SlowConsumer { .. } => 1008,
            CloseReason::MessageTooBig { .. } => 1009,
        }
    }

    /// The close frame's reason (at most 123 bytes, as a close frame allows).
    pub fn text(self) -> String {
        match self {
            CloseReason::SlowConsumer { limit_bytes } => {
                format!("client too slow: outgoing queue over {limit_bytes} bytes")
            }
            CloseReason::MessageTooBig { limit_bytes } => {
                format!("message too big: the limit is {limit_bytes} bytes")
            }
        }
    }
}

/// State shared by a socket's queue ends.
#[derive(Debug)]
struct Shared {
    /// Bytes charged for the frames currently queued.
    queued: AtomicUsize,
    reason: OnceLock<CloseReason>,
}

/// A socket's outgoing side: a byte-bounded queue drained by the socket's writer task.
#[derive(Debug)]
pub struct Outbox {
    tx: mpsc::UnboundedSender<Utf8Bytes>,
    shared: Arc<Shared>,
    limit_bytes: usize,
    /// Cancelled to close the socket (overflow, shutdown, or the client went away).
    pub kill: CancellationToken,
}

/// The writer's end of an [`Outbox`].
#[derive(Debug)]
pub struct Queue {
    rx: mpsc::UnboundedReceiver<Utf8Bytes>,
    shared: Arc<Shared>,
}

fn cost(frame: &Utf8Bytes) -> usize {
    frame.as_str().len() + FRAME_OVERHEAD
}

impl Outbox {
    /// A queue that holds at most `limit_bytes` (as charged by [`FRAME_OVERHEAD`]).
    pub fn new(limit_bytes: usize, kill: CancellationToken) -> (Outbox, Queue) {
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            queued: AtomicUsize::new(0),
            reason: OnceLock::new(),
        });
        let queue = Queue {
            rx,
            shared: shared.clone(),
        };
        let outbox = Outbox {
            tx,
            shared,
            limit_bytes,
            kill,
        };
        (outbox, queue)
    }

    /// Queues a frame; a full queue disconnects the client rather than buffering without limit.
    pub fn push(&self, frame: Utf8Bytes) -> bool {
        if self.kill.is_cancelled() {
            return false;
        }
        let n = cost(&frame);
        let before = self.shared.queued.fetch_add(n, Ordering::AcqRel);
        if before + n > self.limit_bytes {
            self.shared.queued.fetch_sub(n, Ordering::AcqRel);
            tracing::warn!(
                limit_bytes = self.limit_bytes,
                "realtime client too slow: outgoing queue full, disconnecting"
            );
            self.close(CloseReason::SlowConsumer {
                limit_bytes: self.limit_bytes,
            });
            return false;
        }
        if self.tx.send(frame).is_err() {
            self.shared.queued.fetch_sub(n, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Closes the socket, telling the client why (the first reason given wins).
    pub fn close(&self, reason: CloseReason) {
        let _ = self.shared.reason.set(reason);
        self.kill.cancel();
    }

    /// Bytes currently charged to the queue (for tests and diagnostics).
    pub fn queued_bytes(&self) -> usize {
        self.shared.queued.load(Ordering::Acquire)
    }
}

impl Queue {
    /// The next frame, once one is queued; `None` when every sender is gone.
    pub async fn recv(&mut self) -> Option<Utf8Bytes> {
        let f = self.rx.recv().await?;
        self.shared.queued.fetch_sub(cost(&f), Ordering::AcqRel);
        Some(f)
    }

    /// The next frame if one is already queued.
    pub fn try_recv(&mut self) -> Option<Utf8Bytes> {
        let f = self.rx.try_recv().ok()?;
        self.shared.queued.fetch_sub(cost(&f), Ordering::AcqRel);
        Some(f)
    }

    /// Why the socket was closed, if the server closed it for a reason the client should see.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.shared.reason.get().copied()
    }
}
