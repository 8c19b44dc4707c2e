//! Provenance through edits: a section's copied spans hold only while their text is the
//! text that was copied. When the clinician edits a section, spans before the edit keep
//! their offsets, spans after it shift by the length change, and a span the edit touches
//! is dropped (its text is the clinician's now, and is checked like any other).

use crate::chart::Source;
use std::ops::Range;

/// The spans of `drafted`'s provenance that still hold in `current`, at their offsets in
/// `current`. The edit is taken as one change between the common prefix and suffix of the
/// two texts (several edits count as one wider change: safe, never keeps an edited span).
pub fn provenance_after_edit(
    drafted: &str,
    current: &str,
    provenance: &[(Range<usize>, Source)],
) -> Vec<(Range<usize>, Source)> {
    let old: Vec<char> = drafted.chars().collect();
    let new: Vec<char> = current.chars().collect();
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    // Changed: old[prefix .. old.len() - suffix] became new[prefix .. new.len() - suffix].
    let old_changed_end = old.len() - suffix;
    let new_changed_end = new.len() - suffix;
    provenance
        .iter()
        .filter_map(|(range, source)| {
            if range.end > old.len() || range.start >= range.end {
                return None;
            }
            if range.end <= prefix {
                return Some((range.clone(), source.clone())); // before the edit
            }
            if range.start >= old_changed_end {
                let shifted = range.start - old_changed_end + new_changed_end
                    ..range.end - old_changed_end + new_changed_end;
                return Some((shifted, source.clone()));
            }
            None
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note() -> Source {
        Source::Note {
            id: "n1".into(),
            start: 0,
            end: 4,
        }
    }

    fn spans(drafted: &str, current: &str, ranges: &[Range<usize>]) -> Vec<Range<usize>> {
        let provenance: Vec<_> = ranges.iter().map(|r| (r.clone(), note())).collect();
        provenance_after_edit(drafted, current, &provenance)
            .into_iter()
            .map(|(r, _)| r)
            .collect()
    }

    #[test]
    fn unchanged_text_keeps_every_span() {
        assert_eq!(
            spans("肺炎。発熱。", "肺炎。発熱。", &[0..3, 3..6]),
            [0..3, 3..6]
        );
    }

    #[test]
    fn edits_drop_the_touched_span_and_shift_the_rest() {
        // 「発熱」 → 「高熱」: the second span is edited, the first stays.
        assert_eq!(
            spans("肺炎。発熱。", "肺炎。高熱。", &[0..3, 3..6]),
            vec![0..3]
        );
        // An insertion at the start shifts everything after it.
        assert_eq!(
            spans("肺炎。発熱。", "※肺炎。発熱。", &[0..3, 3..6]),
            [1..4, 4..7]
        );
        // Text appended at the end leaves both spans.
        assert_eq!(
            spans("肺炎。発熱。", "肺炎。発熱。追記", &[0..3, 3..6]),
            [0..3, 3..6]
        );
        // A deletion inside the first span drops it, the second shifts back.
        assert_eq!(
            spans("肺炎。発熱。", "肺。発熱。", &[0..3, 3..6]),
            vec![2..5]
        );
    }

    #[test]
    fn spans_beyond_the_text_are_dropped() {
        let beyond = Range { start: 0, end: 9 };
        assert!(spans("肺炎", "肺炎。", std::slice::from_ref(&beyond)).is_empty());
    }

    proptest::proptest! {
        /// Whatever one edit does, every span kept holds exactly the text it held before.
        #[test]
        fn kept_spans_hold_the_copied_text(
            drafted in "[肺炎。熱ab]{0,12}",
            cuts in proptest::collection::vec((0usize..13, 0usize..13), 0..4),
            at in 0usize..13,
            removed in 0usize..4,
            inserted in "[肺炎。x]{0,3}",
        ) {
            let old: Vec<char> = drafted.chars().collect();
            // Each span's source carries its index, to find the copied text again.
            let provenance: Vec<(Range<usize>, Source)> = cuts
                .iter()
                .enumerate()
                .map(|(i, &(a, b))| {
                    let range = a.min(b).min(old.len())..a.max(b).min(old.len());
                    (range, Source::Note { id: "n".into(), start: i, end: i })
                })
                .collect();
            let at = at.min(old.len());
            let end = (at + removed).min(old.len());
            let current: String = old[..at]
                .iter()
                .copied()
                .chain(inserted.chars())
                .chain(old[end..].iter().copied())
                .collect();
            let new: Vec<char> = current.chars().collect();
            for (range, source) in provenance_after_edit(&drafted, &current, &provenance) {
                let Source::Note { start: i, .. } = source else {
                    unreachable!("only note sources were given");
                };
                let kept: String = new[range.clone()].iter().collect();
                let copied: String = old[provenance[i].0.clone()].iter().collect();
                proptest::prop_assert_eq!(kept, copied);
                proptest::prop_assert!(!range.is_empty());
            }
        }
    }
}
