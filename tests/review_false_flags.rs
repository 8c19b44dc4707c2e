//! The guard's false flags and its blind spots (issue 9, item 7), with the real lindera
//! dictionary and lexicon:
//! - the factual sections of every demo chart × both documents (built by `draft::factual`,
//!   copied from the chart's records) produce no flag, with or without their provenance;
//! - ICD-10 codes, department and ward names are never flagged;
//! - a bare number the chart never writes (「7日間」, 「3回」, a score) is flagged, and one it
//!   writes is not;
//! - a span with provenance is supported by construction, until the clinician edits it.
//!
//! `cargo test --test review_false_flags -- --nocapture` prints the flags per document.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::{Chart, Source};
use karte::draft::{factual, DocumentKind, DocumentTemplate, SectionKind};
use karte::nlp::{EntityType, Pipeline};
use karte::paths::AppPaths;
use karte::review::numbers::quantities;
use karte::review::{
    check_draft, check_draft_with_provenance, provenance_after_edit, ChartIndex, GuardReport,
    ItemKind, ProvenanceGuard, Reason, Verdict,
};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

fn pipeline() -> Arc<Pipeline> {
    static PIPELINE: OnceLock<Arc<Pipeline>> = OnceLock::new();
    Arc::clone(PIPELINE.get_or_init(|| {
        let dir = AppPaths::discover().unwrap().ipadic_dir();
        Arc::new(
            Pipeline::load(&dir).unwrap_or_else(|e| {
                panic!("the IPADIC dictionary must be built (karte setup): {e}")
            }),
        )
    }))
}

fn demo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo")
}

fn demo_charts() -> Vec<(String, Chart)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(demo_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| karte::chart::load::is_chart_file(p))
        .collect();
    paths.sort();
    let charts: Vec<(String, Chart)> = paths
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, karte::chart::load(p).unwrap())
        })
        .collect();
    assert_eq!(charts.len(), 16, "the 16 demo charts");
    charts
}

fn demo_chart(prefix: &str) -> Chart {
    demo_charts()
        .into_iter()
        .find(|(name, _)| name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no demo chart {prefix}"))
        .1
}

type Section = (String, String, Vec<(Range<usize>, Source)>);

/// The factual sections of a document, as `karte draft` fills them.
fn factual_sections(chart: &Chart, doc: DocumentKind) -> Vec<Section> {
    DocumentTemplate::builtin(doc)
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Factual)
        .filter_map(|s| {
            let source = s.source?;
            let (text, provenance) = factual::fill(chart, source);
            Some((s.key.clone(), text, provenance))
        })
        .collect()
}

fn flags(report: &GuardReport) -> Vec<String> {
    report
        .flagged()
        .map(|i| {
            format!(
                "[{}] 「{}」 {:?} {}",
                i.section,
                i.text,
                i.verdict,
                i.explanation()
            )
        })
        .collect()
}

#[test]
fn demo_factual_sections_raise_no_flag() {
    let pipeline = pipeline();
    let mut documents = 0;
    let mut without_provenance = Vec::new();
    let mut with_provenance = Vec::new();
    let mut checked_items = 0;
    for (name, chart) in demo_charts() {
        let index = Arc::new(ChartIndex::build(&pipeline, &chart));
        for doc in DocumentKind::ALL {
            documents += 1;
            let sections = factual_sections(&chart, doc);
            assert!(!sections.is_empty(), "{name} {doc}: no factual section");
            let plain: Vec<(String, String)> = sections
                .iter()
                .map(|(k, t, _)| (k.clone(), t.clone()))
                .collect();
            let report = check_draft(Arc::clone(&pipeline), Arc::clone(&index), &plain);
            checked_items += report.items.len();
            without_provenance.extend(
                flags(&report)
                    .into_iter()
                    .map(|f| format!("{name} {doc} {f}")),
            );
            let report =
                check_draft_with_provenance(Arc::clone(&pipeline), Arc::clone(&index), &sections);
            with_provenance.extend(
                flags(&report)
                    .into_iter()
                    .map(|f| format!("{name} {doc} {f}")),
            );
        }
    }
    println!(
        "factual sections of {documents} documents: {checked_items} items checked; false flags \
         {:.2} per document without provenance, {:.2} with",
        without_provenance.len() as f64 / documents as f64,
        with_provenance.len() as f64 / documents as f64
    );
    assert_eq!(documents, 32);
    assert!(
        checked_items > 200,
        "the sections were checked ({checked_items} items)"
    );
    assert!(
        without_provenance.is_empty(),
        "false flags without provenance:\n{}",
        without_provenance.join("\n")
    );
    assert!(
        with_provenance.is_empty(),
        "false flags with provenance:\n{}",
        with_provenance.join("\n")
    );
}

#[test]
fn icd_codes_departments_and_wards_are_never_flagged() {
    let pipeline = pipeline();
    let chart = demo_chart("02-");
    let index = Arc::new(ChartIndex::build(&pipeline, &chart));
    let texts = [
        "主病名: (K80.0)、(K25.0)、(K76.0)。",
        "病名コード: J13、E11.9、I63.5、C18.7。",
        "K80.0 と K25.0 は既往。",
        "消化器外科より循環器内科、脳神経外科、糖尿病・内分泌内科へ紹介。",
        "4西から5東病棟へ転棟し、3北（小児病棟）を経て8西へ。",
    ];
    for text in texts {
        let report = check_draft(
            Arc::clone(&pipeline),
            Arc::clone(&index),
            &[("course".to_string(), text.to_string())],
        );
        assert_eq!(flags(&report), Vec::<String>::new(), "{text}");
        // The code's digits are not read as a test value either.
        assert!(
            !report
                .items
                .iter()
                .any(|i| i.kind == EntityType::TestValue && i.text.contains("80")),
            "{text}: {:?}",
            report.items
        );
    }
    // A potassium value written like a code is still checked as a value.
    let report = check_draft(
        Arc::clone(&pipeline),
        Arc::clone(&index),
        &[("course".to_string(), "K 9.9 mEq/L と高値。".to_string())],
    );
    assert!(
        report.flagged().any(|i| i.text.contains("9.9")),
        "an invented potassium value is flagged: {:?}",
        flags(&report)
    );
}

/// A number of this count / duration shape that `chart` never writes.
fn absent_number(index: &ChartIndex) -> u32 {
    (11..200)
        .find(|n| index.number_sources(&n.to_string()).is_empty())
        .expect("some number between 11 and 200 is not in the chart")
}

#[test]
fn bare_numbers_must_be_in_the_chart() {
    let pipeline = pipeline();
    let chart = demo_chart("01-");
    let index = Arc::new(ChartIndex::build(&pipeline, &chart));
    let n = absent_number(&index);
    let check = |text: &str| {
        check_draft(
            Arc::clone(&pipeline),
            Arc::clone(&index),
            &[("course".to_string(), text.to_string())],
        )
    };
    // Scores the pipeline types (A-DROP, NRS are tests) are flagged as their values.
    for text in [
        format!("A-DROP {n}点であった。"),
        format!("疼痛は NRS {n}。"),
    ] {
        let report = check(&text);
        assert!(
            report.flagged().any(|i| i.text.contains(&n.to_string())),
            "{text}: {:?}",
            report.items
        );
    }
    for (text, number) in [
        (format!("抗菌薬を{n}日間投与した。"), format!("{n}日間")),
        (format!("嘔吐を{n}回認めた。"), format!("{n}回")),
        (format!("GAF {n}点。"), format!("{n}点")),
        (format!("入院{n}日目に解熱。"), format!("{n}日目")),
    ] {
        let report = check(&text);
        let item = report
            .items
            .iter()
            .find(|i| i.kind == ItemKind::Number)
            .unwrap_or_else(|| panic!("{text}: the number is not flagged: {:?}", report.items));
        assert_eq!(item.verdict, Verdict::Unsupported, "{text}");
        assert_eq!(item.text, number, "{text}");
        let slice: String = text
            .chars()
            .skip(item.start)
            .take(item.end - item.start)
            .collect();
        assert_eq!(
            slice, number,
            "the item's offsets span the number and its counter"
        );
        assert_eq!(item.explanation(), format!("カルテにない数値: {number}"));
        assert!(!report.can_sign(&Default::default()));
    }

    // Numbers the chart writes (in its notes), in any width or form, are not flagged.
    let note = &chart.notes[0].text;
    let written: Vec<_> = quantities(note)
        .into_iter()
        .filter(|q| q.text.chars().count() > q.key.len())
        .collect();
    assert!(!written.is_empty(), "the first note has counted numbers");
    for q in written.iter().take(5) {
        let full_width: String = q
            .text
            .chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
                _ => c,
            })
            .collect();
        for text in [
            format!("経過中{}であった。", q.text),
            format!("経過中{full_width}であった。"),
        ] {
            let report = check(&text);
            assert!(
                !report.items.iter().any(|i| i.kind == ItemKind::Number),
                "{text}: {:?}",
                flags(&report)
            );
        }
    }
    // Dates of the chart, numbering and the patient's age are not bare numbers to flag.
    let age = chart
        .age_on(chart.encounter.admission_date.unwrap())
        .unwrap();
    let report = check(&format!(
        "1. 経過\n{age}歳女性。2026年1月14日入院、1/24退院。SpO2 と HbA1c を確認。\n.2026年に初診。"
    ));
    assert!(
        !report.items.iter().any(|i| i.kind == ItemKind::Number),
        "{:?}",
        flags(&report)
    );
}

#[test]
fn provenance_spans_are_supported_until_edited() {
    let pipeline = pipeline();
    let chart = demo_chart("01-");
    let index = Arc::new(ChartIndex::build(&pipeline, &chart));
    // An invented drug and an invented count: flagged when the text is the model's.
    let drug = "ワルファリン";
    assert!(
        index.mentions_of(EntityType::Medication, drug).is_empty(),
        "{drug} is not in chart 01"
    );
    let n = absent_number(&index);
    let text = format!("{drug}を{n}日間内服。");
    let note = &chart.notes[0];
    let source = Source::Note {
        id: note.id.clone(),
        start: 0,
        end: 10,
    };
    let chars = text.chars().count();
    let provenance = vec![(0..chars, source.clone())];

    let mut guard = ProvenanceGuard::new(Arc::clone(&pipeline), Arc::clone(&index));
    guard.update_section("course", &text);
    let before = guard.report();
    assert!(
        before.flagged().count() >= 2,
        "drug and number flagged: {:?}",
        flags(&before)
    );

    // Copied from the chart: supported by construction, the span's record as evidence.
    assert!(guard.update_section_with_provenance("course", &text, &provenance));
    let copied = guard.report();
    assert_eq!(flags(&copied), Vec::<String>::new());
    let drug_item = copied
        .items
        .iter()
        .find(|i| i.text == drug)
        .expect("the drug is an item");
    assert_eq!(drug_item.verdict, Verdict::Supported);
    assert_eq!(drug_item.reason, Reason::CopiedFromChart);
    assert_eq!(drug_item.sources, vec![source.clone()]);
    assert_eq!(drug_item.explanation(), "カルテから転記（出典あり）");

    // The clinician edits inside the span: it is the clinician's text now, checked again.
    let edited = text.replacen("内服", "内服継続", 1);
    let kept = provenance_after_edit(&text, &edited, &provenance);
    assert!(
        kept.is_empty(),
        "the edited span no longer counts as copied"
    );
    guard.update_section_with_provenance("course", &edited, &kept);
    let report = guard.report();
    assert!(
        report.flagged().any(|i| i.text == drug),
        "the drug is flagged again: {:?}",
        flags(&report)
    );

    // Two copied sentences: a mark typed before them shifts both; an edit of the second
    // keeps the first.
    let first = format!("{drug}内服。");
    let two = format!("{first}{n}日間継続。");
    let split = first.chars().count();
    let end = two.chars().count();
    let spans = vec![(0..split, source.clone()), (split..end, source.clone())];
    let prefixed = format!("※{two}");
    let kept = provenance_after_edit(&two, &prefixed, &spans);
    assert_eq!(
        kept,
        vec![
            (1..split + 1, source.clone()),
            (split + 1..end + 1, source.clone())
        ]
    );
    guard.update_section_with_provenance("course", &prefixed, &kept);
    assert_eq!(flags(&guard.report()), Vec::<String>::new());
    let edited = two.replacen("継続", "継続した", 1);
    let kept = provenance_after_edit(&two, &edited, &spans);
    assert_eq!(kept, vec![(0..split, source.clone())]);
    guard.update_section_with_provenance("course", &edited, &kept);
    let report = guard.report();
    assert!(
        !report.flagged().any(|i| i.text == drug),
        "{:?}",
        flags(&report)
    );
    assert!(
        report
            .flagged()
            .any(|i| i.kind == ItemKind::Number && i.text == format!("{n}日間")),
        "{:?}",
        flags(&report)
    );
}
