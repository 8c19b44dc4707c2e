//! What a clinician lives with in an unedited draft, measured against its chart: facts the
//! provenance guard flags (unsupported or contradicted), numbers the chart does not contain,
//! and the key facts of the chart (active problems, procedures, discharge prescriptions,
//! allergies, abnormal tests) that the draft carries. Used by `karte bench drafts` and by
//! the tests that hold the evidence-first targets.

use std::collections::HashSet;
use std::sync::Arc;

use serde::Serialize;

use crate::chart::{Chart, DiagnosisStatus};
use crate::nlp::sectionizer;
use crate::nlp::Pipeline;
use crate::review::{check_draft_with_provenance, ChartIndex, Verdict};

use super::evidence::dedup_key;
use super::grounded::numbers_in;
use super::model::{Draft, SectionKind};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DraftQuality {
    /// Characters of the narrative sections.
    pub narrative_chars: usize,
    /// Unsupported + contradicted items in narrative sections.
    pub narrative_flags: usize,
    /// Unsupported + contradicted items in factual sections (all false: they are copied).
    pub factual_flags: usize,
    /// Numbers in narrative sections that appear nowhere in the chart.
    pub numbers_not_in_chart: Vec<String>,
    pub key_facts: usize,
    pub key_facts_found: usize,
    /// The key facts the draft lacks.
    pub missing: Vec<String>,
    /// What the guard flagged (section, text, reason), for reading the figures.
    pub flagged: Vec<(String, String, String)>,
}

/// Measures `draft` against `chart` (the guard sees each section's provenance: what was
/// copied from the chart is supported by construction).
pub fn assess(chart: &Chart, draft: &Draft, pipeline: &Arc<Pipeline>) -> DraftQuality {
    let index = Arc::new(ChartIndex::build(pipeline, chart));
    // Copied spans count as supported, as in the TUI and `karte check`.
    let sections: Vec<_> = draft
        .sections
        .iter()
        .map(|s| (s.key.clone(), s.text.clone(), s.provenance.clone()))
        .collect();
    let report = check_draft_with_provenance(Arc::clone(pipeline), index, &sections);
    let mut q = DraftQuality::default();
    for item in report
        .items
        .iter()
        .filter(|i| i.verdict != Verdict::Supported)
    {
        let factual = draft
            .section(&item.section)
            .is_some_and(|s| s.kind == SectionKind::Factual);
        if factual {
            q.factual_flags += 1;
        } else {
            q.narrative_flags += 1;
        }
        q.flagged
            .push((item.section.clone(), item.text.clone(), item.explanation()));
    }
    let chart_numbers = chart_numbers(chart);
    for s in draft
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Narrative)
    {
        q.narrative_chars += s.text.chars().count();
        for n in numbers_in(&s.text) {
            if !chart_numbers.contains(&canonical(&n)) {
                q.numbers_not_in_chart.push(n);
            }
        }
    }
    let text = dedup_key(&draft.to_text());
    for fact in key_facts(chart) {
        q.key_facts += 1;
        if text.contains(&dedup_key(&fact)) {
            q.key_facts_found += 1;
        } else {
            q.missing.push(fact);
        }
    }
    q
}

/// 007 → 7; 38.0 is already 38 (numbers_in).
fn canonical(n: &str) -> String {
    if n.contains('.') {
        return n.to_string();
    }
    let t = n.trim_start_matches('0');
    if t.is_empty() {
        "0".into()
    } else {
        t.into()
    }
}

/// Every number the chart holds: in notes, records and dates.
fn chart_numbers(chart: &Chart) -> HashSet<String> {
    use chrono::Datelike;
    let mut texts: Vec<String> = chart.notes.iter().map(|n| n.text.clone()).collect();
    let mut dates = Vec::new();
    for n in &chart.notes {
        dates.push(n.datetime.date());
    }
    for l in &chart.labs {
        texts.push(format!(
            "{} {} {} {}",
            l.item, l.value, l.unit, l.reference_range
        ));
        dates.push(l.datetime.date());
    }
    for p in &chart.prescriptions {
        texts.push(format!(
            "{} {} {} {} {}",
            p.drug,
            p.dose,
            p.unit,
            p.frequency,
            p.days.unwrap_or(0)
        ));
        dates.extend(p.start);
        dates.extend(p.end);
    }
    for d in &chart.diagnoses {
        texts.push(format!(
            "{} {}",
            d.name,
            d.icd10.clone().unwrap_or_default()
        ));
    }
    for a in &chart.allergies {
        texts.push(format!("{} {}", a.substance, a.reaction));
    }
    dates.extend(chart.encounter.admission_date);
    dates.extend(chart.encounter.discharge_date);
    let mut out: HashSet<String> = texts
        .iter()
        .flat_map(|t| numbers_in(t))
        .map(|n| canonical(&n))
        .collect();
    for d in dates {
        out.insert(d.year().to_string());
        out.insert(d.month().to_string());
        out.insert(d.day().to_string());
    }
    out
}

/// The facts a document about this chart must carry: active problems, procedures,
/// discharge prescriptions, allergies and tests with an abnormal value.
pub fn key_facts(chart: &Chart) -> Vec<String> {
    let mut facts = Vec::new();
    for d in &chart.diagnoses {
        if d.status == DiagnosisStatus::Active {
            facts.push(d.name.clone());
        }
    }
    for n in &chart.notes {
        if !n.kind.contains("手術") {
            continue;
        }
        for s in sectionizer::sectionize(&n.text, &n.kind) {
            if s.label == "op_procedure" {
                if let Some(first) = sectionizer::sentences(&n.text, s.body()).into_iter().next() {
                    let text: String = n.text.chars().skip(first.start).take(first.len()).collect();
                    facts.push(text.trim_end_matches('。').to_string());
                }
            }
        }
    }
    for p in chart.prescriptions.iter().filter(|p| p.discharge) {
        facts.push(p.drug.clone());
    }
    for a in &chart.allergies {
        facts.push(a.substance.clone());
    }
    let mut abnormal: Vec<String> = chart
        .labs
        .iter()
        .filter(|l| l.flag.is_some())
        .map(|l| l.item.clone())
        .collect();
    abnormal.sort();
    abnormal.dedup();
    facts.extend(abnormal);
    facts.retain(|f| !f.trim().is_empty());
    facts
}
