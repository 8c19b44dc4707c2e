//! The terminal front end, by layer (ratatui's component template, helix, gitui):
//! - [`action`]: `Action` (everything that can happen) and `Effect` (what the loop must do);
//! - [`state`]: what is on screen (`App`, documents being edited, drafts, review state);
//! - [`input`]: commands, the keymap, edit keys, key events → actions;
//! - [`update`]: the only code that changes the state (pure, no I/O);
//! - [`view`]: draws the state — every pane, the metrics screen, layout, text, theme;
//! - [`workers`]: every background job (queue, model, drafting, entities, guard, documents,
//!   metrics), each answering with `Action`s so the UI never waits;
//! - [`event_loop`]: terminal events, signals and worker answers → `update` → effects;
//!   [`terminal`]: entering/restoring the terminal; [`logging`]: the log file.

pub mod action;
pub mod event_loop;
pub mod input;
pub mod logging;
pub mod state;
pub mod terminal;
pub mod update;
pub mod view;
pub mod workers;

// What the tests and other front-end code use, so they need not know the folder layout.
pub use action::{Action, Effect, EntityTarget, QueueRow};
pub use event_loop::Exit;
pub use input::command::Command;
pub use input::edit_keys::EditKey;
pub use input::keymap::Keymap;
pub use input::translate::translate;
pub use state::app::{App, Pane};
pub use state::chart_summary::{certainty_label, selectable, summary_rows, RowKind};
pub use state::document_state::{DocRef, DocumentKind, DocumentState};
pub use state::draft_view::{DraftEvent, SectionStart};
pub use state::model_status::{ModelState, ModelStatus};
pub use state::review::{editor_ranges, guard_sections, SignState};
pub use state::study_arms::StudySetting;
pub use update::update;
pub use view::guard_panel::editor_marks;
pub use view::layout::Panes;
pub use view::metrics_screen::{draw_metrics_message, draw_metrics_tab};
pub use view::text;
pub use view::theme::{EntityKind, Theme, UiPart};
pub use view::view;
pub use workers::document::DocumentService;
pub use workers::draft::{section_sources, DraftWorker};
pub use workers::guard::{GuardRequest, GuardRunner};
pub use workers::metrics_hooks::{events_for, BeforeAction, EventTarget, HookState, MetricsHooks};
/// The disk side of reviewing (sign, acknowledge, export), as the event loop calls it.
pub use workers::review;
pub use workers::review::mark_accepted;
pub use workers::DraftService;

use crate::context::Context;
use anyhow::Context as _;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;
use view::theme::ColorSupport;
use workers::Services;

/// Opens the review TUI on the queue and runs until the user quits or a signal arrives.
pub fn run(ctx: Context) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the review screen needs a terminal (stdin and stdout); for scripts use a subcommand, see karte --help");
    }
    let _log_guard = logging::init(&ctx.paths)?;
    let keymap = Keymap::with_overrides(&ctx.config.keys)
        .with_context(|| format!("in the config file {}", ctx.config_path.display()))?;
    let colors = ColorSupport::detect();
    let theme = Theme::select(
        ctx.config.theme.as_deref(),
        Some(&ctx.paths.config_dir.join("themes")),
        colors,
    )?;
    tracing::info!(theme = %theme.name, ?colors, "starting the review screen");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;

    let mut guard = terminal::enter().context("cannot switch the terminal to full-screen mode")?;
    let size = guard.screen.size()?;
    let mut app = App::new(
        keymap,
        theme,
        ctx.queue_dir.clone(),
        ModelStatus::probe(&ctx.model_path),
        size.width,
        size.height,
    );
    app.review.signer = crate::store::signer_name(&ctx.config);
    let (study, study_problem) = StudySetting::for_session(&ctx);
    app.study = study;
    app.status = app.status.take().or(study_problem);
    match crate::draft::DocumentTemplates::load(&ctx.paths.config_dir) {
        Ok(templates) => app.templates = templates,
        Err(error) => {
            // The built-ins stay; drafting reads the same file and says the same.
            tracing::warn!("document templates: {error}");
            let problem =
                format!("文書テンプレートを使えません (標準のテンプレートで続けます): {error}");
            app.status = app.status.take().or(Some(problem));
        }
    }
    if app.model.state == ModelState::NotLoaded {
        // `Services::connect` starts loading it right away.
        app.model.state = ModelState::Loading { progress: 0.0 };
    }
    let queue_dir = ctx.queue_dir.clone();
    let connect = |actions: &workers::ActionSender| Services::connect(&ctx, actions);
    let (result, mut services) =
        runtime.block_on(event_loop::run(&mut guard.screen, app, queue_dir, connect));
    // Restore before anything else can print (errors, the shell prompt) or take time.
    drop(guard);
    // The metrics first: the engine may take its time stopping, the events must not wait.
    let metrics_written = services.metrics_hooks.finish(METRICS_FLUSH_WAIT);
    tracing::info!(metrics_written, "terminal restored, metrics flushed");
    stop_services(services);
    tracing::info!("workers stopped");
    runtime.shutdown_timeout(Duration::from_millis(200));
    let exit = result?;
    tracing::info!(?exit, "review screen closed");
    Ok(exit.code())
}

/// How long quitting waits for the metrics writer to commit what is buffered.
const METRICS_FLUSH_WAIT: Duration = Duration::from_secs(2);

/// How long quitting waits for workers (the model engine finishing a step) to stop.
const STOP_WAIT: Duration = Duration::from_secs(3);

/// Stops the workers, but never lets a stuck one keep the process alive: after `STOP_WAIT`
/// the process exits anyway (the OS frees what they hold).
fn stop_services(mut services: Services) {
    // The open document first (journal saved, chart lock released, session audited), so a
    // model engine slow to stop cannot leave the lock behind.
    if let Some(documents) = services.documents.take() {
        stop_within(documents, "the document thread");
        tracing::info!("document closed");
    }
    stop_within(services, "the workers");
}

/// Drops `value` on a thread of its own, waiting at most `STOP_WAIT`.
fn stop_within<T: Send + 'static>(value: T, what: &str) {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("karte-stop".into())
        .spawn(move || {
            drop(value);
            let _ = done_tx.send(());
        });
    if spawned.is_ok() && done_rx.recv_timeout(STOP_WAIT).is_err() {
        tracing::warn!("{what} did not stop within {STOP_WAIT:?}; exiting anyway");
    }
}
