//! The single vocabulary of change: everything that can happen to the screen state is an
//! [`Action`] (a key command, a resize, a background notification), and everything the state
//! asks the outside world to do is an [`Effect`] that the event loop carries out.

use super::command::Command;
use super::document_state::{DocumentKind, DocumentState};
use crate::chart::{Chart, ChartError};
use std::sync::Arc;

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
}

/// Work `update` asks for; the event loop does it off the UI state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Leave the event loop and restore the terminal.
    Quit,
    /// Read the queue directory again now.
    Rescan,
}
