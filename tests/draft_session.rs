//! Drafting against the real default model in `free` mode (the whole-chart prompt): sections stream in template order, factual
//! sections are the chart's own data with provenance, narrative sections are non-empty
//! valid text, a fixed seed gives the same draft, an oversized chart is truncated with a
//! notice, and a context too small for the template is an error.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use karte::chart::{Chart, Source};
use karte::draft::{
    run_blocking, DocumentKind, DocumentTemplate, Draft, DraftEvent, DraftMode, DraftRequest,
    Origin, SectionKind,
};
use karte::llm::{Engine, EngineConfig, ModelManifest};

fn model_path() -> std::path::PathBuf {
    karte::paths::AppPaths::discover()
        .unwrap()
        .models_dir()
        .join("gemma-3-270m-q4_k_m.gguf")
}

fn start_engine(n_ctx: u32) -> Arc<Engine> {
    let mut config = EngineConfig::new(model_path());
    config.n_ctx = n_ctx;
    let (engine, _events) = Engine::start(config);
    Arc::new(engine)
}

/// One shared engine; tests take turns so prefix-reuse checks see their own cache.
fn shared_engine() -> (Arc<Engine>, MutexGuard<'static, ()>) {
    static ENGINE: OnceLock<(Arc<Engine>, Mutex<()>)> = OnceLock::new();
    let (engine, turn) = ENGINE.get_or_init(|| (start_engine(4096), Mutex::new(())));
    (
        Arc::clone(engine),
        turn.lock().unwrap_or_else(|e| e.into_inner()),
    )
}

fn chart() -> Chart {
    serde_json::from_str(include_str!("draft_chart.json")).unwrap()
}

fn request(doc: DocumentKind, chart: Chart, seed: u32, max_tokens: usize) -> DraftRequest {
    let mut r = DraftRequest::new(
        chart,
        DocumentTemplate::builtin(doc),
        ModelManifest::default_model().sampling_defaults(),
    );
    r.seed = seed;
    r.max_tokens = Some(max_tokens);
    // These tests are about the whole-chart prompt (prefix reuse, truncation): `free` mode.
    r.mode = DraftMode::Free;
    r
}

/// Text of `text` at char range `range`.
fn at(text: &str, range: &std::ops::Range<usize>) -> String {
    text.chars().skip(range.start).take(range.len()).collect()
}

fn check_factual_sections_are_the_charts_data(draft: &Draft, chart: &Chart) {
    for section in draft
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Factual)
    {
        assert_eq!(section.origin, Origin::Factual);
        for (range, source) in &section.provenance {
            let value = at(&section.text, range);
            let expected = match source {
                Source::Patient => {
                    assert!(
                        [
                            chart.patient.id.as_str(),
                            chart.patient.name.as_str(),
                            "男性",
                            "女性"
                        ]
                        .iter()
                        .any(|v| value.contains(v))
                            || value.starts_with("19"),
                        "{value}"
                    );
                    continue;
                }
                Source::Encounter => {
                    let e = &chart.encounter;
                    assert!(
                        [e.department.clone(), e.ward.clone(), e.attending.clone()]
                            .contains(&value)
                            || [e.admission_date, e.discharge_date]
                                .iter()
                                .flatten()
                                .any(|d| d.format("%Y-%m-%d").to_string() == value),
                        "{value}"
                    );
                    continue;
                }
                Source::Diagnosis { id } => chart
                    .diagnoses
                    .iter()
                    .find(|d| d.id == *id)
                    .unwrap()
                    .name
                    .clone(),
                Source::Prescription { id } => {
                    let p = chart.prescriptions.iter().find(|p| p.id == *id).unwrap();
                    assert!(value.contains(&p.frequency), "{value}");
                    p.drug.clone()
                }
                Source::Allergy { id } => chart
                    .allergies
                    .iter()
                    .find(|a| a.id == *id)
                    .unwrap()
                    .substance
                    .clone(),
                Source::Lab { id } => {
                    let l = chart.labs.iter().find(|l| l.id == *id).unwrap();
                    assert!(value.contains(&l.item), "{value}");
                    l.value.clone()
                }
                Source::Note { .. } => panic!("factual sections come from records, not notes"),
            };
            assert!(value.contains(&expected), "{value} lacks {expected}");
        }
    }
    let rx = draft.section("discharge_prescriptions").unwrap();
    let discharge_drugs: Vec<&str> = chart
        .prescriptions
        .iter()
        .filter(|p| p.discharge)
        .map(|p| p.drug.as_str())
        .collect();
    assert_eq!(rx.provenance.len(), discharge_drugs.len());
    assert!(
        !rx.text.contains("セフトリアキソン"),
        "not a discharge prescription"
    );
}

#[test]
fn a_discharge_summary_streams_section_by_section() {
    let (engine, _turn) = shared_engine();
    let chart = chart();
    let mut events = Vec::new();
    let draft = run_blocking(
        Arc::clone(&engine),
        request(DocumentKind::Discharge, chart.clone(), 7, 12),
        |e| events.push(e.clone()),
    )
    .unwrap();

    let template = DocumentTemplate::builtin(DocumentKind::Discharge);
    assert_eq!(draft.sections.len(), template.sections.len());
    assert!(matches!(events[0], DraftEvent::Started { .. }));
    let done_order: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            DraftEvent::SectionDone { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(done_order, (0..template.sections.len()).collect::<Vec<_>>());
    assert!(events.iter().any(|e| matches!(e, DraftEvent::Token { .. })));
    assert!(matches!(events.last(), Some(DraftEvent::Finished(_))));
    assert!(draft.truncation.is_none());

    for s in draft
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Narrative)
    {
        assert_eq!(s.origin, Origin::Generated);
        assert!(!s.text.trim().is_empty(), "section {} is empty", s.key);
        assert!(!s.text.contains('\u{FFFD}'));
        assert!(s.timing.as_ref().unwrap().generated_tokens <= 12);
    }
    check_factual_sections_are_the_charts_data(&draft, &chart);
    // Sections after the first narrative one reuse the chart prefix.
    let reused: Vec<usize> = draft
        .sections
        .iter()
        .filter_map(|s| s.timing.as_ref().map(|t| t.reused_tokens))
        .collect();
    assert!(reused.iter().skip(1).all(|r| *r > 200), "{reused:?}");
}

#[test]
fn the_same_seed_gives_the_same_referral_and_one_section_can_be_regenerated() {
    let (engine, _turn) = shared_engine();
    let mut r = request(DocumentKind::Referral, chart(), 11, 10);
    r.only_sections = Some(vec!["purpose".into(), "addressee".into(), "course".into()]);
    let first = run_blocking(Arc::clone(&engine), r.clone(), |_| {}).unwrap();
    let second = run_blocking(Arc::clone(&engine), r.clone(), |_| {}).unwrap();
    assert_eq!(first.sections.len(), 3);
    let texts = |d: &Draft| {
        d.sections
            .iter()
            .map(|s| s.text.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(texts(&first), texts(&second));

    // Regenerating one section: same text for the same seed, and it reuses the prefix.
    r.only_sections = Some(vec!["course".into()]);
    let again = run_blocking(Arc::clone(&engine), r, |_| {}).unwrap();
    let course = again.section("course").unwrap();
    assert_eq!(course.text, first.section("course").unwrap().text);
    assert!(course.timing.as_ref().unwrap().reused_tokens > 200);
    let addressee = first.section("addressee").unwrap();
    assert!(addressee.text.contains("さくら総合病院"));
}

#[test]
fn an_oversized_chart_is_truncated_with_a_notice() {
    let engine = start_engine(1024);
    let mut chart = chart();
    for i in 0..60 {
        chart.notes.push(
            serde_json::from_value(serde_json::json!({
                "id": format!("extra-{i:02}"),
                "datetime": format!("2026-10-{:02}T08:00", 2 + i % 8),
                "kind": "看護記録",
                "author_role": "看護師",
                "text": format!("定時巡視{i}回目。疼痛の訴えなし。夜間は良眠。バイタル変化なし、食事は全量摂取。"),
            }))
            .unwrap(),
        );
    }
    let mut r = request(DocumentKind::Discharge, chart.clone(), 3, 8);
    r.only_sections = Some(vec!["hospital_course".into()]);
    let mut notices = Vec::new();
    let draft = run_blocking(engine, r, |e| {
        if let DraftEvent::Truncated(t) = e {
            notices.push(t.clone());
        }
    })
    .unwrap();
    let truncation = draft.truncation.clone().unwrap();
    assert_eq!(notices, vec![truncation.clone()]);
    assert!(!truncation.omitted_notes.is_empty());
    assert!(truncation.included_notes > 0);
    assert_eq!(
        truncation.omitted_notes.len() + truncation.included_notes,
        chart.notes.len()
    );
    assert!(truncation.notice().contains(&truncation.omitted_notes[0]));
    // The admission note is the most relevant: it is kept.
    assert!(!truncation.omitted_notes.contains(&"n1".to_string()));
    assert!(!draft.section("hospital_course").unwrap().text.is_empty());
}

#[test]
fn a_context_too_small_for_the_template_is_a_clear_error() {
    // llama.cpp rounds tiny contexts up to 256 tokens; 300 tokens per section cannot fit.
    let engine = start_engine(256);
    let err = run_blocking(
        engine,
        request(DocumentKind::Discharge, chart(), 0, 300),
        |_| {},
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("too small"), "{err}");
    assert!(err.contains("context_length"), "{err}");
}

#[test]
fn cancelling_a_draft_ends_it_at_once_with_the_sections_done_so_far() {
    let (engine, _turn) = shared_engine();
    let mut session = karte::draft::DraftSession::start(
        Arc::clone(&engine),
        request(DocumentKind::Discharge, chart(), 5, 200),
    );
    let mut cancelled_at = None;
    while let Some(event) = session.events.blocking_recv() {
        match event {
            DraftEvent::Token { .. } if cancelled_at.is_none() => {
                session.cancel();
                cancelled_at = Some(std::time::Instant::now());
            }
            DraftEvent::Cancelled(draft) => {
                let latency = cancelled_at.unwrap().elapsed();
                assert!(
                    latency < std::time::Duration::from_millis(50),
                    "{latency:?}"
                );
                // The factual sections before the first narrative one are there.
                assert_eq!(draft.sections.len(), 3);
                return;
            }
            DraftEvent::Finished(_) | DraftEvent::Failed { .. } => panic!("{event:?}"),
            _ => {}
        }
    }
    panic!("no Cancelled event");
}
