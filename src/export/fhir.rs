//! The JP-CLINS (電子カルテ情報共有サービス) FHIR R4 document Bundle of a signed document:
//! `JP_Bundle_eReferral` for a 診療情報提供書, `JP_Bundle_eDischargeSummary` for a 退院時サマリー.
//!
//! The Composition comes first; every resource has a `urn:uuid:` fullUrl and its `_eCS`
//! profile; the Bundle identifier is `<医療機関コード>^<year>^<local id>`; sections sit under
//! 300 構造情報 with the JP-CLINS section codes (see `sections`), the referral's 920 紹介元 and
//! 910 紹介先 at the top with their Organization / Practitioner. The rules are those of the
//! facts sheet `shared/reference/jp-clins.md` (JP-CLINS 1.5.2 package plus the later rules it
//! lists), and `tests/jp_clins_conformance.rs` checks the output against the packages.
//!
//! Codes a chart does not carry (MEDIS 病名管理番号, YJ, JFAGY, JLAC10, 被保険者番号, the
//! addressee's 医療機関コード) are never invented: the resource carries the text it has, and
//! [`ClinsExport::missing`] lists each required element left out, for the clinician to see
//! before sending. Ids are derived from the signed content's hash, so exporting one version
//! twice gives the same Bundle.

use super::hospital::Hospital;
use super::sections::{
    section_for, structured_sections, ClinsSection, Placement, SectionContent, REFERRAL_FROM,
    REFERRAL_TO, REMARKS, SECTION_SYSTEM, STRUCTURED,
};
use super::text::jst;
use crate::chart::{
    Allergy, Chart, Diagnosis, DiagnosisStatus, LabFlag, LabResult, Prescription, ReferralTarget,
    Sex,
};
use crate::store::{DocKind, SignedDocument};
use base64::Engine as _;
use chrono::{Datelike, NaiveDateTime};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The JP-CLINS version whose rules the Bundle follows (cited as `profile|version`).
pub const JP_CLINS_VERSION: &str = "1.11.0";

pub const BUNDLE_REFERRAL: &str =
    "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eReferral";
pub const BUNDLE_DISCHARGE: &str =
    "http://jpfhir.jp/fhir/clins/StructureDefinition/JP_Bundle_eDischargeSummary";
pub const COMPOSITION_REFERRAL: &str =
    "http://jpfhir.jp/fhir/eReferral/StructureDefinition/JP_Composition_eReferral";
pub const COMPOSITION_DISCHARGE: &str =
    "http://jpfhir.jp/fhir/eDischargeSummary/StructureDefinition/JP_Composition_eDischargeSummary";
const ECS: &str = "http://jpfhir.jp/fhir/eCS/StructureDefinition/";
pub const BUNDLE_ID_SYSTEM: &str = "http://jpfhir.jp/fhir/clins/bundle-identifier";
pub const RESOURCE_ID_SYSTEM: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/resourceInstance-identifier";
pub const INSTITUTION_ID_SYSTEM: &str =
    "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no";
const DOC_TYPE_SYSTEM: &str = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";
const DOC_SUBTYPE_SYSTEM: &str = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-subtypecodes";
const VERSION_EXTENSION: &str =
    "http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber";
const DEPARTMENT_EXTENSION: &str =
    "http://jpfhir.jp/fhir/eCS/Extension/StructureDefinition/JP_eCS_Department";
const DEPARTMENT_SYSTEM: &str = "http://jami.jp/SS-MIX2/CodeSystem/ClinicalDepartment";
const ICD10_SYSTEM: &str = "http://jpfhir.jp/fhir/core/mhlw/CodeSystem/ICD10-2013-full";
const USAGE_UNCODED_SYSTEM: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_MedicationUsage_Uncoded_CS";
const LAB_UNCODED_SYSTEM: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_Uncoded_CS";
const LAB_LOCAL_SYSTEM: &str =
    "http://jpfhir.jp/fhir/clins/CodeSystem/JP_CLINS_ObsLabResult_LocalCode_CS";

/// LOINC-coded JP document type and title of each document.
pub fn document_type(doc: DocKind) -> (&'static str, &'static str) {
    match doc {
        DocKind::Referral => ("57133-1", "診療情報提供書"),
        DocKind::Discharge => ("18842-5", "退院時サマリー"),
    }
}

/// A required element the Bundle leaves out because the chart does not carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingData {
    /// The element, as the profile's element id (e.g. `Condition.code.coding:medisRecordNo`).
    pub element: &'static str,
    /// What it is, in the clinician's words (e.g. `MEDIS病名管理番号`).
    pub what: &'static str,
    /// Which record lacks it (e.g. the diagnosis name), never longer than a name.
    pub record: String,
}

/// The Bundle and the required data it lacks.
#[derive(Debug, Clone)]
pub struct ClinsExport {
    pub bundle: Value,
    pub missing: Vec<MissingData>,
}

impl ClinsExport {
    /// One line for the clinician: which required codes the chart lacked (empty: none).
    pub fn missing_summary(&self) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut order = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        // One count per record lacking the item (an element may be reported twice).
        for m in self
            .missing
            .iter()
            .filter(|m| seen.insert((m.what, m.record.as_str())))
        {
            let n = counts.entry(m.what).or_insert(0);
            if *n == 0 {
                order.push(m.what);
            }
            *n += 1;
        }
        order
            .iter()
            .map(|what| match counts[what] {
                1 => what.to_string(),
                n => format!("{what}（{n}件）"),
            })
            .collect::<Vec<_>>()
            .join("、")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClinsError {
    #[error("宛先（紹介先）が空です: 【宛先】に医療機関名を書き、修正版（A）として署名してから書き出してください")]
    EmptyAddressee,
}

/// Builds resources with stable `urn:uuid:` full URLs.
struct BundleBuilder {
    seed: String,
    entries: Vec<(String, Value)>,
    by_key: BTreeMap<String, String>,
    last_updated: String,
}

impl BundleBuilder {
    fn uuid(&self, key: &str) -> uuid::Uuid {
        let digest = Sha256::digest(format!("{}\u{0}{key}", self.seed).as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// Adds (once) the resource under `key` with its profile; returns its fullUrl.
    fn add(&mut self, key: &str, profile: &str, make: impl FnOnce(&mut Self) -> Value) -> String {
        if let Some(url) = self.by_key.get(key) {
            return url.clone();
        }
        let id = self.uuid(key).to_string();
        let url = format!("urn:uuid:{id}");
        self.by_key.insert(key.to_string(), url.clone());
        let mut resource = make(self);
        if let Value::Object(map) = &mut resource {
            map.insert("id".into(), Value::String(id));
            map.insert("meta".into(), meta(profile, &self.last_updated));
        }
        self.entries.push((url.clone(), resource));
        url
    }
}

fn meta(profile: &str, last_updated: &str) -> Value {
    json!({ "lastUpdated": last_updated, "profile": [format!("{profile}|{JP_CLINS_VERSION}")] })
}

fn ecs(name: &str) -> String {
    format!("{ECS}{name}")
}

fn reference(url: &str, kind: &str) -> Value {
    json!({ "reference": url, "type": kind })
}

/// FHIR dateTime with the chart's local zone (JST).
fn local_datetime(dt: &NaiveDateTime) -> String {
    format!("{}+09:00", dt.format("%Y-%m-%dT%H:%M:%S"))
}

/// FHIR strings may not hold control characters other than tab and line breaks.
fn without_controls(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// XHTML narrative of authored text (escaped, line breaks kept), status `additional`.
fn narrative(text: &str) -> Value {
    let text = without_controls(text);
    let body = if text.trim().is_empty() {
        "記載なし".to_string()
    } else {
        text.trim_end()
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('\n', "<br/>")
    };
    json!({
        "status": "additional",
        "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{body}</div>")
    })
}

/// A local id for the Bundle / Composition identifier: `[A-Za-z0-9-]`, ≤ 32 characters,
/// unique per signed version (the content hash) and readable (document, version).
fn local_id(doc: DocKind, content_sha256: &str, version: u32) -> String {
    let kind = match doc {
        DocKind::Referral => "R",
        DocKind::Discharge => "D",
    };
    let hash: String = content_sha256
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect();
    format!("{kind}{hash}-v{version}")
}

/// The section text gathered for one JP-CLINS section (several template sections may merge).
struct Gathered {
    section: ClinsSection,
    parts: Vec<(String, String)>,
}

impl Gathered {
    fn text(&self) -> String {
        if self.parts.len() == 1 {
            return self.parts[0].1.clone();
        }
        self.parts
            .iter()
            .map(|(heading, text)| format!("【{heading}】\n{}", text.trim_end()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The JP-CLINS document Bundle for a signed document.
pub fn document_bundle(
    signed: &SignedDocument,
    chart: &Chart,
    hospital: &Hospital,
) -> Result<ClinsExport, ClinsError> {
    let signed_local = jst(&signed.signed_at);
    let timestamp = signed_local.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string();
    let mut b = BundleBuilder {
        seed: signed.content_sha256.clone(),
        entries: Vec::new(),
        by_key: BTreeMap::new(),
        last_updated: timestamp.clone(),
    };
    let mut missing = Vec::new();
    let composition_url = format!("urn:uuid:{}", b.uuid("composition"));

    // Template sections → JP-CLINS sections, merged where the profile allows one.
    let mut top_level: Vec<Gathered> = Vec::new();
    let mut structured: Vec<Gathered> = Vec::new();
    let mut addressee_text = None;
    for section in &signed.sections {
        let heading = if section.heading.trim().is_empty() {
            section.key.clone()
        } else {
            section.heading.trim().to_string()
        };
        let Some(target) = section_for(signed.doc, &section.key, &heading) else {
            continue;
        };
        if target.content == SectionContent::ReferralTo {
            addressee_text = Some(section.text.clone());
            continue;
        }
        let list = match target.placement {
            Placement::Top => &mut top_level,
            Placement::Structured => &mut structured,
        };
        match list
            .iter_mut()
            .find(|g| g.section.code == target.code && target.single)
        {
            Some(g) => g.parts.push((heading, section.text.clone())),
            None => list.push(Gathered {
                section: target,
                parts: vec![(heading, section.text.clone())],
            }),
        }
    }

    let patient = b.add("patient", &ecs("JP_Patient_eCS"), |_| {
        patient_resource(chart, hospital, &mut missing)
    });
    let encounter = b.add("encounter", &ecs("JP_Encounter_eCS"), |_| {
        encounter_resource(chart, &patient)
    });
    let author = b.add(
        "practitioner",
        &ecs("JP_Practitioner_eCS"),
        |_| json!({ "resourceType": "Practitioner", "name": [practitioner_name(&signed.signer)] }),
    );
    let organization = b.add("organization", &ecs("JP_Organization_eCS"), |_| {
        organization_resource(hospital, Some(&chart.encounter.department))
    });

    let mut sections = Vec::new();
    if signed.doc == DocKind::Referral {
        let to = ReferralTarget::parse(addressee_text.as_deref().unwrap_or_default());
        let to = if addressee_text.is_none() && to.is_empty() {
            chart.referral.clone().unwrap_or_default()
        } else {
            to
        };
        if to.facility.trim().is_empty() {
            return Err(ClinsError::EmptyAddressee);
        }
        let from_text = format!(
            "{}\n{}\n電話: {}\n{}{}",
            hospital.name,
            hospital.address,
            hospital.phone,
            if chart.encounter.department.is_empty() {
                String::new()
            } else {
                format!("{} ", chart.encounter.department)
            },
            signed.signer
        );
        sections.push(section_json(
            &REFERRAL_FROM,
            &from_text,
            &[
                reference(&organization, "Organization"),
                reference(&author, "Practitioner"),
            ],
            None,
        ));
        let to_org = b.add(
            "referral-to/organization",
            &ecs("JP_Organization_eCS"),
            |_| json!({ "resourceType": "Organization", "name": to.facility.trim() }),
        );
        missing.push(MissingData {
            element: "Organization.identifier",
            what: "紹介先の医療機関コード",
            record: to.facility.clone(),
        });
        let mut to_refs = vec![reference(&to_org, "Organization")];
        if !to.doctor.trim().is_empty() {
            let doctor = b.add("referral-to/doctor", &ecs("JP_Practitioner_eCS"), |_| {
                json!({ "resourceType": "Practitioner", "name": [practitioner_name(&to.doctor)] })
            });
            to_refs.push(reference(&doctor, "Practitioner"));
        }
        sections.push(section_json(
            &REFERRAL_TO,
            &to.section_text(),
            &to_refs,
            None,
        ));
    }

    // 300 構造情報: every sub-section the profile requires, in the profile's order.
    let mut sub_sections = Vec::new();
    for spec in structured_sections(signed.doc) {
        let gathered = structured.iter().find(|g| g.section.code == spec.code);
        if gathered.is_none() && !spec.required {
            continue;
        }
        let text = gathered.map(Gathered::text).unwrap_or_default();
        let entries = section_entries(
            &mut b,
            spec,
            &text,
            chart,
            &patient,
            &encounter,
            &author,
            &mut missing,
        );
        let empty_reason = (gathered.is_none() && entries.is_empty()).then_some("notasked");
        sub_sections.push(section_json(spec, &text, &entries, empty_reason));
    }
    let structured_section = json!({
        "title": STRUCTURED.title,
        "code": { "coding": [{ "system": SECTION_SYSTEM, "code": STRUCTURED.code, "display": STRUCTURED.display() }] },
        "section": sub_sections,
    });
    sections.push(structured_section);
    for g in top_level.iter().filter(|g| g.section.code == REMARKS.code) {
        sections.push(section_json(&REMARKS, &g.text(), &[], None));
    }

    // The Composition.
    let (type_code, type_display) = document_type(signed.doc);
    let year = signed_local.year();
    let local = local_id(signed.doc, &signed.content_sha256, signed.version);
    let date = signed_local.format("%Y-%m-%dT%H:%M:%S%:z").to_string();
    let inpatient = chart.encounter.admission_date.is_some();
    let (category, category_display) = match signed.doc {
        DocKind::Discharge => ("DISCHARGE", "退院時文書"),
        DocKind::Referral if inpatient => ("DISCHARGE", "退院時文書"),
        DocKind::Referral => ("OUTPATIENT", "外来文書"),
    };
    let event = match signed.doc {
        DocKind::Referral => json!([{
            "code": [{ "text": "診療情報提供書発行" }],
            "period": { "start": signed_local.format("%Y-%m-%d").to_string() }
        }]),
        DocKind::Discharge => {
            let mut period = Map::new();
            match chart.encounter.admission_date {
                Some(a) => {
                    period.insert("start".into(), a.format("%Y-%m-%d").to_string().into());
                }
                None => missing.push(MissingData {
                    element: "Composition.event",
                    what: "入院日",
                    record: String::new(),
                }),
            }
            match chart.encounter.discharge_date {
                Some(d) => {
                    period.insert("end".into(), d.format("%Y-%m-%d").to_string().into());
                }
                None => missing.push(MissingData {
                    element: "Composition.event",
                    what: "退院日",
                    record: String::new(),
                }),
            }
            if period.is_empty() {
                Value::Null
            } else {
                json!([{ "period": period }])
            }
        }
    };
    let (composition_profile, bundle_profile) = match signed.doc {
        DocKind::Referral => (COMPOSITION_REFERRAL, BUNDLE_REFERRAL),
        DocKind::Discharge => (COMPOSITION_DISCHARGE, BUNDLE_DISCHARGE),
    };
    let mut composition = json!({
        "resourceType": "Composition",
        "id": composition_url.trim_start_matches("urn:uuid:"),
        "meta": meta(composition_profile, &timestamp),
        "language": "ja",
        "extension": [{ "url": VERSION_EXTENSION, "valueString": signed.version.to_string() }],
        "identifier": { "system": RESOURCE_ID_SYSTEM, "value": format!("{}^{year}^{local}", hospital.code) },
        "status": "final",
        "type": { "coding": [{ "system": DOC_TYPE_SYSTEM, "code": type_code, "display": type_display }] },
        "category": [{ "coding": [{ "system": DOC_SUBTYPE_SYSTEM, "code": category, "display": category_display }] }],
        "subject": reference(&patient, "Patient"),
        "encounter": reference(&encounter, "Encounter"),
        "date": date,
        "author": [reference(&author, "Practitioner"), reference(&organization, "Organization")],
        "title": type_display,
        "custodian": reference(&organization, "Organization"),
        "section": sections,
    });
    // No admission / discharge dates: no event at all (reported), never an empty one.
    if !event.is_null() {
        composition["event"] = event;
    }
    if let Some(previous) = &signed.amends {
        composition["relatesTo"] = json!([{
            "code": "replaces",
            "targetIdentifier": {
                "system": RESOURCE_ID_SYSTEM,
                // (The year is this version's: an amendment is normally signed the same year.)
                "value": format!("{}^{year}^{}", hospital.code, local_id(signed.doc, &previous.content_sha256, previous.version))
            }
        }]);
    }

    let mut entry = vec![json!({ "fullUrl": composition_url, "resource": composition })];
    entry.extend(
        b.entries
            .iter()
            .map(|(url, resource)| json!({ "fullUrl": url, "resource": resource })),
    );
    let bundle = json!({
        "resourceType": "Bundle",
        "id": b.uuid("bundle").to_string(),
        "meta": meta(bundle_profile, &timestamp),
        "language": "ja",
        "identifier": { "system": BUNDLE_ID_SYSTEM, "value": format!("{}^{year}^{local}", hospital.code) },
        "type": "document",
        "timestamp": timestamp,
        "entry": entry,
    });
    Ok(ClinsExport { bundle, missing })
}

fn section_json(
    spec: &ClinsSection,
    text: &str,
    entries: &[Value],
    empty_reason: Option<&str>,
) -> Value {
    let mut s = json!({
        "title": spec.title,
        "code": { "coding": [{ "system": SECTION_SYSTEM, "code": spec.code, "display": spec.display() }] },
        "text": narrative(text),
    });
    if !entries.is_empty() {
        s["entry"] = Value::Array(entries.to_vec());
    } else if let Some(reason) = empty_reason {
        s["emptyReason"] = json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/list-empty-reason", "code": reason }] });
    }
    s
}

#[allow(clippy::too_many_arguments)]
fn section_entries(
    b: &mut BundleBuilder,
    spec: &ClinsSection,
    text: &str,
    chart: &Chart,
    patient: &str,
    encounter: &str,
    author: &str,
    missing: &mut Vec<MissingData>,
) -> Vec<Value> {
    match spec.content {
        SectionContent::Diagnoses => {
            if chart.diagnoses.is_empty() && spec.code == "344" {
                // The Bundle's condition slice and the section's entry are both 1..*.
                for element in [
                    "Bundle.entry:condition",
                    "Composition.section:structuredSection.section:diagnosesOnDischargeSection.entry",
                ] {
                    missing.push(MissingData {
                        element,
                        what: "退院時診断の病名（Condition）",
                        record: String::new(),
                    });
                }
            }
            chart
                .diagnoses
                .iter()
                .map(|d| {
                    let url = b.add(
                        &format!("condition/{}", d.id),
                        &ecs("JP_Condition_eCS"),
                        |_| condition(d, patient, encounter, missing),
                    );
                    reference(&url, "Condition")
                })
                .collect()
        }
        SectionContent::Medications | SectionContent::DischargeMedications => {
            let list: Vec<&Prescription> = if spec.content == SectionContent::Medications {
                chart
                    .prescriptions
                    .iter()
                    .filter(|p| p.end.is_none() || p.discharge)
                    .collect()
            } else {
                chart.prescriptions.iter().filter(|p| p.discharge).collect()
            };
            list.into_iter()
                .enumerate()
                .map(|(i, p)| {
                    let url = b.add(
                        &format!("medreq/{}", p.id),
                        &ecs("JP_MedicationRequest_eCS"),
                        |_| medication_request(p, i + 1, chart, patient, missing),
                    );
                    reference(&url, "MedicationRequest")
                })
                .collect()
        }
        SectionContent::Allergies => chart
            .allergies
            .iter()
            .map(|a| {
                let url = b.add(
                    &format!("allergy/{}", a.id),
                    &ecs("JP_AllergyIntolerance_eCS"),
                    |_| allergy(a, patient, missing),
                );
                reference(&url, "AllergyIntolerance")
            })
            .collect(),
        SectionContent::Results => chart
            .labs
            .iter()
            .map(|l| {
                let url = b.add(
                    &format!("observation/{}", l.id),
                    &ecs("JP_Observation_LabResult_eCS"),
                    |_| observation(l, patient, encounter, missing),
                );
                reference(&url, "Observation")
            })
            .collect(),
        SectionContent::Encounter => vec![reference(encounter, "Encounter")],
        SectionContent::TextDocument => {
            let url = b.add(
                &format!("document/{}", spec.code),
                &ecs("JP_DocumentReference_eCS"),
                |_| {
                    let body = without_controls(if text.trim().is_empty() { "記載なし" } else { text });
                    json!({
                        "resourceType": "DocumentReference",
                        "status": "current",
                        "type": { "coding": [{ "system": "http://loinc.org", "code": "11506-3", "display": "Progress note" }], "text": spec.title },
                        "subject": reference(patient, "Patient"),
                        "author": [reference(author, "Practitioner")],
                        "description": spec.title,
                        "content": [{ "attachment": {
                            "contentType": "text/plain; charset=utf-8",
                            "language": "ja",
                            "data": base64::engine::general_purpose::STANDARD.encode(body.as_bytes()),
                            "title": spec.title
                        } }]
                    })
                },
            );
            vec![reference(&url, "DocumentReference")]
        }
        SectionContent::ReferralTo | SectionContent::Narrative => Vec::new(),
    }
}

/// A name without full-width spaces (JP-CLINS R1113), split into family / given at the first
/// space when there is one.
fn name_parts(full: &str) -> (String, String, Vec<String>) {
    let text = full.replace('\u{3000}', " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut parts = text.split(' ');
    let family = parts.next().unwrap_or_default().to_string();
    let given: Vec<String> = parts.map(str::to_string).collect();
    (text, family, given)
}

fn practitioner_name(full: &str) -> Value {
    let (text, family, given) = name_parts(full);
    let mut name = json!({
        "extension": [{ "url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation", "valueCode": "IDE" }],
        "use": "official",
        "text": text,
    });
    if !family.is_empty() {
        name["family"] = Value::String(family);
    }
    if !given.is_empty() {
        name["given"] = json!(given);
    }
    name
}

fn patient_resource(chart: &Chart, hospital: &Hospital, missing: &mut Vec<MissingData>) -> Value {
    let p = &chart.patient;
    let name_entry = |full: &str, representation: &str, missing: &mut Vec<MissingData>| {
        let (text, family, given) = name_parts(full);
        let mut name = json!({
            "extension": [{
                "url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation",
                "valueCode": representation
            }],
            "use": "official",
            "text": text,
            "family": family,
        });
        if given.is_empty() {
            missing.push(MissingData {
                element: "Patient.name.given",
                what: "患者の名（姓と名の区切り）",
                record: String::new(),
            });
        } else {
            name["given"] = json!(given);
        }
        name
    };
    let mut names = vec![name_entry(&p.name, "IDE", missing)];
    if !p.kana.trim().is_empty() {
        names.push(name_entry(&p.kana, "SYL", missing));
    }
    let mut resource = json!({
        "resourceType": "Patient",
        "identifier": [{ "system": format!("urn:oid:1.2.392.100495.20.3.51.1{}", hospital.code), "value": p.id }],
        "name": names,
    });
    missing.push(MissingData {
        element: "Patient.identifier",
        what: "被保険者番号",
        record: String::new(),
    });
    // A chart that does not record the sex: FHIR's own `unknown` (nothing is guessed).
    resource["gender"] = Value::String(
        match p.sex {
            Sex::Male => "male",
            Sex::Female => "female",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
        .into(),
    );
    match p.birth_date {
        Some(birth) => {
            resource["birthDate"] = Value::String(birth.format("%Y-%m-%d").to_string());
        }
        None => missing.push(MissingData {
            element: "Patient.birthDate",
            what: "患者の生年月日",
            record: String::new(),
        }),
    }
    missing.push(MissingData {
        element: "Patient.address",
        what: "患者の住所",
        record: String::new(),
    });
    resource
}

fn organization_resource(hospital: &Hospital, department: Option<&str>) -> Value {
    let mut address = json!({ "text": hospital.address });
    if let Some(postal) = &hospital.postal_code {
        address["postalCode"] = Value::String(postal.clone());
    }
    let mut resource = json!({
        "resourceType": "Organization",
        "identifier": [{ "system": INSTITUTION_ID_SYSTEM, "value": hospital.code }],
        "type": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov", "display": "Healthcare Provider" }] }],
        "name": hospital.name,
        "telecom": [{ "system": "phone", "value": hospital.phone }],
        "address": [address],
    });
    if let Some((name, code)) = department
        .filter(|d| !d.trim().is_empty())
        .and_then(|d| hospital.department_code(d).map(|c| (d.trim(), c)))
    {
        resource["extension"] = json!([{
            "url": DEPARTMENT_EXTENSION,
            "valueCodeableConcept": { "coding": [{ "system": DEPARTMENT_SYSTEM, "code": code, "display": name }] }
        }]);
    }
    resource
}

fn encounter_resource(chart: &Chart, patient: &str) -> Value {
    let e = &chart.encounter;
    let inpatient = e.admission_date.is_some();
    // JP_Encounter_eCS fixes status to `finished` (the encounter the document reports on).
    let mut resource = json!({
        "resourceType": "Encounter",
        "identifier": [{ "system": RESOURCE_ID_SYSTEM, "value": chart.id }],
        "status": "finished",
        "class": if inpatient {
            json!({ "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "inpatient encounter" })
        } else {
            json!({ "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory" })
        },
        "subject": reference(patient, "Patient"),
    });
    if let Some(a) = e.admission_date {
        let mut period = json!({ "start": a.format("%Y-%m-%d").to_string() });
        if let Some(d) = e.discharge_date {
            period["end"] = Value::String(d.format("%Y-%m-%d").to_string());
            resource["length"] = json!({
                "value": (d - a).num_days() + 1, "unit": "日", "system": "http://unitsofmeasure.org", "code": "d"
            });
        }
        resource["period"] = period;
    }
    if !e.department.is_empty() {
        resource["serviceType"] = json!({ "text": e.department });
    }
    resource
}

fn condition(
    d: &Diagnosis,
    patient: &str,
    encounter: &str,
    missing: &mut Vec<MissingData>,
) -> Value {
    let (clinical, verification) = match d.status {
        DiagnosisStatus::Active => ("active", "confirmed"),
        DiagnosisStatus::Resolved => ("resolved", "confirmed"),
        DiagnosisStatus::Suspected => ("active", "provisional"),
    };
    let mut code = json!({ "text": d.name });
    if let Some(icd) = d.icd10.as_deref().filter(|c| !c.trim().is_empty()) {
        code["coding"] = json!([{ "system": ICD10_SYSTEM, "code": icd.trim().replace('.', ""), "display": d.name }]);
    }
    missing.push(MissingData {
        element: "Condition.code.coding",
        what: "MEDIS病名管理番号",
        record: d.name.clone(),
    });
    json!({
        "resourceType": "Condition",
        "identifier": [{ "system": RESOURCE_ID_SYSTEM, "value": d.id }],
        "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": clinical }] },
        "verificationStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification }] },
        "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis" }] }],
        "code": code,
        "subject": reference(patient, "Patient"),
        "encounter": reference(encounter, "Encounter"),
    })
}

fn medication_request(
    p: &Prescription,
    rp: usize,
    chart: &Chart,
    patient: &str,
    missing: &mut Vec<MissingData>,
) -> Value {
    let instruction_text = [
        format!("{}{}", p.dose, p.unit),
        p.route.clone(),
        p.frequency.clone(),
        p.days.map(|d| format!("{d}日分")).unwrap_or_default(),
    ]
    .into_iter()
    .filter(|s| !s.trim().is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    let timing_text = if p.frequency.trim().is_empty() {
        "記載なし".to_string()
    } else {
        p.frequency.clone()
    };
    let mut dosage = json!({
        "text": if instruction_text.is_empty() { p.drug.clone() } else { instruction_text },
        // 用法 without a 電子処方箋用法 code: the specification's own dummy code.
        "timing": { "code": {
            "coding": [{ "system": USAGE_UNCODED_SYSTEM, "code": "0X0XXXXXXXXX0000", "display": "ダミー用法コード" }],
            "text": timing_text
        } },
    });
    if !p.route.is_empty() {
        dosage["route"] = json!({ "text": p.route });
    }
    missing.push(MissingData {
        element: "MedicationRequest.medication[x].coding",
        what: "YJコード",
        record: p.drug.clone(),
    });
    let mut resource = json!({
        "resourceType": "MedicationRequest",
        "identifier": [
            { "system": "http://jpfhir.jp/fhir/core/mhlw/IdSystem/Medication-RPGroupNumber", "value": rp.to_string() },
            { "system": "http://jpfhir.jp/fhir/core/mhlw/IdSystem/MedicationAdministrationIndex", "value": "1" },
            { "system": RESOURCE_ID_SYSTEM, "value": p.id }
        ],
        // JP_MedicationRequest_eCS fixes the status (the prescription as issued).
        "status": "completed",
        "intent": "order",
        "medicationCodeableConcept": { "text": p.drug },
        "subject": reference(patient, "Patient"),
        "dosageInstruction": [dosage],
    });
    match p.start.or(chart.encounter.admission_date) {
        Some(start) => resource["authoredOn"] = Value::String(start.format("%Y-%m-%d").to_string()),
        None => missing.push(MissingData {
            element: "MedicationRequest.authoredOn",
            what: "処方日",
            record: p.drug.clone(),
        }),
    }
    if let Some(days) = p.days {
        resource["dispenseRequest"] = json!({
            "expectedSupplyDuration": { "value": days, "unit": "日", "system": "http://unitsofmeasure.org", "code": "d" }
        });
    }
    resource
}

fn allergy(a: &Allergy, patient: &str, missing: &mut Vec<MissingData>) -> Value {
    missing.push(MissingData {
        element: "AllergyIntolerance.code.coding",
        what: "アレルゲンコード（JFAGY）",
        record: a.substance.clone(),
    });
    let mut resource = json!({
        "resourceType": "AllergyIntolerance",
        "identifier": [{ "system": RESOURCE_ID_SYSTEM, "value": a.id }],
        "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active" }] },
        "verificationStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed" }] },
        "code": { "text": a.substance },
        "patient": reference(patient, "Patient"),
    });
    if !a.reaction.trim().is_empty() {
        let mut reaction = json!({ "manifestation": [{ "text": a.reaction }] });
        let severity = match a.severity.trim() {
            "軽度" | "軽症" => Some("mild"),
            "中等度" | "中等症" => Some("moderate"),
            "重度" | "重症" | "重篤" => Some("severe"),
            _ => None,
        };
        if let Some(s) = severity {
            reaction["severity"] = Value::String(s.into());
        }
        resource["reaction"] = json!([reaction]);
    }
    resource
}

/// "5" → 5, "0.5" → 0.5; anything else is not a quantity.
fn decimal(s: &str) -> Option<Value> {
    let v: f64 = s.trim().parse().ok()?;
    serde_json::Number::from_f64(v).map(Value::Number)
}

/// JLAC10 is not required when the "not standardized" code is sent: nothing is reported. The
/// specimen (血清, 全血 …) is required, and charts do not record it: reported.
fn observation(
    l: &LabResult,
    patient: &str,
    encounter: &str,
    missing: &mut Vec<MissingData>,
) -> Value {
    missing.push(MissingData {
        element: "Observation.specimen",
        what: "検体材料",
        record: l.item.clone(),
    });
    let mut resource = json!({
        "resourceType": "Observation",
        "identifier": [{ "system": RESOURCE_ID_SYSTEM, "value": l.id }],
        "status": "final",
        "category": [{ "coding": [{ "system": "http://jpfhir.jp/fhir/core/CodeSystem/JP_SimpleObservationCategory_CS", "code": "laboratory", "display": "検体検査" }] }],
        "code": {
            "coding": [
                // The hospital's own item name as its local code, and the specification's
                // "not standardized (JLAC)" code: no JLAC10 code is made up.
                { "system": LAB_LOCAL_SYSTEM, "code": l.item, "display": l.item },
                { "system": LAB_UNCODED_SYSTEM, "code": "99999999999999999", "display": "未標準化コード項目(JLAC)" }
            ],
            "text": l.item
        },
        "subject": reference(patient, "Patient"),
        "encounter": reference(encounter, "Encounter"),
        "effectiveDateTime": local_datetime(&l.datetime),
    });
    let raw = l.value.trim();
    let (comparator, number) = ["<=", ">=", "<", ">"]
        .iter()
        .find_map(|c| raw.strip_prefix(c).map(|rest| (Some(*c), rest)))
        .unwrap_or((None, raw));
    match decimal(number) {
        Some(value) => {
            let mut q = json!({ "value": value });
            if let Some(c) = comparator {
                q["comparator"] = Value::String(c.into());
            }
            if !l.unit.is_empty() {
                q["unit"] = Value::String(l.unit.clone());
            }
            resource["valueQuantity"] = q;
        }
        None => resource["valueString"] = Value::String(raw.to_string()),
    }
    if !l.reference_range.trim().is_empty() {
        resource["referenceRange"] = json!([{ "text": l.reference_range }]);
    }
    if let Some(flag) = l.flag {
        let (code, display) = match flag {
            LabFlag::H => ("H", "High"),
            LabFlag::L => ("L", "Low"),
        };
        resource["interpretation"] = json!([{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": code, "display": display }] }]);
    }
    resource
}
