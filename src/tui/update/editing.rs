//! The draft pane's editor in edit mode: edit keys, bracketed paste, and journaling every
//! change (the one place an `EditOutcome` is handled). Opening a document is in `opening`,
//! per-section accept / revert / regenerate in `sections`. Nothing here touches the disk:
//! journaling is an `Effect` the event loop hands to the document service.

use super::panes;
use crate::editor::{EditOutcome, Motion};
use crate::tui::action::Effect;
use crate::tui::input::edit_keys::EditKey;
use crate::tui::state::app::App;
use crate::tui::state::document_edit::Access;
use crate::tui::state::document_state::DocRef;

pub(super) fn current_key(app: &App) -> Option<DocRef> {
    Some(DocRef::new(
        app.selected_chart()?.id.clone(),
        app.draft_document,
    ))
}

/// Sections changed since they were last journaled, as one effect (none when read-only).
pub(super) fn journal(app: &mut App, key: &DocRef) -> Vec<Effect> {
    let Some(edit) = app.edits.get_mut(key) else {
        return Vec::new();
    };
    if edit.access != Access::Editing || edit.editor.is_none() {
        return Vec::new();
    }
    let Some((text, sections)) = edit.unjournaled() else {
        return Vec::new();
    };
    vec![Effect::JournalDocument {
        chart_id: key.chart_id.clone(),
        document: key.kind,
        text,
        sections,
    }]
}

/// The one place an `EditOutcome` of the draft editor is handled: metrics, then journal.
pub(super) fn on_edit(app: &mut App, key: &DocRef, outcome: Option<EditOutcome>) -> Vec<Effect> {
    let Some(outcome) = outcome else {
        if let Some(edit) = app.edits.get(key) {
            if let Access::ReadOnly { holder, stale } = &edit.access {
                let message = super::opening::read_only_message(app, holder, *stale);
                app.status = Some(message);
            } else if edit.access == Access::Closed {
                app.status = Some("この文書は閉じています — i で開き直してください".into());
            }
        }
        return Vec::new();
    };
    // The metrics recorder sees this effect (counts only, never the text).
    let mut effects = vec![Effect::DraftEdited(outcome)];
    effects.extend(journal(app, key));
    effects
}

/// A key in edit mode.
pub(super) fn edit_key(app: &mut App, key: EditKey) -> Vec<Effect> {
    let Some(doc_key) = current_key(app) else {
        return Vec::new();
    };
    let (wrap_width, page) = {
        let (width, height) = panes(app).draft_body();
        (width, height.saturating_sub(3).max(1))
    };
    let Some(editor) = app.edits.get_mut(&doc_key).and_then(|e| e.editor.as_mut()) else {
        app.edit_mode = false;
        return Vec::new();
    };
    let outcome = match key {
        EditKey::Type(text) => editor.type_text(&text),
        EditKey::Move { motion, extend } => {
            editor.move_cursor(motion, extend, wrap_width);
            return Vec::new();
        }
        EditKey::Page { up, extend } => {
            let motion = if up { Motion::Up } else { Motion::Down };
            for _ in 0..page {
                editor.move_cursor(motion, extend, wrap_width);
            }
            return Vec::new();
        }
        EditKey::DeleteBackward => editor.delete_backward(),
        EditKey::DeleteForward => editor.delete_forward(),
        EditKey::DeleteWordBackward => editor.delete_word_backward(),
        EditKey::Undo => editor.undo(),
        EditKey::Redo => editor.redo(),
        EditKey::Cut => editor.cut(),
        EditKey::Copy => {
            let copied = editor.copy().map(|s| s.chars().count());
            app.status = Some(match copied {
                Some(n) => format!("{n}文字をコピーしました"),
                None => "選択範囲がありません (shift+矢印で選択)".into(),
            });
            return Vec::new();
        }
        EditKey::Paste => editor.paste_clipboard(),
        EditKey::SelectAll => {
            editor.select_all();
            return Vec::new();
        }
        EditKey::Leave => {
            editor.clear_selection();
            app.edit_mode = false;
            app.status = Some("編集モードを終えました".into());
            return Vec::new();
        }
    };
    on_edit(app, &doc_key, outcome)
}

/// Bracketed paste from the terminal: only while editing.
pub(super) fn paste(app: &mut App, text: String) -> Vec<Effect> {
    if !app.is_editing() {
        return Vec::new();
    }
    let Some(key) = current_key(app) else {
        return Vec::new();
    };
    let outcome = app
        .edits
        .get_mut(&key)
        .and_then(|e| e.editor.as_mut())
        .and_then(|editor| editor.paste_text(&text));
    on_edit(app, &key, outcome)
}
