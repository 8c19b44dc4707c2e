//! The chart: one patient encounter, as loaded from a file. Pure data, no I/O.
//!
//! Free text (notes) is kept exactly as it was in the file (after decoding and
//! control-character sanitizing), because highlights and provenance use character
//! offsets into it.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// One patient encounter: demographics, notes, labs, prescriptions, allergies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chart {
    /// Stable id of this chart (the encounter); used for drafts, locks and metrics.
    pub id: String,
    pub patient: Patient,
    #[serde(default)]
    pub encounter: Encounter,
    #[serde(default)]
    pub notes: Vec<Note>,
    #[serde(default)]
    pub labs: Vec<LabResult>,
    #[serde(default)]
    pub prescriptions: Vec<Prescription>,
    #[serde(default)]
    pub allergies: Vec<Allergy>,
    /// Coded or listed diagnoses, when the source has them (FHIR Condition, a problem list).
    #[serde(default)]
    pub diagnoses: Vec<Diagnosis>,
    /// Where a referral letter goes, when the chart already says (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral: Option<ReferralTarget>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Patient {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub kana: String,
    #[serde(default)]
    pub sex: Sex,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    Male,
    Female,
    Other,
    #[default]
    Unknown,
}

impl Sex {
    pub fn japanese(self) -> &'static str {
        match self {
            Sex::Male => "男性",
            Sex::Female => "女性",
            Sex::Other => "その他",
            Sex::Unknown => "不明",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Encounter {
    /// 診療科, e.g. 循環器内科.
    #[serde(default)]
    pub department: String,
    /// 病棟, e.g. 5東.
    #[serde(default)]
    pub ward: String,
    /// 主治医.
    #[serde(default)]
    pub attending: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admission_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discharge_date: Option<NaiveDate>,
}

/// One clinical note. `text` is the original text; offsets point into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    #[serde(with = "flexible_datetime")]
    pub datetime: NaiveDateTime,
    /// 医師, 看護師, 薬剤師, 理学療法士 …
    #[serde(default)]
    pub author_role: String,
    #[serde(default)]
    pub author: String,
    /// 入院時記録, 経過記録, 看護記録, 手術記録, 退院時記録, 検査報告 …
    #[serde(default)]
    pub kind: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabResult {
    pub id: String,
    #[serde(with = "flexible_datetime")]
    pub datetime: NaiveDateTime,
    /// Item as the lab system names it: CRP, WBC, Hb, eGFR, 尿蛋白 …
    pub item: String,
    /// As reported: "12.5", "<0.01", "陰性", "2+".
    pub value: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub reference_range: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<LabFlag>,
    /// Codes of the record (JLAC10, HOT, YJ, MEDIS, local …) when the source has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<Code>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LabFlag {
    H,
    L,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prescription {
    pub id: String,
    /// Drug as prescribed, e.g. アムロジピン錠5mg.
    pub drug: String,
    /// Amount per dose as written, e.g. "5", "0.5", "1".
    #[serde(default)]
    pub dose: String,
    /// mg, 錠, mL, 単位, g, μg, カプセル, 包 …
    #[serde(default)]
    pub unit: String,
    /// 内服, 静注, 点滴, 皮下注, 外用, 吸入 …
    #[serde(default)]
    pub route: String,
    /// 1日1回朝食後, 分3毎食後, 頓用 …
    #[serde(default)]
    pub frequency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    /// 退院時処方 (continued after discharge).
    #[serde(default)]
    pub discharge: bool,
    /// Codes of the record (JLAC10, HOT, YJ, MEDIS, local …) when the source has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<Code>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allergy {
    pub id: String,
    pub substance: String,
    #[serde(default)]
    pub reaction: String,
    /// 軽度, 中等度, 重度 (as recorded).
    #[serde(default)]
    pub severity: String,
    /// Codes of the record (JLAC10, HOT, YJ, MEDIS, local …) when the source has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<Code>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icd10: Option<String>,
    /// 主病名 (true) or 副病名 (false).
    #[serde(default)]
    pub main: bool,
    #[serde(default)]
    pub status: DiagnosisStatus,
    /// 発症日 / 診断日, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<NaiveDate>,
    /// 転帰日, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    /// 転帰 as recorded (治癒, 死亡, 回復せず …); empty when none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub outcome: String,
    /// Codes of the record (JLAC10, HOT, YJ, MEDIS, local …) when the source has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<Code>,
}

/// A code from a standard or local code system, as the source wrote it
/// (system names as in SS-MIX2: `JC10`, `HOT9`, `MDCDX2`, `I10`, `99…` for local ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Code {
    pub system: String,
    pub code: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagnosisStatus {
    #[default]
    Active,
    Resolved,
    Suspected,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReferralTarget {
    #[serde(default)]
    pub facility: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub doctor: String,
}

/// Points at the record a fact came from. Offsets (character offsets into a note's
/// original text) are set for facts found in free text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Source {
    Patient,
    Encounter,
    Note {
        id: String,
        start: usize,
        end: usize,
    },
    Lab {
        id: String,
    },
    Prescription {
        id: String,
    },
    Allergy {
        id: String,
    },
    Diagnosis {
        id: String,
    },
}

impl Chart {
    pub fn note(&self, id: &str) -> Option<&Note> {
        self.notes.iter().find(|n| n.id == id)
    }

    /// Notes in chronological order (the file may list them in any order).
    pub fn notes_by_date(&self) -> Vec<&Note> {
        let mut notes: Vec<&Note> = self.notes.iter().collect();
        notes.sort_by_key(|n| n.datetime);
        notes
    }

    /// Age in whole years on `on` (e.g. the admission date), when the birth date is known.
    pub fn age_on(&self, on: NaiveDate) -> Option<u32> {
        let birth = self.patient.birth_date?;
        on.years_since(birth)
    }
}

/// Date-times in chart files come as "2026-10-01T10:30:00", "2026-10-01 10:30" or a bare
/// date; a bare date means midnight. Always written back as ISO 8601 without zone (JST).
pub mod flexible_datetime {
    use chrono::{NaiveDate, NaiveDateTime};
    use serde::{Deserialize, Deserializer, Serializer};

    const FORMATS: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ];

    pub fn parse(s: &str) -> Option<NaiveDateTime> {
        let s = s.trim();
        // FHIR instants carry a zone ("+09:00", "Z"); charts are local (JST) times.
        let local = s
            .strip_suffix('Z')
            .or_else(|| {
                s.get(..19)
                    .filter(|_| s.len() > 19 && s.as_bytes()[10] == b'T')
            })
            .unwrap_or(s);
        let local = local.split('.').next().unwrap_or(local);
        FORMATS
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(local, f).ok())
            .or_else(|| {
                NaiveDate::parse_from_str(local, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            })
    }

    pub fn serialize<S: Serializer>(dt: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&dt.format("%Y-%m-%dT%H:%M:%S").to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "date-time \"{s}\" is not YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flexible_datetimes_parse() {
        let p = flexible_datetime::parse;
        assert_eq!(
            p("2026-10-01T10:30").unwrap().to_string(),
            "2026-10-01 10:30:00"
        );
        assert_eq!(
            p("2026-10-01 10:30:15").unwrap().to_string(),
            "2026-10-01 10:30:15"
        );
        assert_eq!(p("2026-10-01").unwrap().to_string(), "2026-10-01 00:00:00");
        assert_eq!(
            p("2026-10-01T10:30:00+09:00").unwrap().to_string(),
            "2026-10-01 10:30:00"
        );
        assert_eq!(
            p("2026-10-01T10:30:00.123Z").unwrap().to_string(),
            "2026-10-01 10:30:00"
        );
        assert!(p("令和8年10月1日").is_none());
        assert!(p("2026-13-01").is_none());
    }
}
