//! The provenance guard, incremental: the chart is indexed once; each draft section is
//! split into sentences and only sentences whose text changed are extracted and checked
//! again, so re-running it on every keystroke costs one short sentence.

use super::chart_index::ChartIndex;
use super::check::{check_fact, Check};
use super::facts::{facts_of, sentence_spans, Fact};
use super::report::{GuardItem, GuardReport, OmittedFact};
use crate::nlp::Pipeline;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One checked fact of a sentence (offsets relative to the sentence).
#[derive(Debug, Clone)]
struct CheckedFact {
    fact: Fact,
    check: Check,
}

#[derive(Debug, Clone)]
struct Sentence {
    text: String,
    /// Character offset of the sentence in its section.
    start: usize,
    facts: Arc<Vec<CheckedFact>>,
}

#[derive(Debug, Clone)]
struct SectionCheck {
    key: String,
    text: String,
    sentences: Vec<Sentence>,
}

/// How much work the guard did (for tests and the status line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuardWork {
    pub sentences_checked: u64,
    pub sentences_reused: u64,
}

pub struct ProvenanceGuard {
    pipeline: Arc<Pipeline>,
    index: Arc<ChartIndex>,
    sections: Vec<SectionCheck>,
    work: GuardWork,
}

impl ProvenanceGuard {
    /// `index` is `ChartIndex::build(&pipeline, &chart)` (built once per chart).
    pub fn new(pipeline: Arc<Pipeline>, index: Arc<ChartIndex>) -> Self {
        Self {
            pipeline,
            index,
            sections: Vec::new(),
            work: GuardWork::default(),
        }
    }

    pub fn index(&self) -> &ChartIndex {
        &self.index
    }

    pub fn work(&self) -> GuardWork {
        self.work
    }

    /// Sets a section's text; returns whether anything changed. Unchanged sentences keep
    /// their earlier result.
    pub fn update_section(&mut self, key: &str, text: &str) -> bool {
        let position = self.sections.iter().position(|s| s.key == key);
        if let Some(i) = position {
            if self.sections[i].text == text {
                return false;
            }
        }
        let previous: HashMap<&str, &Arc<Vec<CheckedFact>>> = position
            .map(|i| {
                self.sections[i]
                    .sentences
                    .iter()
                    .map(|s| (s.text.as_str(), &s.facts))
                    .collect()
            })
            .unwrap_or_default();
        let chars: Vec<char> = text.chars().collect();
        let mut sentences = Vec::new();
        let mut checked = 0;
        let mut reused = 0;
        for (start, end) in sentence_spans(text) {
            let sentence: String = chars[start..end].iter().collect();
            let facts = match previous.get(sentence.as_str()) {
                Some(facts) => {
                    reused += 1;
                    Arc::clone(facts)
                }
                None => {
                    checked += 1;
                    Arc::new(self.check_sentence(&sentence))
                }
            };
            sentences.push(Sentence {
                text: sentence,
                start,
                facts,
            });
        }
        self.work.sentences_checked += checked;
        self.work.sentences_reused += reused;
        let section = SectionCheck {
            key: key.to_string(),
            text: text.to_string(),
            sentences,
        };
        match position {
            Some(i) => self.sections[i] = section,
            None => self.sections.push(section),
        }
        true
    }

    pub fn remove_section(&mut self, key: &str) {
        self.sections.retain(|s| s.key != key);
    }

    /// Sets every section at once (sections not listed are dropped).
    /// The sections are kept in the order given, as a fresh guard would have them (a
    /// section added above the others reports its findings first).
    pub fn update_all<'a>(&mut self, sections: impl IntoIterator<Item = (&'a str, &'a str)>) {
        let mut order: HashMap<String, usize> = HashMap::new();
        for (key, text) in sections {
            self.update_section(key, text);
            let next = order.len();
            order.entry(key.to_string()).or_insert(next);
        }
        self.sections.retain(|s| order.contains_key(&s.key));
        self.sections
            .sort_by_key(|s| order.get(&s.key).copied().unwrap_or(usize::MAX));
    }

    fn check_sentence(&self, sentence: &str) -> Vec<CheckedFact> {
        let entities = self.pipeline.extract(sentence);
        facts_of(sentence, &entities)
            .into_iter()
            .filter_map(|fact| {
                check_fact(&self.index, &fact).map(|check| CheckedFact { fact, check })
            })
            .collect()
    }

    /// The findings for the current text (cheap: no extraction happens here).
    pub fn report(&self) -> GuardReport {
        let mut items = Vec::new();
        let mut mentioned: HashSet<&str> = HashSet::new();
        for section in &self.sections {
            let mut occurrences: HashMap<String, usize> = HashMap::new();
            for sentence in &section.sentences {
                for checked in sentence.facts.iter() {
                    let fact = &checked.fact;
                    mentioned.insert(fact.key.as_str());
                    let identity = format!(
                        "{}\u{0}{:?}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
                        section.key,
                        checked.check.verdict,
                        fact.entity.kind,
                        fact.entity.normalized,
                        fact.head.as_deref().unwrap_or_default(),
                        fact.value.as_deref().unwrap_or_default(),
                    );
                    let n = occurrences.entry(identity.clone()).or_insert(0);
                    *n += 1;
                    let digest = Sha256::digest(format!("{identity}\u{0}{n}").as_bytes());
                    items.push(GuardItem {
                        id: format!("g-{}", &hex::encode(digest)[..16]),
                        section: section.key.clone(),
                        verdict: checked.check.verdict,
                        kind: fact.entity.kind,
                        text: fact.entity.text.clone(),
                        normalized: fact.entity.normalized.clone(),
                        certainty: fact.entity.certainty,
                        start: sentence.start + fact.entity.start,
                        end: sentence.start + fact.entity.end,
                        reason: checked.check.reason.clone(),
                        sources: checked.check.sources.clone(),
                    });
                }
            }
        }
        let all_text: String = self.sections.iter().map(|s| s.text.as_str()).collect();
        let omitted = self
            .index
            .expected()
            .iter()
            .filter(|e| {
                let by_key = e.keys.iter().any(|k| mentioned.contains(k.as_str()));
                let by_text = !e.label.trim().is_empty() && all_text.contains(e.label.trim());
                !by_key && !by_text
            })
            .map(|e| OmittedFact {
                kind: e.kind.clone(),
                label: e.label.clone(),
                source: e.source.clone(),
            })
            .collect();
        GuardReport { items, omitted }
    }
}

/// Checks a whole draft in one go (no incremental state kept).
pub fn check_draft(
    pipeline: Arc<Pipeline>,
    index: Arc<ChartIndex>,
    sections: &[(String, String)],
) -> GuardReport {
    let mut guard = ProvenanceGuard::new(pipeline, index);
    guard.update_all(sections.iter().map(|(k, t)| (k.as_str(), t.as_str())));
    guard.report()
}
