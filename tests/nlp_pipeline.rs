//! The pipeline end to end with the real IPADIC dictionary and lexicon: each rule family on
//! sentences written for this test (not from the gold set).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::sync::OnceLock;

use karte::nlp::{Certainty, Entity, EntityType, Pipeline};

fn pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        let dir = karte::paths::AppPaths::discover().unwrap().ipadic_dir();
        Pipeline::load(&dir).unwrap()
    })
}

fn extract(text: &str) -> Vec<Entity> {
    pipeline().extract(text)
}

/// (type, text) of every entity.
fn spans(text: &str) -> Vec<(EntityType, String)> {
    extract(text)
        .into_iter()
        .map(|e| (e.kind, e.text))
        .collect()
}

fn find<'a>(entities: &'a [Entity], text: &str) -> &'a Entity {
    entities
        .iter()
        .find(|e| e.text == text)
        .unwrap_or_else(|| panic!("no entity {text:?} in {entities:#?}"))
}

use EntityType::*;

#[test]
fn disease_compounds_take_modifiers_and_split_off_sites() {
    let entities = extract("急性腎盂腎炎の疑い。右大腿部蜂窩織炎。左膝痛あり、右膝関節症。");
    assert_eq!(
        find(&entities, "急性腎盂腎炎").certainty,
        Some(Certainty::Suspicious)
    );
    assert_eq!(find(&entities, "右大腿部").kind, Anatomy);
    assert_eq!(find(&entities, "蜂窩織炎").kind, Disease);
    assert_eq!(find(&entities, "左膝痛").kind, Disease);
    assert_eq!(find(&entities, "右膝関節症").kind, Disease);
}

#[test]
fn procedures_keep_their_site() {
    let found = spans("経皮的冠動脈形成術を施行。腹腔鏡下虫垂切除術予定。");
    assert!(
        found.contains(&(Procedure, "経皮的冠動脈形成術".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&(Procedure, "腹腔鏡下虫垂切除術".into())),
        "{found:?}"
    );
}

#[test]
fn lab_values_units_flags_and_full_width() {
    let entities = extract("ＨｂＡ１ｃ ８．２％、Cre 1.2mg/dL H、WBC 9,800→12,300/μL。");
    let value = find(&entities, "８．２％");
    assert_eq!((value.kind, value.normalized.as_str()), (TestValue, "8.2%"));
    assert_eq!(find(&entities, "1.2mg/dL").kind, TestValue);
    assert_eq!(find(&entities, "9,800").normalized, "9800");
    assert_eq!(find(&entities, "12,300/μL").kind, TestValue);
    assert!(entities.iter().all(|e| e.text != "H"));
}

#[test]
fn dates_absolute_japanese_era_and_relative() {
    let entities = extract("平成30年4月1日、R6.12.24、令和元年5月、術後5日目、第3病日、2週間前。");
    assert_eq!(find(&entities, "平成30年4月1日").normalized, "2018-04-01");
    assert_eq!(find(&entities, "R6.12.24").normalized, "2024-12-24");
    assert_eq!(find(&entities, "令和元年5月").normalized, "2019-05");
    for relative in ["術後5日目", "第3病日", "2週間前"] {
        assert_eq!(find(&entities, relative).kind, Date);
    }
}

#[test]
fn drugs_by_stem_and_doses_by_unit() {
    let found =
        spans("ザクボリマブ投与開始。テルミサルタン40mg 1日1回 朝食後。ｿﾙﾃﾞｱ3A 500mL 80mL/h。");
    for expected in [
        (Medication, "ザクボリマブ"),
        (Medication, "テルミサルタン"),
        (Dose, "40mg"),
        (Dose, "1日1回"),
        (Dose, "朝食後"),
        (Medication, "ｿﾙﾃﾞｱ3A"),
        (Dose, "500mL"),
        (Dose, "80mL/h"),
    ] {
        assert!(
            found.contains(&(expected.0, expected.1.to_string())),
            "{expected:?} not in {found:?}"
        );
    }
}

#[test]
fn certainty_cues_and_their_scope() {
    let entities = extract(
        "母に乳癌。肺炎は否定的。心不全の可能性は否定できない。発熱なし、咳嗽あり。\
         嘔気・嘔吐は認めなかった。転倒のリスクについて説明した。",
    );
    let certainty = |text: &str| find(&entities, text).certainty;
    assert_eq!(certainty("乳癌"), Some(Certainty::General));
    assert_eq!(certainty("肺炎"), Some(Certainty::Negative));
    assert_eq!(certainty("心不全"), Some(Certainty::Suspicious));
    assert_eq!(certainty("発熱"), Some(Certainty::Negative));
    assert_eq!(certainty("咳嗽"), Some(Certainty::Positive));
    assert_eq!(certainty("嘔気"), Some(Certainty::Negative));
    assert_eq!(certainty("嘔吐"), Some(Certainty::Negative));
}

#[test]
fn offsets_are_characters_of_the_original_text() {
    let text = "ｶﾞｽﾀｰ10㎎ 1日2回。ＣＲＰ　３．２㎎／ｄＬ。";
    let chars: Vec<char> = text.chars().collect();
    for entity in extract(text) {
        let slice: String = chars[entity.start..entity.end].iter().collect();
        assert_eq!(entity.text, slice);
    }
    let entities = extract(text);
    let value = find(&entities, "３．２㎎／ｄＬ");
    assert_eq!(value.normalized, "3.2mg/dL");
    assert_eq!((value.start, value.end), (18, 25));
}
