//! The draft of the selected chart's document (紹介状 or 退院サマリー, tabs). Until drafting
//! is wired in, it says what the document's state is and how to start a draft.

use super::edit_pane;
use super::highlight::{entity_kind, wrap_marked};
use super::{pane_block, render_lines, tab_spans, visible};
use crate::tui::input::command::Command;
use crate::tui::state::app::{App, Pane};
use crate::tui::state::document_state::DocumentKind;
use crate::tui::state::draft_view::{DraftPhase, DraftView, SectionProgress};
use crate::tui::state::model_status::ModelState;
use crate::tui::view::layout::Panes;
use crate::tui::view::text;
use crate::tui::view::theme::UiPart;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

pub fn draw(app: &App, frame: &mut Frame, rect: Rect, panes: &Panes) {
    let tabs: Vec<String> = DocumentKind::ALL
        .iter()
        .map(|k| {
            let name = if rect.width < 60 {
                k.heading(false)
            } else {
                k.title()
            };
            name.to_string()
        })
        .collect();
    let active = DocumentKind::ALL
        .iter()
        .position(|k| *k == app.draft_document)
        .unwrap_or(0);
    let mut title = vec![Span::raw(" 下書き")];
    title.extend(tab_spans(app, &tabs, active));
    if !panes.three_columns() {
        if let Some(key) = app.keymap.keys_for(Command::FocusNext).first() {
            title.push(Span::styled(
                format!("{key}→キュー "),
                app.theme.ui(UiPart::Muted),
            ));
        }
    }
    let block = pane_block(app, Pane::Draft, title);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let lines = body_lines(app, usize::from(inner.width));
    let lines = visible(lines, app.draft_scroll, usize::from(inner.height));
    render_lines(frame, inner, lines, app.theme.ui(UiPart::Base));
    if app.is_editing() {
        if let (Some(line), Some((_, column))) = (
            cursor_line(app, usize::from(inner.width)),
            app.current_edit()
                .and_then(|e| edit_pane::cursor_cell(e, usize::from(inner.width))),
        ) {
            edit_pane::place_cursor(frame, inner, line, column, app.draft_scroll);
        }
    }
}

/// Lines of the body above the edited text (document heading, access banner).
fn edit_prefix_lines(app: &App, width: usize) -> usize {
    2 + super::guard_panel::signed_banner(app, width).len()
        + app
            .current_edit()
            .map_or(0, |e| edit_pane::banner(app, e, width).len())
}

/// The body line holding the editor's cursor, while editing.
pub fn cursor_line(app: &App, width: usize) -> Option<usize> {
    if !app.is_editing() {
        return None;
    }
    editor_cursor_line(app, width)
}

/// The body line holding the editor's cursor, editing or not (a jump to a guard flag).
pub fn editor_cursor_line(app: &App, width: usize) -> Option<usize> {
    let (row, _) = edit_pane::cursor_cell(app.current_edit()?, width)?;
    Some(edit_prefix_lines(app, width) + row)
}

/// Every line of the draft pane's body, wrapped to `width`.
pub fn body_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let muted = theme.ui(UiPart::Muted);
    let Some(chart) = app.selected_chart() else {
        return vec![Line::styled(
            "カルテを読み込めた患者を選ぶと下書きを作れます",
            muted,
        )];
    };
    let kind = app.draft_document;
    let state = app.document_states(chart).get(kind);
    let mut lines = vec![
        Line::styled(
            text::truncate(
                &format!(
                    "{} — {} ({})",
                    kind.title(),
                    text::safe_line(&chart.patient.name),
                    state.label()
                ),
                width,
            ),
            theme.ui(UiPart::DraftSection),
        ),
        Line::raw(""),
    ];
    lines.extend(super::guard_panel::signed_banner(app, width));
    if let Some(edit) = app.current_edit() {
        lines.extend(edit_pane::banner(app, edit, width));
        if edit.editor.is_some() {
            lines.extend(edit_pane::text_lines(app, edit, width));
            return lines;
        }
    }
    match app.current_draft() {
        None => placeholder(app, kind, width, &mut lines),
        Some(draft) => draft_lines(app, draft, width, &mut lines),
    }
    lines
}

fn first_key(app: &App, command: Command) -> Option<String> {
    app.keymap
        .keys_for(command)
        .first()
        .map(ToString::to_string)
}

fn placeholder(app: &App, kind: DocumentKind, width: usize, lines: &mut Vec<Line<'static>>) {
    let theme = &app.theme;
    lines.push(Line::styled(
        "下書きはまだありません。",
        theme.ui(UiPart::Muted),
    ));
    if let Some(key) = first_key(app, Command::GenerateDraft) {
        lines.push(Line::from(vec![
            Span::styled(key, theme.ui(UiPart::HelpKey)),
            Span::raw(format!(": {}を生成", kind.title())),
        ]));
    }
    let style = match app.model.state {
        ModelState::Missing | ModelState::Failed { .. } => theme.ui(UiPart::Warning),
        _ => theme.ui(UiPart::Muted),
    };
    for line in text::wrap(&text::safe_line(&app.model.describe()), width) {
        lines.push(Line::styled(line, style));
    }
}

fn draft_lines(app: &App, draft: &DraftView, width: usize, lines: &mut Vec<Line<'static>>) {
    let theme = &app.theme;
    let muted = theme.ui(UiPart::Muted);
    for section in &draft.sections {
        let mut heading = vec![Span::styled(
            format!("【{}】", text::safe_line(&section.title)),
            theme.ui(UiPart::DraftSection),
        )];
        match section.progress {
            SectionProgress::Writing => {
                heading.push(Span::styled(" 生成中…", theme.ui(UiPart::StateDrafting)))
            }
            SectionProgress::Waiting if draft.is_generating() => {
                heading.push(Span::styled(" 待機中", muted))
            }
            _ => {}
        }
        if !section.generated {
            heading.push(Span::styled(" カルテから", muted));
        }
        lines.push(Line::from(heading));
        if section.text.is_empty() {
            let placeholder = match section.progress {
                SectionProgress::Done => "(なし)",
                SectionProgress::Writing => "…",
                SectionProgress::Waiting if draft.is_generating() => "…",
                SectionProgress::Waiting => "(未生成)",
            };
            lines.push(Line::styled(placeholder, muted));
        } else {
            // The guard's verdicts first (they win), then the entity highlights.
            let mut marks = super::guard_panel::section_marks(app, &section.title);
            if app.highlights {
                marks.extend(
                    section
                        .entities
                        .iter()
                        .map(|e| (e.start, e.end, theme.entity(entity_kind(e)))),
                );
            }
            lines.extend(wrap_marked(
                &section.text,
                width,
                theme.ui(UiPart::Base),
                &marks,
            ));
        }
        lines.push(Line::raw(""));
    }
    let footer = match &draft.phase {
        DraftPhase::Generating => Line::styled(
            match first_key(app, Command::CancelDraft) {
                Some(key) => format!("生成中… ({key}: 中止)"),
                None => "生成中…".into(),
            },
            theme.ui(UiPart::StateDrafting),
        ),
        DraftPhase::Done => Line::styled(
            "生成完了 — 内容を確認してください",
            theme.ui(UiPart::StateInReview),
        ),
        DraftPhase::Cancelled => Line::styled("中止しました", theme.ui(UiPart::Warning)),
        DraftPhase::Blank => Line::styled(
            "空のテンプレート (試験の manual 群) — 各項目を記入してください",
            theme.ui(UiPart::Muted),
        ),
        DraftPhase::Failed(message) => {
            for line in text::wrap(
                &format!("生成に失敗しました: {}", text::safe_line(message)),
                width,
            ) {
                lines.push(Line::styled(line, theme.ui(UiPart::Error)));
            }
            return;
        }
    };
    lines.push(footer);
}
