//! Evidence first: for each narrative section, the sentences of the chart that may support it,
//! chosen by the template's rules (note kinds and sectionizer labels, in priority order),
//! deduplicated and bounded in length. `evidence` mode writes them as they are; `grounded`
//! mode gives only them to the model; both keep each sentence's source (note + char span).

use std::ops::Range;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::chart::{Chart, Note, Source};
use crate::nlp::sectionizer::{self, NoteSegment, SOAP_LABELS, UNLABELLED};

use super::template::SectionTemplate;

/// Which of the matching notes give evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    /// Every matching note, oldest first.
    #[default]
    All,
    /// The first note (by date) that has a matching segment.
    First,
    /// The last note (by date) that has a matching segment.
    Last,
}

/// One source of evidence for a section: notes of these kinds, segments with these labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRule {
    /// Note kinds (a note matches when its kind contains one); empty: any note.
    #[serde(default)]
    pub note_kinds: Vec<String>,
    /// Sectionizer labels (`chief_complaint`, `plan`, `op_procedure`, `none` …); empty: the
    /// whole note.
    #[serde(default)]
    pub segments: Vec<String>,
    #[serde(default)]
    pub pick: Pick,
    /// Used only when the rules before it found nothing (「退院時記録, else the last P」).
    #[serde(default)]
    pub fallback: bool,
    /// Keep the segment's heading (「造影CT：」) in front of its first sentence.
    #[serde(default)]
    pub with_heading: bool,
}

/// One quoted piece of the chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub note_id: String,
    pub note_kind: String,
    pub datetime: NaiveDateTime,
    /// The sectionizer label of the segment it came from.
    pub label: String,
    /// Char offsets into the note's text (end exclusive).
    pub start: usize,
    pub end: usize,
    pub text: String,
}

impl EvidenceItem {
    pub fn source(&self) -> Source {
        Source::Note {
            id: self.note_id.clone(),
            start: self.start,
            end: self.end,
        }
    }
}

/// A section's evidence, in the order it is written.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SectionEvidence {
    pub items: Vec<EvidenceItem>,
}

/// What an empty section says: the chart has nothing for it, and nothing is invented.
pub const NO_RECORD: &str = "記録なし";

impl SectionEvidence {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The section as evidence mode writes it, with each item's span and source. Items of
    /// one segment run on as prose; a new segment starts a new line.
    pub fn compose(&self) -> (String, Vec<(Range<usize>, Source)>) {
        if self.items.is_empty() {
            return (NO_RECORD.to_string(), Vec::new());
        }
        let mut text = String::new();
        let mut len = 0usize;
        let mut provenance = Vec::new();
        let mut previous: Option<&EvidenceItem> = None;
        for item in &self.items {
            if let Some(p) = previous {
                let same_segment = p.note_id == item.note_id && p.label == item.label;
                let sep = if same_segment {
                    if ends_sentence(&p.text) {
                        ""
                    } else {
                        "。"
                    }
                } else {
                    "\n"
                };
                text.push_str(sep);
                len += sep.chars().count();
            }
            let n = item.text.chars().count();
            provenance.push((len..len + n, item.source()));
            text.push_str(&item.text);
            len += n;
            previous = Some(item);
        }
        (text, provenance)
    }

    /// Each item on its own line after its note's date (「6/9 腹腔鏡下胆嚢摘出術」).
    pub fn compose_dated(&self) -> (String, Vec<(Range<usize>, Source)>) {
        if self.items.is_empty() {
            return (NO_RECORD.to_string(), Vec::new());
        }
        use chrono::Datelike;
        let mut text = String::new();
        let mut len = 0usize;
        let mut provenance = Vec::new();
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                text.push('\n');
                len += 1;
            }
            let d = item.datetime.date();
            let date = format!("{}/{}", d.month(), d.day());
            let n = date.chars().count();
            provenance.push((
                len..len + n,
                Source::Note {
                    id: item.note_id.clone(),
                    start: 0,
                    end: 0,
                },
            ));
            text.push_str(&date);
            text.push(' ');
            len += n + 1;
            let n = item.text.chars().count();
            provenance.push((len..len + n, item.source()));
            text.push_str(&item.text);
            len += n;
        }
        (text, provenance)
    }

    /// The evidence as the model sees it in `grounded` mode: one quoted sentence a line.
    pub fn prompt_lines(&self) -> String {
        self.items
            .iter()
            .map(|i| format!("・{}\n", i.text))
            .collect()
    }
}

pub(crate) fn ends_sentence(text: &str) -> bool {
    text.trim_end()
        .ends_with(['。', '！', '？', '!', '?', '.', '）', ')', '」'])
}

/// Every note of a chart with its segments, computed once per draft.
pub struct SectionedChart<'a> {
    /// Notes by date with their segments.
    pub notes: Vec<(&'a Note, Vec<NoteSegment>)>,
}

impl<'a> SectionedChart<'a> {
    pub fn new(chart: &'a Chart) -> Self {
        let notes = chart
            .notes_by_date()
            .into_iter()
            .map(|n| (n, sectionizer::sectionize(&n.text, &n.kind)))
            .collect();
        Self { notes }
    }

    /// The segments of notes that match `rule`, as (note, segment), in the rule's order.
    fn matching(&self, rule: &EvidenceRule) -> Vec<(&'a Note, NoteSegment)> {
        let kind_ok = |n: &Note| {
            rule.note_kinds.is_empty()
                || rule.note_kinds.iter().any(|k| n.kind.contains(k.as_str()))
        };
        let mut per_note: Vec<Vec<(&'a Note, NoteSegment)>> = Vec::new();
        for (note, segments) in &self.notes {
            if !kind_ok(note) {
                continue;
            }
            let chosen: Vec<(&'a Note, NoteSegment)> = segments
                .iter()
                .filter(|s| rule.segments.is_empty() || rule.segments.contains(&s.label))
                .map(|s| (*note, s.clone()))
                .collect();
            if !chosen.is_empty() {
                per_note.push(chosen);
            }
        }
        match rule.pick {
            Pick::All => per_note.into_iter().flatten().collect(),
            Pick::First => per_note.into_iter().next().unwrap_or_default(),
            Pick::Last => per_note.into_iter().next_back().unwrap_or_default(),
        }
    }
}

/// The evidence of one narrative section.
pub fn select(sectioned: &SectionedChart, section: &SectionTemplate) -> SectionEvidence {
    let budget = section.evidence_chars;
    let mut items: Vec<EvidenceItem> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut used = 0usize;
    for rule in &section.evidence {
        if rule.fallback && !items.is_empty() {
            continue;
        }
        for (note, segment) in sectioned.matching(rule) {
            let chars: Vec<char> = note.text.chars().collect();
            let with_heading = rule.with_heading
                && segment.start < segment.body_start
                && segment.label != UNLABELLED
                && !SOAP_LABELS.contains(&segment.label.as_str());
            for (i, range) in sectionizer::sentences(&note.text, segment.body())
                .into_iter()
                .enumerate()
            {
                let start = if i == 0 && with_heading {
                    segment.start
                } else {
                    range.start
                };
                let text: String = chars[start..range.end].iter().collect();
                if !informative(&text) {
                    continue;
                }
                let key = dedup_key(&text);
                if seen
                    .iter()
                    .any(|s| s.contains(&key) || key.contains(s.as_str()))
                {
                    continue;
                }
                let n = text.chars().count();
                if used > 0 && used + n > budget {
                    return SectionEvidence { items };
                }
                used += n;
                seen.push(key);
                items.push(EvidenceItem {
                    note_id: note.id.clone(),
                    note_kind: note.kind.clone(),
                    datetime: note.datetime,
                    label: segment.label.clone(),
                    start,
                    end: range.end,
                    text,
                });
            }
        }
    }
    SectionEvidence { items }
}

/// A sentence worth quoting: not just punctuation, a date or a bare heading word.
fn informative(text: &str) -> bool {
    let meaningful = text
        .chars()
        .filter(|c| c.is_alphabetic() && !c.is_ascii_punctuation())
        .count();
    meaningful >= 2 && !matches!(text.trim(), "なし" | "特記なし" | "特記事項なし")
}

/// Text compared for duplicates: without spaces and punctuation, full-width folded.
pub(crate) fn dedup_key(text: &str) -> String {
    text.chars()
        .map(sectionizer::fold)
        .filter(|c| !c.is_whitespace() && !matches!(c, '。' | '、' | '.' | ','))
        .collect()
}

/// The sentences of a template's format example, as duplicate keys (headings left out):
/// no draft may copy them.
pub(crate) fn example_sentences(example: &str) -> Vec<String> {
    example
        .lines()
        .filter(|l| !l.trim_start().starts_with('【'))
        .flat_map(|l| l.split('。'))
        .map(dedup_key)
        .filter(|k| !k.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::draft::{DocumentKind, DocumentTemplate};

    fn chart() -> Chart {
        serde_json::from_value(serde_json::json!({
            "id": "T-1",
            "patient": {"id": "p", "name": "試験 花子"},
            "notes": [
                {"id": "n1", "datetime": "2026-05-01T10:00", "kind": "入院時記録",
                 "text": "主訴：腹痛\n現病歴：昨日から腹痛。本日嘔吐あり。\n身体所見：腹部に圧痛。\nCT：虫垂腫大。"},
                {"id": "n2", "datetime": "2026-05-02T10:00", "kind": "経過記録",
                 "text": "S)痛みは軽い\nO)BT 36.8\nA)#1 虫垂炎 改善\nP)食事開始"},
                {"id": "n3", "datetime": "2026-05-03T10:00", "kind": "経過記録",
                 "text": "S)痛みなし\nP)明日退院。外来で経過観察。"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn rules_in_priority_order_with_provenance() {
        let chart = chart();
        let sectioned = SectionedChart::new(&chart);
        let template = DocumentTemplate::builtin(DocumentKind::Discharge);
        let cc = select(&sectioned, template.section("chief_complaint").unwrap());
        assert_eq!(cc.items.len(), 1);
        assert_eq!(cc.items[0].text, "腹痛");
        let (text, prov) = cc.compose();
        assert_eq!(text, "腹痛");
        let Source::Note { id, start, end } = &prov[0].1 else {
            panic!()
        };
        assert_eq!(id, "n1");
        let note: Vec<char> = chart.notes[0].text.chars().collect();
        assert_eq!(note[*start..*end].iter().collect::<String>(), "腹痛");

        // 退院時記録 is missing: the plan falls back to the last P.
        let plan = select(&sectioned, template.section("plan").unwrap());
        assert!(plan.items.iter().all(|i| i.note_id == "n3"), "{plan:?}");
        assert!(plan.compose().0.contains("外来で経過観察"));
    }

    #[test]
    fn nothing_found_says_so() {
        let chart: Chart = serde_json::from_value(serde_json::json!({
            "id": "T-2", "patient": {"id": "p", "name": "x"}, "notes": []
        }))
        .unwrap();
        let sectioned = SectionedChart::new(&chart);
        let template = DocumentTemplate::builtin(DocumentKind::Discharge);
        let cc = select(&sectioned, template.section("chief_complaint").unwrap());
        assert_eq!(cc.compose(), (NO_RECORD.to_string(), Vec::new()));
    }
}
