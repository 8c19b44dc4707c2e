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

/// True when the byte before `start` would glue the match to a Latin word or number.
pub(crate) fn glued_before(text: &str, start: usize) -> bool {
    text[..start]
        .bytes()
        .next_back()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}

/// True when the byte at `end` continues a Latin word or number.
pub(crate) fn glued_after(text: &str, end: usize) -> bool {
    text.as_bytes()
        .get(end)
        .is_some_and(|b| b.is_ascii_alphanumeric())
}
