//! Opening a document in the draft pane: the chart lock (or who holds it), journal recovery
//! (復元 / 破棄), the text it starts from (finished draft or the template's blank document),
//! and taking over a stale lock. Opening is an `Effect` the event loop hands to the document
//! service; its answer comes back as `Action::DocumentOpened`.

use super::editing::{current_key, journal};
use crate::store::SectionText;
use crate::tui::action::{Effect, OpenedDocument};
use crate::tui::state::app::{App, Pane, RecoveryPrompt};
use crate::tui::state::document_edit::{from_store, Access, DocumentEdit, OpenIntent};
use crate::tui::state::document_state::{DocRef, DocumentKind, DocumentState};
use crate::tui::state::draft_view::DraftView;

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
        .or_insert_with(|| DocumentEdit::new(app.templates.get(key.kind), intent));
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
        chart_id: key.chart_id,
        document: key.kind,
    }]
}

/// The document service opened (or failed to open) a document.
pub(super) fn document_opened(
    app: &mut App,
    chart_id: String,
    document: DocumentKind,
    opened: OpenedDocument,
) -> Vec<Effect> {
    let key = DocRef::new(chart_id, document);
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
            chart_id: key.chart_id.clone(),
            document: key.kind,
            draft,
            damage: opened.damage,
        });
        return Vec::new();
    }
    let mut effects = proceed(app, &key);
    effects.extend(journal(app, &key));
    effects
}

pub(super) fn read_only_message(app: &App, holder: &str, stale: bool) -> String {
    let take_over = app
        .keymap
        .keys_for(crate::tui::input::command::Command::TakeOverLock)
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
    let key = DocRef::new(prompt.chart_id, prompt.document);
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
            .entry(key.chart_id.clone())
            .or_default()
            .set(key.kind, DocumentState::InReview);
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
fn proceed(app: &mut App, key: &DocRef) -> Vec<Effect> {
    let draft = app.drafts.get(key).cloned();
    let Some(edit) = app.edits.get_mut(key) else {
        return Vec::new();
    };
    let mut effects = Vec::new();
    if edit.editor.is_none() {
        match (edit.intent, draft) {
            (OpenIntent::Blank, _) => {
                let blank = edit.template.blank_sections();
                edit.load(&blank);
                edit.cursor_to_first_body();
                app.documents
                    .entry(key.chart_id.clone())
                    .or_default()
                    .set(key.kind, DocumentState::InReview);
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
                        chart_id: key.chart_id.clone(),
                        document: key.kind,
                        sections: sections
                            .iter()
                            .map(|(h, t)| SectionText::new(edit.section_key(h), h, t))
                            .collect(),
                        generated: true,
                    });
                }
            }
            (OpenIntent::Edit, None) => {
                let hint = match (
                    app.keymap
                        .keys_for(crate::tui::input::command::Command::GenerateDraft)
                        .first(),
                    app.keymap
                        .keys_for(crate::tui::input::command::Command::NewDocument)
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

/// `T`: take over a lock whose holder is gone.
pub(super) fn take_over_lock(app: &mut App) -> Vec<Effect> {
    let Some(key) = current_key(app) else {
        return Vec::new();
    };
    match app.edits.get(&key).map(|e| e.access.clone()) {
        Some(Access::ReadOnly { stale: true, .. }) => {
            app.status = Some("ロックを引き継いでいます…".into());
            vec![Effect::TakeOverLock {
                chart_id: key.chart_id,
                document: key.kind,
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
