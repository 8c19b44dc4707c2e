//! The bottom line: the keys that matter now (the command table's hints for the current
//! context, with the keys of the active keymap) and the latest message.

use crate::tui::input::command::{status_hints, Command, CommandContext};
use crate::tui::state::app::{App, Pane, Screen};
use crate::tui::view::text;
use crate::tui::view::theme::UiPart;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

/// The context whose hints the status bar shows.
fn context(app: &App) -> CommandContext {
    if app.help_open {
        CommandContext::Help
    } else if app.screen == Screen::Metrics {
        CommandContext::Metrics
    } else {
        match app.focus {
            Pane::Queue => CommandContext::Queue,
            Pane::Chart => CommandContext::Chart,
            Pane::Draft if crate::tui::view::guard_panel::current_is_signed(app) => {
                CommandContext::Signed
            }
            Pane::Draft if app.current_edit().is_some_and(|e| e.editor.is_some()) => {
                CommandContext::Review
            }
            Pane::Draft => CommandContext::Draft,
        }
    }
}

/// Edit mode and the recovery prompt take keys directly (not through the keymap).
fn fixed_hints(app: &App) -> Option<&'static [(&'static str, &'static str)]> {
    if app.help_open {
        None
    } else if app.recovery.is_some() {
        Some(&[("y", "復元"), ("n", "破棄")])
    } else if app.is_editing() {
        Some(&[
            ("esc", "編集終了"),
            ("shift+矢印", "選択"),
            ("ctrl-z/y", "元に戻す/やり直し"),
            ("ctrl-x/c/v", "切取/コピー/貼付"),
            ("ctrl-↑↓", "セクション"),
            ("ctrl-w", "単語削除"),
        ])
    } else {
        None
    }
}

pub fn draw(app: &App, frame: &mut Frame, rect: Rect) {
    let theme = &app.theme;
    let bar = theme.ui(UiPart::StatusBar);
    let key_style = theme.ui(UiPart::StatusKey);
    let width = usize::from(rect.width);

    // A journal that cannot save is shown first, until it can (the draft stays in memory);
    // then the study arm (it decides what the keys do), a metrics DB problem, the message.
    let journal = app
        .journal_problem
        .as_ref()
        .map(|problem| format!("保存できません (下書きはメモリ上に保持): {problem}"));
    let right = [
        journal,
        crate::tui::state::study_arms::study_chip(app),
        app.metrics_warning
            .as_ref()
            .map(|w| format!("計測データを保存できません (メモリ上に保持して再試行): {w}")),
        app.status.clone(),
        app.model.engine_chip(),
    ]
    .iter()
    .flatten()
    .map(|part| text::safe_line(part))
    .collect::<Vec<_>>()
    .join("  ");
    // The guard's counts for the current document come first; a message longer than half
    // the bar (an export path) may take the hints' room.
    let counts = super::guard_panel::status_counts(app)
        .filter(|_| !app.help_open)
        .map(|c| format!("{c} "))
        .unwrap_or_default();
    let right_max = (width / 2).max(width.saturating_sub(text::width(&counts) + 2));
    let right = if text::width(&right) > width / 2 {
        text::truncate(&right, right_max)
    } else {
        right
    };
    let room = width.saturating_sub(text::width(&right) + 1);

    let mut spans = vec![Span::styled(" ", bar)];
    let mut used = 1;
    if !counts.is_empty() && text::width(&counts) < room {
        used += text::width(&counts);
        spans.push(Span::styled(counts, key_style));
    }
    let fixed = fixed_hints(app);
    for (keys, label) in fixed.unwrap_or(&[]) {
        let cost = text::width(keys) + 1 + text::width(label) + 2;
        if used + cost > room {
            break;
        }
        used += cost;
        spans.push(Span::styled(*keys, key_style));
        spans.push(Span::styled(format!(" {label}  "), bar));
    }
    let keymap_hints = if fixed.is_some() {
        Vec::new()
    } else {
        status_hints(context(app))
    };
    let generation_refused = crate::tui::state::study_arms::generation_refused_on_screen(app);
    for (command, label) in keymap_hints {
        // Offer only what the study arm allows.
        if generation_refused && command == Command::GenerateDraft {
            continue;
        }
        // The first key the user's keymap gives the command (and its partner: `j/k`).
        let keys: Vec<String> = std::iter::once(command)
            .chain(command.partner())
            .filter_map(|c| app.keymap.keys_for(c).first().map(ToString::to_string))
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
