//! The guard as the editor uses it: re-checked on every keystroke (only the changed
//! sentence is extracted again), stable ids for acknowledgements, the signing rule,
//! omissions, and source spans to jump to. Real lindera dictionary and lexicon.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::{Chart, Source};
use karte::nlp::Pipeline;
use karte::paths::AppPaths;
use karte::review::{ChartIndex, ExpectedKind, ProvenanceGuard, Reason, Verdict};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

fn setup() -> (Arc<Pipeline>, Chart, Arc<ChartIndex>) {
    let pipeline = Arc::new(Pipeline::load(&AppPaths::discover().unwrap().ipadic_dir()).unwrap());
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/01-naika-pneumonia.json");
    let chart = karte::chart::load(&path).unwrap();
    let started = Instant::now();
    let index = Arc::new(ChartIndex::build(&pipeline, &chart));
    println!(
        "chart index: {} entities from {} notes in {:.1} ms",
        index.entity_count,
        chart.notes.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    (pipeline, chart, index)
}

const COURSE: &str = "市中肺炎（右下葉）の診断で入院した。\nセフトリアキソン 2g 1日1回で治療を開始した。\nCRP 18.6 から 3.2 へ改善した。";

#[test]
fn typing_rechecks_only_the_changed_sentence_and_ids_stay_stable() {
    let (pipeline, _chart, index) = setup();
    let mut guard = ProvenanceGuard::new(pipeline, index);
    guard.update_section("hospital_course", COURSE);
    guard.update_section("plan", "退院後は近医で経過観察とする。");
    let first = guard.report();
    assert_eq!(guard.work().sentences_checked, 4);
    assert!(
        first.flagged().next().is_none(),
        "{:#?}",
        first.flagged().collect::<Vec<_>>()
    );

    // The clinician types a wrong dose into the second sentence, one character at a time.
    let mut text = COURSE.to_string();
    let at = text.find("2g").unwrap();
    text.replace_range(at..at + 2, "");
    let mut worst = 0f64;
    for typed in ["4", "g"] {
        let at_char = text[..at].chars().count();
        let mut chars: Vec<char> = text.chars().collect();
        chars.insert(
            at_char + if typed == "g" { 1 } else { 0 },
            typed.chars().next().unwrap(),
        );
        text = chars.into_iter().collect();
        let before = guard.work();
        let started = Instant::now();
        assert!(guard.update_section("hospital_course", &text));
        let report = guard.report();
        worst = worst.max(started.elapsed().as_secs_f64() * 1000.0);
        let after = guard.work();
        assert_eq!(
            after.sentences_checked - before.sentences_checked,
            1,
            "only the edited sentence is re-extracted"
        );
        assert_eq!(after.sentences_reused - before.sentences_reused, 2);
        let _ = report;
    }
    println!("re-check after a keystroke: worst {worst:.2} ms");
    assert!(worst < 50.0, "a keystroke's re-check took {worst:.1} ms");
    let report = guard.report();
    let wrong: Vec<_> = report.flagged().collect();
    assert_eq!(wrong.len(), 1, "{wrong:#?}");
    let item = wrong[0];
    assert_eq!(item.verdict, Verdict::Contradicted);
    assert_eq!(item.text, "4g");
    assert!(
        matches!(&item.reason, Reason::DifferentValue { head, chart_values } if head == "セフトリアキソン" && chart_values.iter().any(|v| v == "2g"))
    );
    let chars: Vec<char> = text.chars().collect();
    assert_eq!(chars[item.start..item.end].iter().collect::<String>(), "4g");
    println!("explanation: {}", item.explanation());

    // Signing is blocked until the item is fixed or acknowledged.
    let mut acknowledged = BTreeSet::new();
    assert!(!report.can_sign(&acknowledged));
    acknowledged.insert(item.id.clone());
    assert!(report.can_sign(&acknowledged));

    // Editing another section keeps the item's id (the acknowledgement still applies).
    guard.update_section(
        "plan",
        "退院後は近医で経過観察とし、1か月後に胸部X線を再検する。",
    );
    let later = guard.report();
    assert!(
        later.item(&item.id).is_some(),
        "id changed after an unrelated edit"
    );
    assert!(later.can_sign(&acknowledged));

    // Fixing the dose removes the item.
    guard.update_section("hospital_course", COURSE);
    assert!(guard.report().flagged().next().is_none());
}

#[test]
fn supported_items_point_at_the_source_span() {
    let (pipeline, chart, index) = setup();
    let mut guard = ProvenanceGuard::new(pipeline, index);
    guard.update_section(
        "course",
        "胸部CTで右S9/S10にconsolidationを認めた。肺炎球菌尿中抗原 陽性。",
    );
    let report = guard.report();
    let mut jumped = 0;
    for item in report
        .items
        .iter()
        .filter(|i| i.verdict == Verdict::Supported)
    {
        for source in &item.sources {
            if let Source::Note { id, start, end } = source {
                let note = chart.note(id).unwrap();
                let span: String = note.text.chars().skip(*start).take(end - start).collect();
                assert!(!span.is_empty());
                jumped += 1;
            }
        }
    }
    assert!(
        jumped > 0,
        "no supported item points into a note: {report:#?}"
    );
}

#[test]
fn hallucinations_contradictions_and_omissions_are_reported() {
    let (pipeline, _chart, index) = setup();
    let mut guard = ProvenanceGuard::new(pipeline, index);
    guard.update_section(
        "course",
        "心房細動の既往あり。左下肺野に浸潤影を認めた。ワルファリン 2mg 1日1回を継続。",
    );
    let report = guard.report();
    let flagged: Vec<_> = report
        .flagged()
        .map(|i| (i.text.as_str(), i.verdict))
        .collect();
    assert!(
        flagged.contains(&("心房細動", Verdict::Unsupported)),
        "{flagged:?}"
    );
    assert!(
        flagged.contains(&("左下肺野", Verdict::Contradicted)),
        "{flagged:?}"
    );
    assert!(
        flagged.contains(&("ワルファリン", Verdict::Unsupported)),
        "{flagged:?}"
    );
    let counts = report.counts();
    assert!(
        counts.unsupported >= 2 && counts.contradicted >= 1,
        "{counts:?}"
    );
    // Nothing of the chart's problems, discharge drugs or allergies is mentioned.
    let kinds: BTreeSet<_> = report.omitted.iter().map(|o| o.kind.clone()).collect();
    assert!(kinds.contains(&ExpectedKind::ActiveProblem));
    assert!(kinds.contains(&ExpectedKind::DischargeMedication));
    assert!(kinds.contains(&ExpectedKind::Allergy));
    // A drug the chart knows only as an allergy, written as if prescribed, is contradicted;
    // written as the allergy it is, it is supported.
    guard.update_section("plan", "疼痛時はロキソプロフェン 60mg を頓用とする。");
    let report = guard.report();
    let allergen = report
        .items
        .iter()
        .find(|i| i.section == "plan" && i.text == "ロキソプロフェン")
        .unwrap();
    assert_eq!(allergen.verdict, Verdict::Contradicted);
    assert_eq!(allergen.reason, Reason::ChartAllergy);
    guard.update_section("plan", "");
    // Mentioning the allergy removes it from the omissions.
    guard.update_section("allergies", "ロキソニンで蕁麻疹。");
    assert!(!guard
        .report()
        .omitted
        .iter()
        .any(|o| o.kind == ExpectedKind::Allergy));
}
