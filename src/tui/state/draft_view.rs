//! A draft as the screen shows it while it streams in: sections (title + text), which one
//! is still being written, and how the generation ended. Fed by `Action::Draft` events from
//! whatever drafts (the `DraftService` in `workers`); the clinician's editing comes later.

use crate::chart::Source;
use crate::draft::DraftMode;
use crate::nlp::Entity;
use std::ops::Range;

/// A section as the drafter announces it. Factual sections arrive filled (from structured
/// chart data); narrative ones arrive empty and stream in.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionStart {
    pub title: String,
    pub text: String,
    /// True when the model writes this section (it streams), false when filled from data.
    pub generated: bool,
}

/// What happens to a draft, in order: `Started`, then `Text`/`SectionDone` per section,
/// then one of `Finished`, `Failed`, `Cancelled`.
#[derive(Debug, Clone, PartialEq)]
pub enum DraftEvent {
    Started {
        sections: Vec<SectionStart>,
    },
    /// The drafter began writing section `section`.
    SectionStarted {
        section: usize,
    },
    /// More text for section `section` (whole characters, appended).
    Text {
        section: usize,
        text: String,
    },
    /// Section `section` is complete; `text`, when given, is its final text (the drafter
    /// may trim what streamed, and factual sections arrive whole here).
    SectionDone {
        section: usize,
        text: Option<String>,
    },
    /// Where section `section`'s sentences come from (after its `SectionDone`, or after it
    /// was regenerated): the quoted or rewritten text and its source in the chart, how it
    /// was written, and how many model sentences were replaced by their evidence.
    Evidence {
        section: usize,
        sources: Vec<(String, Source)>,
        mode: Option<DraftMode>,
        replaced: usize,
    },
    Finished,
    Failed {
        message: String,
    },
    Cancelled,
    /// The spans of section `section`'s final text copied from the chart (factual and
    /// evidence sections), sent right after its `SectionDone`.
    SectionProvenance {
        section: usize,
        spans: Vec<(Range<usize>, Source)>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct DraftSection {
    pub title: String,
    pub text: String,
    pub generated: bool,
    pub progress: SectionProgress,
    /// Highlights for this section's text (char offsets into `text`).
    pub entities: Vec<Entity>,
    /// The chart text behind each sentence: (the sentence as drafted, its source). Found
    /// again in the edited text by content, so edits elsewhere do not break the link.
    pub sources: Vec<(String, Source)>,
    /// How the section was written (narrative sections).
    pub mode: Option<DraftMode>,
    /// Char ranges of `text` copied from the chart, with their record (the guard counts
    /// facts inside them as supported).
    pub provenance: Vec<(Range<usize>, Source)>,
}

/// Where a section stands while the draft is written (sections are written in order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionProgress {
    Waiting,
    Writing,
    Done,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DraftPhase {
    Generating,
    Done,
    Failed(String),
    Cancelled,
    /// The blank template of a time study's manual arm: written by the clinician, no model.
    Blank,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DraftView {
    pub sections: Vec<DraftSection>,
    pub phase: DraftPhase,
}

impl DraftView {
    pub fn new(sections: Vec<SectionStart>) -> Self {
        Self {
            sections: sections
                .into_iter()
                .map(|s| DraftSection {
                    // A section announced with its text (from the chart) is complete.
                    progress: if s.text.is_empty() {
                        SectionProgress::Waiting
                    } else {
                        SectionProgress::Done
                    },
                    title: s.title,
                    text: s.text,
                    generated: s.generated,
                    entities: Vec::new(),
                    sources: Vec::new(),
                    mode: None,
                    provenance: Vec::new(),
                })
                .collect(),
            phase: DraftPhase::Generating,
        }
    }

    pub fn is_generating(&self) -> bool {
        self.phase == DraftPhase::Generating
    }

    /// Applies one event. `Started` is handled by the caller (it creates the view). Events
    /// for sections that do not exist are ignored (a drafter bug must not crash the screen).
    pub fn apply(&mut self, event: DraftEvent) {
        match event {
            DraftEvent::Started { sections } => *self = DraftView::new(sections),
            DraftEvent::SectionStarted { section } => {
                if let Some(s) = self.sections.get_mut(section) {
                    s.progress = SectionProgress::Writing;
                }
            }
            DraftEvent::Text { section, text } => {
                if let Some(s) = self.sections.get_mut(section) {
                    s.progress = SectionProgress::Writing;
                    s.text.push_str(&text);
                    s.provenance.clear();
                }
            }
            DraftEvent::SectionDone { section, text } => {
                if let Some(s) = self.sections.get_mut(section) {
                    s.progress = SectionProgress::Done;
                    if let Some(text) = text {
                        s.text = text;
                    }
                    s.provenance.clear(); // its own event follows
                }
            }
            DraftEvent::SectionProvenance { section, spans } => {
                if let Some(s) = self.sections.get_mut(section) {
                    s.provenance = spans;
                }
            }
            DraftEvent::Evidence {
                section,
                sources,
                mode,
                ..
            } => {
                if let Some(s) = self.sections.get_mut(section) {
                    s.sources = sources;
                    s.mode = mode;
                }
            }
            DraftEvent::Finished => self.end(DraftPhase::Done),
            DraftEvent::Failed { message } => self.end(DraftPhase::Failed(message)),
            DraftEvent::Cancelled => self.end(DraftPhase::Cancelled),
        }
    }

    /// Sections never reached stay `Waiting`, so the pane can tell them from finished ones.
    fn end(&mut self, phase: DraftPhase) {
        for section in &mut self.sections {
            if section.progress == SectionProgress::Writing {
                section.progress = SectionProgress::Done;
            }
        }
        self.phase = phase;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_streams_into_sections_and_the_end_stops_streaming() {
        let mut view = DraftView::new(vec![
            SectionStart {
                title: "傷病名".into(),
                text: "市中肺炎".into(),
                generated: false,
            },
            SectionStart {
                title: "経過".into(),
                text: String::new(),
                generated: true,
            },
        ]);
        assert_eq!(view.sections[0].progress, SectionProgress::Done);
        assert_eq!(view.sections[1].progress, SectionProgress::Waiting);
        view.apply(DraftEvent::SectionStarted { section: 1 });
        assert_eq!(view.sections[1].progress, SectionProgress::Writing);
        view.apply(DraftEvent::Text {
            section: 1,
            text: "入院後".into(),
        });
        view.apply(DraftEvent::Text {
            section: 1,
            text: "解熱。".into(),
        });
        view.apply(DraftEvent::Text {
            section: 9,
            text: "lost".into(),
        });
        assert_eq!(view.sections[1].text, "入院後解熱。");
        view.apply(DraftEvent::Failed {
            message: "context full".into(),
        });
        assert_eq!(view.sections[1].progress, SectionProgress::Done);
        assert_eq!(view.phase, DraftPhase::Failed("context full".into()));
    }
}
