//! Whatever the clinician types, the guard neither panics nor points outside the text, and
//! checking incrementally gives the same report as checking from scratch.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::nlp::Pipeline;
use karte::paths::AppPaths;
use karte::review::{ChartIndex, ProvenanceGuard};
use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

fn shared() -> &'static (Arc<Pipeline>, Arc<ChartIndex>) {
    static SHARED: OnceLock<(Arc<Pipeline>, Arc<ChartIndex>)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let pipeline =
            Arc::new(Pipeline::load(&AppPaths::discover().unwrap().ipadic_dir()).unwrap());
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/demo/04-seikei-femoral-neck-fracture.json");
        let chart = karte::chart::load(&path).unwrap();
        let index = Arc::new(ChartIndex::build(&pipeline, &chart));
        (pipeline, index)
    })
}

/// Pieces that make the pipeline work hard: drugs, doses, dates, sides, cues, odd characters.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("右大腿骨頸部骨折".to_string()),
        Just("左".to_string()),
        Just("セファゾリン 1g 1日2回".to_string()),
        Just("Hb ９．６ g/dL".to_string()),
        Just("2026年3月2日に入院".to_string()),
        Just("3/20 退院".to_string()),
        Just("発熱なし".to_string()),
        Just("。".to_string()),
        Just("\n".to_string()),
        Just("、".to_string()),
        Just("疑い".to_string()),
        "[\\u{3040}-\\u{30ff}\\u{4e00}-\\u{4e20}0-9０-９a-zA-Z ．.,/%()（）〜~-]{0,12}",
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn guard_is_total_and_incremental_equals_fresh(
        first in prop::collection::vec(piece(), 0..20),
        second in prop::collection::vec(piece(), 0..20),
    ) {
        let (pipeline, index) = shared();
        let a: String = first.concat();
        let b: String = second.concat();
        let mut incremental = ProvenanceGuard::new(Arc::clone(pipeline), Arc::clone(index));
        incremental.update_section("course", &a);
        incremental.update_section("course", &format!("{a}{b}"));
        let report = incremental.report();
        let text = format!("{a}{b}");
        let len = text.chars().count();
        for item in &report.items {
            prop_assert!(item.start < item.end && item.end <= len, "{item:?} outside {len} chars");
            let slice: String = text.chars().skip(item.start).take(item.end - item.start).collect();
            prop_assert_eq!(&slice, &item.text);
        }
        let mut fresh = ProvenanceGuard::new(Arc::clone(pipeline), Arc::clone(index));
        fresh.update_section("course", &text);
        prop_assert_eq!(fresh.report(), report);
    }
}
