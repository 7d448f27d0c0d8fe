//! The kiosk's one browser-specific piece of logic, in headless Chromium: time-zone offsets
//! from `Intl.DateTimeFormat` (the path that keeps a tz database out of the wasm).
//!
//! Run: `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p concierge --target wasm32-unknown-unknown --test wasm_kiosk`
#![cfg(target_arch = "wasm32")]

use concierge::kiosk::{tz, when};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn t(s: &str) -> i64 {
    when::parse_timestamp(s).unwrap_or_default()
}

#[wasm_bindgen_test]
fn intl_gives_fixed_and_daylight_saving_offsets() {
    assert_eq!(
        tz::offset_minutes("Asia/Kolkata", t("2026-11-22T15:00:00Z")),
        330
    );
    assert_eq!(
        tz::offset_minutes("Asia/Kathmandu", t("2026-11-22T15:00:00Z")),
        345
    );
    // New York: EST in January, EDT in July — a fixed table could not know this.
    assert_eq!(
        tz::offset_minutes("America/New_York", t("2026-01-15T12:00:00Z")),
        -300
    );
    assert_eq!(
        tz::offset_minutes("America/New_York", t("2026-07-15T12:00:00Z")),
        -240
    );
    assert_eq!(
        tz::offset_minutes("Europe/London", t("2026-07-15T12:00:00Z")),
        60
    );
    // Around midnight UTC the local date differs; the offset must not jump by a day.
    assert_eq!(
        tz::offset_minutes("Pacific/Auckland", t("2026-01-15T23:30:00Z")),
        780
    );
}

#[wasm_bindgen_test]
fn unknown_zones_fall_back_without_throwing() {
    assert_eq!(tz::offset_minutes("Mars/Olympus_Mons", 0), 0);
    assert_eq!(tz::offset_minutes("", 0), 0);
    assert_eq!(tz::offset_minutes("<script>", 0), 0);
}

#[wasm_bindgen_test]
fn describes_across_a_daylight_saving_change() {
    // Saturday 28 March 2026, noon in London (GMT); the clocks go forward that night.
    let now = t("2026-03-28T12:00:00Z");
    let event = t("2026-03-29T18:30:00Z"); // 19:30 BST on Sunday
    let label = when::describe(event, None, now, |x| tz::offset_minutes("Europe/London", x));
    assert_eq!(label, "Tomorrow 7:30 pm");
}

/// Offsets are remembered by quarter hour: answers from the memo must change exactly where the
/// zone's offset does (London went to summer time at 01:00 UTC on 29 March 2026), and a
/// zone the browser does not know stays unknown when asked again.
#[wasm_bindgen_test]
fn remembered_offsets_change_exactly_at_a_transition() {
    for round in 0..2 {
        // The second round is answered from the memo.
        let at = |s: &str| tz::offset_minutes("Europe/London", t(s));
        assert_eq!(at("2026-03-29T00:45:00Z"), 0, "round {round}");
        assert_eq!(at("2026-03-29T00:59:59Z"), 0, "round {round}");
        assert_eq!(at("2026-03-29T01:00:00Z"), 60, "round {round}");
        assert_eq!(at("2026-03-29T01:14:59Z"), 60, "round {round}");
        assert_eq!(tz::offset_minutes("Mars/Olympus_Mons", 900 * round), 0);
    }
}
