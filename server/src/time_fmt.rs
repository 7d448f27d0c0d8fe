//! Timestamps: one canonical text form, `2026-11-22T03:11:16.123Z` (UTC, milliseconds), for
//! stored columns and `commit_timestamp` alike. Being fixed-width UTC, it sorts as text.

use time::OffsetDateTime;
use time::macros::format_description;

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn now_us() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as i64
}

pub fn format_ms(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let f =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.format(&f).unwrap_or_default()
}

/// Parses the timestamp forms clients send (RFC 3339 with any offset, Postgres' space-separated
/// form, `+00` short offsets, a bare date; no zone means UTC, as Postgres reads timestamptz
/// literals in a UTC session) into Unix milliseconds, with the workspace's one parser.
pub fn parse_ms(s: &str) -> Option<i64> {
    concierge_wire::timestamp::parse_millis(s)
}

/// Canonical form of any accepted timestamp text.
pub fn canonical(s: &str) -> Option<String> {
    parse_ms(s).map(format_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        assert_eq!(format_ms(1_763_511_760_877), "2025-11-19T00:22:40.877Z");
        for s in [
            "2025-11-19T00:22:40.877Z",
            "2025-11-19T05:52:40.877+05:30",
            "2025-11-19 00:22:40.877+00",
            "2025-11-19T00:22:40.877",
        ] {
            assert_eq!(
                canonical(s).as_deref(),
                Some("2025-11-19T00:22:40.877Z"),
                "{s}"
            );
        }
        assert_eq!(
            canonical("2025-11-19").as_deref(),
            Some("2025-11-19T00:00:00.000Z")
        );
        for bad in [
            "",
            "yesterday",
            "2025-13-01",
            "1' OR 1=1 --",
            &"9".repeat(100),
        ] {
            assert_eq!(parse_ms(bad), None, "{bad}");
        }
    }
}
