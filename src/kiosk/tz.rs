//! A zone's UTC offset at an instant, without shipping a time-zone database in the wasm.
//!
//! The browser already has one: `Intl.DateTimeFormat` with `timeZone` renders any instant in
//! any IANA zone, and the difference between that wall-clock reading and UTC is the offset
//! (DST included). Formatters are cached per zone. If the browser does not know the zone (or
//! we run natively, in tests), a small table of fixed offsets for common hotel zones is used,
//! and failing that UTC; a wrong hour is better than a blank card.

use super::when::{UnixSeconds, days_from_civil};

/// Fixed offsets (minutes) for zones without daylight saving time. Fallback only.
const FIXED: &[(&str, i32)] = &[
    ("UTC", 0),
    ("Etc/UTC", 0),
    ("Asia/Kolkata", 330),
    ("Asia/Calcutta", 330),
    ("Asia/Dubai", 240),
    ("Asia/Singapore", 480),
    ("Asia/Hong_Kong", 480),
    ("Asia/Shanghai", 480),
    ("Asia/Tokyo", 540),
    ("Asia/Bangkok", 420),
    ("Asia/Jakarta", 420),
    ("Asia/Kathmandu", 345),
    ("Asia/Colombo", 330),
    ("Africa/Nairobi", 180),
];

pub fn fixed_offset(zone: &str) -> Option<i32> {
    FIXED.iter().find(|(z, _)| *z == zone).map(|(_, o)| *o)
}

/// The offset of `zone` at `t`, in minutes east of UTC.
pub fn offset_minutes(zone: &str, t: UnixSeconds) -> i32 {
    intl::offset_minutes(zone, t)
        .or_else(|| fixed_offset(zone))
        .unwrap_or(0)
}

/// Turns the wall-clock fields `Intl` reports into an offset. (Natively only the tests use it.)
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn offset_from_fields(t: UnixSeconds, fields: [i64; 6]) -> Option<i32> {
    let [y, mo, d, h, mi, s] = fields;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    // Some engines print midnight as hour 24 with `hour12: false`.
    let h = if h == 24 { 0 } else { h };
    let local = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s;
    let minutes = (local - t) as f64 / 60.0;
    let minutes = minutes.round() as i64;
    (-18 * 60..=18 * 60)
        .contains(&minutes)
        .then_some(minutes as i32)
}

#[cfg(target_arch = "wasm32")]
mod intl {
    use super::{UnixSeconds, offset_from_fields};
    use js_sys::{Array, Function, Object, Reflect};
    use std::cell::RefCell;
    use std::collections::HashMap;
    use wasm_bindgen::{JsCast, JsValue};

    /// A zone's formatter and the offsets it has given, by quarter hour: every offset change
    /// in the IANA data since 1970 falls on a quarter hour, so all instants of one quarter
    /// share an offset. A results screen asks for the same few instants (now, today's
    /// starts) card after card, and each `formatToParts` round trip costs tens of µs.
    struct Zone {
        fmt: Option<js_sys::Intl::DateTimeFormat>,
        offsets: HashMap<i64, Option<i32>>,
    }

    /// Offsets remembered per zone before the memo starts over (a kiosk runs for weeks).
    const MAX_REMEMBERED: usize = 4096;

    thread_local! {
        /// `fmt: None` caches "this zone is unknown to the browser".
        static ZONES: RefCell<HashMap<String, Zone>> = RefCell::new(HashMap::new());
    }

    fn make(zone: &str) -> Option<js_sys::Intl::DateTimeFormat> {
        let intl = Reflect::get(&js_sys::global(), &JsValue::from_str("Intl")).ok()?;
        let ctor: Function = Reflect::get(&intl, &JsValue::from_str("DateTimeFormat"))
            .ok()?
            .dyn_into()
            .ok()?;
        let options = Object::new();
        let set = |k: &str, v: &str| {
            Reflect::set(&options, &JsValue::from_str(k), &JsValue::from_str(v)).ok()
        };
        set("timeZone", zone)?;
        set("hourCycle", "h23")?;
        for k in ["year", "month", "day", "hour", "minute", "second"] {
            set(k, "numeric")?;
        }
        let args = Array::of2(&JsValue::from_str("en-US"), &options);
        // `Reflect.construct` turns the RangeError for an unknown zone into an `Err` instead
        // of an exception unwinding through wasm.
        Reflect::construct(&ctor, &args)
            .ok()
            .map(JsCast::unchecked_into)
    }

    pub fn offset_minutes(zone: &str, t: UnixSeconds) -> Option<i32> {
        let quarter = t.div_euclid(900);
        ZONES.with(|zones| {
            let mut zones = zones.borrow_mut();
            if !zones.contains_key(zone) {
                let fmt = make(zone);
                zones.insert(
                    zone.to_owned(),
                    Zone {
                        fmt,
                        offsets: HashMap::new(),
                    },
                );
            }
            let z = zones.get_mut(zone)?;
            if let Some(known) = z.offsets.get(&quarter) {
                return *known;
            }
            let offset = read(z.fmt.as_ref()?, t);
            if z.offsets.len() >= MAX_REMEMBERED {
                z.offsets.clear();
            }
            z.offsets.insert(quarter, offset);
            offset
        })
    }

    fn read(fmt: &js_sys::Intl::DateTimeFormat, t: UnixSeconds) -> Option<i32> {
        let date = js_sys::Date::new(&JsValue::from_f64(t as f64 * 1000.0));
        let parts = fmt.format_to_parts(&date);
        let mut fields = [0i64; 6];
        for part in parts.iter() {
            let kind = Reflect::get(&part, &JsValue::from_str("type"))
                .ok()?
                .as_string()?;
            let value = Reflect::get(&part, &JsValue::from_str("value"))
                .ok()?
                .as_string()?;
            let slot = match kind.as_str() {
                "year" => 0,
                "month" => 1,
                "day" => 2,
                "hour" => 3,
                "minute" => 4,
                "second" => 5,
                _ => continue,
            };
            fields[slot] = value.parse().ok()?;
        }
        offset_from_fields(t, fields)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod intl {
    use super::UnixSeconds;

    pub fn offset_minutes(_zone: &str, _t: UnixSeconds) -> Option<i32> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_from_wall_clock_fields() {
        // 2026-11-22T15:00:00Z is 20:30 in Kolkata.
        let t = crate::kiosk::when::parse_timestamp("2026-11-22T15:00:00Z").unwrap_or(0);
        assert_eq!(offset_from_fields(t, [2026, 11, 22, 20, 30, 0]), Some(330));
        // …and 10:00 the same day in New York (-5 h).
        assert_eq!(offset_from_fields(t, [2026, 11, 22, 10, 0, 0]), Some(-300));
        // Across midnight: 00:30 on the 23rd is still +9:30.
        assert_eq!(offset_from_fields(t, [2026, 11, 23, 0, 30, 0]), Some(570));
        assert_eq!(offset_from_fields(t, [2026, 13, 1, 0, 0, 0]), None);
        assert_eq!(offset_from_fields(t, [2027, 11, 22, 20, 30, 0]), None);
    }

    #[test]
    fn falls_back_to_the_fixed_table_then_utc() {
        assert_eq!(offset_minutes("Asia/Kolkata", 0), 330);
        assert_eq!(offset_minutes("Mars/Olympus_Mons", 0), 0);
    }
}
