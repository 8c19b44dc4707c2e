//! The engine against the real default model: streaming, determinism and prefix reuse,
//! cancel latency, bounds. One engine is shared (the machine has few cores); the tests take
//! turns through a mutex so each sees the KV cache it set up.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use karte::llm::{
    event_channel, Engine, EngineConfig, EngineEvent, FinishReason, GenerateRequest, ModelManifest,
    Prompt,
};

fn model_path() -> std::path::PathBuf {
    karte::paths::AppPaths::discover()
        .unwrap()
        .models_dir()
        .join("gemma-3-270m-q4_k_m.gguf")
}

fn engine() -> MutexGuard<'static, Engine> {
    static ENGINE: OnceLock<Mutex<Engine>> = OnceLock::new();
    let engine = ENGINE.get_or_init(|| {
        let mut config = EngineConfig::new(model_path());
        config.n_ctx = 4096;
        let (engine, _events) = Engine::start(config);
        engine.wait_loaded().expect("default model loads");
        Mutex::new(engine)
    });
    engine.lock().unwrap_or_else(|e| e.into_inner())
}

fn request(prompt: &str, max_tokens: usize, seed: u32) -> GenerateRequest {
    let mut r = GenerateRequest::new(
        Prompt::Text(prompt.to_string()),
        ModelManifest::default_model().sampling_defaults(),
    );
    r.max_tokens = max_tokens;
    r.seed = seed;
    r
}

const CHART_CONTEXT: &str = "以下は患者の診療記録である。\n\
    2026-10-01 入院時記録: 72歳男性。3日前からの発熱と咳嗽、呼吸困難を主訴に来院。\
    胸部X線で右下肺野に浸潤影を認め、CRP 15.2 mg/dL、WBC 13800/μL。市中肺炎の診断で入院となった。\
    既往に高血圧症、2型糖尿病あり。アムロジピン5mg、メトホルミン500mgを内服中。\n\
    2026-10-03 経過記録: セフトリアキソン2g/日の点滴で解熱傾向。SpO2 95%(室内気)。食事摂取良好。\n\
    2026-10-07 経過記録: CRP 3.1 mg/dL まで改善。内服抗菌薬へ変更を検討。\n";

#[test]
fn streaming_gives_whole_characters_and_the_model_info() {
    let engine = engine();
    let info = engine.model_info().unwrap();
    assert!(info.name.to_lowercase().contains("gemma"), "{}", info.name);
    assert_eq!(info.n_ctx, 4096);
    assert!(!info.has_chat_template, "the default model is a base model");
    assert!(info.kv_cache_bytes > 0);

    let (sink, mut events) = event_channel();
    let handle = engine.submit(
        request(&format!("{CHART_CONTEXT}【入院後経過】\n"), 24, 1),
        sink,
    );
    let mut pieces = Vec::new();
    let mut finished = None;
    let mut timing = None;
    while let Some(event) = events.blocking_recv() {
        match event {
            EngineEvent::Token { id, text } => {
                assert_eq!(id, handle.id);
                pieces.push(text);
            }
            EngineEvent::Timing { timing: t, .. } => timing = Some(t),
            EngineEvent::Finished { reason, .. } => {
                finished = Some(reason);
                break;
            }
            EngineEvent::Error { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
    let text: String = pieces.concat();
    assert!(!text.trim().is_empty());
    assert!(pieces
        .iter()
        .all(|p| !p.is_empty() && !p.contains('\u{FFFD}')));
    assert!(matches!(
        finished,
        Some(FinishReason::MaxTokens | FinishReason::Stop)
    ));
    let timing = timing.unwrap();
    assert!(timing.ttft_ms > 0.0 && timing.prompt_tokens > 100);
    assert!(timing.generated_tokens > 0 && timing.generated_tokens <= 24);
}

#[test]
fn a_fixed_seed_gives_the_same_text_twice_and_with_prefix_reuse() {
    let engine = engine();
    let prompt = format!("{CHART_CONTEXT}【入院後経過】\n");
    let mut cold = request(&prompt, 32, 42);
    cold.reuse_prefix = false;
    let first = engine.generate(cold.clone(), |_| {}).unwrap();
    let second = engine.generate(cold, |_| {}).unwrap();
    assert_eq!(first.text, second.text);
    assert_eq!(second.timing.as_ref().unwrap().reused_tokens, 0);

    // Another section of the same chart fills the cache with the shared prefix …
    let other = engine
        .generate(request(&format!("{CHART_CONTEXT}【主訴】\n"), 8, 3), |_| {})
        .unwrap();
    assert!(other.timing.unwrap().reused_tokens >= 32);
    // … and the first section again, now reusing it, gives the same text.
    let warm = engine.generate(request(&prompt, 32, 42), |_| {}).unwrap();
    let timing = warm.timing.unwrap();
    assert!(timing.reused_tokens >= 32, "{timing:?}");
    assert_eq!(warm.text, first.text);
    assert!(!first.text.is_empty());
}

#[test]
fn cancel_stops_generation_and_prompt_reading_within_50ms() {
    let engine = engine();
    // While generating.
    let (sink, mut events) = event_channel();
    let mut r = request(&format!("{CHART_CONTEXT}【今後の方針】\n"), 10_000, 5);
    r.stop.clear();
    let handle = engine.submit(r, sink);
    let mut cancelled_at = None;
    let mut tokens = 0;
    while let Some(event) = events.blocking_recv() {
        match event {
            EngineEvent::Token { .. } => {
                tokens += 1;
                if tokens == 3 {
                    handle.cancel();
                    cancelled_at = Some(Instant::now());
                }
            }
            EngineEvent::Finished { reason, .. } => {
                let latency = cancelled_at.map(|t| t.elapsed());
                if reason == FinishReason::Stop {
                    return; // the model ended before 3 pieces: nothing to cancel
                }
                assert_eq!(reason, FinishReason::Cancelled);
                let latency = latency.unwrap();
                assert!(latency < Duration::from_millis(50), "{latency:?}");
                break;
            }
            EngineEvent::Error { error, .. } => panic!("{error}"),
            _ => {}
        }
    }

    // While reading a long prompt (cold, so it takes a while).
    let long = CHART_CONTEXT.repeat(12);
    let mut r = request(&format!("{long}【主訴】\n"), 8, 5);
    r.reuse_prefix = false;
    let (sink, mut events) = event_channel();
    let handle = engine.submit(r, sink);
    std::thread::sleep(Duration::from_millis(150));
    handle.cancel();
    let cancelled_at = Instant::now();
    while let Some(event) = events.blocking_recv() {
        match event {
            EngineEvent::Finished { reason, .. } => {
                let latency = cancelled_at.elapsed();
                assert_eq!(reason, FinishReason::Cancelled);
                assert!(latency < Duration::from_millis(50), "{latency:?}");
                break;
            }
            EngineEvent::Token { .. } => panic!("no text after a cancel during the prompt"),
            _ => {}
        }
    }
    assert!(events.blocking_recv().is_none(), "nothing after Finished");
    // The worker stops computing at its next decode step (one 64-token prompt chunk; the
    // bound leaves room for a busy machine): a new request starts soon after.
    let next = engine.generate(request("退院", 1, 0), |_| {}).unwrap();
    let waited = cancelled_at.elapsed().as_secs_f64() * 1000.0 - next.timing.unwrap().total_ms;
    assert!(
        waited < 1000.0,
        "the worker was busy {waited:.0} ms after the cancel"
    );
}

#[test]
fn bounds_max_tokens_stop_strings_and_an_oversized_prompt() {
    let engine = engine();
    let out = engine
        .generate(
            request(&format!("{CHART_CONTEXT}【現病歴】\n"), 4, 9),
            |_| {},
        )
        .unwrap();
    if out.reason != FinishReason::Stop {
        assert_eq!(out.reason, FinishReason::MaxTokens);
        assert_eq!(out.timing.unwrap().generated_tokens, 4);
    }

    let mut counting = request("1, 2, 3, 4, 5, 6, 7, 8,", 16, 0);
    counting.sampling.temperature = 0.0;
    counting.stop = vec![",".into()];
    let out = engine.generate(counting, |_| {}).unwrap();
    assert_eq!(out.reason, FinishReason::StopString, "{:?}", out.text);
    assert!(!out.text.contains(','));

    let huge = "患者は".repeat(6000);
    let err = engine.generate(request(&huge, 4, 0), |_| {}).unwrap_err();
    assert!(
        matches!(err, karte::llm::LlmError::PromptTooLong { n_ctx: 4096, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("context_length"));
}

#[test]
fn loading_reports_progress_then_the_model() {
    let mut config = EngineConfig::new(model_path());
    config.n_ctx = 512;
    config.n_threads = 1;
    let (engine, mut events) = Engine::start(config);
    let mut progress = Vec::new();
    let info = loop {
        match events.blocking_recv().unwrap() {
            EngineEvent::Loading { progress: p } => progress.push(p),
            EngineEvent::Loaded(info) => break info,
            other => panic!("{other:?}"),
        }
    };
    assert!(!progress.is_empty());
    assert!(progress.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!((info.n_ctx, info.n_threads), (512, 1));
    assert_eq!(engine.model_info(), Some(info));
}
