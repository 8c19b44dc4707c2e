//! Entering and leaving the full-screen terminal. Restoring is idempotent and runs on every
//! way out: normal quit (guard drop), panic (hook, before the message is printed), and
//! SIGTERM/SIGHUP (the event loop ends, then the guard drops).

use crossterm::cursor::Show;
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;
use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static DETACHED: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

pub type Screen = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct TerminalGuard {
    pub screen: Screen,
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
        // ratatui shows a hidden cursor when the screen is dropped and prints to stderr when
        // that fails; with the terminal gone that print would panic (std's `eprintln!`).
        // Show it here, and when even that fails the terminal is gone: stop writing to it.
        if self.screen.show_cursor().is_err() {
            detach_from_terminal();
        }
    }
}

/// The terminal is gone (the SSH connection dropped, the pty was closed): stdout and stderr
/// are pointed at /dev/null so that no write anywhere in the process — ours, a library's,
/// std's panic message — can fail and panic while the session ends (journal, lock, audit
/// log and metrics are saved after this). Idempotent.
pub fn detach_from_terminal() {
    if DETACHED.swap(true, Ordering::SeqCst) {
        return;
    }
    ACTIVE.store(false, Ordering::SeqCst);
    match std::fs::OpenOptions::new().write(true).open("/dev/null") {
        Ok(null) => {
            use std::os::fd::AsRawFd;
            for fd in [libc::STDOUT_FILENO, libc::STDERR_FILENO] {
                // SAFETY: dup2 only replaces the descriptor; both are valid open fds.
                if unsafe { libc::dup2(null.as_raw_fd(), fd) } < 0 {
                    tracing::warn!(fd, "cannot point a standard stream at /dev/null");
                }
            }
        }
        Err(error) => tracing::warn!("cannot open /dev/null: {error}"),
    }
    tracing::info!("terminal gone: output detached");
}

/// Whether the terminal was found gone (see [`detach_from_terminal`]).
pub fn is_detached() -> bool {
    DETACHED.load(Ordering::SeqCst)
}

/// Raw mode + alternate screen; the returned guard restores both.
pub fn enter() -> io::Result<TerminalGuard> {
    install_panic_hook();
    enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    // Bracketed paste: a paste arrives as one text (not as keys that would run commands).
    if let Err(e) = execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste) {
        restore();
        return Err(e);
    }
    match Terminal::new(CrosstermBackend::new(io::stdout())) {
        Ok(screen) => Ok(TerminalGuard { screen }),
        Err(e) => {
            restore();
            Err(e)
        }
    }
}

/// Leaves the alternate screen, shows the cursor, ends raw mode. Safe to call twice; errors
/// are ignored because the terminal may already be gone (SSH dropped).
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let written = execute!(
            io::stdout(),
            DisableBracketedPaste,
            LeaveAlternateScreen,
            Show
        );
        let _ = disable_raw_mode();
        if written.is_err() {
            detach_from_terminal();
        }
    }
}

fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            // Location only: a panic message could quote chart text.
            let location = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            tracing::error!(%location, "panic");
            previous(info);
        }));
    });
}
