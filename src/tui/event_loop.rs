//! The event loop: terminal events, background notifications and signals become `Action`s;
//! `update` turns them into state and `Effect`s; the screen is redrawn once per batch.
//! Slow work (queue scans, later model inference) runs elsewhere and reports back through
//! the action channel, so the UI never waits.

use super::action::{Action, Effect};
use super::app::App;
use super::metrics_hooks::BeforeAction;
use super::services::Services;
use super::terminal::Screen;
use super::{queue_worker, update, view};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    /// SIGTERM, SIGHUP (the SSH connection dropped) or SIGINT from outside.
    Signal(i32),
    /// The terminal stopped delivering input.
    TerminalClosed,
}

impl Exit {
    pub fn code(self) -> ExitCode {
        match self {
            Exit::Quit => ExitCode::SUCCESS,
            Exit::Signal(n) => ExitCode::from(u8::try_from(128 + n).unwrap_or(1)),
            Exit::TerminalClosed => ExitCode::FAILURE,
        }
    }
}

/// Runs the screen until quit or a signal. `connect` builds the workers once the runtime
/// is up; they report back on the sender it is given. The workers are handed back so the
/// caller can restore the terminal before stopping them (stopping may take a moment).
pub async fn run(
    screen: &mut Screen,
    app: App,
    queue_dir: PathBuf,
    connect: impl FnOnce(&UnboundedSender<Action>) -> Services,
) -> (anyhow::Result<Exit>, Services) {
    let (actions, action_rx) = unbounded_channel::<Action>();
    let rescan = queue_worker::spawn(queue_dir, actions.clone());
    let mut services = connect(&actions);
    let exit = run_loop(screen, app, action_rx, &mut services, &rescan, &actions).await;
    services
        .metrics_hooks
        .session_ended(exit.as_ref().ok().copied());
    (exit, services)
}

async fn run_loop(
    screen: &mut Screen,
    mut app: App,
    mut action_rx: UnboundedReceiver<Action>,
    services: &mut Services,
    rescan: &UnboundedSender<()>,
    actions: &UnboundedSender<Action>,
) -> anyhow::Result<Exit> {
    let mut terminal_events = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;

    screen.draw(|frame| view::view(&app, frame))?;
    loop {
        let first = tokio::select! {
            event = terminal_events.next() => match event {
                Some(Ok(event)) => translate(&app, event),
                Some(Err(error)) => {
                    tracing::warn!("terminal input failed: {error}");
                    return Ok(Exit::TerminalClosed);
                }
                None => return Ok(Exit::TerminalClosed),
            },
            Some(action) = action_rx.recv() => Some(action),
            _ = sigterm.recv() => return Ok(Exit::Signal(libc::SIGTERM)),
            _ = sighup.recv() => return Ok(Exit::Signal(libc::SIGHUP)),
            _ = sigint.recv() => return Ok(Exit::Signal(libc::SIGINT)),
        };
        let Some(first) = first else {
            continue; // an unbound key or an ignored event: nothing changed, no redraw
        };
        // Take everything already waiting (e.g. a burst of streamed tokens) before drawing.
        let mut batch = vec![first];
        while let Ok(action) = action_rx.try_recv() {
            batch.push(action);
        }
        for action in batch {
            for observer in &mut services.observers {
                observer.observe(&action, &app);
            }
            // The metrics hooks need the state before and after, and the effects.
            let before = BeforeAction::of(&app, &action);
            let effects = update::update(&mut app, action);
            services.metrics_hooks.observe(&before, &app, &effects);
            for effect in effects {
                if effect == Effect::Quit {
                    return Ok(Exit::Quit);
                }
                carry_out(effect, services, rescan, actions);
            }
        }
        if let Some(warning) = services.metrics_hooks.warning_change() {
            update::update(&mut app, Action::MetricsHealth(warning));
        }
        screen.draw(|frame| view::view(&app, frame))?;
    }
}

/// Hands an effect to the worker that does it.
fn carry_out(
    effect: Effect,
    services: &mut Services,
    rescan: &UnboundedSender<()>,
    actions: &UnboundedSender<Action>,
) {
    match effect {
        // Recorded by the metrics hooks, which see every effect.
        Effect::Quit | Effect::DraftEdited(_) => {}
        Effect::Rescan => {
            let _ = rescan.send(());
        }
        Effect::GenerateDraft { chart, document } => match services.drafts.as_mut() {
            Some(drafts) => drafts.generate(chart, document, actions.clone()),
            None => {
                let _ = actions.send(Action::Status(format!(
                    "{}の下書き生成はまだ接続されていません",
                    document.title()
                )));
            }
        },
        Effect::CancelDraft { chart_id, document } => {
            if let Some(drafts) = services.drafts.as_mut() {
                drafts.cancel(&chart_id, document);
            }
        }
        Effect::AnalyzeText { target, text } => {
            if let Some(entities) = services.entities.as_mut() {
                entities.analyze_text(target, text, actions.clone());
            }
        }
        Effect::LoadMetrics => match &services.metrics {
            Some(loader) => loader.spawn(actions.clone()),
            None => {
                let _ = actions.send(Action::MetricsLoaded(Err(
                    "計測データの読み込みは接続されていません".into(),
                )));
            }
        },
        Effect::AnalyzeChart(chart) => {
            if let Some(entities) = services.entities.as_mut() {
                entities.analyze(chart, actions.clone());
            }
        }
    }
}

/// A terminal event as an action, if it means anything here.
fn translate(app: &App, event: Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => {
            app.keymap.command_for(&key).map(Action::Command)
        }
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}
