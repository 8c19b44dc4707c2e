//! Signing and what follows it: the sign key (refused while flags are open, else a
//! confirmation), the signed version read-only with its banner and queue state 署名済,
//! amending (a new version linked to the old), export to files and copy to the clipboard.
//! No I/O: signing, exporting and the OSC 52 write are `Effect`s.

use super::review::{current_key, fresh, key_hint};
use crate::export::document_text;
use crate::export::Format;
use crate::review::{GuardItem, GuardReport};
use crate::store::{SectionText, SignedDocument};
use crate::tui::action::Effect;
use crate::tui::input::command::Command;
use crate::tui::state::app::App;
use crate::tui::state::document_edit::{from_store, Access};
use crate::tui::state::document_state::DocRef;
use crate::tui::state::document_state::DocumentState;
use crate::tui::state::review::{SignPrompt, SignState};
use std::collections::BTreeSet;

/// `s`: sign the current document, after the guard allows it and the clinician confirms.
pub(super) fn sign(app: &mut App) {
    let Some(key) = current_key(app) else {
        app.status = Some("カルテを読み込めた患者を選んでください".into());
        return;
    };
    if app.review.is_signed(&key) {
        app.status = Some(format!(
            "署名済みです — 直すときは {} で修正版を作ります",
            key_hint(app, Command::Amend)
        ));
        return;
    }
    match app.edits.get(&key).map(|e| (&e.access, e.editor.is_some())) {
        Some((Access::Editing, true)) => {}
        Some((Access::ReadOnly { holder, .. }, _)) => {
            app.status = Some(format!(
                "読み取り専用です ({holder} が編集中) — 署名できません"
            ));
            return;
        }
        Some((Access::MemoryOnly { problem }, _)) => {
            app.status = Some(format!("保存できないため署名できません: {problem}"));
            return;
        }
        _ => {
            app.status = Some(format!(
                "署名する文書を編集で開いてください ({})",
                key_hint(app, Command::EditDraft)
            ));
            return;
        }
    }
    let Some((key, report)) = fresh(app) else {
        return;
    };
    let acknowledged = app
        .review
        .guards
        .get(&key)
        .map(|g| g.acknowledged.clone())
        .unwrap_or_default();
    if !report.can_sign(&acknowledged) {
        app.status = Some(refusal(app, &report, &acknowledged));
        return;
    }
    let version = app
        .review
        .signed
        .get(&key)
        .map_or(1, |s| s.latest().version + 1);
    app.review.sign_prompt = Some(SignPrompt {
        key,
        signer: app.review.signer.clone(),
        version,
    });
}

/// Why signing is refused: what is left, by kind, with the first few items.
fn refusal(app: &App, report: &GuardReport, acknowledged: &BTreeSet<String>) -> String {
    let blocking: Vec<&GuardItem> = report.blocking(acknowledged).collect();
    let unsupported = blocking.iter().filter(|i| !is_contradicted(i)).count();
    let contradicted = blocking.len() - unsupported;
    let examples: Vec<String> = blocking
        .iter()
        .take(3)
        .map(|i| format!("「{}」", crate::tui::view::text::safe_line(&i.text)))
        .collect();
    format!(
        "署名できません: 未確認 {unsupported} 件・矛盾 {contradicted} 件が残っています {}{} — 直すか {} で移動して {} で確認済みにしてください",
        examples.join(""),
        if blocking.len() > 3 { "…" } else { "" },
        key_hint(app, Command::NextFlag),
        key_hint(app, Command::AcknowledgeFlag),
    )
}

fn is_contradicted(item: &GuardItem) -> bool {
    item.verdict == crate::review::Verdict::Contradicted
}

/// The answer to the sign confirmation.
pub(super) fn sign_answer(app: &mut App, yes: bool) -> Vec<Effect> {
    let Some(prompt) = app.review.sign_prompt.take() else {
        return Vec::new();
    };
    if !yes {
        app.status = Some("署名を取りやめました".into());
        return Vec::new();
    }
    let Some(chart) = app
        .rows()
        .iter()
        .filter_map(|r| r.chart.as_ref().ok())
        .find(|c| c.id == prompt.key.chart_id)
        .cloned()
    else {
        return Vec::new();
    };
    let Some(edit) = app.edits.get(&prompt.key) else {
        return Vec::new();
    };
    let document = prompt.key.kind;
    let sections: Vec<SectionText> = edit.section_texts();
    let acknowledged = app
        .review
        .guards
        .get(&prompt.key)
        .map(|g| g.acknowledged.iter().cloned().collect())
        .unwrap_or_default();
    app.status = Some("署名しています…".into());
    vec![Effect::Sign {
        chart,
        document,
        sections,
        acknowledged,
    }]
}

/// Signing finished: the document turns read-only and 署名済.
pub(super) fn signed(
    app: &mut App,
    key: DocRef,
    result: Result<Box<SignedDocument>, String>,
) -> Vec<Effect> {
    let signed = match result {
        Ok(signed) => signed,
        Err(message) => {
            app.status = Some(format!("署名できませんでした: {message}"));
            return Vec::new();
        }
    };
    app.status = Some(format!(
        "署名しました: 第{}版 {} ({})",
        signed.version,
        crate::tui::view::text::safe_line(&signed.signer),
        local_time(&signed)
    ));
    mark_signed(app, &key, signed);
    Vec::new()
}

fn mark_signed(app: &mut App, key: &DocRef, signed: Box<SignedDocument>) {
    app.review
        .signed
        .insert(key.clone(), SignState::Signed(signed));
    if let Some(editor) = app.edits.get_mut(key).and_then(|e| e.editor.as_mut()) {
        editor.set_read_only(true);
        editor.clear_selection();
    }
    if current_key(app).as_ref() == Some(key) {
        app.edit_mode = false;
    }
    app.documents
        .entry(key.chart_id.clone())
        .or_default()
        .set(key.kind, DocumentState::Signed);
}

pub fn local_time(signed: &SignedDocument) -> String {
    signed
        .signed_at
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// What the store holds for a document just opened.
pub(super) fn signed_version(
    app: &mut App,
    key: DocRef,
    signed: Option<Box<SignedDocument>>,
    unsigned_changes: bool,
    acknowledged: BTreeSet<String>,
) {
    app.review
        .guards
        .entry(key.clone())
        .or_default()
        .acknowledged
        .extend(acknowledged);
    let Some(signed) = signed else {
        return;
    };
    if unsigned_changes {
        // Changes after the last signature: an amendment in progress (editable).
        app.review
            .signed
            .insert(key.clone(), SignState::Amending(signed));
        return;
    }
    // The signed text is what the document is (whatever was loaded before this answer).
    if let Some(edit) = app.edits.get_mut(&key) {
        let sections = from_store(&signed.sections);
        if edit.sections() != sections {
            edit.load(&sections);
        }
        edit.journaled = edit.editor.as_ref().map(|e| e.text().to_string());
    }
    if current_key(app).as_ref() == Some(&key) {
        app.status = Some(format!(
            "署名済み: 第{}版 {} ({}) — 直すときは {} で修正版",
            signed.version,
            crate::tui::view::text::safe_line(&signed.signer),
            local_time(&signed),
            key_hint(app, Command::Amend)
        ));
    }
    mark_signed(app, &key, signed);
}

/// `A`: start a new version of a signed document (editable again; linked when signed).
pub(super) fn amend(app: &mut App) {
    let Some(key) = current_key(app) else {
        return;
    };
    let Some(SignState::Signed(previous)) = app.review.signed.get(&key).cloned() else {
        app.status = Some("署名済みの文書ではありません".into());
        return;
    };
    let version = previous.version + 1;
    let writable = app.edits.get(&key).is_some_and(|e| e.access.can_write());
    if let Some(editor) = app.edits.get_mut(&key).and_then(|e| e.editor.as_mut()) {
        editor.set_read_only(!writable);
    }
    app.review
        .signed
        .insert(key.clone(), SignState::Amending(previous));
    app.documents
        .entry(key.chart_id.clone())
        .or_default()
        .set(key.kind, DocumentState::InReview);
    app.status = Some(if writable {
        format!(
            "修正版 (第{version}版) を編集できます — {} で編集、{} で署名",
            key_hint(app, Command::EditDraft),
            key_hint(app, Command::Sign)
        )
    } else {
        format!(
            "修正版 (第{version}版): 編集するには {} で文書を開いてください",
            key_hint(app, Command::EditDraft)
        )
    });
}

/// Editing a signed document is refused with a pointer to amend.
pub(super) fn refuse_edit_if_signed(app: &mut App) -> bool {
    let Some(key) = current_key(app) else {
        return false;
    };
    // A signed document not on screen yet is opened (read-only) to be read.
    let shown = app.edits.get(&key).is_some_and(|e| e.editor.is_some());
    if !app.review.is_signed(&key) || !shown {
        return false;
    }
    app.status = Some(format!(
        "署名済みの文書は編集できません — {} で修正版を作ります",
        key_hint(app, Command::Amend)
    ));
    true
}

fn signed_here(app: &mut App) -> Option<(std::sync::Arc<crate::chart::Chart>, SignedDocument)> {
    let chart = app.selected_chart().cloned()?;
    let key = DocRef::new(chart.id.clone(), app.draft_document);
    match app.review.signed.get(&key) {
        Some(state) => Some((chart, state.latest().clone())),
        None => {
            app.status = Some(format!(
                "署名済みの版がありません — {} で署名してから書き出せます",
                key_hint(app, Command::Sign)
            ));
            None
        }
    }
}

/// `E` / `X`: write the signed document into the data dir's `exports/`.
pub(super) fn export(app: &mut App, format: Format) -> Vec<Effect> {
    let Some((chart, signed)) = signed_here(app) else {
        return Vec::new();
    };
    app.status = Some("書き出しています…".into());
    vec![Effect::Export {
        chart,
        signed: Box::new(signed),
        format,
    }]
}

/// `y`: the signed document's text to the clipboard (OSC 52), on this key only.
pub(super) fn copy_to_clipboard(app: &mut App) -> Vec<Effect> {
    let Some((chart, signed)) = signed_here(app) else {
        return Vec::new();
    };
    vec![Effect::CopyToClipboard {
        text: document_text(&signed, &chart),
    }]
}
