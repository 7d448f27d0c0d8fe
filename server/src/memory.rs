//! Handing freed heap memory back to the operating system, periodically.
//!
//! glibc's allocator keeps what a burst freed: only the top of each heap shrinks by itself, so
//! after a moment where frames queued up for thousands of sockets (a client stalled, the load
//! peaked) the process keeps that peak as its resident size for good. Soaks showed it as RSS
//! rising in steps, one per latency spike, and never coming down (`BENCHMARKS.md`, "Soak").
//! `malloc_trim` returns the free pages inside the heaps too (with `MADV_DONTNEED`), so RSS
//! follows what is really in use. Other allocators (and other C libraries) are left alone.

use std::time::Duration;

/// Default for `--memory-trim-secs`.
pub const DEFAULT_TRIM_SECS: u64 = 10;

/// Returns free heap pages to the OS now. Whether anything was released (`false` too where the
/// C library has no such call).
pub fn trim() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `malloc_trim` takes the allocator's own locks and only releases free pages;
        // `0` keeps no padding at the top of the main heap.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Trims every `period` until `stop` is cancelled. The trim walks the heaps under their locks
/// (a few milliseconds for a server of a few hundred MiB), so it runs on the blocking pool,
/// never on a thread that serves sockets.
pub async fn run(period: Duration, stop: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate: nothing to give back at start-up
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.cancelled() => return,
        }
        if let Err(e) = tokio::task::spawn_blocking(trim).await {
            tracing::warn!("memory trim failed: {e}");
        }
    }
}
