//! Quantities and schedules: a number with a unit is a `dose` (5mg, 2錠, 80mL/h, 2mg/kg) or a
//! `test_value` (12.5mg/dL, 120/80mmHg, 38.5°C, 96%) depending on the unit; dosing schedules
//! (分3, 1日3回, 毎食後, 頓用) are doses.

use std::sync::LazyLock;

use regex::Regex;

use super::{alternation, compile, glued_after, glued_before, NUMBER};
use crate::nlp::candidate::{rank, Candidate};
use crate::nlp::EntityType;

/// Units of administered amounts and rates.
pub const DOSE_UNITS: &[&str] = &[
    "mg/body/day",
    "mg/body/日",
    "mg/body/回",
    "mg/m2/週",
    "mg/m2/回",
    "mg/kg/回",
    "mg/kg/dose",
    "mL/kg/日",
    "mL/kg/day",
    "mL/kg",
    "g/kg/日",
    "g/kg/day",
    "g/kg",
    "μg/kg/日",
    "μg/kg/day",
    "μg/kg/h",
    "μg/kg",
    "μg/m2",
    "ng/kg/min",
    "ng/kg/分",
    "IU/kg/日",
    "IU/kg/day",
    "IU/kg",
    "IU/日",
    "U/kg/日",
    "U/kg/h",
    "U/kg",
    "単位/kg/日",
    "単位/kg/時",
    "単位/回",
    "単位/時間",
    "mg/週",
    "mg/h",
    "mg/hr",
    "mg/時",
    "mg/時間",
    "mg/min",
    "μg/min",
    "μg/時",
    "mEq/日",
    "mEq/h",
    "mmol/日",
    "mL/回",
    "mL/分/kg",
    "L/分",
    "L/min",
    "J/cm2",
    "mJ/cm2",
    "kcal/日",
    "mg/m2/日",
    "mg/m2/day",
    "mL/kg/h",
    "mL/kg/hr",
    "mg/kg/日",
    "mg/kg/day",
    "mg/kg/h",
    "μg/kg/min",
    "μg/kg/分",
    "mg/日",
    "mg/day",
    "mg/回",
    "mg/kg",
    "mg/m2",
    "mg/body",
    "g/日",
    "g/day",
    "g/回",
    "mL/h",
    "mL/hr",
    "mL/時",
    "mL/時間",
    "mL/日",
    "ml/h",
    "ml/hr",
    "単位/m2/日",
    "単位/m2",
    "単位/日",
    "単位/時",
    "単位/kg",
    "μg/日",
    "μg/h",
    "mg",
    "g",
    "μg",
    "mcg",
    "ug",
    "mL",
    "ml",
    "単位",
    "U",
    "IU",
    "万単位",
    "錠",
    "カプセル",
    "包",
    "滴",
    "枚",
    "アンプル",
    "バイアル",
    "袋",
    "本",
    "噴霧",
    "吸入",
    "puff",
    "mEq",
    "mmol",
    "γ",
];

/// Units of measured values (labs, vitals).
pub const VALUE_UNITS: &[&str] = &[
    "cmH2O",
    "/HPF",
    "/LPF",
    "/HF",
    "mL/分/1.73m2",
    "mL/min/1.73m2",
    "mL/分",
    "mL/min",
    "mg/dL",
    "g/dL",
    "μg/dL",
    "ng/mL",
    "pg/mL",
    "μg/mL",
    "ng/dL",
    "mg/L",
    "U/L",
    "IU/L",
    "mU/mL",
    "μU/mL",
    "μIU/mL",
    "mIU/mL",
    "U/mL",
    "mEq/L",
    "mmol/L",
    "μmol/L",
    "nmol/L",
    "pmol/L",
    "/μL",
    "/uL",
    "/mm3",
    "×10^4/μL",
    "×10^3/μL",
    "x10^4/μL",
    "x10^3/μL",
    "万/μL",
    "fL",
    "mmHg",
    "Torr",
    "bpm",
    "回/分",
    "/分",
    "/min",
    "°C",
    "%",
    "kg/m2",
    "mOsm/kg",
];

/// Timings named after a symptom (疼痛時): a dose beside a drug, else the symptom itself.
const SYMPTOM_TIMINGS: &[&str] = &["疼痛時", "発熱時", "不眠時", "便秘時"];

/// Whether `surface` is a dose only beside a drug: a timing named after a symptom
/// ([`SYMPTOM_TIMINGS`]) or an interval (8時間毎, 3週毎), which also schedules care
/// (体位変換を2時間毎に).
pub fn needs_a_drug(surface: &str) -> bool {
    SYMPTOM_TIMINGS.contains(&surface) || surface.ends_with('毎') || surface.ends_with("ごと")
}

/// Dosing schedules and timings, each its own entity (1日1回 + 朝食後).
const SCHEDULE_WORDS: &[&str] = &[
    "毎食後",
    "毎食直後",
    "毎食前",
    "毎食直前",
    "朝昼夕食後",
    "朝夕食後",
    "朝昼食後",
    "朝食後",
    "昼食後",
    "夕食後",
    "朝食前",
    "昼食前",
    "夕食前",
    "朝食直前",
    "夕食直前",
    "食直前",
    "食直後",
    "食間",
    "眠前",
    "就寝前",
    "頓用",
    "頓服",
    "疼痛時",
    "発熱時",
    "不眠時",
    "便秘時",
    "隔日",
];

static QUANTITY: LazyLock<Regex> = LazyLock::new(|| {
    let mut units: Vec<&str> = DOSE_UNITS.to_vec();
    units.extend_from_slice(VALUE_UNITS);
    // A space or a line break may sit around the slash of a unit (２０ｍｇ／　ｄａｙ).
    let units = alternation(&units).replace('/', r"[ \t\n]{0,2}/[ \t\n]{0,2}");
    // A comparator belongs to a measured value (<0.01%), never to a dose.
    compile(&format!(
        r"((?:[<>≦≧≤≥]=?\s?)?)({NUMBER})(?:\s?[~-]\s?({NUMBER}))?\s?({units})"
    ))
});

/// Radiation doses: 60Gy/30Fr, 50.4Gy/28回, 計40Gy, 2Gy×25回 (the fraction count is part of
/// the dose).
static RADIATION: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"{NUMBER}\s?c?Gy(?:\s?/\s?{NUMBER}\s?(?:Fr|fr|回|分割))?"
    ))
});

static SCHEDULE: LazyLock<Regex> = LazyLock::new(|| {
    compile(&format!(
        r"分[1-6]|1日[0-9]+(?:~[0-9]+)?回|週[0-9]+回|q[0-9]+h|[0-9]+(?:時間|日|週|週間|か月|ヶ月|カ月|ヵ月)(?:毎|ごと)|毎週|{}",
        alternation(SCHEDULE_WORDS)
    ))
});

/// Whether `unit` measures a value rather than an administered amount.
pub fn is_value_unit(unit: &str) -> bool {
    VALUE_UNITS.contains(&unit)
}

/// Finds quantities and schedules in `text` (normalized).
pub fn find(text: &str, out: &mut Vec<Candidate>) {
    for caps in QUANTITY.captures_iter(text) {
        let (Some(whole), Some(number), Some(unit)) = (caps.get(0), caps.get(2), caps.get(4))
        else {
            continue;
        };
        if glued_before(text, number.start()) || glued_after(text, whole.end()) {
            continue;
        }
        let unit: String = unit
            .as_str()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let (kind, start) = if is_value_unit(&unit) {
            (EntityType::TestValue, whole.start())
        } else {
            (EntityType::Dose, number.start())
        };
        out.push(
            Candidate::new(kind, start, whole.end(), rank::RULE)
                .with_normalized(text[start..whole.end()].replace([' ', ',', '\t', '\n'], "")),
        );
    }
    for m in RADIATION.find_iter(text) {
        if glued_before(text, m.start()) || glued_after(text, m.end()) {
            continue;
        }
        out.push(
            Candidate::new(EntityType::Dose, m.start(), m.end(), rank::RULE)
                .with_normalized(m.as_str().replace([' ', ','], "")),
        );
    }
    for m in SCHEDULE.find_iter(text) {
        if glued_before(text, m.start()) || glued_after(text, m.end()) {
            continue;
        }
        out.push(Candidate::new(
            EntityType::Dose,
            m.start(),
            m.end(),
            rank::RULE,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(EntityType, &str)> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.sort_by_key(|c| c.start);
        out.iter()
            .map(|c| (c.kind, &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn doses_and_schedules() {
        use EntityType::Dose;
        assert_eq!(
            found("アモキシシリン250mg 3カプセル 分3 毎食後"),
            vec![
                (Dose, "250mg"),
                (Dose, "3カプセル"),
                (Dose, "分3"),
                (Dose, "毎食後")
            ]
        );
        assert_eq!(
            found("プラスグレル3.75mg 1日1回朝食後、80mL/h、2mg/kg"),
            vec![
                (Dose, "3.75mg"),
                (Dose, "1日1回"),
                (Dose, "朝食後"),
                (Dose, "80mL/h"),
                (Dose, "2mg/kg")
            ]
        );
    }

    #[test]
    fn lab_units_make_test_values() {
        use EntityType::TestValue;
        assert_eq!(
            found("CRP 3.2mg/dL、WBC 7,800/μL、BP 128/76mmHg、SpO2 96%、36.8°C"),
            vec![
                (TestValue, "3.2mg/dL"),
                (TestValue, "7,800/μL"),
                (TestValue, "96%"),
                (TestValue, "36.8°C")
            ]
        );
    }

    #[test]
    fn numbers_glued_to_latin_words_are_not_quantities() {
        assert!(found("HbA1c").is_empty());
        assert!(found("SpO2").is_empty());
        assert!(found("V1-4で").is_empty());
    }
}
