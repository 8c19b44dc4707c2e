//! `karte export <chart> --doc discharge|referral --format text|fhir|pdf [--version N] [-o FILE]`:
//! exports a SIGNED document without the TUI.

use super::Context;
use crate::chart::Chart;
use crate::export::{self, Format, Notice, RenderError};
use crate::store::{
    chart_fingerprint, new_session_id, signer_name, AuditAction, AuditLog, DocKind, SignedStore,
};
use anyhow::{bail, Context as _};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `--format`: the formats of `export::Format`, with their help on the command line.
impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        let help = match self {
            Format::Text => "The letter / summary as plain text, ready to paste into the EHR",
            Format::Fhir => "A JP-CLINS FHIR R4 document Bundle (JSON)",
            Format::Pdf => {
                "The printable A4 letter (別紙様式11 / 退院時サマリー); binary: give -o FILE"
            }
        };
        Some(clap::builder::PossibleValue::new(self.name()).help(help))
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
    pub format: Format,
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
    if args.format == Format::Pdf
        && args.output.is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout())
    {
        bail!("a PDF is binary: give -o FILE (or redirect standard output to a file)");
    }
    let rendered =
        export::render(args.format, &signed, &chart, &ctx.config.hospital).map_err(|error| {
            match error {
                RenderError::Hospital(error) => anyhow::Error::new(error).context(format!(
                    "config file {}: the {} format needs the [hospital] settings",
                    ctx.config_path.display(),
                    args.format.name()
                )),
                RenderError::Print(error) => anyhow::Error::new(error)
                    .context(format!("chart {}: cannot print the {}", chart.id, args.doc)),
                RenderError::Font(error) => error.into(),
                RenderError::Clins(error) => error.into(),
                RenderError::Json(error) => error.into(),
            }
        })?;
    match &rendered.notice {
        Some(notice @ Notice::UnprintedChars(_)) => eprintln!("karte: 注意: {notice}"),
        Some(Notice::MissingClinsData(summary)) => eprintln!(
            "karte: 警告: JP-CLINS の必須項目のうちカルテにないもの（送信前に確認してください）: {summary}"
        ),
        None => {}
    }
    let body = rendered.bytes;
    match &args.output {
        Some(path) => export::write(path, &body)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paths::AppPaths;
    use crate::store::{SectionText, SignRequest};

    /// `karte export -o FILE` and the review screen's export write the same bytes for the
    /// same signed document, in every format.
    #[test]
    fn the_cli_and_the_review_screen_export_the_same_bytes() {
        let home = tempfile::tempdir().unwrap();
        let chart_file = crate::context::demo_queue_dir().join("01-naika-pneumonia.json");
        let chart = crate::chart::load(&chart_file).unwrap();
        let hospital = crate::export::HospitalConfig {
            name: Some("かるて総合病院".into()),
            code: Some("1311234567".into()),
            postal_code: None,
            address: Some("東京都千代田区千代田1-1".into()),
            phone: Some("03-1234-5678".into()),
            departments: Default::default(),
        };
        let config = crate::config::Config {
            hospital,
            ..Default::default()
        };
        let paths = AppPaths::under(home.path());
        let ctx = Context {
            config_path: paths.config_file(),
            paths,
            config,
            queue_dir: crate::context::demo_queue_dir(),
            model_path: home.path().join("none.gguf"),
        };
        let sections = vec![SectionText::new(
            "hospital_course",
            "入院経過",
            "抗菌薬で軽快した。",
        )];
        let signed = SignedStore::new(&ctx.paths.data_dir)
            .sign(&SignRequest {
                chart_id: &chart.id,
                doc: DocKind::Discharge,
                signer: "日下部 亮",
                title: "退院時サマリー",
                sections: &sections,
                chart_sha256: Some(chart_fingerprint(&chart)),
                acknowledged: vec![],
            })
            .unwrap();
        for format in Format::ALL {
            let out = home.path().join(format!("cli.{}", format.extension()));
            let args = ExportArgs {
                chart: chart_file.to_string_lossy().into_owned(),
                doc: DocKind::Discharge,
                format,
                version: None,
                output: Some(out.clone()),
            };
            run(&args, &ctx).unwrap_or_else(|e| panic!("{format}: {e:#}"));
            let (screen_file, _) = crate::tui::workers::review::export_signed(
                &ctx.paths.data_dir,
                &signed,
                &chart,
                format,
                &ctx.config.hospital,
            )
            .unwrap_or_else(|e| panic!("{format}: {e}"));
            assert_eq!(
                screen_file.file_name().unwrap().to_string_lossy(),
                export::file_name(&signed, format)
            );
            let cli = std::fs::read(&out).unwrap();
            assert!(!cli.is_empty(), "{format}");
            assert!(
                cli == std::fs::read(&screen_file).unwrap(),
                "{format}: the two exports differ"
            );
        }
    }
}
