//! Accuracy on the project's gold set (fixtures/gold/passages.jsonl, see its README):
//! precision / recall / F1 per entity type, by exact span and by overlap, and certainty
//! accuracy on exactly matched diseases. Prints the table; asserts regression floors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::collections::BTreeMap;

use karte::nlp::{Entity, EntityType, Pipeline};
use serde::Deserialize;

#[derive(Deserialize)]
struct Passage {
    id: String,
    text: String,
    entities: Vec<GoldEntity>,
}

#[derive(Deserialize)]
struct GoldEntity {
    #[serde(rename = "type")]
    kind: String,
    start: usize,
    end: usize,
    text: String,
    certainty: Option<String>,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    gold: usize,
    predicted: usize,
    exact: usize,
    overlap_gold: usize,
    overlap_predicted: usize,
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

struct Scores {
    exact_f1: BTreeMap<&'static str, f64>,
    overlap_f1: BTreeMap<&'static str, f64>,
    micro_exact_f1: f64,
    certainty_accuracy: f64,
}

fn evaluate(pipeline: &Pipeline, passages: &[Passage], verbose: bool) -> Scores {
    let mut counts: BTreeMap<&'static str, Counts> = BTreeMap::new();
    let (mut certainty_right, mut certainty_total) = (0usize, 0usize);
    for passage in passages {
        let predicted: Vec<Entity> = pipeline.extract(&passage.text);
        for kind in EntityType::ALL {
            let name = kind.as_str();
            let gold: Vec<&GoldEntity> =
                passage.entities.iter().filter(|g| g.kind == name).collect();
            let pred: Vec<&Entity> = predicted.iter().filter(|e| e.kind == kind).collect();
            let c = counts.entry(name).or_default();
            c.gold += gold.len();
            c.predicted += pred.len();
            let overlaps = |g: &GoldEntity, p: &Entity| g.start < p.end && p.start < g.end;
            for g in &gold {
                let exact = pred.iter().find(|p| p.start == g.start && p.end == g.end);
                if let Some(p) = exact {
                    c.exact += 1;
                    if let Some(gold_certainty) = &g.certainty {
                        certainty_total += 1;
                        let got = p.certainty.map(|c| c.as_str()).unwrap_or("none");
                        if got == gold_certainty {
                            certainty_right += 1;
                        } else if verbose {
                            println!(
                                "  certainty {}: {} gold {gold_certainty} got {got}",
                                passage.id, g.text
                            );
                        }
                    }
                } else if verbose {
                    let near: Vec<&str> = predicted
                        .iter()
                        .filter(|p| g.start < p.end && p.start < g.end)
                        .map(|p| p.text.as_str())
                        .collect();
                    println!(
                        "  missed {} {name}: {} (near: {near:?})",
                        passage.id, g.text
                    );
                }
                if pred.iter().any(|p| overlaps(g, p)) {
                    c.overlap_gold += 1;
                }
            }
            for p in &pred {
                if gold.iter().any(|g| overlaps(g, p)) {
                    c.overlap_predicted += 1;
                }
                if verbose && !gold.iter().any(|g| g.start == p.start && g.end == p.end) {
                    println!("  spurious {} {name}: {}", passage.id, p.text);
                }
            }
        }
    }
    println!(
        "{:<11} {:>5} {:>5} | {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6}",
        "type", "gold", "pred", "P", "R", "F1", "P~", "R~", "F1~"
    );
    let mut scores = Scores {
        exact_f1: BTreeMap::new(),
        overlap_f1: BTreeMap::new(),
        micro_exact_f1: 0.0,
        certainty_accuracy: ratio(certainty_right, certainty_total),
    };
    let mut total = Counts::default();
    for kind in EntityType::ALL {
        let name = kind.as_str();
        let c = counts.get(name).copied().unwrap_or_default();
        total.gold += c.gold;
        total.predicted += c.predicted;
        total.exact += c.exact;
        let (p, r) = (ratio(c.exact, c.predicted), ratio(c.exact, c.gold));
        let (po, ro) = (
            ratio(c.overlap_predicted, c.predicted),
            ratio(c.overlap_gold, c.gold),
        );
        println!(
            "{name:<11} {:>5} {:>5} | {p:>6.3} {r:>6.3} {:>6.3} | {po:>6.3} {ro:>6.3} {:>6.3}",
            c.gold,
            c.predicted,
            f1(p, r),
            f1(po, ro)
        );
        scores.exact_f1.insert(name, f1(p, r));
        scores.overlap_f1.insert(name, f1(po, ro));
    }
    let (p, r) = (
        ratio(total.exact, total.predicted),
        ratio(total.exact, total.gold),
    );
    scores.micro_exact_f1 = f1(p, r);
    println!(
        "{:<11} {:>5} {:>5} | {p:>6.3} {r:>6.3} {:>6.3}",
        "all", total.gold, total.predicted, scores.micro_exact_f1
    );
    println!(
        "certainty accuracy on exactly matched diseases: {certainty_right}/{certainty_total} = {:.3}",
        scores.certainty_accuracy
    );
    scores
}

fn load_gold() -> Vec<Passage> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/gold/passages.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn gold_set_accuracy_meets_floors() {
    let dir = karte::paths::AppPaths::discover().unwrap().ipadic_dir();
    let pipeline = Pipeline::load(&dir).unwrap();
    let passages = load_gold();
    assert!(passages.len() >= 17);
    let verbose = std::env::var_os("KARTE_GOLD_VERBOSE").is_some();
    let scores = evaluate(&pipeline, &passages, verbose);

    // Regression floors, a little below what the pipeline achieves (see the printed table).
    let exact_floors = [
        ("disease", 0.95),
        ("anatomy", 0.93),
        ("medication", 0.93),
        ("dose", 0.95),
        ("test", 0.95),
        ("test_value", 0.95),
        ("procedure", 0.93),
        ("date", 0.95),
    ];
    for (name, floor) in exact_floors {
        let got = scores.exact_f1[name];
        assert!(got >= floor, "{name}: exact F1 {got:.3} fell below {floor}");
        assert!(scores.overlap_f1[name] >= got);
    }
    let micro = scores.micro_exact_f1;
    assert!(micro >= 0.95, "micro exact F1 {micro:.3}");
    let certainty = scores.certainty_accuracy;
    assert!(certainty >= 0.95, "certainty accuracy {certainty:.3}");
}
