//! The queue: one row per chart file — patient, ward, dates and the state of both
//! documents — or, for a file that failed to load, the loader's error.

use super::{pane_block, render_lines};
use crate::tui::state::app::{App, Pane};
use crate::tui::state::document_state::{DocumentKind, DocumentState};
use crate::tui::view::text;
use crate::tui::view::theme::UiPart;
use chrono::NaiveDate;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

const STATE: usize = 6;
/// From this inner width on, dates are written in full and headings unabbreviated.
const FULL_COLUMNS_MIN_WIDTH: usize = 66;
/// Names longer than this are cut when the room is better spent on a department column.
const NAME_CAP: usize = 16;
const DEPARTMENT_MIN: usize = 8;

struct Columns {
    name: usize,
    /// 0 when there is no room for the department.
    department: usize,
    ward: usize,
    date: usize,
    summary: usize,
    full: bool,
}

impl Columns {
    fn for_width(width: usize) -> Self {
        let full = width >= FULL_COLUMNS_MIN_WIDTH;
        let date = if full { 10 } else { 5 };
        let ward = if full { 10 } else { 6 };
        let summary = if full { 12 } else { STATE };
        let fixed = ward + 2 * date + STATE + summary + 5;
        let mut name = width.saturating_sub(fixed).max(4);
        let mut department = 0;
        if name >= NAME_CAP + 1 + DEPARTMENT_MIN {
            department = name - NAME_CAP - 1;
            name = NAME_CAP;
        }
        Self {
            name,
            department,
            ward,
            date,
            summary,
            full,
        }
    }

    fn date(&self, date: Option<NaiveDate>) -> String {
        match date {
            Some(d) if self.full => d.format("%Y-%m-%d").to_string(),
            Some(d) => d.format("%m/%d").to_string(),
            None => "—".into(),
        }
    }
}

pub fn draw(app: &App, frame: &mut Frame, rect: Rect) {
    let theme = &app.theme;
    let mut title = vec![Span::raw(" キュー ")];
    if let Some(rows) = &app.rows {
        title.push(Span::raw(format!("{}件 ", rows.len())));
        let errors = app.error_count();
        if errors > 0 {
            title.push(Span::styled(
                format!("読込エラー {errors}件 "),
                theme.ui(UiPart::Error),
            ));
        }
    }
    let block = pane_block(app, Pane::Queue, title);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let width = usize::from(inner.width);

    let mut lines = Vec::new();
    if let Some(problem) = &app.queue_problem {
        for line in text::wrap(&text::safe(problem), width) {
            lines.push(Line::styled(line, theme.ui(UiPart::Error)));
        }
        render_lines(frame, inner, lines, theme.ui(UiPart::Base));
        return;
    }
    let Some(rows) = &app.rows else {
        let message = format!(
            "読み込み中… {}",
            text::safe_line(&app.queue_dir.display().to_string())
        );
        lines.push(Line::styled(
            text::truncate(&message, width),
            theme.ui(UiPart::Muted),
        ));
        render_lines(frame, inner, lines, theme.ui(UiPart::Base));
        return;
    };
    if rows.is_empty() {
        let message = format!(
            "カルテがありません: {} (ファイルを置くと自動で表示されます)",
            text::safe_line(&app.queue_dir.display().to_string())
        );
        for line in text::wrap(&message, width) {
            lines.push(Line::styled(line, theme.ui(UiPart::Muted)));
        }
        render_lines(frame, inner, lines, theme.ui(UiPart::Base));
        return;
    }

    let columns = Columns::for_width(width);
    lines.push(header(app, &columns));
    let visible = usize::from(inner.height.saturating_sub(1));
    for (index, row) in rows.iter().enumerate().skip(app.queue_offset).take(visible) {
        let mut line = match &row.chart {
            Ok(chart) => {
                let states = app.document_states(chart);
                let patient = text::safe_line(&chart.patient.name);
                let ward = text::safe_line(&chart.encounter.ward);
                let department = text::safe_line(&chart.encounter.department);
                let base = theme.ui(UiPart::Base);
                let mut cells = vec![(text::fit(&patient, columns.name), base)];
                if columns.department > 0 {
                    cells.push((text::fit(&department, columns.department), base));
                }
                cells.extend([
                    (text::fit(&ward, columns.ward), base),
                    (
                        text::fit(&columns.date(chart.encounter.admission_date), columns.date),
                        theme.ui(UiPart::Base),
                    ),
                    (
                        text::fit(&columns.date(chart.encounter.discharge_date), columns.date),
                        theme.ui(UiPart::Base),
                    ),
                    state_cell(app, states.get(DocumentKind::Referral), STATE),
                    state_cell(app, states.get(DocumentKind::Discharge), columns.summary),
                ]);
                let mut spans = Vec::new();
                for (i, (cell, style)) in cells.into_iter().enumerate() {
                    if i > 0 {
                        spans.push(Span::raw(" "));
                    }
                    spans.push(Span::styled(cell, style));
                }
                Line::from(spans)
            }
            Err(error) => Line::styled(
                text::fit(
                    &format!(
                        "読込エラー {}: {}",
                        text::safe_line(&row.file_name),
                        text::safe_line(&error.summary)
                    ),
                    width,
                ),
                theme.ui(UiPart::Error),
            ),
        };
        if index == app.selected {
            let style = if app.focus == Pane::Queue && !app.help_open {
                theme.ui(UiPart::Selected)
            } else {
                theme.ui(UiPart::SelectedUnfocused)
            };
            line = line.style(style);
            // The row style must win over the cells' own colours so the selection is visible.
            line.spans = line
                .spans
                .into_iter()
                .map(|s| s.patch_style(style))
                .collect();
        }
        lines.push(line);
    }
    render_lines(frame, inner, lines, theme.ui(UiPart::Base));
}

fn header(app: &App, columns: &Columns) -> Line<'static> {
    let (admission, discharge) = if columns.full {
        ("入院日", "退院日")
    } else {
        ("入院", "退院")
    };
    let mut cells = vec![text::fit("患者", columns.name)];
    if columns.department > 0 {
        cells.push(text::fit("診療科", columns.department));
    }
    cells.extend([
        text::fit("病棟", columns.ward),
        text::fit(admission, columns.date),
        text::fit(discharge, columns.date),
        text::fit(DocumentKind::Referral.heading(!columns.full), STATE),
        text::fit(
            DocumentKind::Discharge.heading(!columns.full),
            columns.summary,
        ),
    ]);
    Line::styled(cells.join(" "), app.theme.ui(UiPart::Header))
}

fn state_cell(app: &App, state: DocumentState, width: usize) -> (String, ratatui::style::Style) {
    let part = match state {
        DocumentState::NotStarted => UiPart::StateNotStarted,
        DocumentState::Drafting => UiPart::StateDrafting,
        DocumentState::InReview => UiPart::StateInReview,
        DocumentState::Signed => UiPart::StateSigned,
    };
    (text::fit(state.label(), width), app.theme.ui(part))
}
