//! What the screen knows about reviewing and signing each document: the provenance guard's
//! latest report (and the text it was computed for, so a stale report never marks the wrong
//! characters), the acknowledged findings, the flag last jumped to, the signed version, the
//! chart span a jump to a source highlights, and the sign confirmation prompt.

use crate::draft::DocumentTemplate;
use crate::review::{GuardItem, GuardReport};
use crate::store::SignedDocument;
use crate::tui::state::document_edit::DocumentEdit;
use crate::tui::state::document_state::DocRef;
use crate::tui::state::draft_view::DraftView;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

/// The guard's view of one document.
#[derive(Debug, Clone, Default)]
pub struct GuardState {
    /// The sections (journal key, text) last sent to the guard worker.
    pub sent: Vec<(String, String)>,
    /// The copied spans last sent with them.
    pub sent_provenance: crate::review::SectionSpans,
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
    pub key: DocRef,
    pub signer: String,
    /// The version this signature will create.
    pub version: u32,
}

#[derive(Debug, Clone, Default)]
pub struct ReviewState {
    pub guards: HashMap<DocRef, GuardState>,
    pub signed: HashMap<DocRef, SignState>,
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

    pub fn is_signed(&self, key: &DocRef) -> bool {
        matches!(self.signed.get(key), Some(SignState::Signed(_)))
    }
}

/// The sections of a document as the guard sees them: (journal key, body text). From the
/// editor when the document is being edited, else from a finished draft.
pub fn guard_sections(
    template: &DocumentTemplate,
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
            .map(|s| (template.section_key(&s.title), s.text.clone()))
            .collect(),
    )
}

/// The spans of each section (journal key) that still hold text copied from the chart:
/// the draft's provenance, shifted past the clinician's edits, and dropped where an edit
/// touched it (`review::provenance_after_edit`). Sections without any are left out.
pub fn guard_provenance(
    template: &DocumentTemplate,
    edit: Option<&DocumentEdit>,
    draft: Option<&DraftView>,
) -> crate::review::SectionSpans {
    let Some(draft) = draft else {
        return Vec::new();
    };
    let drafted = |key: &str| {
        draft
            .sections
            .iter()
            .find(|s| template.section_key(&s.title) == key)
    };
    let current: Vec<(String, String)> = match edit.filter(|e| e.editor.is_some()) {
        Some(edit) => edit
            .sections()
            .into_iter()
            .map(|(heading, body)| (edit.section_key(&heading), body))
            .collect(),
        None => draft
            .sections
            .iter()
            .map(|s| (template.section_key(&s.title), s.text.clone()))
            .collect(),
    };
    current
        .into_iter()
        .filter_map(|(key, body)| {
            let section = drafted(&key)?;
            let spans =
                crate::review::provenance_after_edit(&section.text, &body, &section.provenance);
            (!spans.is_empty()).then_some((key, spans))
        })
        .collect()
}

/// Byte range in the editor's text of each guard item (by section key and char offsets
/// into that section's body). Items whose section is missing are left out.
pub fn editor_ranges<'a>(
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
    use crate::chart::Source;
    use crate::tui::state::document_edit::OpenIntent;
    use crate::tui::state::document_state::DocumentKind;
    use crate::tui::state::draft_view::{DraftEvent, SectionStart};

    #[test]
    fn copied_spans_follow_the_text_through_edits() {
        let document = DocumentKind::Discharge;
        let mut draft = DraftView::new(vec![SectionStart {
            title: "入院後経過".into(),
            text: String::new(),
            generated: true,
        }]);
        let text = "肺炎で入院。抗菌薬で軽快。";
        let source = Source::Note {
            id: "n1".into(),
            start: 3,
            end: 9,
        };
        draft.apply(DraftEvent::SectionDone {
            section: 0,
            text: Some(text.into()),
        });
        draft.apply(DraftEvent::SectionProvenance {
            section: 0,
            spans: vec![(0..6, source.clone()), (6..13, source.clone())],
        });
        draft.apply(DraftEvent::Finished);
        let template = DocumentTemplate::builtin(document);
        let key = template.section_key("入院後経過");
        // Not edited: every span, under the section's journal key.
        let spans = guard_provenance(&template, None, Some(&draft));
        assert_eq!(
            spans,
            vec![(
                key.clone(),
                vec![(0..6, source.clone()), (6..13, source.clone())]
            )]
        );
        // Edited inside the second sentence: only the first still counts as copied.
        let mut edit = DocumentEdit::new(&template, OpenIntent::Edit);
        edit.load(&[("入院後経過".into(), "肺炎で入院。抗菌薬で改善。".into())]);
        let spans = guard_provenance(&template, Some(&edit), Some(&draft));
        assert_eq!(spans, vec![(key, vec![(0..6, source.clone())])]);
        // Rewritten entirely: nothing is copied any more.
        edit.load(&[("入院後経過".into(), "自宅退院。".into())]);
        assert!(guard_provenance(&template, Some(&edit), Some(&draft)).is_empty());
        // Streaming text replaces the provenance until its own event comes.
        draft.apply(DraftEvent::Text {
            section: 0,
            text: "追記".into(),
        });
        assert!(draft.sections[0].provenance.is_empty());
    }

    #[test]
    fn char_offsets_become_byte_offsets() {
        assert_eq!(char_to_byte("肺炎あり", 0), Some(0));
        assert_eq!(char_to_byte("肺炎あり", 2), Some(6));
        assert_eq!(char_to_byte("肺炎あり", 4), Some(12));
        assert_eq!(char_to_byte("肺炎あり", 5), None);
    }
}
