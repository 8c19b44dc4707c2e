//! How a narrative section is written: from the evidence alone, by the model rewriting only
//! that evidence (checked sentence by sentence), or by the model from the whole chart.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftMode {
    /// Selected, deduplicated sentences of the chart, no model; every sentence carries its
    /// source. Instant, and the fallback when no model is loaded.
    Evidence,
    /// The model rewrites only the section's evidence; tokens stream; each finished sentence
    /// is checked, and one with an unsupported or contradicted fact is replaced by the
    /// evidence it came from.
    #[default]
    Grounded,
    /// The model writes from the whole chart (for strong instruct models).
    Free,
}

impl DraftMode {
    pub const ALL: [DraftMode; 3] = [DraftMode::Evidence, DraftMode::Grounded, DraftMode::Free];

    pub fn as_str(self) -> &'static str {
        match self {
            DraftMode::Evidence => "evidence",
            DraftMode::Grounded => "grounded",
            DraftMode::Free => "free",
        }
    }

    /// Shown in the TUI.
    pub fn japanese(self) -> &'static str {
        match self {
            DraftMode::Evidence => "根拠抜粋",
            DraftMode::Grounded => "根拠から生成",
            DraftMode::Free => "自由生成",
        }
    }

    /// The next mode in the TUI's cycle.
    pub fn next(self) -> DraftMode {
        match self {
            DraftMode::Evidence => DraftMode::Grounded,
            DraftMode::Grounded => DraftMode::Free,
            DraftMode::Free => DraftMode::Evidence,
        }
    }

    /// Whether this mode asks the model.
    pub fn needs_model(self) -> bool {
        self != DraftMode::Evidence
    }
}

impl std::fmt::Display for DraftMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DraftMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown mode \"{s}\": use evidence, grounded or free"))
    }
}
