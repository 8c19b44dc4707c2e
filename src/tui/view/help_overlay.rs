//! `?`: every command with its keys, grouped by the context it is used in (the command
//! table's rows), keys from the active keymap (so user overrides show up), scrollable when
//! the terminal is short.

use crate::tui::input::command::{help_groups, Command};
use crate::tui::state::app::App;
use crate::tui::view::text;
use crate::tui::view::theme::UiPart;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

const KEYS_COLUMN: usize = 20;
/// The config name column (what to write under `[keys]`) shows from this body width on.
const NAME_COLUMN: usize = 19;
const NAMES_MIN_WIDTH: usize = 80;
/// From this body width on, the context is a column of its own (else a heading line).
const CONTEXT_COLUMN: usize = 10;
const CONTEXT_COLUMN_MIN_WIDTH: usize = 100;
/// Wide enough for the longest description between the columns.
const MAX_WIDTH: u16 = 116;

/// Where the overlay goes on a screen of `area`.
pub fn help_area(area: Rect, line_count: usize) -> Rect {
    let width = area.width.saturating_sub(4).min(MAX_WIDTH);
    let wanted = u16::try_from(line_count)
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let height = wanted.min(area.height.saturating_sub(2));
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

/// Width of the help's body on a screen of `area`.
pub fn help_width(area: Rect) -> usize {
    usize::from(
        area.width
            .saturating_sub(4)
            .min(MAX_WIDTH)
            .saturating_sub(2),
    )
}

/// Every line of the help, for a body `width` cells wide.
pub fn help_lines(app: &App, width: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    // Wide: the context in a column, named on its first row; else a heading line above.
    let context_column = width >= CONTEXT_COLUMN_MIN_WIDTH;
    let context_width = if context_column {
        CONTEXT_COLUMN + 1
    } else {
        0
    };
    let show_name = width >= NAMES_MIN_WIDTH;
    let name_width = if show_name { NAME_COLUMN + 1 } else { 0 };
    let description_width = width.saturating_sub(context_width + KEYS_COLUMN + 1 + name_width);
    let mut lines = Vec::new();
    for (context, commands) in help_groups() {
        if !context_column {
            lines.push(Line::styled(
                format!("{}:", context.title()),
                theme.ui(UiPart::Muted),
            ));
        }
        for (row, command) in commands.into_iter().enumerate() {
            let keys = app.keymap.describe_keys(command);
            let keys = if keys.is_empty() {
                "(なし)".to_string()
            } else {
                keys
            };
            let mut spans = Vec::new();
            if context_column {
                let title = if row == 0 { context.title() } else { "" };
                spans.push(Span::styled(
                    text::fit(title, context_width),
                    theme.ui(UiPart::Muted),
                ));
            }
            spans.extend([
                Span::styled(text::fit(&keys, KEYS_COLUMN), theme.ui(UiPart::HelpKey)),
                Span::raw(" "),
                Span::raw(text::fit(command.description(), description_width)),
            ]);
            if show_name {
                spans.push(Span::styled(
                    text::fit_right(command.name(), name_width),
                    theme.ui(UiPart::Muted),
                ));
            }
            lines.push(Line::from(spans));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "編集モード (下書きペインで i / enter、esc で終了):",
        theme.ui(UiPart::Muted),
    ));
    for (keys, what) in crate::tui::input::edit_keys::EDIT_KEY_HELP {
        lines.push(Line::from(vec![
            Span::raw(" ".repeat(context_width)),
            Span::styled(text::fit(keys, KEYS_COLUMN), theme.ui(UiPart::HelpKey)),
            Span::raw(" "),
            Span::raw(text::fit(
                what,
                width.saturating_sub(context_width + KEYS_COLUMN + 1),
            )),
        ]));
    }
    lines.push(Line::raw(""));
    let notes = [
        format!(
            "キーは設定ファイルの [keys] で変えられます (例: {} = \"ctrl-q\")",
            Command::Quit.name()
        ),
        format!("テーマ: {} (設定の theme、NO_COLOR で白黒)", app.theme.name),
    ];
    for note in notes {
        for line in text::wrap(&note, width) {
            lines.push(Line::styled(line, theme.ui(UiPart::Muted)));
        }
    }
    lines
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let lines = help_lines(app, help_width(area));
    let rect = help_area(area, lines.len());
    let close_keys: Vec<String> = [Command::ToggleHelp, Command::Back]
        .iter()
        .filter_map(|c| app.keymap.keys_for(*c).first().map(ToString::to_string))
        .collect();
    let title = format!(" キー操作 ({} で閉じる) ", close_keys.join(" / "));
    let block = Block::bordered()
        .border_style(app.theme.ui(UiPart::BorderFocused))
        .title(Span::styled(title, app.theme.ui(UiPart::TitleFocused)));
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    let visible: Vec<Line> = lines
        .into_iter()
        .skip(app.help_scroll)
        .take(usize::from(inner.height))
        .collect();
    frame.render_widget(
        Paragraph::new(visible)
            .style(app.theme.ui(UiPart::Base))
            .block(block),
        rect,
    );
}
