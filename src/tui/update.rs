//! `update`: the only place the screen state changes. Takes one `Action`, returns the
//! `Effect`s the event loop must carry out. No I/O here, so every behaviour is testable.

use super::action::{Action, Effect, EntityTarget, QueueRow};
use super::app::{App, ChartTab, Pane};
use super::command::Command;
use super::document_state::{DocumentKind, DocumentState};
use super::draft_view::{DraftEvent, DraftView};
use super::layout::Panes;
use super::model_status::ModelState;
use super::view;
use ratatui::layout::Rect;

pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    let mut effects = match action {
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
        Action::Model(state) => {
            app.model.state = state;
            Vec::new()
        }
        Action::Draft {
            chart_id,
            document,
            event,
        } => {
            draft_event(app, chart_id, document, event);
            Vec::new()
        }
        Action::Entities { target, entities } => {
            entities_found(app, target, entities);
            Vec::new()
        }
    };
    keep_in_bounds(app);
    // Each chart is sent for entity extraction once, when it is first shown.
    if let Some(chart) = app.selected_chart().cloned() {
        if app.analyzed.insert(chart.id.clone()) {
            effects.push(Effect::AnalyzeChart(chart));
        }
    }
    effects
}

fn draft_event(app: &mut App, chart_id: String, document: DocumentKind, event: DraftEvent) {
    let is_current =
        app.selected_chart().is_some_and(|c| c.id == chart_id) && app.draft_document == document;
    let state = match &event {
        DraftEvent::Started { .. } => Some(DocumentState::Drafting),
        DraftEvent::Finished => Some(DocumentState::InReview),
        _ => None,
    };
    match &event {
        DraftEvent::Finished => {
            app.status = Some(format!(
                "{}の下書きができました — 確認してください",
                document.title()
            ))
        }
        DraftEvent::Failed { message } => {
            app.status = Some(format!("{}の下書きに失敗: {message}", document.title()))
        }
        DraftEvent::Cancelled => {
            app.status = Some(format!("{}の下書きを中止しました", document.title()))
        }
        _ => {}
    }
    let key = (chart_id.clone(), document);
    match event {
        DraftEvent::Started { sections } => {
            app.drafts.insert(key, DraftView::new(sections));
            if is_current {
                app.draft_scroll = 0;
                app.draft_follow = true;
            }
        }
        other => {
            if let Some(view) = app.drafts.get_mut(&key) {
                view.apply(other);
            }
        }
    }
    if let Some(state) = state {
        app.documents
            .entry(chart_id)
            .or_default()
            .set(document, state);
    }
}

fn entities_found(app: &mut App, target: EntityTarget, entities: Vec<crate::nlp::Entity>) {
    match &target {
        EntityTarget::Note { .. } => {
            app.note_entities.insert(target, entities);
        }
        EntityTarget::DraftSection {
            chart_id,
            document,
            section,
        } => {
            if let Some(s) = app
                .drafts
                .get_mut(&(chart_id.clone(), *document))
                .and_then(|d| d.sections.get_mut(*section))
            {
                s.entities = entities;
            }
        }
    }
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
        Command::GenerateDraft => return generate_draft(app),
        Command::CancelDraft => {
            if let (Some(chart), true) = (
                app.selected_chart(),
                app.current_draft().is_some_and(DraftView::is_generating),
            ) {
                return vec![Effect::CancelDraft {
                    chart_id: chart.id.clone(),
                    document: app.draft_document,
                }];
            }
            app.status = Some("生成中の下書きはありません".into());
        }
        Command::Rescan => {
            app.status = Some("キューを読み直しています…".into());
            return vec![Effect::Rescan];
        }
    }
    Vec::new()
}

fn generate_draft(app: &mut App) -> Vec<Effect> {
    let Some(chart) = app.selected_chart().cloned() else {
        app.status = Some("カルテを読み込めた患者を選んでください".into());
        return Vec::new();
    };
    let document = app.draft_document;
    if app.current_draft().is_some_and(DraftView::is_generating) {
        app.status = Some(format!("{}を生成中です", document.title()));
        return Vec::new();
    }
    if matches!(
        app.model.state,
        ModelState::Missing | ModelState::Failed { .. }
    ) {
        app.status = Some(app.model.describe());
        return Vec::new();
    }
    focus(app, Pane::Draft);
    app.draft_scroll = 0;
    app.draft_follow = true;
    app.status = Some(format!("{}の下書きを依頼しました", document.title()));
    vec![Effect::GenerateDraft { chart, document }]
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
                app.draft_follow = true;
            }
        }
        Pane::Chart => app.chart_scroll = app.chart_scroll.saturating_add_signed(delta),
        Pane::Draft => {
            app.draft_scroll = app.draft_scroll.saturating_add_signed(delta);
            // Scrolling up stops following a streaming draft; reaching the end resumes it.
            app.draft_follow = delta > 0 && app.draft_scroll >= draft_max_scroll(app);
        }
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
        app.draft_follow = true;
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

fn draft_max_scroll(app: &App) -> usize {
    let (width, height) = panes(app).draft_body();
    view::draft_body_lines(app, width)
        .len()
        .saturating_sub(height)
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
            view::chart_body_lines(app, c, app.chart_tab, chart_width).len()
        });
        app.chart_scroll = app
            .chart_scroll
            .min(chart_lines.saturating_sub(chart_height));
    }
    if panes.draft.is_some() {
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
