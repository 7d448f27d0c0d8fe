//! When a demo item happens, written relative to "now" in the hotel's zone (`today 19:00`,
//! `saturday 20:00`, `in 0 minutes`), and resolved to a start time at seed time.

use std::str::FromStr;

use serde::Deserialize;
use time::{Duration, OffsetDateTime, Time, UtcOffset, Weekday};

/// When an item happens, relative to "now" in the hotel's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum When {
    /// Today at h:m, or tomorrow if today's has already ended.
    Today(u8, u8),
    Tomorrow(u8, u8),
    /// The coming Saturday / Sunday (today if it is that day and not over yet).
    Saturday(u8, u8),
    Sunday(u8, u8),
    /// Starting this many minutes from now.
    InMinutes(i64),
}

/// A `when` the catalogue file spells wrongly.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?}: expected `today|tomorrow|saturday|sunday HH:MM` or `in N minutes`")]
pub struct WhenError(String);

impl FromStr for When {
    type Err = WhenError;

    fn from_str(s: &str) -> Result<When, WhenError> {
        let bad = || WhenError(s.to_owned());
        let words: Vec<&str> = s.split_whitespace().collect();
        match words[..] {
            ["in", n, "minutes"] => n.parse().map(When::InMinutes).map_err(|_| bad()),
            [day, hm] => {
                let (h, m) = hm.split_once(':').ok_or_else(bad)?;
                let (h, m): (u8, u8) =
                    (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
                if h > 23 || m > 59 {
                    return Err(bad());
                }
                match day {
                    "today" => Ok(When::Today(h, m)),
                    "tomorrow" => Ok(When::Tomorrow(h, m)),
                    "saturday" => Ok(When::Saturday(h, m)),
                    "sunday" => Ok(When::Sunday(h, m)),
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for When {
    type Error = WhenError;

    fn try_from(s: String) -> Result<When, WhenError> {
        s.parse()
    }
}

fn at(date: time::Date, h: u8, m: u8, off: UtcOffset) -> OffsetDateTime {
    let t = Time::from_hms(h.min(23), m.min(59), 0).unwrap_or(Time::MIDNIGHT);
    date.with_time(t).assume_offset(off)
}

fn next_weekday(
    now: OffsetDateTime,
    day: Weekday,
    h: u8,
    m: u8,
    minutes: i64,
    off: UtcOffset,
) -> OffsetDateTime {
    let mut d = now.date();
    for _ in 0..8 {
        if d.weekday() == day {
            let start = at(d, h, m, off);
            if start + Duration::minutes(minutes) > now {
                return start;
            }
        }
        d = d.next_day().unwrap_or(d);
    }
    at(d, h, m, off)
}

impl When {
    /// The start of an item lasting `minutes`, as of `now` in the zone `off`.
    pub fn resolve(self, minutes: i64, now: OffsetDateTime, off: UtcOffset) -> OffsetDateTime {
        let today = now.date();
        let tomorrow = today.next_day().unwrap_or(today);
        match self {
            When::Today(h, m) => {
                let start = at(today, h, m, off);
                if start + Duration::minutes(minutes) > now {
                    start
                } else {
                    at(tomorrow, h, m, off)
                }
            }
            When::Tomorrow(h, m) => at(tomorrow, h, m, off),
            When::Saturday(h, m) => next_weekday(now, Weekday::Saturday, h, m, minutes, off),
            When::Sunday(h, m) => next_weekday(now, Weekday::Sunday, h, m, minutes, off),
            When::InMinutes(n) => now + Duration::minutes(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::When::*;
    use super::*;

    #[test]
    fn relative_times() {
        let off = time::macros::offset!(+05:30);
        // Friday 2026-11-20 21:00 IST.
        let now = time::macros::datetime!(2026-11-20 21:00 +05:30);
        assert_eq!(
            Today(20, 0).resolve(180, now, off),
            time::macros::datetime!(2026-11-20 20:00 +05:30),
            "still on"
        );
        assert_eq!(
            Today(10, 0).resolve(60, now, off),
            time::macros::datetime!(2026-11-21 10:00 +05:30),
            "over → tomorrow"
        );
        assert_eq!(
            Saturday(19, 0).resolve(60, now, off),
            time::macros::datetime!(2026-11-21 19:00 +05:30)
        );
        assert_eq!(
            Sunday(8, 0).resolve(60, now, off),
            time::macros::datetime!(2026-11-22 08:00 +05:30)
        );
    }

    #[test]
    fn parses_the_catalogue_spelling() {
        assert_eq!("today 10:00".parse(), Ok(Today(10, 0)));
        assert_eq!("tomorrow 06:30".parse(), Ok(Tomorrow(6, 30)));
        assert_eq!("saturday 19:00".parse(), Ok(Saturday(19, 0)));
        assert_eq!("sunday 8:05".parse(), Ok(Sunday(8, 5)));
        assert_eq!("in 0 minutes".parse(), Ok(InMinutes(0)));
        for bad in [
            "",
            "today",
            "today 24:00",
            "today 10:60",
            "today 10",
            "monday 10:00",
            "in x minutes",
            "in 5 hours",
            "today 10:00 extra",
        ] {
            assert!(bad.parse::<When>().is_err(), "{bad}");
        }
    }
}
