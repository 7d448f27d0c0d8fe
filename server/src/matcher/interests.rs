//! Free text → event categories.
//!
//! A guest types (or a voice agent transcribes) whatever they are in the mood for: "live music
//! and something for the kids", "Stand-up comedy!", "spa". We map that to the catalogue's
//! categories with a keyword and synonym table, not a model: it is predictable, explainable to
//! hotel staff, fast, and testable phrase by phrase (see the table in the tests below).
//!
//! How the text is read:
//! - lowercased; every run of characters that is not a letter or digit separates words, so
//!   case and punctuation never matter ("STAND-UP!!" reads as `stand up`);
//! - several interests in one sentence all count ("music and food" → music, dining);
//! - phrases of up to three words are tried before single words ("live music", "for the kids",
//!   "stand up", "late night"), and the words a phrase used are not read again on their own;
//! - plurals and simple verb forms are folded: `kids` → `kid`, `comedies` → `comedy`,
//!   `massages` → `massage`, `concerts` → `concert`;
//! - a negation right before a keyword drops it: "something for the kids, no music" → family.
//!   Only `no`, `not`, `don't`, `without`, `except`, `avoid` and `nothing` count, and only for the
//!   first keyword within the next three words ("no kids, just music" → music); anything
//!   cleverer belongs to a language model, not a lookup table.
//!
//! Decisions worth knowing (also in the README):
//! - `yoga`, `pilates`, `meditation` → **wellness** (a calm class, offered by the spa);
//!   `gym`, `workout`, `fitness`, `run`, `swim` → **sport** (the catalogue's sport/fitness).
//! - `dance` → culture *and* nightlife; `karaoke`, `dj` → music *and* nightlife;
//!   `open mic` → comedy *and* music; `wine`, `brewery` → dining *and* nightlife. An event in
//!   either category is a fair answer to those words.
//! - The result lists categories in the fixed catalogue order ([`Category::ALL`]), so the same
//!   question always yields the same `categories` array, whatever the word order.

use std::collections::BTreeSet;

use concierge_wire::Category;

use super::keywords::KEYWORDS;

const NEGATIONS: &[&str] = &["no", "not", "without", "except", "avoid", "nothing", "dont"];

/// How far (in words) a negation reaches forward.
const NEGATION_REACH: usize = 3;

/// The longest keyword phrase, in words.
const MAX_PHRASE_WORDS: usize = 3;

/// Folds a lowercase word to its table form: simple English plurals and the possessive `'s`
/// (already split off by [`words`]). Words of three letters or fewer are left alone ("bus",
/// "gas" and "yes" are not plurals worth folding).
fn fold(word: &str) -> String {
    if word.len() <= 3 || word.ends_with("ss") || word.ends_with("us") || word.ends_with("is") {
        return word.to_owned();
    }
    if let Some(stem) = word.strip_suffix("ies") {
        return format!("{stem}y");
    }
    // "classes" → "class", "matches" → "match"; but "massages" → "massage" (handled by
    // the plain `s` rule because "massag" is not a word we know).
    for suffix in ["sses", "ches", "shes", "xes"] {
        if word.ends_with(suffix) {
            return word[..word.len() - 2].to_owned();
        }
    }
    if let Some(stem) = word.strip_suffix('s') {
        return stem.to_owned();
    }
    word.to_owned()
}

/// Splits text into folded words: lowercase, any non-alphanumeric character separates, a
/// trailing possessive `s` ("kid's") is dropped.
fn words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out: Vec<String> = Vec::new();
    for raw in lower.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’') {
        for (i, part) in raw.split(['\'', '’']).enumerate() {
            if part.is_empty() {
                continue;
            }
            // "kid's" → "kid"; "don't" → "dont" (so the negation list can name it).
            if i > 0 && part == "s" {
                continue;
            }
            if i > 0 && part == "t" {
                if let Some(last) = out.last_mut() {
                    last.push('t');
                }
                continue;
            }
            out.push(fold(part));
        }
    }
    out
}

fn lookup(phrase: &str) -> Option<&'static [Category]> {
    KEYWORDS
        .iter()
        .find(|(k, _)| *k == phrase)
        .map(|(_, cats)| *cats)
}

/// What a piece of text asks for: the matched categories in catalogue order, plus the
/// keywords that produced them (for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Interpretation {
    pub categories: Vec<Category>,
    pub matched: Vec<String>,
}

/// Maps free text to categories. Never fails: text with no known word yields no categories.
pub fn interpret(text: &str) -> Interpretation {
    let ws = words(text);
    let mut wanted: BTreeSet<Category> = BTreeSet::new();
    let mut unwanted: BTreeSet<Category> = BTreeSet::new();
    let mut matched = Vec::new();
    // Index of the last negation word, if it still reaches.
    let mut negated_until: Option<usize> = None;
    let mut i = 0;
    while i < ws.len() {
        if NEGATIONS.contains(&ws[i].as_str()) {
            negated_until = Some(i + NEGATION_REACH);
            i += 1;
            continue;
        }
        let mut hit = None;
        for n in (1..=MAX_PHRASE_WORDS.min(ws.len() - i)).rev() {
            let phrase = ws[i..i + n].join(" ");
            if let Some(cats) = lookup(&phrase) {
                hit = Some((n, phrase, cats));
                break;
            }
        }
        match hit {
            Some((n, phrase, cats)) => {
                // A negation covers the first keyword after it, and only that one:
                // "no kids, just music" still wants music.
                let negated = negated_until.take().is_some_and(|end| i <= end);
                if negated {
                    unwanted.extend(cats.iter().copied());
                } else {
                    wanted.extend(cats.iter().copied());
                    matched.push(phrase);
                }
                i += n;
            }
            None => i += 1,
        }
    }
    Interpretation {
        categories: wanted.difference(&unwanted).copied().collect(),
        matched,
    }
}

/// Convenience for callers that only need the category names.
pub fn categories_for(text: &str) -> Vec<&'static str> {
    interpret(text)
        .categories
        .into_iter()
        .map(Category::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The phrase table: what a guest says → what we search. Order in the expectation is
    /// the catalogue order.
    const TABLE: &[(&str, &[&str])] = &[
        ("comedy", &["comedy"]),
        ("Comedy", &["comedy"]),
        ("COMEDY!!!", &["comedy"]),
        ("stand-up", &["comedy"]),
        ("Stand up comedy tonight?", &["comedy"]),
        ("standup", &["comedy"]),
        ("something funny", &["comedy"]),
        ("comedies", &["comedy"]),
        ("comedians", &["comedy"]),
        ("live music", &["music"]),
        (
            "live music and something for the kids",
            &["music", "family"],
        ),
        ("concerts", &["music"]),
        ("Jazz, blues & rock", &["music"]),
        ("spa", &["wellness"]),
        ("Spa.", &["wellness"]),
        ("a massage", &["wellness"]),
        ("massages", &["wellness"]),
        ("yoga", &["wellness"]),
        ("Pilates", &["wellness"]),
        ("gym", &["sport"]),
        ("a workout", &["sport"]),
        ("work out", &["sport"]),
        ("fitness classes", &["sport"]),
        ("kids", &["family"]),
        ("kid's activities", &["family"]),
        ("children", &["family"]),
        ("my daughter", &["family"]),
        ("something for the little ones", &["family"]),
        ("dinner", &["dining"]),
        ("Where can we eat?", &["dining"]),
        ("street food", &["dining"]),
        ("cocktails", &["nightlife"]),
        ("bars and clubs", &["nightlife"]),
        ("a night out", &["nightlife"]),
        ("karaoke", &["music", "nightlife"]),
        ("museums", &["culture"]),
        ("art galleries", &["culture"]),
        ("heritage walk tour", &["culture"]),
        ("theatre", &["culture"]),
        ("dance", &["culture", "nightlife"]),
        ("cricket match", &["sport"]),
        ("matches", &["sport"]),
        (
            "comedy, music, food, spa, kids, art, bars and tennis",
            &[
                "comedy",
                "music",
                "dining",
                "wellness",
                "family",
                "culture",
                "nightlife",
                "sport",
            ],
        ),
        ("music and food", &["music", "dining"]),
        ("food and music", &["music", "dining"]),
        ("something for the kids, no music", &["family"]),
        ("not comedy but jazz", &["music"]),
        ("don't want a spa, want a gym", &["sport"]),
        ("no kids, just music", &["music"]),
        // no known word
        ("quantum physics", &[]),
        ("!!!", &[]),
        ("", &[]),
        // words that look like plurals but are not
        ("bus", &[]),
        ("yes", &[]),
        ("classical music", &["music"]),
    ];

    #[test]
    fn phrase_table() {
        let mut failures = Vec::new();
        for (phrase, want) in TABLE {
            let got = categories_for(phrase);
            if got != *want {
                failures.push(format!("{phrase:?}: want {want:?}, got {got:?}"));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn keywords_are_stored_folded_and_unique() {
        let mut seen = BTreeSet::new();
        for (k, cats) in KEYWORDS {
            assert!(!cats.is_empty(), "{k} maps to nothing");
            assert!(seen.insert(*k), "duplicate keyword {k}");
            let refolded = words(k).join(" ");
            assert_eq!(refolded, *k, "keyword {k:?} is not in folded form");
            assert!(k.split(' ').count() <= MAX_PHRASE_WORDS, "{k} too long");
        }
    }

    #[test]
    fn every_suggestion_maps_back_to_its_category() {
        for c in Category::ALL {
            assert_eq!(interpret(c.phrase()).categories, vec![c], "{c:?}");
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn hostile_text_never_panics() {
        for t in [
            "\u{0}\u{FFFF}💥",
            "ß İ ﬁ",
            "'''''",
            "’s",
            &"kids ".repeat(2000),
            "no",
            "not not not",
        ] {
            let _ = interpret(t);
        }
    }

    #[test]
    fn matched_keywords_are_reported() {
        let i = interpret("Live music and something for the kids");
        assert_eq!(i.matched, vec!["live music".to_owned(), "kid".to_owned()]);
    }
}
