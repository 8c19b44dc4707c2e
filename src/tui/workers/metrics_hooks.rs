//! The metrics recorder listens to the same actions as `update` (DESIGN.md): the event loop
//! takes a [`BeforeAction`] of each action, applies it with `update`, then hands both to
//! [`MetricsHooks::observe`], which records what happened — never any text, only counts.
//! `update` stays pure; the recorder lives in `Services`.
//!
//! What is recorded, and from where:
//! - `OpenChart`: the first time in this session a document (chart × document kind) is on
//!   screen with the chart or draft pane focused (`open`, `tab` from the queue, switching
//!   the draft tab); `Focus(Chart|Draft)` when the pane or the document changes after that.
//! - Every other key command while a document is on screen is input too: it is recorded as
//!   `Focus` of the focused pane, so that reading (scrolling the chart) counts as active
//!   time — the measures cap the gap between two input events at the idle threshold.
//! - `Generate` / `Regenerate` (a draft already existed) + `ModelWaitStart` from
//!   `Effect::GenerateDraft`, `Regenerate` + `ModelWaitStart` from
//!   `Effect::RegenerateSection` (one section, `R`); `Cancel` from `Effect::CancelDraft` (it
//!   ends the wait); `ModelWaitEnd` when the draft is finished or failed, or the section
//!   came back. The regenerated text is the model's: it is no edit. The wait lasts the whole
//!   generation, not just until the first token: a streaming draft cannot be reviewed or
//!   signed yet, and a pause without input while it streams must not be capped as idleness
//!   (that would understate the assisted arm's time and favour it).
//! - `Quit` from `Effect::Quit`; `Disconnect` when the loop ends on SIGHUP or the terminal
//!   going away ([`MetricsHooks::session_ended`]); then [`MetricsHooks::finish`] flushes.
//! - Edits: `Effect::DraftEdited(EditOutcome)` from `update` (the editor's report of one
//!   key or paste), or [`MetricsHooks::record_edit`] called directly.
//! - `AcceptSection` when `a` marks a section accepted (not when it takes the mark back);
//!   `AcknowledgeFlag` from `Effect::Acknowledge`; `Export` from `Effect::Export` (text,
//!   FHIR) and `Effect::CopyToClipboard`.
//! - `FlagRaised` / `FlagFixed`: the flagged findings (by their stable ids) that appeared or
//!   went away since they were last counted, counted whenever the document is not in edit
//!   mode (a report after generation, leaving edit mode). While the clinician types, the
//!   guard re-checks every keystroke and a half-typed word can be flagged for a moment;
//!   those passing flags are not counted.
//! - `Sign` when `Action::Signed` succeeded: the signed text and the AI draft's text (none
//!   in the manual arm) go to the writer thread, which stores only the comparison.
//! - [`MetricsHooks::record_document_event`] / [`MetricsHooks::record_sign`] record the same
//!   events directly (replays, tools).

use crate::editor::{EditKind as EditorEditKind, EditOutcome};
use crate::metrics::{DocumentRef, EditKind, EventKind, FocusTarget, Recorder};
use crate::tui::action::{Action, Effect};
use crate::tui::event_loop::Exit;
use crate::tui::state::app::{App, Pane, Screen};
use crate::tui::state::document_state::{DocRef, DocumentKind};
use crate::tui::state::draft_view::DraftEvent;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

/// Turns an editor edit into the event stored for it; `None` when nothing changed.
///
/// `chars` is the size of the edit: inserted chars for typing and pasting, removed chars for
/// deleting, the larger side for undo/redo. `Cut` is stored as `Deleted` (text left the
/// draft). `Replaced` (a section body replaced as a whole: revert to the AI draft) is stored
/// as `Pasted` with the inserted chars: text that was not typed, as a paste; the schema has
/// no kind of its own for it. Chars a typed or pasted text replaced (a selection) are not
/// counted as deleted: one key press is one event.
pub fn edit_event(outcome: &EditOutcome) -> Option<EventKind> {
    let chars = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let inserted = chars(outcome.inserted_chars);
    let deleted = chars(outcome.deleted_chars);
    let (kind, count) = match outcome.kind {
        EditorEditKind::Typed => (EditKind::Typed, inserted),
        EditorEditKind::Pasted | EditorEditKind::Replaced => (EditKind::Pasted, inserted),
        EditorEditKind::Deleted | EditorEditKind::Cut => (EditKind::Deleted, deleted),
        EditorEditKind::Undone => (EditKind::Undone, inserted.max(deleted)),
        EditorEditKind::Redone => (EditKind::Redone, inserted.max(deleted)),
    };
    (outcome.inserted_chars + outcome.deleted_chars > 0)
        .then_some(EventKind::Edit { kind, chars: count })
}

/// What the hooks need to know about an action and the state before it was applied.
#[derive(Debug, Clone)]
pub struct BeforeAction {
    seen: Seen,
    pane: Option<FocusTarget>,
    document: Option<DocRef>,
    /// The document on screen already had a draft (so generating it again is a regenerate).
    had_draft: bool,
    /// Sections of the document on screen marked accepted.
    accepted: usize,
    /// The clinician was in edit mode.
    editing: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Command,
    /// A draft ended (finished, failed, cancelled).
    DraftEnded(String, DocumentKind),
    /// A guard report arrived for this document.
    GuardChecked(DocRef),
    /// A document was signed.
    Signed(DocRef),
    Other,
}

/// The ids of the findings flagged in a document's latest report.
fn flagged_ids(app: &App, key: &DocRef) -> BTreeSet<String> {
    app.review
        .guards
        .get(key)
        .and_then(|g| g.report.as_ref())
        .map(|report| report.flagged().map(|item| item.id.clone()).collect())
        .unwrap_or_default()
}

fn accepted_sections(app: &App, document: Option<&DocRef>) -> usize {
    document
        .and_then(|key| app.edits.get(key))
        .map_or(0, |edit| edit.reviewed.len())
}

impl BeforeAction {
    pub fn of(app: &App, action: &Action) -> Self {
        let seen = match action {
            Action::Command(_) if app.help_open => Seen::Other,
            Action::Command(_) => Seen::Command,
            Action::Draft {
                chart_id,
                document,
                event: DraftEvent::Finished | DraftEvent::Failed { .. } | DraftEvent::Cancelled,
            } => Seen::DraftEnded(chart_id.clone(), *document),
            Action::SectionRegenerated {
                chart_id, document, ..
            } => Seen::DraftEnded(chart_id.clone(), *document),
            Action::GuardChecked {
                chart_id, document, ..
            } => Seen::GuardChecked(DocRef::new(chart_id.clone(), *document)),
            Action::Signed {
                chart_id,
                document,
                result: Ok(_),
            } => Seen::Signed(DocRef::new(chart_id.clone(), *document)),
            _ => Seen::Other,
        };
        let document = document_on_screen(app);
        Self {
            seen,
            pane: focused_pane(app),
            accepted: accepted_sections(app, document.as_ref()),
            editing: app.is_editing(),
            document,
            had_draft: app.current_draft().is_some(),
        }
    }
}

/// The pane with the keyboard when it shows a document.
fn focused_pane(app: &App) -> Option<FocusTarget> {
    if app.help_open || app.screen != Screen::Review {
        return None;
    }
    match app.focus {
        Pane::Queue => None,
        Pane::Chart => Some(FocusTarget::Chart),
        Pane::Draft => Some(FocusTarget::Draft),
    }
}

/// The document the clinician is working on: the selected chart's current document, while
/// the chart or the draft pane has the focus.
fn document_on_screen(app: &App) -> Option<DocRef> {
    focused_pane(app)?;
    let chart = app.selected_chart()?;
    Some(DocRef::new(chart.id.clone(), app.draft_document))
}

/// Which document an event is about (`None`: the session, e.g. quit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventTarget {
    Document(String, DocumentKind),
    Session,
}

/// What the hooks remember between actions (no text).
#[derive(Debug, Default)]
pub struct HookState {
    /// Documents opened in this session.
    opened: HashSet<DocRef>,
    /// Documents being generated (the clinician waits for the model).
    waiting: HashSet<DocRef>,
    /// Flags acknowledged in this session (chart, document, finding id).
    acknowledged: HashSet<(String, DocumentKind, String)>,
    /// The flagged findings of each document as last counted.
    counted_flags: HashMap<DocRef, BTreeSet<String>>,
}

/// The events one action means. Pure: the mapping is tested without a recorder.
pub fn events_for(
    before: &BeforeAction,
    app: &App,
    effects: &[Effect],
    state: &mut HookState,
) -> Vec<(EventTarget, EventKind)> {
    let mut events = Vec::new();
    match &before.seen {
        Seen::Command => {
            let pane = focused_pane(app);
            let document = document_on_screen(app);
            if let (Some(pane), Some(document)) = (pane, document) {
                let target = EventTarget::Document(document.chart_id.clone(), document.kind);
                if state.opened.insert(document.clone()) {
                    events.push((target.clone(), EventKind::OpenChart));
                    if pane == FocusTarget::Draft {
                        events.push((target.clone(), EventKind::Focus(pane)));
                    }
                } else if before.pane != Some(pane)
                    || before.document.as_ref() != Some(&document)
                    || !effects.iter().any(records_itself)
                {
                    // A changed focus, or any other key while reading or editing.
                    events.push((target.clone(), EventKind::Focus(pane)));
                }
                if before.document.as_ref() == Some(&document)
                    && accepted_sections(app, Some(&document)) > before.accepted
                {
                    events.push((target, EventKind::AcceptSection));
                }
            }
        }
        Seen::GuardChecked(_) => {}
        // Recorded with its texts by `MetricsHooks::observe`.
        Seen::Signed(_) => {}
        Seen::DraftEnded(chart_id, kind) => {
            if state.waiting.remove(&DocRef::new(chart_id.clone(), *kind)) {
                events.push((
                    EventTarget::Document(chart_id.clone(), *kind),
                    EventKind::ModelWaitEnd,
                ));
            }
        }
        Seen::Other => {}
    }
    for effect in effects {
        match effect {
            Effect::GenerateDraft { chart, document } => {
                let regenerate = before.had_draft
                    && before.document.as_ref() == Some(&DocRef::new(chart.id.clone(), *document));
                let kind = if regenerate {
                    EventKind::Regenerate
                } else {
                    EventKind::Generate
                };
                model_asked(
                    &mut events,
                    state,
                    DocRef::new(chart.id.clone(), *document),
                    kind,
                );
            }
            Effect::RegenerateSection {
                chart, document, ..
            } => model_asked(
                &mut events,
                state,
                DocRef::new(chart.id.clone(), *document),
                EventKind::Regenerate,
            ),
            Effect::CancelDraft { chart_id, document } => {
                state
                    .waiting
                    .remove(&DocRef::new(chart_id.clone(), *document));
                events.push((
                    EventTarget::Document(chart_id.clone(), *document),
                    EventKind::Cancel,
                ));
            }
            Effect::Quit => events.push((EventTarget::Session, EventKind::Quit)),
            Effect::Acknowledge {
                chart_id,
                document,
                item_id,
                withdraw,
            } => {
                // A flag acknowledged, taken back and acknowledged again counts once.
                let flag = (chart_id.clone(), *document, item_id.clone());
                if !withdraw && state.acknowledged.insert(flag) {
                    events.push((
                        EventTarget::Document(chart_id.clone(), *document),
                        EventKind::AcknowledgeFlag,
                    ));
                }
            }
            Effect::Export { signed, .. } => events.push((
                EventTarget::Document(signed.chart_id.clone(), signed.doc),
                EventKind::Export,
            )),
            Effect::CopyToClipboard { .. } => {
                if let Some(DocRef { chart_id, kind }) = document_on_screen(app) {
                    events.push((EventTarget::Document(chart_id, kind), EventKind::Export));
                }
            }
            Effect::DraftEdited(outcome) => {
                if let (Some(DocRef { chart_id, kind }), Some(edit)) =
                    (document_on_screen(app), edit_event(outcome))
                {
                    events.push((EventTarget::Document(chart_id, kind), edit));
                }
            }
            _ => {}
        }
    }
    // Guard flags: for the document a report came for, and for the open one when edit
    // mode ends.
    let reported = match &before.seen {
        Seen::GuardChecked(key) => Some(key.clone()),
        _ => None,
    };
    let left_edit_mode = before.editing && !app.is_editing();
    let open = app.open_document.clone().filter(|_| left_edit_mode);
    for key in reported.into_iter().chain(open) {
        let being_edited = app.is_editing() && app.open_document.as_ref() == Some(&key);
        if !being_edited {
            events.extend(flag_changes(app, &key, state));
        }
    }
    events
}

/// The model was asked to write (`kind`: generate or regenerate): the wait for it begins.
fn model_asked(
    events: &mut Vec<(EventTarget, EventKind)>,
    state: &mut HookState,
    key: DocRef,
    kind: EventKind,
) {
    let target = EventTarget::Document(key.chart_id.clone(), key.kind);
    events.push((target.clone(), kind));
    events.push((target, EventKind::ModelWaitStart));
    state.waiting.insert(key);
}

/// Flags that appeared or went away since the document's flags were last counted.
fn flag_changes(app: &App, key: &DocRef, state: &mut HookState) -> Vec<(EventTarget, EventKind)> {
    let now = flagged_ids(app, key);
    let counted = state.counted_flags.entry(key.clone()).or_default();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let raised = count(now.difference(counted).count());
    let fixed = count(counted.difference(&now).count());
    *counted = now;
    let target = EventTarget::Document(key.chart_id.clone(), key.kind);
    let mut events = Vec::new();
    if raised > 0 {
        events.push((target.clone(), EventKind::FlagRaised { count: raised }));
    }
    if fixed > 0 {
        events.push((target, EventKind::FlagFixed { count: fixed }));
    }
    events
}

/// Effects recorded as events of their own (so the key needs no `Focus` beside them).
fn records_itself(effect: &Effect) -> bool {
    matches!(
        effect,
        Effect::GenerateDraft { .. }
            | Effect::RegenerateSection { .. }
            | Effect::CancelDraft { .. }
            | Effect::Quit
            | Effect::DraftEdited(_)
            | Effect::Acknowledge { .. }
            | Effect::Export { .. }
            | Effect::CopyToClipboard { .. }
    )
}

/// The texts a signature is measured by: the signed sections' bodies, and the AI draft's
/// (the model's text of each section as first written; `None` in the manual arm or for a
/// document started blank). Headings are left out: both sides share them.
pub fn sign_texts(app: &App, key: &DocRef) -> Option<(Option<String>, String)> {
    let signed = app.review.signed.get(key)?.latest();
    let signed_text = join_bodies(signed.sections.iter().map(|s| s.text.as_str()));
    let manual = app.study.arm(&key.chart_id, key.kind) == Some(crate::metrics::Arm::Manual);
    let ai_draft = app
        .edits
        .get(key)
        .filter(|edit| !manual && !edit.ai_sections.is_empty())
        .map(|edit| join_bodies(edit.ai_sections.iter().map(|(_, text)| text.as_str())));
    Some((ai_draft, signed_text))
}

fn join_bodies<'a>(bodies: impl Iterator<Item = &'a str>) -> String {
    bodies.collect::<Vec<_>>().join("\n")
}

/// The recorded document of a chart's document, from the cache or made once.
fn document_ref<'a>(
    documents: &'a mut HashMap<DocRef, DocumentRef>,
    app: &App,
    key: DocRef,
) -> &'a DocumentRef {
    documents
        .entry(key)
        .or_insert_with_key(|key| app.study.document(&key.chart_id, key.kind))
}

/// The recorder and what it needs between actions. Without a recorder (metrics disabled,
/// or tests of the screen alone) every call does nothing.
#[derive(Default)]
pub struct MetricsHooks {
    recorder: Option<Recorder>,
    state: HookState,
    /// Documents as recorded, by chart and kind (their ids are hashes: computed once).
    documents: HashMap<DocRef, DocumentRef>,
    /// The document on screen after the last action, for edits.
    current: Option<DocumentRef>,
    /// The last recorder warning handed to the screen.
    last_warning: Option<String>,
}

impl MetricsHooks {
    /// Starts recording as the config says (`[metrics] enabled`); the DB is in the data dir.
    pub fn start(ctx: &crate::context::Context) -> Self {
        Self::with_recorder(Recorder::start_for(&ctx.paths, &ctx.config.metrics))
    }

    pub fn with_recorder(recorder: Option<Recorder>) -> Self {
        Self {
            recorder,
            ..Self::default()
        }
    }

    pub fn recorder(&self) -> Option<&Recorder> {
        self.recorder.as_ref()
    }

    /// Records what `action` (described by `before`) did, given the state after `update`
    /// and the effects it asked for. Never blocks.
    pub fn observe(&mut self, before: &BeforeAction, app: &App, effects: &[Effect]) {
        let Some(recorder) = &self.recorder else {
            return;
        };
        for (target, kind) in events_for(before, app, effects, &mut self.state) {
            match target {
                EventTarget::Session => recorder.record_session(kind),
                EventTarget::Document(chart_id, document) => {
                    let document =
                        document_ref(&mut self.documents, app, DocRef::new(chart_id, document));
                    recorder.record(document, kind);
                }
            }
        }
        if let Seen::Signed(key) = &before.seen {
            if let Some((ai_draft, signed)) = sign_texts(app, key) {
                let document = document_ref(&mut self.documents, app, key.clone());
                recorder.record_sign(document, ai_draft, signed);
            }
        }
        // Keep the document on screen for edits.
        self.current =
            document_on_screen(app).map(|key| document_ref(&mut self.documents, app, key).clone());
    }

    /// Records an edit of the draft on screen (the editor's outcome of one key or paste).
    pub fn record_edit(&self, outcome: &EditOutcome) {
        if let (Some(recorder), Some(document), Some(kind)) =
            (&self.recorder, &self.current, edit_event(outcome))
        {
            recorder.record(document, kind);
        }
    }

    /// Records an action on the document on screen that has no text in it: accept section,
    /// acknowledge flag, flags raised/fixed, export.
    pub fn record_document_event(&self, kind: EventKind) {
        if let (Some(recorder), Some(document)) = (&self.recorder, &self.current) {
            recorder.record(document, kind);
        }
    }

    /// Records the signing of `document`: the texts are compared on the writer thread and
    /// only the numbers are stored (`ai_draft` is `None` in the manual arm).
    pub fn record_sign(&self, document: &DocumentRef, ai_draft: Option<String>, signed: String) {
        if let Some(recorder) = &self.recorder {
            recorder.record_sign(document, ai_draft, signed);
        }
    }

    /// The loop ended: a quit was recorded with its key; a hang-up (SSH drop), the terminal
    /// going away or a broken screen (`None`) is a disconnect; SIGTERM/SIGINT end the
    /// session like a quit.
    pub fn session_ended(&self, exit: Option<Exit>) {
        let Some(recorder) = &self.recorder else {
            return;
        };
        match exit {
            Some(Exit::Quit) => {}
            Some(Exit::Signal(signal)) if signal != libc::SIGHUP => {
                recorder.record_session(EventKind::Quit)
            }
            _ => recorder.record_session(EventKind::Disconnect),
        }
    }

    /// The recorder's warning when it changed since the last call (`Some(None)`: it cleared).
    pub fn warning_change(&mut self) -> Option<Option<String>> {
        let warning = self.recorder.as_ref()?.health().warning();
        if warning == self.last_warning {
            return None;
        }
        self.last_warning = warning.clone();
        Some(warning)
    }

    /// Writes what is buffered and stops the writer, waiting at most `limit` (a locked DB
    /// must not keep a dropped SSH session's process alive). Returns whether all was written.
    pub fn finish(&mut self, limit: Duration) -> bool {
        let Some(recorder) = self.recorder.take() else {
            return true;
        };
        let started = Instant::now();
        let written = recorder.flush(limit);
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let stopper = std::thread::Builder::new()
            .name("karte-metrics-stop".into())
            .spawn(move || {
                drop(recorder);
                let _ = done_tx.send(());
            });
        let left = limit.saturating_sub(started.elapsed());
        let stopped = stopper.is_ok() && done_rx.recv_timeout(left).is_ok();
        if !stopped {
            tracing::warn!("metrics writer did not stop within {limit:?}; exiting anyway");
        }
        written && stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(kind: EditorEditKind, inserted: usize, deleted: usize) -> EditOutcome {
        EditOutcome {
            kind,
            inserted_chars: inserted,
            deleted_chars: deleted,
        }
    }

    fn edit(kind: EditKind, chars: u32) -> Option<EventKind> {
        Some(EventKind::Edit { kind, chars })
    }

    #[test]
    fn editor_outcomes_map_to_edit_events() {
        use EditorEditKind as E;
        assert_eq!(
            edit_event(&outcome(E::Typed, 1, 0)),
            edit(EditKind::Typed, 1)
        );
        assert_eq!(
            edit_event(&outcome(E::Typed, 2, 5)),
            edit(EditKind::Typed, 2)
        );
        assert_eq!(
            edit_event(&outcome(E::Deleted, 0, 3)),
            edit(EditKind::Deleted, 3)
        );
        assert_eq!(
            edit_event(&outcome(E::Cut, 0, 12)),
            edit(EditKind::Deleted, 12)
        );
        assert_eq!(
            edit_event(&outcome(E::Pasted, 40, 2)),
            edit(EditKind::Pasted, 40)
        );
        assert_eq!(
            edit_event(&outcome(E::Replaced, 120, 80)),
            edit(EditKind::Pasted, 120)
        );
        assert_eq!(
            edit_event(&outcome(E::Undone, 0, 7)),
            edit(EditKind::Undone, 7)
        );
        assert_eq!(
            edit_event(&outcome(E::Redone, 4, 1)),
            edit(EditKind::Redone, 4)
        );
        // A backspace at the start of the text changes nothing.
        assert_eq!(edit_event(&outcome(E::Deleted, 0, 0)), None);
    }
}
