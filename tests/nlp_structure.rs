//! The structure stage on a demo chart, with the real dictionary: every item points to a
//! record, and note offsets slice back to the fact's text.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::{Chart, Source};
use karte::nlp::structure::TimelineKind;
use karte::nlp::{Certainty, Pipeline};

fn pipeline() -> Pipeline {
    let dir = karte::paths::AppPaths::discover().unwrap().ipadic_dir();
    Pipeline::load(&dir).unwrap()
}

fn demo_chart() -> Chart {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo/01-naika-pneumonia.json"
    );
    karte::chart::load(std::path::Path::new(path)).unwrap()
}

/// Whether a note source points at a disease entity of that note, exactly.
fn points_at_disease(pipeline: &Pipeline, chart: &Chart, source: &Source) -> bool {
    match source {
        Source::Note { id, start, end } => chart.note(id).is_some_and(|note| {
            pipeline.extract(&note.text).iter().any(|e| {
                e.kind == karte::nlp::EntityType::Disease && e.start == *start && e.end == *end
            })
        }),
        Source::Diagnosis { id } => chart.diagnoses.iter().any(|d| &d.id == id),
        _ => false,
    }
}

#[test]
fn demo_chart_is_structured_with_sources() {
    let chart = demo_chart();
    let pipeline = pipeline();
    let structured = pipeline.structure(&chart);
    if std::env::var_os("KARTE_STRUCTURE_PRINT").is_some() {
        println!("{}", serde_json::to_string_pretty(&structured).unwrap());
    }

    let pneumonia = structured
        .problems
        .iter()
        .find(|p| p.name.contains("肺炎"))
        .expect("pneumonia in the problem list");
    assert_eq!(pneumonia.certainty, Certainty::Positive);
    let family: Vec<_> = structured
        .problems
        .iter()
        .filter(|p| p.name == "脳出血")
        .collect();
    assert!(family.iter().all(|p| p.certainty == Certainty::General));

    // Every problem source is a diagnosis record or exactly a disease span of a note.
    for problem in &structured.problems {
        assert!(!problem.sources.is_empty());
        for source in &problem.sources {
            assert!(
                points_at_disease(&pipeline, &chart, source),
                "{} -> {source:?}",
                problem.name
            );
        }
    }

    // Prescriptions and notes merge into one medication each.
    let amlodipine: Vec<_> = structured
        .medications
        .iter()
        .filter(|m| m.name == "アムロジピン")
        .collect();
    assert_eq!(amlodipine.len(), 1, "{:#?}", structured.medications);
    assert!(amlodipine[0]
        .sources
        .iter()
        .any(|s| matches!(s, Source::Note { .. })));

    // Latest labs: one per item, the newest; abnormal ones carry a flag.
    let crp: Vec<_> = structured
        .latest_labs
        .iter()
        .filter(|l| l.item == "CRP")
        .collect();
    assert_eq!(crp.len(), 1);
    let newest = chart
        .labs
        .iter()
        .filter(|l| l.item == "CRP")
        .map(|l| l.datetime)
        .max();
    assert_eq!(crp[0].datetime, newest);
    assert!(!structured.abnormal_labs.is_empty());
    assert!(structured.abnormal_labs.iter().all(|l| l.flag.is_some()));

    // The allergy record and the notes' mentions of the same drug are one item.
    let loxoprofen: Vec<_> = structured
        .allergies
        .iter()
        .filter(|a| a.substance == "ロキソプロフェン")
        .collect();
    assert_eq!(loxoprofen.len(), 1, "{:#?}", structured.allergies);
    assert!(loxoprofen[0]
        .sources
        .iter()
        .any(|s| matches!(s, Source::Allergy { .. })));
    assert!(loxoprofen[0]
        .sources
        .iter()
        .any(|s| matches!(s, Source::Note { .. })));
    assert!(structured
        .timeline
        .iter()
        .any(|e| e.kind == TimelineKind::Admission));
    assert!(structured
        .timeline
        .windows(2)
        .all(|pair| pair[0].date <= pair[1].date));
}

#[test]
fn every_demo_chart_structures_with_valid_sources() {
    let pipeline = pipeline();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo");
    let mut charts = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let chart = karte::chart::load(&path).unwrap();
        let structured = pipeline.structure(&chart);
        charts += 1;
        for problem in &structured.problems {
            for source in &problem.sources {
                assert!(
                    points_at_disease(&pipeline, &chart, source),
                    "{}: {} -> {source:?}",
                    path.display(),
                    problem.name
                );
            }
        }
        let note_spans_valid = |source: &Source| match source {
            Source::Note { id, start, end } => chart
                .note(id)
                .is_some_and(|n| start < end && *end <= n.text.chars().count()),
            _ => true,
        };
        for medication in &structured.medications {
            assert!(!medication.sources.is_empty());
            assert!(medication.sources.iter().all(note_spans_valid));
        }
        for event in &structured.timeline {
            assert!(event.sources.iter().all(note_spans_valid));
        }
        for procedure in &structured.procedures {
            assert!(procedure.sources.iter().all(note_spans_valid));
        }
        assert_eq!(structured.latest_labs.len(), {
            let mut items: Vec<String> = chart
                .labs
                .iter()
                .map(|l| karte::nlp::normalize::normalize_str(&l.item).to_ascii_lowercase())
                .collect();
            items.sort();
            items.dedup();
            items.len()
        });
    }
    assert!(charts >= 10);
}
