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

/// Heap figures after a trim, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Allocated and not yet freed, over all of the allocator's arenas.
    pub heap_in_use: u64,
    /// Free but still held inside the arenas.
    pub heap_free: u64,
    /// Large blocks the allocator mapped on their own.
    pub mmapped: u64,
    /// What SQLite has allocated (its page caches, statements, schema), part of `heap_in_use`.
    pub sqlite: u64,
    /// The part of `sqlite` that holds cached pages, over all connections.
    pub sqlite_page_cache: u64,
}

/// The allocator's own account of the heap (`None` where the C library has none).
pub fn usage() -> Option<Usage> {
    // SAFETY: `sqlite3_memory_used` reads SQLite's global counter under its own mutex.
    let sqlite = u64::try_from(unsafe { rusqlite::ffi::sqlite3_memory_used() }).unwrap_or(0);
    let sqlite_page_cache = sqlite_status(rusqlite::ffi::SQLITE_STATUS_PAGECACHE_OVERFLOW);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallinfo2` walks the arenas under their locks and returns plain counters.
        let m = unsafe { libc::mallinfo2() };
        Some(Usage {
            heap_in_use: m.uordblks as u64,
            heap_free: m.fordblks as u64,
            mmapped: m.hblkhd as u64,
            sqlite,
            sqlite_page_cache,
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = (sqlite, sqlite_page_cache);
        None
    }
}

/// One of SQLite's process-wide counters (its current value).
fn sqlite_status(op: std::ffi::c_int) -> u64 {
    let (mut now, mut peak) = (0i64, 0i64);
    // SAFETY: both pointers are valid for the call; SQLite only writes the two counters.
    let rc = unsafe { rusqlite::ffi::sqlite3_status64(op, &mut now, &mut peak, 0) };
    if rc == rusqlite::ffi::SQLITE_OK {
        u64::try_from(now).unwrap_or(0)
    } else {
        0
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
        match tokio::task::spawn_blocking(|| {
            trim();
            usage()
        })
        .await
        {
            // What the heap holds, next to RSS, tells a leak (in use grows) from fragmentation
            // (free grows) when a soak's resident size drifts.
            Ok(Some(u)) => tracing::debug!(
                heap_in_use = u.heap_in_use,
                heap_free = u.heap_free,
                mmapped = u.mmapped,
                sqlite = u.sqlite,
                sqlite_page_cache = u.sqlite_page_cache,
                "memory after trim"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!("memory trim failed: {e}"),
        }
    }
}
