//! The interest chips on the kiosk's start screen: one tap = one search.
//!
//! Each chip is a catalogue [`Category`]: it shows the category's chip words and sends its
//! phrase (not a category code) to the same free-text search a voice agent or the text field
//! uses, so there is a single way in. The server's tests check that every phrase maps back to
//! its category.

use concierge_wire::Category;
use leptos::prelude::*;

use super::icons::Icon;

/// What the empty state offers when the server suggested nothing: the first few chips.
pub fn default_suggestions() -> Vec<String> {
    Category::ALL
        .iter()
        .take(4)
        .map(|c| c.phrase().to_owned())
        .collect()
}

/// The chips under the text field. `on_pick` receives the chip's phrase.
#[component]
pub fn InterestChips(sending: Memo<bool>, on_pick: Callback<&'static str>) -> impl IntoView {
    view! {
        <ul class="interest-chips" aria-label="Popular interests">
            {Category::ALL
                .into_iter()
                .map(|c| {
                    view! {
                        <li>
                            <button
                                class="interest-chip"
                                type="button"
                                data-category=c.as_str()
                                disabled=move || sending.get()
                                on:click=move |_| on_pick.run(c.phrase())
                            >
                                <Icon category=c.as_str() class="interest-chip__icon"/>
                                {c.chip_label()}
                            </button>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiosk::icons::paths;

    #[test]
    fn every_chip_names_a_category_its_cards_and_icon_know() {
        let fallback = paths("unknown");
        for c in Category::ALL {
            assert_ne!(Category::label_of(c.as_str()), "Event", "{c:?}");
            assert_ne!(paths(c.as_str()), fallback, "{c:?}");
        }
        assert_eq!(default_suggestions().len(), 4);
    }
}
