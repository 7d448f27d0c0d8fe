//! A socket's outgoing queue, as the fan-out and the socket's frame handling both push to it.
//!
//! The queue is bounded in bytes, not frames: a frame count let about 1 GiB pile up for one
//! socket that never reads (1,024 frames of up to 1 MiB). Each queued frame is charged its
//! length plus [`FRAME_OVERHEAD`], so a flood of tiny frames is bounded too.
//!
//! Closing is a flag in the queue's shared state, not only the socket's cancellation token: the
//! fan-out checks it once per frame for every subscriber and the writer once per wake-up, and a
//! token's check takes its mutex (profiled at about a tenth of the fan-out's CPU with 10,000
//! subscribers, see `BENCHMARKS.md`). Every close goes through [`Outbox::close`] or
//! [`Outbox::shut`], which set the flag, wake the writer and cancel the token.

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Poll;

use axum::extract::ws::Utf8Bytes;
use futures_util::task::AtomicWaker;
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
    /// Set once the socket is closing: no more frames are taken or written.
    closed: AtomicBool,
    /// The writer, woken when `closed` is set (new frames wake it through the channel).
    closing: AtomicWaker,
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
            closed: AtomicBool::new(false),
            closing: AtomicWaker::new(),
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
        if self.shared.closed.load(Ordering::Acquire) {
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
        self.shut();
    }

    /// Closes the socket without a reason for the client (it went away, or the server stops).
    pub fn shut(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.closing.wake();
        self.kill.cancel();
    }

    /// Bytes currently charged to the queue (for tests and diagnostics).
    pub fn queued_bytes(&self) -> usize {
        self.shared.queued.load(Ordering::Acquire)
    }
}

impl Queue {
    /// The next frame, once one is queued; `None` once the socket is closing (frames still
    /// queued are dropped: the close frame goes next) or every sender is gone.
    pub async fn recv(&mut self) -> Option<Utf8Bytes> {
        poll_fn(|cx| {
            if self.is_closed() {
                return Poll::Ready(None);
            }
            match self.rx.poll_recv(cx) {
                Poll::Ready(f) => Poll::Ready(f.map(|f| self.taken(f))),
                Poll::Pending => {
                    // Registered before the flag is read again, so a close in between wakes us.
                    self.shared.closing.register(cx.waker());
                    if self.is_closed() {
                        Poll::Ready(None)
                    } else {
                        Poll::Pending
                    }
                }
            }
        })
        .await
    }

    /// The next frame if one is already queued (the hub's tests read queues without waiting;
    /// the socket's writer takes one frame at a time through [`Queue::recv`]).
    #[cfg(test)]
    pub fn try_recv(&mut self) -> Option<Utf8Bytes> {
        let f = self.rx.try_recv().ok()?;
        Some(self.taken(f))
    }

    /// A handle that resolves once the socket is closing, usable while the queue is borrowed
    /// (to stop a write the client does not read).
    pub fn closing(&self) -> Closing {
        Closing {
            shared: self.shared.clone(),
        }
    }

    fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    fn taken(&self, f: Utf8Bytes) -> Utf8Bytes {
        self.shared.queued.fetch_sub(cost(&f), Ordering::AcqRel);
        f
    }

    /// Why the socket was closed, if the server closed it for a reason the client should see.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.shared.reason.get().copied()
    }
}

/// See [`Queue::closing`].
#[derive(Debug)]
pub struct Closing {
    shared: Arc<Shared>,
}

impl Closing {
    /// Resolves once [`Outbox::close`] or [`Outbox::shut`] was called.
    pub async fn wait(&self) {
        poll_fn(|cx| {
            if self.shared.closed.load(Ordering::Acquire) {
                return Poll::Ready(());
            }
            // Registered before the flag is read again, so a close in between wakes us.
            self.shared.closing.register(cx.waker());
            if self.shared.closed.load(Ordering::Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await
    }
}
