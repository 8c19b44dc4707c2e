//! The pipeline: dictionaries loaded once (IPADIC memory-mapped, lexicon compiled in), then
//! `extract` runs normalize → lexicon → rules → compounds (lindera) → overlaps → context.

use std::path::Path;

use super::candidate::{rank, resolve_overlaps, Candidate};
use super::lexicon::Lexicon;
use super::normalize::NormalizedText;
use super::segment::MedicalSegmenter;
use super::{context, dictionary, rules, Entity, EntityType, NlpError};

/// The loaded pipeline. `Send + Sync`: share one behind an `Arc`.
pub struct Pipeline {
    lexicon: Lexicon,
    segmenter: MedicalSegmenter,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").finish_non_exhaustive()
    }
}

impl Pipeline {
    /// Loads the IPADIC dictionary from `ipadic_dir` (built by `karte setup`) and the
    /// compiled-in medical lexicon.
    pub fn load(ipadic_dir: &Path) -> Result<Pipeline, NlpError> {
        let lexicon = Lexicon::builtin()?;
        let dictionary = dictionary::load_ipadic(ipadic_dir)?;
        let segmenter = MedicalSegmenter::new(dictionary, &lexicon)?;
        let pipeline = Pipeline { lexicon, segmenter };
        // Compile every rule's patterns now rather than on the first document.
        pipeline.extract("2026/4/1 BP 120/80mmHg CRP 1.0mg/dL 発熱なし アムロジピン5mg 1日1回");
        Ok(pipeline)
    }

    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// Entities of `text`, sorted by start, non-overlapping; offsets are character offsets
    /// into `text` itself and `entity.text` is exactly that slice.
    pub fn extract(&self, text: &str) -> Vec<Entity> {
        let normalized = NormalizedText::new(text);
        let candidates = self.candidates(normalized.as_str());
        let mut candidates = candidates;
        drop_diseases_inside_drug_classes(normalized.as_str(), &mut candidates);
        candidates.retain(|c| {
            c.kind != EntityType::Disease
                || !rules::compound::is_non_finding(&normalized.as_str()[c.start..c.end])
        });
        drop_schedules_without_drugs(normalized.as_str(), &mut candidates);
        let mut accepted = resolve_overlaps(candidates);
        drop_measurement_conditions(normalized.as_str(), &mut accepted);
        drop_patient_quotes(normalized.as_str(), &mut accepted);
        let certainties = context::assign(normalized.as_str(), &accepted);
        accepted
            .into_iter()
            .zip(certainties)
            .map(|(candidate, certainty)| {
                let (start, end) =
                    normalized.original_span_of_bytes(candidate.start, candidate.end);
                let normalized_form = candidate
                    .normalized
                    .or_else(|| {
                        candidate
                            .lexicon_entry
                            .map(|i| self.lexicon.entry(i).normalized.clone())
                    })
                    .unwrap_or_else(|| {
                        normalized.as_str()[candidate.start..candidate.end].to_string()
                    });
                Entity {
                    kind: candidate.kind,
                    text: normalized.original_slice(text, start, end).to_string(),
                    start,
                    end,
                    normalized: normalized_form,
                    certainty,
                }
            })
            .collect()
    }

    /// Every stage's proposals, in normalized-text byte offsets, overlaps unresolved.
    fn candidates(&self, text: &str) -> Vec<Candidate> {
        let mut found: Vec<Candidate> = self
            .lexicon
            .find_all(text)
            .into_iter()
            .map(|m| {
                let entry = self.lexicon.entry(m.entry);
                Candidate::new(entry.kind, m.start, m.end, rank::LEXICON)
                    .with_lexicon_entry(m.entry)
            })
            .collect();
        rules::date::find(text, &mut found);
        rules::quantity::find(text, &mut found);
        rules::test_value::find_vital_names(text, &mut found);
        rules::drug_stem::find(text, &mut found);
        rules::drug_stem::extend_numbered_names(text, &mut found);
        let tests: Vec<(usize, usize)> = found
            .iter()
            .filter(|c| c.kind == EntityType::Test)
            .map(|c| (c.start, c.end))
            .collect();
        rules::test_value::find_after_tests(text, &tests, &mut found);
        let mut compounds = Vec::new();
        rules::compound::find(text, &found, &self.segmenter, &mut compounds);
        for compound in &mut compounds {
            if compound.normalized.is_none() {
                if let Some(entry) = self.lexicon.lookup(&text[compound.start..compound.end]) {
                    compound.normalized = Some(entry.normalized.clone());
                }
            }
        }
        found.extend(compounds);
        found
    }
}

/// "96%(RA)": a Latin abbreviation in parentheses right after a value is the measurement's
/// condition (RA = room air), not an anatomical site (RA = right atrium).
fn drop_measurement_conditions(text: &str, entities: &mut Vec<Candidate>) {
    let mut keep = vec![true; entities.len()];
    for i in 1..entities.len() {
        let (previous, entity) = (&entities[i - 1], &entities[i]);
        let surface = &text[entity.start..entity.end];
        if entity.kind == EntityType::Anatomy
            && surface.bytes().all(|b| b.is_ascii_uppercase())
            && previous.kind == EntityType::TestValue
            && text.get(previous.end..entity.start) == Some("(")
        {
            keep[i] = false;
        }
    }
    let mut flags = keep.into_iter();
    entities.retain(|_| flags.next().unwrap_or(true));
}

/// 「お腹が痛くて眠れない」: what a patient says, quoted, is not annotated (fixtures/gold/README.md:
/// patient quotes are not entities); the nurse's own words around it are. A quote is a 「…」 on
/// one line with kana in it (「肺炎」 or 「CRP」 quoting a term keeps its entity).
fn drop_patient_quotes(text: &str, entities: &mut Vec<Candidate>) {
    let mut quotes: Vec<(usize, usize)> = Vec::new();
    let mut search = 0;
    while let Some(open) = text[search..].find('「').map(|i| i + search) {
        let inner_start = open + '「'.len_utf8();
        let Some(close) = text[inner_start..]
            .find(['」', '\n'])
            .map(|i| i + inner_start)
            .filter(|&i| text[i..].starts_with('」'))
        else {
            search = inner_start;
            continue;
        };
        quotes.push((inner_start, close));
        search = close;
    }
    if quotes.is_empty() {
        return;
    }
    let spoken = |(start, end): (usize, usize)| {
        text[start..end]
            .chars()
            .any(|c| matches!(c as u32, 0x3041..=0x3096))
    };
    quotes.retain(|&q| spoken(q));
    entities.retain(|e| !quotes.iter().any(|&(s, end)| s <= e.start && e.end <= end));
}

/// 疼痛時, 発熱時, 不眠時 are dosing timings beside a drug (ロキソプロフェン60mg 疼痛時); without a
/// drug on the line they are the symptom (「発熱時は知らせる」 → 発熱). Intervals (8時間毎) are
/// doses beside a drug only (体位変換を2時間毎に is care, not a dose).
fn drop_schedules_without_drugs(text: &str, candidates: &mut Vec<Candidate>) {
    let medications: Vec<usize> = candidates
        .iter()
        .filter(|c| c.kind == EntityType::Medication)
        .map(|c| c.start)
        .collect();
    candidates.retain(|c| {
        if c.kind != EntityType::Dose || !rules::quantity::needs_a_drug(&text[c.start..c.end]) {
            return true;
        }
        let line_start = text[..c.start].rfind(['\n', '。']).map_or(0, |i| i + 1);
        let line_end = text[c.end..]
            .find(['\n', '。'])
            .map_or(text.len(), |i| i + c.end);
        medications.iter().any(|&m| line_start <= m && m < line_end)
    });
}

/// 抗血栓薬, 抗凝固剤, 血栓溶解薬: a disease word inside a drug-class word is not a finding.
fn drop_diseases_inside_drug_classes(text: &str, candidates: &mut Vec<Candidate>) {
    candidates.retain(|c| {
        if c.kind != EntityType::Disease {
            return true;
        }
        let after_anti = text[..c.start].ends_with('抗');
        let before_drug = text[c.end..].starts_with(['薬', '剤']);
        !(after_anti || before_drug)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_is_shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Pipeline>();
    }

    #[test]
    fn missing_dictionary_says_run_setup() {
        let tmp = tempfile::tempdir().unwrap();
        let err = Pipeline::load(&tmp.path().join("ipadic"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("karte setup"), "{err}");
        assert!(err.contains("ipadic"), "{err}");
    }

    #[test]
    fn disease_words_inside_drug_classes_are_dropped() {
        let text = "抗血栓薬なし、血栓あり";
        let first = text.find("血栓").unwrap();
        let second = text.rfind("血栓").unwrap();
        let mut candidates = vec![
            Candidate::new(EntityType::Disease, first, first + 6, rank::LEXICON),
            Candidate::new(EntityType::Disease, second, second + 6, rank::LEXICON),
        ];
        drop_diseases_inside_drug_classes(text, &mut candidates);
        assert_eq!(candidates.len(), 1);
        assert_eq!(candidates[0].start, second);
    }

    #[test]
    fn conditions_in_brackets_after_values_are_dropped() {
        let text = "SpO2 96%(RA)";
        let mut candidates = vec![
            Candidate::new(EntityType::TestValue, 5, 8, rank::RULE),
            Candidate::new(EntityType::Anatomy, 9, 11, rank::LEXICON),
        ];
        drop_measurement_conditions(text, &mut candidates);
        assert_eq!(candidates.len(), 1);
    }
}
