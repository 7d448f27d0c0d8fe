//! Category icons as inline SVG line drawings, so a lobby screen never depends on which emoji
//! font the kiosk machine happens to have (a missing one renders as empty boxes).
//! Paths adapted from Lucide (ISC licence), 24×24, drawn with `currentColor`.

use leptos::prelude::*;

/// The inner markup of a 24×24 icon for a catalogue category (a sparkle for anything else).
pub fn paths(category: &str) -> &'static str {
    match category {
        // microphone
        "comedy" => {
            r#"<path d="M12 2a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V5a3 3 0 0 0-3-3z"/><path d="M19 10v1a7 7 0 0 1-14 0v-1"/><path d="M12 18v4"/><path d="M8 22h8"/>"#
        }
        // notes
        "music" => {
            r#"<path d="M9 18V5l12-2v13"/><circle cx="6" cy="18" r="3"/><circle cx="18" cy="16" r="3"/>"#
        }
        // fork and knife
        "dining" => {
            r#"<path d="M3 2v7c0 1.1.9 2 2 2h4a2 2 0 0 0 2-2V2"/><path d="M7 2v20"/><path d="M21 15V2a5 5 0 0 0-5 5v6c0 1.1.9 2 2 2h3zm0 0v7"/>"#
        }
        // leaf
        "wellness" => {
            r#"<path d="M11 20A7 7 0 0 1 9.8 6.1C15.5 5 17 4.48 19 2c1 2 2 4.18 2 8 0 5.5-4.78 10-10 10Z"/><path d="M2 21c0-3 1.85-5.36 5.08-6C9.5 14.52 12 13 13 12"/>"#
        }
        // balloon
        "family" => {
            r#"<path d="M12 16v1a2 2 0 0 0 2 2h1a2 2 0 0 1 2 2v1"/><path d="M12 6a2 2 0 0 1 2 2"/><path d="M18 8c0 4-3.5 8-6 8s-6-4-6-8a6 6 0 0 1 12 0"/>"#
        }
        // columns
        "culture" => {
            r#"<path d="M3 22h18"/><path d="M6 18v-7"/><path d="M10 18v-7"/><path d="M14 18v-7"/><path d="M18 18v-7"/><path d="M12 2l8 5H4z"/>"#
        }
        // cocktail glass
        "nightlife" => r#"<path d="M8 22h8"/><path d="M12 11v11"/><path d="M19 3l-7 8-7-8z"/>"#,
        // trophy
        "sport" => {
            r#"<path d="M6 9H4.5a2.5 2.5 0 0 1 0-5H6"/><path d="M18 9h1.5a2.5 2.5 0 0 0 0-5H18"/><path d="M4 22h16"/><path d="M10 14.66V17c0 .55-.47.98-.97 1.21C7.85 18.75 7 20.24 7 22"/><path d="M14 14.66V17c0 .55.47.98.97 1.21C16.15 18.75 17 20.24 17 22"/><path d="M18 2H6v7a6 6 0 0 0 12 0V2Z"/>"#
        }
        // sparkle
        _ => r#"<path d="M12 3l1.9 5.8L20 10l-6.1 1.2L12 17l-1.9-5.8L4 10l6.1-1.2z"/>"#,
    }
}

/// The id of a category's symbol in [`IconSprite`].
fn symbol_id(category: &str) -> &'static str {
    match category {
        "comedy" => "i-comedy",
        "music" => "i-music",
        "dining" => "i-dining",
        "wellness" => "i-wellness",
        "family" => "i-family",
        "culture" => "i-culture",
        "nightlife" => "i-nightlife",
        "sport" => "i-sport",
        _ => "i-other",
    }
}

/// Every icon once, as `<symbol>`s the [`Icon`]s point at.
fn sprite() -> String {
    [
        "comedy",
        "music",
        "dining",
        "wellness",
        "family",
        "culture",
        "nightlife",
        "sport",
        "",
    ]
    .iter()
    .map(|c| {
        format!(
            r#"<symbol id="{}" viewBox="0 0 24 24">{}</symbol>"#,
            symbol_id(c),
            paths(c)
        )
    })
    .collect()
}

/// The icons' drawings, parsed once per page: each [`Icon`] is then two elements and no markup
/// to parse (a results screen draws a dozen of them at a time, and `innerHTML` parsing was a
/// measurable part of putting a result on the screen).
#[component]
pub fn IconSprite() -> impl IntoView {
    view! {
        <svg class="icon-sprite" aria-hidden="true" focusable="false" inner_html=sprite()></svg>
    }
}

/// [`Icon`]'s markup, for views built as one HTML string (`card_html`).
pub fn icon_html(category: &str, class: &str) -> String {
    format!(
        concat!(
            r#"<svg class="icon {}" viewBox="0 0 24 24" fill="none" stroke="currentColor" "#,
            r#"stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round" "#,
            r##"aria-hidden="true"><use href="#{}"></use></svg>"##
        ),
        class,
        symbol_id(category)
    )
}

/// A decorative icon (hidden from screen readers: the text next to it says the same). Needs
/// an [`IconSprite`] on the page.
#[component]
pub fn Icon(
    #[prop(into)] category: String,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    view! {
        <svg
            class=format!("icon {class}")
            viewBox="0 0 24 24"
            fill="none"
            stroke="currentColor"
            stroke-width="1.6"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
        >
            <use href=format!("#{}", symbol_id(&category))></use>
        </svg>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_category_has_its_own_icon() {
        use concierge_wire::Category;
        let fallback = super::paths("unknown");
        for (i, a) in Category::ALL.iter().enumerate() {
            assert_ne!(super::paths(a.as_str()), fallback, "{a:?}");
            for b in &Category::ALL[i + 1..] {
                assert_ne!(super::paths(a.as_str()), super::paths(b.as_str()));
            }
        }
    }

    #[test]
    fn every_category_has_its_own_symbol_in_the_sprite() {
        use concierge_wire::Category;
        let sprite = super::sprite();
        for c in Category::ALL {
            let id = super::symbol_id(c.as_str());
            assert_ne!(id, "i-other", "{c:?}");
            assert!(sprite.contains(&format!(r#"<symbol id="{id}""#)), "{c:?}");
        }
        assert!(sprite.contains(r#"<symbol id="i-other""#));
    }
}
