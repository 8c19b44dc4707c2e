//! `karte export <chart> --doc discharge|referral --format text|fhir [--version N] [-o FILE]`:
//! exports a SIGNED document without the TUI.

use super::Context;
use crate::chart::Chart;
use crate::export::{self, Format};
use crate::store::{
    chart_fingerprint, new_session_id, signer_name, AuditAction, AuditLog, DocumentKind,
    SignedStore,
};
use anyhow::{bail, Context as _};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Chart: a chart file, or the id of a chart in the queue.
    pub chart: String,
    /// Which document.
    #[arg(long, value_parser = parse_doc)]
    pub doc: DocumentKind,
    /// text: the letter / summary as plain text, ready to paste into the EHR; fhir: a FHIR R4
    /// document Bundle (JSON).
    #[arg(long, default_value = "text", value_parser = format_parser())]
    pub format: Format,
    /// Signed version to export (default: the latest).
    #[arg(long, value_name = "N")]
    pub version: Option<u32>,
    /// Write to FILE (created 0600) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_doc(s: &str) -> Result<DocumentKind, String> {
    s.parse()
}

/// `--format`: one of `export::Format`'s names (listed in `--help`).
fn format_parser() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(Format::ALL.map(Format::name))
        .try_map(|name| name.parse::<Format>())
}

pub fn run(args: &ExportArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let chart = find_chart(&args.chart, &ctx.queue_dir)?;
    let store = SignedStore::new(&ctx.paths.data_dir);
    let signed = match args.version {
        Some(v) => {
            let versions = store.versions(&chart.id, args.doc)?;
            if !versions.contains(&v) {
                bail!(
                    "chart {}: the {} has no signed version {v} (signed versions: {})",
                    chart.id,
                    args.doc,
                    list_or_none(&versions)
                );
            }
            store.load(&chart.id, args.doc, v)?
        }
        None => store.load_latest(&chart.id, args.doc)?.with_context(|| {
            format!(
                "chart {}: the {} has not been signed yet; only signed documents are exported (sign it in the review screen first)",
                chart.id, args.doc
            )
        })?,
    };
    if signed
        .chart_sha256
        .as_deref()
        .is_some_and(|h| h != chart_fingerprint(&chart))
    {
        eprintln!(
            "karte: note: chart {} changed after version {} was signed; the structured data exported is the chart as it is now",
            chart.id, signed.version
        );
    }
    let body = export::render(&signed, &chart, args.format)?;
    match &args.output {
        Some(path) => export::write(path, &body)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout()
            .write_all(body.as_bytes())
            .context("cannot write to standard output")?,
    }
    let audit = AuditLog::new(
        &ctx.paths.data_dir,
        signer_name(&ctx.config),
        new_session_id(),
    );
    audit.record(
        &chart.id,
        Some(args.doc),
        AuditAction::Exported {
            version: signed.version,
            format: args.format.name().into(),
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

fn list_or_none(versions: &[u32]) -> String {
    if versions.is_empty() {
        "none".into()
    } else {
        versions
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A chart file path, or a chart id (or file stem) looked up among the queue's charts.
fn find_chart(arg: &str, queue_dir: &Path) -> anyhow::Result<Chart> {
    let as_path = Path::new(arg);
    if as_path.is_file() {
        return Ok(crate::chart::load(as_path)?);
    }
    let entries = std::fs::read_dir(queue_dir).with_context(|| {
        format!(
            "\"{arg}\" is not a file, and the queue {} cannot be read to look it up",
            queue_dir.display()
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| crate::chart::load::is_chart_file(p))
        .collect();
    paths.sort();
    for path in paths {
        if path.file_stem().is_some_and(|s| s == arg) {
            return Ok(crate::chart::load(&path)?);
        }
        // Charts that do not load are skipped here; opening them directly names the problem.
        if let Ok(chart) = crate::chart::load(&path) {
            if chart.id == arg {
                return Ok(chart);
            }
        }
    }
    bail!(
        "no chart \"{arg}\": give a chart file or the id of a chart in {}",
        queue_dir.display()
    )
}
