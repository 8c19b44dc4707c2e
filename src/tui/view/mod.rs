//! Drawing: reads the `App`, writes the frame, changes nothing. ratatui diffs each frame
//! against the last, so only changed cells go over the (possibly slow SSH) link.

mod chart_pane;
pub mod color_support;
mod draft_pane;
mod edit_pane;
pub mod guard_panel;
mod help_overlay;
pub mod highlight;
pub mod layout;
pub mod metrics_screen;
mod queue_pane;
mod recovery_prompt;
mod status_bar;
pub mod summary_panel;
pub mod text;
pub mod theme;

pub use chart_pane::body_lines as chart_body_lines;
pub use chart_pane::note_span_line;
pub use draft_pane::body_lines as draft_body_lines;
pub use draft_pane::cursor_line as draft_cursor_line;
pub use draft_pane::editor_cursor_line as draft_editor_cursor_line;
pub use help_overlay::{help_area, help_lines, help_width};

use crate::tui::state::app::{App, MetricsView, Pane, Screen};
use crate::tui::view::layout::{Panes, MIN_HEIGHT, MIN_WIDTH};
use crate::tui::view::metrics_screen::{draw_metrics_message, draw_metrics_tab};
use crate::tui::view::theme::UiPart;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

pub fn view(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let theme = &app.theme;
    frame.render_widget(Block::new().style(theme.ui(UiPart::Base)), area);
    let panes = Panes::compute(area, app.detail, app.rows().len())
        .with_guard_panel(app.review.panel_open)
        .with_summary_panel(app.review.summary_open);
    if panes.too_small {
        if area.width < 8 || area.height < 2 {
            // Too narrow even for the message (wide characters in a 2-cell line overflow
            // ratatui's buffer): the blank screen until the terminal is larger.
            return;
        }
        let message = format!(
            "端末が小さすぎます ({}x{})。{MIN_WIDTH}x{MIN_HEIGHT} 以上 (推奨 80x24) に広げてください。",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(message)
                .style(theme.ui(UiPart::Warning))
                .wrap(Wrap { trim: false }),
            panes.queue,
        );
        status_bar::draw(app, frame, panes.status);
        return;
    }
    if app.screen == Screen::Metrics {
        let body = Rect::new(area.x, area.y, area.width, area.height.saturating_sub(1));
        match &app.metrics {
            MetricsView::Loading => draw_metrics_message(frame, body, "計測データを読み込み中…"),
            MetricsView::Ready(report) => draw_metrics_tab(frame, body, report),
            MetricsView::Unavailable(message) => draw_metrics_message(
                frame,
                body,
                &format!("計測結果を表示できません。\n詳細: {}", text::safe(message)),
            ),
        }
        status_bar::draw(app, frame, panes.status);
        if app.help_open {
            help_overlay::draw(app, frame, area);
        }
        return;
    }
    queue_pane::draw(app, frame, panes.queue);
    if let Some(rect) = panes.chart {
        chart_pane::draw(app, frame, rect, &panes);
    }
    if let Some(rect) = panes.draft {
        draft_pane::draw(app, frame, rect, &panes);
    }
    if let Some(rect) = panes.summary {
        summary_panel::draw(app, frame, rect);
    }
    if let Some(rect) = panes.guard {
        guard_panel::draw(app, frame, rect);
    }
    status_bar::draw(app, frame, panes.status);
    guard_panel::draw_sign_prompt(app, frame, area);
    if app.recovery.is_some() {
        recovery_prompt::draw(app, frame, area);
    }
    if app.help_open {
        help_overlay::draw(app, frame, area);
    }
}

/// A bordered pane whose border and title show whether it has the focus.
fn pane_block<'a>(app: &App, pane: Pane, title: Vec<Span<'a>>) -> Block<'a> {
    let focused = app.focus == pane && !app.help_open;
    let theme = &app.theme;
    let (border, title_style) = if focused {
        (
            theme.ui(UiPart::BorderFocused),
            theme.ui(UiPart::TitleFocused),
        )
    } else {
        (theme.ui(UiPart::Border), theme.ui(UiPart::Title))
    };
    let title: Vec<Span<'a>> = title
        .into_iter()
        .map(|s| {
            let style = title_style.patch(s.style);
            s.style(style)
        })
        .collect();
    Block::bordered()
        .border_style(border)
        .title(Line::from(title))
}

/// Tabs as title spans: the active one highlighted.
fn tab_spans<'a>(app: &App, tabs: &[String], active: usize) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    for (i, tab) in tabs.iter().enumerate() {
        let style = if i == active {
            app.theme.ui(UiPart::TabActive)
        } else {
            app.theme.ui(UiPart::TabInactive)
        };
        spans.push(Span::raw(" "));
        spans.push(Span::styled(format!(" {tab} "), style));
    }
    spans.push(Span::raw(" "));
    spans
}

/// Lines `scroll..scroll+height` of `lines`.
fn visible(lines: Vec<Line<'static>>, scroll: usize, height: usize) -> Vec<Line<'static>> {
    lines.into_iter().skip(scroll).take(height).collect()
}

fn render_lines(frame: &mut Frame, rect: Rect, lines: Vec<Line<'static>>, style: Style) {
    frame.render_widget(Paragraph::new(lines).style(style), rect);
}
