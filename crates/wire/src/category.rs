//! The catalogue's categories: how they are stored, named on a card, and offered as a chip.

use serde::{Deserialize, Serialize};

/// The catalogue's categories, exactly as stored in `events.category`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Comedy,
    Music,
    Dining,
    Wellness,
    Family,
    Culture,
    Nightlife,
    Sport,
}

impl Category {
    /// The fixed catalogue order: chips are shown and search results listed in it.
    pub const ALL: [Category; 8] = [
        Category::Comedy,
        Category::Music,
        Category::Dining,
        Category::Wellness,
        Category::Family,
        Category::Culture,
        Category::Nightlife,
        Category::Sport,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Comedy => "comedy",
            Category::Music => "music",
            Category::Dining => "dining",
            Category::Wellness => "wellness",
            Category::Family => "family",
            Category::Culture => "culture",
            Category::Nightlife => "nightlife",
            Category::Sport => "sport",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The category's name on an event card.
    pub fn label(self) -> &'static str {
        match self {
            Category::Comedy => "Comedy",
            Category::Music => "Music",
            Category::Dining => "Dining",
            Category::Wellness => "Wellness",
            Category::Family => "Family",
            Category::Culture => "Culture",
            Category::Nightlife => "Nightlife",
            Category::Sport => "Sport",
        }
    }

    /// The words on the kiosk's chip for this category.
    pub fn chip_label(self) -> &'static str {
        match self {
            Category::Comedy => "Comedy",
            Category::Music => "Live music",
            Category::Dining => "Dining",
            Category::Wellness => "Spa & wellness",
            Category::Family => "For the kids",
            Category::Culture => "Art & culture",
            Category::Nightlife => "Nightlife",
            Category::Sport => "Sport & fitness",
        }
    }

    /// What a chip sends to the free-text search (a phrase, not a code, so that a tap, typing
    /// and a voice agent share one way in). The server's interest matcher must map it back to
    /// exactly this category; its tests check that for every category.
    pub fn phrase(self) -> &'static str {
        match self {
            Category::Comedy => "stand-up comedy",
            Category::Music => "live music",
            Category::Dining => "great food",
            Category::Wellness => "spa and wellness",
            Category::Family => "something for the kids",
            Category::Culture => "art and culture",
            Category::Nightlife => "a night out",
            Category::Sport => "sport and fitness",
        }
    }

    /// A card's name for whatever text a row carries: unknown categories read "Event".
    pub fn label_of(stored: &str) -> &'static str {
        Category::parse(stored).map_or("Event", Category::label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_distinct_words() {
        for (i, a) in Category::ALL.iter().enumerate() {
            assert_eq!(Category::parse(a.as_str()), Some(*a));
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
            for b in &Category::ALL[i + 1..] {
                assert_ne!(a.phrase(), b.phrase());
                assert_ne!(a.chip_label(), b.chip_label());
                assert_ne!(a.label(), b.label());
            }
        }
        assert_eq!(Category::label_of("bogus"), "Event");
        assert_eq!(Category::label_of("music"), "Music");
    }
}
