//! Bad input never panics and offsets always land on character boundaries with
//! `text == slice`: a property test over the whole pipeline (real IPADIC), plus the named
//! cases of the issue (empty, a 10 MB single line, control characters, emoji, mixed
//! scripts, all half-width katakana).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::sync::OnceLock;

use karte::nlp::{Entity, EntityType, Pipeline};
use proptest::prelude::*;

fn pipeline() -> &'static Pipeline {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    PIPELINE.get_or_init(|| {
        let dir = karte::paths::AppPaths::discover().unwrap().ipadic_dir();
        Pipeline::load(&dir).unwrap()
    })
}

/// The invariants every extraction must hold.
fn check(text: &str, entities: &[Entity]) {
    let chars: Vec<char> = text.chars().collect();
    let mut previous_end = 0;
    for entity in entities {
        assert!(entity.start < entity.end, "empty span {entity:?}");
        assert!(
            entity.end <= chars.len(),
            "{entity:?} beyond {} chars",
            chars.len()
        );
        assert!(
            entity.start >= previous_end,
            "overlap or disorder at {entity:?}"
        );
        previous_end = entity.end;
        let slice: String = chars[entity.start..entity.end].iter().collect();
        assert_eq!(entity.text, slice);
        assert_eq!(
            entity.certainty.is_some(),
            entity.kind == EntityType::Disease,
            "{entity:?}"
        );
    }
}

fn extract_and_check(text: &str) -> Vec<Entity> {
    let entities = pipeline().extract(text);
    check(text, &entities);
    entities
}

/// Pieces that exercise every stage, the normalizer's odd corners and plain noise.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("発熱なし".to_string()),
        Just("肺炎疑い".to_string()),
        Just("ＣＲＰ１２．５㎎／ｄＬ".to_string()),
        Just("BP 120/80mmHg".to_string()),
        Just("ｱﾑﾛｼﾞﾋﾟﾝ5㎎ 1日1回朝食後".to_string()),
        Just("令和8年4月1日".to_string()),
        Just("R8.4.1".to_string()),
        Just("入院3日目".to_string()),
        Just("右下葉肺炎".to_string()),
        Just("家族歴:父 高血圧".to_string()),
        Just("腹腔鏡下胆嚢摘出術".to_string()),
        Just("ｶﾞｷﾞｸﾞｹﾞｺﾞﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟﾞﾟ".to_string()),
        Just("😀👨‍👩‍👧🏥".to_string()),
        Just("e\u{301}\u{308}か\u{3099}\u{FF9E}".to_string()),
        Just("\u{0}\u{7}\u{1b}[31m\r\n\t\u{7f}\u{200b}\u{feff}".to_string()),
        Just("Ⅳ①㍻㎎㎏㎖℃µ".to_string()),
        Just("(-)(+)(±)2+→↑↓".to_string()),
        Just("، مرحبا שלום Привет 你好".to_string()),
        "\\PC{0,12}",
        any::<String>(),
        proptest::collection::vec(any::<char>(), 0..16).prop_map(|v| v.into_iter().collect()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn any_text_gives_entities_on_character_boundaries(
        pieces in proptest::collection::vec(fragment(), 0..12)
    ) {
        let text = pieces.concat();
        extract_and_check(&text);
    }
}

#[test]
fn empty_and_whitespace() {
    assert!(extract_and_check("").is_empty());
    assert!(extract_and_check(" \n\t\u{3000}").is_empty());
}

#[test]
fn all_half_width_katakana() {
    let text: String = (0xFF61u32..=0xFF9F)
        .filter_map(char::from_u32)
        .cycle()
        .take(5000)
        .collect();
    extract_and_check(&text);
    let entities = extract_and_check("ﾛｷｿﾆﾝ60mg 3錠 分3");
    assert_eq!(entities[0].text, "ﾛｷｿﾆﾝ");
    assert_eq!(entities[0].kind, EntityType::Medication);
}

#[test]
fn control_characters_emoji_and_mixed_scripts() {
    let text = "\u{0}発熱\u{7}なし😀肺炎疑い\u{1b}[0m Привет CRP 3.2mg/dL 你好 e\u{301}";
    let entities = extract_and_check(text);
    assert!(entities.iter().any(|e| e.text == "肺炎"));
}

#[test]
fn a_ten_megabyte_single_line() {
    let unit = "BT 38.6℃ BP 132/74 CRP 18.6mg/dL、発熱なし、右下葉肺炎疑い。アムロジピン5mg 1日1回朝食後。😀ｶﾞｽ ";
    let text = unit.repeat(10_000_000 / unit.len() + 1);
    assert!(text.len() >= 10_000_000 && !text.contains('\n'));
    let entities = extract_and_check(&text);
    assert!(entities.len() > 100_000);
}
