//! `karte bench metrics`: what recording costs the UI thread, how fast the writer commits,
//! and how long `karte report` takes over a large DB (default 1,000,000 events).

use crate::cli::Context;
use crate::metrics::{
    self, Arm, DocumentRef, EditKind, EventKind, FocusTarget, PseudonymKey, Recorder,
    RecorderOptions, ReportOptions, SignStats, Study, StudyConfig,
};
use anyhow::Context as _;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct MetricsBenchArgs {
    /// Events in the synthetic DB the report is timed on.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub events: usize,
    /// `record` calls timed on the calling thread.
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    pub record_calls: usize,
    /// Directory for the benchmark DBs (default: a new private dir under the system temp dir,
    /// removed afterwards).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Report runs to time (the median is printed).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub report_runs: usize,
}

pub fn run(args: &MetricsBenchArgs, ctx: &Context) -> anyhow::Result<ExitCode> {
    let (dir, remove_after) = match &args.dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("karte-bench-metrics-{}", std::process::id())),
            true,
        ),
    };
    crate::paths::create_private_dir(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let result = run_in(args, ctx, &dir);
    if remove_after {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

fn run_in(
    args: &MetricsBenchArgs,
    ctx: &Context,
    dir: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    println!(
        "karte bench metrics ({})",
        if cfg!(debug_assertions) {
            "debug assertions on: use an optimized build for numbers to publish"
        } else {
            "optimized build"
        }
    );
    bench_record_cost(args.record_calls, &dir.join("record-cost.sqlite3"));
    bench_sign_stats();
    let db_path = dir.join("report.sqlite3");
    let _ = std::fs::remove_file(&db_path);
    let started = Instant::now();
    let written = fill_synthetic_db(&db_path, args.events)?;
    let fill = started.elapsed();
    println!(
        "writer: {written} events committed in {:.2} s ({:.0} events/s)",
        fill.as_secs_f64(),
        written as f64 / fill.as_secs_f64().max(1e-9)
    );
    let options = ReportOptions {
        idle_threshold_secs: ctx.config.metrics.idle_threshold_secs,
        ..ReportOptions::default()
    };
    let key = PseudonymKey::from_bytes([0x5a; 32]);
    let mut timings = Vec::new();
    let mut documents = 0;
    for _ in 0..args.report_runs.max(1) {
        let started = Instant::now();
        let report = metrics::load_report(&db_path, &options, &key)?;
        timings.push(started.elapsed());
        documents = report.documents.len();
    }
    timings.sort();
    let median = timings[timings.len() / 2];
    println!(
        "report: {written} events, {documents} signed documents, {} bootstrap resamples: median {:.3} s over {} runs (min {:.3} s, max {:.3} s; target < 2 s)",
        options.bootstrap_resamples,
        median.as_secs_f64(),
        timings.len(),
        timings[0].as_secs_f64(),
        timings[timings.len() - 1].as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// Times `record` on this thread in bursts of 1,000 (the writer drains between bursts, as it
/// would between key presses).
fn bench_record_cost(calls: usize, db_path: &std::path::Path) {
    let recorder = Recorder::start(RecorderOptions {
        db_path: db_path.to_path_buf(),
        clinician: "bench".into(),
        buffer_capacity: 50_000,
        retry_interval: Duration::from_millis(100),
    });
    let document = DocumentRef::new("bench-chart", "referral_letter", 1);
    let kind = EventKind::Edit {
        kind: EditKind::Typed,
        chars: 1,
    };
    let mut per_call_ns: Vec<u64> = Vec::with_capacity(calls);
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < calls {
        let burst = (calls - done).min(1_000);
        let burst_started = Instant::now();
        for _ in 0..burst {
            let started = Instant::now();
            recorder.record(&document, kind);
            per_call_ns.push(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
        }
        total += burst_started.elapsed();
        done += burst;
        recorder.flush(Duration::from_secs(10));
    }
    per_call_ns.sort_unstable();
    let at = |q: f64| per_call_ns[((per_call_ns.len() - 1) as f64 * q) as usize];
    let health = recorder.health();
    println!(
        "record: {calls} calls on the calling thread: mean {:.0} ns/event (loop incl. timing), p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns, {} calls over 10 µs (preempted); dropped {}, written {} (target < 10 µs)",
        total.as_nanos() as f64 / calls.max(1) as f64,
        at(0.5),
        at(0.99),
        at(0.999),
        per_call_ns.last().copied().unwrap_or(0),
        per_call_ns.iter().filter(|ns| **ns > 10_000).count(),
        health.dropped,
        health.written
    );
}

/// Times the draft-vs-signed comparison (runs on the writer thread at sign time) for a
/// 2,000-character document with about 10 % of it edited.
fn bench_sign_stats() {
    let alphabet: Vec<char> = "あいうえおかきくけこさしすせそ患者入院退院処方検査経過良好。、"
        .chars()
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let draft: String = (0..2_000)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())])
        .collect();
    let signed: String = draft
        .chars()
        .filter_map(|c| match rng.random_range(0..30) {
            0 => None,
            1 => Some(alphabet[rng.random_range(0..alphabet.len())]),
            _ => Some(c),
        })
        .collect();
    let runs = 5;
    let started = Instant::now();
    let mut stats = SignStats::default();
    for _ in 0..runs {
        stats = SignStats::from_texts(Some(&draft), &signed);
    }
    println!(
        "sign stats: 2,000-char draft vs {}-char signed text (edit distance {}): {:.1} ms per sign (writer thread)",
        stats.signed_chars,
        stats.edit_distance.unwrap_or(0),
        started.elapsed().as_secs_f64() * 1000.0 / runs as f64
    );
}

/// Writes about `target_events` realistic events through real recorders: 8 clinicians, each
/// one session, documents of ~500 events (focus changes, edits, model waits, flags, sign).
fn fill_synthetic_db(db_path: &std::path::Path, target_events: usize) -> anyhow::Result<u64> {
    let study = Study::from_config(&StudyConfig {
        name: "bench".into(),
        arms: vec!["manual".into(), "assisted".into()],
        unit: None,
        seed: Some(1),
    })?;
    let clinicians = 8;
    let events_per_document = 500;
    let documents = (target_events / events_per_document).max(1);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut written = 0;
    for clinician in 0..clinicians {
        let name = format!("clinician-{clinician}");
        let recorder = Recorder::start(RecorderOptions {
            db_path: db_path.to_path_buf(),
            clinician: name.clone(),
            buffer_capacity: 2_000_000,
            retry_interval: Duration::from_millis(100),
        });
        let mut mono_us: i64 = 0;
        let wall_start: i64 = 1_775_000_000_000 + clinician as i64 * 86_400_000;
        let mut emitted: u64 = 0;
        for index in (clinician..documents).step_by(clinicians) {
            let doc_type = if index % 2 == 0 {
                "referral_letter"
            } else {
                "discharge_summary"
            };
            let plain = DocumentRef::new(&format!("bench-chart-{index}"), doc_type, 1);
            let arm = study.arm_for(&name, plain.document_id());
            let document = plain.in_study(&study.name, arm);
            let mut emit = |kind: EventKind, step_us: i64, recorder: &Recorder| {
                mono_us += step_us;
                recorder.record_at(Some(&document), kind, mono_us, wall_start + mono_us / 1000);
                emitted += 1;
            };
            emit(EventKind::OpenChart, 1_000_000, &recorder);
            if arm == Arm::Assisted {
                emit(EventKind::Generate, 5_000_000, &recorder);
                emit(EventKind::ModelWaitStart, 1_000, &recorder);
                emit(EventKind::FlagRaised { count: 2 }, 20_000_000, &recorder);
                emit(EventKind::ModelWaitEnd, 1_000, &recorder);
            }
            emit(EventKind::Focus(FocusTarget::Draft), 8_000_000, &recorder);
            let body = events_per_document - if arm == Arm::Assisted { 7 } else { 3 };
            for step in 0..body {
                let kind = match step % 50 {
                    0 => EventKind::Focus(FocusTarget::Chart),
                    1 => EventKind::Focus(FocusTarget::Draft),
                    7 => EventKind::Edit {
                        kind: EditKind::Pasted,
                        chars: rng.random_range(5..80),
                    },
                    13 => EventKind::Edit {
                        kind: EditKind::Undone,
                        chars: 1,
                    },
                    _ if step % 4 == 0 => EventKind::Edit {
                        kind: EditKind::Deleted,
                        chars: 1,
                    },
                    _ => EventKind::Edit {
                        kind: EditKind::Typed,
                        chars: rng.random_range(1..4),
                    },
                };
                // Mostly quick typing, sometimes a pause longer than the idle threshold.
                let gap = if rng.random_bool(0.01) {
                    rng.random_range(30_000_000..300_000_000)
                } else {
                    rng.random_range(200_000..3_000_000)
                };
                emit(kind, gap, &recorder);
            }
            if arm == Arm::Assisted {
                emit(EventKind::AcknowledgeFlag, 2_000_000, &recorder);
            }
            let signed = rng.random_range(600..1200);
            emit(
                EventKind::Sign(SignStats {
                    ai_draft_chars: (arm == Arm::Assisted).then_some(signed - 50),
                    signed_chars: signed,
                    edit_distance: (arm == Arm::Assisted).then_some(rng.random_range(20..200)),
                    retained_chars: (arm == Arm::Assisted).then_some(signed - 120),
                }),
                3_000_000,
                &recorder,
            );
            // Keep the channel from overflowing: a UI never records this fast.
            if emitted % 20_000 < events_per_document as u64 {
                recorder.flush(Duration::from_secs(60));
            }
        }
        if !recorder.flush(Duration::from_secs(600)) {
            anyhow::bail!(
                "the writer could not commit the synthetic events: {:?}",
                recorder.health().problem
            );
        }
        let health = recorder.health();
        anyhow::ensure!(
            health.dropped == 0,
            "{} events dropped while filling",
            health.dropped
        );
        written += health.written;
        debug_assert_eq!(health.written, emitted);
    }
    Ok(written)
}
