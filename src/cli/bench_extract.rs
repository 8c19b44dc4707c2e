//! `karte bench extract`: full entity extraction against MeCab tokenizing the same corpus
//! (Debian's `mecab` + `mecab-ipadic-utf8`, `-Owakati`, output discarded), in one run; plus
//! the latency of one 20,000-character chart and a check that dictionaries load once.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};

use super::Context;
use crate::nlp::{dictionary, Pipeline};

#[derive(Debug, clap::Args)]
pub struct BenchExtractArgs {
    /// Corpus file (UTF-8; documents separated by blank lines). Default: the notes of the
    /// demo charts (fixtures/demo) and the gold-set passages (fixtures/gold), repeated.
    #[arg(long, value_name = "FILE")]
    pub corpus: Option<PathBuf>,
    /// Corpus size in megabytes (the documents are repeated up to this size).
    #[arg(long, default_value_t = 5.0)]
    pub mb: f64,
    /// Rounds of the throughput comparison (karte and MeCab alternate; the best counts).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Runs of the 20,000-character chart latency measurement.
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
}

const MB: f64 = 1_000_000.0;
const CHART_CHARS: usize = 20_000;

pub fn run(args: &BenchExtractArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    if !(args.mb > 0.0 && args.mb <= 1000.0) {
        bail!("--mb must be between 0 and 1000 (got {})", args.mb);
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "karte: warning: this binary is an unoptimized debug build; its numbers are not \
             representative. Use `cargo build --release` or scripts/bench-extract.sh."
        );
    }
    let documents = source_documents(args)?;
    let corpus = repeat_to_size(&documents, (args.mb * MB) as usize);
    let corpus_bytes: usize = corpus.iter().map(|d| d.len() + 1).sum();
    println!(
        "corpus: {:.2} MB in {} documents ({} distinct)",
        corpus_bytes as f64 / MB,
        corpus.len(),
        documents.len()
    );

    let load_started = Instant::now();
    let pipeline = Pipeline::load(&ctx.paths.ipadic_dir())?;
    let load_time = load_started.elapsed();

    let mut text = corpus.join("\n");
    text.push('\n');
    let (startup, startup_cpu) = time_mecab("")?;
    // Rounds alternate karte and MeCab so that both see the same machine load.
    let mut karte_times = Vec::new();
    let mut mecab_times = Vec::new();
    let (mut karte_cpu_times, mut mecab_cpu_times) = (Vec::new(), Vec::new());
    let mut entities = 0usize;
    for round in 1..=args.rounds.max(1) {
        let (started, started_cpu) = (Instant::now(), process_cpu_time());
        entities = corpus.iter().map(|d| pipeline.extract(d).len()).sum();
        let karte_time = started.elapsed();
        let karte_cpu = process_cpu_time().saturating_sub(started_cpu);
        let (mecab_time, mecab_cpu) = time_mecab(&text)?;
        let mecab_time = mecab_time.saturating_sub(startup);
        let mecab_cpu = mecab_cpu.saturating_sub(startup_cpu);
        println!(
            "round {round}: karte {:.3} s (cpu {:.3} s), mecab {:.3} s (cpu {:.3} s), ratio {:.2}x (cpu {:.2}x)",
            karte_time.as_secs_f64(),
            karte_cpu.as_secs_f64(),
            mecab_time.as_secs_f64(),
            mecab_cpu.as_secs_f64(),
            mecab_time.as_secs_f64() / karte_time.as_secs_f64(),
            mecab_cpu.as_secs_f64() / karte_cpu.as_secs_f64().max(1e-9)
        );
        karte_times.push(karte_time);
        mecab_times.push(mecab_time);
        karte_cpu_times.push(karte_cpu);
        mecab_cpu_times.push(mecab_cpu);
    }
    let best = |times: &[Duration]| times.iter().copied().min().unwrap_or_default();
    let mbps = |d: Duration| corpus_bytes as f64 / MB / d.as_secs_f64().max(1e-9);
    let (karte_best, mecab_best) = (best(&karte_times), best(&mecab_times));
    println!(
        "karte extract (full pipeline): {:>7.3} s  {:>7.2} MB/s  ({entities} entities; best of {})",
        karte_best.as_secs_f64(),
        mbps(karte_best),
        karte_times.len()
    );
    println!(
        "mecab -Owakati (tokenize):     {:>7.3} s  {:>7.2} MB/s  (startup {:.1} ms excluded; best of {})",
        mecab_best.as_secs_f64(),
        mbps(mecab_best),
        startup.as_secs_f64() * 1000.0,
        mecab_times.len()
    );
    println!(
        "ratio: karte full extraction / MeCab tokenize-only = {:.2}x wall time, {:.2}x CPU time \
         (best of each; target >= 1.0x)",
        mbps(karte_best) / mbps(mecab_best),
        best(&mecab_cpu_times).as_secs_f64() / best(&karte_cpu_times).as_secs_f64().max(1e-9)
    );

    let chart: String = text.chars().take(CHART_CHARS).collect();
    let mut times: Vec<Duration> = (0..args.runs.max(1))
        .map(|_| {
            let started = Instant::now();
            let found = pipeline.extract(&chart);
            std::hint::black_box(found);
            started.elapsed()
        })
        .collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{CHART_CHARS}-character chart: median {:.2} ms, min {:.2} ms, max {:.2} ms over {} runs (target < 30 ms)",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    );
    let loads = dictionary::load_count();
    println!(
        "dictionary loads: {loads} (pipeline load {:.1} ms; IPADIC memory-mapped)",
        ms(load_time)
    );
    if loads != 1 {
        bail!("the dictionary was loaded {loads} times; it must load once");
    }
    Ok(ExitCode::SUCCESS)
}

fn source_documents(args: &BenchExtractArgs) -> anyhow::Result<Vec<String>> {
    let documents: Vec<String> = match &args.corpus {
        Some(path) => {
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read corpus {}", path.display()))?;
            String::from_utf8_lossy(&bytes)
                .split("\n\n")
                .map(|d| d.trim().to_string())
                .filter(|d| !d.is_empty())
                .collect()
        }
        None => {
            let mut documents = demo_notes()?;
            documents.extend(gold_passages()?);
            documents
        }
    };
    if documents.is_empty() {
        bail!("the corpus has no text");
    }
    Ok(documents)
}

/// The notes of the demo charts shipped in the source tree.
fn demo_notes() -> anyhow::Result<Vec<String>> {
    let dir = crate::context::demo_queue_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    let mut notes = Vec::new();
    for path in paths {
        let chart = crate::chart::load(&path)?;
        notes.extend(chart.notes.into_iter().map(|note| note.text));
    }
    Ok(notes)
}

/// The gold-set passages shipped in the source tree (karte is built where it runs).
fn gold_passages() -> anyhow::Result<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/gold/passages.jsonl");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read {}; pass a corpus with --corpus FILE",
            path.display()
        )
    })?;
    let mut documents = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}: line {} is not JSON", path.display(), number + 1))?;
        if let Some(passage) = value.get("text").and_then(|t| t.as_str()) {
            documents.push(passage.to_string());
        }
    }
    Ok(documents)
}

fn repeat_to_size(documents: &[String], bytes: usize) -> Vec<String> {
    let mut corpus = Vec::new();
    let mut total = 0;
    while total < bytes {
        for document in documents {
            total += document.len() + 1;
            corpus.push(document.clone());
            if total >= bytes {
                break;
            }
        }
    }
    corpus
}

/// CPU time this process has used (user + system), for a load-independent comparison.
fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    if status != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        now.tv_sec.max(0) as u64,
        now.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// CPU time (user + system) used by this process's finished children.
fn children_cpu_time() -> Duration {
    // SAFETY: an all-zero rusage is a valid value, and getrusage fills it through a valid
    // pointer.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let status = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    if status != 0 {
        return Duration::ZERO;
    }
    let time = |t: libc::timeval| {
        Duration::new(
            t.tv_sec.max(0) as u64,
            (t.tv_usec.clamp(0, 999_999) * 1000) as u32,
        )
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Wall time and CPU time of `mecab -Owakati` reading `text` on stdin, output discarded.
fn time_mecab(text: &str) -> anyhow::Result<(Duration, Duration)> {
    let cpu_before = children_cpu_time();
    let started = Instant::now();
    let mut child = Command::new("mecab")
        .arg("-Owakati")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start `mecab`: install Debian's mecab and mecab-ipadic-utf8")?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .context("cannot write to mecab")?;
    }
    let status = child.wait().context("mecab did not finish")?;
    let elapsed = started.elapsed();
    if !status.success() {
        bail!("mecab failed ({status})");
    }
    Ok((elapsed, children_cpu_time().saturating_sub(cpu_before)))
}
