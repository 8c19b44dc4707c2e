//! `update`: the only place the screen state changes. Takes one `Action`, returns the
//! `Effect`s the event loop must carry out. No I/O here, so every behaviour is testable.

use super::action::{Action, Effect, QueueRow};
use super::app::{App, ChartTab, Pane};
use super::command::Command;
use super::document_state::DocumentKind;
use super::layout::Panes;
use super::view;
use ratatui::layout::Rect;

pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    let effects = match action {
        Action::Command(command) if app.help_open => help_command(app, command),
        Action::Command(command) => command_effects(app, command),
        Action::Resize { width, height } => {
            app.width = width;
            app.height = height;
            Vec::new()
        }
        Action::QueueLoaded(rows) => {
            queue_loaded(app, rows);
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
    };
    keep_in_bounds(app);
    effects
}

fn command_effects(app: &mut App, command: Command) -> Vec<Effect> {
    match command {
        Command::Quit => {
            app.should_quit = true;
            return vec![Effect::Quit];
        }
        Command::ToggleHelp => {
            app.help_open = true;
            app.help_scroll = 0;
        }
        Command::FocusNext => focus(
            app,
            match app.focus {
                Pane::Queue => Pane::Chart,
                Pane::Chart => Pane::Draft,
                Pane::Draft => Pane::Queue,
            },
        ),
        Command::FocusPrev => focus(
            app,
            match app.focus {
                Pane::Queue => Pane::Draft,
                Pane::Chart => Pane::Queue,
                Pane::Draft => Pane::Chart,
            },
        ),
        Command::MoveDown => move_by(app, 1),
        Command::MoveUp => move_by(app, -1),
        Command::PageDown => move_by(app, page(app)),
        Command::PageUp => move_by(app, -page(app)),
        Command::GoTop => move_by(app, isize::MIN / 2),
        Command::GoBottom => move_by(app, isize::MAX / 2),
        Command::Open => {
            if app.selected_row().is_some() {
                focus(app, Pane::Chart);
            }
        }
        Command::Back => focus(app, Pane::Queue),
        Command::NextTab => switch_tab(app, 1),
        Command::PrevTab => switch_tab(app, -1),
        Command::ShowNotes => show_tab(app, ChartTab::Notes),
        Command::ShowLabs => show_tab(app, ChartTab::Labs),
        Command::ShowPrescriptions => show_tab(app, ChartTab::Prescriptions),
        Command::GenerateDraft => {
            app.status = Some(match app.selected_chart() {
                Some(_) => format!(
                    "{}の下書き生成はまだ接続されていません (llm/draft 待ち)",
                    app.draft_document.title()
                ),
                None => "カルテを読み込めた患者を選んでください".into(),
            });
        }
        Command::Rescan => {
            app.status = Some("キューを読み直しています…".into());
            return vec![Effect::Rescan];
        }
    }
    Vec::new()
}

/// While the help is open, keys scroll or close it; nothing else happens underneath.
fn help_command(app: &mut App, command: Command) -> Vec<Effect> {
    let page = isize::try_from(help_visible_lines(app)).unwrap_or(1).max(1);
    let delta = match command {
        Command::ToggleHelp | Command::Back | Command::Quit => {
            app.help_open = false;
            return Vec::new();
        }
        Command::MoveDown => 1,
        Command::MoveUp => -1,
        Command::PageDown => page,
        Command::PageUp => -page,
        Command::GoTop => isize::MIN / 2,
        Command::GoBottom => isize::MAX / 2,
        _ => 0,
    };
    app.help_scroll = app.help_scroll.saturating_add_signed(delta);
    Vec::new()
}

fn focus(app: &mut App, pane: Pane) {
    app.focus = pane;
    if pane != Pane::Queue {
        app.detail = pane;
    }
}

fn panes(app: &App) -> Panes {
    Panes::compute(
        Rect::new(0, 0, app.width, app.height),
        app.detail,
        app.rows().len(),
    )
}

fn page(app: &App) -> isize {
    let panes = panes(app);
    let rows = match app.focus {
        Pane::Queue => panes.queue_visible_rows(),
        Pane::Chart => panes.chart_body().1,
        Pane::Draft => panes.draft_body().1,
    };
    isize::try_from(rows.saturating_sub(1)).unwrap_or(1).max(1)
}

fn move_by(app: &mut App, delta: isize) {
    match app.focus {
        Pane::Queue => {
            let before = app.selected;
            app.selected = app.selected.saturating_add_signed(delta);
            app.selected = app.selected.min(app.rows().len().saturating_sub(1));
            if app.selected != before {
                app.chart_scroll = 0;
                app.draft_scroll = 0;
            }
        }
        Pane::Chart => app.chart_scroll = app.chart_scroll.saturating_add_signed(delta),
        Pane::Draft => app.draft_scroll = app.draft_scroll.saturating_add_signed(delta),
    }
}

fn switch_tab(app: &mut App, step: isize) {
    if app.focus == Pane::Draft {
        let index = DocumentKind::ALL
            .iter()
            .position(|k| *k == app.draft_document)
            .unwrap_or(0);
        let next = (index as isize + step).rem_euclid(DocumentKind::ALL.len() as isize);
        app.draft_document = DocumentKind::ALL[next as usize];
        app.draft_scroll = 0;
    } else {
        let index = ChartTab::ALL
            .iter()
            .position(|t| *t == app.chart_tab)
            .unwrap_or(0);
        let next = (index as isize + step).rem_euclid(ChartTab::ALL.len() as isize);
        show_tab(app, ChartTab::ALL[next as usize]);
    }
}

fn show_tab(app: &mut App, tab: ChartTab) {
    if app.chart_tab != tab {
        app.chart_tab = tab;
        app.chart_scroll = 0;
    }
    if app.focus == Pane::Draft {
        focus(app, Pane::Chart);
    }
    app.detail = Pane::Chart;
}

/// Keeps the selection on the same file across rescans (files may appear before it).
fn queue_loaded(app: &mut App, rows: Vec<QueueRow>) {
    let previous = app.selected_row().map(|r| r.file_name.clone());
    let first_load = app.rows.is_none();
    app.queue_problem = None;
    app.rows = Some(rows);
    if let Some(name) = previous {
        match app.rows().iter().position(|r| r.file_name == name) {
            Some(index) => app.selected = index,
            None => {
                app.chart_scroll = 0;
                app.draft_scroll = 0;
            }
        }
    }
    if !first_load {
        app.status = Some(format!("キューを更新しました ({}件)", app.rows().len()));
    }
}

fn help_visible_lines(app: &App) -> usize {
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
            view::chart_body_lines(c, app.chart_tab, chart_width, &app.theme).len()
        });
        app.chart_scroll = app
            .chart_scroll
            .min(chart_lines.saturating_sub(chart_height));
    }
    if panes.draft.is_some() {
        let (draft_width, draft_height) = panes.draft_body();
        let draft_lines = view::draft_body_lines(app, draft_width).len();
        app.draft_scroll = app
            .draft_scroll
            .min(draft_lines.saturating_sub(draft_height));
    }
    if app.help_open {
        let area = Rect::new(0, 0, app.width, app.height);
        let count = view::help_lines(app, view::help_width(area)).len();
        app.help_scroll = app
            .help_scroll
            .min(count.saturating_sub(help_visible_lines(app)));
    }
}
