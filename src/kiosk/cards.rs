//! One event card: what, when (in the hotel's zone), where, how far, how much, and a QR code
//! to take the booking link away on a phone.

use concierge_wire::Category;
use concierge_wire::model::EventRow;
use leptos::prelude::*;

use super::icons::Icon;
use super::{qr, tz, when};

#[component]
pub fn EventCard(
    event: EventRow,
    zone: Signal<String>,
    now: Signal<i64>,
    /// Drawn before (the event changed): no entrance animation.
    #[prop(optional)]
    again: bool,
) -> impl IntoView {
    let category_label = Category::label_of(&event.category);
    let title_id = format!("event-{}", event.id);
    let starts = when::parse_timestamp(&event.starts_at);
    let ends = event.ends_at.as_deref().and_then(when::parse_timestamp);
    let when_text = move || match starts {
        Some(s) => {
            let zone = zone.get();
            when::describe(s, ends, now.get(), |t| tz::offset_minutes(&zone, t))
        }
        None => "Time to be announced".to_owned(),
    };
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
    // The code is drawn a task after the card, into a box of fixed size: the card's text does
    // not wait for the QR encoder (the costliest part of a card), and nothing shifts.
    let take_away = event.booking_url.clone().filter(|u| qr::encodable(u));
    let qr_svg = RwSignal::new(String::new());
    if let Some(url) = take_away.clone() {
        set_timeout(
            move || {
                if let Some(svg) = qr::svg_for_url(&url) {
                    // The card may be gone by now (a newer result replaced it).
                    let _ = qr_svg.try_set(svg);
                }
            },
            std::time::Duration::ZERO,
        );
    }
    let image_failed = RwSignal::new(false);
    let image = event
        .image_url
        .clone()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://") || u.starts_with('/'));

    view! {
        <li
            class="event-card"
            class:event-card--service=event.is_hotel_service
            class:event-card--again=again
            data-testid="event-card"
            data-event-id=event.id.clone()
            data-category=event.category.clone()
        >
            <article aria-labelledby=title_id.clone()>
                <div class=format!("event-card__media event-card__media--{}", event.category)>
                    <Icon category=event.category.clone() class="event-card__icon"/>
                    {image
                        .map(|src| {
                            view! {
                                <img
                                    class="event-card__image"
                                    src=src
                                    alt=""
                                    loading="lazy"
                                    hidden=move || image_failed.get()
                                    on:error=move |_| image_failed.set(true)
                                />
                            }
                        })}
                    {event
                        .is_hotel_service
                        .then(|| {
                            view! {
                                <span class="event-card__service" data-testid="hotel-service">
                                    <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
                                        <path
                                            fill="currentColor"
                                            d="M12 2.5l2.9 6 6.6.9-4.8 4.6 1.2 6.5L12 17.4l-5.9 3.1 1.2-6.5-4.8-4.6 6.6-.9z"
                                        ></path>
                                    </svg>
                                    "Hotel service"
                                </span>
                            }
                        })}
                </div>
                <div class="event-card__body">
                    <p class="event-card__category">{category_label}</p>
                    <h3 class="event-card__title" id=title_id.clone()>{event.title.clone()}</h3>
                    <p class="event-card__when">
                        <time datetime=event.starts_at.clone() data-testid="event-when">
                            {when_text}
                        </time>
                    </p>
                    {(!place.is_empty()).then(|| view! { <p class="event-card__where">{place}</p> })}
                    {event
                        .price_text
                        .clone()
                        .filter(|p| !p.trim().is_empty())
                        .map(|p| view! { <p class="event-card__price">{p}</p> })}
                    {super::reserve::card_booking(&event, &title_id, now)}
                </div>
                {take_away
                    .map(|_| {
                        view! {
                            <div class="event-card__take">
                                <div
                                    class="event-card__qr"
                                    inner_html=move || qr_svg.get()
                                    data-testid="event-qr"
                                ></div>
                                <p class="event-card__take-text">
                                    <strong>"Take it with you"</strong>
                                    <span>"Scan to book on your phone"</span>
                                </p>
                            </div>
                        }
                    })}
            </article>
        </li>
    }
}
