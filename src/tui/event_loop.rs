//! The event loop: terminal events, background notifications and signals become `Action`s;
//! `update` turns them into state and `Effect`s; the screen is redrawn once per batch.
//! Slow work (queue scans, later model inference) runs elsewhere and reports back through
//! the action channel, so the UI never waits.

use super::action::{Action, Effect};
use super::app::App;
use super::terminal::Screen;
use super::{queue_worker, update, view};
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use std::path::PathBuf;
use std::process::ExitCode;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

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

/// Channels background work uses to reach the UI (clone the sender for each producer).
pub struct Channels {
    pub actions: UnboundedSender<Action>,
}

pub async fn run(screen: &mut Screen, mut app: App, queue_dir: PathBuf) -> anyhow::Result<Exit> {
    let (action_tx, mut action_rx) = unbounded_channel::<Action>();
    let channels = Channels { actions: action_tx };
    let rescan = queue_worker::spawn(queue_dir, channels.actions.clone());
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
            for effect in update::update(&mut app, action) {
                match effect {
                    Effect::Quit => return Ok(Exit::Quit),
                    Effect::Rescan => {
                        let _ = rescan.send(());
                    }
                }
            }
        }
        screen.draw(|frame| view::view(&app, frame))?;
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
