//! The guest's screen: ask (chips and a text field), then the results region.

use std::collections::HashSet;

use concierge_wire::Category;
use concierge_wire::model::KioskResultRow;
use leptos::prelude::*;

use super::chips::{InterestChips, default_suggestions};
use super::icons::Icon;
use super::results::{Outcome, current_cards};
use super::{Ambient, SearchState, StartOver, cards};

/// Longest free text we send; the server refuses far longer bodies anyway.
const MAX_INTERESTS: usize = 300;

#[component]
pub fn Explore(
    ambient: Ambient,
    search: Signal<SearchState>,
    latest: Signal<Option<KioskResultRow>>,
    on_search: Callback<String>,
    on_reset: Callback<()>,
    /// Put the caret in the text field (for keyboard users; not on touch).
    focus_input: bool,
) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(i) = input.get().filter(|_| focus_input) {
            super::focus_when_attached(AsRef::<web_sys::HtmlElement>::as_ref(&i).clone(), 10);
        }
    });
    let sending = Memo::new(move |_| matches!(search.get(), SearchState::Sending { .. }));
    let idle = Memo::new(move |_| search.get() == SearchState::Idle);

    let hotel_name = move || {
        ambient
            .hotel
            .get()
            .map(|h| h.name)
            .unwrap_or_else(|| "Concierge".to_owned())
    };

    view! {
        <main class="explore" data-testid="explore">
            <header class="explore__bar">
                <p class="explore__brand">
                    <Icon category="" class="explore__brand-mark"/>
                    {hotel_name}
                </p>
                <crate::conversation::kiosk::AskButton/>
                <StartOver class="explore__reset" label="Start over" on_reset/>
            </header>

            <section class="ask" aria-labelledby="ask-title">
                <h1 id="ask-title" class="ask__title">"What are you in the mood for?"</h1>
                <form
                    class="ask__form"
                    role="search"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        on_search.run(text.get_untracked());
                    }
                >
                    <label for="interests" class="visually-hidden">
                        "Tell us what you are in the mood for"
                    </label>
                    <input
                        id="interests"
                        class="ask__input"
                        type="text"
                        node_ref=input
                        autocomplete="off"
                        autocapitalize="off"
                        spellcheck="false"
                        enterkeyhint="search"
                        maxlength=MAX_INTERESTS.to_string()
                        placeholder="e.g. live music and something for the kids"
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))
                        data-testid="interests-input"
                    />
                    <button
                        class="button ask__go"
                        type="submit"
                        disabled=move || sending.get() || text.with(|t| t.trim().is_empty())
                        data-testid="search-button"
                    >
                        "Search"
                    </button>
                </form>
                <InterestChips
                    sending
                    on_pick=Callback::new(move |phrase: &'static str| {
                        text.set(phrase.to_owned());
                        on_search.run(phrase.to_owned());
                    })
                />
            </section>

            // The live region exists before anything is announced in it (ARIA22).
            <section
                class="results"
                aria-live="polite"
                aria-busy=move || sending.get().to_string()
                aria-label="Results"
                data-testid="results"
            >
                {move || match search.get() {
                    SearchState::Idle => ().into_any(),
                    SearchState::Sending { interests } => {
                        view! { <Searching interests/> }.into_any()
                    }
                    SearchState::Failed { interests, message } => {
                        view! { <SearchFailed interests message on_search/> }.into_any()
                    }
                }}
                <div class="results__current" hidden=move || !idle.get()>
                    {move || match latest.get() {
                        Some(row) => {
                            view! { <ResultView row ambient on_search/> }.into_any()
                        }
                        None => view! { <Hint/> }.into_any(),
                    }}
                </div>
            </section>
        </main>
    }
}

#[component]
fn Hint() -> impl IntoView {
    view! {
        <div class="results__hint">
            <p>"Tap an interest, or tell us in your own words — "
                <em>"“jazz and a good dinner”"</em> ", “something for the kids”."</p>
        </div>
    }
}

#[component]
fn Searching(interests: String) -> impl IntoView {
    view! {
        <div class="results__loading" data-testid="results-loading">
            <p class="results__status">
                <span class="kiosk-spinner" aria-hidden="true"></span>
                "Finding the best of “" {interests} "” for you…"
            </p>
            <div class="card-grid" aria-hidden="true">
                {(0..3).map(|_| view! { <div class="event-card event-card--skeleton"></div> }).collect_view()}
            </div>
        </div>
    }
}

#[component]
fn SearchFailed(interests: String, message: String, on_search: Callback<String>) -> impl IntoView {
    view! {
        <div class="kiosk-notice kiosk-notice--error" role="alert" data-testid="results-error">
            <h2 class="kiosk-notice__title">"We couldn’t search just now"</h2>
            <p class="kiosk-notice__text">{message}</p>
            <button class="button" type="button" on:click=move |_| on_search.run(interests.clone())>
                "Try again"
            </button>
        </div>
    }
}

/// One `kiosk_results` row: its heading and cards, rendered from the events the row carries
/// and kept current by the page's catalogue (no request and no subscription of its own, so a
/// result shows as soon as it arrives).
#[component]
fn ResultView(row: KioskResultRow, ambient: Ambient, on_search: Callback<String>) -> impl IntoView {
    let outcome = match Outcome::from_row(&row) {
        Ok(o) => o,
        Err(e) => {
            leptos::logging::warn!("unreadable kiosk result {}: {e}", row.id);
            return view! {
                <div class="kiosk-notice kiosk-notice--error" role="alert" data-testid="results-error">
                    <h2 class="kiosk-notice__title">"These results could not be shown"</h2>
                    <p class="kiosk-notice__text">"Please try your search again."</p>
                </div>
            }
            .into_any();
        }
    };
    let snapshot = StoredValue::new(outcome.events.clone());
    let catalogue = ambient.catalogue;
    let cards = Memo::new(move |_| {
        let now = ambient.now.get();
        catalogue.rows.with(|rows| {
            catalogue
                .seen
                .with(|seen| snapshot.with_value(|snap| current_cards(snap, rows, seen, now)))
        })
    });
    let zone = {
        let from_result = outcome.timezone.clone();
        Signal::derive(move || {
            ambient
                .hotel
                .get()
                .map(|h| h.timezone)
                .or_else(|| from_result.clone())
                .unwrap_or_else(|| "UTC".to_owned())
        })
    };
    let interests = outcome.interests.clone();
    let categories = outcome.categories.clone();
    let suggestions = if outcome.suggestions.is_empty() {
        default_suggestions()
    } else {
        outcome.suggestions.clone()
    };
    let had_events = !outcome.events.is_empty();
    // A card is rebuilt when its event changes (a booking anywhere changes its places left):
    // only its first appearance animates in, not every update.
    let drawn = StoredValue::new(HashSet::<String>::new());

    view! {
        <div class="result" data-result-id=row.id.clone() data-testid="result">
            // When nothing is left to show, the empty state below says it all.
            <header class="result__head" hidden=move || cards.with(Vec::is_empty)>
                <h2 class="result__title">
                    {move || {
                        let n = cards.with(Vec::len);
                        match n {
                            1 => "1 suggestion".to_owned(),
                            n => format!("{n} suggestions"),
                        }
                    }}
                    <span class="result__for">" for “" {interests.clone()} "”"</span>
                </h2>
                <ul class="result__tags" aria-label="Matched interests">
                    {categories
                        .iter()
                        .map(|c| {
                            view! {
                                <li class="match-tag">
                                    <Icon category=c.clone() class="match-tag__icon"/>
                                    {Category::label_of(c)}
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </header>
            {move || {
                if cards.with(Vec::is_empty) {
                    view! {
                        <Empty
                            interests=interests.clone()
                            had_events
                            suggestions=suggestions.clone()
                            on_search
                        />
                    }
                        .into_any()
                } else {
                    view! {
                        <ol
                            class="card-grid"
                            data-testid="cards"
                            on:click=cards::on_reserve(move |id| {
                                cards.with_untracked(|c| c.iter().find(|e| e.id == id).cloned())
                            })
                        >
                            <For
                                each=move || cards.get()
                                key=|e| (e.id.clone(), e.updated_at.clone())
                                children=move |event| {
                                    let again = drawn
                                        .try_update_value(|d| !d.insert(event.id.clone()))
                                        .unwrap_or(false);
                                    view! { <cards::EventCard event zone now=ambient.now again/> }
                                }
                            />
                        </ol>
                    }
                        .into_any()
                }
            }}
        </div>
    }
    .into_any()
}

#[component]
fn Empty(
    interests: String,
    had_events: bool,
    suggestions: Vec<String>,
    on_search: Callback<String>,
) -> impl IntoView {
    let lead = if had_events {
        "The events you were looking at have ended or changed.".to_owned()
    } else {
        format!("Nothing matches “{interests}” right now.")
    };
    view! {
        <div class="kiosk-notice kiosk-notice--empty" data-testid="results-empty">
            <Icon category="" class="kiosk-notice__glyph"/>
            <h3 class="kiosk-notice__title">{lead}</h3>
            <p class="kiosk-notice__text">"Try one of these:"</p>
            <ul class="interest-chips interest-chips--suggest">
                {suggestions
                    .into_iter()
                    .map(|s| {
                        let label = s.clone();
                        view! {
                            <li>
                                <button
                                    class="interest-chip"
                                    type="button"
                                    on:click=move |_| on_search.run(s.clone())
                                >
                                    {label}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </div>
    }
}
