//! (a) Decoding a `postgres_changes` frame: our decode path against a plain `serde_json::Value`
//! parse of the same bytes, and against a one-pass typed decode that the app does not use.

use std::fmt::Write as _;
use std::hint::black_box;

use concierge_wire::phoenix::{Message, Vsn};
use concierge_wire::realtime::ChangesPayload;
use serde::Deserialize;
use serde_json::Value;

use super::BASE_MS;
use super::fixtures::{event_update_frame, kiosk_insert_frame};
use super::harness::{Case, Noise, Settings, fmt_ns, group_thousands, median_of, ratio, run_group};

const INTRO: &str = "### (a) Decoding a `postgres_changes` frame\n\n\
     Baseline: `serde_json::from_str::<serde_json::Value>` on the same bytes (a JSON tree and \
     nothing else). Ours: `Message::decode` (the Phoenix frame, payload left as a `Value`), \
     then `serde_json::from_value::<ChangesPayload>` as `Channel` does (the typed payload the \
     store merges). Reference (not in the app): one-pass `serde_json::from_str` straight into \
     the typed frame. Ratios are to the baseline.\n\n\
     | frame | vsn | bytes | baseline `Value` ns | `Message::decode` ns (ratio) | + typed payload ns (ratio) | one-pass typed ns (ratio) | MB/s (decode + typed) |\n\
     |---|---|---:|---:|---:|---:|---:|---:|";

/// Measures both frames in both protocol versions; returns the section's Markdown.
pub fn section(s: Settings, noise: &mut Noise) -> Result<String, String> {
    let mut md = String::new();
    let _ = writeln!(md, "{INTRO}");
    let topic_kiosk = "realtime:concierge-kiosk_results-1";
    let topic_events = "realtime:concierge-events-2";
    for (label, mk) in [
        (
            "kiosk_results INSERT (6 event cards)",
            &(|v| kiosk_insert_frame(v, topic_kiosk)) as &dyn Fn(Vsn) -> String,
        ),
        (
            "events UPDATE",
            &(|v| event_update_frame(v, topic_events, 7, 3, BASE_MS + 1000)),
        ),
    ] {
        for vsn in [Vsn::V1, Vsn::V2] {
            let row = frame_row(s, noise, label, vsn, &mk(vsn))?;
            let _ = writeln!(md, "{row}");
        }
    }
    Ok(md)
}

/// One frame in one version: checks that every decoder accepts it, measures them, and returns
/// the table row.
fn frame_row(
    s: Settings,
    noise: &mut Noise,
    label: &str,
    vsn: Vsn,
    text: &str,
) -> Result<String, String> {
    // Sanity: our decode accepts it and yields a change.
    let m = Message::decode(text, vsn).map_err(|e| format!("{label}: {e}"))?;
    serde_json::from_value::<ChangesPayload>(m.payload)
        .map_err(|e| format!("{label}: typed payload: {e}"))?;
    typed_one_pass(text, vsn).ok_or_else(|| format!("{label}: one-pass decode"))?;
    let t = text;
    let ms = run_group(
        &format!("(a) {label}, vsn {}, {} bytes", vsn.as_str(), text.len()),
        s,
        vec![
            Case::simple("baseline: serde_json::from_str::<Value>", 1, || {
                black_box(serde_json::from_str::<Value>(black_box(t)).ok());
            }),
            Case::simple("ours: Message::decode", 1, || {
                black_box(Message::decode(black_box(t), vsn).ok());
            }),
            Case::simple(
                "ours: Message::decode + from_value::<ChangesPayload>",
                1,
                || {
                    black_box(decode_change(black_box(t), vsn));
                },
            ),
            Case::simple("reference: one-pass typed from_str", 1, || {
                black_box(typed_one_pass(black_box(t), vsn));
            }),
        ],
    );
    noise.note(&ms);
    let base = median_of(&ms, 0);
    let (dec, typed, one) = (median_of(&ms, 1), median_of(&ms, 2), median_of(&ms, 3));
    Ok(format!(
        "| {label} | {} | {} | {} | {} ({}) | {} ({}) | {} ({}) | {:.0} |",
        vsn.as_str(),
        group_thousands(text.len() as u64),
        fmt_ns(base),
        fmt_ns(dec),
        ratio(dec, base),
        fmt_ns(typed),
        ratio(typed, base),
        fmt_ns(one),
        ratio(one, base),
        text.len() as f64 / typed * 1e3
    ))
}

/// Our decode path for a change: the frame, then the typed payload (as `Channel` does).
pub fn decode_change(text: &str, vsn: Vsn) -> Option<ChangesPayload> {
    let m = Message::decode(text, vsn).ok()?;
    serde_json::from_value(m.payload).ok()
}

/// The vsn 1.0.0 frame, every field decoded (only the payload is read afterwards).
#[derive(Deserialize)]
struct V1Typed {
    #[serde(rename = "topic")]
    _topic: String,
    #[serde(rename = "event")]
    _event: String,
    payload: ChangesPayload,
    #[serde(rename = "ref")]
    _msg_ref: Option<String>,
}

type V2Typed = (
    Option<String>,
    Option<String>,
    String,
    String,
    ChangesPayload,
);

/// One-pass serde into the typed frame: what a decoder without the intermediate `Value` costs.
fn typed_one_pass(text: &str, vsn: Vsn) -> Option<ChangesPayload> {
    match vsn {
        Vsn::V1 => serde_json::from_str::<V1Typed>(text)
            .ok()
            .map(|f| f.payload),
        Vsn::V2 => serde_json::from_str::<V2Typed>(text).ok().map(|f| f.4),
    }
}
