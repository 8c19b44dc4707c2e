//! `karte bench <target>`: benchmarks whose numbers go into the README.

use crate::cli::Context;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub target: BenchTarget,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchTarget {
    /// Recorder cost per event on the calling thread; report time over a large metrics DB.
    Metrics(crate::cli::bench_metrics::MetricsBenchArgs),
}

pub fn run(args: &BenchArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    match &args.target {
        BenchTarget::Metrics(metrics_args) => crate::cli::bench_metrics::run(metrics_args, ctx),
    }
}
