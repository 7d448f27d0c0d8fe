//! The HTTP connection loop: how long a client may take to send a request head, how many
//! connections are served at once. axum's own `serve` sets no timer (so hyper's header timeout
//! never runs) and accepts without bound, so half-open requests could pile up; this loop is
//! axum's, plus those two limits.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

/// Default for [`ConnLimits::header_timeout`].
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 30_000;
/// Default for [`ConnLimits::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// Limits on the HTTP connections themselves (not on what a request asks for).
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// The time a client has to send a complete request head: from the connection's start,
    /// and again from the end of each response (hyper starts the same timer when a kept-alive
    /// connection goes idle), so it is also the idle keep-alive timeout. Past it the
    /// connection is closed.
    pub header_timeout: Duration,
    /// Connections served at once (WebSockets included). At the cap the server stops
    /// accepting: the next client waits in the listen backlog until a connection ends.
    pub max_connections: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            header_timeout: Duration::from_millis(DEFAULT_HEADER_TIMEOUT_MS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then waits for open requests to end
/// (as axum's graceful shutdown does).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    limits: ConnLimits,
) -> std::io::Result<()> {
    let cap = limits.max_connections.clamp(1, u32::MAX as usize);
    let slots = Arc::new(Semaphore::new(cap));
    // Dropped at shutdown: every connection task sees its receiver close and finishes
    // its current request before closing.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning
                    // (what axum's loop does).
                    tracing::debug!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Realtime frames are small and latency is the point: no Nagle delay behind an unacked frame.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY not set on an incoming connection: {e}");
        }
        // The peer address reaches handlers (the per-address limits) as axum's ConnectInfo.
        let service = app
            .clone()
            .map_request(move |req: axum::http::Request<Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout);
        let conn = builder
            .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service))
            .with_upgrades();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let ended = tokio::select! {
                r = conn.as_mut() => r,
                _ = stop.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = ended {
                tracing::trace!("connection from {peer} ended: {e}");
            }
            // An upgraded WebSocket runs on after `conn` ends, outside this cap (the realtime
            // limits bound it); the slot is the HTTP connection's.
            drop(permit);
        });
    }
    drop(listener);
    drop(stop_tx);
    // Every slot back = every connection finished.
    let _ = slots.acquire_many(cap as u32).await;
    Ok(())
}
