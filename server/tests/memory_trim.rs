//! `memory::trim` hands freed heap pages back to the OS (issue 18: RSS follows what is in use,
//! not the highest peak). One test in its own binary: it reads the process's resident size,
//! which other tests running in parallel would disturb.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

const MIB: usize = 1024 * 1024;

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("resident pages");
    // SAFETY: sysconf has no preconditions.
    pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize
}

#[test]
fn freed_heap_pages_go_back_to_the_os() {
    // 64 MiB in small blocks (below the mmap threshold: they live in the heap), touched so they
    // are resident; then all freed but the last, which pins the heap's top so that glibc's own
    // top-of-heap trimming cannot give the memory back by itself.
    let mut blocks: Vec<Vec<u8>> = (0..64 * 1024).map(|i| vec![i as u8; 1024]).collect();
    let pin = blocks.pop();
    drop(blocks);
    let freed = rss_bytes();
    assert!(concierge_server::memory::trim(), "something was released");
    let trimmed = rss_bytes();
    assert!(
        freed.saturating_sub(trimmed) >= 48 * MIB,
        "resident {} MiB before the trim, {} MiB after: at least 48 of the 64 MiB freed should go",
        freed / MIB,
        trimmed / MIB
    );
    drop(pin);
}
