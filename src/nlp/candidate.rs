//! Candidates: what each stage proposes, in normalized-text byte offsets, before overlaps
//! are resolved (longest span wins, then the higher rank).

use std::collections::BTreeMap;

use super::EntityType;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub kind: EntityType,
    /// Byte offsets into the normalized text.
    pub start: usize,
    pub end: usize,
    /// Canonical form; `None` means the lexicon entry's form, else the normalized surface.
    pub normalized: Option<String>,
    /// The lexicon entry this candidate is (its canonical form is looked up only if kept).
    pub lexicon_entry: Option<usize>,
    /// Tie-breaker between candidates of equal length (higher wins).
    pub rank: u8,
}

/// Ranks: a value right after a test name beats a bare quantity or a date on the same span.
pub mod rank {
    pub const RULE: u8 = 1;
    pub const LEXICON: u8 = 2;
    pub const COMPOUND: u8 = 3;
    pub const TEST_ADJACENT: u8 = 4;
}

impl Candidate {
    pub fn new(kind: EntityType, start: usize, end: usize, rank: u8) -> Self {
        Candidate {
            kind,
            start,
            end,
            normalized: None,
            lexicon_entry: None,
            rank,
        }
    }

    pub fn with_lexicon_entry(mut self, entry: usize) -> Self {
        self.lexicon_entry = Some(entry);
        self
    }

    pub fn with_normalized(mut self, normalized: impl Into<String>) -> Self {
        self.normalized = Some(normalized.into());
        self
    }

    fn len(&self) -> usize {
        self.end - self.start
    }
}

/// Keeps a set of non-overlapping candidates: longer spans first, then higher rank, then
/// earlier start. Returns them sorted by start.
pub fn resolve_overlaps(mut candidates: Vec<Candidate>) -> Vec<Candidate> {
    candidates.retain(|c| c.end > c.start);
    candidates.sort_by(|a, b| {
        b.len()
            .cmp(&a.len())
            .then(b.rank.cmp(&a.rank))
            .then(a.start.cmp(&b.start))
    });
    // Accepted spans are disjoint, so only the nearest one starting before `end` can overlap.
    let mut accepted: BTreeMap<usize, Candidate> = BTreeMap::new();
    for candidate in candidates {
        let overlaps = accepted
            .range(..candidate.end)
            .next_back()
            .is_some_and(|(_, prev)| prev.end > candidate.start);
        if !overlaps {
            accepted.insert(candidate.start, candidate);
        }
    }
    accepted.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_then_rank_wins() {
        let kept = resolve_overlaps(vec![
            Candidate::new(EntityType::Anatomy, 0, 3, rank::LEXICON),
            Candidate::new(EntityType::Disease, 0, 9, rank::LEXICON),
            Candidate::new(EntityType::Date, 10, 13, rank::RULE),
            Candidate::new(EntityType::TestValue, 10, 13, rank::TEST_ADJACENT),
            Candidate::new(EntityType::Dose, 12, 15, rank::RULE),
            Candidate::new(EntityType::Dose, 20, 20, rank::RULE),
        ]);
        let kinds: Vec<_> = kept.iter().map(|c| (c.kind, c.start)).collect();
        assert_eq!(
            kinds,
            vec![(EntityType::Disease, 0), (EntityType::TestValue, 10)]
        );
    }
}
