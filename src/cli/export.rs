//! `karte export <chart> --doc discharge|referral --format text|fhir|pdf [--version N] [-o FILE]`:
//! exports a SIGNED document without the TUI.

use super::Context;
use crate::chart::Chart;
use crate::export::{document_bundle, document_text};
use crate::store::{
    chart_fingerprint, new_session_id, signer_name, AuditAction, AuditLog, DocKind, SignedStore,
};
use anyhow::{bail, Context as _};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// The letter / summary as plain text, ready to paste into the EHR.
    Text,
    /// A JP-CLINS FHIR R4 document Bundle (JSON).
    Fhir,
    /// The printable A4 letter (別紙様式11 / 退院時サマリー); binary: give -o FILE.
    Pdf,
}

impl ExportFormat {
    /// The name on the command line and in the audit log.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Text => "text",
            ExportFormat::Fhir => "fhir",
            ExportFormat::Pdf => "pdf",
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Chart: a chart file, or the id of a chart in the queue.
    pub chart: String,
    /// Which document.
    #[arg(long, value_parser = parse_doc)]
    pub doc: DocKind,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ExportFormat,
    /// Signed version to export (default: the latest).
    #[arg(long, value_name = "N")]
    pub version: Option<u32>,
    /// Write to FILE (created 0600) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_doc(s: &str) -> Result<DocKind, String> {
    s.parse()
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
    let hospital = || {
        ctx.config.hospital.resolve().with_context(|| {
            format!(
                "config file {}: the {} format needs the [hospital] settings",
                ctx.config_path.display(),
                args.format.name()
            )
        })
    };
    if args.format == ExportFormat::Pdf
        && args.output.is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
    {
        bail!("a PDF is binary: give -o FILE (or redirect standard output to a file)");
    }
    let body: Vec<u8> = match args.format {
        ExportFormat::Text => document_text(&signed, &chart).into_bytes(),
        ExportFormat::Pdf => {
            let font = crate::export::pdf::find_font()?;
            let letter = crate::export::pdf::letter_pdf(&signed, &chart, &hospital()?, &font)
                .with_context(|| format!("chart {}: cannot print the {}", chart.id, args.doc))?;
            if !letter.replaced.is_empty() {
                eprintln!(
                    "karte: 注意: フォントにない文字を {} で印字しました: {}",
                    crate::export::pdf::REPLACEMENT,
                    letter.replaced.iter().collect::<String>()
                );
            }
            letter.bytes
        }
        ExportFormat::Fhir => {
            let export = document_bundle(&signed, &chart, &hospital()?)?;
            let summary = export.missing_summary();
            if !summary.is_empty() {
                eprintln!("karte: 警告: JP-CLINS の必須項目のうちカルテにないもの（送信前に確認してください）: {summary}");
            }
            let mut json = serde_json::to_string_pretty(&export.bundle)?;
            json.push('\n');
            json.into_bytes()
        }
    };
    match &args.output {
        Some(path) => crate::paths::write_private_atomic(path, &body)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout()
            .write_all(&body)
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
