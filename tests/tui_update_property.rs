//! A property test over the TUI's update loop: random sequences of keys, pastes (Japanese,
//! control characters, `【】`), resizes, commands, and answers from the engine and the
//! workers (draft events, regenerated sections, guard reports delivered late and in
//! batches) go through `update` as the event loop feeds them. At every step:
//! - nothing panics (`update`, and drawing the screen);
//! - the journal, replayed from the bytes the effects would write, holds exactly the
//!   editor's text, for every document open for editing;
//! - a guard report the screen holds as current equals a fresh check of the same text.
//!
//! Shrinking finds a minimal failing sequence. CI runs `KARTE_PROPTEST_CASES` (default 48)
//! sequences of up to 60 steps; the long run sets it higher (README, "Nothing lost").

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::Chart;
use karte::editor::Motion;
use karte::nlp::Pipeline;
use karte::paths::AppPaths;
use karte::review::{ChartIndex, ProvenanceGuard};
use karte::store::journal::JOURNAL_HEADER;
use karte::store::{self, JournalRecord, SectionText};
use karte::tui::action::{Action, Effect, OpenedDocument};
use karte::tui::state::document_edit::Access;
use karte::tui::update;
use karte::tui::{guard_sections, GuardRequest, GuardRunner};
use karte::tui::{
    App, Command, DocRef, DocumentKind, DraftEvent, EditKey, ModelState, SectionStart,
};

/// The journal key of a heading in the built-in template of `document`.
fn section_key(document: DocumentKind, heading: &str) -> String {
    karte::draft::DocumentTemplate::builtin(document).section_key(heading)
}
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

mod tui_support;

fn pipeline() -> Arc<Pipeline> {
    static PIPELINE: OnceLock<Arc<Pipeline>> = OnceLock::new();
    Arc::clone(PIPELINE.get_or_init(|| {
        Arc::new(Pipeline::load(&AppPaths::discover().unwrap().ipadic_dir()).unwrap())
    }))
}

/// Steps run in all cases of this process (the figure the long run reports).
static STEPS: AtomicU64 = AtomicU64::new(0);

/// Pieces random text is made of.
const PIECES: &[&str] = &[
    "あ",
    "肺炎",
    "CRP 18.6",
    "セフトリアキソン 2g",
    "【",
    "】",
    "【紹介目的】",
    "【備考】\n",
    "\n",
    "\r\n",
    "\t",
    "\u{0}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{200b}",
    "が\u{3099}",
    "👨‍⚕️",
    "　",
    "ｶﾀｶﾅ",
    "x",
    " ",
    "。",
    "㎎",
    "\u{feff}",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..6).prop_map(|p| p.concat())
}

const COMMANDS: &[Command] = &[
    Command::MoveDown,
    Command::MoveUp,
    Command::Open,
    Command::Back,
    Command::NextTab,
    Command::PrevTab,
    Command::FocusNext,
    Command::FocusPrev,
    Command::GenerateDraft,
    Command::CancelDraft,
    Command::EditDraft,
    Command::NewDocument,
    Command::AcceptSection,
    Command::RevertSection,
    Command::RegenerateSection,
    Command::ToggleGuardPanel,
    Command::NextFlag,
    Command::PrevFlag,
    Command::JumpToSource,
    Command::AcknowledgeFlag,
    Command::Sign,
    Command::Amend,
    Command::ExportText,
    Command::ToggleSummary,
    Command::ToggleHighlights,
    Command::NextEntity,
    Command::ShowNotes,
    Command::ShowLabs,
    Command::ToggleHelp,
    Command::PageDown,
    Command::GoBottom,
];

const MOTIONS: &[Motion] = &[
    Motion::Left,
    Motion::Right,
    Motion::Up,
    Motion::Down,
    Motion::LineStart,
    Motion::LineEnd,
    Motion::WordLeft,
    Motion::WordRight,
    Motion::PreviousSection,
    Motion::NextSection,
    Motion::DocumentStart,
    Motion::DocumentEnd,
];

#[derive(Debug, Clone)]
enum Step {
    Command(Command),
    Key(EditKey),
    Paste(String),
    Resize(u16, u16),
    /// A draft event for the current document.
    Draft(DraftStep),
    /// The model's answer to a section regeneration (`None`: it failed).
    Regenerated(usize, Option<String>),
    /// The guard worker's answers arrive (all that are waiting).
    DeliverGuard,
    SignAnswer(bool),
    Health(Option<String>),
}

#[derive(Debug, Clone)]
enum DraftStep {
    Started(Vec<(String, String, bool)>),
    Text(usize, String),
    SectionDone(usize, Option<String>),
    Finished,
    Failed,
    Cancelled,
}

fn edit_key() -> impl Strategy<Value = EditKey> {
    prop_oneof![
        4 => text().prop_map(EditKey::Type),
        4 => (prop::sample::select(MOTIONS), any::<bool>())
            .prop_map(|(motion, extend)| EditKey::Move { motion, extend }),
        1 => (any::<bool>(), any::<bool>()).prop_map(|(up, extend)| EditKey::Page { up, extend }),
        2 => Just(EditKey::DeleteBackward),
        1 => Just(EditKey::DeleteForward),
        1 => Just(EditKey::DeleteWordBackward),
        1 => Just(EditKey::Undo),
        1 => Just(EditKey::Redo),
        1 => Just(EditKey::Cut),
        1 => Just(EditKey::Copy),
        1 => Just(EditKey::Paste),
        1 => Just(EditKey::SelectAll),
        1 => Just(EditKey::Leave),
    ]
}

fn draft_step() -> impl Strategy<Value = DraftStep> {
    prop_oneof![
        1 => prop::collection::vec(
            (prop::sample::select(&["紹介目的", "傷病名", "備考", "", "【宛先】"][..]), text(), any::<bool>())
                .prop_map(|(t, x, g)| (t.to_string(), x, g)),
            0..4
        )
        .prop_map(DraftStep::Started),
        3 => (0usize..4, text()).prop_map(|(i, t)| DraftStep::Text(i, t)),
        1 => (0usize..4, prop::option::of(text())).prop_map(|(i, t)| DraftStep::SectionDone(i, t)),
        1 => Just(DraftStep::Finished),
        1 => Just(DraftStep::Failed),
        1 => Just(DraftStep::Cancelled),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => prop::sample::select(COMMANDS).prop_map(Step::Command),
        10 => edit_key().prop_map(Step::Key),
        2 => text().prop_map(Step::Paste),
        1 => (0u16..160, 0u16..50).prop_map(|(w, h)| Step::Resize(w, h)),
        3 => draft_step().prop_map(Step::Draft),
        1 => (0usize..12, prop::option::of(text())).prop_map(|(i, t)| Step::Regenerated(i, t)),
        3 => Just(Step::DeliverGuard),
        1 => any::<bool>().prop_map(Step::SignAnswer),
        1 => prop::option::of(Just("ディスクがいっぱいです".to_string())).prop_map(Step::Health),
    ]
}

/// The event loop's part, without threads or disk: storage effects become journal bytes
/// (encoded and framed exactly as the writer does), the guard runs in place, its answers
/// wait until a `DeliverGuard` step.
struct Harness {
    app: App,
    journals: HashMap<DocRef, Vec<u8>>,
    guard: GuardRunner,
    waiting: Vec<Action>,
    indexes: HashMap<String, Arc<ChartIndex>>,
    /// The last report found equal to a fresh check, with its sections (not checked again).
    verified: Option<(Vec<(String, String)>, karte::review::GuardReport)>,
}

impl Harness {
    fn new() -> Self {
        Self {
            app: tui_support::app(
                100,
                30,
                ModelState::Ready {
                    name: "gemma".into(),
                },
            ),
            journals: HashMap::new(),
            guard: GuardRunner::new(pipeline()),
            waiting: Vec::new(),
            indexes: HashMap::new(),
            verified: None,
        }
    }

    fn journal(&mut self, key: DocRef, record: JournalRecord) {
        let bytes = self
            .journals
            .entry(key)
            .or_insert_with(|| JOURNAL_HEADER.to_vec());
        bytes.extend(store::journal::encode_record(&record).unwrap());
    }

    fn act(&mut self, action: Action) {
        let mut queue = vec![action];
        while let Some(action) = queue.pop() {
            for effect in update(&mut self.app, action) {
                self.carry_out(effect, &mut queue);
            }
        }
    }

    fn carry_out(&mut self, effect: Effect, queue: &mut Vec<Action>) {
        let at = chrono::Utc::now();
        match effect {
            Effect::OpenDocument { chart_id, document }
            | Effect::TakeOverLock { chart_id, document } => queue.push(Action::DocumentOpened {
                chart_id,
                document,
                opened: OpenedDocument {
                    access: Access::Editing,
                    recovered: None,
                    damage: None,
                    problem: None,
                },
            }),
            Effect::JournalSections {
                chart_id,
                document,
                sections,
                generated,
            } => {
                for section in sections {
                    let record = if generated {
                        JournalRecord::Generated { at, section }
                    } else {
                        JournalRecord::Edited { at, section }
                    };
                    self.journal(DocRef::new(chart_id.clone(), document), record);
                }
            }
            Effect::JournalDocument {
                chart_id,
                document,
                text,
                sections,
            } => self.journal(
                DocRef::new(chart_id, document),
                JournalRecord::Document { at, text, sections },
            ),
            Effect::MarkAccepted {
                chart_id,
                document,
                heading,
                accepted,
            } => self.journal(
                DocRef::new(chart_id, document),
                JournalRecord::Accepted {
                    at,
                    section: section_key(document, &heading),
                    accepted,
                },
            ),
            Effect::CheckGuard {
                chart,
                document,
                sections,
                provenance,
            } => {
                let answer = self.guard.check(GuardRequest {
                    chart,
                    document,
                    sections,
                    provenance,
                });
                self.waiting.push(answer);
            }
            // Sign, export, the clipboard, metrics, drafting and the rest: their answers
            // are the random steps.
            _ => {}
        }
    }

    fn run(&mut self, step: Step) {
        let key = self
            .app
            .selected_chart()
            .map(|c| (c.id.clone(), self.app.draft_document));
        match step {
            Step::Command(command) => self.act(Action::Command(command)),
            Step::Key(key) => self.act(Action::Edit(key)),
            Step::Paste(text) => self.act(Action::Paste(text)),
            Step::Resize(width, height) => self.act(Action::Resize { width, height }),
            Step::Draft(draft) => {
                let Some((chart_id, document)) = key else {
                    return;
                };
                let event = match draft {
                    DraftStep::Started(sections) => DraftEvent::Started {
                        sections: sections
                            .into_iter()
                            .map(|(title, text, generated)| SectionStart {
                                title,
                                text,
                                generated,
                            })
                            .collect(),
                    },
                    DraftStep::Text(section, text) => DraftEvent::Text { section, text },
                    DraftStep::SectionDone(section, text) => {
                        DraftEvent::SectionDone { section, text }
                    }
                    DraftStep::Finished => DraftEvent::Finished,
                    DraftStep::Failed => DraftEvent::Failed {
                        message: "失敗".into(),
                    },
                    DraftStep::Cancelled => DraftEvent::Cancelled,
                };
                self.act(Action::Draft {
                    chart_id,
                    document,
                    event,
                });
            }
            Step::Regenerated(index, text) => {
                let Some((chart_id, document)) = key else {
                    return;
                };
                let headings: Vec<String> = self
                    .app
                    .current_edit()
                    .map(|e| e.sections().into_iter().map(|(h, _)| h).collect())
                    .unwrap_or_default();
                let heading = headings
                    .get(index % headings.len().max(1))
                    .cloned()
                    .unwrap_or_else(|| "紹介目的".into());
                self.act(Action::SectionRegenerated {
                    chart_id,
                    document,
                    heading,
                    result: text.ok_or_else(|| "モデルが応答しません".to_string()),
                });
            }
            Step::DeliverGuard => {
                for answer in std::mem::take(&mut self.waiting) {
                    self.act(answer);
                }
            }
            Step::SignAnswer(yes) => self.act(Action::SignAnswer(yes)),
            Step::Health(problem) => self.act(Action::JournalHealth(problem)),
        }
    }

    /// The invariants, after every step.
    fn check(&mut self) -> Result<(), TestCaseError> {
        // Drawing must not panic either, at any size.
        tui_support::draw(&self.app);
        for (key, edit) in &self.app.edits {
            let Some(editor) = &edit.editor else { continue };
            if edit.access != Access::Editing || self.app.review.is_signed(key) {
                continue;
            }
            let Some(bytes) = self.journals.get(key) else {
                continue;
            };
            let replayed = store::journal::decode_journal(std::path::Path::new("j"), bytes);
            prop_assert!(replayed.damage.is_none());
            prop_assert_eq!(
                replayed.state.text.as_deref(),
                Some(editor.text()),
                "the journal replays to the editor's text"
            );
            let sections: Vec<SectionText> = edit.section_texts();
            prop_assert_eq!(&replayed.state.sections, &sections);
        }
        // The report on screen, when current, is what a fresh guard says of the same text.
        let Some(chart) = self.app.selected_chart().cloned() else {
            return Ok(());
        };
        let key = DocRef::new(chart.id.clone(), self.app.draft_document);
        let Some(sections) = guard_sections(
            self.app.templates.get(key.kind),
            self.app.edits.get(&key),
            self.app.drafts.get(&key),
        ) else {
            return Ok(());
        };
        let Some(report) = self
            .app
            .review
            .guards
            .get(&key)
            .and_then(|g| g.fresh_report(&sections))
            .cloned()
        else {
            return Ok(());
        };
        if self
            .verified
            .as_ref()
            .is_some_and(|(s, r)| *s == sections && *r == report)
        {
            return Ok(());
        }
        let fresh = self.fresh_check(&chart, &sections);
        prop_assert_eq!(&report, &fresh, "the guard's report equals a fresh check");
        self.verified = Some((sections, report));
        Ok(())
    }

    fn fresh_check(
        &mut self,
        chart: &Arc<Chart>,
        sections: &[(String, String)],
    ) -> karte::review::GuardReport {
        let index = self
            .indexes
            .entry(chart.id.clone())
            .or_insert_with(|| Arc::new(ChartIndex::build(&pipeline(), chart)))
            .clone();
        let mut guard = ProvenanceGuard::new(pipeline(), index);
        guard.update_all(sections.iter().map(|(k, t)| (k.as_str(), t.as_str())));
        guard.report()
    }
}

fn cases() -> u32 {
    std::env::var("KARTE_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 4096,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_update_loop_never_panics_and_never_loses_a_character(
        steps in prop::collection::vec(step(), 1..60)
    ) {
        let mut harness = Harness::new();
        // Most sequences should reach the editor: start with a document open half the time.
        if steps.len() % 2 == 0 {
            harness.act(Action::Command(Command::NewDocument));
        }
        harness.check()?;
        let count = steps.len() as u64;
        for step in steps {
            harness.run(step);
            harness.check()?;
        }
        // The long run's figure: steps so far, every ~10 000 (`--nocapture` shows it).
        let before = STEPS.fetch_add(count, Ordering::Relaxed);
        if (before + count) / 10_000 > before / 10_000 {
            println!("update-loop steps: {}", before + count);
        }
    }
}

/// Found by the property test: a terminal 2 columns wide (a pane split squeezed to
/// nothing) panicked while drawing.
#[test]
fn a_very_narrow_terminal_draws_without_panic() {
    for (width, height) in [(2, 21), (1, 1), (0, 0), (3, 40), (160, 2)] {
        let mut harness = Harness::new();
        harness.act(Action::Resize { width, height });
        tui_support::draw(&harness.app);
        harness.act(Action::Command(Command::NewDocument));
        tui_support::draw(&harness.app);
    }
}
