//! The chart summary panel: toggled with its key, computed in the background the first time
//! a chart is shown with the panel open; while it is open and the chart pane has the focus,
//! up/down select a row and Enter shows the row's source in the chart.

use crate::tui::action::Effect;
use crate::tui::input::command::Command;
use crate::tui::state::app::{App, Pane};
use crate::tui::state::chart_summary::{selectable, summary_rows};

pub(super) fn toggle(app: &mut App) {
    app.review.summary_open = !app.review.summary_open;
    if app.review.summary_open {
        app.focus = Pane::Chart;
        app.detail = Pane::Chart;
        app.status = Some("要約パネル オン (↑↓ で選択、enter で根拠へ)".into());
    } else {
        app.status = Some("要約パネル オフ".into());
    }
}

/// After every action: the selected chart's summary is asked for once, while the panel is open.
pub(super) fn after_update(app: &mut App, effects: &mut Vec<Effect>) {
    if !app.review.summary_open {
        return;
    }
    let Some(chart) = app.selected_chart().cloned() else {
        return;
    };
    if app.review.summary_requested.insert(chart.id.clone()) {
        effects.push(Effect::SummarizeChart(chart));
    }
}

/// Keys for the panel while it is open and the chart pane has the focus; `None` lets the
/// key do what it does elsewhere.
pub(super) fn command(app: &mut App, command: Command) -> Option<Vec<Effect>> {
    if !app.review.summary_open || app.focus != Pane::Chart {
        return None;
    }
    let chart = app.selected_chart().cloned()?;
    let rows = summary_rows(app.review.summaries.get(&chart.id)?);
    let choices = selectable(&rows);
    if choices.is_empty() {
        return None;
    }
    let last = choices.len() - 1;
    let selected = app.review.summary_selected.min(last);
    match command {
        Command::MoveDown => app.review.summary_selected = (selected + 1).min(last),
        Command::MoveUp => app.review.summary_selected = selected.saturating_sub(1),
        Command::Open => {
            let row = &rows[choices[selected]];
            if row.sources.is_empty() {
                app.status = Some(format!("「{}」: 根拠の記録がありません", row.text));
            } else {
                let label = crate::tui::view::text::safe_line(&row.text);
                super::review::show_source(app, &chart, &row.sources, &label);
            }
        }
        _ => return None,
    }
    Some(Vec::new())
}
