//! What the screen knows about reviewing and signing each document: the provenance guard's
//! latest report (and the text it was computed for, so a stale report never marks the wrong
//! characters), the acknowledged findings, the flag last jumped to, the signed version, the
//! chart span a jump to a source highlights, and the sign confirmation prompt.

use super::document_edit::{section_key, DocumentEdit};
use super::document_state::DocumentKind;
use super::draft_view::DraftView;
use crate::review::{GuardItem, GuardReport};
use crate::store::SignedDocument;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

pub type DocKey = (String, DocumentKind);

/// The guard's view of one document.
#[derive(Debug, Clone, Default)]
pub struct GuardState {
    /// The sections (journal key, text) last sent to the guard worker.
    pub sent: Vec<(String, String)>,
    /// The latest report and the sections it was computed for.
    pub report: Option<GuardReport>,
    pub checked: Vec<(String, String)>,
    /// How long the worker took for the latest report (µs), for the status line and tests.
    pub micros: u64,
    /// Findings the clinician acknowledged (stable guard item ids).
    pub acknowledged: BTreeSet<String>,
    /// The flag last jumped to (its id).
    pub selected: Option<String>,
}

impl GuardState {
    /// The report, when it describes exactly the text given (else it is stale).
    pub fn fresh_report(&self, sections: &[(String, String)]) -> Option<&GuardReport> {
        self.report.as_ref().filter(|_| self.checked == sections)
    }

    pub fn is_acknowledged(&self, item: &GuardItem) -> bool {
        self.acknowledged.contains(&item.id)
    }
}

/// Where a document stands with signing.
#[derive(Debug, Clone, PartialEq)]
pub enum SignState {
    /// Signed: read-only, exportable.
    Signed(Box<SignedDocument>),
    /// A new version is being written after `previous` (editable; exports use `previous`).
    Amending(Box<SignedDocument>),
}

impl SignState {
    pub fn latest(&self) -> &SignedDocument {
        match self {
            SignState::Signed(d) | SignState::Amending(d) => d,
        }
    }
}

/// A note span shown highlighted in the chart pane after a jump to a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMark {
    pub chart_id: String,
    pub note_id: String,
    pub start: usize,
    pub end: usize,
}

/// The confirmation asked before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignPrompt {
    pub key: DocKey,
    pub signer: String,
    /// The version this signature will create.
    pub version: u32,
}

#[derive(Debug, Clone, Default)]
pub struct ReviewState {
    pub guards: HashMap<DocKey, GuardState>,
    pub signed: HashMap<DocKey, SignState>,
    /// The guard panel is shown (toggle).
    pub panel_open: bool,
    pub source_mark: Option<SourceMark>,
    pub sign_prompt: Option<SignPrompt>,
    /// The name signatures carry (config `clinician_name`, else the OS user).
    pub signer: String,
    /// Structured chart summaries by chart id, and the charts asked for.
    pub summaries: HashMap<String, std::sync::Arc<crate::nlp::StructuredChart>>,
    pub summary_requested: std::collections::HashSet<String>,
    /// The summary panel is shown (under the chart), and its selected row.
    pub summary_open: bool,
    pub summary_selected: usize,
    /// Charts whose signed versions were looked up (once each).
    pub signed_checked: std::collections::HashSet<String>,
}

impl ReviewState {
    pub fn new(signer: String) -> Self {
        Self {
            signer,
            ..Self::default()
        }
    }

    pub fn is_signed(&self, key: &DocKey) -> bool {
        matches!(self.signed.get(key), Some(SignState::Signed(_)))
    }
}

/// The sections of a document as the guard sees them: (journal key, body text). From the
/// editor when the document is being edited, else from a finished draft.
pub fn guard_sections(
    document: DocumentKind,
    edit: Option<&DocumentEdit>,
    draft: Option<&DraftView>,
) -> Option<Vec<(String, String)>> {
    if let Some(edit) = edit.filter(|e| e.editor.is_some()) {
        return Some(
            edit.section_texts()
                .into_iter()
                .map(|s| (s.key, s.text))
                .collect(),
        );
    }
    let draft = draft.filter(|d| !d.is_generating())?;
    Some(
        draft
            .sections
            .iter()
            .map(|s| (section_key(document, &s.title), s.text.clone()))
            .collect(),
    )
}

/// Byte range in the editor's text of each guard item (by section key and char offsets
/// into that section's body). Items whose section is missing are left out.
pub fn editor_ranges<'a>(
    _document: DocumentKind,
    edit: &DocumentEdit,
    items: impl Iterator<Item = &'a GuardItem>,
) -> Vec<(&'a GuardItem, Range<usize>)> {
    let Some(editor) = &edit.editor else {
        return Vec::new();
    };
    let text = editor.text();
    let bodies: HashMap<String, Range<usize>> = edit
        .keyed_spans()
        .into_iter()
        .map(|(key, span)| (key, span.body))
        .collect();
    items
        .filter_map(|item| {
            let body = bodies.get(&item.section)?;
            let body_text = text.get(body.clone())?;
            let start = char_to_byte(body_text, item.start)?;
            let end = char_to_byte(body_text, item.end)?;
            (start < end).then(|| (item, body.start + start..body.start + end))
        })
        .collect()
}

/// Byte offset of char `index` in `text` (`None` past the end).
pub fn char_to_byte(text: &str, index: usize) -> Option<usize> {
    if index == text.chars().count() {
        return Some(text.len());
    }
    text.char_indices().nth(index).map(|(byte, _)| byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_offsets_become_byte_offsets() {
        assert_eq!(char_to_byte("肺炎あり", 0), Some(0));
        assert_eq!(char_to_byte("肺炎あり", 2), Some(6));
        assert_eq!(char_to_byte("肺炎あり", 4), Some(12));
        assert_eq!(char_to_byte("肺炎あり", 5), None);
    }
}
