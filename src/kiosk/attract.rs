//! The attract screen: what the lobby sees between guests. Tap anywhere to start.

use concierge_wire::Category;
use leptos::prelude::*;

use super::api::HotelInfo;
use super::icons::Icon;

#[component]
pub fn Attract(hotel: Signal<Option<HotelInfo>>, on_start: Callback<bool>) -> impl IntoView {
    let button = NodeRef::<leptos::html::Button>::new();
    // Keyboard users land on the one control there is.
    Effect::new(move |_| {
        if let Some(b) = button.get() {
            super::focus_when_attached(AsRef::<web_sys::HtmlElement>::as_ref(&b).clone(), 10);
        }
    });
    view! {
        <main class="attract" data-testid="attract" on:click=move |ev| {
            // A click synthesised from Enter/Space on the button has `detail == 0`.
            on_start.run(ev.detail() == 0)
        }>
            <div class="attract__aurora" aria-hidden="true"></div>
            <div class="attract__content">
                <p class="attract__welcome">"Welcome to"</p>
                <h1 class="attract__hotel">
                    {move || hotel.get().map(|h| h.name).unwrap_or_else(|| "Concierge".to_owned())}
                </h1>
                <p class="attract__lead">
                    "Comedy tonight, a quiet spa morning, something for the kids — "
                    "discover what’s on in and around the hotel."
                </p>
                <ul class="attract__orbit" aria-hidden="true">
                    {Category::ALL
                        .into_iter()
                        .enumerate()
                        .map(|(i, c)| {
                            view! {
                                <li style=format!("--i:{i}")>
                                    <span class="attract__orb">
                                        <Icon category=c.as_str()/>
                                    </span>
                                    <span class="attract__orb-label">{c.chip_label()}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                <button class="attract__cta" node_ref=button type="button">
                    <span class="attract__cta-ring" aria-hidden="true"></span>
                    "Tap to start"
                </button>
            </div>
        </main>
    }
}
