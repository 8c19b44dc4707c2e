//! `karte bench extract-accuracy --gold FILE…`: precision / recall / F1 per entity type (exact
//! span and overlap), positive-disease F1 and the certainty confusion on annotated gold sets
//! (fixtures/gold/passages.jsonl, fixtures/gold/heldout/dev.jsonl, …).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

use super::Context;
use crate::nlp::accuracy::{evaluate, load_gold};
use crate::nlp::Pipeline;

#[derive(Debug, clap::Args)]
pub struct BenchAccuracyArgs {
    /// Gold JSONL file (format: fixtures/gold/README.md); repeat for several sets.
    #[arg(long, value_name = "FILE", required = true)]
    pub gold: Vec<PathBuf>,
    /// Also list every missed, spurious and wrong-certainty entity (for tuning).
    #[arg(long)]
    pub errors: bool,
}

pub fn run(args: &BenchAccuracyArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    if args.gold.is_empty() {
        bail!("give at least one gold file with --gold FILE");
    }
    // Read every file first, so that a bad one is reported before the dictionaries load.
    let mut sets = Vec::new();
    for path in &args.gold {
        sets.push((path, load_gold(path)?));
    }
    let pipeline = Pipeline::load(&ctx.paths.ipadic_dir())?;
    for (path, passages) in sets {
        let accuracy = evaluate(&pipeline, &passages);
        let entities: usize = passages.iter().map(|p| p.entities.len()).sum();
        println!(
            "== {} ({} passages, {entities} gold entities)",
            path.display(),
            passages.len()
        );
        print!("{}", accuracy.render());
        if args.errors {
            for d in &accuracy.disagreements {
                println!(
                    "  {} {} {}: {} ({})",
                    d.passage, d.what, d.kind, d.text, d.detail
                );
            }
        }
        println!();
    }
    Ok(ExitCode::SUCCESS)
}
