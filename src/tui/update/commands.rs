//! Key commands: what each `Command` does to the state, given the focused pane.

use super::{draft_max_scroll, help_visible_lines, panes};
use crate::export::Format;
use crate::tui::action::Effect;
use crate::tui::input::command::Command;
use crate::tui::state::app::{App, ChartTab, MetricsView, Pane, Screen};
use crate::tui::state::document_state::DocumentKind;
use crate::tui::state::draft_view::DraftView;
use crate::tui::state::model_status::ModelState;

pub(super) fn command_effects(app: &mut App, command: Command) -> Vec<Effect> {
    if let Some(effects) = super::summary::command(app, command) {
        return effects;
    }
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
        Command::EditDraft if super::signing::refuse_edit_if_signed(app) => {}
        Command::Open if app.focus == Pane::Draft && super::signing::refuse_edit_if_signed(app) => {
        }
        Command::Open if app.focus == Pane::Draft => return super::opening::edit_draft(app),
        Command::EditDraft => return super::opening::edit_draft(app),
        Command::NewDocument => return super::opening::new_document(app),
        Command::AcceptSection => return super::sections::accept_section(app),
        Command::RevertSection => return super::sections::revert_section(app),
        Command::RegenerateSection => return super::sections::regenerate_section(app),
        Command::CycleSectionMode => return super::evidence::cycle_section_mode(app),
        Command::ShowEvidence => super::evidence::show_evidence(app),
        Command::TakeOverLock => return super::opening::take_over_lock(app),
        Command::ToggleGuardPanel => super::review::toggle_panel(app),
        Command::ToggleSummary => super::summary::toggle(app),
        Command::NextFlag => super::review::next_flag(app, true),
        Command::PrevFlag => super::review::next_flag(app, false),
        Command::JumpToSource => super::review::jump_to_source(app),
        Command::AcknowledgeFlag => return super::review::acknowledge(app),
        Command::Sign => super::signing::sign(app),
        Command::Amend => super::signing::amend(app),
        Command::ExportText => return super::signing::export(app, Format::Text),
        Command::ExportFhir => return super::signing::export(app, Format::Fhir),
        Command::ExportPdf => return super::signing::export(app, Format::Pdf),
        Command::CopyToClipboard => return super::signing::copy_to_clipboard(app),
        Command::Open => {
            if app.selected_row().is_some() {
                focus(app, Pane::Chart);
            }
        }
        // Esc while a draft streams in the draft pane stops it (the cancel key);
        // otherwise it goes back to the queue.
        Command::Back if app.focus == Pane::Draft && draft_generating(app) => {
            return cancel_draft(app)
        }
        Command::Back => focus(app, Pane::Queue),
        Command::NextTab => switch_tab(app, 1),
        Command::PrevTab => switch_tab(app, -1),
        Command::ShowNotes => show_tab(app, ChartTab::Notes),
        Command::ShowLabs => show_tab(app, ChartTab::Labs),
        Command::ShowPrescriptions => show_tab(app, ChartTab::Prescriptions),
        Command::GenerateDraft => return generate_draft(app),
        Command::CancelDraft => return cancel_draft(app),
        Command::ToggleHighlights => {
            app.highlights = !app.highlights;
            app.status = Some(
                if app.highlights {
                    "強調表示 オン"
                } else {
                    "強調表示 オフ"
                }
                .into(),
            );
        }
        Command::NextEntity => super::entity_jump::jump(app, true),
        Command::PrevEntity => super::entity_jump::jump(app, false),
        Command::ShowMetrics => {
            if app.screen == Screen::Metrics {
                app.screen = Screen::Review;
            } else {
                app.screen = Screen::Metrics;
                app.metrics = MetricsView::Loading;
                return vec![Effect::LoadMetrics];
            }
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
    if app.current_edit().is_some_and(|e| e.editor.is_some()) {
        let key = app
            .keymap
            .keys_for(Command::RegenerateSection)
            .first()
            .map(|k| format!(" ({k})"))
            .unwrap_or_default();
        app.status = Some(format!(
            "{}は編集中です — 書き直すときはセクションごとに再生成してください{key}",
            document.title()
        ));
        return Vec::new();
    }
    if let Some(refusal) = app.study.generation_refusal(&chart.id, document) {
        app.status = Some(refusal);
        return Vec::new();
    }
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

/// On the Metrics screen only leaving it (and help, quit) means anything.
pub(super) fn metrics_command(app: &mut App, command: Command) -> Vec<Effect> {
    match command {
        Command::ShowMetrics | Command::Back => {
            app.screen = Screen::Review;
            Vec::new()
        }
        Command::Quit | Command::ToggleHelp => command_effects(app, command),
        _ => Vec::new(),
    }
}

/// While the help is open, keys scroll or close it; nothing else happens underneath.
pub(super) fn help_command(app: &mut App, command: Command) -> Vec<Effect> {
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

fn draft_generating(app: &App) -> bool {
    app.current_draft().is_some_and(DraftView::is_generating)
}

fn cancel_draft(app: &mut App) -> Vec<Effect> {
    if let (Some(chart), true) = (app.selected_chart(), draft_generating(app)) {
        return vec![Effect::CancelDraft {
            chart_id: chart.id.clone(),
            document: app.draft_document,
        }];
    }
    app.status = Some("生成中の下書きはありません".into());
    Vec::new()
}
