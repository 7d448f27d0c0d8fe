//! Postgres / ISO-8601 timestamps to microseconds since the Unix epoch.
//!
//! Versions (`updated_at`, `created_at`, `commit_timestamp`) arrive as text in several shapes:
//! `2025-11-19T00:22:40.877Z` from Realtime, `2025-11-19T00:22:40.877123+00:00` from PostgREST,
//! `2025-11-19 00:22:40` from SQLite. Comparing the strings would order `…Z` and `…+00:00`
//! wrongly, so every version is parsed to one integer. Parsing is total: anything odd is `None`.
//!
//! This is the one timestamp parser of the workspace: the sync core orders versions with it,
//! the kiosk reads event times with it, the server canonicalises stored timestamps with it.

/// Parses `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z|±HH[:MM]|±HHMM]` (a date alone is midnight UTC).
/// A missing zone means UTC. Returns microseconds since 1970-01-01T00:00:00Z.
pub fn parse_micros(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    let mut p = Cursor { b, i: 0 };
    let year = p.digits(4)? as i64;
    p.expect(b'-')?;
    let month = p.digits(2)?;
    p.expect(b'-')?;
    let day = p.digits(2)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut micros_of_day: i64 = 0;
    let mut offset_secs: i64 = 0;
    if p.peek().is_some() {
        match p.next()? {
            b'T' | b't' | b' ' => {}
            _ => return None,
        }
        let h = p.digits(2)? as i64;
        p.expect(b':')?;
        let m = p.digits(2)? as i64;
        let mut sec = 0i64;
        let mut frac = 0i64;
        if p.peek() == Some(b':') {
            p.next();
            sec = p.digits(2)? as i64;
            if p.peek() == Some(b'.') || p.peek() == Some(b',') {
                p.next();
                let mut scale = 100_000i64;
                let mut n = 0;
                while let Some(c) = p.peek().filter(u8::is_ascii_digit) {
                    p.next();
                    frac += i64::from(c - b'0') * scale;
                    scale /= 10;
                    n += 1;
                    if n > 12 {
                        return None;
                    }
                }
                if n == 0 {
                    return None;
                }
            }
        }
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        micros_of_day = ((h * 60 + m) * 60 + sec) * 1_000_000 + frac;
        match p.next() {
            None => {}
            Some(b'Z') | Some(b'z') => {}
            Some(sign @ (b'+' | b'-')) => {
                let oh = p.digits(2)? as i64;
                let om = match p.peek() {
                    Some(b':') => {
                        p.next();
                        p.digits(2)? as i64
                    }
                    Some(c) if c.is_ascii_digit() => p.digits(2)? as i64,
                    _ => 0,
                };
                if oh > 23 || om > 59 {
                    return None;
                }
                let o = (oh * 60 + om) * 60;
                offset_secs = if sign == b'+' { o } else { -o };
            }
            Some(_) => return None,
        }
    }
    if p.peek().is_some() {
        return None;
    }
    let days = days_from_civil(year, month as i64, day as i64);
    Some(days * 86_400_000_000 + micros_of_day - offset_secs * 1_000_000)
}

/// Milliseconds since the epoch, for latency figures measured against the injected clock.
pub fn parse_millis(s: &str) -> Option<i64> {
    parse_micros(s).map(|us| us.div_euclid(1000))
}

/// Howard Hinnant's `days_from_civil`: days since 1970-01-01 for a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }
    fn expect(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let c = self.next()?;
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_agree() {
        let z = parse_micros("2025-11-19T00:22:40.877Z").unwrap();
        assert_eq!(parse_micros("2025-11-19T00:22:40.877+00:00"), Some(z));
        assert_eq!(parse_micros("2025-11-19 05:52:40.877+05:30"), Some(z));
        assert_eq!(parse_micros("2025-11-19T00:22:40.877000"), Some(z));
        assert_eq!(parse_micros("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_micros("1970-01-02"), Some(86_400_000_000));
        assert_eq!(parse_millis("2000-03-01T00:00:00Z"), Some(951_868_800_000));
        assert!(parse_micros("2025-11-19T00:22:40.878Z").unwrap() > z);
    }

    #[test]
    fn junk_is_none() {
        for bad in [
            "",
            "x",
            "2025",
            "2025-13-01",
            "2025-01-01T25:00",
            "2025-01-01T00:00:00.",
            "2025-01-01Tx",
            "2025-01-01T00:00:00Zjunk",
            "２０２５-01-01",
        ] {
            assert_eq!(parse_micros(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = parse_micros(&s);
        }
    }
}
