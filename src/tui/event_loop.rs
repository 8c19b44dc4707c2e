//! The event loop: terminal events, background notifications and signals become `Action`s;
//! `update` turns them into state and `Effect`s; the screen is redrawn once per batch.
//! Slow work (queue scans, later model inference) runs elsewhere and reports back through
//! the action channel, so the UI never waits.

use crate::tui::action::{Action, Effect, OpenedDocument};
use crate::tui::input::translate;
use crate::tui::state::app::App;
use crate::tui::state::document_edit::Access;
use crate::tui::state::document_state::DocumentKind;
use crate::tui::terminal::Screen;
use crate::tui::workers::metrics_hooks::BeforeAction;
use crate::tui::workers::Services;
use crate::tui::workers::{guard, queue, review};
use crate::tui::{update, view};
use crossterm::event::EventStream;
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
    let rescan = queue::spawn(queue_dir, actions.clone());
    let mut services = connect(&actions);
    let exit = run_loop(screen, app, action_rx, &mut services, &rescan, &actions).await;
    let how = match &exit {
        Ok(Exit::Quit) => "quit",
        Ok(Exit::Signal(signal)) if *signal != libc::SIGHUP => "signal",
        _ => "disconnect",
    };
    if how == "disconnect" {
        // Nothing can be shown any more; nothing must fail (and panic) writing to it.
        super::terminal::restore();
        super::terminal::detach_from_terminal();
    }
    tracing::info!(how, "session ending");
    // Quit, SIGTERM, SIGHUP: the journal reaches the disk before the process ends.
    if let Some(documents) = services.documents.as_ref() {
        documents.run(Box::new(move |service| {
            service.session_ended(how);
            None
        }));
        if let Err(error) = documents.flush(FLUSH_ON_EXIT) {
            tracing::warn!("saving the journal on exit: {error}");
        }
    }
    services
        .metrics_hooks
        .session_ended(exit.as_ref().ok().copied());
    (exit, services)
}

/// How long exiting waits for the journal to be saved.
const FLUSH_ON_EXIT: std::time::Duration = std::time::Duration::from_secs(2);

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
    // A dropped link does not always reach us as an input error or a SIGHUP (karte may not
    // be in the terminal's foreground group; input may end in a silent EOF): look at the
    // terminal itself once a second.
    let mut hangup_check = tokio::time::interval(std::time::Duration::from_secs(1));

    if let Err(error) = screen.draw(|frame| view::view(&app, frame)) {
        tracing::warn!("cannot draw: the terminal is gone ({error})");
        return Ok(Exit::TerminalClosed);
    }
    loop {
        let first: Vec<Action> = tokio::select! {
            event = terminal_events.next() => match event {
                Some(Ok(event)) => translate::translate(&app, event),
                Some(Err(error)) => {
                    tracing::warn!("terminal input failed: {error}");
                    return Ok(Exit::TerminalClosed);
                }
                None => return Ok(Exit::TerminalClosed),
            },
            Some(action) = action_rx.recv() => vec![action],
            _ = sigterm.recv() => return Ok(Exit::Signal(libc::SIGTERM)),
            _ = sighup.recv() => return Ok(Exit::Signal(libc::SIGHUP)),
            _ = sigint.recv() => return Ok(Exit::Signal(libc::SIGINT)),
            _ = hangup_check.tick() => {
                if terminal_hung_up() {
                    tracing::warn!("the terminal hung up");
                    return Ok(Exit::TerminalClosed);
                }
                Vec::new()
            }
        };
        if first.is_empty() {
            continue; // an unbound key or an ignored event: nothing changed, no redraw
        }
        // Take everything already waiting (e.g. a burst of streamed tokens) before drawing.
        let mut batch = first;
        while let Ok(action) = action_rx.try_recv() {
            batch.push(action);
        }
        for action in batch {
            // The metrics hooks need the state before and after, and the effects.
            let before = BeforeAction::of(&app, &action);
            let effects = update::update(&mut app, action);
            services.metrics_hooks.observe(&before, &app, &effects);
            for effect in effects {
                if effect == Effect::Quit {
                    return Ok(Exit::Quit);
                }
                if let Effect::CopyToClipboard { text } = &effect {
                    // Straight to the terminal, from this thread only; ratatui's buffer is
                    // untouched (the sequence draws nothing).
                    let message = review::copy_to_clipboard(screen.backend_mut(), text);
                    let _ = actions.send(Action::Status(message));
                    if let (Some(documents), Some((chart_id, document))) = (
                        services.documents.as_ref(),
                        app.selected_chart()
                            .map(|c| (c.id.clone(), app.draft_document)),
                    ) {
                        documents.run(Box::new(move |service| {
                            review::record_clipboard_copy(service, &chart_id, document)
                        }));
                    }
                    continue;
                }
                carry_out(effect, services, rescan, actions);
            }
        }
        if let Some(warning) = services.metrics_hooks.warning_change() {
            update::update(&mut app, Action::MetricsHealth(warning));
        }
        if let Err(error) = screen.draw(|frame| view::view(&app, frame)) {
            tracing::warn!("cannot draw: the terminal is gone ({error})");
            return Ok(Exit::TerminalClosed);
        }
    }
}

/// Whether the terminal on stdin is gone (a hung-up tty answers its ioctls with EIO).
fn terminal_hung_up() -> bool {
    // SAFETY: tcgetattr writes into the zeroed termios it is given; fd 0 is ours.
    let mut termios: libc::termios = unsafe { std::mem::zeroed() };
    let failed = unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut termios) } != 0;
    failed
        && std::io::Error::last_os_error()
            .raw_os_error()
            .is_some_and(|e| [libc::EIO, libc::ENXIO, libc::EBADF, libc::ENOTTY].contains(&e))
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
                    "{}の下書きを生成する処理が動いていません — karte を再起動してください",
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
        Effect::OpenDocument { chart_id, document } => {
            open_document(services, actions, chart_id, document, false)
        }
        Effect::TakeOverLock { chart_id, document } => {
            open_document(services, actions, chart_id, document, true)
        }
        Effect::JournalSections {
            chart_id,
            document,
            sections,
            generated,
        } => {
            if let Some(documents) = services.documents.as_ref() {
                documents.journal(chart_id, document, sections, generated);
            }
        }
        Effect::JournalDocument {
            chart_id,
            document,
            text,
            sections,
        } => {
            if let Some(documents) = services.documents.as_ref() {
                documents.journal_document(chart_id, document, text, sections);
            }
        }
        Effect::CheckGuard {
            chart,
            document,
            sections,
            provenance,
        } => {
            if let Some(guard) = services.guard.as_ref() {
                let request = guard::GuardRequest {
                    chart,
                    document,
                    sections,
                    provenance,
                };
                guard.check(request, actions.clone());
            }
        }
        Effect::LookUpSigned { chart_id } => {
            if let Some(documents) = services.documents.as_ref() {
                for document in DocumentKind::ALL {
                    let chart_id = chart_id.clone();
                    documents.run(Box::new(move |service| {
                        review::signed_version(Some(service), &chart_id, document)
                            .filter(review::has_signed_version)
                    }));
                }
            }
        }
        Effect::SummarizeChart(chart) => {
            if let Some(guard) = services.guard.as_ref() {
                guard.summarize(chart, actions.clone());
            }
        }
        Effect::Acknowledge {
            chart_id,
            document,
            item_id,
            withdraw,
        } => match services.documents.as_ref() {
            Some(documents) => documents.run(Box::new(move |service| {
                review::acknowledge(Some(service), &chart_id, document, &item_id, withdraw)
            })),
            None => {
                let _ = actions.send(no_storage());
            }
        },
        Effect::MarkAccepted {
            chart_id,
            document,
            heading,
            accepted,
        } => match services.documents.as_ref() {
            Some(documents) => documents.run(Box::new(move |service| {
                review::mark_accepted(Some(service), &chart_id, document, &heading, accepted)
            })),
            None => {
                let _ = actions.send(no_storage());
            }
        },
        Effect::Sign {
            chart,
            document,
            sections,
            acknowledged,
        } => match services.documents.as_ref() {
            Some(documents) => documents.run(Box::new(move |service| {
                Some(review::sign(
                    Some(service),
                    &chart,
                    document,
                    &sections,
                    acknowledged,
                ))
            })),
            None => {
                let _ = actions.send(no_storage());
            }
        },
        Effect::Export {
            chart,
            signed,
            format,
        } => match services.documents.as_ref() {
            Some(documents) => documents.run(Box::new(move |service| {
                Some(review::export(Some(service), &chart, &signed, format))
            })),
            None => {
                let _ = actions.send(no_storage());
            }
        },
        // Written by the loop itself (it holds the terminal); never reaches here.
        Effect::CopyToClipboard { .. } => {}
        Effect::RegenerateSection {
            chart,
            document,
            heading,
            mode,
        } => match services.drafts.as_mut() {
            Some(drafts) => {
                drafts.regenerate_section(chart, document, heading, mode, actions.clone())
            }
            None => {
                let _ = actions.send(Action::SectionRegenerated {
                    chart_id: chart.id.clone(),
                    document,
                    heading,
                    result: Err(
                        "下書きを生成する処理が動いていません — karte を再起動してください".into(),
                    ),
                });
            }
        },
    }
}

fn no_storage() -> Action {
    Action::Status("文書を保存する処理が動いていません — 署名・書き出しはできません".into())
}

fn memory_only() -> OpenedDocument {
    OpenedDocument {
        access: Access::MemoryOnly {
            problem: "文書を保存する処理を開始できませんでした (ログを参照)".into(),
        },
        recovered: None,
        damage: None,
        problem: None,
    }
}

/// Opens a document for editing (or takes over its stale lock first), then looks up its
/// signed version on the same thread, in order. Without a document service it is edited in
/// memory only.
fn open_document(
    services: &Services,
    actions: &UnboundedSender<Action>,
    chart_id: String,
    document: DocumentKind,
    take_over: bool,
) {
    let Some(documents) = services.documents.as_ref() else {
        let _ = actions.send(Action::DocumentOpened {
            chart_id,
            document,
            opened: memory_only(),
        });
        return;
    };
    if take_over {
        documents.take_over(chart_id.clone(), document);
    } else {
        documents.open(chart_id.clone(), document);
    }
    documents.run(Box::new(move |service| {
        review::signed_version(Some(service), &chart_id, document)
    }));
}
