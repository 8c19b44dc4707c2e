//! The entity model every stage produces and every consumer (CLI, TUI, drafting, provenance
//! guard) reads. Types follow the NTCIR MedNLP / MedTxt annotation convention.

use serde::{Deserialize, Serialize};

/// What kind of clinical fact a span names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityType {
    /// 病名・症状・所見 (carries a certainty).
    Disease,
    Anatomy,
    Medication,
    /// Amounts and schedules: 5mg, 1日3回, 分3 毎食後.
    Dose,
    /// Lab tests, vitals and examinations: CRP, 血圧, 胸部CT.
    Test,
    /// A test's result: value with unit (12.5mg/dL, 120/80mmHg, 陰性).
    TestValue,
    Procedure,
    Date,
}

impl EntityType {
    pub const ALL: [EntityType; 8] = [
        EntityType::Disease,
        EntityType::Anatomy,
        EntityType::Medication,
        EntityType::Dose,
        EntityType::Test,
        EntityType::TestValue,
        EntityType::Procedure,
        EntityType::Date,
    ];

    /// The name used in JSON and in the gold set.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Disease => "disease",
            EntityType::Anatomy => "anatomy",
            EntityType::Medication => "medication",
            EntityType::Dose => "dose",
            EntityType::Test => "test",
            EntityType::TestValue => "test_value",
            EntityType::Procedure => "procedure",
            EntityType::Date => "date",
        }
    }

    pub fn parse(name: &str) -> Option<EntityType> {
        EntityType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl std::fmt::Display for EntityType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a disease/finding is asserted for this patient now (ConText-style).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Certainty {
    Positive,
    /// 〜なし, 〜を認めず, 否定的, 陰性.
    Negative,
    /// 〜疑い, 〜の可能性, r/o.
    Suspicious,
    /// Not this patient now: family history, textbook statements.
    General,
}

impl Certainty {
    pub fn as_str(self) -> &'static str {
        match self {
            Certainty::Positive => "positive",
            Certainty::Negative => "negative",
            Certainty::Suspicious => "suspicious",
            Certainty::General => "general",
        }
    }

    /// The label a clinician reads (確定 / 否定 / 疑い / 一般).
    pub fn japanese(self) -> &'static str {
        match self {
            Certainty::Positive => "確定",
            Certainty::Negative => "否定",
            Certainty::Suspicious => "疑い",
            Certainty::General => "一般",
        }
    }

    pub fn parse(name: &str) -> Option<Certainty> {
        [
            Certainty::Positive,
            Certainty::Negative,
            Certainty::Suspicious,
            Certainty::General,
        ]
        .into_iter()
        .find(|c| c.as_str() == name)
    }
}

/// One extracted span. `start`/`end` are character (Unicode scalar) offsets into the
/// ORIGINAL text, end exclusive; `text` is exactly that slice. Serializes to the CLI
/// contract's keys: type, text, start, end, normalized, certainty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entity {
    #[serde(rename = "type")]
    pub kind: EntityType,
    pub text: String,
    pub start: usize,
    pub end: usize,
    /// Canonical form: generic drug name, lexicon's preferred term, ISO date, folded value.
    pub normalized: String,
    /// Set for `disease` only.
    pub certainty: Option<Certainty>,
}
