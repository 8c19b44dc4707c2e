//! Stage 4: rules that generalize beyond the lexicon. Each works on the normalized text and
//! proposes [`Candidate`](super::candidate::Candidate)s in byte offsets.

pub mod compound;
pub mod date;
pub mod drug_stem;
pub mod quantity;
pub mod test_value;

use regex::Regex;

/// A number as charts write it once normalized: 12, 12.5, 13,200, 0.25.
pub(crate) const NUMBER: &str = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?";

/// Compiles a pattern written in this module (a constant, covered by the unit tests).
pub(crate) fn compile(pattern: &str) -> Regex {
    match Regex::new(pattern) {
        Ok(regex) => regex,
        // The patterns are constants; a typo fails every test that touches the rule.
        Err(err) => panic!("invalid built-in pattern {pattern:?}: {err}"),
    }
}

/// Joins alternatives longest first (the regex crate prefers the first alternative).
pub(crate) fn alternation(words: &[&str]) -> String {
    let mut sorted: Vec<&str> = words.to_vec();
    sorted.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    sorted
        .iter()
        .map(|w| regex::escape(w))
        .collect::<Vec<_>>()
        .join("|")
}

/// True when a match starting with a Latin letter or digit at `start` is glued to the Latin
/// word or number before it (the "2" of "SpO2", the "5" of "V1-5"). Matches starting with a
/// Japanese character are never glued.
pub(crate) fn glued_before(text: &str, start: usize) -> bool {
    let starts_latin = text
        .as_bytes()
        .get(start)
        .is_some_and(|b| b.is_ascii_alphanumeric());
    starts_latin
        && text[..start]
            .bytes()
            .next_back()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}

/// True when a match ending with a Latin letter or digit at `end` continues into a Latin word
/// or number ("2g" in "2gx"); matches ending in a Japanese character are never glued.
pub(crate) fn glued_after(text: &str, end: usize) -> bool {
    let ends_latin = end > 0
        && text
            .as_bytes()
            .get(end - 1)
            .is_some_and(|b| b.is_ascii_alphanumeric());
    ends_latin
        && text
            .as_bytes()
            .get(end)
            .is_some_and(|b| b.is_ascii_alphanumeric())
}
