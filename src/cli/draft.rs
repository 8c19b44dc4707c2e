//! `karte draft <chart> --doc discharge|referral`: streams a draft to stdout with the same
//! engine and draft session as the TUI (plain text, or JSON lines with `--json`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use serde_json::json;

use crate::draft::{
    DocumentKind, DocumentTemplate, DraftEvent, DraftMode, DraftRequest, DraftSession, SectionKind,
    SectionOutline,
};
use crate::llm::{Engine, EngineConfig, EngineEvent, ModelManifest};
use crate::nlp::Pipeline;

use super::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DocArg {
    /// 診療情報提供書
    Referral,
    /// 退院時サマリー
    Discharge,
}

impl From<DocArg> for DocumentKind {
    fn from(d: DocArg) -> Self {
        match d {
            DocArg::Referral => DocumentKind::Referral,
            DocArg::Discharge => DocumentKind::Discharge,
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct DraftArgs {
    /// Chart file (karte JSON, plain text, or FHIR R4 Bundle), an SS-MIX2 patient folder with
    /// one encounter, or a chart id of an `ssmix2:ROOT` queue (e.g. PID-I20260114).
    pub chart: PathBuf,
    /// Document type.
    #[arg(long, value_enum)]
    pub doc: DocArg,
    /// JSON lines on stdout: started, truncated, token, section, finished.
    #[arg(long)]
    pub json: bool,
    /// Sampling seed (the same seed gives the same draft).
    #[arg(long, default_value_t = 0)]
    pub seed: u32,
    /// Most tokens per generated section (default: each section's own bound).
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<usize>,
    /// llama.cpp threads (default: config, else all cores but one).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// How narrative sections are written: evidence (quoted from the chart, no model),
    /// grounded (the model rewrites each section's evidence, checked sentence by sentence)
    /// or free (the model writes from the whole chart). Default: the model manifest's.
    #[arg(long, value_name = "MODE")]
    pub mode: Option<DraftMode>,
    /// Only this section (its template key, e.g. hospital_course); repeatable.
    #[arg(long = "section", value_name = "KEY")]
    pub sections: Vec<String>,
}

/// The mode a draft uses: `--mode`, else the model manifest's default.
pub fn draft_mode(arg: Option<DraftMode>, manifest: &ModelManifest) -> anyhow::Result<DraftMode> {
    match arg {
        Some(mode) => Ok(mode),
        None => manifest
            .draft
            .mode
            .parse()
            .map_err(|e: String| anyhow::anyhow!("model manifest [draft] mode: {e}")),
    }
}

/// The NLP pipeline for the guard that checks `grounded` sentences, when the dictionary is
/// installed (without it only numbers and the format example are checked).
pub fn guard_pipeline(ctx: &Context) -> Option<Arc<Pipeline>> {
    match Pipeline::load(&ctx.paths.ipadic_dir()) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            tracing::warn!(error = %e, "no dictionary: grounded sentences are checked without the guard");
            None
        }
    }
}

pub fn run(args: &DraftArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let chart = load_chart(&args.chart, &ctx.queue_dir)?;
    let doc = DocumentKind::from(args.doc);
    let template = DocumentTemplate::load(doc, &ctx.paths.config_dir)?;
    let manifest = ModelManifest::default_model();
    let mode = draft_mode(args.mode, &manifest)?;
    let mut settings = ctx.config.llm.clone();
    if args.threads.is_some() {
        settings.threads = args.threads;
    }
    let mut request = DraftRequest::new(chart, template, settings.sampling(&manifest.sampling));
    request.seed = args.seed;
    request.max_tokens = args.max_tokens;
    request.mode = mode;
    if !args.sections.is_empty() {
        request.only_sections = Some(args.sections.clone());
    }
    if mode == DraftMode::Grounded {
        request.pipeline = guard_pipeline(ctx);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut session = if request.needs_model() {
        let config = EngineConfig::from_settings(ctx.model_path.clone(), &settings, &manifest);
        let (engine, mut status) = Engine::start(config);
        let info = engine
            .wait_loaded()
            .with_context(|| format!("cannot load the model {}", ctx.model_path.display()))?;
        // Drain the load events (progress was shown by nothing; the CLI just waited).
        while let Ok(event) = status.try_recv() {
            if let EngineEvent::LoadFailed(e) = event {
                return Err(e.into());
            }
        }
        if args.json {
            print_json(
                &mut out,
                json!({"event": "model", "name": info.name, "n_ctx": info.n_ctx,
                       "n_threads": info.n_threads, "load_ms": info.load_ms, "mode": mode,
                       "server": info.server}),
            )?;
        } else if let Some(server) = &info.server {
            eprintln!(
                "model: {} on server {server} (context {} tokens), mode {mode}",
                info.name, info.n_ctx
            );
        } else {
            eprintln!(
                "model: {} (context {} tokens, {} threads), mode {mode}",
                info.name, info.n_ctx, info.n_threads
            );
        }
        DraftSession::start(Arc::new(engine), request)
    } else {
        if !args.json {
            eprintln!("mode {mode}: no model needed");
        }
        DraftSession::start_without_model(request)
    };
    let mut outlines = Vec::new();
    let result = loop {
        let Some(event) = session.events.blocking_recv() else {
            break Err(anyhow::anyhow!("the draft session ended without a result"));
        };
        let done = if args.json {
            json_event(&mut out, &event)?
        } else {
            text_event(&mut out, &event, &mut outlines)?
        };
        out.flush()?;
        if let Some(result) = done {
            break result;
        }
    };
    // The engine stopped (its thread joined) before the process exits.
    session.wait_ended();
    result
}

type Done = Option<anyhow::Result<ExitCode>>;

fn print_json(out: &mut impl Write, value: serde_json::Value) -> anyhow::Result<()> {
    writeln!(out, "{value}")?;
    Ok(())
}

fn json_event(out: &mut impl Write, event: &DraftEvent) -> anyhow::Result<Done> {
    match event {
        DraftEvent::Started {
            doc,
            title,
            chart_id,
            sections,
        } => print_json(
            out,
            json!({"event": "started", "doc": doc, "title": title, "chart_id": chart_id,
                   "sections": sections}),
        )?,
        DraftEvent::Notice { message } => {
            print_json(out, json!({"event": "notice", "message": message}))?
        }
        DraftEvent::Truncated(t) => print_json(
            out,
            json!({"event": "truncated", "omitted_notes": t.omitted_notes,
                   "included_notes": t.included_notes, "omitted_tokens": t.omitted_tokens,
                   "budget_tokens": t.budget_tokens, "notice": t.notice()}),
        )?,
        DraftEvent::SectionStarted { .. } => {}
        DraftEvent::Token { key, text, .. } => {
            print_json(out, json!({"event": "token", "section": key, "text": text}))?
        }
        DraftEvent::SectionDone { section, .. } => print_json(
            out,
            json!({"event": "section", "section": section.key, "title": section.title,
                   "origin": section.origin, "text": section.text,
                   "provenance": section.provenance, "finish": section.finish,
                   "timing": section.timing, "mode": section.mode,
                   "aligned": section.aligned, "fallbacks": section.fallbacks}),
        )?,
        DraftEvent::Finished(draft) => {
            print_json(
                out,
                json!({"event": "finished", "chart_id": draft.chart_id,
                       "sections": draft.sections.len(), "seed": draft.seed}),
            )?;
            return Ok(Some(Ok(ExitCode::SUCCESS)));
        }
        DraftEvent::Cancelled(_) => {
            return Ok(Some(Err(anyhow::anyhow!("the draft was cancelled"))))
        }
        DraftEvent::Failed { error } => return Ok(Some(Err(anyhow::anyhow!("{error}")))),
    }
    Ok(None)
}

fn text_event(
    out: &mut impl Write,
    event: &DraftEvent,
    outlines: &mut Vec<SectionOutline>,
) -> anyhow::Result<Done> {
    match event {
        DraftEvent::Started {
            title, sections, ..
        } => {
            *outlines = sections.clone();
            writeln!(out, "{title}\n")?
        }
        DraftEvent::Truncated(t) => writeln!(out, "※ {}\n", t.notice())?,
        DraftEvent::Notice { message } => eprintln!("※ {message}"),
        DraftEvent::SectionStarted { key, .. } => {
            // A narrative section streams to the terminal (stderr) while it is written;
            // stdout gets each section whole, as checked, so it can be piped.
            if let Some(o) = outlines
                .iter()
                .find(|o| o.key == *key && o.kind == SectionKind::Narrative)
            {
                eprintln!("【{}】", o.title);
            }
        }
        DraftEvent::Token { text, .. } => eprint!("{text}"),
        DraftEvent::SectionDone { section, .. } => {
            if section.kind == SectionKind::Narrative {
                eprintln!();
            }
            writeln!(out, "【{}】\n{}\n", section.title, section.text)?;
            if !section.fallbacks.is_empty() {
                eprintln!(
                    "  [{}] {} sentence(s) the model wrote unfaithfully were replaced by their evidence",
                    section.key,
                    section.fallbacks.len()
                );
            }
            if let Some(t) = &section.timing {
                eprintln!(
                    "  [{}] ttft {:.0} ms, {:.1} tokens/s, {} tokens ({} reused of {} prompt){}",
                    section.key,
                    t.ttft_ms,
                    t.tokens_per_s,
                    t.generated_tokens,
                    t.reused_tokens,
                    t.prompt_tokens,
                    match section.finish {
                        Some(crate::llm::FinishReason::MaxTokens) => ", cut at max tokens",
                        _ => "",
                    }
                );
            }
        }
        DraftEvent::Finished(_) => return Ok(Some(Ok(ExitCode::SUCCESS))),
        DraftEvent::Cancelled(_) => {
            return Ok(Some(Err(anyhow::anyhow!("the draft was cancelled"))))
        }
        DraftEvent::Failed { error } => return Ok(Some(Err(anyhow::anyhow!("{error}")))),
    }
    Ok(None)
}

/// A chart file; else, for an SS-MIX2 queue, a chart id in the storage; else an SS-MIX2
/// patient folder with exactly one encounter.
fn load_chart(
    arg: &std::path::Path,
    queue_dir: &std::path::Path,
) -> anyhow::Result<crate::chart::Chart> {
    use crate::chart::ssmix2;
    if arg.is_file() {
        return Ok(crate::chart::load(arg)?);
    }
    if let (Some(root), Some(id)) = (ssmix2::storage_root(queue_dir), arg.to_str()) {
        if let Some(chart) = ssmix2::find_chart(&root, id)? {
            return Ok(chart);
        }
    }
    let (mut charts, _skipped) = ssmix2::load_any(arg)?;
    match charts.len() {
        1 => Ok(charts.remove(0)),
        _ => anyhow::bail!(
            "{} holds {} encounters ({}): give one as `--queue ssmix2:ROOT ID`",
            arg.display(),
            charts.len(),
            charts
                .iter()
                .map(|c| c.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
