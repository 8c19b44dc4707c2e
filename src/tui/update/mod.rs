//! `update`: the only place the screen state changes. Takes one `Action`, returns the
//! `Effect`s the event loop must carry out. No I/O here, so every behaviour is testable.
//! Key commands are in `commands`, background notifications (queue, drafts, entities) in
//! `background`; this file dispatches and keeps offsets within what is on screen.

mod background;
mod commands;
mod editing;
mod entity_jump;
mod evidence;
mod opening;
mod review;
mod sections;
mod signing;
mod summary;

pub use signing::local_time as signed_time;

use crate::tui::action::{Action, Effect, EntityTarget};
use crate::tui::state::app::{App, MetricsView, Pane, Screen};
use crate::tui::state::document_state::{DocRef, DocumentKind};
use crate::tui::state::draft_view::{DraftEvent, DraftView};
use crate::tui::view;
use crate::tui::view::layout::Panes;
use ratatui::layout::Rect;

pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    if matches!(action, Action::Command(_)) {
        // A message answers the last thing done; the next key starts afresh.
        app.status = None;
    }
    let mut effects = match action {
        Action::Command(command) if app.help_open => commands::help_command(app, command),
        Action::Command(_) if app.recovery.is_some() || app.review.sign_prompt.is_some() => {
            Vec::new()
        }
        Action::Command(command) if app.screen == Screen::Metrics => {
            commands::metrics_command(app, command)
        }
        Action::Command(command) => commands::command_effects(app, command),
        Action::Resize { width, height } => {
            app.width = width;
            app.height = height;
            Vec::new()
        }
        Action::QueueLoaded(rows) => {
            background::queue_loaded(app, rows);
            Vec::new()
        }
        Action::QueueUnavailable(problem) => {
            app.queue_problem = Some(problem);
            app.rows = Some(Vec::new());
            app.selected = 0;
            Vec::new()
        }
        Action::DocumentStateChanged {
            chart_id,
            kind,
            state,
        } => {
            app.documents.entry(chart_id).or_default().set(kind, state);
            Vec::new()
        }
        Action::Status(message) => {
            app.status = Some(message);
            Vec::new()
        }
        Action::Model(state) => {
            app.model.state = state;
            Vec::new()
        }
        Action::Draft {
            chart_id,
            document,
            event,
        } => {
            let finished_section = match &event {
                DraftEvent::SectionDone { section, .. } => Some(*section),
                _ => None,
            };
            background::draft_event(app, chart_id.clone(), document, event);
            finished_section
                .and_then(|section| analyze_draft_section(app, chart_id, document, section))
                .into_iter()
                .collect()
        }
        Action::MetricsHealth(warning) => {
            app.metrics_warning = warning;
            Vec::new()
        }
        Action::MetricsLoaded(result) => {
            app.metrics = match result {
                Ok(report) => MetricsView::Ready(report),
                Err(message) => MetricsView::Unavailable(message),
            };
            Vec::new()
        }
        Action::Entities { target, entities } => {
            background::entities_found(app, target, entities);
            Vec::new()
        }
        Action::Edit(key) if app.is_editing() => editing::edit_key(app, key),
        Action::Edit(_) => Vec::new(),
        Action::Paste(text) => editing::paste(app, text),
        Action::RecoveryChoice(restore) => opening::recovery_choice(app, restore),
        Action::DocumentOpened {
            chart_id,
            document,
            opened,
        } => opening::document_opened(app, chart_id, document, opened),
        Action::GuardChecked {
            chart_id,
            document,
            sections,
            report,
            micros,
        } => {
            review::guard_checked(
                app,
                DocRef::new(chart_id, document),
                sections,
                report,
                micros,
            );
            Vec::new()
        }
        Action::SignAnswer(yes) => signing::sign_answer(app, yes),
        Action::ChartSummary { chart_id, summary } => {
            app.review.summaries.insert(chart_id, summary);
            Vec::new()
        }
        Action::Signed {
            chart_id,
            document,
            result,
        } => signing::signed(app, DocRef::new(chart_id, document), result),
        Action::SignedVersion {
            chart_id,
            document,
            signed,
            unsigned_changes,
            acknowledged,
        } => {
            signing::signed_version(
                app,
                DocRef::new(chart_id, document),
                signed,
                unsigned_changes,
                acknowledged,
            );
            Vec::new()
        }
        Action::JournalHealth(problem) => {
            app.journal_problem = problem;
            Vec::new()
        }
        Action::SectionRegenerated {
            chart_id,
            document,
            heading,
            result,
        } => sections::section_regenerated(app, chart_id, document, heading, result),
    };
    if app.edit_mode && !app.is_editing() && app.recovery.is_none() && !app.help_open {
        // Focus moved away or the document changed: keys are commands again.
        app.edit_mode =
            app.focus == Pane::Draft && app.current_edit().is_some_and(|e| e.editor.is_some());
    }
    crate::tui::state::study_arms::prepare_blank_draft(app);
    review::after_update(app, &mut effects);
    summary::after_update(app, &mut effects);
    keep_in_bounds(app);
    // Each chart is sent for entity extraction once, when it is first shown.
    if let Some(chart) = app.selected_chart().cloned() {
        if app.analyzed.insert(chart.id.clone()) {
            effects.push(Effect::AnalyzeChart(chart));
        }
    }
    effects
}

/// A finished draft section is sent for entity extraction, so it is highlighted like notes.
fn analyze_draft_section(
    app: &App,
    chart_id: String,
    document: DocumentKind,
    section: usize,
) -> Option<Effect> {
    let text = app
        .drafts
        .get(&DocRef::new(chart_id.clone(), document))?
        .sections
        .get(section)?
        .text
        .clone();
    (!text.is_empty()).then_some(Effect::AnalyzeText {
        target: EntityTarget::DraftSection {
            chart_id,
            document,
            section,
        },
        text,
    })
}

pub(super) fn panes(app: &App) -> Panes {
    Panes::compute(
        Rect::new(0, 0, app.width, app.height),
        app.detail,
        app.rows().len(),
    )
    .with_guard_panel(app.review.panel_open)
    .with_summary_panel(app.review.summary_open)
}

pub(super) fn draft_max_scroll(app: &App) -> usize {
    let (width, height) = panes(app).draft_body();
    view::draft_body_lines(app, width)
        .len()
        .saturating_sub(height)
}

pub(super) fn help_visible_lines(app: &App) -> usize {
    let area = Rect::new(0, 0, app.width, app.height);
    let count = view::help_lines(app, view::help_width(area)).len();
    usize::from(view::help_area(area, count).height.saturating_sub(2))
}

/// Clamps selection and scroll offsets to what exists at the current size, so a key press
/// past the end never leaves an invisible offset behind.
fn keep_in_bounds(app: &mut App) {
    let rows = app.rows().len();
    app.selected = app.selected.min(rows.saturating_sub(1));
    let panes = panes(app);
    let visible = panes.queue_visible_rows().max(1);
    if app.selected < app.queue_offset {
        app.queue_offset = app.selected;
    } else if app.selected >= app.queue_offset + visible {
        app.queue_offset = app.selected + 1 - visible;
    }
    app.queue_offset = app.queue_offset.min(rows.saturating_sub(visible));

    // A hidden pane keeps its offset; it is clamped when it shows again.
    if panes.chart.is_some() {
        let (chart_width, chart_height) = panes.chart_body();
        let chart_lines = app.selected_chart().map_or(0, |c| {
            view::chart_body_lines(app, c, app.chart_tab, chart_width).len()
        });
        app.chart_scroll = app
            .chart_scroll
            .min(chart_lines.saturating_sub(chart_height));
    }
    if let (Some(_), Some(line)) = (
        panes.draft,
        view::draft_cursor_line(app, panes.draft_body().0),
    ) {
        let height = panes.draft_body().1.max(1);
        if line < app.draft_scroll {
            app.draft_scroll = line;
        } else if line >= app.draft_scroll + height {
            app.draft_scroll = line + 1 - height;
        }
        app.draft_scroll = app.draft_scroll.min(draft_max_scroll(app));
    } else if panes.draft.is_some() {
        let max = draft_max_scroll(app);
        let streaming = app.current_draft().is_some_and(DraftView::is_generating);
        app.draft_scroll = if app.draft_follow && streaming {
            max
        } else {
            app.draft_scroll.min(max)
        };
    }
    if app.help_open {
        let area = Rect::new(0, 0, app.width, app.height);
        let count = view::help_lines(app, view::help_width(area)).len();
        app.help_scroll = app
            .help_scroll
            .min(count.saturating_sub(help_visible_lines(app)));
    }
}
