//! One event card: what, when (in the hotel's zone), where, how far, how much, and a QR code
//! to take the booking link away on a phone.

use concierge_wire::model::EventRow;
use leptos::prelude::*;

use super::chips::category_badge;
use super::{qr, tz, when};

#[component]
pub fn EventCard(event: EventRow, zone: Signal<String>, now: Signal<i64>) -> impl IntoView {
    let (emoji, category_name) = category_badge(&event.category);
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
        event.distance_km.map(when::distance).filter(|d| !d.is_empty()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let qr_svg = event.booking_url.as_deref().and_then(qr::svg_for_url);
    let image_failed = RwSignal::new(false);
    let image = event
        .image_url
        .clone()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://") || u.starts_with('/'));

    view! {
        <li
            class="card"
            class:card--service=event.is_hotel_service
            data-testid="event-card"
            data-event-id=event.id.clone()
            data-category=event.category.clone()
        >
            <article aria-labelledby=title_id.clone()>
                <div class=format!("card__media card__media--{}", event.category)>
                    <span class="card__emoji" aria-hidden="true">{emoji}</span>
                    {image
                        .map(|src| {
                            view! {
                                <img
                                    class="card__image"
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
                                <span class="card__service" data-testid="hotel-service">
                                    <span aria-hidden="true">"★ "</span>
                                    "Hotel service"
                                </span>
                            }
                        })}
                </div>
                <div class="card__body">
                    <p class="card__category">{category_name}</p>
                    <h3 class="card__title" id=title_id.clone()>{event.title.clone()}</h3>
                    <p class="card__when">
                        <time datetime=event.starts_at.clone() data-testid="event-when">
                            {when_text}
                        </time>
                    </p>
                    {(!place.is_empty()).then(|| view! { <p class="card__where">{place}</p> })}
                    {event
                        .price_text
                        .clone()
                        .filter(|p| !p.trim().is_empty())
                        .map(|p| view! { <p class="card__price">{p}</p> })}
                </div>
                {qr_svg
                    .map(|svg| {
                        view! {
                            <div class="card__take">
                                <div class="card__qr" inner_html=svg data-testid="event-qr"></div>
                                <p class="card__take-text">
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
