//! "Today's reservations" in the staff console (issue 17): the bookings made today, per event,
//! live (a live query on `reservations`, which only staff may read, and one on the hotel's
//! events for their titles and places left), with a two-step cancel through
//! `rpc/cancel_reservation` that gives the places back.

use concierge_wire::filter::{Filter, FilterOp, FilterValue};
use concierge_wire::model::EventRow;
use concierge_wire::reservation::{ReservationRow, ReservationStatus};
use leptos::prelude::*;
use serde_json::json;

use crate::auth::Auth;
use crate::http::{Backend, HttpError};
use crate::kiosk::when::{UnixSeconds, parse_timestamp};
use crate::sync::{self, ChangeEvent, LiveQuerySpec};

/// Most reservations the console holds (newest first); a hotel's day is far fewer.
const LIMIT: u32 = 500;

/// One event's reservations, as the console lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct EventGroup {
    pub event_id: String,
    /// `None` while the event is unknown to the console (not this hotel's, or not loaded yet).
    pub event: Option<EventRow>,
    /// Confirmed first, then cancelled; each oldest first.
    pub rows: Vec<ReservationRow>,
}

impl EventGroup {
    pub fn title(&self) -> String {
        self.event
            .as_ref()
            .map(|e| e.title.clone())
            .unwrap_or_else(|| "An event".to_owned())
    }

    /// "4 of 12 places left", or nothing for an event without a capacity.
    pub fn places_text(&self) -> Option<String> {
        let e = self.event.as_ref()?;
        let cap = e.capacity?;
        let left = e.places_left.unwrap_or(0);
        let places = if cap == 1 { "place" } else { "places" };
        Some(if left <= 0 {
            format!("Fully booked · {cap} {places}")
        } else {
            format!("{left} of {cap} {places} left")
        })
    }

    /// Guests booked (confirmed parties).
    pub fn guests(&self) -> i32 {
        self.rows
            .iter()
            .filter(|r| r.status == ReservationStatus::Confirmed)
            .map(|r| r.party_size)
            .sum()
    }
}

/// The reservations made since `since` (Unix seconds), grouped by event; groups by the event's
/// start (unknown events last), then title.
pub fn group_today(
    rows: &[ReservationRow],
    events: &[EventRow],
    since: UnixSeconds,
) -> Vec<EventGroup> {
    let mut groups: Vec<EventGroup> = Vec::new();
    for r in rows
        .iter()
        .filter(|r| parse_timestamp(&r.created_at).is_some_and(|t| t >= since))
    {
        match groups.iter_mut().find(|g| g.event_id == r.event_id) {
            Some(g) => g.rows.push(r.clone()),
            None => groups.push(EventGroup {
                event_id: r.event_id.clone(),
                event: events.iter().find(|e| e.id == r.event_id).cloned(),
                rows: vec![r.clone()],
            }),
        }
    }
    for g in &mut groups {
        g.rows.sort_by(|a, b| {
            (a.status != ReservationStatus::Confirmed)
                .cmp(&(b.status != ReservationStatus::Confirmed))
                .then_with(|| a.created_at.cmp(&b.created_at))
                .then_with(|| a.id.cmp(&b.id))
        });
    }
    let start = |g: &EventGroup| {
        g.event
            .as_ref()
            .and_then(|e| parse_timestamp(&e.starts_at))
            .unwrap_or(i64::MAX)
    };
    groups.sort_by(|a, b| {
        start(a)
            .cmp(&start(b))
            .then_with(|| a.title().cmp(&b.title()))
    });
    groups
}

/// `POST /rest/v1/rpc/cancel_reservation` as a staff member: the places go back to the event.
/// Its answer is not read: the lists follow the change live.
pub async fn cancel(backend: &Backend, token: Option<String>, id: &str) -> Result<(), HttpError> {
    let token = token.ok_or(HttpError::SignedOut)?;
    backend
        .post("/rest/v1/rpc/cancel_reservation")
        .bearer(&token)
        .json(&json!({ "reservation_id": id }))?
        .text()
        .await
        .map(drop)
}

/// Local midnight of the browser's day containing `now_ms`, in Unix seconds.
fn local_midnight(now_ms: f64) -> UnixSeconds {
    let d = js_sys::Date::new(&now_ms.into());
    d.set_hours(0);
    d.set_minutes(0);
    d.set_seconds(0);
    d.set_milliseconds(0);
    (d.get_time() / 1000.0) as UnixSeconds
}

/// An event's start as staff read it, in their browser's local time: "Today · 19:00",
/// "Sat Dec 06 · 20:00".
fn start_text(e: &EventRow, now_ms: f64) -> String {
    let v = js_sys::Date::parse(&e.starts_at);
    if v.is_nan() {
        return String::new();
    }
    let day = |ms: f64| String::from(js_sys::Date::new(&ms.into()).to_date_string());
    let (d, today) = (js_sys::Date::new(&v.into()), day(now_ms));
    let date = day(v);
    let label = if date == today {
        "Today"
    } else {
        date.rsplit_once(' ').map_or(date.as_str(), |(d, _)| d)
    };
    format!("{label} · {:02}:{:02}", d.get_hours(), d.get_minutes())
}

#[component]
pub fn TodaysReservations(auth: Auth) -> impl IntoView {
    let backend = StoredValue::new(expect_context::<Backend>());
    let reservations = sync::use_live_query::<ReservationRow>(
        LiveQuerySpec::new("reservations")
            .order_by("created_at", true)
            .limit(LIMIT)
            // No `updated_at`: a cancellation is newer by its commit.
            .version_from_commit_timestamp(),
    );
    // Every hotel's bookable events (`capacity >= 0`: not NULL): staff are not one hotel's.
    let events = sync::use_live_query::<EventRow>(
        LiveQuerySpec::new("events")
            .filter(Filter::new(
                "capacity",
                FilterOp::Gte,
                FilterValue::One("0".into()),
            ))
            .version_column("updated_at")
            .events(ChangeEvent::All)
            .deletes_by_key(),
    );
    let loaded = reservations.loaded();
    let now = crate::clock::use_now(std::time::Duration::from_secs(60));
    let since = Memo::new(move |_| local_midnight(now.get()));
    let groups = Memo::new(move |_| {
        let since = since.get();
        reservations
            .rows
            .with(|r| events.rows.with(|e| group_today(r, e, since)))
    });
    let confirming = RwSignal::new(None::<String>);
    let busy = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);

    let act = Callback::new(move |id: String| {
        if busy.get_untracked().is_some() {
            return;
        }
        busy.set(Some(id.clone()));
        notice.set(None);
        leptos::task::spawn_local(async move {
            let token = auth.fresh_token().await;
            let r = cancel(&backend.get_value(), token, &id).await;
            busy.try_set(None);
            confirming.try_set(None);
            if let Err(e) = r {
                notice.try_set(Some(format!("That booking was not cancelled: {e}")));
            }
            // The lists follow over realtime; a poll meanwhile catches up if it is down.
            reservations.refresh();
        });
    });

    view! {
        <section class="resv" aria-labelledby="resv-title" data-testid="reservations">
            <h2 id="resv-title" class="column__title">
                "Today’s reservations"
                <span class="count" data-testid="reservation-count">
                    {move || groups.with(|g| g.iter().map(|g| g.rows.len()).sum::<usize>())}
                </span>
            </h2>
            <p class="notice notice--error" role="status">{move || notice.get()}</p>
            // Rebuilt whole on a change (a few dozen rows); the confirm step lives outside.
            {move || {
                groups
                    .get()
                    .into_iter()
                    .map(|g| view! { <Group g now=now.get_untracked() confirming busy act/> })
                    .collect_view()
            }}
            <Show when=move || loaded.get() && groups.with(Vec::is_empty)>
                <p class="empty">"No bookings yet today. They appear here the moment a guest books at a kiosk."</p>
            </Show>
        </section>
    }
}

#[component]
fn Group(
    g: EventGroup,
    now: f64,
    confirming: RwSignal<Option<String>>,
    busy: RwSignal<Option<String>>,
    act: Callback<String>,
) -> impl IntoView {
    let when = g
        .event
        .as_ref()
        .map(|e| start_text(e, now))
        .unwrap_or_default();
    let places = g.places_text();
    let guests = g.guests();
    let title = g.title();
    view! {
        <article class="resv-event" data-testid="resv-event" data-event-id=g.event_id.clone()>
            <header class="resv-event__head">
                <div>
                    <h3 class="resv-event__title">{title}</h3>
                    <p class="resv-event__when">{when}</p>
                </div>
                <p class="resv-event__stats">
                    <span data-testid="resv-guests">
                        {if guests == 1 { "1 guest".to_owned() } else { format!("{guests} guests") }}
                    </span>
                    {places.map(|p| view! { <span class="pill" data-testid="resv-places">{p}</span> })}
                </p>
            </header>
            <ul class="resv-list">
                {g
                    .rows
                    .into_iter()
                    .map(|r| view! { <Row r confirming busy act/> })
                    .collect_view()}
            </ul>
        </article>
    }
}

#[component]
fn Row(
    r: ReservationRow,
    confirming: RwSignal<Option<String>>,
    busy: RwSignal<Option<String>>,
    act: Callback<String>,
) -> impl IntoView {
    let id = StoredValue::new(r.id.clone());
    let is = move |s: RwSignal<Option<String>>| {
        s.with(|v| id.with_value(|id| v.as_deref() == Some(id.as_str())))
    };
    let confirmed = r.status == ReservationStatus::Confirmed;
    let party = if r.party_size == 1 {
        "1 guest".to_owned()
    } else {
        format!("{} guests", r.party_size)
    };
    view! {
        <li
            class="resv-row"
            class:resv-row--cancelled=!confirmed
            data-testid="reservation"
            data-reservation-id=r.id.clone()
            data-status=r.status.as_str()
        >
            <span class="resv-row__name">{r.guest_name.clone()}</span>
            <span class="resv-row__room">"Room " {r.room.clone()}</span>
            <span class="resv-row__party">{party}</span>
            <span class="resv-row__action">
                {if !confirmed {
                    view! { <span class="pill pill--cancelled">"Cancelled"</span> }.into_any()
                } else {
                    view! {
                        <Show
                            when=move || is(confirming)
                            fallback=move || view! {
                                <button class="button button--ghost button--small" type="button"
                                    data-testid="cancel-reservation"
                                    on:click=move |_| confirming.set(Some(id.get_value()))>
                                    "Cancel"
                                </button>
                            }
                        >
                            <span class="resv-row__confirm" role="group" aria-label="Confirm the cancellation">
                                "Cancel this booking?"
                                <button class="button button--small" type="button"
                                    data-testid="confirm-cancel"
                                    disabled=move || is(busy)
                                    on:click=move |_| act.run(id.get_value())>
                                    {move || if is(busy) { "Cancelling…" } else { "Yes, cancel" }}
                                </button>
                                <button class="button button--ghost button--small" type="button"
                                    on:click=move |_| confirming.set(None)>
                                    "Keep"
                                </button>
                            </span>
                        </Show>
                    }
                        .into_any()
                }}
            </span>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(
        id: &str,
        event: &str,
        party: i32,
        status: ReservationStatus,
        at: &str,
    ) -> ReservationRow {
        ReservationRow {
            id: id.into(),
            event_id: event.into(),
            guest_name: format!("Guest {id}"),
            room: "101".into(),
            party_size: party,
            status,
            created_at: at.into(),
        }
    }

    fn event(id: &str, title: &str, starts: &str, cap: Option<i32>, left: Option<i32>) -> EventRow {
        serde_json::from_value(serde_json::json!({
            "id": id, "hotel_id": "h", "title": title, "category": "dining",
            "starts_at": starts, "capacity": cap, "places_left": left,
        }))
        .unwrap()
    }

    #[test]
    fn todays_bookings_grouped_by_event_in_start_order() {
        use ReservationStatus::{Cancelled, Confirmed};
        let rows = [
            res("a", "late", 2, Confirmed, "2026-11-22T09:00:00.000Z"),
            res("b", "early", 3, Cancelled, "2026-11-22T08:00:00.000Z"),
            res("c", "early", 1, Confirmed, "2026-11-22T10:00:00.000Z"),
            res("old", "early", 4, Confirmed, "2026-11-21T10:00:00.000Z"),
            res("d", "gone", 2, Confirmed, "2026-11-22T11:00:00.000Z"),
        ];
        let events = [
            event(
                "early",
                "Wine tasting",
                "2026-11-22T13:00:00Z",
                Some(12),
                Some(7),
            ),
            event("late", "Dinner", "2026-11-22T19:00:00Z", Some(1), Some(0)),
        ];
        let since = parse_timestamp("2026-11-22T00:00:00Z").unwrap();
        let groups = group_today(&rows, &events, since);
        let got: Vec<(String, Vec<&str>)> = groups
            .iter()
            .map(|g| (g.title(), g.rows.iter().map(|r| r.id.as_str()).collect()))
            .collect();
        assert_eq!(
            got,
            [
                ("Wine tasting".to_owned(), vec!["c", "b"]),
                ("Dinner".to_owned(), vec!["a"]),
                ("An event".to_owned(), vec!["d"]),
            ]
        );
        assert_eq!(groups[0].guests(), 1, "cancelled parties do not count");
        assert_eq!(
            groups[0].places_text().as_deref(),
            Some("7 of 12 places left")
        );
        assert_eq!(
            groups[1].places_text().as_deref(),
            Some("Fully booked · 1 place")
        );
        assert_eq!(groups[2].places_text(), None);
    }
}
