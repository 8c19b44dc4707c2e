//! The terminal front end. Structure (ratatui's component template, helix, gitui):
//! - [`action`]: `Action` (everything that can happen) and `Effect` (what the loop must do);
//! - [`app`]: the screen state; [`update`]: the only code that changes it;
//! - [`view`]: draws the state, one file per pane; [`layout`]: where panes go;
//! - [`event_loop`]: terminal events, signals and background workers ([`queue_worker`],
//!   [`services`]: model engine, drafting, [`entity_worker`]: highlights) → actions;
//! - [`metrics_hooks`]: the edit-time recorder fed from the same actions; [`study_arms`]:
//!   time-study arms (manual arm: blank template, no generation; arm in the status bar);
//! - [`draft_view`]: a streaming draft as shown; [`model_status`]: the model's load state;
//! - reviewing: [`guard_worker`] (provenance guard + chart summary, off the UI thread),
//!   [`review_state`] (reports, acknowledgements, signed versions), [`review_service`]
//!   (sign, acknowledge, export, OSC 52 — on the document thread / event loop),
//!   [`chart_summary`] (the summary panel's rows);
//! - [`keymap`] + [`command`]: configurable keys; [`theme`]: TOML themes; [`text`]: safe,
//!   width-aware text; [`terminal`]: entering/restoring the terminal; [`logging`]: log file.

pub mod action;
pub mod app;
pub mod chart_summary;
pub mod color_support;
pub mod command;
pub mod document_edit;
pub mod document_service;
pub mod document_state;
pub mod draft_view;
pub mod draft_worker;
pub mod edit_keys;
pub mod entity_worker;
pub mod event_loop;
pub mod guard_worker;
pub mod keymap;
pub mod layout;
pub mod logging;
pub mod metrics_hooks;
pub mod metrics_worker;
pub mod model_status;
pub mod queue_worker;
pub mod review_service;
pub mod review_state;
pub mod services;
pub mod study_arms;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod update;
pub mod view;

pub mod metrics_tab;

use crate::cli::Context;
use anyhow::Context as _;
use app::App;
use keymap::Keymap;
use model_status::ModelStatus;
use services::Services;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;
use theme::{ColorSupport, Theme};

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
    let (study, study_problem) = study_arms::StudySetting::for_session(&ctx);
    app.study = study;
    app.status = app.status.take().or(study_problem);
    if app.model.state == model_status::ModelState::NotLoaded {
        // `Services::connect` starts loading it right away.
        app.model.state = model_status::ModelState::Loading { progress: 0.0 };
    }
    let queue_dir = ctx.queue_dir.clone();
    let connect = |actions: &services::ActionSender| Services::connect(&ctx, actions);
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
