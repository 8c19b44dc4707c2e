//! `karte bench <target>`: measurements reported in the README.

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub target: BenchTarget,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchTarget {
    /// The llama.cpp engine: tokens/s (tg, pp), time to first token with prefix reuse, peak RSS.
    Model(super::bench_model::BenchModelArgs),
}

pub fn run(args: &BenchArgs, ctx: &super::Context) -> anyhow::Result<std::process::ExitCode> {
    match &args.target {
        BenchTarget::Model(a) => super::bench_model::run(a, ctx),
    }
}
