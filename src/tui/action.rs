//! The single vocabulary of change: everything that can happen to the screen state is an
//! [`Action`] (a key command, a resize, a background notification), and everything the state
//! asks the outside world to do is an [`Effect`] that the event loop carries out.

use super::command::Command;
use super::document_state::{DocumentKind, DocumentState};
use super::draft_view::DraftEvent;
use super::model_status::ModelState;
use crate::chart::{Chart, ChartError};
use crate::nlp::Entity;
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
}

/// Work `update` asks for; the event loop hands it to a worker (see `services`).
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
    /// Find entities in one text, e.g. a finished draft section (answers with
    /// `Action::Entities` for `target`; offsets are into `text` as sent).
    AnalyzeText { target: EntityTarget, text: String },
    /// Read the metrics report (answers with `Action::MetricsLoaded`).
    LoadMetrics,
    /// The draft on screen was edited (what kind, how many chars): for the metrics recorder,
    /// which sees every effect (`metrics_hooks`); nothing else to do.
    DraftEdited(crate::editor::EditOutcome),
}
