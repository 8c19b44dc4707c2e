//! The error classes of issue 13, each with its own examples (written for this test, in none
//! of the gold sets): compounds cut on the left, record words taken for findings, symptoms in
//! patients' and nurses' words, and dose forms the rules did not know. Real pipeline (IPADIC).

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
        // A site + 炎 compound takes its modifiers too.
        ("放射線性膀胱炎を認めた。", "放射線性膀胱炎"),
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
    // As nurses write them outside a quote (a quote itself is not annotated, see below).
    let text = "S)背中が痛いと訴える。朝から体がだるい、夜は眠れないとのこと。歩くと息苦しい、\
                しんどいと話す。一人では動けない。食欲がない様子。\n\
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

#[test]
fn sites_keep_their_areas_segments_and_sides() {
    for (text, site) in [
        ("左前大脳動脈領域に梗塞巣を認める。", "左前大脳動脈領域"),
        ("左肺下葉S6に結節あり。", "左肺下葉S6"),
        ("胆嚢頸部の壁肥厚。", "胆嚢頸部"),
    ] {
        assert!(
            of_kind(text, EntityType::Anatomy).contains(&site.to_string()),
            "{text}"
        );
    }
    assert!(
        of_kind("左人工股関節全置換術を施行。", EntityType::Procedure)
            .contains(&"左人工股関節全置換術".to_string())
    );
    assert!(of_kind("頸部MRIで異常なし。", EntityType::Test).contains(&"頸部MRI".to_string()));
    // A specimen before a test on it is part of the test, not a finding.
    let entities = extract("腹水細胞診は陰性。");
    assert_eq!(find(&entities, "腹水細胞診").kind, EntityType::Test);
    assert!(entities.iter().all(|e| e.kind != EntityType::Disease));
}

// ---- quotes, schedules and comparators ---------------------------------------------------

#[test]
fn patient_quotes_carry_no_entities_but_the_nurses_words_do() {
    let entities =
        extract("S)「胸が苦しくて息苦しい」と。O)呼吸困難あり、SpO2 93%。「CRP」の再検を依頼。");
    assert!(
        entities.iter().all(|e| e.text != "息苦しい"),
        "{entities:#?}"
    );
    assert!(
        entities.iter().any(|e| e.text == "呼吸困難"),
        "{entities:#?}"
    );
    // A quoted term without kana is not speech: it keeps its entity.
    assert!(entities
        .iter()
        .any(|e| e.text == "CRP" && e.kind == EntityType::Test));
}

#[test]
fn symptom_timings_and_intervals_are_doses_only_beside_a_drug() {
    assert_eq!(
        of_kind(
            "セフメタゾール 1g 6時間毎 点滴。アセトアミノフェン 400mg 疼痛時",
            EntityType::Dose
        ),
        ["1g", "6時間毎", "400mg", "疼痛時"]
    );
    let entities = extract("体位変換を3時間毎に行う。疼痛時はナースコールするよう説明。");
    assert!(
        entities.iter().all(|e| e.kind != EntityType::Dose),
        "{entities:#?}"
    );
    let pain = find(&entities, "疼痛");
    assert_eq!(pain.kind, EntityType::Disease);
}

#[test]
fn comparators_belong_to_values_not_doses() {
    let values = of_kind(
        "HBV-DNA ＜１．３ LogIU/mL、尿蛋白 >0.5%",
        EntityType::TestValue,
    );
    assert!(values.contains(&">0.5%".to_string()), "{values:?}");
    assert_eq!(
        of_kind("トラネキサム酸 >250mg", EntityType::Dose),
        ["250mg"]
    );
}

#[test]
fn certainty_cues_of_other_hospitals() {
    let entities = extract(
        "骨転移を示唆する所見はない。虫垂炎？腸閉塞なし。急性骨髄性白血病（高リスク群）の寛解期。",
    );
    assert_eq!(
        find(&entities, "骨転移").certainty,
        Some(Certainty::Negative)
    );
    assert_eq!(
        find(&entities, "虫垂炎").certainty,
        Some(Certainty::Suspicious)
    );
    assert_eq!(
        find(&entities, "腸閉塞").certainty,
        Some(Certainty::Negative)
    );
    assert_eq!(
        find(&entities, "急性骨髄性白血病").certainty,
        Some(Certainty::Positive)
    );
    let worse = extract("頭痛増強あり。");
    assert_eq!(find(&worse, "頭痛").kind, EntityType::Disease);
}
