//! The bottom line: the keys that matter now (from the keymap) and the latest message.

use crate::tui::app::{App, Pane, Screen};
use crate::tui::command::Command;
use crate::tui::text;
use crate::tui::theme::UiPart;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

/// The hints for the current context: commands whose first keys are shown, and a label.
fn hints(app: &App) -> Vec<(&'static [Command], &'static str)> {
    if app.help_open {
        return vec![
            (&[Command::ToggleHelp], "閉じる"),
            (&[Command::MoveDown, Command::MoveUp], "スクロール"),
        ];
    }
    if app.screen == Screen::Metrics {
        return vec![
            (&[Command::ShowMetrics], "閉じる"),
            (&[Command::ToggleHelp], "ヘルプ"),
            (&[Command::Quit], "終了"),
        ];
    }
    match app.focus {
        Pane::Queue => vec![
            (&[Command::MoveDown, Command::MoveUp], "移動"),
            (&[Command::Open], "開く"),
            (&[Command::FocusNext], "ペイン"),
            (&[Command::GenerateDraft], "下書き"),
            (&[Command::ToggleHelp], "ヘルプ"),
            (&[Command::Quit], "終了"),
        ],
        Pane::Chart => vec![
            (&[Command::MoveDown, Command::MoveUp], "スクロール"),
            (&[Command::NextTab], "タブ"),
            (&[Command::FocusNext], "ペイン"),
            (&[Command::Back], "キュー"),
            (&[Command::ToggleHelp], "ヘルプ"),
            (&[Command::Quit], "終了"),
        ],
        Pane::Draft => vec![
            (&[Command::MoveDown, Command::MoveUp], "スクロール"),
            (&[Command::NextTab], "文書"),
            (&[Command::GenerateDraft], "生成"),
            (&[Command::Back], "キュー"),
            (&[Command::ToggleHelp], "ヘルプ"),
            (&[Command::Quit], "終了"),
        ],
    }
}

pub fn draw(app: &App, frame: &mut Frame, rect: Rect) {
    let theme = &app.theme;
    let bar = theme.ui(UiPart::StatusBar);
    let key_style = theme.ui(UiPart::StatusKey);
    let width = usize::from(rect.width);

    // The study arm first (it decides what the keys do), then a metrics DB problem, then
    // the latest message.
    let right = [
        crate::tui::study_arms::study_chip(app),
        app.metrics_warning.clone(),
        app.status.clone(),
    ]
    .iter()
    .flatten()
    .map(|part| text::safe_line(part))
    .collect::<Vec<_>>()
    .join("  ");
    let right = text::truncate(&right, width / 2);
    let room = width.saturating_sub(text::width(&right) + 1);

    let mut spans = vec![Span::styled(" ", bar)];
    let mut used = 1;
    let generation_refused = crate::tui::study_arms::generation_refused_on_screen(app);
    for (commands, label) in hints(app) {
        // Offer only what the study arm allows.
        if generation_refused && commands.contains(&Command::GenerateDraft) {
            continue;
        }
        let keys: Vec<String> = commands
            .iter()
            .filter_map(|c| app.keymap.keys_for(*c).first().map(ToString::to_string))
            .collect();
        if keys.is_empty() {
            continue;
        }
        let keys = keys.join("/");
        let cost = text::width(&keys) + 1 + text::width(label) + 2;
        if used + cost > room {
            break;
        }
        used += cost;
        spans.push(Span::styled(keys, key_style));
        spans.push(Span::styled(format!(" {label}  "), bar));
    }
    let gap = width.saturating_sub(used + text::width(&right));
    spans.push(Span::styled(" ".repeat(gap), bar));
    spans.push(Span::styled(right, theme.ui(UiPart::StatusMessage)));
    frame.render_widget(Line::from(spans).style(bar), rect);
}
