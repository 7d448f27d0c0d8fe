//! One event card: what, when (in the hotel's zone), where, how far, how much, and a QR code
//! to take the booking link away on a phone.
//!
//! The card's elements come from one HTML string (`card_html`: see there for why); this module
//! wires its live parts onto them as the card is built: the "when" line (it follows the clock
//! and the hotel's zone), "Reserve" (offered while the event can be booked), the QR code (drawn
//! a task later) and an image that fails to load (hidden).

use concierge_wire::Category;
use concierge_wire::model::EventRow;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;

use super::card_html::{self, CardParts};
use super::reserve::Booking;
use super::{booking, qr, tz, when};

#[component]
pub fn EventCard(
    event: EventRow,
    zone: Signal<String>,
    now: Signal<i64>,
    /// Drawn before (the event changed): no entrance animation.
    #[prop(optional)]
    again: bool,
) -> impl IntoView {
    let place = [
        event.venue.clone().filter(|v| !v.trim().is_empty()),
        event
            .distance_km
            .map(when::distance)
            .filter(|d| !d.is_empty()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let take_away = event.booking_url.clone().filter(|u| qr::encodable(u));
    let image = event
        .image_url
        .as_deref()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://") || u.starts_with('/'));
    let html = card_html::card_html(
        &event,
        &CardParts {
            category_label: Category::label_of(&event.category),
            place: &place,
            places: booking::places(&event),
            take_away: take_away.is_some(),
            image,
        },
    );
    let booking = use_context::<Booking>();
    let has_image = image.is_some();
    let live = {
        let event = event.clone();
        move |card: web_sys::Element| {
            wire(
                &card,
                &event,
                zone,
                now,
                booking,
                take_away.clone(),
                has_image,
            );
        }
    };

    view! {
        <li
            class="event-card"
            class:event-card--service=event.is_hotel_service
            class:event-card--again=again
            data-testid="event-card"
            data-event-id=event.id.clone()
            data-category=event.category.clone()
            inner_html=html
            use:live
        ></li>
    }
}

/// One click handler for a whole list of cards (not one per card, on the path of every
/// arriving result): a click on a card's "Reserve" opens the dialog for the event that card
/// shows, as `cards` holds it.
pub fn on_reserve(
    cards: impl Fn(&str) -> Option<EventRow> + 'static,
) -> impl Fn(leptos::ev::MouseEvent) + 'static {
    let booking = use_context::<Booking>();
    move |ev| {
        let Some(b) = booking else { return };
        let id = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("[data-reserve-for]").ok().flatten())
            .and_then(|button| button.get_attribute("data-reserve-for"));
        if let Some(event) = id.and_then(|id| cards(&id)) {
            b.open_for(event);
        }
    }
}

/// Keeps `value` (an effect, a listener) alive as long as the card's owner.
fn keep<T: 'static>(value: T) {
    let value = SendWrapper::new(value);
    on_cleanup(move || drop(value));
}

/// The card's live parts, on the elements `card_html` made (runs as the card is built, so
/// the "when" line is filled before the card is first on the screen).
fn wire(
    card: &web_sys::Element,
    event: &EventRow,
    zone: Signal<String>,
    now: Signal<i64>,
    booking: Option<Booking>,
    take_away: Option<String>,
    has_image: bool,
) {
    let find = |selector: &str| card.query_selector(selector).ok().flatten();
    if let Some(time) = find("time") {
        let starts = when::parse_timestamp(&event.starts_at);
        let ends = event.ends_at.as_deref().and_then(when::parse_timestamp);
        keep(RenderEffect::new(move |_| {
            let text = match starts {
                Some(s) => {
                    let zone = zone.get();
                    when::describe(s, ends, now.get(), |t| tz::offset_minutes(&zone, t))
                }
                None => "Time to be announced".to_owned(),
            };
            time.set_text_content(Some(&text));
        }));
    }
    // Without a booking context (never on the kiosk) "Reserve" stays hidden, as the markup has it.
    // Only elements the markup has are looked up: each lookup is a round trip to the DOM.
    if booking.is_some()
        && event.capacity.is_some()
        && let Some(button) = find("[data-reserve-for]")
    {
        let event = event.clone();
        keep(RenderEffect::new(move |_| {
            let shown = booking::can_reserve(&event, now.get());
            let _ = if shown {
                button.remove_attribute("hidden")
            } else {
                button.set_attribute("hidden", "")
            };
        }));
    }
    // The code is drawn a task after the card, into a box of fixed size: the card's text does
    // not wait for the QR encoder (the costliest part of a card), and nothing shifts.
    if let Some(url) = take_away
        && let Some(code_box) = find(".event-card__qr")
    {
        set_timeout(
            move || {
                // The card may be gone by now (a newer result replaced it): drawing into a
                // detached box is harmless.
                if let Some(svg) = qr::svg_for_url(&url) {
                    code_box.set_inner_html(&svg);
                }
            },
            std::time::Duration::ZERO,
        );
    }
    if has_image
        && let Some(img) = find("img").and_then(|i| i.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let target = img.clone();
        let on_error = Closure::<dyn FnMut()>::new(move || {
            let _ = target.set_attribute("hidden", "");
        });
        img.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        keep(OnError {
            img,
            _handler: on_error,
        });
    }
}

/// An image's error handler, detached when the card goes (before the closure is freed).
struct OnError {
    img: web_sys::HtmlElement,
    _handler: Closure<dyn FnMut()>,
}

impl Drop for OnError {
    fn drop(&mut self) {
        self.img.set_onerror(None);
    }
}
