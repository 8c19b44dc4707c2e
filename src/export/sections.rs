//! Coding of document sections for FHIR. LOINC section codes where the section is a
//! well-known one (the codes below are LOINC's own); anything else gets a local code in
//! karte's CodeSystem. (The JP eReferral / eDischargeSummary IGs code sections with their own
//! JP-CLINS section CodeSystem; we do not reproduce those codes here.)

/// Local CodeSystem for sections LOINC does not cover.
pub const LOCAL_SECTION_SYSTEM: &str = "http://karte.local/fhir/CodeSystem/section";
pub const LOINC_SYSTEM: &str = "http://loinc.org";

/// Which chart resources a section refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionContent {
    Diagnoses,
    /// All prescriptions.
    Medications,
    /// Only prescriptions continued after discharge.
    DischargeMedications,
    Allergies,
    Results,
    Narrative,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionCode {
    pub system: &'static str,
    pub code: String,
    pub display: String,
    pub content: SectionContent,
}

/// (key fragments, heading fragments, LOINC code, display, content).
type KnownSection = (
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
    &'static str,
    SectionContent,
);

/// First match wins, so specific entries come before general ones.
const KNOWN_SECTIONS: &[KnownSection] = &[
    (
        &["discharge_med", "discharge_prescription"],
        &["退院時処方", "退院処方"],
        "10183-2",
        "Hospital discharge medications Narrative",
        SectionContent::DischargeMedications,
    ),
    (
        &["admission_finding", "physical"],
        &["入院時所見", "身体所見", "現症"],
        "29545-1",
        "Physical findings Narrative",
        SectionContent::Narrative,
    ),
    (
        &["admission_diag"],
        &["入院時診断", "入院時病名"],
        "46241-6",
        "Hospital admission diagnosis Narrative - Reported",
        SectionContent::Diagnoses,
    ),
    (
        &["discharge_diag"],
        &["退院時診断", "退院時病名"],
        "11535-2",
        "Hospital discharge Dx Narrative",
        SectionContent::Diagnoses,
    ),
    (
        &["purpose", "reason"],
        &["紹介目的", "紹介理由", "依頼目的"],
        "42349-1",
        "Reason for referral (narrative)",
        SectionContent::Narrative,
    ),
    (
        &["chief_complaint"],
        &["主訴"],
        "10154-3",
        "Chief complaint Narrative - Reported",
        SectionContent::Narrative,
    ),
    (
        &["present_illness", "hpi"],
        &["現病歴"],
        "10164-2",
        "History of Present illness Narrative",
        SectionContent::Narrative,
    ),
    (
        &["past_history", "past_medical"],
        &["既往歴"],
        "11348-0",
        "History of Past illness Narrative",
        SectionContent::Narrative,
    ),
    (
        &["family"],
        &["家族歴"],
        "10157-6",
        "History of family member diseases Narrative",
        SectionContent::Narrative,
    ),
    (
        &["social"],
        &["生活歴", "社会歴"],
        "29762-2",
        "Social history Narrative",
        SectionContent::Narrative,
    ),
    (
        &["allerg"],
        &["アレルギー", "副作用歴"],
        "48765-2",
        "Allergies and adverse reactions Document",
        SectionContent::Allergies,
    ),
    (
        &["medication", "prescription", "drug"],
        &["処方", "内服", "薬剤", "投薬"],
        "10160-0",
        "History of Medication use Narrative",
        SectionContent::Medications,
    ),
    (
        &["diagnos", "problem"],
        &["傷病名", "診断", "病名"],
        "11450-4",
        "Problem list - Reported",
        SectionContent::Diagnoses,
    ),
    (
        &["test", "lab", "result", "finding"],
        &["検査"],
        "30954-2",
        "Relevant diagnostic tests/laboratory data Narrative",
        SectionContent::Results,
    ),
    (
        &["procedure", "surgery", "operation"],
        &["手術", "処置"],
        "47519-4",
        "History of Procedures Document",
        SectionContent::Narrative,
    ),
    (
        &["course"],
        &["経過"],
        "8648-8",
        "Hospital course Narrative",
        SectionContent::Narrative,
    ),
    (
        &["instruction"],
        &["指導", "注意事項"],
        "8653-8",
        "Hospital Discharge instructions",
        SectionContent::Narrative,
    ),
    (
        &["plan", "follow"],
        &["方針", "予定", "計画"],
        "18776-5",
        "Plan of care note",
        SectionContent::Narrative,
    ),
    (
        &["physical", "exam"],
        &["身体所見", "現症"],
        "29545-1",
        "Physical findings Narrative",
        SectionContent::Narrative,
    ),
    (
        &["functional", "adl"],
        &["ADL", "日常生活"],
        "47420-5",
        "Functional status assessment note",
        SectionContent::Narrative,
    ),
];

/// The code of a section, from its template key and heading.
pub fn section_code(key: &str, heading: &str) -> SectionCode {
    let key_lower = key.to_ascii_lowercase();
    let by_key = KNOWN_SECTIONS
        .iter()
        .find(|(keys, _, _, _, _)| keys.iter().any(|k| key_lower.contains(k)));
    let by_heading = || {
        KNOWN_SECTIONS
            .iter()
            .find(|(_, headings, _, _, _)| headings.iter().any(|h| heading.contains(h)))
    };
    match by_key.or_else(by_heading) {
        Some((_, _, code, display, content)) => SectionCode {
            system: LOINC_SYSTEM,
            code: (*code).to_string(),
            display: (*display).to_string(),
            content: *content,
        },
        None => SectionCode {
            system: LOCAL_SECTION_SYSTEM,
            code: if key.trim().is_empty() {
                "section".into()
            } else {
                key.to_string()
            },
            display: if heading.trim().is_empty() {
                key.to_string()
            } else {
                heading.to_string()
            },
            content: SectionContent::Narrative,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_sections_get_loinc_codes() {
        assert_eq!(section_code("discharge_medications", "").code, "10183-2");
        assert_eq!(section_code("medications", "").code, "10160-0");
        // The draft templates' keys.
        assert_eq!(
            section_code("discharge_prescriptions", "退院時処方").code,
            "10183-2"
        );
        assert_eq!(section_code("prescriptions", "現在の処方").code, "10160-0");
        assert_eq!(
            section_code("admission_findings", "入院時所見").code,
            "29545-1"
        );
        assert_eq!(section_code("history", "既往歴・家族歴").code, "11348-0");
        assert_eq!(
            section_code("labs", "主要検査結果").content,
            SectionContent::Results
        );
        assert_eq!(
            section_code("admission", "入院日・退院日").system,
            LOCAL_SECTION_SYSTEM
        );
        assert_eq!(
            section_code("x", "退院時処方").content,
            SectionContent::DischargeMedications
        );
        assert_eq!(section_code("hospital_course", "入院経過").code, "8648-8");
        assert_eq!(section_code("s1", "紹介目的").code, "42349-1");
        assert_eq!(
            section_code("diagnoses", "傷病名").content,
            SectionContent::Diagnoses
        );
        let local = section_code("remarks", "備考");
        assert_eq!(local.system, LOCAL_SECTION_SYSTEM);
        assert_eq!(local.code, "remarks");
        assert_eq!(local.display, "備考");
    }
}
