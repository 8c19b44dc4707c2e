//! Stage 6: one chart's facts, structured: problems (with certainty), medications (merged
//! from the prescription records and the notes), latest and abnormal labs, allergies,
//! procedures and a timeline. Every item lists the records it came from ([`Source`]), with
//! character offsets for facts found in a note's text. One file per kind of fact.

mod allergies;
mod labs;
mod medications;
mod note_text;
mod problems;
mod procedures;
mod timeline;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::normalize::normalize_str;
use super::{Certainty, Entity, Pipeline};
use crate::chart::{Chart, LabFlag, Note, Source};

pub use timeline::{resolve_date, DateAnchors};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StructuredChart {
    pub problems: Vec<Problem>,
    pub medications: Vec<Medication>,
    /// The most recent result of every lab item.
    pub latest_labs: Vec<LabItem>,
    /// Every result flagged H/L or outside its reference range, oldest first.
    pub abnormal_labs: Vec<LabItem>,
    pub allergies: Vec<AllergyItem>,
    pub procedures: Vec<ProcedureItem>,
    /// Dated events, oldest first.
    pub timeline: Vec<TimelineEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Canonical name (the lexicon's preferred term).
    pub name: String,
    /// As first written.
    pub text: String,
    /// From a diagnosis record when there is one, else the strongest mention in the notes
    /// (positive, then suspicious, negative, general).
    pub certainty: Certainty,
    /// 主病名 in the diagnosis records.
    pub main: bool,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Medication {
    /// Generic name when the lexicon knows the brand.
    pub name: String,
    /// As first written.
    pub text: String,
    /// Amount per dose with unit (5mg, 2錠), as recorded.
    pub dose: String,
    /// 内服, 静注, 点滴 …
    pub route: String,
    /// 1日1回 朝食後, 分3 毎食後 …
    pub frequency: String,
    /// Continued after discharge (退院時処方).
    pub discharge: bool,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabItem {
    pub item: String,
    pub value: String,
    pub unit: String,
    pub reference_range: String,
    pub flag: Option<LabFlag>,
    pub datetime: Option<NaiveDateTime>,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllergyItem {
    pub substance: String,
    pub reaction: String,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcedureItem {
    pub name: String,
    pub text: String,
    pub date: Option<NaiveDate>,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Admission,
    Discharge,
    Procedure,
    MedicationStart,
    MedicationEnd,
    /// A dated sentence of a note (「1/11 より湿性咳嗽」).
    NoteEvent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub date: NaiveDate,
    pub kind: TimelineKind,
    pub label: String,
    pub sources: Vec<Source>,
}

impl Pipeline {
    /// Structures one chart: runs `extract` on every note once and merges with the records.
    pub fn structure(&self, chart: &Chart) -> StructuredChart {
        let notes: Vec<(&Note, Vec<Entity>)> = chart
            .notes_by_date()
            .into_iter()
            .map(|note| (note, self.extract(&note.text)))
            .collect();
        let mut structured = StructuredChart {
            problems: problems::problems(self, chart, &notes),
            medications: medications::medications(self, chart, &notes),
            allergies: allergies::allergies(self, chart, &notes),
            procedures: procedures::procedures(chart, &notes),
            ..Default::default()
        };
        let (latest, abnormal) = labs::labs(chart);
        structured.latest_labs = latest;
        structured.abnormal_labs = abnormal;
        structured.timeline = timeline::timeline(chart, &notes, &structured.procedures);
        structured
    }

    /// The lexicon's canonical form of a name written in a record, else the name itself.
    pub(super) fn canonical(&self, written: &str) -> String {
        let normalized = normalize_str(written.trim());
        self.lexicon()
            .lookup(&normalized)
            .map(|entry| entry.normalized.clone())
            .unwrap_or(normalized)
    }
}

pub(super) fn note_source(note: &Note, entity: &Entity) -> Source {
    Source::Note {
        id: note.id.clone(),
        start: entity.start,
        end: entity.end,
    }
}
