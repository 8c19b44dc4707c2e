//! The recovery question: a draft was found in the journal (the last session ended without
//! signing — a crash, a dropped SSH connection); 復元 restores it, 破棄 leaves it.

use crate::tui::state::app::App;
use crate::tui::view::text;
use crate::tui::view::theme::UiPart;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let Some(prompt) = &app.recovery else {
        return;
    };
    let theme = &app.theme;
    let width = area.width.saturating_sub(4).min(72);
    let body_width = usize::from(width.saturating_sub(2));
    let when = prompt
        .draft
        .last_change_at
        .map(|at| {
            at.with_timezone(&chrono::Local)
                .format(" (最終変更 %m/%d %H:%M:%S)")
                .to_string()
        })
        .unwrap_or_default();
    let mut lines: Vec<Line> = text::wrap(
        &format!(
            "{}の署名されていない編集が記録に残っています{when}。",
            prompt.document.title()
        ),
        body_width,
    )
    .into_iter()
    .map(Line::raw)
    .collect();
    if let Some(damage) = &prompt.damage {
        for l in text::wrap(
            &format!(
                "記録の末尾が壊れていたため、最後の正常な記録までを復元します: {}",
                text::safe_line(damage)
            ),
            body_width,
        ) {
            lines.push(Line::styled(l, theme.ui(UiPart::Warning)));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("y / enter", theme.ui(UiPart::HelpKey)),
        Span::raw(" 復元    "),
        Span::styled("n / esc", theme.ui(UiPart::HelpKey)),
        Span::raw(" 破棄"),
    ]));
    let height = u16::try_from(lines.len() + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);
    let rect = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    let block = Block::bordered()
        .border_style(theme.ui(UiPart::BorderFocused))
        .title(Span::styled(
            " 下書きの復元 ",
            theme.ui(UiPart::TitleFocused),
        ));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.ui(UiPart::Base))
            .block(block),
        rect,
    );
}
