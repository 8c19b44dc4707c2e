//! `karte draft <chart> --doc discharge|referral`: streams a draft to stdout with the same
//! engine and draft session as the TUI (plain text, or JSON lines with `--json`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use serde_json::json;

use crate::draft::{
    DocumentKind, DocumentTemplate, DraftEvent, DraftRequest, DraftSession, SectionKind,
    SectionOutline,
};
use crate::llm::{Engine, EngineConfig, EngineEvent, ModelManifest};

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
    /// Chart file (karte JSON, plain text, or FHIR R4 Bundle).
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
    /// Only this section (its template key, e.g. hospital_course); repeatable.
    #[arg(long = "section", value_name = "KEY")]
    pub sections: Vec<String>,
}

pub fn run(args: &DraftArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let chart = crate::chart::load(&args.chart)?;
    let doc = DocumentKind::from(args.doc);
    let template = DocumentTemplate::load(doc, &ctx.paths.config_dir)?;
    let manifest = ModelManifest::default_model();
    let mut settings = ctx.config.llm.clone();
    if args.threads.is_some() {
        settings.threads = args.threads;
    }
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
    let engine = Arc::new(engine);
    let mut request = DraftRequest::new(chart, template, settings.sampling(&manifest.sampling));
    request.seed = args.seed;
    request.max_tokens = args.max_tokens;
    if !args.sections.is_empty() {
        request.only_sections = Some(args.sections.clone());
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        print_json(
            &mut out,
            json!({"event": "model", "name": info.name, "n_ctx": info.n_ctx,
                   "n_threads": info.n_threads, "load_ms": info.load_ms,
                   "server": info.server}),
        )?;
    } else if let Some(server) = &info.server {
        eprintln!(
            "model: {} on server {server} (context {} tokens)",
            info.name, info.n_ctx
        );
    } else {
        eprintln!(
            "model: {} (context {} tokens, {} threads)",
            info.name, info.n_ctx, info.n_threads
        );
    }
    let mut session = DraftSession::start(Arc::clone(&engine), request);
    let mut outlines = Vec::new();
    while let Some(event) = session.events.blocking_recv() {
        let done = if args.json {
            json_event(&mut out, &event)?
        } else {
            text_event(&mut out, &event, &mut outlines)?
        };
        out.flush()?;
        if let Some(result) = done {
            return result;
        }
    }
    anyhow::bail!("the draft session ended without a result")
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
        DraftEvent::Truncated(t) => print_json(
            out,
            json!({"event": "truncated", "omitted_notes": t.omitted_notes,
                   "included_notes": t.included_notes, "omitted_tokens": t.omitted_tokens,
                   "budget_tokens": t.budget_tokens, "notice": t.notice()}),
        )?,
        DraftEvent::SectionStarted { .. } => {}
        DraftEvent::Notice { message } => {
            print_json(out, json!({"event": "notice", "message": message}))?
        }
        DraftEvent::Token { key, text, .. } => {
            print_json(out, json!({"event": "token", "section": key, "text": text}))?
        }
        DraftEvent::SectionDone { section, .. } => print_json(
            out,
            json!({"event": "section", "section": section.key, "title": section.title,
                   "origin": section.origin, "text": section.text,
                   "provenance": section.provenance, "finish": section.finish,
                   "timing": section.timing}),
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
        DraftEvent::SectionStarted { key, .. } => {
            // A narrative section streams: its header comes first.
            if let Some(o) = outlines
                .iter()
                .find(|o| o.key == *key && o.kind == SectionKind::Narrative)
            {
                writeln!(out, "【{}】", o.title)?;
            }
        }
        DraftEvent::Token { text, .. } => write!(out, "{text}")?,
        DraftEvent::Notice { message } => eprintln!("{message}"),
        DraftEvent::SectionDone { section, .. } => {
            match section.kind {
                // Factual text never streams: it is printed whole.
                SectionKind::Factual => writeln!(out, "【{}】\n{}\n", section.title, section.text)?,
                SectionKind::Narrative => writeln!(out, "\n")?,
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
