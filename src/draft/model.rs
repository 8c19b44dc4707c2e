//! The draft a document becomes: sections in template order, each factual (copied from the
//! chart's records, with provenance) or generated (written by the model from the notes).
//! Consumed by the TUI, the review/sign module and metrics; serde-serializable.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::chart::Source;
use crate::llm::{FinishReason, Timing};

use super::mode::DraftMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// 診療情報提供書.
    Referral,
    /// 退院時サマリー.
    Discharge,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 2] = [DocumentKind::Referral, DocumentKind::Discharge];

    /// File stem of the template (`referral.toml`, `discharge.toml`).
    pub fn key(self) -> &'static str {
        match self {
            DocumentKind::Referral => "referral",
            DocumentKind::Discharge => "discharge",
        }
    }

    pub fn japanese(self) -> &'static str {
        match self {
            DocumentKind::Referral => "診療情報提供書",
            DocumentKind::Discharge => "退院時サマリー",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.key() == s)
    }

    /// The name used in file names, journals and the CLI (`referral`, `discharge`).
    pub fn as_str(self) -> &'static str {
        self.key()
    }

    pub fn japanese_title(self) -> &'static str {
        self.japanese()
    }

    /// The document's title as clinicians write it.
    pub fn title(self) -> &'static str {
        self.japanese()
    }

    /// The everyday short name (a queue column heading); shorter still when `narrow`.
    pub fn heading(self, narrow: bool) -> &'static str {
        match (self, narrow) {
            (DocumentKind::Referral, _) => "紹介状",
            (DocumentKind::Discharge, true) => "サマリ",
            (DocumentKind::Discharge, false) => "退院サマリー",
        }
    }
}

impl std::fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

impl std::str::FromStr for DocumentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "discharge" | "discharge-summary" | "summary" => Ok(DocumentKind::Discharge),
            "referral" | "referral-letter" | "letter" => Ok(DocumentKind::Referral),
            other => Err(format!(
                "unknown document \"{other}\": use discharge or referral"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    Factual,
    Narrative,
}

/// Where a section's text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Copied from the chart's structured records; never passed through the model.
    Factual,
    /// Written by the model; to be checked against the chart.
    Generated,
    /// Quoted from the chart's notes (`evidence` mode, or composed from records); every
    /// sentence carries its source.
    Evidence,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftSection {
    pub key: String,
    pub title: String,
    pub kind: SectionKind,
    pub text: String,
    /// Char ranges of `text` (end exclusive) and the record each was copied from.
    pub provenance: Vec<(Range<usize>, Source)>,
    pub origin: Origin,
    /// How generation ended (generated sections only); `MaxTokens` means cut short.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<FinishReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing: Option<Timing>,
    /// Narrative sections: how it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<DraftMode>,
    /// `grounded` sentences the model wrote, linked to the evidence they rewrite (checked by
    /// the guard like any text; `provenance` holds only what was copied).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aligned: Vec<(Range<usize>, Source)>,
    /// Char ranges of sentences the model wrote unfaithfully, replaced by their evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<Range<usize>>,
}

impl DraftSection {
    /// The source of the sentence at char offset `at`: copied text first, then the evidence
    /// a grounded sentence rewrites.
    pub fn source_at(&self, at: usize) -> Option<&Source> {
        self.provenance
            .iter()
            .chain(self.aligned.iter())
            .find(|(r, _)| r.contains(&at) || (r.start == r.end && r.start == at))
            .map(|(_, s)| s)
    }
}

/// Notes left out of the prompt because the chart did not fit the context window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Truncation {
    /// Ids of the notes not shown to the model, in chart order.
    pub omitted_notes: Vec<String>,
    pub included_notes: usize,
    /// Tokens the omitted notes would have taken.
    pub omitted_tokens: usize,
    /// Tokens available for notes in the prompt.
    pub budget_tokens: usize,
}

impl Truncation {
    /// One line for the CLI and the TUI status bar.
    pub fn notice(&self) -> String {
        format!(
            "カルテが長すぎるため、{}件の記録をモデルに渡していません（{}件は使用、約{}トークン超過）: {}",
            self.omitted_notes.len(),
            self.included_notes,
            self.omitted_tokens,
            self.omitted_notes.join(", ")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub doc: DocumentKind,
    pub title: String,
    pub chart_id: String,
    pub sections: Vec<DraftSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncation: Option<Truncation>,
    pub seed: u32,
    /// The model that wrote the generated sections.
    #[serde(default)]
    pub model: String,
}

impl Draft {
    pub fn section(&self, key: &str) -> Option<&DraftSection> {
        self.sections.iter().find(|s| s.key == key)
    }

    /// The document as plain text: each section under its 【title】.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}\n\n", self.title);
        for s in &self.sections {
            out.push_str(&format!("【{}】\n{}\n\n", s.title, s.text.trim_end()));
        }
        out
    }
}
