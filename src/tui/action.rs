//! The single vocabulary of change: everything that can happen to the screen state is an
//! [`Action`] (a key command, a resize, a background notification), and everything the state
//! asks the outside world to do is an [`Effect`] that the event loop carries out.

use crate::chart::{Chart, ChartError};
use crate::nlp::Entity;
use crate::tui::input::command::Command;
use crate::tui::input::edit_keys::EditKey;
use crate::tui::state::document_state::{DocumentKind, DocumentState};
use crate::tui::state::draft_view::DraftEvent;
use crate::tui::state::model_status::ModelState;
use std::sync::Arc;

/// Text that entities were found in: a note of a chart, or a section of a draft.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EntityTarget {
    Note {
        chart_id: String,
        note_id: String,
    },
    DraftSection {
        chart_id: String,
        document: DocumentKind,
        section: usize,
    },
}

/// One row of the queue as the screen sees it: a chart, or why its file could not be loaded.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub file_name: String,
    /// The loaded chart, or why the file could not be loaded.
    pub chart: Result<Arc<Chart>, ChartError>,
}

impl QueueRow {
    /// The rows of every entry of `queue`, in its order.
    pub fn from_queue(queue: &crate::chart::Queue) -> Vec<QueueRow> {
        queue
            .entries()
            .iter()
            .map(|entry| QueueRow {
                file_name: entry.file_name.clone(),
                chart: entry.chart.clone(),
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub enum Action {
    /// A user command (from the keymap).
    Command(Command),
    /// The terminal was resized.
    Resize { width: u16, height: u16 },
    /// The queue directory was (re)read: every row, in file-name order.
    QueueLoaded(Vec<QueueRow>),
    /// The queue directory itself cannot be read (missing, not a directory, no permission).
    QueueUnavailable(String),
    /// A document of a chart changed state (from drafting, review, signing).
    DocumentStateChanged {
        chart_id: String,
        kind: DocumentKind,
        state: DocumentState,
    },
    /// A one-line message for the status bar from background work (file-derived text is
    /// sanitized when drawn).
    Status(String),
    /// The language model's load state changed (see `ModelState::from_engine_event`).
    Model(ModelState),
    /// Something happened to the draft of `document` for chart `chart_id`.
    Draft {
        chart_id: String,
        document: DocumentKind,
        event: DraftEvent,
    },
    /// The provenance guard checked `sections` of a document (`micros`: how long it took).
    GuardChecked {
        chart_id: String,
        document: DocumentKind,
        sections: Vec<(String, String)>,
        report: crate::review::GuardReport,
        micros: u64,
    },
    /// The structured summary of a chart (issue 4's side panel).
    ChartSummary {
        chart_id: String,
        summary: Arc<crate::nlp::StructuredChart>,
    },
    /// The answer to the sign confirmation: `true` signs.
    SignAnswer(bool),
    /// Signing finished (`Err`: why it did not).
    Signed {
        chart_id: String,
        document: DocumentKind,
        result: Result<Box<crate::store::SignedDocument>, String>,
    },
    /// What the store holds for a document just opened: its newest signed version, whether
    /// the journal has changes after it, and the findings acknowledged in the journal.
    SignedVersion {
        chart_id: String,
        document: DocumentKind,
        signed: Option<Box<crate::store::SignedDocument>>,
        unsigned_changes: bool,
        acknowledged: std::collections::BTreeSet<String>,
    },
    /// The metrics recorder's health changed: its status-bar warning, or `None` when well.
    MetricsHealth(Option<String>),
    /// The Metrics screen's report was read, or why it could not be.
    MetricsLoaded(Result<Arc<crate::metrics::Report>, String>),
    /// Entities found in a note or a draft section (char offsets into that text); replaces
    /// earlier ones for the same target.
    Entities {
        target: EntityTarget,
        entities: Vec<Entity>,
    },
    /// A key in the draft pane's edit mode (see `edit_keys`).
    Edit(EditKey),
    /// Text pasted into the terminal (bracketed paste).
    Paste(String),
    /// The answer to the recovery prompt: `true` restores the journaled draft.
    RecoveryChoice(bool),
    /// A document was opened for editing (chart lock, journal recovery), or could not be.
    DocumentOpened {
        chart_id: String,
        document: DocumentKind,
        opened: OpenedDocument,
    },
    /// The journal's health: `Some` says why edits cannot be saved right now.
    JournalHealth(Option<String>),
    /// The model rewrote one section (`Err`: why it could not).
    SectionRegenerated {
        chart_id: String,
        document: DocumentKind,
        heading: String,
        result: Result<String, String>,
    },
}

/// What opening a document found.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenedDocument {
    pub access: crate::tui::state::document_edit::Access,
    /// The journaled draft, offered when it has changes not yet signed.
    pub recovered: Option<RecoveredDraft>,
    /// The journal was damaged: what was lost (recovered up to the last good record).
    pub damage: Option<String>,
    /// Editing works but saving does not (data dir unwritable, audit log unwritable): why.
    pub problem: Option<String>,
}

/// A draft read back from the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveredDraft {
    pub sections: Vec<crate::store::SectionText>,
    pub ai_sections: Vec<crate::store::SectionText>,
    /// Keys of the sections marked accepted.
    pub accepted: std::collections::BTreeSet<String>,
    pub last_change_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The editor's exact text (every character, also outside the sections), when the
    /// journal has it; older journals have sections only.
    pub text: Option<String>,
}

/// Work `update` asks for; the event loop hands it to a worker (see `workers`).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Leave the event loop and restore the terminal.
    Quit,
    /// Read the queue directory again now.
    Rescan,
    /// Draft `document` for `chart` (answers come back as `Action::Draft`).
    GenerateDraft {
        chart: Arc<Chart>,
        document: DocumentKind,
    },
    /// Stop drafting `document` of chart `chart_id`.
    CancelDraft {
        chart_id: String,
        document: DocumentKind,
    },
    /// Find entities in the notes of `chart` (answers come back as `Action::Entities`).
    AnalyzeChart(Arc<Chart>),
    /// Open `document` of chart `chart_id` for editing: take the chart lock, recover the
    /// journal (answer: `Action::DocumentOpened`). Closes the document open before.
    OpenDocument {
        chart_id: String,
        document: DocumentKind,
    },
    /// Take over the stale lock of the open (read-only) document.
    TakeOverLock {
        chart_id: String,
        document: DocumentKind,
    },
    /// Journal these sections of the open document (never waits for the disk).
    JournalSections {
        chart_id: String,
        document: DocumentKind,
        sections: Vec<crate::store::SectionText>,
        /// Written by the model (the AI text revert goes back to), not by the clinician.
        generated: bool,
    },
    /// Journal the whole text of the open document after an edit, with its sections
    /// (never waits for the disk).
    JournalDocument {
        chart_id: String,
        document: DocumentKind,
        text: String,
        sections: Vec<crate::store::SectionText>,
    },
    /// Ask the drafter for one section again (answer: `Action::SectionRegenerated`).
    RegenerateSection {
        chart: Arc<Chart>,
        document: DocumentKind,
        heading: String,
        /// Write it in this mode (the clinician switched it); `None`: as before.
        mode: Option<crate::draft::DraftMode>,
    },
    /// Find entities in one text, e.g. a finished draft section (answers with
    /// `Action::Entities` for `target`; offsets are into `text` as sent).
    AnalyzeText { target: EntityTarget, text: String },
    /// Read the metrics report (answers with `Action::MetricsLoaded`).
    LoadMetrics,
    /// Check these sections (journal key, text) with the provenance guard (answer:
    /// `Action::GuardChecked`).
    CheckGuard {
        chart: Arc<Chart>,
        document: DocumentKind,
        sections: Vec<(String, String)>,
        /// Per section key: the spans still copied from the chart (see `guard_provenance`).
        provenance: crate::review::SectionSpans,
    },
    /// Read what is signed of both documents of chart `chart_id` (answers:
    /// `Action::SignedVersion`), without opening them.
    LookUpSigned { chart_id: String },
    /// Structure `chart` for the summary panel (answer: `Action::ChartSummary`).
    SummarizeChart(Arc<Chart>),
    /// Record the acknowledgement of a guard finding, or its withdrawal (journal + audit
    /// log).
    Acknowledge {
        chart_id: String,
        document: DocumentKind,
        item_id: String,
        withdraw: bool,
    },
    /// Journal that a section was marked accepted (or the mark taken back).
    MarkAccepted {
        chart_id: String,
        document: DocumentKind,
        heading: String,
        accepted: bool,
    },
    /// Sign the open document as its next version (answer: `Action::Signed`).
    Sign {
        chart: Arc<Chart>,
        document: DocumentKind,
        sections: Vec<crate::store::SectionText>,
        acknowledged: Vec<String>,
    },
    /// Write the signed document into the data dir's `exports/` (answer: a status message).
    Export {
        chart: Arc<Chart>,
        signed: Box<crate::store::SignedDocument>,
        format: crate::export::Format,
    },
    /// Copy `text` to the clinician's clipboard with OSC 52 (written to the terminal by the
    /// event loop itself; only ever asked for by an explicit key).
    CopyToClipboard { text: String },
    /// The draft on screen was edited (what kind, how many chars): for the metrics recorder,
    /// which sees every effect (`metrics_hooks`); nothing else to do.
    DraftEdited(crate::editor::EditOutcome),
}
