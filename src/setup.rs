//! `karte setup`: system packages, the IPADIC dictionary, the default model; idempotent.

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SetupArgs {}

/// (Scaffolding: replaced by the real setup steps.)
pub fn run(_args: &SetupArgs, _cli: &crate::cli::Cli) -> anyhow::Result<ExitCode> {
    anyhow::bail!("setup is not built yet")
}
