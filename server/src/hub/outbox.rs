//! A socket's outgoing queue, as the fan-out and the socket's frame handling both push to it.

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A socket's outgoing side: a bounded queue drained by the socket's writer task.
#[derive(Debug)]
pub struct Outbox {
    tx: mpsc::Sender<Utf8Bytes>,
    /// Cancelled to close the socket (overflow, shutdown, or the client went away).
    pub kill: CancellationToken,
}

impl Outbox {
    pub fn new(tx: mpsc::Sender<Utf8Bytes>, kill: CancellationToken) -> Outbox {
        Outbox { tx, kill }
    }

    /// Queues a frame; a full queue disconnects the client rather than buffering without limit.
    pub fn push(&self, frame: Utf8Bytes) -> bool {
        match self.tx.try_send(frame) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.kill.is_cancelled() {
                    tracing::warn!("realtime client too slow: outgoing queue full, disconnecting");
                    self.kill.cancel();
                }
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}
