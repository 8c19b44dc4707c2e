//! The side of a disease (its own 右/左/両, or that of the site written before it, which the
//! annotation convention splits off as anatomy) is compared by the provenance guard: a draft
//! that says 左 where the chart says 右 is contradicted, the same side or no side is supported.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::sync::Arc;

use karte::chart::text::from_plain_text;
use karte::nlp::{EntityType, Pipeline};
use karte::review::{check_draft, ChartIndex, Reason, Side, Verdict};

fn verdicts(chart_text: &str, draft: &str) -> Vec<(String, Verdict, Reason)> {
    let dir = karte::paths::AppPaths::discover().unwrap().ipadic_dir();
    let pipeline = Arc::new(Pipeline::load(&dir).unwrap());
    let chart = from_plain_text("side", chart_text, None);
    let index = Arc::new(ChartIndex::build(&pipeline, &chart));
    let report = check_draft(pipeline, index, &[("経過".to_string(), draft.to_string())]);
    report
        .items
        .into_iter()
        .filter(|i| i.kind == EntityType::Disease)
        .map(|i| (i.text, i.verdict, i.reason))
        .collect()
}

#[test]
fn left_and_right_diseases_are_compared() {
    let chart = "診断:右大腿骨頸部骨折。既往に左膝痛あり。";
    let checked = verdicts(
        chart,
        "左大腿骨頸部骨折に対し手術を施行した。右膝痛の既往がある。",
    );
    let fracture = checked.iter().find(|(t, _, _)| t == "骨折").unwrap();
    assert_eq!(fracture.1, Verdict::Contradicted, "{checked:?}");
    assert!(
        matches!(&fracture.2, Reason::OtherSide { draft: Side::Left, chart } if chart == &[Side::Right]),
        "{checked:?}"
    );
    let knee = checked.iter().find(|(t, _, _)| t == "右膝痛").unwrap();
    assert_eq!(knee.1, Verdict::Contradicted, "{checked:?}");

    let faithful = verdicts(
        chart,
        "右大腿骨頸部骨折に対し手術。骨折の既往。左膝痛あり。",
    );
    assert!(
        faithful.iter().all(|(_, v, _)| *v == Verdict::Supported),
        "{faithful:?}"
    );
}
