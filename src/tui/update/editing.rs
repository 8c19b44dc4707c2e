//! The draft pane's editor: opening a document (chart lock, journal recovery), edit-mode
//! keys, per-section accept / revert / regenerate, and journaling every change. Nothing here
//! touches the disk: opening and journaling are `Effect`s the event loop hands to the
//! document service.

use super::panes;
use crate::editor::{EditOutcome, Motion};
use crate::store::SectionText;
use crate::tui::action::{Effect, OpenedDocument};
use crate::tui::app::{App, Pane, RecoveryPrompt};
use crate::tui::document_edit::{
    blank_sections, from_store, section_key, Access, DocumentEdit, OpenIntent,
};
use crate::tui::document_state::{DocumentKind, DocumentState};
use crate::tui::draft_view::DraftView;
use crate::tui::edit_keys::EditKey;

type DocKey = (String, DocumentKind);

fn current_key(app: &App) -> Option<DocKey> {
    Some((app.selected_chart()?.id.clone(), app.draft_document))
}

/// `i` (or Enter in the draft pane): edit the current document, opening it first.
pub(super) fn edit_draft(app: &mut App) -> Vec<Effect> {
    open_with(app, OpenIntent::Edit)
}

/// `n`: write the current document from a blank template.
pub(super) fn new_document(app: &mut App) -> Vec<Effect> {
    if app.current_edit().is_some_and(|e| e.editor.is_some()) {
        app.status = Some("この文書はもう編集中です (i で編集)".into());
        return Vec::new();
    }
    if app.current_draft().is_some_and(DraftView::is_generating) {
        app.status = Some("下書きを生成中です — 完了を待つか x で中止してください".into());
        return Vec::new();
    }
    open_with(app, OpenIntent::Blank)
}

fn open_with(app: &mut App, intent: OpenIntent) -> Vec<Effect> {
    let Some(key) = current_key(app) else {
        app.status = Some("カルテを読み込めた患者を選んでください".into());
        return Vec::new();
    };
    app.focus = Pane::Draft;
    app.detail = Pane::Draft;
    let already_open = app.open_document.as_ref() == Some(&key)
        && app
            .edits
            .get(&key)
            // A read-only document is opened again: the holder may have left meanwhile.
            .is_some_and(|e| {
                !matches!(
                    e.access,
                    Access::Opening | Access::Closed | Access::ReadOnly { .. }
                )
            });
    let edit = app
        .edits
        .entry(key.clone())
        .or_insert_with(|| DocumentEdit::new(key.1, intent));
    edit.intent = intent;
    if already_open {
        let mut effects = proceed(app, &key);
        effects.extend(journal(app, &key));
        return effects;
    }
    edit.set_access(Access::Opening);
    // The document open before is closed by the service; its text stays on screen.
    if let Some(previous) = app.open_document.replace(key.clone()) {
        if previous != key {
            if let Some(e) = app.edits.get_mut(&previous) {
                e.set_access(Access::Closed);
            }
        }
    }
    app.status = Some("文書を開いています…".into());
    vec![Effect::OpenDocument {
        chart_id: key.0,
        document: key.1,
    }]
}

/// The document service opened (or failed to open) a document.
pub(super) fn document_opened(
    app: &mut App,
    chart_id: String,
    document: DocumentKind,
    opened: OpenedDocument,
) -> Vec<Effect> {
    let key = (chart_id, document);
    if app.open_document.as_ref() != Some(&key) {
        return Vec::new(); // another document was opened meanwhile
    }
    let Some(edit) = app.edits.get_mut(&key) else {
        return Vec::new();
    };
    edit.set_access(opened.access.clone());
    // Whatever the journal holds, the text in memory is written again in full.
    edit.journaled = None;
    let mut messages = Vec::new();
    if let Some(damage) = &opened.damage {
        messages.push(format!(
            "記録ファイルが壊れていました — 最後の正常な記録まで復元しました ({damage})"
        ));
    }
    match &opened.access {
        Access::ReadOnly { holder, stale } => {
            // A live holder's journaled text is shown read-only; for a crashed holder the
            // text waits for the takeover, which offers it for recovery.
            if edit.editor.is_none() && !*stale {
                if let Some(draft) = &opened.recovered {
                    edit.load(&from_store(&draft.sections));
                    edit.ai_sections = from_store(&draft.ai_sections);
                }
            }
            messages.push(read_only_message(app, holder, *stale));
            app.status = Some(messages.join(" / "));
            app.edit_mode = false;
            return Vec::new();
        }
        Access::MemoryOnly { problem } => {
            messages.push(format!(
                "編集内容を保存できません — 下書きはメモリ上にだけあります: {problem}"
            ));
            app.journal_problem = Some(problem.clone());
        }
        Access::Editing => {
            if let Some(problem) = &opened.problem {
                messages.push(format!(
                    "編集内容を保存できません — 下書きはメモリ上に保持し、保存を再試行します: {problem}"
                ));
            }
            app.journal_problem.clone_from(&opened.problem);
        }
        Access::Opening | Access::Closed => {}
    }
    if !messages.is_empty() {
        app.status = Some(messages.join(" / "));
    }
    let in_memory = app.edits.get(&key).is_some_and(|e| e.editor.is_some());
    if let (Some(draft), false) = (opened.recovered, in_memory) {
        app.recovery = Some(RecoveryPrompt {
            chart_id: key.0.clone(),
            document: key.1,
            draft,
            damage: opened.damage,
        });
        return Vec::new();
    }
    let mut effects = proceed(app, &key);
    effects.extend(journal(app, &key));
    effects
}

fn read_only_message(app: &App, holder: &str, stale: bool) -> String {
    let take_over = app
        .keymap
        .keys_for(crate::tui::command::Command::TakeOverLock)
        .first()
        .map(ToString::to_string);
    match (stale, take_over) {
        (true, Some(key)) => {
            format!("読み取り専用: {holder} が編集中 (応答なし — {key} でロックを引き継げます)")
        }
        _ => format!("読み取り専用: {holder} が編集中です"),
    }
}

/// 復元 (`true`) or 破棄 the journaled draft.
pub(super) fn recovery_choice(app: &mut App, restore: bool) -> Vec<Effect> {
    let Some(prompt) = app.recovery.take() else {
        return Vec::new();
    };
    let key = (prompt.chart_id, prompt.document);
    let Some(edit) = app.edits.get_mut(&key) else {
        return Vec::new();
    };
    if restore {
        // The exact text when the journal has it (older journals: their sections).
        match &prompt.draft.text {
            Some(text) => edit.load_text(text),
            None => edit.load(&from_store(&prompt.draft.sections)),
        }
        edit.ai_sections = from_store(&prompt.draft.ai_sections);
        edit.reviewed = prompt
            .draft
            .sections
            .iter()
            .filter(|s| prompt.draft.accepted.contains(&s.key))
            .map(|s| s.heading.clone())
            .collect();
        edit.journaled = None;
        app.documents
            .entry(key.0.clone())
            .or_default()
            .set(key.1, DocumentState::InReview);
        app.status = Some(match prompt.draft.last_change_at {
            Some(at) => format!(
                "復元しました (最終変更 {})",
                at.with_timezone(&chrono::Local).format("%m/%d %H:%M:%S")
            ),
            None => "復元しました".into(),
        });
    } else {
        app.status = Some("記録された下書きを破棄しました".into());
    }
    let mut effects = proceed(app, &key);
    effects.extend(journal(app, &key));
    effects
}

/// The document is open: make sure it has text (finished draft or blank template), then
/// enter edit mode.
fn proceed(app: &mut App, key: &DocKey) -> Vec<Effect> {
    let draft = app.drafts.get(key).cloned();
    let Some(edit) = app.edits.get_mut(key) else {
        return Vec::new();
    };
    let mut effects = Vec::new();
    if edit.editor.is_none() {
        match (edit.intent, draft) {
            (OpenIntent::Blank, _) => {
                edit.load(&blank_sections(key.1));
                edit.cursor_to_first_body();
                app.documents
                    .entry(key.0.clone())
                    .or_default()
                    .set(key.1, DocumentState::InReview);
            }
            (OpenIntent::Edit, Some(draft)) if draft.is_generating() => {
                app.status = Some("下書きを生成中です — 完了すると編集できます".into());
                return effects;
            }
            (OpenIntent::Edit, Some(draft)) => {
                let sections: Vec<(String, String)> = draft
                    .sections
                    .iter()
                    .map(|s| (s.title.clone(), s.text.clone()))
                    .collect();
                edit.load(&sections);
                edit.ai_sections = sections.clone();
                if edit.access == Access::Editing {
                    effects.push(Effect::JournalSections {
                        chart_id: key.0.clone(),
                        document: key.1,
                        sections: sections
                            .iter()
                            .map(|(h, t)| SectionText::new(section_key(key.1, h), h, t))
                            .collect(),
                        generated: true,
                    });
                }
            }
            (OpenIntent::Edit, None) => {
                let hint = match (
                    app.keymap
                        .keys_for(crate::tui::command::Command::GenerateDraft)
                        .first(),
                    app.keymap
                        .keys_for(crate::tui::command::Command::NewDocument)
                        .first(),
                ) {
                    (Some(g), Some(n)) => format!(" — {g}: 生成 / {n}: 空の様式から書く"),
                    _ => String::new(),
                };
                app.status = Some(format!("編集する下書きがありません{hint}"));
                return effects;
            }
        }
    }
    let Some(edit) = app.edits.get(key) else {
        return effects;
    };
    match &edit.access {
        Access::ReadOnly { holder, stale } => {
            let message = read_only_message(app, holder, *stale);
            app.status = Some(message);
        }
        Access::Closed | Access::Opening => {}
        Access::Editing | Access::MemoryOnly { .. } => {
            app.edit_mode = true;
            app.focus = Pane::Draft;
            app.detail = Pane::Draft;
            if app.status.as_deref() == Some("文書を開いています…") {
                app.status = Some("編集モード (esc で終了)".into());
            }
        }
    }
    effects
}

/// Sections changed since they were last journaled, as one effect (none when read-only).
fn journal(app: &mut App, key: &DocKey) -> Vec<Effect> {
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
        chart_id: key.0.clone(),
        document: key.1,
        text,
        sections,
    }]
}

/// The one place an `EditOutcome` of the draft editor is handled: metrics, then journal.
fn on_edit(app: &mut App, key: &DocKey, outcome: Option<EditOutcome>) -> Vec<Effect> {
    let Some(outcome) = outcome else {
        if let Some(edit) = app.edits.get(key) {
            if let Access::ReadOnly { holder, stale } = &edit.access {
                let message = read_only_message(app, holder, *stale);
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

/// The edited document of the current tab and the section at its cursor, or a message.
fn section_here(app: &mut App) -> Option<(DocKey, String, std::ops::Range<usize>)> {
    let key = current_key(app)?;
    let found = app
        .edits
        .get(&key)
        .filter(|e| e.editor.is_some())
        .map(|e| e.section_at_cursor());
    match found {
        None => {
            app.status = Some("編集中の文書がありません (i で編集)".into());
            None
        }
        Some(None) => {
            app.status = Some("カーソルがセクションの中にありません".into());
            None
        }
        Some(Some((heading, body))) => Some((key, heading, body)),
    }
}

/// `a`: mark the section at the cursor as reviewed (again: unmark).
pub(super) fn accept_section(app: &mut App) -> Vec<Effect> {
    let Some((key, heading, _)) = section_here(app) else {
        return Vec::new();
    };
    let Some(edit) = app.edits.get_mut(&key) else {
        return Vec::new();
    };
    let accepted = !edit.reviewed.remove(&heading);
    if accepted {
        edit.reviewed.insert(heading.clone());
    }
    let effects = mark_accepted(edit, &key, heading.clone(), accepted);
    app.status = Some(if accepted {
        format!("【{heading}】を確認済みにしました")
    } else {
        format!("【{heading}】の確認済みを取り消しました")
    });
    effects
}

/// Journals a section's accept mark (only where this session may write).
fn mark_accepted(
    edit: &DocumentEdit,
    key: &DocKey,
    heading: String,
    accepted: bool,
) -> Vec<Effect> {
    if edit.access != Access::Editing {
        return Vec::new();
    }
    vec![Effect::MarkAccepted {
        chart_id: key.0.clone(),
        document: key.1,
        heading,
        accepted,
    }]
}

/// `u`: the section at the cursor goes back to the AI's text (one undo step).
pub(super) fn revert_section(app: &mut App) -> Vec<Effect> {
    let Some((key, heading, body)) = section_here(app) else {
        return Vec::new();
    };
    let Some(edit) = app.edits.get_mut(&key) else {
        return Vec::new();
    };
    let Some(ai) = edit.ai_text(&heading).map(str::to_string) else {
        app.status = Some(format!("【{heading}】には AI の下書きがありません"));
        return Vec::new();
    };
    let outcome = edit
        .editor
        .as_mut()
        .and_then(|editor| editor.replace_range(body, &ai));
    let mut effects = Vec::new();
    if outcome.is_some() {
        if edit.reviewed.remove(&heading) {
            effects = mark_accepted(edit, &key, heading.clone(), false);
        }
        app.status = Some(format!(
            "【{heading}】を AI の下書きに戻しました (ctrl-z で取消)"
        ));
    }
    effects.extend(on_edit(app, &key, outcome));
    effects
}

/// `R`: ask the model to write the section at the cursor again.
pub(super) fn regenerate_section(app: &mut App) -> Vec<Effect> {
    let Some((key, heading, _)) = section_here(app) else {
        return Vec::new();
    };
    let Some(chart) = app.selected_chart().cloned() else {
        return Vec::new();
    };
    let Some(edit) = app.edits.get_mut(&key) else {
        return Vec::new();
    };
    if !edit.access.can_write() {
        app.status = Some("読み取り専用の文書は再生成できません".into());
        return Vec::new();
    }
    if !edit.regenerating.insert(heading.clone()) {
        app.status = Some(format!("【{heading}】を再生成中です"));
        return Vec::new();
    }
    app.status = Some(format!("【{heading}】の再生成を依頼しました"));
    vec![Effect::RegenerateSection {
        chart,
        document: key.1,
        heading,
    }]
}

/// The model's new text of a section replaces the body (one undo step) and becomes the AI
/// text that revert goes back to.
pub(super) fn section_regenerated(
    app: &mut App,
    chart_id: String,
    document: DocumentKind,
    heading: String,
    result: Result<String, String>,
) -> Vec<Effect> {
    let key = (chart_id, document);
    let Some(edit) = app.edits.get_mut(&key) else {
        return Vec::new();
    };
    edit.regenerating.remove(&heading);
    let text = match result {
        Ok(text) => text,
        Err(message) => {
            app.status = Some(format!("【{heading}】を再生成できません: {message}"));
            return Vec::new();
        }
    };
    let Some(body) = edit.section_body(&heading) else {
        app.status = Some(format!(
            "【{heading}】が文書にありません (見出しが変わった?)"
        ));
        return Vec::new();
    };
    let Some(editor) = edit.editor.as_mut() else {
        return Vec::new();
    };
    let outcome = editor.replace_range(body, &text);
    match edit.ai_sections.iter_mut().find(|(h, _)| *h == heading) {
        Some(existing) => existing.1.clone_from(&text),
        None => edit.ai_sections.push((heading.clone(), text.clone())),
    }
    edit.reviewed.remove(&heading);
    app.status = Some(format!("【{heading}】を再生成しました (ctrl-z で取消)"));
    let mut effects = Vec::new();
    if outcome.is_some() && edit.access == Access::Editing {
        // Journaled as the model's text, so revert and recovery know it is the AI draft;
        // the whole text follows as a `JournalDocument` (always: the generated record
        // alone leaves the journal with sections only).
        edit.journaled = None;
        effects.push(Effect::JournalSections {
            chart_id: key.0.clone(),
            document: key.1,
            sections: vec![SectionText::new(
                section_key(key.1, &heading),
                &heading,
                text,
            )],
            generated: true,
        });
    }
    // The model wrote this text, not the clinician: no edit for the metrics (the hooks
    // record the regeneration and the wait for it).
    effects.extend(
        on_edit(app, &key, outcome)
            .into_iter()
            .filter(|effect| !matches!(effect, Effect::DraftEdited(_))),
    );
    effects
}

/// `T`: take over a lock whose holder is gone.
pub(super) fn take_over_lock(app: &mut App) -> Vec<Effect> {
    let Some(key) = current_key(app) else {
        return Vec::new();
    };
    match app.edits.get(&key).map(|e| e.access.clone()) {
        Some(Access::ReadOnly { stale: true, .. }) => {
            app.status = Some("ロックを引き継いでいます…".into());
            vec![Effect::TakeOverLock {
                chart_id: key.0,
                document: key.1,
            }]
        }
        Some(Access::ReadOnly { holder, .. }) => {
            app.status = Some(format!(
                "{holder} はまだ編集中です — 応答がなくなってから引き継げます"
            ));
            Vec::new()
        }
        _ => {
            app.status = Some("引き継ぐロックはありません".into());
            Vec::new()
        }
    }
}
