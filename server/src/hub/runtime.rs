//! The fan-out's own runtime: the dispatcher and every socket's writer task run on it, apart
//! from the REST handlers (see the module docs of [`super`]).

use std::sync::LazyLock;

/// The fan-out runtime; `None` if it could not be built (then fan-out shares the caller's).
static FANOUT: LazyLock<Option<tokio::runtime::Runtime>> = LazyLock::new(|| {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("realtime-fanout")
        .enable_all()
        .build()
        .inspect_err(|e| tracing::warn!("realtime fan-out runtime: {e}; sharing the main one"))
        .ok()
});

/// Spawns `fut` on the fan-out runtime (socket writers and the dispatcher).
pub fn spawn_fanout<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    match FANOUT.as_ref() {
        Some(rt) => rt.spawn(fut),
        None => tokio::spawn(fut),
    }
}
