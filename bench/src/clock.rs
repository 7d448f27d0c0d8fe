//! Time sources. Latencies are measured in one process against one monotonic base, so
//! "send time" markers written into rows and receive times compare exactly (µs resolution).
//! `commit_timestamp` is wall-clock with ms resolution and is compared with the wall clock.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static BASE: OnceLock<Instant> = OnceLock::new();

/// Microseconds since the bench started (monotonic).
pub fn now_us() -> u64 {
    let base = BASE.get_or_init(Instant::now);
    u64::try_from(base.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Wall clock, milliseconds since the Unix epoch.
pub fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Parses a `commit_timestamp` (`2026-01-01T00:00:00.123Z`) to Unix milliseconds.
pub fn parse_commit_ms(s: &str) -> Option<i64> {
    concierge_wire::timestamp::parse_millis(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commit_timestamps() {
        assert_eq!(parse_commit_ms("1970-01-01T00:00:01.250Z"), Some(1250));
        assert_eq!(
            parse_commit_ms("2026-11-22T03:15:25Z"),
            Some(1_795_317_325_000)
        );
        assert_eq!(parse_commit_ms("yesterday"), None);
        assert_eq!(parse_commit_ms(""), None);
    }

    #[test]
    fn monotonic_clock_moves_forward() {
        let a = now_us();
        let b = now_us();
        assert!(b >= a);
    }
}
