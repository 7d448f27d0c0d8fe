//! "Tonight 8:30 pm": when an event happens, in words a guest reads at a glance, in the
//! hotel's time zone (not the kiosk machine's).
//!
//! Pure and native-testable: timestamps are parsed by `concierge_wire::timestamp` (RFC 3339,
//! what PostgREST and our server send), and the zone is reduced to a UTC offset in minutes for
//! the instant being described. Finding that offset is the only browser-specific step ([`super::tz`]); keeping a
//! time-zone database out of the wasm bundle is the point.

/// Seconds since the Unix epoch.
pub type UnixSeconds = i64;

pub use concierge_wire::timestamp::days_from_civil;

/// Parses an RFC 3339 timestamp (`2026-11-22T20:30:00Z`, `…+05:30`, `…T20:30:00.123456+00:00`,
/// and the `YYYY-MM-DD HH:MM:SS+00` form Postgres prints) to whole seconds, with the
/// workspace's one parser ([`concierge_wire::timestamp::parse_micros`]). `None` for junk.
pub fn parse_timestamp(s: &str) -> Option<UnixSeconds> {
    concierge_wire::timestamp::parse_micros(s).map(|us| us.div_euclid(1_000_000))
}

/// The inverse of [`days_from_civil`]: (year, month 1–12, day 1–31).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// A wall-clock reading in some zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    /// Days since 1970-01-01 of the local date: consecutive local dates differ by one.
    pub day_number: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: i64,
}

impl Local {
    pub fn at(t: UnixSeconds, offset_minutes: i32) -> Local {
        let local = t + i64::from(offset_minutes) * 60;
        let day_number = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (_, month, day) = civil_from_days(day_number);
        Local {
            day_number,
            month,
            day,
            hour: secs / 3600,
            minute: (secs % 3600) / 60,
            // 1970-01-01 was a Thursday (index 3).
            weekday: (day_number + 3).rem_euclid(7),
        }
    }
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// From this hour on, "today" reads "tonight".
const EVENING_HOUR: i64 = 17;

/// `8:30 pm`, `12:00 pm`, `12:05 am`.
pub fn clock(l: Local) -> String {
    let (h12, meridiem) = match l.hour {
        0 => (12, "am"),
        1..=11 => (l.hour, "am"),
        12 => (12, "pm"),
        _ => (l.hour - 12, "pm"),
    };
    format!("{h12}:{:02} {meridiem}", l.minute)
}

/// When an event happens, relative to `now`, as a guest would say it:
/// `Now` (already started and not over), `Tonight 8:30 pm`, `Today 11:00 am`,
/// `Tomorrow 11:00 am`, `Sat 7:00 pm` (within the week), `Sat 12 Dec, 7:00 pm` (later).
///
/// `offset_at` gives the zone's UTC offset in minutes at an instant (so a DST change between
/// now and the event is honoured).
pub fn describe(
    starts: UnixSeconds,
    ends: Option<UnixSeconds>,
    now: UnixSeconds,
    offset_at: impl Fn(UnixSeconds) -> i32,
) -> String {
    let start = Local::at(starts, offset_at(starts));
    if starts <= now {
        return match ends {
            Some(end) if end > now => {
                format!("Now · until {}", clock(Local::at(end, offset_at(end))))
            }
            // Started, no known end: say when it started rather than pretend it is upcoming.
            _ => format!("Started {}", clock(start)),
        };
    }
    let today = Local::at(now, offset_at(now));
    let time = clock(start);
    match start.day_number - today.day_number {
        0 if start.hour >= EVENING_HOUR => format!("Tonight {time}"),
        0 => format!("Today {time}"),
        1 => format!("Tomorrow {time}"),
        2..=6 => format!("{} {time}", WEEKDAYS[start.weekday as usize]),
        _ => format!(
            "{} {} {}, {time}",
            WEEKDAYS[start.weekday as usize],
            start.day,
            MONTHS[(start.month - 1) as usize]
        ),
    }
}

/// `1.2 km`, `350 m`, `In the hotel` for 0.
pub fn distance(km: f64) -> String {
    if !km.is_finite() || km < 0.0 {
        return String::new();
    }
    if km < 0.05 {
        "In the hotel".to_owned()
    } else if km < 1.0 {
        format!("{} m", ((km * 1000.0) / 10.0).round() as i64 * 10)
    } else if km < 10.0 {
        format!("{} km", crate::fixed::fixed(km, 1))
    } else {
        format!("{} km", km.round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IST: i32 = 330;

    fn ist(s: &str) -> UnixSeconds {
        parse_timestamp(s).unwrap()
    }

    /// Every suffix of up to five characters from a mix of ASCII and multibyte characters:
    /// parsing returns `Some` or `None`, never panics (a panic in wasm kills the kiosk).
    #[test]
    fn never_panics_on_hostile_suffixes() {
        let alphabet = ['+', '-', 'Z', '0', '5', ':', '.', 'é', '€', '𝟘'];
        let mut suffix = Vec::new();
        fn walk(alphabet: &[char], suffix: &mut Vec<char>, depth: usize) {
            let s: String = suffix.iter().collect();
            let _ = parse_timestamp(&format!("2026-11-22T20:30:00{s}"));
            let _ = parse_timestamp(&format!("2026-11-22T20:30:00.1{s}"));
            if depth == 0 {
                return;
            }
            for c in alphabet {
                suffix.push(*c);
                walk(alphabet, suffix, depth - 1);
                suffix.pop();
            }
        }
        walk(&alphabet, &mut suffix, 5);
        assert_eq!(parse_timestamp("2026-11-22T20:30:00+aé1"), None);
        assert_eq!(
            parse_timestamp("2026-11-22T20:30:00+0530"),
            Some(1_795_359_600)
        );
    }

    #[test]
    fn parses_rfc3339_variants() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_timestamp("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(
            parse_timestamp("2026-11-22T20:30:00+05:30"),
            parse_timestamp("2026-11-22T15:00:00Z")
        );
        assert_eq!(
            parse_timestamp("2026-11-22 15:00:00.123456+00"),
            parse_timestamp("2026-11-22T15:00:00Z")
        );
        assert_eq!(
            parse_timestamp("2026-11-22T15:00:00-0130"),
            parse_timestamp("2026-11-22T16:30:00Z")
        );
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-22T25:00:00Z",
            "2026-11-22T15:00:00+5",
            "2026-11-22T15:00:00.Z",
            "2026-11-22T15:00:00Zjunk",
            "2026/11/22T15:00:00Z",
            "२०२६-11-22T15:00:00Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-1_000_000, -1, 0, 1, 11_016, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn clock_faces() {
        let l = |h: i64, m: i64| Local::at(h * 3600 + m * 60, 0);
        assert_eq!(clock(l(0, 5)), "12:05 am");
        assert_eq!(clock(l(11, 0)), "11:00 am");
        assert_eq!(clock(l(12, 0)), "12:00 pm");
        assert_eq!(clock(l(20, 30)), "8:30 pm");
    }

    #[test]
    fn describes_relative_days_in_the_hotel_zone() {
        // Sunday 22 Nov 2026, 14:00 in Bangalore.
        let now = ist("2026-11-22T14:00:00+05:30");
        let d = |s: &str| describe(ist(s), None, now, |_| IST);
        assert_eq!(d("2026-11-22T20:30:00+05:30"), "Tonight 8:30 pm");
        assert_eq!(d("2026-11-22T16:15:00+05:30"), "Today 4:15 pm");
        assert_eq!(d("2026-11-23T11:00:00+05:30"), "Tomorrow 11:00 am");
        assert_eq!(d("2026-11-23T00:30:00+05:30"), "Tomorrow 12:30 am");
        assert_eq!(d("2026-11-28T19:00:00+05:30"), "Sat 7:00 pm");
        assert_eq!(d("2026-12-12T19:00:00+05:30"), "Sat 12 Dec, 7:00 pm");
        // The same instant in UTC terms is still "tonight" for the hotel: 15:00Z = 20:30 IST.
        assert_eq!(d("2026-11-22T15:00:00Z"), "Tonight 8:30 pm");
        // 19:00Z on the 22nd is already 00:30 on the 23rd in Bangalore.
        assert_eq!(d("2026-11-22T19:00:00Z"), "Tomorrow 12:30 am");
    }

    #[test]
    fn describes_events_in_progress() {
        let now = ist("2026-11-22T20:00:00+05:30");
        let start = ist("2026-11-22T19:00:00+05:30");
        let end = ist("2026-11-22T22:00:00+05:30");
        assert_eq!(
            describe(start, Some(end), now, |_| IST),
            "Now · until 10:00 pm"
        );
        assert_eq!(describe(start, None, now, |_| IST), "Started 7:00 pm");
    }

    #[test]
    fn honours_offset_changes_between_now_and_the_event() {
        // A zone that moves from +0 to +60 between now and the event (like London in March).
        let now = ist("2026-03-28T12:00:00Z");
        let event = ist("2026-03-29T18:30:00Z");
        let offset = |t: UnixSeconds| {
            if t < ist("2026-03-29T01:00:00Z") {
                0
            } else {
                60
            }
        };
        assert_eq!(describe(event, None, now, offset), "Tomorrow 7:30 pm");
    }

    #[test]
    fn weekdays_are_right() {
        // 2026-11-22 is a Sunday.
        assert_eq!(Local::at(ist("2026-11-22T12:00:00Z"), 0).weekday, 6);
        assert_eq!(Local::at(0, 0).weekday, 3);
    }

    #[test]
    fn distances() {
        assert_eq!(distance(0.0), "In the hotel");
        assert_eq!(distance(0.347), "350 m");
        assert_eq!(distance(1.26), "1.3 km");
        assert_eq!(distance(12.4), "12 km");
        assert_eq!(distance(f64::NAN), "");
        assert_eq!(distance(-1.0), "");
    }
}
