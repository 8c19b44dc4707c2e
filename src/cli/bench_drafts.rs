//! `karte bench drafts [--queue DIR] [--mode M]`: for every chart of a queue and both
//! documents, drafts with the default model and measures the unedited draft against its
//! chart (draft::quality): narrative characters, flagged facts, numbers not in the chart,
//! key-fact recall, false flags in factual sections, time to the complete draft. Without
//! `--mode`, the three modes run side by side in one run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

use crate::chart::{Chart, Queue};
use crate::draft::quality::{assess, DraftQuality};
use crate::draft::{
    run_blocking, DocumentKind, DocumentTemplate, DraftMode, DraftRequest, DraftSession,
};
use crate::llm::{Engine, EngineConfig, ModelManifest};
use crate::nlp::Pipeline;

use super::Context;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchDraftsArgs {
    /// Queue of charts (default: the configured queue, else the demo queue).
    #[arg(long, value_name = "DIR")]
    pub queue: Option<PathBuf>,
    /// Only this mode (default: evidence, grounded and free side by side).
    #[arg(long, value_name = "MODE")]
    pub mode: Option<DraftMode>,
    /// Sampling seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u32,
    /// llama.cpp threads (default: config, else all cores but one).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Every draft's figures and flagged items as JSON lines, then the summary.
    #[arg(long)]
    pub json: bool,
    /// Print each draft's row (and what was flagged or missed).
    #[arg(long)]
    pub verbose: bool,
}

#[derive(Debug, Serialize)]
struct Row {
    chart: String,
    doc: DocumentKind,
    mode: DraftMode,
    ms: f64,
    #[serde(flatten)]
    quality: DraftQuality,
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    mode: String,
    documents: usize,
    narrative_chars_per_doc: f64,
    discharge_narrative_chars_max: usize,
    flags_per_doc: f64,
    numbers_not_in_chart_per_doc: f64,
    factual_false_flags_per_doc: f64,
    key_fact_recall: f64,
    mean_ms: f64,
    max_ms: f64,
}

pub fn run(args: &BenchDraftsArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let dir = args.queue.clone().unwrap_or_else(|| ctx.queue_dir.clone());
    let queue =
        Queue::scan(&dir).with_context(|| format!("cannot read the queue {}", dir.display()))?;
    let charts: Vec<Arc<Chart>> = queue
        .entries()
        .iter()
        .filter_map(|e| e.chart.as_ref().ok().cloned())
        .collect();
    anyhow::ensure!(!charts.is_empty(), "no chart loads from {}", dir.display());
    let pipeline = Arc::new(
        Pipeline::load(&ctx.paths.ipadic_dir())
            .context("the guard needs the dictionary: run `karte setup`")?,
    );
    let modes: Vec<DraftMode> = match args.mode {
        Some(m) => vec![m],
        None => DraftMode::ALL.to_vec(),
    };
    let manifest = ModelManifest::default_model();
    let mut settings = ctx.config.llm.clone();
    if args.threads.is_some() {
        settings.threads = args.threads;
    }
    let engine = if modes.iter().any(|m| m.needs_model()) {
        let config = EngineConfig::from_settings(ctx.model_path.clone(), &settings, &manifest);
        let (engine, _status) = Engine::start(config);
        engine
            .wait_loaded()
            .with_context(|| format!("cannot load the model {}", ctx.model_path.display()))?;
        Some(Arc::new(engine))
    } else {
        None
    };
    let cpu = cpu_name();
    eprintln!(
        "{} charts from {}, modes {:?}, seed {}, CPU {cpu}",
        charts.len(),
        dir.display(),
        modes,
        args.seed
    );
    let mut rows = Vec::new();
    for &mode in &modes {
        for chart in &charts {
            for doc in DocumentKind::ALL {
                let template = DocumentTemplate::load(doc, &ctx.paths.config_dir)?;
                let mut request = DraftRequest::new(
                    (**chart).clone(),
                    template,
                    settings.sampling(&manifest.sampling),
                );
                request.seed = args.seed;
                request.mode = mode;
                request.pipeline = Some(Arc::clone(&pipeline));
                let started = Instant::now();
                let draft = match &engine {
                    Some(engine) if mode.needs_model() => {
                        run_blocking(Arc::clone(engine), request, |_| {})?
                    }
                    _ => {
                        let mut session = DraftSession::start_without_model(request);
                        let mut done = None;
                        while let Some(event) = session.events.blocking_recv() {
                            if let crate::draft::DraftEvent::Finished(d) = event {
                                done = Some(d);
                                break;
                            }
                        }
                        done.context("the evidence draft did not finish")?
                    }
                };
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                let quality = assess(chart, &draft, &pipeline);
                let row = Row {
                    chart: chart.id.clone(),
                    doc,
                    mode,
                    ms,
                    quality,
                };
                if args.json {
                    println!("{}", serde_json::to_string(&row)?);
                } else if args.verbose {
                    print_row(&row);
                }
                rows.push(row);
            }
        }
    }
    let summaries: Vec<Summary> = modes.iter().map(|m| summarize(*m, &rows)).collect();
    if args.json {
        println!("{}", serde_json::json!({"summary": summaries, "cpu": cpu}));
    } else {
        print_table(&summaries, &cpu, charts.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_row(row: &Row) {
    let q = &row.quality;
    println!(
        "{} {:9} {:8} {:5} chars  flags {}  numbers {}  factual {}  recall {}/{}  {:.0} ms",
        row.chart,
        row.doc.key(),
        row.mode.as_str(),
        q.narrative_chars,
        q.narrative_flags,
        q.numbers_not_in_chart.len(),
        q.factual_flags,
        q.key_facts_found,
        q.key_facts,
        row.ms
    );
    for (section, text, reason) in &q.flagged {
        println!("    flagged [{section}] {text}: {reason}");
    }
    if !q.numbers_not_in_chart.is_empty() {
        println!(
            "    numbers not in the chart: {}",
            q.numbers_not_in_chart.join(", ")
        );
    }
    if !q.missing.is_empty() {
        println!("    missing: {}", q.missing.join(", "));
    }
}

fn summarize(mode: DraftMode, rows: &[Row]) -> Summary {
    let rows: Vec<&Row> = rows.iter().filter(|r| r.mode == mode).collect();
    let n = rows.len().max(1) as f64;
    let sum = |f: &dyn Fn(&Row) -> f64| rows.iter().map(|r| f(r)).sum::<f64>();
    let facts = sum(&|r| r.quality.key_facts as f64);
    Summary {
        mode: mode.as_str().into(),
        documents: rows.len(),
        narrative_chars_per_doc: sum(&|r| r.quality.narrative_chars as f64) / n,
        discharge_narrative_chars_max: rows
            .iter()
            .filter(|r| r.doc == DocumentKind::Discharge)
            .map(|r| r.quality.narrative_chars)
            .max()
            .unwrap_or(0),
        flags_per_doc: sum(&|r| r.quality.narrative_flags as f64) / n,
        numbers_not_in_chart_per_doc: sum(&|r| r.quality.numbers_not_in_chart.len() as f64) / n,
        factual_false_flags_per_doc: sum(&|r| r.quality.factual_flags as f64) / n,
        key_fact_recall: if facts > 0.0 {
            sum(&|r| r.quality.key_facts_found as f64) / facts
        } else {
            1.0
        },
        mean_ms: sum(&|r| r.ms) / n,
        max_ms: rows.iter().map(|r| r.ms).fold(0.0, f64::max),
    }
}

fn print_table(summaries: &[Summary], cpu: &str, charts: usize) {
    println!("karte bench drafts: {charts} charts x 2 documents, CPU {cpu}");
    println!(
        "{:9} {:>5} {:>9} {:>10} {:>9} {:>9} {:>9} {:>8} {:>9} {:>9}",
        "mode",
        "docs",
        "chars/doc",
        "disch.max",
        "flags/doc",
        "nums/doc",
        "fact.fl",
        "recall",
        "mean ms",
        "max ms"
    );
    for s in summaries {
        println!(
            "{:9} {:>5} {:>9.0} {:>10} {:>9.2} {:>9.2} {:>9.2} {:>7.1}% {:>9.0} {:>9.0}",
            s.mode,
            s.documents,
            s.narrative_chars_per_doc,
            s.discharge_narrative_chars_max,
            s.flags_per_doc,
            s.numbers_not_in_chart_per_doc,
            s.factual_false_flags_per_doc,
            s.key_fact_recall * 100.0,
            s.mean_ms,
            s.max_ms
        );
    }
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .map(|name| {
            format!(
                "{name}, {} cores",
                std::thread::available_parallelism().map_or(1, |n| n.get())
            )
        })
        .unwrap_or_else(|| "unknown".into())
}
