//! `grounded` mode with the real default model and the real guard: the model rewrites only
//! each section's evidence, every finished sentence is judged, and a sentence carrying a value
//! the chart does not have is replaced by its evidence (marked in `fallbacks`). The format
//! example never reaches a draft, in `grounded` or `free` mode.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::path::Path;
use std::sync::{Arc, OnceLock};

use karte::chart::{Chart, Source};
use karte::draft::grounded::{numbers_in, GroundedText, Rejection, SentenceJudge};
use karte::draft::quality::assess;
use karte::draft::{
    evidence, run_blocking, DocumentKind, DocumentTemplate, DraftMode, DraftRequest, SectionKind,
    SectionedChart,
};
use karte::llm::{Engine, EngineConfig, ModelManifest};
use karte::nlp::Pipeline;

fn pipeline() -> Arc<Pipeline> {
    static P: OnceLock<Arc<Pipeline>> = OnceLock::new();
    Arc::clone(P.get_or_init(|| {
        let dir = karte::paths::AppPaths::discover().unwrap().ipadic_dir();
        Arc::new(Pipeline::load(&dir).expect("run `karte setup` (the dictionary)"))
    }))
}

fn engine() -> Arc<Engine> {
    static E: OnceLock<Arc<Engine>> = OnceLock::new();
    Arc::clone(E.get_or_init(|| {
        let model = karte::paths::AppPaths::discover()
            .unwrap()
            .models_dir()
            .join("gemma-3-270m-q4_k_m.gguf");
        let mut config = EngineConfig::new(model);
        config.n_ctx = 4096;
        let (engine, _events) = Engine::start(config);
        Arc::new(engine)
    }))
}

fn demo(name: &str) -> Chart {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let path = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(name))
        .unwrap();
    karte::chart::load(&path).unwrap()
}

#[test]
fn the_judge_replaces_an_invented_value_with_its_evidence() {
    let chart = demo("02-geka");
    let template = DocumentTemplate::builtin(DocumentKind::Discharge);
    let section = template.section("admission_findings").unwrap();
    let sectioned = SectionedChart::new(&chart);
    let evidence = evidence::select(&sectioned, section);
    assert!(!evidence.is_empty());
    let judge = SentenceJudge::new(&chart, Some(pipeline()), &template.example);
    assert!(judge.has_guard());

    // An invented temperature: the evidence says 38.2℃.
    assert!(matches!(
        judge.judge("体温47.6℃で入院した。", &evidence, &[]),
        Some(Rejection::Number(n)) if n == "47.6"
    ));
    // The template's own example text.
    assert_eq!(
        judge.judge("発熱と咳嗽。", &evidence, &[]),
        Some(Rejection::Example)
    );
    // A faithful rewrite stays.
    assert_eq!(
        judge.judge("右季肋部に圧痛を認めた。", &evidence, &[]),
        None
    );

    let mut text = GroundedText::new(&evidence);
    text.push_sentence("右季肋部に圧痛を認めた。", &evidence, &judge);
    text.push_sentence("BT 47.6℃、Murphy徴候陽性。", &evidence, &judge);
    assert_eq!(text.fallbacks.len(), 1, "{text:?}");
    let replaced: String = text
        .text
        .chars()
        .skip(text.fallbacks[0].start)
        .take(text.fallbacks[0].len())
        .collect();
    assert!(replaced.contains("38.2"), "{replaced}");
    assert!(!text.text.contains("47.6"));
    // The replacement is the note's own text at its source.
    let (range, Source::Note { id, start, end }) = &text.provenance[0] else {
        panic!("{:?}", text.provenance)
    };
    assert_eq!(range, &text.fallbacks[0]);
    let note: String = chart
        .note(id)
        .unwrap()
        .text
        .chars()
        .skip(*start)
        .take(end - start)
        .collect();
    assert_eq!(note, replaced);
    // The faithful sentence links to the evidence it rewrote.
    assert_eq!(text.aligned.len(), 1);
}

#[test]
fn grounded_drafts_with_the_default_model_carry_no_invented_numbers() {
    let engine = engine();
    let pipeline = pipeline();
    let mut replaced = 0;
    let mut model_sentences = 0;
    for name in ["02-geka"] {
        let chart = demo(name);
        for doc in DocumentKind::ALL {
            let template = DocumentTemplate::builtin(doc);
            let example = template.example.clone();
            let mut request = DraftRequest::new(
                chart.clone(),
                template,
                ModelManifest::default_model().sampling_defaults(),
            );
            request.mode = DraftMode::Grounded;
            request.seed = 1;
            request.pipeline = Some(Arc::clone(&pipeline));
            let mut streamed = 0;
            let draft = run_blocking(Arc::clone(&engine), request, |e| {
                if let karte::draft::DraftEvent::Token { .. } = e {
                    streamed += 1;
                }
            })
            .unwrap();
            assert!(streamed > 0);
            let q = assess(&chart, &draft, &pipeline);
            assert!(
                q.numbers_not_in_chart.is_empty(),
                "{name} {doc}: {:?}\n{}",
                q.numbers_not_in_chart,
                draft.to_text()
            );
            for s in draft
                .sections
                .iter()
                .filter(|s| s.kind == SectionKind::Narrative)
            {
                replaced += s.fallbacks.len();
                model_sentences += s.aligned.len();
                for line in example
                    .lines()
                    .filter(|l| !l.starts_with('【') && l.chars().count() > 3)
                {
                    assert!(
                        !s.text.contains(line.trim_end_matches('。')),
                        "{name} {}: {}",
                        s.key,
                        s.text
                    );
                }
                // Every number of a grounded section is in its chart.
                for n in numbers_in(&s.text) {
                    assert!(!q.numbers_not_in_chart.contains(&n));
                }
            }
        }
    }
    eprintln!("grounded: {model_sentences} model sentences kept, {replaced} replaced by evidence");
    // The 270M base model invents: some sentences must have been caught and replaced.
    assert!(replaced > 0);
}

#[test]
fn the_format_example_never_reaches_a_free_draft() {
    let engine = engine();
    let chart = demo("02-geka");
    for doc in DocumentKind::ALL {
        let template = DocumentTemplate::builtin(doc);
        let example = template.example.clone();
        let mut request = DraftRequest::new(
            chart.clone(),
            template,
            ModelManifest::default_model().sampling_defaults(),
        );
        request.mode = DraftMode::Free;
        request.seed = 1;
        request.max_tokens = Some(48);
        let draft = run_blocking(Arc::clone(&engine), request, |_| {}).unwrap();
        for s in draft
            .sections
            .iter()
            .filter(|s| s.kind == SectionKind::Narrative)
        {
            for line in example
                .lines()
                .filter(|l| !l.starts_with('【') && l.chars().count() > 3)
            {
                assert!(
                    !s.text.contains(line.trim_end_matches('。')),
                    "{}: {}",
                    s.key,
                    s.text
                );
            }
        }
    }
}
