//! The screen state. Only `update` changes it; `view` only reads it.

use crate::chart::Chart;
use crate::nlp::Entity;
use crate::tui::action::{EntityTarget, QueueRow};
use crate::tui::input::keymap::Keymap;
use crate::tui::state::document_edit::DocumentEdit;
use crate::tui::state::document_state::{DocRef, DocumentKind, DocumentStates};
use crate::tui::state::draft_view::DraftView;
use crate::tui::state::model_status::ModelStatus;
use crate::tui::view::theme::Theme;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// The three panes; one has the keyboard focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Queue,
    Chart,
    Draft,
}

/// The views of a chart in the chart pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartTab {
    Notes,
    Labs,
    Prescriptions,
}

impl ChartTab {
    pub const ALL: [ChartTab; 3] = [ChartTab::Notes, ChartTab::Labs, ChartTab::Prescriptions];

    pub fn title(self) -> &'static str {
        match self {
            ChartTab::Notes => "経過記録",
            ChartTab::Labs => "検査",
            ChartTab::Prescriptions => "処方・アレルギー",
        }
    }

    pub fn short_title(self) -> &'static str {
        match self {
            ChartTab::Notes => "経過",
            ChartTab::Labs => "検査",
            ChartTab::Prescriptions => "処方",
        }
    }
}

/// The whole screen: the review panes, or the time-study metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Review,
    Metrics,
}

/// The Metrics screen's report.
#[derive(Debug, Clone)]
pub enum MetricsView {
    Loading,
    Ready(Arc<crate::metrics::Report>),
    /// Why there is no report (shown as it is).
    Unavailable(String),
}

#[derive(Debug, Clone)]
pub struct App {
    pub keymap: Keymap,
    pub theme: Theme,
    pub queue_dir: PathBuf,
    pub model: ModelStatus,
    /// Terminal size in cells (kept current by `Action::Resize`).
    pub width: u16,
    pub height: u16,

    /// `None` until the first scan finished.
    pub rows: Option<Vec<QueueRow>>,
    /// Why the queue directory cannot be read, when it cannot.
    pub queue_problem: Option<String>,
    pub selected: usize,
    /// First queue row shown (keeps the selection visible).
    pub queue_offset: usize,
    /// Document states by chart id (rows are replaced on every rescan; states are not).
    pub documents: HashMap<String, DocumentStates>,

    pub screen: Screen,
    pub metrics: MetricsView,
    pub focus: Pane,
    /// The pane shown under the queue when the screen is too narrow for three columns.
    pub detail: Pane,
    pub chart_tab: ChartTab,
    pub chart_scroll: usize,
    pub draft_document: DocumentKind,
    pub draft_scroll: usize,
    /// Keep the draft scrolled to its end while it streams (until the user scrolls up).
    pub draft_follow: bool,
    /// Drafts by (chart id, document).
    pub drafts: HashMap<DocRef, DraftView>,
    /// Entities found in notes (draft sections keep theirs in the `DraftView`).
    pub note_entities: HashMap<EntityTarget, Vec<Entity>>,
    /// Show entity highlights in notes and drafts.
    pub highlights: bool,
    /// Charts already sent for entity extraction (by id), so each is analyzed once.
    pub analyzed: HashSet<String>,
    pub help_open: bool,
    pub help_scroll: usize,
    pub status: Option<String>,
    pub should_quit: bool,

    /// Documents opened for editing, by (chart id, document).
    pub edits: HashMap<DocRef, DocumentEdit>,
    /// The document whose chart lock and journal are open (one at a time).
    pub open_document: Option<DocRef>,
    /// Keys go to the editor of the current document (the draft pane has the focus).
    pub edit_mode: bool,
    /// A journaled draft waits for 復元 / 破棄.
    pub recovery: Option<RecoveryPrompt>,
    /// Why edits cannot be saved right now (shown until saving works again).
    pub journal_problem: Option<String>,
    /// Provenance guard reports, acknowledgements, signed versions (see `state::review`).
    pub review: crate::tui::state::review::ReviewState,
    /// The time study and each document's arm (`[study]` in the config).
    pub study: crate::tui::state::study_arms::StudySetting,
    /// The metrics recorder's warning (DB unusable, events buffered), for the status bar.
    pub metrics_warning: Option<String>,
    /// The document templates (the config dir's own, else the built-ins), read at startup:
    /// section keys and blank documents come from them.
    pub templates: crate::draft::DocumentTemplates,
}

/// The recovery question shown over the draft pane.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveryPrompt {
    pub chart_id: String,
    pub document: DocumentKind,
    pub draft: crate::tui::action::RecoveredDraft,
    /// The journal was damaged: what was recovered and what was lost.
    pub damage: Option<String>,
}

impl App {
    pub fn new(
        keymap: Keymap,
        theme: Theme,
        queue_dir: PathBuf,
        model: ModelStatus,
        width: u16,
        height: u16,
    ) -> Self {
        Self {
            keymap,
            theme,
            queue_dir,
            model,
            width,
            height,
            rows: None,
            queue_problem: None,
            selected: 0,
            queue_offset: 0,
            documents: HashMap::new(),
            screen: Screen::Review,
            metrics: MetricsView::Loading,
            focus: Pane::Queue,
            detail: Pane::Chart,
            chart_tab: ChartTab::Notes,
            chart_scroll: 0,
            draft_document: DocumentKind::Referral,
            draft_scroll: 0,
            draft_follow: true,
            drafts: HashMap::new(),
            note_entities: HashMap::new(),
            analyzed: HashSet::new(),
            highlights: true,
            help_open: false,
            help_scroll: 0,
            status: None,
            should_quit: false,
            edits: HashMap::new(),
            open_document: None,
            edit_mode: false,
            recovery: None,
            journal_problem: None,
            review: crate::tui::state::review::ReviewState::new(crate::store::os_user_name()),
            study: crate::tui::state::study_arms::StudySetting::NoStudy,
            metrics_warning: None,
            templates: crate::draft::DocumentTemplates::default(),
        }
    }

    pub fn rows(&self) -> &[QueueRow] {
        self.rows.as_deref().unwrap_or(&[])
    }

    pub fn selected_row(&self) -> Option<&QueueRow> {
        self.rows().get(self.selected)
    }

    pub fn selected_chart(&self) -> Option<&Arc<Chart>> {
        self.selected_row().and_then(|r| r.chart.as_ref().ok())
    }

    pub fn document_states(&self, chart: &Chart) -> DocumentStates {
        self.documents.get(&chart.id).copied().unwrap_or_default()
    }

    /// The draft of the selected chart's current document, if one exists.
    pub fn current_draft(&self) -> Option<&DraftView> {
        let chart = self.selected_chart()?;
        self.drafts
            .get(&DocRef::new(chart.id.clone(), self.draft_document))
    }

    /// The edited document of the selected chart's current document, if one exists.
    pub fn current_edit(&self) -> Option<&DocumentEdit> {
        let chart = self.selected_chart()?;
        self.edits
            .get(&DocRef::new(chart.id.clone(), self.draft_document))
    }

    pub fn current_edit_mut(&mut self) -> Option<&mut DocumentEdit> {
        let key = DocRef::new(self.selected_chart()?.id.clone(), self.draft_document);
        self.edits.get_mut(&key)
    }

    /// Keys go to the editor: edit mode, the draft pane focused, no overlay open.
    pub fn is_editing(&self) -> bool {
        self.edit_mode
            && self.screen == Screen::Review
            && self.focus == Pane::Draft
            && !self.help_open
            && self.recovery.is_none()
            && self.current_edit().is_some_and(|e| e.editor.is_some())
    }

    pub fn error_count(&self) -> usize {
        self.rows().iter().filter(|r| r.chart.is_err()).count()
    }
}
