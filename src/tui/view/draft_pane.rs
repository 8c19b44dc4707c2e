//! The draft of the selected chart's document (紹介状 or 退院サマリー, tabs). Until drafting
//! is wired in, it says what the document's state is and how to start a draft.

use super::{pane_block, render_lines, tab_spans, visible};
use crate::tui::app::{App, Pane};
use crate::tui::command::Command;
use crate::tui::document_state::DocumentKind;
use crate::tui::layout::Panes;
use crate::tui::text;
use crate::tui::theme::UiPart;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

pub fn draw(app: &App, frame: &mut Frame, rect: Rect, panes: &Panes) {
    let tabs: Vec<String> = DocumentKind::ALL
        .iter()
        .map(|k| k.title().to_string())
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
        Line::styled("下書きはまだありません。", muted),
    ];
    let key = app
        .keymap
        .keys_for(Command::GenerateDraft)
        .first()
        .map(ToString::to_string);
    if let Some(key) = key {
        lines.push(Line::from(vec![
            Span::styled(key, theme.ui(UiPart::HelpKey)),
            Span::raw(format!(": {}を生成", kind.title())),
        ]));
    }
    let model = if app.model.present {
        format!("モデル: {}", text::safe_line(&app.model.file_name))
    } else {
        format!(
            "モデル {} が見つかりません — karte setup を実行してください",
            text::safe_line(&app.model.file_name)
        )
    };
    for line in text::wrap(&model, width) {
        lines.push(Line::styled(
            line,
            if app.model.present {
                muted
            } else {
                theme.ui(UiPart::Warning)
            },
        ));
    }
    lines
}
