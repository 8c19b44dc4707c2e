//! Reviewing with the provenance guard: it is asked again whenever the current draft's text
//! changes; its answers, and the keys that walk the flags, jump to a source and acknowledge.
//! Signing, amending and exporting are in `signing`. No I/O: the disk work is `Effect`s.

use crate::chart::Source;
use crate::review::{GuardItem, GuardReport};
use crate::tui::action::Effect;
use crate::tui::input::command::Command;
use crate::tui::state::app::{App, ChartTab, Pane};
use crate::tui::state::document_state::DocRef;
use crate::tui::state::review::{editor_ranges, guard_provenance, guard_sections, SourceMark};

pub(super) fn current_key(app: &App) -> Option<DocRef> {
    Some(DocRef::new(
        app.selected_chart()?.id.clone(),
        app.draft_document,
    ))
}

pub(super) fn key_hint(app: &App, command: Command) -> String {
    app.keymap
        .keys_for(command)
        .first()
        .map(ToString::to_string)
        .unwrap_or_else(|| command.name().to_string())
}

/// After every action: a changed draft goes to the guard; a signed document stays read-only.
pub(super) fn after_update(app: &mut App, effects: &mut Vec<Effect>) {
    let Some(chart) = app.selected_chart().cloned() else {
        return;
    };
    // What is signed of this chart's documents (queue state 署名済), once per chart.
    if app.review.signed_checked.insert(chart.id.clone()) {
        effects.push(Effect::LookUpSigned {
            chart_id: chart.id.clone(),
        });
    }
    let key = DocRef::new(chart.id.clone(), app.draft_document);
    if app.review.is_signed(&key) {
        if let Some(editor) = app.edits.get_mut(&key).and_then(|e| e.editor.as_mut()) {
            editor.set_read_only(true);
        }
    }
    let Some(sections) = guard_sections(
        app.templates.get(key.kind),
        app.edits.get(&key),
        app.drafts.get(&key),
    ) else {
        return;
    };
    let provenance = guard_provenance(
        app.templates.get(key.kind),
        app.edits.get(&key),
        app.drafts.get(&key),
    );
    let state = app.review.guards.entry(key.clone()).or_default();
    if state.sent == sections && state.sent_provenance == provenance {
        return;
    }
    state.sent.clone_from(&sections);
    state.sent_provenance.clone_from(&provenance);
    effects.push(Effect::CheckGuard {
        chart,
        document: key.kind,
        sections,
        provenance,
    });
}

/// The guard's answer for a document.
pub(super) fn guard_checked(
    app: &mut App,
    key: DocRef,
    sections: Vec<(String, String)>,
    report: GuardReport,
    micros: u64,
) {
    let state = app.review.guards.entry(key).or_default();
    state.report = Some(report);
    state.checked = sections;
    state.micros = micros;
}

/// The current document's sections and its guard report, when the report is up to date.
pub(super) fn fresh(app: &mut App) -> Option<(DocRef, GuardReport)> {
    let key = current_key(app)?;
    let sections = guard_sections(
        app.templates.get(key.kind),
        app.edits.get(&key),
        app.drafts.get(&key),
    );
    let report = sections.and_then(|sections| {
        app.review
            .guards
            .get(&key)
            .and_then(|g| g.fresh_report(&sections))
            .cloned()
    });
    match report {
        Some(report) => Some((key, report)),
        None => {
            app.status = Some(
                "根拠の照合中です — 少し待ってからもう一度 (辞書の読み込み中かもしれません)".into(),
            );
            None
        }
    }
}

pub(super) fn toggle_panel(app: &mut App) {
    app.review.panel_open = !app.review.panel_open;
    app.status = Some(
        if app.review.panel_open {
            "照合パネル オン"
        } else {
            "照合パネル オフ"
        }
        .into(),
    );
}

/// `f` / `F`: the next (previous) unsupported or contradicted item; the editor's cursor
/// goes there when the document is being edited.
pub(super) fn next_flag(app: &mut App, forward: bool) {
    let Some((key, report)) = fresh(app) else {
        return;
    };
    let flagged: Vec<&GuardItem> = report.flagged().collect();
    if flagged.is_empty() {
        app.status = Some("未確認・矛盾の指摘はありません".into());
        return;
    }
    let selected = app.review.guards.get(&key).and_then(|g| g.selected.clone());
    let edit = app.edits.get(&key).filter(|e| e.editor.is_some());
    let target: &GuardItem = match edit {
        Some(edit) => {
            let mut ranges = editor_ranges(edit, flagged.iter().copied());
            ranges.sort_by_key(|(_, r)| r.start);
            let cursor = edit.editor.as_ref().map_or(0, |e| e.cursor());
            let pick = if forward {
                ranges
                    .iter()
                    .find(|(_, r)| r.start > cursor)
                    .or(ranges.first())
            } else {
                ranges
                    .iter()
                    .rev()
                    .find(|(_, r)| r.start < cursor)
                    .or(ranges.last())
            };
            let Some((item, range)) = pick.cloned() else {
                return;
            };
            if let Some(editor) = app.edits.get_mut(&key).and_then(|e| e.editor.as_mut()) {
                editor.set_cursor(range.start);
            }
            item
        }
        None => {
            let at = selected.and_then(|id| flagged.iter().position(|i| i.id == id));
            let n = flagged.len();
            let index = match (at, forward) {
                (None, true) => 0,
                (None, false) => n - 1,
                (Some(i), true) => (i + 1) % n,
                (Some(i), false) => (i + n - 1) % n,
            };
            flagged[index]
        }
    };
    let position = flagged.iter().position(|i| i.id == target.id).unwrap_or(0) + 1;
    let state = app.review.guards.entry(key).or_default();
    let acknowledged = state.is_acknowledged(target);
    state.selected = Some(target.id.clone());
    app.focus = Pane::Draft;
    app.detail = Pane::Draft;
    // Bring the flag into view (edit mode follows the cursor by itself).
    let (width, height) = super::panes(app).draft_body();
    if let Some(line) = crate::tui::view::draft_editor_cursor_line(app, width) {
        app.draft_scroll = line.saturating_sub(height / 3);
        app.draft_follow = false;
    }
    app.status = Some(format!(
        "指摘 {position}/{}: 「{}」 {}{}",
        flagged.len(),
        crate::tui::view::text::safe_line(&target.text),
        target.explanation(),
        if acknowledged { " (確認済)" } else { "" }
    ));
}

/// The item under the editor's cursor (any verdict), else the flag last jumped to.
fn item_here<'a>(app: &App, key: &DocRef, report: &'a GuardReport) -> Option<&'a GuardItem> {
    let at_cursor = app
        .edits
        .get(key)
        .filter(|e| e.editor.is_some())
        .and_then(|edit| {
            let cursor = edit.editor.as_ref()?.cursor();
            editor_ranges(edit, report.items.iter())
                .into_iter()
                .find(|(_, r)| r.start <= cursor && cursor <= r.end)
                .map(|(item, _)| item)
        });
    at_cursor.or_else(|| {
        let selected = app.review.guards.get(key)?.selected.as_deref()?;
        report.item(selected)
    })
}

/// `c`: acknowledge the flag under the cursor (or the one last jumped to).
pub(super) fn acknowledge(app: &mut App) -> Vec<Effect> {
    let Some((key, report)) = fresh(app) else {
        return Vec::new();
    };
    let Some(item) = item_here(app, &key, &report).filter(|i| i.is_flagged()) else {
        app.status = Some(format!(
            "確認する指摘を選んでください ({} で次の指摘へ)",
            key_hint(app, Command::NextFlag)
        ));
        return Vec::new();
    };
    if app.review.is_signed(&key) {
        app.status = Some("署名済みの文書です".into());
        return Vec::new();
    }
    if !app.edits.get(&key).is_some_and(|e| e.access.can_write()) {
        app.status = Some(format!(
            "確認を記録するには文書を編集で開いてください ({})",
            key_hint(app, Command::EditDraft)
        ));
        return Vec::new();
    }
    let state = app.review.guards.entry(key.clone()).or_default();
    state.selected = Some(item.id.clone());
    // Pressed again on an acknowledged flag: taken back (a slip must not reach a signature).
    let withdraw = !state.acknowledged.insert(item.id.clone());
    if withdraw {
        state.acknowledged.remove(&item.id);
    }
    let left = report.blocking(&state.acknowledged).count();
    let text = crate::tui::view::text::safe_line(&item.text);
    app.status = Some(if withdraw {
        format!("「{text}」の確認を取り消しました (残り {left} 件)")
    } else {
        format!(
            "「{text}」を確認済みとして記録しました (残り {left} 件、もう一度 {} で取消)",
            key_hint(app, Command::AcknowledgeFlag)
        )
    });
    vec![Effect::Acknowledge {
        chart_id: key.chart_id,
        document: key.kind,
        item_id: item.id.clone(),
        withdraw,
    }]
}

/// `o`: show the chart record behind the item under the cursor (or the last flag).
pub(super) fn jump_to_source(app: &mut App) {
    let Some((key, report)) = fresh(app) else {
        return;
    };
    let Some(item) = item_here(app, &key, &report) else {
        app.status = Some("カーソルを下書きの強調された記載に置いてください".into());
        return;
    };
    let Some(chart) = app.selected_chart().cloned() else {
        return;
    };
    let text = crate::tui::view::text::safe_line(&item.text);
    if item.sources.is_empty() {
        app.status = Some(format!("「{text}」: {}", item.explanation()));
        return;
    }
    show_source(app, &chart, &item.sources, &text);
}

/// Shows where `sources` are in the chart pane (a note span first: scrolled to and marked;
/// else the tab holding the record) and says so in the status bar.
pub(super) fn show_source(
    app: &mut App,
    chart: &crate::chart::Chart,
    sources: &[Source],
    label: &str,
) {
    let note_source = sources.iter().find_map(|s| match s {
        Source::Note { id, start, end } => Some((id.clone(), *start, *end)),
        _ => None,
    });
    let Some(source) = sources.first() else {
        return;
    };
    // The chart pane must be visible: on a narrow screen it takes the draft's place.
    app.detail = Pane::Chart;
    if !super::panes(app).three_columns() {
        app.focus = Pane::Chart;
    }
    if let Some((note_id, start, end)) = note_source {
        app.chart_tab = ChartTab::Notes;
        let width = super::panes(app).chart_body().0;
        let line = crate::tui::view::note_span_line(chart, &note_id, start, width);
        app.chart_scroll = line.unwrap_or(0).saturating_sub(1);
        app.review.source_mark = Some(SourceMark {
            chart_id: chart.id.clone(),
            note_id,
            start,
            end,
        });
        app.status = Some(format!("「{label}」の根拠: 経過記録の強調箇所"));
        return;
    }
    app.review.source_mark = None;
    let (tab, what) = match source {
        Source::Lab { .. } => (ChartTab::Labs, "検査結果"),
        Source::Prescription { .. } => (ChartTab::Prescriptions, "処方"),
        Source::Allergy { .. } => (ChartTab::Prescriptions, "アレルギー"),
        Source::Diagnosis { .. } => (ChartTab::Prescriptions, "病名"),
        Source::Patient | Source::Encounter | Source::Note { .. } => {
            (ChartTab::Notes, "患者・入院情報 (カルテ上部)")
        }
    };
    app.chart_tab = tab;
    app.chart_scroll = 0;
    app.status = Some(format!("「{label}」の根拠: {what}"));
}
