//! Logs go to a private file in the state dir (never to the terminal the TUI draws on).

use crate::paths::{create_private_dir, open_private_append, AppPaths};
use anyhow::Context as _;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Log level filter from `KARTE_LOG` (e.g. `debug`, `karte::tui=trace`), default `info`.
const FILTER_ENV: &str = "KARTE_LOG";

/// Starts logging to `<log_dir>/karte-YYYY-MM-DD.log` (dir 0700, file 0600). Keep the guard
/// alive until exit: dropping it flushes the log.
pub fn init(paths: &AppPaths) -> anyhow::Result<WorkerGuard> {
    let dir = paths.log_dir();
    create_private_dir(&dir)
        .with_context(|| format!("cannot create the log directory {}", dir.display()))?;
    let path = dir.join(format!(
        "karte-{}.log",
        chrono::Local::now().format("%Y-%m-%d")
    ));
    let file = open_private_append(&path)
        .with_context(|| format!("cannot open the log file {}", path.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = EnvFilter::try_from_env(FILTER_ENV).unwrap_or_else(|_| EnvFilter::new("info"));
    // Another subscriber may already be set (tests); then that one keeps logging.
    let _ = tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    Ok(guard)
}
