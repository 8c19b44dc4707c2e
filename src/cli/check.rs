//! `karte check CHART DRAFT [--json]`: the provenance guard without the TUI, over any draft.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use serde_json::json;

use super::Context;
use crate::chart::{Chart, Source};
use crate::nlp::Pipeline;
use crate::review::draft_file::{parse_draft, DraftFileSection, DraftFormat};
use crate::review::{check_draft_with_provenance, ChartIndex, GuardItem, GuardReport, Verdict};

/// Check a draft against its chart with the provenance guard.
///
/// DRAFT is a plain-text letter with 【section】 headings (what `karte draft` prints and the
/// text export writes; text before the first heading is checked too), or the JSON lines of
/// `karte draft --json` (the "section" events; their "provenance" spans count as copied
/// from the chart). `-` reads the draft from standard input.
///
/// Every entity of the draft, and every bare number the chart does not write, is listed
/// by section with its verdict (supported, unsupported, contradicted), the reason and the
/// chart source; then the chart facts the draft leaves out.
///
/// Exit status: 0 when nothing blocks signing, 1 when an unsupported or contradicted item
/// does, 2 when the chart or the draft cannot be read (the message says why).
#[derive(Debug, Clone, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CheckArgs {
    /// Chart file (karte JSON, plain text, or FHIR R4 Bundle).
    pub chart: PathBuf,
    /// Draft file (text with 【section】 headings, or `karte draft --json` output), or `-`.
    #[arg(value_name = "DRAFT|-")]
    pub draft: PathBuf,
    /// Print one machine-readable JSON report instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Exit status when the input could not be checked.
const BAD_INPUT: u8 = 2;

pub fn run(args: &CheckArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let chart = match crate::chart::load(&args.chart) {
        Ok(chart) => chart,
        Err(err) => return Ok(bad_input(&format!("cannot read the chart {err}"))),
    };
    let draft_text = match read_draft(&args.draft) {
        Ok(text) => text,
        Err(message) => return Ok(bad_input(&message)),
    };
    let (format, sections) = match parse_draft(&draft_text) {
        Ok(parsed) => parsed,
        Err(err) => {
            return Ok(bad_input(&format!(
                "{}: {err} — {}",
                args.draft.display(),
                err.hint()
            )))
        }
    };
    let pipeline = match Pipeline::load(&ctx.paths.ipadic_dir()) {
        Ok(p) => Arc::new(p),
        Err(err) => {
            return Ok(bad_input(&format!(
                "cannot load the dictionary ({err}) — run `karte setup`"
            )))
        }
    };
    let index = Arc::new(ChartIndex::build(&pipeline, &chart));
    let input: Vec<_> = sections
        .iter()
        .map(|s| (s.key.clone(), s.text.clone(), s.provenance.clone()))
        .collect();
    let report = check_draft_with_provenance(pipeline, index, &input);
    let blocked = !report.can_sign(&Default::default());
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written = if args.json {
        let value = json_report(&chart, &args.draft, format, &sections, &report, blocked);
        writeln!(out, "{value}")
    } else {
        write_text(&mut out, &chart, &sections, &report, blocked)
    };
    match written {
        Ok(()) => {}
        // A closed pipe (`karte check … | head`) is the reader's choice.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => return Err(e.into()),
    }
    Ok(if blocked {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn bad_input(message: &str) -> ExitCode {
    eprintln!("karte check: {message}");
    ExitCode::from(BAD_INPUT)
}

fn read_draft(path: &Path) -> Result<String, String> {
    let bytes = if path.as_os_str() == "-" {
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut io::stdin(), &mut bytes)
            .map_err(|e| format!("cannot read the draft from standard input ({e})"))?;
        bytes
    } else {
        std::fs::read(path).map_err(|e| {
            format!(
                "cannot read the draft {} ({e}) — check that it exists and that you may read it",
                path.display()
            )
        })?
    };
    match crate::chart::encoding::decode(&bytes) {
        Ok((text, _)) => Ok(text),
        Err(_) => Err(format!(
            "{}: not a text file (binary, or an encoding other than UTF-8, CP932, EUC-JP) — give the draft as text",
            path.display()
        )),
    }
}

/// A source as the reader needs it: record kind and id, its date, and the text it says.
struct Evidence {
    record: &'static str,
    id: Option<String>,
    date: Option<String>,
    text: Option<String>,
}

const MAX_EVIDENCE_CHARS: usize = 80;

fn clip(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.trim();
    if flat.chars().count() > MAX_EVIDENCE_CHARS {
        let mut s: String = flat.chars().take(MAX_EVIDENCE_CHARS).collect();
        s.push('…');
        s
    } else {
        flat.to_string()
    }
}

fn evidence(chart: &Chart, source: &Source) -> Evidence {
    let date = |d: chrono::NaiveDate| Some(d.format("%Y-%m-%d").to_string());
    match source {
        Source::Patient => Evidence {
            record: "patient",
            id: None,
            date: None,
            text: None,
        },
        Source::Encounter => Evidence {
            record: "encounter",
            id: None,
            date: chart.encounter.admission_date.and_then(date),
            text: None,
        },
        Source::Note { id, start, end } => {
            let note = chart.note(id);
            let text = note.filter(|_| end > start).map(|n| {
                clip(
                    &n.text
                        .chars()
                        .skip(*start)
                        .take(end - start)
                        .collect::<String>(),
                )
            });
            Evidence {
                record: "note",
                id: Some(id.clone()),
                date: note.map(|n| n.datetime.format("%Y-%m-%d %H:%M").to_string()),
                text,
            }
        }
        Source::Lab { id } => {
            let lab = chart.labs.iter().find(|l| &l.id == id);
            Evidence {
                record: "lab",
                id: Some(id.clone()),
                date: lab.map(|l| l.datetime.format("%Y-%m-%d").to_string()),
                text: lab.map(|l| clip(&format!("{} {} {}", l.item, l.value, l.unit))),
            }
        }
        Source::Prescription { id } => {
            let p = chart.prescriptions.iter().find(|p| &p.id == id);
            Evidence {
                record: "prescription",
                id: Some(id.clone()),
                date: p.and_then(|p| p.start).and_then(date),
                text: p.map(|p| clip(&format!("{} {}{} {}", p.drug, p.dose, p.unit, p.frequency))),
            }
        }
        Source::Allergy { id } => Evidence {
            record: "allergy",
            id: Some(id.clone()),
            date: None,
            text: chart
                .allergies
                .iter()
                .find(|a| &a.id == id)
                .map(|a| clip(&format!("{} {}", a.substance, a.reaction))),
        },
        Source::Diagnosis { id } => Evidence {
            record: "diagnosis",
            id: Some(id.clone()),
            date: None,
            text: chart
                .diagnoses
                .iter()
                .find(|d| &d.id == id)
                .map(|d| clip(&d.name)),
        },
    }
}

impl Evidence {
    fn line(&self) -> String {
        let mut line = self.record.to_string();
        if let Some(id) = &self.id {
            line.push_str(&format!(" {id}"));
        }
        if let Some(date) = &self.date {
            line.push_str(&format!(" ({date})"));
        }
        if let Some(text) = &self.text {
            line.push_str(&format!(" 「{text}」"));
        }
        line
    }

    fn json(&self) -> serde_json::Value {
        json!({"record": self.record, "id": self.id, "date": self.date, "text": self.text})
    }
}

fn verdict_label(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Supported => "supported",
        Verdict::Unsupported => "UNSUPPORTED",
        Verdict::Contradicted => "CONTRADICTED",
    }
}

fn items_of<'a>(report: &'a GuardReport, key: &'a str) -> impl Iterator<Item = &'a GuardItem> {
    report.items.iter().filter(move |i| i.section == key)
}

fn write_text(
    out: &mut impl Write,
    chart: &Chart,
    sections: &[DraftFileSection],
    report: &GuardReport,
    blocked: bool,
) -> io::Result<()> {
    for section in sections {
        writeln!(out, "【{}】", section.title)?;
        let mut any = false;
        for item in items_of(report, &section.key) {
            any = true;
            writeln!(
                out,
                "  {:<12} 「{}」 {}",
                verdict_label(item.verdict),
                clip(&item.text),
                item.explanation()
            )?;
            for source in &item.sources {
                writeln!(out, "      ← {}", evidence(chart, source).line())?;
            }
        }
        if !any {
            writeln!(out, "  (no facts to check)")?;
        }
    }
    if !report.omitted.is_empty() {
        writeln!(out, "【省略: カルテにあり下書きにない】")?;
        for fact in &report.omitted {
            writeln!(
                out,
                "  {:<12} {}  ← {}",
                "omitted",
                clip(&fact.label),
                evidence(chart, &fact.source).line()
            )?;
        }
    }
    let c = report.counts();
    writeln!(
        out,
        "\n{} supported, {} unsupported, {} contradicted, {} omitted — {}",
        c.supported,
        c.unsupported,
        c.contradicted,
        c.omitted,
        if blocked {
            "signing is blocked until the unsupported and contradicted items are fixed or acknowledged"
        } else {
            "nothing blocks signing"
        }
    )
}

fn json_report(
    chart: &Chart,
    draft: &Path,
    format: DraftFormat,
    sections: &[DraftFileSection],
    report: &GuardReport,
    blocked: bool,
) -> serde_json::Value {
    let sections: Vec<serde_json::Value> = sections
        .iter()
        .map(|section| {
            let items: Vec<serde_json::Value> = items_of(report, &section.key)
                .map(|item| {
                    let mut value = serde_json::to_value(item).unwrap_or_default();
                    if let Some(object) = value.as_object_mut() {
                        object.insert("explanation".into(), item.explanation().into());
                        object.insert(
                            "evidence".into(),
                            item.sources
                                .iter()
                                .map(|s| evidence(chart, s).json())
                                .collect(),
                        );
                    }
                    value
                })
                .collect();
            json!({"key": section.key, "title": section.title,
                   "provenance_spans": section.provenance.len(), "items": items})
        })
        .collect();
    let omitted: Vec<serde_json::Value> = report
        .omitted
        .iter()
        .map(|o| {
            json!({"kind": o.kind, "label": o.label, "source": o.source,
                   "evidence": evidence(chart, &o.source).json()})
        })
        .collect();
    json!({
        "chart_id": chart.id,
        "draft": draft.display().to_string(),
        "format": format.as_str(),
        "can_sign": !blocked,
        "counts": report.counts(),
        "sections": sections,
        "omitted": omitted,
    })
}
