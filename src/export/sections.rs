//! JP-CLINS section codes of the two documents (`http://jpfhir.jp/fhir/clins/CodeSystem/document-section`),
//! and which template section goes where. The codes follow the JP-CLINS facts sheet (the
//! 2025 profiles: 現病歴 360, 既往歴 370, 家族歴 550, 社会歴 640), not the 1.5.2 package's
//! older 362/372/552/642.

use crate::store::DocKind;

pub const SECTION_SYSTEM: &str = "http://jpfhir.jp/fhir/clins/CodeSystem/document-section";

/// Which chart resources a section refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionContent {
    Diagnoses,
    /// All current prescriptions.
    Medications,
    /// Only prescriptions continued after discharge.
    DischargeMedications,
    Allergies,
    Results,
    /// The encounter (入院時詳細 / 退院時詳細).
    Encounter,
    /// The section's own text as a DocumentReference (入院中経過).
    TextDocument,
    /// The referral's addressee (紹介先 Organization / Practitioner).
    ReferralTo,
    Narrative,
}

/// Where a section sits: at the top of the Composition, or under 300 構造情報.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    Top,
    Structured,
}

/// One JP-CLINS section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClinsSection {
    pub code: &'static str,
    /// The fixed title (the display is the title + `セクション`).
    pub title: &'static str,
    pub placement: Placement,
    /// The profile's minimum (1: required).
    pub required: bool,
    /// At most one of it (0..1 / 1..1): several template sections merge into it.
    pub single: bool,
    pub content: SectionContent,
}

impl ClinsSection {
    pub fn display(&self) -> String {
        format!("{}セクション", self.title)
    }
}

const fn s(
    code: &'static str,
    title: &'static str,
    placement: Placement,
    required: bool,
    single: bool,
    content: SectionContent,
) -> ClinsSection {
    ClinsSection {
        code,
        title,
        placement,
        required,
        single,
        content,
    }
}

use Placement::{Structured as S, Top as T};
use SectionContent as C;

pub const REFERRAL_TO: ClinsSection = s("910", "紹介先情報", T, true, true, C::ReferralTo);
pub const REFERRAL_FROM: ClinsSection = s("920", "紹介元情報", T, true, true, C::Narrative);
pub const STRUCTURED: ClinsSection = s("300", "構造情報", T, false, true, C::Narrative);
pub const REMARKS: ClinsSection = s("220", "備考・連絡情報", T, false, false, C::Narrative);

/// The eReferral's sections under 300, in the profile's order.
pub const REFERRAL_SECTIONS: &[ClinsSection] = &[
    s("950", "紹介目的", S, true, true, C::Narrative),
    s("340", "傷病名・主訴", S, true, true, C::Diagnoses),
    s("360", "現病歴", S, true, true, C::Narrative),
    s("370", "既往歴", S, false, true, C::Narrative),
    s(
        "510",
        "アレルギー・不耐性反応",
        S,
        false,
        true,
        C::Allergies,
    ),
    s("550", "家族歴", S, false, true, C::Narrative),
    s("610", "身体所見", S, false, true, C::Narrative),
    s("640", "社会歴・生活習慣", S, false, true, C::Narrative),
    s("730", "手術", S, false, true, C::Narrative),
    s("720", "処置", S, false, true, C::Narrative),
    s("430", "投薬指示", S, false, true, C::Medications),
    s("620", "検査結果", S, false, true, C::Results),
    s("420", "診療方針指示", S, false, true, C::Narrative),
];

/// The eDischargeSummary's sections under 300, in the profile's order.
pub const DISCHARGE_SECTIONS: &[ClinsSection] = &[
    s("322", "入院時詳細", S, true, true, C::Encounter),
    s("342", "入院時診断", S, true, true, C::Narrative),
    s(
        "510",
        "アレルギー・不耐性反応",
        S,
        false,
        true,
        C::Allergies,
    ),
    s("352", "主訴", S, true, true, C::Narrative),
    s("312", "入院理由", S, true, true, C::Narrative),
    s("360", "現病歴", S, true, true, C::Narrative),
    s("370", "既往歴", S, false, true, C::Narrative),
    s("432", "入院時服薬", S, false, true, C::Narrative),
    s("640", "社会歴・生活習慣", S, false, true, C::Narrative),
    s("612", "入院時身体所見", S, false, true, C::Narrative),
    s("550", "家族歴", S, false, true, C::Narrative),
    s("333", "入院中経過", S, true, true, C::TextDocument),
    s("324", "退院時詳細", S, true, true, C::Encounter),
    s("344", "退院時診断", S, true, true, C::Diagnoses),
    s(
        "444",
        "退院時投薬指示",
        S,
        true,
        true,
        C::DischargeMedications,
    ),
    s("424", "退院時方針指示", S, true, true, C::Narrative),
    s("614", "退院時身体所見", S, false, true, C::Narrative),
    s("713", "入院中治療", S, false, true, C::Narrative),
    s("623", "入院中検査結果", S, false, true, C::Results),
];

/// (key fragments, heading fragments, code); first match wins, specific before general.
type Rule = (
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
);

const REFERRAL_RULES: &[Rule] = &[
    (&["addressee"], &["宛先", "紹介先"], "910"),
    (
        &["purpose", "reason"],
        &["紹介目的", "紹介理由", "依頼目的"],
        "950",
    ),
    (
        &["diagnos", "problem", "chief_complaint"],
        &["傷病名", "病名", "診断", "主訴"],
        "340",
    ),
    (&["family"], &["家族歴"], "550"),
    (&["history", "past"], &["既往歴"], "370"),
    (&["allerg"], &["アレルギー", "副作用歴"], "510"),
    (&["lab", "test", "result"], &["検査"], "620"),
    (
        &["prescription", "medication", "drug"],
        &["処方", "投薬", "内服", "薬剤"],
        "430",
    ),
    (
        &["course", "present_illness", "hpi"],
        &["経過", "現病歴"],
        "360",
    ),
    (&["physical", "exam"], &["身体所見", "現症"], "610"),
    (&["social"], &["生活歴", "社会歴"], "640"),
    (&["surgery", "operation"], &["手術"], "730"),
    (&["procedure"], &["処置"], "720"),
    (&["plan", "instruction"], &["方針", "指示"], "420"),
];

const DISCHARGE_RULES: &[Rule] = &[
    (
        &["discharge_pres", "discharge_med"],
        &["退院時処方", "退院処方", "退院時投薬"],
        "444",
    ),
    (
        &["discharge_cond", "discharge_status"],
        &["退院時の状態", "退院時状態", "退院時詳細"],
        "324",
    ),
    (
        &["discharge_phys"],
        &["退院時身体所見", "退院時所見"],
        "614",
    ),
    (&["admission_diag"], &["入院時診断", "入院時病名"], "342"),
    (
        &["admission_med"],
        &["持参薬", "入院時処方", "入院時服薬"],
        "432",
    ),
    (
        &["admission_find", "physical"],
        &["入院時所見", "身体所見", "現症"],
        "612",
    ),
    (&["admission"], &["入院日", "入院時詳細"], "322"),
    (
        &["diagnos", "problem"],
        &["退院時診断", "傷病名", "病名", "診断"],
        "344",
    ),
    (&["chief_complaint"], &["主訴"], "352"),
    (&["reason"], &["入院理由", "入院目的"], "312"),
    (&["present_illness", "hpi"], &["現病歴"], "360"),
    (&["family"], &["家族歴"], "550"),
    (&["past", "history"], &["既往歴"], "370"),
    (&["social"], &["生活歴", "社会歴"], "640"),
    (&["allerg"], &["アレルギー", "副作用歴"], "510"),
    (&["lab", "test", "result"], &["検査"], "623"),
    (
        &["procedure", "surgery", "operation"],
        &["手術", "処置", "治療"],
        "713",
    ),
    (&["course"], &["経過"], "333"),
    (
        &["plan", "instruction", "follow"],
        &["方針", "指導", "予定", "指示"],
        "424",
    ),
];

/// Where a template section goes in a document of kind `doc`. `None`: it is the patient
/// block, which the Patient resource carries.
pub fn section_for(doc: DocKind, key: &str, heading: &str) -> Option<ClinsSection> {
    let key_lower = key.to_ascii_lowercase();
    if key_lower == "patient" || heading.trim() == "患者情報" {
        return None;
    }
    let (rules, table) = match doc {
        DocKind::Referral => (REFERRAL_RULES, REFERRAL_SECTIONS),
        DocKind::Discharge => (DISCHARGE_RULES, DISCHARGE_SECTIONS),
    };
    let by_key = rules
        .iter()
        .find(|(keys, _, _)| keys.iter().any(|k| key_lower.contains(k)));
    let by_heading = || {
        rules
            .iter()
            .find(|(_, headings, _)| headings.iter().any(|h| heading.contains(h)))
    };
    let code = by_key.or_else(by_heading).map(|(_, _, code)| *code);
    match (doc, code) {
        (DocKind::Referral, Some("910")) => Some(REFERRAL_TO),
        (_, Some(code)) => table.iter().find(|s| s.code == code).copied(),
        // Anything else: 備考・連絡情報 in a referral, 入院中経過 in a discharge summary
        // (neither document has a free section code).
        (DocKind::Referral, None) => Some(REMARKS),
        (DocKind::Discharge, None) => table.iter().find(|s| s.code == "333").copied(),
    }
}

/// The sections under 300 of a document.
pub fn structured_sections(doc: DocKind) -> &'static [ClinsSection] {
    match doc {
        DocKind::Referral => REFERRAL_SECTIONS,
        DocKind::Discharge => DISCHARGE_SECTIONS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(doc: DocKind, key: &str, heading: &str) -> Option<&'static str> {
        section_for(doc, key, heading).map(|s| s.code)
    }

    #[test]
    fn the_templates_sections_get_jp_clins_codes() {
        use DocKind::{Discharge as D, Referral as R};
        assert_eq!(code(R, "addressee", "宛先"), Some("910"));
        assert_eq!(code(R, "patient", "患者情報"), None);
        assert_eq!(code(R, "purpose", "紹介目的"), Some("950"));
        assert_eq!(code(R, "diagnoses", "傷病名"), Some("340"));
        assert_eq!(code(R, "history", "既往歴・家族歴"), Some("370"));
        assert_eq!(
            code(R, "course", "症状経過・検査結果・治療経過"),
            Some("360")
        );
        assert_eq!(code(R, "labs", "主要検査結果"), Some("620"));
        assert_eq!(code(R, "prescriptions", "現在の処方"), Some("430"));
        assert_eq!(code(R, "allergies", "アレルギー"), Some("510"));
        assert_eq!(code(R, "remarks", "備考"), Some("220"));
        assert_eq!(code(D, "admission", "入院日・退院日"), Some("322"));
        assert_eq!(code(D, "diagnoses", "診断名"), Some("344"));
        assert_eq!(code(D, "chief_complaint", "主訴"), Some("352"));
        assert_eq!(code(D, "present_illness", "現病歴"), Some("360"));
        assert_eq!(code(D, "past_history", "既往歴"), Some("370"));
        assert_eq!(code(D, "admission_findings", "入院時所見"), Some("612"));
        assert_eq!(code(D, "labs", "主要検査結果"), Some("623"));
        assert_eq!(code(D, "hospital_course", "入院後経過"), Some("333"));
        assert_eq!(code(D, "procedures", "手術・処置"), Some("713"));
        assert_eq!(
            code(D, "discharge_prescriptions", "退院時処方"),
            Some("444")
        );
        assert_eq!(code(D, "discharge_condition", "退院時の状態"), Some("324"));
        assert_eq!(code(D, "plan", "今後の方針"), Some("424"));
        assert_eq!(code(D, "something", "その他"), Some("333"));
    }

    #[test]
    fn displays_are_the_title_and_section() {
        assert_eq!(REFERRAL_TO.display(), "紹介先情報セクション");
        assert!(REFERRAL_SECTIONS
            .iter()
            .chain(DISCHARGE_SECTIONS)
            .all(|s| !["362", "372", "552", "642"].contains(&s.code)));
    }
}
