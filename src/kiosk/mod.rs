//! The kiosk (`/kiosk`): a hotel lobby screen. A guest taps interests or types what they are
//! in the mood for; matching events and hotel services appear as cards, live.
//!
//! Structure (why it is split this way):
//! - [`KioskPage`] holds what outlives a guest: the hotel's public details, its live catalogue
//!   (one subscription for the page, which keeps every card current), the wall clock for time
//!   labels, the connection indicator, and the current guest's session id.
//! - [`Guest`] is one guest, keyed on a new session id: first the kiosk's own user for them
//!   ([`identity`]: an anonymous sign-in that claims the session id, so its results are readable
//!   by that user alone), then [`GuestSession`], everything about the guest: the live query on
//!   `kiosk_results` for the session id, what they typed, the search in flight, the idle clock.
//!   An idle reset (a new id) disposes the whole owner: the subscription closes (its
//!   `on_cleanup` runs), in-flight requests are cancelled, the user's tokens are forgotten,
//!   signals are dropped and the DOM is replaced. Nothing is written to storage, ever.
//! - Pure logic lives in small native-tested modules: [`when`] (time labels), [`idle`]
//!   (the reset state machine, and the `use_idle_reset` hook that runs it), [`results`]
//!   (newest result, live card merge and order), [`qr`], [`tz`], [`booking`] (places left, the
//!   booking form's checks and refusals). The chips are a view over the catalogue's `Category`
//!   ([`chips`]); "Reserve" and its dialog are `reserve`'s.

pub mod api;
pub mod booking;
pub mod chips;
pub mod feed;
pub mod identity;
pub mod idle;
pub mod qr;
pub mod results;
pub mod tz;
pub mod when;

mod attract;
mod card_html;
mod cards;
mod countdown;
mod explore;
mod icons;
mod reserve;

use std::time::Duration;

use concierge_wire::config::AppConfig;
use concierge_wire::model::KioskResultRow;
use leptos::prelude::*;
use uuid::Uuid;

use self::api::HotelInfo;
use self::identity::{GuestIdentity, use_guest_identity};
use self::idle::use_idle_reset;
use crate::http::Backend;
use crate::sync::ConnectionBadge;

/// Moves focus to `el` once it is in the document. Views can be built before they are
/// attached (a reactive branch builds its view first), and `focus()` on a detached node does
/// nothing; so wait a few animation frames for it to arrive.
fn focus_when_attached(el: web_sys::HtmlElement, frames_left: u8) {
    if el.is_connected() {
        let _ = el.focus();
    } else if frames_left > 0 {
        request_animation_frame(move || focus_when_attached(el, frames_left - 1));
    }
}

/// Which screen a guest sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// "Tap to start": no guest yet.
    Attract,
    /// Chips, the text field and the results region.
    Explore,
}

/// The guest's own search request, as far as this screen knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SearchState {
    Idle,
    Sending { interests: String },
    Failed { interests: String, message: String },
}

/// Public, guest-independent context the guest views read.
#[derive(Clone, Copy)]
struct Ambient {
    hotel: Signal<Option<HotelInfo>>,
    /// Wall clock (Unix seconds), ticking every 30 s so "Tonight 8:30 pm" turns into "Now".
    now: Signal<i64>,
    /// The hotel's events as they are now: cards follow their updates and deletions.
    catalogue: feed::Catalogue,
}

#[component]
pub fn KioskPage() -> impl IntoView {
    let config = expect_context::<AppConfig>();
    let backend = expect_context::<Backend>();
    let catalogue = feed::hotel_catalogue(&config.hotel_id);

    // A plain signal filled by a task, not a resource: a resource read under the app's
    // `Suspense` would hold the whole kiosk back (and rebuild it) until the hotel arrives.
    let hotel = RwSignal::new(None::<HotelInfo>);
    leptos::task::spawn_local_scoped_with_cancellation(async move {
        match api::fetch_hotel(&backend, &config.hotel_id).await {
            Ok(found) => {
                hotel.try_set(found);
            }
            // The kiosk still works without the hotel's name; say why in the console.
            Err(e) => leptos::logging::warn!("hotel details unavailable: {e}"),
        }
    });
    let hotel: Signal<Option<HotelInfo>> = hotel.into();

    let now_ms = crate::clock::use_now(Duration::from_secs(30));
    let ambient = Ambient {
        hotel,
        now: Memo::new(move |_| (now_ms.get() / 1000.0) as i64).into(),
        catalogue,
    };

    let session = RwSignal::new(Uuid::new_v4());
    let reset = Callback::new(move |()| session.set(Uuid::new_v4()));

    view! {
        <div class="kiosk">
            <icons::IconSprite/>
            {move || {
                let id = session.get().to_string();
                view! { <Guest session_id=id ambient=ambient on_reset=reset/> }
            }}
            <ConnectionBadge/>
        </div>
    }
}

/// One guest: nothing of theirs shows (or subscribes) until the kiosk's user for them has
/// signed in and claimed the session.
#[component]
fn Guest(session_id: String, ambient: Ambient, on_reset: Callback<()>) -> impl IntoView {
    let identity = use_guest_identity(session_id.clone(), on_reset);
    let ready = identity.ready();
    move || {
        if ready.get() {
            let session_id = session_id.clone();
            view! { <GuestSession session_id ambient identity on_reset/> }.into_any()
        } else {
            view! {
                <main class="boot" aria-busy="true" data-testid="kiosk-starting">
                    <div class="boot__mark" aria-hidden="true"></div>
                    <p class="boot__text">"Getting ready…"</p>
                </main>
            }
            .into_any()
        }
    }
}

/// One guest, from "Tap to start" to the idle reset. See the module docs for why everything
/// guest-related lives under this component's owner.
#[component]
fn GuestSession(
    session_id: String,
    ambient: Ambient,
    identity: GuestIdentity,
    on_reset: Callback<()>,
) -> impl IntoView {
    let config = expect_context::<AppConfig>();
    let owner = Owner::current();
    crate::conversation::kiosk::provide_ask();

    let booking = reserve::provide_booking(identity);
    let stage = RwSignal::new(Stage::Attract);
    let search = RwSignal::new(SearchState::Idle);
    let posted = RwSignal::new(None::<KioskResultRow>);
    let live = feed::session_results(&session_id);
    let latest = Memo::new(move |_| {
        live.with(|rows| posted.with(|p| results::newest(rows, p.as_ref()).cloned()))
    });

    let idle = use_idle_reset(
        config.idle_timeout_ms,
        config.idle_warning_ms,
        Signal::derive(move || stage.get() == Stage::Explore),
        on_reset,
    );
    let activity = move || idle.activity();

    // A result for this session, from whoever asked, brings the guest view up and counts as
    // activity (a phone just searched for this screen: someone is here).
    Effect::new(move |prev: Option<Option<String>>| {
        let id = latest.with(|l| l.as_ref().map(|r| r.id.clone()));
        if id.is_some() && prev.flatten() != id {
            // Only on a real change: setting a signal always notifies, and re-rendering the
            // guest view would throw away what the guest typed.
            if stage.get_untracked() != Stage::Explore {
                stage.set(Stage::Explore);
            }
            // Only when it changes: `update` would notify (and re-render the search region)
            // even when the search was already idle, on the path of every arriving result.
            if search.with_untracked(|s| {
                matches!(s, SearchState::Sending { .. } | SearchState::Failed { .. })
            }) {
                search.set(SearchState::Idle);
            }
            activity();
        }
        id
    });

    // Whether the guest started with the keyboard: only then does the text field take focus
    // (on a touch screen, focusing it would pop up the on-screen keyboard unasked).
    let keyboard_start = StoredValue::new(false);
    let start = Callback::new(move |by_keyboard: bool| {
        keyboard_start.set_value(by_keyboard);
        stage.set(Stage::Explore);
        activity();
    });

    // The search may live elsewhere than the data (hosted: the front server, not the project).
    let backend = match &config.search_url {
        Some(base) => Backend::new(base.clone(), config.anon_key.clone()),
        None => expect_context::<Backend>(),
    };
    let submit = Callback::new({
        let hotel_id = config.hotel_id.clone();
        let session_id = session_id.clone();
        move |text: String| {
            let interests = text.trim().to_owned();
            if interests.is_empty() {
                return;
            }
            search.set(SearchState::Sending {
                interests: interests.clone(),
            });
            let (backend, hotel_id) = (backend.clone(), hotel_id.clone());
            let session_id = session_id.clone();
            let task = async move {
                // Ready guests have a user; the anon key would search all the same.
                let token = identity
                    .access_token()
                    .unwrap_or_else(|| backend.anon_key.clone());
                match api::search(&backend, &token, &hotel_id, &session_id, &interests).await {
                    Ok(row) => {
                        posted.try_set(Some(row));
                        search.try_set(SearchState::Idle);
                    }
                    Err(e) => {
                        search.try_set(SearchState::Failed {
                            interests,
                            message: api::guest_message(&e),
                        });
                    }
                }
            };
            // Scoped to the guest: a reset mid-request cancels it.
            match &owner {
                Some(o) => o.with(|| leptos::task::spawn_local_scoped_with_cancellation(task)),
                None => leptos::task::spawn_local_scoped_with_cancellation(task),
            }
        }
    });

    view! {
        <div class="guest" data-stage=move || match stage.get() {
            Stage::Attract => "attract",
            Stage::Explore => "explore",
        }>
            {move || match stage.get() {
                Stage::Attract => {
                    view! { <attract::Attract hotel=ambient.hotel on_start=start/> }.into_any()
                }
                Stage::Explore => {
                    view! {
                        <explore::Explore
                            ambient=ambient
                            search=search.into()
                            latest=latest.into()
                            on_search=submit
                            on_reset=on_reset
                            focus_input=keyboard_start.get_value()
                        />
                    }
                        .into_any()
                }
            }}
            <reserve::ReserveDialog booking ambient/>
            <crate::conversation::kiosk::KioskAsk session_id=session_id.clone()
                token=Callback::new(move |()| identity.access_token())
                shown=Signal::derive(move || stage.get() == Stage::Explore)/>
            <countdown::IdleWarning idle total_ms=config.idle_warning_ms on_reset/>
            <p class="guest__session">
                "Session " <code data-testid="session-id">{session_id.clone()}</code>
            </p>
        </div>
    }
}

/// The ghost button that starts over for the next guest (the header's, the countdown's).
#[component]
fn StartOver(
    label: &'static str,
    /// Extra classes for where it sits.
    #[prop(optional)]
    class: &'static str,
    on_reset: Callback<()>,
) -> impl IntoView {
    let class = if class.is_empty() {
        "button button--ghost".to_owned()
    } else {
        format!("button button--ghost {class}")
    };
    view! {
        <button class=class type="button" on:click=move |_| on_reset.run(())>
            {label}
        </button>
    }
}
