//! Per-section commands in the draft pane: accept (a mark, journaled), revert to the AI's
//! text, and regenerate with the model (its answer replaces the body as one undo step).

use super::editing::{current_key, on_edit};
use crate::store::SectionText;
use crate::tui::action::Effect;
use crate::tui::state::app::App;
use crate::tui::state::document_edit::{Access, DocumentEdit};
use crate::tui::state::document_state::{DocRef, DocumentKind};

/// The edited document of the current tab and the section at its cursor, or a message.
pub(super) fn section_here(app: &mut App) -> Option<(DocRef, String, std::ops::Range<usize>)> {
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
    key: &DocRef,
    heading: String,
    accepted: bool,
) -> Vec<Effect> {
    if edit.access != Access::Editing {
        return Vec::new();
    }
    vec![Effect::MarkAccepted {
        chart_id: key.chart_id.clone(),
        document: key.kind,
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
    let mode = edit.section_modes.get(&heading).copied();
    vec![Effect::RegenerateSection {
        chart,
        document: key.kind,
        heading,
        mode,
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
    let key = DocRef::new(chart_id, document);
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
            chart_id: key.chart_id.clone(),
            document: key.kind,
            sections: vec![SectionText::new(edit.section_key(&heading), &heading, text)],
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
