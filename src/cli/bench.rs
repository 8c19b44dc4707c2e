//! `karte bench <target>`: performance measurements whose numbers go to the README.

use std::process::ExitCode;

use super::Context;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub target: BenchTarget,
}

#[derive(Debug, clap::Subcommand)]
pub enum BenchTarget {
    /// The llama.cpp engine: tokens/s (tg, pp), time to first token with prefix reuse, peak RSS.
    Model(super::bench_model::BenchModelArgs),
    /// Entity extraction throughput against MeCab tokenizing the same text.
    Extract(super::bench_extract::BenchExtractArgs),
    /// Recorder cost per event on the calling thread; report time over a large metrics DB.
    Metrics(super::bench_metrics::MetricsBenchArgs),
    /// Drafts of every chart and both documents, measured against their charts (flagged
    /// facts, numbers not in the chart, key-fact recall, time), the modes side by side.
    Drafts(super::bench_drafts::BenchDraftsArgs),
    /// Entity extraction accuracy on gold sets: P/R/F1 per type, certainty confusion.
    ExtractAccuracy(super::bench_accuracy::BenchAccuracyArgs),
}

pub fn run(args: &BenchArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    match &args.target {
        BenchTarget::Model(model) => super::bench_model::run(model, ctx),
        BenchTarget::Extract(extract) => super::bench_extract::run(extract, ctx),
        BenchTarget::Metrics(metrics) => super::bench_metrics::run(metrics, ctx),
        BenchTarget::Drafts(drafts) => super::bench_drafts::run(drafts, ctx),
        BenchTarget::ExtractAccuracy(accuracy) => super::bench_accuracy::run(accuracy, ctx),
    }
}
