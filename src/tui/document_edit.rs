//! A document being edited in the draft pane: the editor holding the whole text (sections
//! as `【title】` header lines followed by their body), the AI's text of each section (for
//! revert and the metrics), which sections the clinician accepted, and whether this session
//! may write (chart lock) and journal.

use super::document_state::DocumentKind;
use crate::editor::Editor;
use crate::store::{DocKind, SectionText};
use std::collections::BTreeSet;

/// The sections of a blank document, as (journal key, heading). Same keys and headings as
/// the built-in drafting templates, so a hand-written document exports like a drafted one.
const REFERRAL_SECTIONS: &[(&str, &str)] = &[
    ("addressee", "宛先"),
    ("patient", "患者情報"),
    ("purpose", "紹介目的"),
    ("diagnoses", "傷病名"),
    ("history", "既往歴・家族歴"),
    ("course", "症状経過・検査結果・治療経過"),
    ("labs", "主要検査結果"),
    ("prescriptions", "現在の処方"),
    ("allergies", "アレルギー"),
    ("remarks", "備考"),
];

const DISCHARGE_SECTIONS: &[(&str, &str)] = &[
    ("patient", "患者情報"),
    ("admission", "入院日・退院日"),
    ("diagnoses", "主病名・副病名"),
    ("chief_complaint", "主訴"),
    ("present_illness", "現病歴"),
    ("past_history", "既往歴"),
    ("allergies", "アレルギー"),
    ("admission_findings", "入院時所見"),
    ("labs", "主要検査結果"),
    ("hospital_course", "入院後経過"),
    ("procedures", "手術・処置"),
    ("discharge_prescriptions", "退院時処方"),
    ("discharge_condition", "退院時の状態"),
    ("plan", "今後の方針"),
];

fn template_sections(document: DocumentKind) -> &'static [(&'static str, &'static str)] {
    match document {
        DocumentKind::ReferralLetter => REFERRAL_SECTIONS,
        DocumentKind::DischargeSummary => DISCHARGE_SECTIONS,
    }
}

/// The store's name for the screen's document kind.
pub fn doc_kind(document: DocumentKind) -> DocKind {
    match document {
        DocumentKind::ReferralLetter => DocKind::Referral,
        DocumentKind::DischargeSummary => DocKind::Discharge,
    }
}

/// The journal key of a section heading: the template's key when the heading is one of the
/// template's, else the heading itself (headings are unique within a document).
pub fn section_key(document: DocumentKind, heading: &str) -> String {
    template_sections(document)
        .iter()
        .find(|(_, h)| *h == heading)
        .map_or_else(|| heading.to_string(), |(key, _)| (*key).to_string())
}

/// The heading inside a header line: `【紹介目的】` → `紹介目的`.
pub fn heading_of(header_line: &str) -> String {
    let inner = header_line.trim().trim_start_matches('【');
    match inner.find('】') {
        Some(end) => inner[..end].to_string(),
        None => inner.to_string(),
    }
}

/// The editor text of `sections`: `【heading】` lines, each followed by its body.
pub fn compose(sections: &[(String, String)]) -> String {
    let mut text = String::new();
    for (i, (heading, body)) in sections.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push('【');
        text.push_str(heading);
        text.push_str("】\n");
        text.push_str(body.trim_end_matches('\n'));
    }
    text
}

/// A blank document of `document`'s kind: every template heading with an empty body.
pub fn blank_sections(document: DocumentKind) -> Vec<(String, String)> {
    template_sections(document)
        .iter()
        .map(|(_, heading)| ((*heading).to_string(), String::new()))
        .collect()
}

/// Whether this session may change the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// The chart lock and the journal are being opened.
    Opening,
    /// This session holds the chart lock; every edit is journaled.
    Editing,
    /// Someone else holds the chart lock: `holder` says who and since when.
    ReadOnly { holder: String, stale: bool },
    /// Editing works but nothing can be journaled (data dir or lock dir unusable): the
    /// draft lives only in memory; `problem` says why and is shown.
    MemoryOnly { problem: String },
    /// Another document was opened since: this one is shown read-only until opened again.
    Closed,
}

impl Access {
    pub fn can_write(&self) -> bool {
        matches!(self, Access::Editing | Access::MemoryOnly { .. })
    }
}

/// What to do once the document is open (the user's request that opened it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenIntent {
    /// Edit what there is (the finished draft, or what is in memory).
    Edit,
    /// Start a blank document from the template headings.
    Blank,
}

#[derive(Debug, Clone)]
pub struct DocumentEdit {
    pub document: DocumentKind,
    /// `None` until there is text (a finished draft, a blank document, a recovered one).
    pub editor: Option<Editor>,
    /// The AI's text per heading (what revert restores).
    pub ai_sections: Vec<(String, String)>,
    /// Headings the clinician accepted.
    pub reviewed: BTreeSet<String>,
    pub access: Access,
    pub intent: OpenIntent,
    /// The sections as last handed to the journal (only changed ones are sent again).
    pub journaled: Vec<(String, String)>,
    /// Headings being regenerated by the model.
    pub regenerating: BTreeSet<String>,
}

impl DocumentEdit {
    pub fn new(document: DocumentKind, intent: OpenIntent) -> Self {
        Self {
            document,
            editor: None,
            ai_sections: Vec::new(),
            reviewed: BTreeSet::new(),
            access: Access::Opening,
            intent,
            journaled: Vec::new(),
            regenerating: BTreeSet::new(),
        }
    }

    /// Loads `sections` into a fresh editor (read-only unless this session may write).
    pub fn load(&mut self, sections: &[(String, String)]) {
        let mut editor = Editor::new(&compose(sections));
        editor.set_read_only(!self.access.can_write());
        self.editor = Some(editor);
    }

    /// The current sections as (heading, body), from the editor's header lines.
    pub fn sections(&self) -> Vec<(String, String)> {
        let Some(editor) = &self.editor else {
            return Vec::new();
        };
        let text = editor.text();
        editor
            .sections()
            .into_iter()
            .map(|(header, body)| {
                let body = text.get(body).unwrap_or("").trim_end_matches('\n');
                (heading_of(&header), body.to_string())
            })
            .collect()
    }

    /// The sections that differ from what the journal has, as journal records' payload.
    pub fn unjournaled(&mut self) -> Vec<SectionText> {
        let current = self.sections();
        let changed: Vec<SectionText> = current
            .iter()
            .filter(|s| !self.journaled.contains(s))
            .map(|(heading, body)| {
                SectionText::new(section_key(self.document, heading), heading, body)
            })
            .collect();
        self.journaled = current;
        changed
    }

    /// The heading and body byte range of the section holding the cursor.
    pub fn section_at_cursor(&self) -> Option<(String, std::ops::Range<usize>)> {
        let editor = self.editor.as_ref()?;
        let cursor = editor.cursor();
        let sections = editor.sections();
        // The section whose header line starts at or before the cursor (the last such one).
        let header_starts = header_line_starts(editor.text());
        let index = header_starts.iter().rposition(|&start| start <= cursor)?;
        sections
            .into_iter()
            .nth(index)
            .map(|(header, body)| (heading_of(&header), body))
    }

    pub fn ai_text(&self, heading: &str) -> Option<&str> {
        self.ai_sections
            .iter()
            .find(|(h, _)| h == heading)
            .map(|(_, t)| t.as_str())
    }

    pub fn set_access(&mut self, access: Access) {
        let read_only = !access.can_write();
        self.access = access;
        if let Some(editor) = self.editor.as_mut() {
            editor.set_read_only(read_only);
        }
    }
}

/// Byte offsets of the `【` header lines of `text`, in order.
fn header_line_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut line_start = 0;
    for line in text.split('\n') {
        if line.starts_with('【') {
            starts.push(line_start);
        }
        line_start += line.len() + 1;
    }
    starts
}

/// Sections from the journal as (heading, body), falling back to the key for a missing heading.
pub fn from_store(sections: &[SectionText]) -> Vec<(String, String)> {
    sections
        .iter()
        .map(|s| {
            let heading = if s.heading.is_empty() {
                s.key.clone()
            } else {
                s.heading.clone()
            };
            (heading, s.text.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_and_sections_round_trip() {
        let sections = vec![
            ("紹介目的".to_string(), "精査加療のお願い。".to_string()),
            ("傷病名".to_string(), String::new()),
            ("備考".to_string(), "なし\n二行目".to_string()),
        ];
        let mut edit = DocumentEdit::new(DocumentKind::ReferralLetter, OpenIntent::Edit);
        edit.set_access(Access::Editing);
        edit.load(&sections);
        assert_eq!(edit.sections(), sections);
        let first = edit.unjournaled();
        assert_eq!(first.len(), 3);
        assert_eq!(first[0].key, "purpose");
        assert!(edit.unjournaled().is_empty(), "nothing changed since");
        let editor = edit.editor.as_mut().unwrap();
        editor.move_cursor(crate::editor::Motion::DocumentEnd, false, 40);
        editor.type_text("。");
        let changed = edit.unjournaled();
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0].text, "なし\n二行目。");
        assert_eq!(edit.section_at_cursor().unwrap().0, "備考");
    }

    #[test]
    fn headings_and_keys() {
        assert_eq!(heading_of("【入院後経過】"), "入院後経過");
        assert_eq!(
            section_key(DocumentKind::DischargeSummary, "入院後経過"),
            "hospital_course"
        );
        assert_eq!(section_key(DocumentKind::ReferralLetter, "独自"), "独自");
        assert_eq!(blank_sections(DocumentKind::ReferralLetter).len(), 10);
    }
}
