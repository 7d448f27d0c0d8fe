//! "Reserve" on a bookable card (issue 17): the places left on the card, and the dialog that
//! books (name, room, party size), then confirms on screen with a QR code of the booking.
//!
//! The dialog lives beside the results, not inside a card: a card is rebuilt whenever its event
//! changes (every booking anywhere changes `places_left`), and an open form must survive that.
//! It belongs to the guest's owner ([`Booking`] is made in `GuestSession`), so the idle reset
//! drops the form, what was typed and the confirmation with everything else of the guest's.

use concierge_wire::model::EventRow;
use leptos::prelude::*;

use super::booking::{self, Confirmed, ReserveArgs};
use super::identity::GuestIdentity;
use super::{Ambient, qr, tz, when};
use crate::http::Backend;

/// The guest's booking, if one is being made: which event's dialog is open.
#[derive(Clone, Copy)]
pub struct Booking {
    open: RwSignal<Option<EventRow>>,
    identity: GuestIdentity,
}

/// Made once per guest; cards find it in context.
pub fn provide_booking(identity: GuestIdentity) -> Booking {
    let b = Booking {
        open: RwSignal::new(None),
        identity,
    };
    provide_context(b);
    b
}

impl Booking {
    /// Opens the dialog for `event` (a card's "Reserve").
    pub fn open_for(&self, event: EventRow) {
        self.open.set(Some(event));
    }
}

/// The open booking dialog, if any; a new one (an empty form) each time it opens.
#[component]
pub fn ReserveDialog(booking: Booking, ambient: Ambient) -> impl IntoView {
    move || {
        booking
            .open
            .get()
            .map(|event| view! { <Dialog event booking ambient/> }.into_any())
    }
}

/// Puts focus back on the card's "Reserve" button (rebuilt meanwhile, perhaps gone: sold out).
fn close(booking: Booking, event_id: &str) {
    booking.open.set(None);
    let selector = format!("[data-reserve-for=\"{event_id}\"]");
    if let Some(el) = document()
        .query_selector(&selector)
        .ok()
        .flatten()
        .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok())
    {
        super::focus_when_attached(el, 2);
    }
}

fn focus(el: Option<web_sys::HtmlElement>) {
    if let Some(el) = el {
        super::focus_when_attached(el, 10);
    }
}

#[component]
fn Dialog(event: EventRow, booking: Booking, ambient: Ambient) -> impl IntoView {
    let backend = expect_context::<Backend>();
    let identity = booking.identity;
    let id = StoredValue::new(event.id.clone());
    // The event as it is now (places change while the guest types).
    let live = Memo::new(move |_| {
        ambient
            .catalogue
            .rows
            .with(|rows| id.with_value(|id| rows.iter().find(|e| &e.id == id).cloned()))
    });
    let snapshot = StoredValue::new(event.clone());
    let places_left = Memo::new(move |_| {
        live.with(|l| match l {
            Some(e) => e.places_left.unwrap_or(0),
            None => snapshot.with_value(|e| e.places_left.unwrap_or(0)),
        })
    });
    let places_label = Memo::new(move |_| {
        live.with(|l| match l {
            Some(e) => booking::places(e),
            None => snapshot.with_value(booking::places),
        })
    });
    let (min, max) = booking::party_bounds();
    let most = Memo::new(move |_| places_left.get().clamp(min, max));

    let when_text = {
        let starts = when::parse_timestamp(&event.starts_at);
        let ends = event.ends_at.as_deref().and_then(when::parse_timestamp);
        move || match starts {
            Some(s) => {
                let zone = ambient
                    .hotel
                    .with_untracked(|h| h.as_ref().map(|h| h.timezone.clone()))
                    .unwrap_or_else(|| "UTC".to_owned());
                when::describe(s, ends, ambient.now.get_untracked(), |t| {
                    tz::offset_minutes(&zone, t)
                })
            }
            None => "Time to be announced".to_owned(),
        }
    };
    let when_text = StoredValue::new(when_text());
    let title = StoredValue::new(event.title.clone());

    let name = RwSignal::new(String::new());
    let room = RwSignal::new(String::new());
    let party = RwSignal::new(2.min(most.get_untracked()));
    let error = RwSignal::new(None::<String>);
    let action = Action::new_local(move |args: &ReserveArgs| {
        let (backend, args) = (backend.clone(), args.clone());
        async move {
            // Ready guests have a user; the anon key would book all the same.
            let token = identity
                .access_token()
                .unwrap_or_else(|| backend.anon_key.clone());
            let party_size = args.party_size;
            booking::reserve(&backend, &token, &args)
                .await
                .map(|b| (b, args))
                .map_err(|e| booking::refusal_text(&e, party_size))
        }
    });
    let pending = action.pending();
    let value = action.value();
    let confirmed = Memo::new(move |_| value.with(|v| matches!(v, Some(Ok(_)))));
    // A refusal shows until the guest changes something.
    Effect::new(move |_| {
        if let Some(Err(why)) = value.get() {
            error.set(Some(why));
        }
    });
    let shown_error = move || error.get().filter(|_| !pending.get());
    let full = Memo::new(move |_| places_left.get() <= 0);
    // Fewer places than the party now: the stepper follows.
    Effect::new(move |_| {
        let m = most.get();
        if party.get_untracked() > m {
            party.set(m);
        }
    });

    let name_input = NodeRef::<leptos::html::Input>::new();
    let submit_button = NodeRef::<leptos::html::Button>::new();
    let done_button = NodeRef::<leptos::html::Button>::new();
    let close_button = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if confirmed.get() {
            focus(done_button.get().map(|b| b.into()));
        } else {
            focus(name_input.get().map(|i| i.into()));
        }
    });
    let dismiss = move || {
        if !pending.get_untracked() {
            id.with_value(|id| close(booking, id));
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let checked = id.with_value(|id| {
            booking::check_form(
                id,
                &name.get_untracked(),
                &room.get_untracked(),
                party.get_untracked(),
            )
        });
        match checked {
            Ok(args) => {
                error.set(None);
                action.dispatch(args);
            }
            Err(e) => error.set(Some(e.to_string())),
        }
    };

    let form = move || {
        view! {
            <h2 id="reserve-title" class="reserve__title">"Reserve a place"</h2>
            <p id="reserve-event" class="reserve__event">
                <strong>{title.get_value()}</strong>
                <span>{when_text.get_value()}</span>
            </p>
            <p
                class="reserve__places"
                data-testid="dialog-places"
                data-places=move || places_label.with(|p| p.as_ref().map(|p| p.state.as_str()))
            >
                {move || places_label.with(|p| p.as_ref().map(|p| p.text.clone()))}
            </p>
            <form class="reserve__form" on:submit=submit novalidate>
                <label class="reserve__label" for="reserve-name">"Name for the booking"</label>
                <input
                    id="reserve-name"
                    class="reserve__input"
                    type="text"
                    node_ref=name_input
                    autocomplete="off"
                    autocapitalize="words"
                    spellcheck="false"
                    enterkeyhint="next"
                    maxlength="120"
                    prop:value=move || name.get()
                    on:input=move |ev| {
                        name.set(event_target_value(&ev));
                        error.set(None);
                    }
                    data-testid="reserve-name"
                />
                <label class="reserve__label" for="reserve-room">"Room number"</label>
                <input
                    id="reserve-room"
                    class="reserve__input reserve__input--room"
                    type="text"
                    autocomplete="off"
                    autocapitalize="characters"
                    spellcheck="false"
                    enterkeyhint="done"
                    maxlength="20"
                    prop:value=move || room.get()
                    on:input=move |ev| {
                        room.set(event_target_value(&ev));
                        error.set(None);
                    }
                    data-testid="reserve-room"
                />
                <fieldset class="reserve__party">
                    <legend class="reserve__label">"Guests"</legend>
                    <div class="stepper">
                        <button
                            class="stepper__button"
                            type="button"
                            aria-label="One guest fewer"
                            disabled={move || party.get() <= min}
                            on:click=move |_| party.update(|p| *p = (*p - 1).max(min))
                            data-testid="party-minus"
                        >
                            "−"
                        </button>
                        <output class="stepper__value" aria-live="polite" data-testid="party-size">
                            {move || party.get()}
                        </output>
                        <button
                            class="stepper__button"
                            type="button"
                            aria-label="One guest more"
                            disabled={move || party.get() >= most.get()}
                            on:click=move |_| party.update(|p| *p = (*p + 1).min(most.get_untracked()))
                            data-testid="party-plus"
                        >
                            "+"
                        </button>
                    </div>
                </fieldset>
                <p class="reserve__error" role="alert" data-testid="reserve-error">
                    {shown_error}
                </p>
                <div class="reserve__actions">
                    <button class="button button--ghost" type="button" on:click=move |_| dismiss()>
                        "Cancel"
                    </button>
                    <button
                        class="button reserve__submit"
                        type="submit"
                        node_ref=submit_button
                        disabled=move || pending.get() || full.get()
                        data-testid="reserve-submit"
                    >
                        {move || {
                            if pending.get() {
                                "Booking…".to_owned()
                            } else {
                                match party.get() {
                                    1 => "Reserve 1 place".to_owned(),
                                    n => format!("Reserve {n} places"),
                                }
                            }
                        }}
                    </button>
                </div>
            </form>
        }
        .into_any()
    };

    let confirmation = move || {
        let Some(Ok((booked, args))) = value.get_untracked() else {
            return ().into_any();
        };
        view! {
            <Confirmation
                booked
                args
                title=title.get_value()
                when_text=when_text.get_value()
                done_button
                on_done=Callback::new(move |()| dismiss())
            />
        }
        .into_any()
    };

    view! {
        <div
            class="reserve"
            data-testid="reserve-dialog"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    dismiss();
                }
            }
        >
            // Focus stays in the dialog: Tab past either end wraps to the other.
            <div
                class="reserve__edge"
                tabindex="0"
                on:focus=move |_| {
                    let last = done_button.get().or_else(|| submit_button.get());
                    focus(last.map(|b| b.into()));
                }
            ></div>
            <div
                class="reserve__panel"
                role="dialog"
                aria-modal="true"
                aria-labelledby="reserve-title"
                aria-describedby="reserve-event"
            >
                <button
                    class="reserve__close"
                    type="button"
                    aria-label="Close"
                    node_ref=close_button
                    on:click=move |_| dismiss()
                >
                    "×"
                </button>
                {move || if confirmed.get() { confirmation() } else { form() }}
            </div>
            <div
                class="reserve__edge"
                tabindex="0"
                on:focus=move |_| focus(close_button.get().map(|b| b.into()))
            ></div>
        </div>
    }
}

#[component]
fn Confirmation(
    booked: Confirmed,
    args: ReserveArgs,
    title: String,
    when_text: String,
    done_button: NodeRef<leptos::html::Button>,
    on_done: Callback<()>,
) -> impl IntoView {
    let svg = qr::svg_for_text(&booking::qr_text(
        &title,
        &when_text,
        booked.party_size,
        &booked.id,
    ))
    .unwrap_or_default();
    let guests = match booked.party_size {
        1 => "1 guest".to_owned(),
        n => format!("{n} guests"),
    };
    view! {
        <div class="reserve__done" data-testid="reserve-confirmation" data-reservation-id=booked.id.clone()>
            <div class="reserve__tick" aria-hidden="true">"✓"</div>
            <h2 id="reserve-title" class="reserve__title">"You’re booked"</h2>
            <p id="reserve-event" class="reserve__event">
                <strong>{title}</strong>
                <span>{when_text}</span>
            </p>
            <div class="reserve__ticket">
                <dl class="reserve__facts">
                    <div><dt>"Name"</dt><dd>{args.guest_name}</dd></div>
                    <div><dt>"Room"</dt><dd>{args.room}</dd></div>
                    <div><dt>"Party"</dt><dd>{guests}</dd></div>
                    <div>
                        <dt>"Reference"</dt>
                        <dd class="reserve__ref" data-testid="booking-reference">
                            {booking::reference(&booked.id)}
                        </dd>
                    </div>
                </dl>
                <figure class="reserve__qr-box">
                    <div class="reserve__qr" inner_html=svg data-testid="booking-qr"></div>
                    <figcaption>"Scan to keep your booking on your phone"</figcaption>
                </figure>
            </div>
            <p class="reserve__note">"Show the reference at the venue. The concierge desk can change or cancel it."</p>
            <div class="reserve__actions">
                <button class="button" type="button" node_ref=done_button on:click=move |_| on_done.run(())>
                    "Done"
                </button>
            </div>
        </div>
    }
}
