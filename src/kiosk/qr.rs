//! "Take it with you": a QR code for an event's booking link, drawn in the app as inline SVG.
//!
//! `qrcodegen` (Project Nayuki's reference encoder, no dependencies) computes the modules; we
//! draw all dark modules as one SVG path (one DOM node per code, not hundreds of `<rect>`s) with
//! the standard four-module quiet zone, so phone cameras read it off a lobby screen.

use std::cell::RefCell;
use std::collections::VecDeque;

use qrcodegen::{QrCode, QrCodeEcc};

/// The quiet zone the QR specification asks for, in modules.
const QUIET_ZONE: i32 = 4;

/// Longest URL we encode; longer ones make a code too dense to scan from a screen.
pub const MAX_URL_LEN: usize = 512;

/// Codes kept for reuse: the same catalogue events come back in search after search (and on
/// every kiosk), and encoding tries all eight masks, so a lobby's few dozen links are drawn once.
const CACHED_CODES: usize = 48;

thread_local! {
    static CACHE: RefCell<VecDeque<(String, String)>> = const { RefCell::new(VecDeque::new()) };
}

/// Whether `url` gets a code: not empty, not too long, and an http(s) link (we never turn
/// arbitrary catalogue text into a code a guest's phone would open).
pub fn encodable(url: &str) -> bool {
    let url = url.trim();
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    !url.is_empty()
        && url.len() <= MAX_URL_LEN
        && (lower.starts_with("https://") || lower.starts_with("http://"))
}

/// An SVG document (as a string) for `url`, or `None` when it is not [`encodable`].
pub fn svg_for_url(url: &str) -> Option<String> {
    if !encodable(url) {
        return None;
    }
    let url = url.trim();
    let hit = CACHE.with_borrow(|c| c.iter().find(|(u, _)| u == url).map(|(_, svg)| svg.clone()));
    if hit.is_some() {
        return hit;
    }
    let svg = svg_for_text(url)?;
    CACHE.with_borrow_mut(|c| {
        if c.len() == CACHED_CODES {
            c.pop_front();
        }
        c.push_back((url.to_owned(), svg.clone()));
    });
    Some(svg)
}

/// An SVG document for text the app wrote itself (a booking's details): no link check and no
/// cache (a guest's booking is not kept for the next guest), only the length bound that keeps
/// the code scannable.
pub fn svg_for_text(text: &str) -> Option<String> {
    if text.is_empty() || text.len() > MAX_URL_LEN {
        return None;
    }
    // Medium error correction: survives glare and a smudged screen, stays scannable at small sizes.
    Some(to_svg(&QrCode::encode_text(text, QrCodeEcc::Medium).ok()?))
}

fn to_svg(code: &QrCode) -> String {
    let size = code.size();
    let full = size + QUIET_ZONE * 2;
    let mut path = String::with_capacity((size * size) as usize * 4);
    for y in 0..size {
        // One sub-path per horizontal run of dark modules keeps the path short.
        let mut x = 0;
        while x < size {
            if !code.get_module(x, y) {
                x += 1;
                continue;
            }
            let start = x;
            while x < size && code.get_module(x, y) {
                x += 1;
            }
            let run = x - start;
            path.push_str(&format!(
                "M{},{}h{run}v1h-{run}z",
                start + QUIET_ZONE,
                y + QUIET_ZONE
            ));
        }
    }
    format!(
        concat!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {full} {full}" "#,
            r#"shape-rendering="crispEdges" aria-hidden="true">"#,
            r##"<rect width="100%" height="100%" fill="#fff"/>"##,
            r##"<path d="{path}" fill="#000"/></svg>"##
        ),
        full = full,
        path = path
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_booking_link() {
        let svg = svg_for_url("https://example.com/book/123").expect("a code");
        assert!(svg.starts_with("<svg"));
        assert!(svg.ends_with("</svg>"));
        // 28 bytes at medium error correction need version 3: 29 modules + 2×4 quiet zone.
        assert!(svg.contains(r#"viewBox="0 0 37 37""#), "{svg}");
        // The top-left finder pattern's first row is a run of seven dark modules.
        assert!(svg.contains(r#"d="M4,4h7v1h-7z"#), "{svg}");
    }

    #[test]
    fn refuses_what_should_not_become_a_code() {
        assert_eq!(svg_for_url(""), None);
        assert_eq!(svg_for_url("   "), None);
        assert_eq!(svg_for_url("javascript:alert(1)"), None);
        assert_eq!(svg_for_url("not a url"), None);
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert_eq!(svg_for_url(&long), None);
    }

    #[test]
    fn a_cached_code_is_the_same_code_and_the_cache_stays_bounded() {
        let first = svg_for_url("https://example.com/first").expect("a code");
        for i in 0..CACHED_CODES * 2 {
            assert!(svg_for_url(&format!("https://example.com/{i}")).is_some());
        }
        assert_eq!(CACHE.with_borrow(|c| c.len()), CACHED_CODES);
        // Evicted and drawn again, then served from the cache: the same code both times.
        assert_eq!(
            svg_for_url("https://example.com/first").as_ref(),
            Some(&first)
        );
        assert_eq!(
            svg_for_url(" https://example.com/first ").as_ref(),
            Some(&first)
        );
    }

    #[test]
    fn booking_details_become_a_code_too() {
        assert!(svg_for_text("Booking 5F3A-91C2\nWine tasting").is_some());
        assert_eq!(svg_for_text(""), None);
        assert_eq!(svg_for_text(&"a".repeat(MAX_URL_LEN + 1)), None);
    }

    #[test]
    fn escapes_nothing_because_only_coordinates_reach_the_markup() {
        let svg = svg_for_url("https://example.com/?q=<script>&x=\"").expect("a code");
        assert!(!svg.contains("<script>"));
    }
}
