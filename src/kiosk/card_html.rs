//! An event card's markup as one HTML string (native-testable).
//!
//! Why a string: a result puts several cards on the screen at once, and building each card's
//! two dozen elements one DOM call at a time from wasm was most of the time between a result's
//! frame arriving and its text being on the screen (`bench/browser/split.mjs`: 4.3 ms against
//! the React peer's 1.9 ms). The browser's own parser builds the same tree from one
//! `innerHTML`; `cards.rs` then wires the few live parts (the time, "Reserve", the QR code, a
//! failed image) onto the parsed elements.

use concierge_wire::model::EventRow;

use super::booking::Places;
use super::icons;

/// What the card shows besides the event's own fields (computed by the caller).
pub struct CardParts<'a> {
    pub category_label: &'a str,
    /// Venue and distance, already joined; empty: no line.
    pub place: &'a str,
    /// `Some` for an event booked through Concierge.
    pub places: Option<Places>,
    /// A QR box (filled later) for a booking link that fits in a code.
    pub take_away: bool,
    /// An image URL already checked to be http(s) or same-origin.
    pub image: Option<&'a str>,
}

/// The id of the card's title element (the article and "Reserve" point at it).
pub fn title_id(event: &EventRow) -> String {
    format!("event-{}", event.id)
}

/// Appends `s` with the five HTML-special characters escaped (safe in text and in quoted
/// attribute values).
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// The inside of the card's `<li>`: its `<article>` with media, body, take-away. The `<time>` is left empty
/// and "Reserve" hidden: their live values are set as the card is built.
pub fn card_html(event: &EventRow, parts: &CardParts<'_>) -> String {
    let mut h = String::with_capacity(1536);
    h.push_str(r#"<article aria-labelledby=""#);
    escape_into(&mut h, &title_id(event));
    h.push_str(r#""><div class="event-card__media event-card__media--"#);
    escape_into(&mut h, &event.category);
    h.push_str(r#"">"#);
    h.push_str(&icons::icon_html(&event.category, "event-card__icon"));
    if let Some(src) = parts.image {
        h.push_str(r#"<img class="event-card__image" src=""#);
        escape_into(&mut h, src);
        h.push_str(r#"" alt="" loading="lazy">"#);
    }
    if event.is_hotel_service {
        h.push_str(concat!(
            r#"<span class="event-card__service" data-testid="hotel-service">"#,
            r#"<svg class="icon" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" "#,
            r#"d="M12 2.5l2.9 6 6.6.9-4.8 4.6 1.2 6.5L12 17.4l-5.9 3.1 1.2-6.5-4.8-4.6 6.6-.9z">"#,
            r#"</path></svg>Hotel service</span>"#
        ));
    }
    h.push_str(r#"</div><div class="event-card__body"><p class="event-card__category">"#);
    escape_into(&mut h, parts.category_label);
    h.push_str(r#"</p><h3 class="event-card__title" id=""#);
    escape_into(&mut h, &title_id(event));
    h.push_str(r#"">"#);
    escape_into(&mut h, &event.title);
    h.push_str(r#"</h3><p class="event-card__when"><time datetime=""#);
    escape_into(&mut h, &event.starts_at);
    h.push_str(r#"" data-testid="event-when"></time></p>"#);
    if !parts.place.is_empty() {
        h.push_str(r#"<p class="event-card__where">"#);
        escape_into(&mut h, parts.place);
        h.push_str("</p>");
    }
    if let Some(price) = event.price_text.as_deref().filter(|p| !p.trim().is_empty()) {
        h.push_str(r#"<p class="event-card__price">"#);
        escape_into(&mut h, price);
        h.push_str("</p>");
    }
    if let Some(places) = &parts.places {
        h.push_str(r#"<div class="event-card__book" data-places=""#);
        h.push_str(places.state.as_str());
        h.push_str(concat!(
            r#""><p class="event-card__places" data-testid="places-left">"#,
            r#"<span class="event-card__places-dot" aria-hidden="true"></span>"#
        ));
        escape_into(&mut h, &places.text);
        h.push_str(concat!(
            r#"</p><button class="button event-card__reserve" type="button" "#,
            r#"data-testid="reserve-button" data-reserve-for=""#
        ));
        escape_into(&mut h, &event.id);
        h.push_str(r#"" aria-describedby=""#);
        escape_into(&mut h, &title_id(event));
        h.push_str(r#"" hidden>Reserve</button></div>"#);
    }
    h.push_str("</div>");
    if parts.take_away {
        h.push_str(concat!(
            r#"<div class="event-card__take"><div class="event-card__qr" data-testid="event-qr"></div>"#,
            r#"<p class="event-card__take-text"><strong>Take it with you</strong>"#,
            r#"<span>Scan to book on your phone</span></p></div>"#
        ));
    }
    h.push_str("</article>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiosk::booking::PlacesState;

    fn event() -> EventRow {
        EventRow {
            id: "e1".into(),
            hotel_id: "h".into(),
            title: r#"Jazz <b>& "friends"</b>"#.into(),
            category: "music".into(),
            description: None,
            venue: None,
            starts_at: "2026-11-22T20:00:00Z".into(),
            ends_at: None,
            price_text: Some("€12".into()),
            distance_km: None,
            is_hotel_service: false,
            image_url: None,
            booking_url: None,
            updated_at: None,
            capacity: None,
            places_left: None,
        }
    }

    fn parts<'a>() -> CardParts<'a> {
        CardParts {
            category_label: "Music",
            place: "",
            places: None,
            take_away: false,
            image: None,
        }
    }

    #[test]
    fn escapes_text_and_attributes() {
        let mut out = String::new();
        escape_into(&mut out, r#"a<b>&"c"'d"#);
        assert_eq!(out, "a&lt;b&gt;&amp;&quot;c&quot;&#39;d");
        let html = card_html(&event(), &parts());
        assert!(
            html.contains(
                r#"id="event-e1">Jazz &lt;b&gt;&amp; &quot;friends&quot;&lt;/b&gt;</h3>"#
            )
        );
        assert!(!html.contains("<b>"));
    }

    #[test]
    fn optional_lines_appear_only_when_there_is_something_to_say() {
        let plain = card_html(&event(), &parts());
        assert!(plain.contains(r#"<p class="event-card__price">€12</p>"#));
        for absent in [
            "event-card__where",
            "hotel-service",
            "event-qr",
            "event-card__book",
            "<img",
        ] {
            assert!(!plain.contains(absent), "{absent}");
        }
        let mut e = event();
        e.is_hotel_service = true;
        e.price_text = Some("  ".into());
        let full = card_html(
            &e,
            &CardParts {
                place: "Lobby · 50 m",
                places: Some(Places {
                    text: "3 places left".into(),
                    state: PlacesState::Few,
                }),
                take_away: true,
                image: Some("https://x.test/a.jpg?b=1&c=2"),
                ..parts()
            },
        );
        assert!(!full.contains("event-card__price"));
        for present in [
            r#"<p class="event-card__where">Lobby · 50 m</p>"#,
            r#"data-testid="hotel-service""#,
            r#"<div class="event-card__qr" data-testid="event-qr"></div>"#,
            r#"<div class="event-card__book" data-places="few">"#,
            r#"</span>3 places left</p>"#,
            r#"data-reserve-for="e1" aria-describedby="event-e1" hidden>Reserve</button>"#,
            r#"src="https://x.test/a.jpg?b=1&amp;c=2""#,
            r#"<time datetime="2026-11-22T20:00:00Z" data-testid="event-when"></time>"#,
            r#"<article aria-labelledby="event-e1"><div class="event-card__media event-card__media--music">"#,
        ] {
            assert!(full.contains(present), "{present}");
        }
    }
}
