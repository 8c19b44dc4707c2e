//! The error classes of issue 13, each with its own examples (written for this test, in none
//! of the gold sets): compounds cut on the left, record words taken for findings, symptoms in
//! patients' and nurses' words, and dose forms the rules did not know. Real pipeline (IPADIC).

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
    let entities = pipeline().extract(text);
    let chars: Vec<char> = text.chars().collect();
    for e in &entities {
        let slice: String = chars[e.start..e.end].iter().collect();
        assert_eq!(e.text, slice, "offsets of {e:?} in {text}");
    }
    entities
}

fn of_kind(text: &str, kind: EntityType) -> Vec<String> {
    extract(text)
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.text)
        .collect()
}

fn find<'a>(entities: &'a [Entity], surface: &str) -> &'a Entity {
    entities
        .iter()
        .find(|e| e.text == surface)
        .unwrap_or_else(|| panic!("no entity {surface:?} in {entities:#?}"))
}

// ---- 1. compounds cut on the left -------------------------------------------------------

#[test]
fn type_and_grade_codes_belong_to_the_disease() {
    for (text, disease) in [
        ("Ｂ型慢性肝炎で通院中。", "Ｂ型慢性肝炎"),
        ("ＩＩＩ度房室ブロックを認めた。", "ＩＩＩ度房室ブロック"),
        ("Ⅱ型呼吸不全の増悪あり。", "Ⅱ型呼吸不全"),
        ("１型糖尿病にてインスリン導入。", "１型糖尿病"),
        ("A型急性大動脈解離と診断。", "A型急性大動脈解離"),
    ] {
        let diseases = of_kind(text, EntityType::Disease);
        assert!(
            diseases.contains(&disease.to_string()),
            "{text}: {diseases:?}"
        );
    }
}

#[test]
fn modifiers_ending_in_sei_are_kept() {
    for (text, disease) in [
        ("急性壊死性膵炎の診断で入院。", "急性壊死性膵炎"),
        ("急性化膿性虫垂炎にて手術。", "急性化膿性虫垂炎"),
        ("閉塞性動脈硬化症の既往。", "閉塞性動脈硬化症"),
    ] {
        let diseases = of_kind(text, EntityType::Disease);
        assert!(
            diseases.contains(&disease.to_string()),
            "{text}: {diseases:?}"
        );
    }
}

#[test]
fn anatomical_prefixes_are_kept_with_their_side() {
    // The convention of fixtures/gold/README.md: the site is its own anatomy span, laterality
    // included; the disease is the rest. Neither is cut.
    for (text, site, disease) in [
        ("右橈骨遠位端骨折に対し手術。", "右橈骨遠位端", "骨折"),
        ("左内頸動脈狭窄を指摘。", "左内頸動脈", "狭窄"),
        ("両側下肢浮腫あり。", "両側下肢", "浮腫"),
        ("左大腿骨転子部骨折で入院。", "左大腿骨転子部", "骨折"),
    ] {
        let entities = extract(text);
        let anatomy = find(&entities, site);
        assert_eq!(anatomy.kind, EntityType::Anatomy, "{text}");
        let finding = find(&entities, disease);
        assert_eq!(finding.kind, EntityType::Disease, "{text}");
        assert_eq!(anatomy.end, finding.start, "{text}");
    }
}

// ---- 2. record words that are not findings ----------------------------------------------

#[test]
fn record_words_are_not_diseases() {
    let text = "3日前に発症。背景疾患に高血圧症あり。現症:意識清明。合併症の説明を行った。\
                基礎疾患として慢性腎臓病。脳出血発症後に搬送。";
    let diseases = of_kind(text, EntityType::Disease);
    for word in [
        "発症",
        "背景疾患",
        "現症",
        "合併症",
        "基礎疾患",
        "脳出血発症",
    ] {
        assert!(
            !diseases.contains(&word.to_string()),
            "{word}: {diseases:?}"
        );
    }
    for word in ["高血圧症", "慢性腎臓病", "脳出血"] {
        assert!(diseases.contains(&word.to_string()), "{word}: {diseases:?}");
    }
}

// ---- 3. symptoms in patients' and nurses' words -----------------------------------------

#[test]
fn patients_words_for_symptoms_are_found_and_normalized() {
    let text = "S)「背中が痛い」「朝から体がだるい」「昨夜は眠れない感じ」「歩くと息苦しい」\
                「しんどい」「一人では動けない」「食欲がない」\n\
                O)食事中ムセあり。歩行時ふらつく様子。夜間落ち着きがない。";
    let entities = extract(text);
    for (surface, normalized) in [
        ("痛い", "疼痛"),
        ("だるい", "倦怠感"),
        ("眠れない", "不眠"),
        ("息苦しい", "呼吸困難"),
        ("しんどい", "倦怠感"),
        ("動けない", "体動困難"),
        ("食欲がない", "食欲不振"),
        ("ムセ", "むせ"),
        ("ふらつく", "ふらつき"),
        ("落ち着きがない", "不穏"),
    ] {
        let e = find(&entities, surface);
        assert_eq!(e.kind, EntityType::Disease, "{surface}");
        assert_eq!(e.normalized, normalized, "{surface}");
        assert_eq!(e.certainty, Some(Certainty::Positive), "{surface}");
    }
}

#[test]
fn patients_words_keep_their_certainty() {
    let entities = extract("「痛みはない」と。ふらつきなし。吐き気は否定。");
    assert_eq!(
        find(&entities, "ふらつき").certainty,
        Some(Certainty::Negative)
    );
    assert_eq!(
        find(&entities, "吐き気").certainty,
        Some(Certainty::Negative)
    );
}

// ---- 4. dose and quantity forms ---------------------------------------------------------

#[test]
fn dose_forms_beyond_mg() {
    for (text, doses) in [
        ("全脳照射30Gy/10Frを施行。", vec!["30Gy/10Fr"]),
        ("術後照射 計45Gy。", vec!["45Gy"]),
        ("バンコマイシン 15mg/kg/day", vec!["15mg/kg/day"]),
        ("ドセタキセル 60mg/m²", vec!["60mg/m²"]),
        ("メトトレキサート 20mg/body/day", vec!["20mg/body/day"]),
        ("光線療法 5J/cm²", vec!["5J/cm²"]),
        ("ヘパリン 80IU/kg 静注", vec!["80IU/kg"]),
        ("インスリン 12単位/日", vec!["12単位/日"]),
        (
            "プレドニゾロン ３０ｍｇ／　ｄａｙ",
            vec!["３０ｍｇ／　ｄａｙ"],
        ),
        ("フロセミド10mg/\n日", vec!["10mg/\n日"]),
        ("アセトアミノフェン ３〜５ｍｇ", vec!["３〜５ｍｇ"]),
        ("セファゾリン 1500mg（25mg/kg）", vec!["1500mg", "25mg/kg"]),
    ] {
        assert_eq!(of_kind(text, EntityType::Dose), doses, "{text}");
    }
}

#[test]
fn dose_normalized_forms_drop_spaces_and_breaks() {
    let entities = extract("ロキソプロフェン ６０ｍｇ／\u{3000}回");
    let dose = entities
        .iter()
        .find(|e| e.kind == EntityType::Dose)
        .unwrap();
    assert_eq!(dose.normalized, "60mg/回");
}
