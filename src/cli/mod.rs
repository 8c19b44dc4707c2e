//! Command-line subcommands (the TUI is the default). Each subcommand lives in its own
//! file with its clap `Args` and a `run` function; this file only dispatches.

pub mod bench;
pub mod bench_accuracy;
pub mod bench_drafts;
pub mod bench_extract;
pub mod bench_metrics;
pub mod bench_model;
pub mod chart;
pub mod check;
pub mod draft;
pub mod export;
pub mod extract;
pub mod report;
pub mod setup;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

pub use crate::context::{Context, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "karte",
    version,
    about = "Review and sign LLM-drafted referral letters and discharge summaries (診療情報提供書・退院時サマリー)",
    long_about = "Without a subcommand, karte opens the review TUI on the chart queue."
)]
pub struct Cli {
    /// Directory of charts to show in the queue, or `ssmix2:ROOT` for an SS-MIX2 storage
    /// (default: config's queue_dir, else the demo queue).
    #[arg(long, global = true, value_name = "DIR")]
    pub queue: Option<PathBuf>,
    /// GGUF model file (default: config's model, else the model installed by `karte setup`).
    #[arg(long, global = true, value_name = "FILE.gguf")]
    pub model: Option<PathBuf>,
    /// Config file (default: $XDG_CONFIG_HOME/karte/config.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install what is missing: system packages, the IPADIC dictionary, the default model.
    Setup(setup::SetupArgs),
    /// Draft a document from a chart and stream it to stdout.
    Draft(draft::DraftArgs),
    // Help text: the doc comment of `ExtractArgs` (the CLI contract).
    Extract(crate::cli::extract::ExtractArgs),
    /// Export a signed document: plain text or a FHIR R4 document Bundle.
    Export(export::ExportArgs),
    /// Time-study report from the metrics DB: per arm and document type, reduction with 95% CI.
    Report(crate::cli::report::ReportArgs),
    /// Measure performance: the model engine, extraction against MeCab, the metrics recorder.
    Bench(crate::cli::bench::BenchArgs),
    // Help text: the doc comment of `CheckArgs` (exit codes 0 / 1 / 2).
    Check(check::CheckArgs),
    /// Print the chart(s) karte loads from a file or SS-MIX2 patient folder, and what was skipped.
    Chart(chart::ChartArgs),
}

impl Cli {
    /// The global flags, as overrides of the config file.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            queue: self.queue.clone(),
            model: self.model.clone(),
            config: self.config.clone(),
        }
    }
}

/// Entry point of the `karte` binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Setup(ref args)) => setup::run(args, &cli.overrides()),
        Some(Command::Draft(ref args)) => {
            Context::resolve(&cli.overrides()).and_then(|c| draft::run(args, &c))
        }
        Some(Command::Export(ref args)) => {
            Context::resolve(&cli.overrides()).and_then(|ctx| export::run(args, &ctx))
        }
        Some(Command::Extract(ref args)) => {
            Context::resolve(&cli.overrides()).and_then(|ctx| extract::run(args, &ctx))
        }
        Some(Command::Report(ref args)) => {
            Context::resolve(&cli.overrides()).and_then(|ctx| report::run(args, &ctx))
        }
        Some(Command::Bench(ref args)) => {
            Context::resolve(&cli.overrides()).and_then(|ctx| bench::run(args, &ctx))
        }
        Some(Command::Check(ref args)) => {
            Context::resolve(&cli.overrides()).and_then(|ctx| check::run(args, &ctx))
        }
        Some(Command::Chart(ref args)) => {
            Context::resolve(&cli.overrides()).and_then(|_| chart::run(args))
        }
        None => Context::resolve(&cli.overrides()).and_then(crate::tui::run),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // Not `eprintln!`: with the terminal gone (SSH dropped) it would panic.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "karte: {err:#}");
            ExitCode::FAILURE
        }
    }
}
