//! The provenance guard, incremental: the chart is indexed once; each draft section is
//! split into sentences and only sentences whose text changed are extracted and checked
//! again, so re-running it on every keystroke costs one short sentence.
//!
//! Besides the typed entities, every bare number of a sentence (「3回」, 「7日間」, scores)
//! must appear in the chart. ICD-10 codes, department and ward names are not facts and are
//! skipped. Spans a section copied from the chart (its provenance) are supported by
//! construction, with their record as the evidence.

use super::chart_index::ChartIndex;
use super::check::{check_fact, Check, Verdict};
use super::codes::{code_spans, overlaps};
use super::facts::{facts_of, sentence_spans, DateValue};
use super::numbers::quantities;
use super::report::{GuardItem, GuardReport, ItemKind, OmittedFact};
use crate::chart::Source;
use crate::nlp::{Certainty, EntityType, Pipeline};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

/// Char ranges of a section's text and the chart record each was copied from.
pub type Provenance = [(Range<usize>, Source)];

/// A section (key, text) with its copied spans.
pub type SectionWithSpans = (String, String, Vec<(Range<usize>, Source)>);

/// Copied spans per section key.
pub type SectionSpans = Vec<(String, Vec<(Range<usize>, Source)>)>;

/// One checked fact of a sentence (offsets relative to the sentence).
#[derive(Debug, Clone)]
struct CheckedFact {
    kind: ItemKind,
    /// As written in the draft.
    text: String,
    normalized: String,
    certainty: Option<Certainty>,
    start: usize,
    end: usize,
    /// The lookup key that counts as mentioning a chart fact (the omission check).
    key: Option<String>,
    /// For doses and test values: the head and the comparable value (the item's identity).
    head: Option<String>,
    value: Option<String>,
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
    provenance: Vec<(Range<usize>, Source)>,
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
        self.update_section_with_provenance(key, text, &[])
    }

    /// Like `update_section`, with the spans of `text` the draft copied from the chart
    /// (char ranges, end exclusive, and their record): every fact wholly inside one is
    /// supported, with that record as its evidence. Pass only spans that still hold the
    /// copied text (see `review::provenance_after_edit`).
    pub fn update_section_with_provenance(
        &mut self,
        key: &str,
        text: &str,
        provenance: &Provenance,
    ) -> bool {
        let position = self.sections.iter().position(|s| s.key == key);
        if let Some(i) = position {
            if self.sections[i].text == text && self.sections[i].provenance == provenance {
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
            provenance: provenance.to_vec(),
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
        self.update_all_with_provenance(sections.into_iter().map(|(k, t)| (k, t, &[][..])));
    }

    /// Sets every section at once with its provenance (sections not listed are dropped),
    /// kept in the order given like `update_all`.
    pub fn update_all_with_provenance<'a>(
        &mut self,
        sections: impl IntoIterator<Item = (&'a str, &'a str, &'a Provenance)>,
    ) {
        let mut order: HashMap<String, usize> = HashMap::new();
        for (key, text, provenance) in sections {
            self.update_section_with_provenance(key, text, provenance);
            let next = order.len();
            order.entry(key.to_string()).or_insert(next);
        }
        self.sections.retain(|s| order.contains_key(&s.key));
        self.sections
            .sort_by_key(|s| order.get(&s.key).copied().unwrap_or(usize::MAX));
    }

    fn check_sentence(&self, sentence: &str) -> Vec<CheckedFact> {
        let codes = code_spans(sentence, self.index.icd_codes());
        // Entities inside a code or a department / ward name are not facts (K80.0 is not
        // the test K with the value 80.0).
        let entities: Vec<_> = self
            .pipeline
            .extract(sentence)
            .into_iter()
            .filter(|e| !overlaps(&codes, e.start, e.end))
            .collect();
        let mut checked: Vec<CheckedFact> = facts_of(sentence, &entities)
            .into_iter()
            .filter_map(|fact| {
                let check = check_fact(&self.index, &fact)?;
                Some(CheckedFact {
                    kind: ItemKind::Entity(fact.entity.kind),
                    text: fact.entity.text.clone(),
                    normalized: fact.entity.normalized.clone(),
                    certainty: fact.entity.certainty,
                    start: fact.entity.start,
                    end: fact.entity.end,
                    key: Some(fact.key),
                    head: fact.head,
                    value: fact.value,
                    check,
                })
            })
            .collect();
        // Bare numbers: those not part of an entity (typed and checked above), a code or a
        // name must be written somewhere in the chart.
        // A relative date (入院15日目, 第3病日, POD 5) resolves to no chart date: its number
        // is checked like a bare one.
        let typed: Vec<_> = entities
            .iter()
            .filter(|e| e.kind != EntityType::Date || DateValue::parse(&e.normalized).is_some())
            .collect();
        for number in quantities(sentence) {
            let inside_entity = typed
                .iter()
                .any(|e| number.start < e.end && e.start < number.end);
            if inside_entity || overlaps(&codes, number.start, number.end) {
                continue;
            }
            let found = self
                .index
                .number_sources_counting(&number.key, number.family);
            if !found.is_empty() {
                continue;
            }
            checked.push(CheckedFact {
                kind: ItemKind::Number,
                check: Check::number_not_in_chart(&number.text),
                // The item spans the number and its counter (「7日間」).
                end: number.start + number.text.chars().count(),
                text: number.text,
                normalized: number.key,
                certainty: None,
                start: number.start,
                key: None,
                head: None,
                value: None,
            });
        }
        checked.sort_by_key(|c| (c.start, c.end));
        checked
    }

    /// The findings for the current text (cheap: no extraction happens here).
    pub fn report(&self) -> GuardReport {
        let mut items = Vec::new();
        let mut mentioned: HashSet<&str> = HashSet::new();
        for section in &self.sections {
            let mut occurrences: HashMap<String, usize> = HashMap::new();
            for sentence in &section.sentences {
                for checked in sentence.facts.iter() {
                    let start = sentence.start + checked.start;
                    let end = sentence.start + checked.end;
                    let copied = section
                        .provenance
                        .iter()
                        .find(|(range, _)| range.start <= start && end <= range.end);
                    let check = match copied {
                        Some((_, source)) => Check::copied(source.clone()),
                        None => checked.check.clone(),
                    };
                    if checked.kind == ItemKind::Number && check.verdict == Verdict::Supported {
                        continue; // numbers are listed only when the chart lacks them
                    }
                    if let Some(key) = &checked.key {
                        mentioned.insert(key.as_str());
                    }
                    let kind = match checked.kind {
                        ItemKind::Entity(kind) => kind.to_string(),
                        ItemKind::Number => "number".to_string(),
                    };
                    let identity = format!(
                        "{}\u{0}{:?}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
                        section.key,
                        check.verdict,
                        kind,
                        checked.normalized,
                        checked.head.as_deref().unwrap_or_default(),
                        checked.value.as_deref().unwrap_or_default(),
                    );
                    let n = occurrences.entry(identity.clone()).or_insert(0);
                    *n += 1;
                    let digest = Sha256::digest(format!("{identity}\u{0}{n}").as_bytes());
                    items.push(GuardItem {
                        id: format!("g-{}", &hex::encode(digest)[..16]),
                        section: section.key.clone(),
                        verdict: check.verdict,
                        kind: checked.kind,
                        text: checked.text.clone(),
                        normalized: checked.normalized.clone(),
                        certainty: checked.certainty,
                        start,
                        end,
                        reason: check.reason,
                        sources: check.sources,
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

/// Checks a whole draft in one go, with each section's provenance (no incremental state).
pub fn check_draft_with_provenance(
    pipeline: Arc<Pipeline>,
    index: Arc<ChartIndex>,
    sections: &[SectionWithSpans],
) -> GuardReport {
    let mut guard = ProvenanceGuard::new(pipeline, index);
    guard.update_all_with_provenance(
        sections
            .iter()
            .map(|(k, t, p)| (k.as_str(), t.as_str(), p.as_slice())),
    );
    guard.report()
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
