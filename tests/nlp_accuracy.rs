//! Accuracy on the project's gold set (fixtures/gold/passages.jsonl, see its README):
//! precision / recall / F1 per entity type, by exact span and by overlap, and certainty
//! accuracy on exactly matched diseases (scored by `karte::nlp::accuracy`, the code behind
//! `karte bench extract-accuracy`). Prints the table; asserts regression floors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::path::Path;

use karte::nlp::accuracy::{evaluate, load_gold};
use karte::nlp::{EntityType, Pipeline};

#[test]
fn gold_set_accuracy_meets_floors() {
    let dir = karte::paths::AppPaths::discover().unwrap().ipadic_dir();
    let pipeline = Pipeline::load(&dir).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/gold/passages.jsonl");
    let passages = load_gold(&path).unwrap();
    assert!(passages.len() >= 17);
    let accuracy = evaluate(&pipeline, &passages);
    println!("{}", accuracy.render());
    if std::env::var_os("KARTE_GOLD_VERBOSE").is_some() {
        for d in &accuracy.disagreements {
            println!(
                "  {} {} {}: {} ({})",
                d.passage, d.what, d.kind, d.text, d.detail
            );
        }
    }

    // Regression floors, a little below what the pipeline achieves (see the printed table).
    let exact_floors = [
        (EntityType::Disease, 0.95),
        (EntityType::Anatomy, 0.93),
        (EntityType::Medication, 0.93),
        (EntityType::Dose, 0.95),
        (EntityType::Test, 0.95),
        (EntityType::TestValue, 0.95),
        (EntityType::Procedure, 0.93),
        (EntityType::Date, 0.95),
    ];
    for (kind, floor) in exact_floors {
        let counts = accuracy.counts(kind);
        let got = counts.f1();
        assert!(got >= floor, "{kind}: exact F1 {got:.3} fell below {floor}");
        assert!(counts.overlap_f1() >= got);
    }
    let micro = accuracy.micro().f1();
    assert!(micro >= 0.95, "micro exact F1 {micro:.3}");
    let certainty = accuracy.certainty_accuracy();
    assert!(certainty >= 0.95, "certainty accuracy {certainty:.3}");
}
