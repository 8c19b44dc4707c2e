//! Test results next to their test: 「CRP 12.5→3.2mg/dL」 gives values 12.5 and 3.2mg/dL,
//! 「BP 112/64」 gives 112/64, 「尿蛋白 2+」 gives 2+, 「JCS I-1」 gives I-1. Vital signs
//! (BT, BP, HR, SpO2, RR, 体温, 血圧 …) are recognized here as tests even without the lexicon.
//! A trailing H/L flag or arrow is not part of the value.

use std::sync::LazyLock;

use regex::Regex;

use super::quantity::{DOSE_UNITS, VALUE_UNITS};
use super::{alternation, compile, glued_after, glued_before, NUMBER};
use crate::nlp::candidate::{rank, Candidate};
use crate::nlp::EntityType;

/// Vital signs and bedside scores, as charts abbreviate them.
pub const VITAL_NAMES: &[&str] = &[
    "BT",
    "KT",
    "BP",
    "sBP",
    "dBP",
    "HR",
    "PR",
    "RR",
    "SpO2",
    "SPO2",
    "SaO2",
    "BW",
    "BS",
    "JCS",
    "GCS",
    "NRS",
    "VAS",
    "MMT",
    "体温",
    "血圧",
    "脈拍",
    "心拍数",
    "呼吸数",
    "体重",
    "身長",
    "血糖",
    "酸素飽和度",
    "出血量",
    "尿量",
];

/// Extra units that only make sense right after a test name (体重 60kg, 身長 160cm).
const ADJACENT_ONLY_UNITS: &[&str] = &["kg", "cm", "mm", "秒", "sec", "倍", "点", "回"];

static VITAL: LazyLock<Regex> = LazyLock::new(|| compile(&alternation(VITAL_NAMES)));

/// One value: a number (or a ratio like 120/80, 3/5), a qualitative result, or a JCS grade,
/// with an optional unit.
static VALUE: LazyLock<Regex> = LazyLock::new(|| {
    let mut units: Vec<&str> = VALUE_UNITS.to_vec();
    units.extend_from_slice(DOSE_UNITS);
    units.extend_from_slice(ADJACENT_ONLY_UNITS);
    compile(&format!(
        r"^(?:(?:III|II|I)-[0-9]+|弱陽性|陽性|陰性|野生型|変異型|[1-4]\+|±|(?:[<>≦≧≤≥]=?\s?)?{NUMBER}(?:[-~×x/]{NUMBER})?\s?(?:{units})?)",
        units = alternation(&units)
    ))
});

/// Between a test and its value: spaces, a colon or equals sign.
static GAP: LazyLock<Regex> = LazyLock::new(|| compile(r"^(?:[ \t:=]|は){0,3}"));
/// A qualitative result in brackets: 糖(-), 蛋白(2+) → the value inside.
static BRACKETED: LazyLock<Regex> =
    LazyLock::new(|| compile(r"^\((-|\+|±|[1-4]\+|陰性|陽性|弱陽性)\)"));
/// Between two values of one test: an arrow (12.5→3.2) or a slash-free separator.
static CHAIN: LazyLock<Regex> = LazyLock::new(|| compile(r"^\s?(?:[HL]\s?)?(?:→|->|⇒|から)\s?"));

/// A blood pressure anywhere: 120/80mmHg.
static BLOOD_PRESSURE: LazyLock<Regex> = LazyLock::new(|| compile(r"[0-9]{2,3}/[0-9]{2,3}\s?mmHg"));

/// Vital-sign names found by the rule (the lexicon may list them too).
pub fn find_vital_names(text: &str, out: &mut Vec<Candidate>) {
    for m in VITAL.find_iter(text) {
        let latin = m.as_str().is_ascii();
        if latin && (glued_before(text, m.start()) || glued_after(text, m.end())) {
            continue;
        }
        out.push(Candidate::new(
            EntityType::Test,
            m.start(),
            m.end(),
            rank::RULE,
        ));
    }
    for m in BLOOD_PRESSURE.find_iter(text) {
        if !glued_before(text, m.start()) {
            out.push(Candidate::new(
                EntityType::TestValue,
                m.start(),
                m.end(),
                rank::RULE,
            ));
        }
    }
}

/// Values following each test span in `tests` (byte spans of the normalized text).
pub fn find_after_tests(text: &str, tests: &[(usize, usize)], out: &mut Vec<Candidate>) {
    for &(_, test_end) in tests {
        let mut at = test_end;
        let Some(gap) = text.get(at..).and_then(|rest| GAP.find(rest)) else {
            continue;
        };
        at += gap.end();
        if let Some(inner) = text
            .get(at..)
            .and_then(|rest| BRACKETED.captures(rest))
            .and_then(|caps| caps.get(1))
        {
            out.push(Candidate::new(
                EntityType::TestValue,
                at + inner.start(),
                at + inner.end(),
                rank::TEST_ADJACENT,
            ));
            continue;
        }
        // At most a few chained values (12.5→8.1→3.2mg/dL).
        for _ in 0..4 {
            let Some(value) = text.get(at..).and_then(|rest| VALUE.find(rest)) else {
                break;
            };
            let (start, end) = (at + value.start(), at + value.end());
            let end = trim_trailing_space(text, start, end);
            if end == start || glued_after(text, end) && !text[start..end].ends_with('+') {
                break;
            }
            out.push(
                Candidate::new(EntityType::TestValue, start, end, rank::TEST_ADJACENT)
                    .with_normalized(text[start..end].replace([' ', ','], "")),
            );
            let Some(chain) = text.get(end..).and_then(|rest| CHAIN.find(rest)) else {
                break;
            };
            at = end + chain.end();
        }
    }
}

fn trim_trailing_space(text: &str, start: usize, end: usize) -> usize {
    start + text[start..end].trim_end().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str, test: &str) -> Vec<String> {
        let tests: Vec<(usize, usize)> = text
            .match_indices(test)
            .map(|(i, s)| (i, i + s.len()))
            .collect();
        let mut out = Vec::new();
        find_after_tests(text, &tests, &mut out);
        out.iter()
            .map(|c| text[c.start..c.end].to_string())
            .collect()
    }

    #[test]
    fn values_after_tests() {
        assert_eq!(values("CRP 12.5→3.2mg/dL、", "CRP"), ["12.5", "3.2mg/dL"]);
        assert_eq!(values("WBC 14,500/μL H、", "WBC"), ["14,500/μL"]);
        assert_eq!(values("BP 112/64 HR 58", "BP"), ["112/64"]);
        assert_eq!(values("尿蛋白 2+。", "尿蛋白"), ["2+"]);
        assert_eq!(values("蛋白(2+)、糖(-)", "蛋白"), ["2+"]);
        assert_eq!(values("蛋白(2+)、糖(-)", "糖"), ["-"]);
        assert_eq!(values("赤血球 50-99/HPF、", "赤血球"), ["50-99/HPF"]);
        assert_eq!(values("腫瘍径 35×28mm、", "腫瘍径"), ["35×28mm"]);
        assert_eq!(values("体重は68kg→63kg。", "体重"), ["68kg", "63kg"]);
        assert_eq!(values("JCS I-1、", "JCS"), ["I-1"]);
        assert_eq!(values("リークテスト陰性。", "リークテスト"), ["陰性"]);
        assert_eq!(values("出血量 180mL、", "出血量"), ["180mL"]);
        assert_eq!(values("HR 82/分 SpO2", "HR"), ["82/分"]);
        assert!(values("CRPは上昇", "CRP").is_empty());
    }

    #[test]
    fn vital_names_stand_alone() {
        let mut out = Vec::new();
        find_vital_names("BT 36.8 BPH HRx 血圧 120/80mmHg", &mut out);
        let text = "BT 36.8 BPH HRx 血圧 120/80mmHg";
        let found: Vec<&str> = out.iter().map(|c| &text[c.start..c.end]).collect();
        assert_eq!(found, ["BT", "血圧", "120/80mmHg"]);
    }
}
