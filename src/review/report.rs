//! The guard's findings for a whole draft, with stable ids the TUI records
//! acknowledgements against, and the signing rule.

use super::chart_index::ExpectedKind;
use super::check::{Reason, Verdict};
use crate::chart::Source;
use crate::nlp::{Certainty, EntityType};
use serde::Serialize;
use std::collections::BTreeSet;

/// What a finding is about: an entity the pipeline typed, or a bare number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    Entity(EntityType),
    /// A count, duration or score that is not a typed entity (「3回」, 「7日間」).
    Number,
}

impl ItemKind {
    /// The name used in JSON: the entity type's ("disease", "dose" …) or "number".
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Entity(kind) => kind.as_str(),
            ItemKind::Number => "number",
        }
    }
}

impl Serialize for ItemKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<EntityType> for ItemKind {
    fn eq(&self, other: &EntityType) -> bool {
        *self == ItemKind::Entity(*other)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuardItem {
    /// Stable across edits elsewhere in the draft: section, verdict, entity, value and
    /// occurrence number, hashed (no chart text in it).
    pub id: String,
    pub section: String,
    pub verdict: Verdict,
    pub kind: ItemKind,
    /// As written in the draft.
    pub text: String,
    pub normalized: String,
    pub certainty: Option<Certainty>,
    /// Character offsets into the section's text.
    pub start: usize,
    pub end: usize,
    #[serde(flatten)]
    pub reason: Reason,
    /// Where to jump: supporting records, or the ones that say otherwise.
    pub sources: Vec<Source>,
}

impl GuardItem {
    /// Unsupported or contradicted: must be fixed or acknowledged before signing.
    pub fn is_flagged(&self) -> bool {
        self.verdict != Verdict::Supported
    }

    /// A one-line explanation (Japanese UI text; contains draft/chart values, never logged).
    pub fn explanation(&self) -> String {
        match &self.reason {
            Reason::Found => "カルテに記載あり".into(),
            Reason::NotInChart => "カルテに記載なし（根拠不明）".into(),
            Reason::NoValueInChart { head } => format!("{head} の値・用量はカルテに記載なし"),
            Reason::DifferentValue { head, chart_values } => {
                format!("{head}: カルテでは {}", chart_values.join(" / "))
            }
            Reason::OppositeCertainty { draft, chart } => format!(
                "確実度が逆: 下書き {} / カルテ {}",
                draft.japanese(),
                chart
                    .iter()
                    .map(|c| c.japanese())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Reason::OtherSide { draft, chart } => format!(
                "左右が違う: 下書き {} / カルテ {}",
                draft.japanese(),
                chart
                    .iter()
                    .map(|s| s.japanese())
                    .collect::<Vec<_>>()
                    .join("・")
            ),
            Reason::DifferentDate { chart_dates } => {
                format!("日付が違う: カルテでは {}", chart_dates.join(", "))
            }
            Reason::ChartAllergy => "カルテではアレルギー（禁忌）として記載".into(),
            Reason::CopiedFromChart => "カルテから転記（出典あり）".into(),
            Reason::NumberNotInChart { number } => format!("カルテにない数値: {number}"),
        }
    }
}

/// A chart fact the draft does not mention.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OmittedFact {
    pub kind: ExpectedKind,
    pub label: String,
    pub source: Source,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct GuardCounts {
    pub supported: usize,
    pub unsupported: usize,
    pub contradicted: usize,
    pub omitted: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GuardReport {
    /// Every checked entity, in section order then text order.
    pub items: Vec<GuardItem>,
    pub omitted: Vec<OmittedFact>,
}

impl GuardReport {
    pub fn flagged(&self) -> impl Iterator<Item = &GuardItem> {
        self.items.iter().filter(|i| i.is_flagged())
    }

    /// Flagged items not yet acknowledged: these block signing.
    pub fn blocking<'a>(
        &'a self,
        acknowledged: &'a BTreeSet<String>,
    ) -> impl Iterator<Item = &'a GuardItem> + 'a {
        self.flagged()
            .filter(move |i| !acknowledged.contains(&i.id))
    }

    /// Signing requires every unsupported or contradicted item fixed or acknowledged.
    pub fn can_sign(&self, acknowledged: &BTreeSet<String>) -> bool {
        self.blocking(acknowledged).next().is_none()
    }

    pub fn item(&self, id: &str) -> Option<&GuardItem> {
        self.items.iter().find(|i| i.id == id)
    }

    pub fn counts(&self) -> GuardCounts {
        let mut c = GuardCounts {
            omitted: self.omitted.len(),
            ..GuardCounts::default()
        };
        for item in &self.items {
            match item.verdict {
                Verdict::Supported => c.supported += 1,
                Verdict::Unsupported => c.unsupported += 1,
                Verdict::Contradicted => c.contradicted += 1,
            }
        }
        c
    }
}
