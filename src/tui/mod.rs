//! The terminal front end: `Action`, `update`, `view`, widgets, keymap, themes, event loop.

pub mod metrics_tab;

use crate::cli::Context;
use std::process::ExitCode;

/// Opens the review TUI. (Scaffolding: replaced by the TUI event loop.)
pub fn run(_ctx: Context) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the TUI is not built yet")
}
