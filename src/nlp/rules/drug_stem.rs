//! Drug names beyond the lexicon: katakana words ending in a drug-class stem (…マブ, …ニブ,
//! …サルタン, …プリル, …スタチン, …シリン, …マイシン, …プラゾール …), and katakana or Latin
//! words directly followed by a formulation (錠, カプセル, 注 …) or an amount (15mg).
//! The span is the name only: strength and formulation are left out.

use std::sync::LazyLock;

use regex::Regex;

use super::quantity::DOSE_UNITS;
use super::{alternation, compile, glued_before, NUMBER};
use crate::nlp::candidate::{rank, Candidate};
use crate::nlp::EntityType;

/// International nonproprietary name stems, in katakana.
const STEMS: &[&str] = &[
    "マブ",
    "ニブ",
    "サルタン",
    "プリル",
    "スタチン",
    "シリン",
    "マイシン",
    "プラゾール",
    "オロール",
    "ジピン",
    "フロキサシン",
    "グリプチン",
    "グリフロジン",
    "パリン",
    "ゾラム",
    "ゼパム",
    "チジン",
    "ゾロン",
    "メタゾン",
    "セフ",
    "ペネム",
    "サイクリン",
    "コナゾール",
    "ビル",
    "グルチド",
    "ロン酸",
    "ステロン",
    "トロピン",
    "アゼパム",
    "ドロン",
    "キサバン",
    "ガトラン",
    "プロフェン",
    "フェナク",
    "セトロン",
    "ピラジド",
    "ピド",
    "ペリドン",
    "スピロン",
    "トレリン",
    "パミド",
    "バルビタール",
    "ラゾール",
];

/// Formulations that follow a drug name in prescriptions.
const FORMULATIONS: &[&str] = &[
    "OD錠",
    "錠",
    "カプセル",
    "注射液",
    "静注",
    "筋注",
    "点滴静注",
    "注",
    "散",
    "顆粒",
    "細粒",
    "シロップ",
    "ドライシロップ",
    "内用液",
    "軟膏",
    "クリーム",
    "テープ",
    "パップ",
    "坐剤",
    "点眼液",
    "吸入",
    "ゼリー",
    "キット",
];

static KATAKANA_WORD: LazyLock<Regex> = LazyLock::new(|| compile(r"[ァ-ヺ][ァ-ヺー]{2,}"));

static FOLLOWED_BY_FORMULATION_OR_AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"^(?:{}|\s?{NUMBER}\s?(?:{}|A|V))",
        alternation(FORMULATIONS),
        alternation(DOSE_UNITS)
    ))
});

/// A Latin abbreviation written before an amount (CEZ 1g, MEPM 1g, SBT/ABPC 3g).
static LATIN_BEFORE_AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"[A-Z][A-Z]{{1,5}}(?:/[A-Z]{{2,6}})?\s?{NUMBER}\s?(?:mg|g|μg|mL|単位|錠|カプセル|バイアル|A|V)(?:[^A-Za-z/]|$)"
    ))
});

/// A product number glued to a drug name: ソルデア3A, ソリタT3号 (not 15mg, which is a dose).
static NUMBERED_SUFFIX: LazyLock<Regex> = LazyLock::new(|| compile(r"^[0-9]{1,2}(?:[A-Z]|号)"));

/// Extends medication candidates over a product number written right after the name.
pub fn extend_numbered_names(text: &str, candidates: &mut [Candidate]) {
    for candidate in candidates
        .iter_mut()
        .filter(|c| c.kind == EntityType::Medication)
    {
        let Some(suffix) = text
            .get(candidate.end..)
            .and_then(|rest| NUMBERED_SUFFIX.find(rest))
        else {
            continue;
        };
        let end = candidate.end + suffix.end();
        if !text
            .as_bytes()
            .get(end)
            .is_some_and(|b| b.is_ascii_alphanumeric())
        {
            candidate.end = end;
        }
    }
}

/// Finds drug-name candidates in `text` (normalized).
pub fn find(text: &str, out: &mut Vec<Candidate>) {
    for word in KATAKANA_WORD.find_iter(text) {
        let name = word.as_str();
        let by_stem = STEMS.iter().any(|stem| name.ends_with(stem)) && name.chars().count() >= 4;
        let by_context = text
            .get(word.end()..)
            .is_some_and(|rest| FOLLOWED_BY_FORMULATION_OR_AMOUNT.is_match(rest));
        if by_stem || by_context {
            out.push(Candidate::new(
                EntityType::Medication,
                word.start(),
                word.end(),
                rank::RULE,
            ));
        }
    }
    for m in LATIN_BEFORE_AMOUNT.find_iter(text) {
        if glued_before(text, m.start()) {
            continue;
        }
        let name_len = m
            .as_str()
            .find(|c: char| !(c.is_ascii_uppercase() || c == '/'))
            .unwrap_or(m.as_str().len());
        out.push(Candidate::new(
            EntityType::Medication,
            m.start(),
            m.start() + name_len,
            rank::RULE,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.iter().map(|c| &text[c.start..c.end]).collect()
    }

    #[test]
    fn product_numbers_join_the_name() {
        let text = "ソルデア3A 500mL、アスピリン100mg";
        let mut candidates = vec![
            Candidate::new(EntityType::Medication, 0, "ソルデア".len(), rank::LEXICON),
            Candidate::new(
                EntityType::Medication,
                text.find("アスピリン").unwrap(),
                text.find("100").unwrap(),
                rank::LEXICON,
            ),
        ];
        extend_numbered_names(text, &mut candidates);
        let names: Vec<&str> = candidates.iter().map(|c| &text[c.start..c.end]).collect();
        assert_eq!(names, ["ソルデア3A", "アスピリン"]);
    }

    #[test]
    fn stems_formulations_and_amounts() {
        assert_eq!(found("テルミサルタン内服"), ["テルミサルタン"]);
        assert_eq!(found("ペムブロリズマブ投与"), ["ペムブロリズマブ"]);
        assert_eq!(found("ホゲリン錠5mg"), ["ホゲリン"]);
        assert_eq!(found("ペンタジン15mg筋注"), ["ペンタジン"]);
        assert_eq!(found("MEPM 1g 1日3回、SBT/ABPC 3g"), ["MEPM", "SBT/ABPC"]);
        assert!(found("インフルエンザ迅速検査").is_empty());
        assert!(found("BS 68mg/dL").is_empty());
    }
}
