//! `karte chart PATH [--json]`: the chart(s) karte loads from PATH (a karte JSON, FHIR or
//! text chart file, or an SS-MIX2 patient folder), and what was skipped and why — for
//! hospital IT checking an import.

use crate::chart::ssmix2::{load_any, Skipped};
use crate::chart::Chart;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ChartArgs {
    /// A chart file, or an SS-MIX2 patient folder (ROOT/xxx/yyy/PATIENT_ID).
    pub path: PathBuf,
    /// Print `{"charts": [...], "skipped": [...]}` as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(serde::Serialize)]
struct Loaded<'a> {
    charts: &'a [Chart],
    skipped: &'a [Skipped],
}

pub fn run(args: &ChartArgs) -> anyhow::Result<ExitCode> {
    let (charts, skipped) = load_any(&args.path)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let loaded = Loaded {
            charts: &charts,
            skipped: &skipped,
        };
        serde_json::to_writer_pretty(&mut out, &loaded)?;
        writeln!(out)?;
        return Ok(ExitCode::SUCCESS);
    }
    for chart in &charts {
        write!(out, "{}", summary(chart))?;
    }
    if skipped.is_empty() {
        writeln!(out, "skipped: nothing")?;
    } else {
        writeln!(out, "skipped: {} file(s)", skipped.len())?;
        for s in &skipped {
            writeln!(out, "  {}: {}", s.file.display(), s.reason)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(chart: &Chart) -> String {
    let p = &chart.patient;
    let e = &chart.encounter;
    let date = |d: Option<chrono::NaiveDate>| d.map_or("—".to_owned(), |d| d.to_string());
    let mut s = format!(
        "chart {}\n  patient   {} {} ({}) {} born {}\n  encounter {} – {} ward {:?} department {:?} attending {:?}\n",
        chart.id,
        p.id,
        p.name,
        p.kana,
        p.sex.japanese(),
        date(p.birth_date),
        date(e.admission_date),
        date(e.discharge_date),
        e.ward,
        e.department,
        e.attending,
    );
    s.push_str(&format!(
        "  records   {} diagnoses, {} prescriptions, {} labs, {} allergies, {} notes\n",
        chart.diagnoses.len(),
        chart.prescriptions.len(),
        chart.labs.len(),
        chart.allergies.len(),
        chart.notes.len()
    ));
    if chart.notes.is_empty() {
        s.push_str("  notes     none: narrative sections will have no evidence\n");
    }
    s
}
