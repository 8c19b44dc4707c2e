//! The two documents karte writes for each chart and where each one stands.

/// A document the clinician reviews and signs: the crate's one document type.
pub use crate::draft::DocumentKind;

/// One document of one chart: how the screen's state, `update` and the workers name a
/// document (the key of drafts, edits, guard and signing state).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocRef {
    pub chart_id: String,
    pub kind: DocumentKind,
}

impl DocRef {
    pub fn new(chart_id: impl Into<String>, kind: DocumentKind) -> Self {
        Self {
            chart_id: chart_id.into(),
            kind,
        }
    }
}

/// Where a document stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DocumentState {
    #[default]
    NotStarted,
    Drafting,
    InReview,
    Signed,
}

impl DocumentState {
    pub fn label(self) -> &'static str {
        match self {
            DocumentState::NotStarted => "未着手",
            DocumentState::Drafting => "作成中",
            DocumentState::InReview => "確認中",
            DocumentState::Signed => "署名済",
        }
    }
}

/// The state of both documents of one chart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocumentStates {
    pub referral_letter: DocumentState,
    pub discharge_summary: DocumentState,
}

impl DocumentStates {
    pub fn get(&self, kind: DocumentKind) -> DocumentState {
        match kind {
            DocumentKind::Referral => self.referral_letter,
            DocumentKind::Discharge => self.discharge_summary,
        }
    }

    pub fn set(&mut self, kind: DocumentKind, state: DocumentState) {
        match kind {
            DocumentKind::Referral => self.referral_letter = state,
            DocumentKind::Discharge => self.discharge_summary = state,
        }
    }
}
