//! The two documents karte writes for each chart and where each one stands.

/// A document the clinician reviews and signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocumentKind {
    /// 診療情報提供書 (紹介状).
    ReferralLetter,
    /// 退院時サマリー.
    DischargeSummary,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 2] =
        [DocumentKind::ReferralLetter, DocumentKind::DischargeSummary];

    /// Column heading in the queue (short form for narrow screens).
    pub fn heading(self, narrow: bool) -> &'static str {
        match (self, narrow) {
            (DocumentKind::ReferralLetter, _) => "紹介状",
            (DocumentKind::DischargeSummary, true) => "サマリ",
            (DocumentKind::DischargeSummary, false) => "退院サマリー",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            DocumentKind::ReferralLetter => "診療情報提供書",
            DocumentKind::DischargeSummary => "退院時サマリー",
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
            DocumentKind::ReferralLetter => self.referral_letter,
            DocumentKind::DischargeSummary => self.discharge_summary,
        }
    }

    pub fn set(&mut self, kind: DocumentKind, state: DocumentState) {
        match kind {
            DocumentKind::ReferralLetter => self.referral_letter = state,
            DocumentKind::DischargeSummary => self.discharge_summary = state,
        }
    }
}
