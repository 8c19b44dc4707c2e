//! `karte extract`: clinical entities of a text (or of each note of a chart) as JSON.

use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use super::Context;
use crate::nlp::{Entity, Pipeline};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One JSON array of entity objects per document.
    Json,
    /// One entity object per line.
    Jsonl,
}

/// Print the clinical entities of a text as JSON.
///
/// Each entity object has exactly the keys "type", "text", "start", "end", "normalized" and
/// "certainty". Types: disease, anatomy, medication, dose, test, test_value, procedure,
/// date. Offsets are Unicode scalar value (character) indices into the document's original
/// text, end exclusive, and "text" equals that slice. "certainty" (positive, negative,
/// suspicious, general) is set for diseases and null for every other type.
///
/// A chart file (.json: karte chart or FHIR R4 Bundle) is also accepted: every note is one
/// document, printed as one line holding that note's JSON array, in the chart's note order
/// (with --format jsonl: one entity per line, each line with an extra "note" key).
///
/// Input that is not valid UTF-8 is decoded lossily (invalid bytes become U+FFFD, and
/// offsets refer to the decoded text); a warning says so on stderr.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ExtractArgs {
    /// Text file to read, or `-` for standard input.
    #[arg(value_name = "FILE|-", default_value = "-")]
    pub input: PathBuf,
    /// Treat every input line as its own document: exactly one output line per input line,
    /// the JSON array of that line's entities (`[]` when there are none).
    #[arg(long)]
    pub lines: bool,
    /// Output format for whole documents (ignored with --lines, which always prints arrays).
    #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
    pub format: OutputFormat,
}

pub fn run(args: &ExtractArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    match extract(args, ctx) {
        // A closed pipe (`karte extract … | head`) is the reader's choice, not an error.
        Err(err) if is_broken_pipe(&err) => Ok(ExitCode::SUCCESS),
        other => other,
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|e| e.io_error_kind())
                .is_some_and(|kind| kind == io::ErrorKind::BrokenPipe)
    })
}

fn extract(args: &ExtractArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let ipadic_dir = ctx.paths.ipadic_dir();
    let pipeline = Pipeline::load(&ipadic_dir)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let from_stdin = args.input.as_os_str() == "-";
    if !from_stdin && is_chart_path(&args.input) {
        extract_chart(&pipeline, &args.input, args.format, &mut out)?;
    } else {
        let text = read_input(&args.input, from_stdin)?;
        if args.lines {
            for line in text.lines() {
                let entities = pipeline.extract(line);
                serde_json::to_writer(&mut out, &entities)?;
                out.write_all(b"\n")?;
            }
        } else {
            write_document(&mut out, &pipeline.extract(&text), args.format)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// An entity of a chart's note: the contract's keys plus the note's id.
#[derive(serde::Serialize)]
struct NoteEntity<'a> {
    #[serde(flatten)]
    entity: &'a Entity,
    note: &'a str,
}

fn is_chart_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

fn write_document(
    out: &mut impl Write,
    entities: &[Entity],
    format: OutputFormat,
) -> io::Result<()> {
    match format {
        OutputFormat::Json => {
            serde_json::to_writer(&mut *out, entities)?;
            out.write_all(b"\n")
        }
        OutputFormat::Jsonl => {
            for entity in entities {
                serde_json::to_writer(&mut *out, entity)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        }
    }
}

fn extract_chart(
    pipeline: &Pipeline,
    path: &Path,
    format: OutputFormat,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let chart = crate::chart::load(path)?;
    for note in &chart.notes {
        let entities = pipeline.extract(&note.text);
        match format {
            OutputFormat::Json => {
                serde_json::to_writer(&mut *out, &entities)?;
                out.write_all(b"\n")?;
            }
            OutputFormat::Jsonl => {
                for entity in &entities {
                    let line = NoteEntity {
                        entity,
                        note: &note.id,
                    };
                    serde_json::to_writer(&mut *out, &line)?;
                    out.write_all(b"\n")?;
                }
            }
        }
    }
    Ok(())
}

/// Reads the whole input; invalid UTF-8 is replaced (and said so on stderr), never fatal.
fn read_input(path: &Path, from_stdin: bool) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    let name = if from_stdin {
        io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        "standard input".to_string()
    } else {
        bytes = std::fs::read(path).with_context(|| {
            format!(
                "cannot read {}: check that the file exists and is readable",
                path.display()
            )
        })?;
        path.display().to_string()
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(err) => {
            let valid_up_to = err.utf8_error().valid_up_to();
            eprintln!(
                "karte: {name} is not valid UTF-8 (first bad byte at offset {valid_up_to}); \
                 invalid bytes were replaced with U+FFFD and offsets refer to the decoded text. \
                 Convert the file to UTF-8 (e.g. `iconv -f CP932 -t UTF-8`) for exact offsets."
            );
            Ok(String::from_utf8_lossy(err.as_bytes()).into_owned())
        }
    }
}
