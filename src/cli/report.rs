//! `karte report`: the time-study report from the metrics DB (text on stdout, optional
//! de-identified CSV and SVG figure).

use crate::cli::Context;
use crate::metrics::{self, PseudonymKey, ReportOptions, Study};
use anyhow::Context as _;
use chrono::NaiveDate;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Only documents recorded under this study (default: every document).
    #[arg(long, value_name = "NAME")]
    pub study: Option<String>,
    /// Only documents signed on or after this day (UTC), e.g. 2026-04-01.
    #[arg(long, value_name = "DATE")]
    pub since: Option<NaiveDate>,
    /// Also write one de-identified row per document to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Also write a figure (SVG) fit for a paper.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Metrics DB to read; repeat to combine the DBs of several clinicians
    /// (default: metrics.sqlite3 in your data dir).
    #[arg(long, value_name = "FILE")]
    pub db: Vec<PathBuf>,
    /// Bootstrap resamples for the confidence interval.
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub resamples: usize,
    /// Seed of the bootstrap (the same seed gives the same interval).
    #[arg(long, default_value_t = 20_240_601, value_name = "N")]
    pub seed: u64,
}

pub fn run(args: &ReportArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    // A broken [study] section is an error even when reporting: the user must fix it.
    if let Some(study) = &ctx.config.study {
        Study::from_config(study).with_context(|| format!("in {}", ctx.config_path.display()))?;
    }
    let db_paths = if args.db.is_empty() {
        vec![metrics::db_path(&ctx.paths)]
    } else {
        args.db.clone()
    };
    let options = ReportOptions {
        study: args.study.clone(),
        since: args.since,
        idle_threshold_secs: ctx.config.metrics.idle_threshold_secs,
        bootstrap_resamples: args.resamples,
        bootstrap_seed: args.seed,
    };
    let key = PseudonymKey::load_or_create(&ctx.paths.data_dir)?;
    let db_paths: Vec<&std::path::Path> = db_paths.iter().map(PathBuf::as_path).collect();
    let report = metrics::load_report_from(&db_paths, &options, &key)?;
    print!("{}", report.to_text());
    if let Some(csv_path) = &args.csv {
        crate::paths::write_private_atomic(csv_path, report.to_csv().as_bytes())
            .with_context(|| format!("cannot write the CSV file {}", csv_path.display()))?;
        println!("\nCSV written to {}", csv_path.display());
    }
    if let Some(plot_path) = &args.plot {
        let svg = report.to_svg()?;
        crate::paths::write_private_atomic(plot_path, svg.as_bytes())
            .with_context(|| format!("cannot write the figure {}", plot_path.display()))?;
        println!("Figure written to {}", plot_path.display());
    }
    Ok(ExitCode::SUCCESS)
}
