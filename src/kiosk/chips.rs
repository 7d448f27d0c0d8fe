//! The interest chips on the kiosk's start screen: one tap = one search.
//!
//! Each chip sends a phrase (not a category code) to the same free-text search a voice agent
//! or the text field uses, so there is a single way in. The server's tests read this file and
//! check that every phrase maps to the category printed on the chip
//! (`server/src/search/mod.rs`, `every_kiosk_chip_is_understood`). Dependency-free on purpose.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chip {
    pub label: &'static str,
    /// What the search receives.
    pub phrase: &'static str,
    /// The catalogue category the phrase must map to.
    pub category: &'static str,
}

pub const CHIPS: &[Chip] = &[
    Chip {
        label: "Comedy",
        phrase: "stand-up comedy",
        category: "comedy",
    },
    Chip {
        label: "Live music",
        phrase: "live music",
        category: "music",
    },
    Chip {
        label: "Dining",
        phrase: "great food",
        category: "dining",
    },
    Chip {
        label: "Spa & wellness",
        phrase: "spa and wellness",
        category: "wellness",
    },
    Chip {
        label: "For the kids",
        phrase: "something for the kids",
        category: "family",
    },
    Chip {
        label: "Art & culture",
        phrase: "art and culture",
        category: "culture",
    },
    Chip {
        label: "Nightlife",
        phrase: "a night out",
        category: "nightlife",
    },
    Chip {
        label: "Sport & fitness",
        phrase: "sport and fitness",
        category: "sport",
    },
];

/// A readable name for a category as it appears on a card.
pub fn category_name(category: &str) -> &'static str {
    match category {
        "comedy" => "Comedy",
        "music" => "Music",
        "dining" => "Dining",
        "wellness" => "Wellness",
        "family" => "Family",
        "culture" => "Culture",
        "nightlife" => "Nightlife",
        "sport" => "Sport",
        _ => "Event",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chips_are_distinct_and_named() {
        for (i, a) in CHIPS.iter().enumerate() {
            for b in &CHIPS[i + 1..] {
                assert_ne!(a.category, b.category);
                assert_ne!(a.phrase, b.phrase);
            }
            assert_ne!(category_name(a.category), "Event", "{}", a.category);
        }
        assert_eq!(category_name("bogus"), "Event");
    }
}
