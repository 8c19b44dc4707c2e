//! `karte bench model`: throughput and latency of karte's engine for the configured model,
//! in the terms of llama.cpp's `llama-bench` (tg128, pp512) so the two can be compared
//! (scripts/bench-llama-cpp.sh runs both), plus time to first token cold vs. a regeneration
//! that reuses the chart prefix, and peak RSS.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use crate::draft::{DocumentKind, DocumentTemplate, PromptPlan};
use crate::llm::{Engine, EngineConfig, GenerateRequest, ModelManifest, Prompt, Timing};

use super::Context;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchModelArgs {
    /// llama.cpp threads (default: every core, as llama-bench).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Runs of each measurement.
    #[arg(long, default_value_t = 3)]
    pub repetitions: usize,
    /// Tokens generated per generation run (llama-bench tg).
    #[arg(long, default_value_t = 128)]
    pub gen_tokens: usize,
    /// Prompt tokens per prompt run (llama-bench pp).
    #[arg(long, default_value_t = 512)]
    pub prompt_tokens: usize,
    /// Chart for the prefix-reuse measurement (default: the demo chart whose context is
    /// closest to 1,500 tokens).
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
    /// One JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Stat {
    mean: f64,
    stddev: f64,
    samples: Vec<f64>,
}

impl Stat {
    fn of(samples: Vec<f64>) -> Self {
        let n = samples.len().max(1) as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let var = samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n;
        Self {
            mean,
            stddev: var.sqrt(),
            samples,
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    model: String,
    model_file_bytes: u64,
    threads: usize,
    n_ctx: u32,
    generation_tokens_per_s: Stat,
    /// With the engine's default 64-token prompt chunks.
    prompt_tokens_per_s: Stat,
    /// Prompt read in whole batches (`prompt_chunk_tokens = 0`).
    prompt_whole_batch_tokens_per_s: Stat,
    prompt_tokens: usize,
    chart: String,
    chart_context_tokens: usize,
    ttft_cold_ms: Stat,
    ttft_regenerate_ms: Stat,
    ttft_other_section_ms: Stat,
    regenerate_over_cold: f64,
    peak_rss_bytes: u64,
    kv_cache_bytes: u64,
    rss_budget_bytes: u64,
}

pub fn run(args: &BenchModelArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let manifest = ModelManifest::default_model();
    let mut settings = ctx.config.llm.clone();
    settings.threads = Some(
        args.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
    );
    let config = EngineConfig::from_settings(ctx.model_path.clone(), &settings, &manifest);
    let (engine, _status) = Engine::start(config.clone());
    let info = engine
        .wait_loaded()
        .with_context(|| format!("cannot load the model {}", ctx.model_path.display()))?;
    let tokenizer = engine.tokenizer().context("the model has no tokenizer")?;
    let sampling = settings.sampling(&manifest.sampling);
    let reps = args.repetitions.max(1);
    let run = |prompt: &str, max_tokens: usize, reuse: bool| {
        timed(&engine, &sampling, prompt, max_tokens, reuse)
    };
    let say = |what: &str| {
        if !args.json {
            eprintln!("… {what}");
        }
    };

    say("warm-up");
    run("診療情報提供書", 8, false)?;

    say("generation");
    let mut gen = Vec::new();
    for _ in 0..reps {
        gen.push(run("退院時サマリー\n【入院後経過】\n", args.gen_tokens, false)?.tokens_per_s);
    }

    say("prompt");
    let prompt = text_of_tokens(&tokenizer, args.prompt_tokens.saturating_sub(1));
    let mut pp = Vec::new();
    let mut prompt_tokens = 0;
    for _ in 0..reps {
        let t = run(&prompt, 1, false)?;
        prompt_tokens = t.prompt_tokens;
        pp.push(t.prompt_tokens_per_s);
    }

    say("time to first token, cold vs. regeneration");
    let (chart_name, plan) = chart_context(args, &tokenizer, info.n_ctx)?;
    let template = DocumentTemplate::builtin(DocumentKind::Discharge);
    let section_prompt = |key: &str| -> anyhow::Result<String> {
        let section = template.section(key).context("template section")?;
        match plan.section_prompt(&template, section) {
            Prompt::Text(t) => Ok(t),
            Prompt::Chat(_) => anyhow::bail!("the benchmark expects a completion model"),
        }
    };
    let course = section_prompt("hospital_course")?;
    let plan_section = section_prompt("plan")?;
    let context_tokens = tokenizer.count(&plan.prefix);
    let (mut cold, mut regen, mut other) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps {
        cold.push(run(&course, 1, false)?.ttft_ms);
        regen.push(run(&course, 1, true)?.ttft_ms);
        other.push(run(&plan_section, 1, true)?.ttft_ms);
    }
    let ttft_cold = Stat::of(cold);
    let ttft_regen = Stat::of(regen);
    let peak_rss = peak_rss_bytes().unwrap_or(0);
    drop(engine);

    // The same prompts read in whole batches (as llama-bench does), without the short
    // chunks that keep the engine responsive to a cancel.
    say("prompt, whole batches");
    let mut whole_config = config.clone();
    whole_config.prompt_chunk_tokens = 0;
    let (whole, _status) = Engine::start(whole_config);
    whole.wait_loaded()?;
    timed(&whole, &sampling, "診療情報提供書", 8, false)?;
    let mut pp_whole = Vec::new();
    for _ in 0..reps {
        pp_whole.push(timed(&whole, &sampling, &prompt, 1, false)?.prompt_tokens_per_s);
    }
    let report = Report {
        model: info.name.clone(),
        model_file_bytes: info.file_size,
        threads: info.n_threads,
        n_ctx: info.n_ctx,
        generation_tokens_per_s: Stat::of(gen),
        prompt_tokens_per_s: Stat::of(pp),
        prompt_whole_batch_tokens_per_s: Stat::of(pp_whole),
        prompt_tokens,
        chart: chart_name,
        chart_context_tokens: context_tokens,
        regenerate_over_cold: ttft_regen.mean / ttft_cold.mean.max(f64::EPSILON),
        ttft_cold_ms: ttft_cold,
        ttft_regenerate_ms: ttft_regen,
        ttft_other_section_ms: Stat::of(other),
        peak_rss_bytes: peak_rss,
        kv_cache_bytes: info.kv_cache_bytes,
        rss_budget_bytes: info.file_size + info.kv_cache_bytes + 200 * 1024 * 1024,
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report, args);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(r: &Report, args: &BenchModelArgs) {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "model      {} ({:.0} MiB), {} threads, context {}",
        r.model,
        mib(r.model_file_bytes),
        r.threads,
        r.n_ctx
    );
    println!(
        "tg{:<8} {:8.2} ± {:.2} tokens/s   (generation through the engine, sampling included)",
        args.gen_tokens, r.generation_tokens_per_s.mean, r.generation_tokens_per_s.stddev
    );
    println!(
        "pp{:<8} {:8.2} ± {:.2} tokens/s   ({} prompt tokens)",
        args.prompt_tokens,
        r.prompt_tokens_per_s.mean,
        r.prompt_tokens_per_s.stddev,
        r.prompt_tokens
    );
    println!(
        "ttft       cold {:.0} ms, regenerate {:.0} ms ({:.1}% of cold), other section {:.0} ms   ({}, {} context tokens)",
        r.ttft_cold_ms.mean,
        r.ttft_regenerate_ms.mean,
        100.0 * r.regenerate_over_cold,
        r.ttft_other_section_ms.mean,
        r.chart,
        r.chart_context_tokens
    );
    println!(
        "peak RSS   {:.0} MiB (budget: model {:.0} + KV cache {:.0} + 200 = {:.0} MiB)",
        mib(r.peak_rss_bytes),
        mib(r.model_file_bytes),
        mib(r.kv_cache_bytes),
        mib(r.rss_budget_bytes)
    );
}

fn timed(
    engine: &Engine,
    sampling: &crate::llm::Sampling,
    prompt: &str,
    max_tokens: usize,
    reuse: bool,
) -> anyhow::Result<Timing> {
    let mut r = GenerateRequest::new(Prompt::Text(prompt.to_string()), sampling.clone());
    r.max_tokens = max_tokens;
    r.reuse_prefix = reuse;
    r.ignore_eos = true;
    let out = engine.generate(r, |_| {})?;
    out.timing.context("no timing reported")
}

/// Japanese clinical-style text of at least `tokens` tokens.
fn text_of_tokens(tokenizer: &crate::llm::Tokenizer, tokens: usize) -> String {
    const SENTENCES: [&str; 4] = [
        "3日前から38℃台の発熱と湿性咳嗽が出現し、呼吸困難が増悪したため来院した。",
        "胸部X線で右下肺野に浸潤影を認め、CRP 15.2 mg/dL、WBC 13800/μLであった。",
        "セフトリアキソン2g/日の点滴で治療を開始し、第3病日に解熱した。",
        "食事摂取は良好で、ADLは自立している。外来で経過を確認する予定である。",
    ];
    let mut text = String::new();
    let mut i = 0;
    while tokenizer.count(&text) < tokens {
        text.push_str(SENTENCES[i % SENTENCES.len()]);
        i += 1;
    }
    text
}

/// The chart's shared draft context (or the demo chart closest to 1,500 tokens).
fn chart_context(
    args: &BenchModelArgs,
    tokenizer: &crate::llm::Tokenizer,
    n_ctx: u32,
) -> anyhow::Result<(String, PromptPlan)> {
    let template = DocumentTemplate::builtin(DocumentKind::Discharge);
    let candidates: Vec<PathBuf> = match &args.chart {
        Some(path) => vec![path.clone()],
        None => {
            let dir = crate::context::demo_queue_dir();
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .with_context(|| format!("cannot list the demo charts in {}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            files
        }
    };
    let mut best: Option<(usize, String, PromptPlan)> = None;
    for path in candidates {
        let Ok(chart) = crate::chart::load(&path) else {
            continue;
        };
        let plan = PromptPlan::build(&chart, &template, tokenizer, n_ctx, false, None)?;
        let distance = tokenizer.count(&plan.prefix).abs_diff(1500);
        if best.as_ref().is_none_or(|(d, _, _)| distance < *d) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            best = Some((distance, name, plan));
        }
    }
    best.map(|(_, name, plan)| (name, plan))
        .context("no chart to measure the chart-context prefix with")
}

/// VmHWM (peak resident set) of this process, from /proc/self/status.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
