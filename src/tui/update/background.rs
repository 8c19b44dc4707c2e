//! Notifications from background work: the queue was (re)read, a draft streamed, entities
//! were found.

use crate::tui::action::{EntityTarget, QueueRow};
use crate::tui::state::app::App;
use crate::tui::state::document_state::{DocRef, DocumentKind, DocumentState};
use crate::tui::state::draft_view::{DraftEvent, DraftView};

/// Keeps the selection on the same file across rescans (files may appear before it).
pub(super) fn queue_loaded(app: &mut App, rows: Vec<QueueRow>) {
    let previous = app.selected_row().map(|r| r.file_name.clone());
    let first_load = app.rows.is_none();
    app.queue_problem = None;
    app.rows = Some(rows);
    if let Some(name) = previous {
        match app.rows().iter().position(|r| r.file_name == name) {
            Some(index) => app.selected = index,
            None => {
                app.chart_scroll = 0;
                app.draft_scroll = 0;
            }
        }
    }
    if !first_load {
        app.status = Some(format!("キューを更新しました ({}件)", app.rows().len()));
    }
}

pub(super) fn draft_event(
    app: &mut App,
    chart_id: String,
    document: DocumentKind,
    event: DraftEvent,
) {
    let is_current =
        app.selected_chart().is_some_and(|c| c.id == chart_id) && app.draft_document == document;
    let state = match &event {
        DraftEvent::Started { .. } => Some(DocumentState::Drafting),
        DraftEvent::Finished => Some(DocumentState::InReview),
        _ => None,
    };
    match &event {
        DraftEvent::Finished => {
            app.status = Some(format!(
                "{}の下書きができました — 確認してください",
                document.title()
            ))
        }
        DraftEvent::Failed { message } => {
            app.status = Some(format!("{}の下書きに失敗: {message}", document.title()))
        }
        DraftEvent::Cancelled => {
            app.status = Some(format!("{}の下書きを中止しました", document.title()))
        }
        _ => {}
    }
    let key = DocRef::new(chart_id.clone(), document);
    match event {
        DraftEvent::Started { sections } => {
            app.drafts.insert(key, DraftView::new(sections));
            if is_current {
                app.draft_scroll = 0;
                app.draft_follow = true;
            }
        }
        other => {
            if let Some(view) = app.drafts.get_mut(&key) {
                view.apply(other);
            }
        }
    }
    if let Some(state) = state {
        app.documents
            .entry(chart_id)
            .or_default()
            .set(document, state);
    }
}

pub(super) fn entities_found(
    app: &mut App,
    target: EntityTarget,
    entities: Vec<crate::nlp::Entity>,
) {
    match &target {
        EntityTarget::Note { .. } => {
            app.note_entities.insert(target, entities);
        }
        EntityTarget::DraftSection {
            chart_id,
            document,
            section,
        } => {
            if let Some(s) = app
                .drafts
                .get_mut(&DocRef::new(chart_id.clone(), *document))
                .and_then(|d| d.sections.get_mut(*section))
            {
                s.entities = entities;
            }
        }
    }
}
