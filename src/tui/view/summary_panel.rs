//! The chart summary panel under the chart pane: problems with certainty, medications,
//! abnormal labs, allergies, procedures; the selected row is highlighted (Enter shows its
//! source in the chart).

use crate::nlp::Certainty;
use crate::tui::state::app::{App, Pane};
use crate::tui::state::chart_summary::{selectable, summary_rows, RowKind};
use crate::tui::view::text;
use crate::tui::view::theme::{EntityKind, UiPart};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;

pub fn draw(app: &App, frame: &mut Frame, rect: Rect) {
    let theme = &app.theme;
    let focused = app.focus == Pane::Chart;
    let block = Block::bordered()
        .border_style(theme.ui(if focused {
            UiPart::BorderFocused
        } else {
            UiPart::Border
        }))
        .title(Line::from(vec![
            Span::styled(" 要約 ", theme.ui(UiPart::Title)),
            Span::styled("↑↓:選択 enter:根拠 ", theme.ui(UiPart::Muted)),
        ]));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let width = usize::from(inner.width);
    let summary = app
        .selected_chart()
        .and_then(|c| app.review.summaries.get(&c.id));
    let Some(summary) = summary else {
        let message = if app.selected_chart().is_some() {
            "要約を作成中…"
        } else {
            "カルテが選択されていません"
        };
        frame.render_widget(
            Paragraph::new(Line::styled(message, theme.ui(UiPart::Muted))),
            inner,
        );
        return;
    };
    let rows = summary_rows(summary);
    let choices = selectable(&rows);
    let selected_row = choices
        .get(
            app.review
                .summary_selected
                .min(choices.len().saturating_sub(1)),
        )
        .copied();
    let lines: Vec<Line<'static>> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let style = match row.kind {
                _ if Some(i) == selected_row && focused => theme.ui(UiPart::Selected),
                _ if Some(i) == selected_row => theme.ui(UiPart::SelectedUnfocused),
                RowKind::Heading => theme.ui(UiPart::Header),
                RowKind::Problem(Certainty::Negative) => theme.entity(EntityKind::DiseaseNegative),
                RowKind::Problem(Certainty::Suspicious) => {
                    theme.entity(EntityKind::DiseaseSuspicious)
                }
                RowKind::Problem(_) => theme.ui(UiPart::Base),
                RowKind::AbnormalLab => theme.ui(UiPart::LabHigh),
                RowKind::Allergy => theme.ui(UiPart::Warning),
                RowKind::Medication | RowKind::Procedure => theme.ui(UiPart::Base),
            };
            let indent = if row.is_heading() { "" } else { " " };
            Line::styled(
                text::truncate(&format!("{indent}{}", text::safe_line(&row.text)), width),
                style,
            )
        })
        .collect();
    let height = usize::from(inner.height);
    let skip = selected_row.map_or(0, |line| (line + 2).saturating_sub(height));
    let lines: Vec<Line<'static>> = lines.into_iter().skip(skip).take(height).collect();
    frame.render_widget(Paragraph::new(lines).style(theme.ui(UiPart::Base)), inner);
}
