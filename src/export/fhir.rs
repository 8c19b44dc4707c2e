//! A FHIR R4 document Bundle of a signed document, shaped after the Japanese eReferral /
//! eDischargeSummary documents: the Composition first (LOINC document type, coded
//! sections), then the Patient, Encounter, Practitioner (the signer) and the Condition,
//! MedicationRequest, AllergyIntolerance and Observation resources its sections refer to.
//! Every reference is a `urn:uuid:` fullUrl inside the Bundle. Ids are derived from the
//! signed content's hash, so exporting one version twice gives the same Bundle.
//!
//! Not claimed: conformance to the JP-CLINS profiles (their meta.profile, JP section
//! CodeSystem, JLAC10 / YJ codes and required extensions are not produced).

use super::sections::{section_code, SectionContent};
use super::text::jst;
use crate::chart::{
    Allergy, Chart, Diagnosis, DiagnosisStatus, LabFlag, LabResult, Prescription, Sex,
};
use crate::store::{DocKind, SignedDocument};
use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const LOINC: &str = "http://loinc.org";
pub const KARTE_ID_SYSTEM: &str = "http://karte.local/fhir/NamingSystem";

/// LOINC document type of each document.
pub fn document_type(doc: DocKind) -> (&'static str, &'static str) {
    match doc {
        DocKind::Referral => ("57133-1", "Referral note"),
        DocKind::Discharge => ("18842-5", "Discharge summary"),
    }
}

/// Builds resources with stable `urn:uuid:` full URLs.
struct BundleBuilder {
    seed: String,
    entries: Vec<(String, Value)>,
    by_key: BTreeMap<String, String>,
}

impl BundleBuilder {
    fn new(seed: &str) -> Self {
        Self {
            seed: seed.to_string(),
            entries: Vec::new(),
            by_key: BTreeMap::new(),
        }
    }

    fn uuid(&self, key: &str) -> uuid::Uuid {
        let digest = Sha256::digest(format!("{}\u{0}{key}", self.seed).as_bytes());
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// Adds (once) the resource under `key`; returns its fullUrl.
    fn add(&mut self, key: &str, make: impl FnOnce(&str) -> Value) -> String {
        if let Some(url) = self.by_key.get(key) {
            return url.clone();
        }
        let id = self.uuid(key).to_string();
        let url = format!("urn:uuid:{id}");
        let mut resource = make(&url);
        if let Value::Object(map) = &mut resource {
            map.insert("id".into(), Value::String(id));
        }
        self.entries.push((url.clone(), resource));
        self.by_key.insert(key.to_string(), url.clone());
        url
    }
}

fn reference(url: &str) -> Value {
    json!({ "reference": url })
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

/// XHTML narrative of authored text (escaped, line breaks kept).
fn narrative(text: &str) -> Value {
    let text = without_controls(text);
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', "<br/>");
    let body = if text.trim().is_empty() {
        "特記事項なし".to_string()
    } else {
        escaped
    };
    json!({
        "status": "additional",
        "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{body}</div>")
    })
}

/// The FHIR R4 document Bundle for a signed document.
pub fn document_bundle(signed: &SignedDocument, chart: &Chart) -> Value {
    let mut b = BundleBuilder::new(&signed.content_sha256);
    let composition_url = format!("urn:uuid:{}", b.uuid("composition"));
    let patient = b.add("patient", |_| patient_resource(chart));
    let encounter = b.add("encounter", |_| encounter_resource(chart, &patient));
    let author = b.add("practitioner", |_| {
        json!({
            "resourceType": "Practitioner",
            "name": [{ "text": signed.signer }]
        })
    });

    let mut sections = Vec::new();
    for section in &signed.sections {
        let code = section_code(&section.key, &section.heading);
        let entries: Vec<String> = match code.content {
            SectionContent::Diagnoses => chart
                .diagnoses
                .iter()
                .map(|d| {
                    b.add(&format!("condition/{}", d.id), |_| {
                        condition(d, &patient, &encounter)
                    })
                })
                .collect(),
            SectionContent::Medications => chart
                .prescriptions
                .iter()
                .map(|p| {
                    b.add(&format!("medreq/{}", p.id), |_| {
                        medication_request(p, chart, &patient, &encounter)
                    })
                })
                .collect(),
            SectionContent::DischargeMedications => discharge_prescriptions(chart)
                .map(|p| {
                    b.add(&format!("medreq/{}", p.id), |_| {
                        medication_request(p, chart, &patient, &encounter)
                    })
                })
                .collect(),
            SectionContent::Allergies => chart
                .allergies
                .iter()
                .map(|a| b.add(&format!("allergy/{}", a.id), |_| allergy(a, &patient)))
                .collect(),
            SectionContent::Results => chart
                .labs
                .iter()
                .map(|l| {
                    b.add(&format!("observation/{}", l.id), |_| {
                        observation(l, &patient, &encounter)
                    })
                })
                .collect(),
            SectionContent::Narrative => Vec::new(),
        };
        let title = without_controls(
            if section.key == crate::store::PREAMBLE_KEY && section.heading.trim().is_empty() {
                "前文"
            } else if section.heading.trim().is_empty() {
                &section.key
            } else {
                &section.heading
            },
        );
        let mut s = json!({
            "title": title,
            "code": { "coding": [{ "system": code.system, "code": code.code, "display": code.display }] },
            "text": narrative(&section.text),
        });
        if !entries.is_empty() {
            s["entry"] = Value::Array(entries.iter().map(|u| reference(u)).collect());
        }
        sections.push(s);
    }

    let (type_code, type_display) = document_type(signed.doc);
    let signed_at = jst(&signed.signed_at).to_rfc3339();
    let version_id = |v: u32| format!("{}/{}/v{v}", signed.chart_id, signed.doc.as_str());
    let mut composition = json!({
        "resourceType": "Composition",
        "id": composition_url.trim_start_matches("urn:uuid:"),
        "identifier": { "system": format!("{KARTE_ID_SYSTEM}/document-version"), "value": version_id(signed.version) },
        "status": "final",
        "type": {
            "coding": [{ "system": LOINC, "code": type_code, "display": type_display }],
            "text": signed.doc.japanese_title()
        },
        "subject": reference(&patient),
        "encounter": reference(&encounter),
        "date": signed_at,
        "author": [reference(&author)],
        "title": if signed.title.trim().is_empty() { signed.doc.japanese_title() } else { signed.title.as_str() },
        "attester": [{ "mode": "legal", "time": signed_at, "party": reference(&author) }],
        "section": sections,
    });
    if let Some(previous) = &signed.amends {
        composition["relatesTo"] = json!([{
            "code": "replaces",
            "targetIdentifier": { "system": format!("{KARTE_ID_SYSTEM}/document-version"), "value": version_id(previous.version) }
        }]);
    }

    let mut entry = vec![json!({ "fullUrl": composition_url, "resource": composition })];
    entry.extend(
        b.entries
            .iter()
            .map(|(url, resource)| json!({ "fullUrl": url, "resource": resource })),
    );
    json!({
        "resourceType": "Bundle",
        "id": b.uuid("bundle").to_string(),
        "identifier": { "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{}", b.uuid("bundle-identifier")) },
        "type": "document",
        "timestamp": signed_at,
        "entry": entry,
    })
}

fn discharge_prescriptions(chart: &Chart) -> impl Iterator<Item = &Prescription> {
    // A chart that flags none lists only what continues.
    let any_flagged = chart.prescriptions.iter().any(|p| p.discharge);
    chart
        .prescriptions
        .iter()
        .filter(move |p| p.discharge || !any_flagged)
}

fn patient_resource(chart: &Chart) -> Value {
    let p = &chart.patient;
    let split = |full: &str| -> (String, Vec<String>) {
        let mut parts = full.split([' ', '\u{3000}']).filter(|s| !s.is_empty());
        let family = parts.next().unwrap_or_default().to_string();
        (family, parts.map(str::to_string).collect())
    };
    let name_entry = |text: &str, representation: &str| {
        let (family, given) = split(text);
        let mut name = json!({
            "extension": [{
                "url": "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation",
                "valueCode": representation
            }],
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
    };
    let mut names = vec![name_entry(&p.name, "IDE")];
    if !p.kana.trim().is_empty() {
        names.push(name_entry(&p.kana, "SYL"));
    }
    let mut resource = json!({
        "resourceType": "Patient",
        "identifier": [{ "system": format!("{KARTE_ID_SYSTEM}/patient-id"), "value": p.id }],
        "name": names,
        "gender": match p.sex { Sex::Male => "male", Sex::Female => "female", Sex::Other => "other", Sex::Unknown => "unknown" },
    });
    if let Some(birth) = p.birth_date {
        resource["birthDate"] = Value::String(birth.format("%Y-%m-%d").to_string());
    }
    resource
}

fn encounter_resource(chart: &Chart, patient: &str) -> Value {
    let e = &chart.encounter;
    let inpatient = e.admission_date.is_some();
    let mut resource = json!({
        "resourceType": "Encounter",
        "identifier": [{ "system": format!("{KARTE_ID_SYSTEM}/encounter-id"), "value": chart.id }],
        "status": if e.discharge_date.is_some() { "finished" } else { "in-progress" },
        "class": if inpatient {
            json!({ "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP", "display": "inpatient encounter" })
        } else {
            json!({ "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory" })
        },
        "subject": reference(patient),
    });
    let mut period = Map::new();
    if let Some(a) = e.admission_date {
        period.insert(
            "start".into(),
            Value::String(a.format("%Y-%m-%d").to_string()),
        );
    }
    if let Some(d) = e.discharge_date {
        period.insert(
            "end".into(),
            Value::String(d.format("%Y-%m-%d").to_string()),
        );
    }
    if !period.is_empty() {
        resource["period"] = Value::Object(period);
    }
    if !e.department.is_empty() {
        resource["serviceType"] = json!({ "text": e.department });
    }
    resource
}

fn condition(d: &Diagnosis, patient: &str, encounter: &str) -> Value {
    let (clinical, verification) = match d.status {
        DiagnosisStatus::Active => ("active", "confirmed"),
        DiagnosisStatus::Resolved => ("resolved", "confirmed"),
        DiagnosisStatus::Suspected => ("active", "provisional"),
    };
    let mut code = json!({ "text": d.name });
    if let Some(icd) = d.icd10.as_deref().filter(|c| !c.trim().is_empty()) {
        code["coding"] = json!([{ "system": "http://hl7.org/fhir/sid/icd-10", "code": icd.trim(), "display": d.name }]);
    }
    json!({
        "resourceType": "Condition",
        "identifier": [{ "system": format!("{KARTE_ID_SYSTEM}/diagnosis-id"), "value": d.id }],
        "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": clinical }] },
        "verificationStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": verification }] },
        "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis" }] }],
        "code": code,
        "subject": reference(patient),
        "encounter": reference(encounter),
    })
}

/// "5" → 5, "0.5" → 0.5; anything else is not a quantity.
fn decimal(s: &str) -> Option<Value> {
    let v: f64 = s.trim().parse().ok()?;
    serde_json::Number::from_f64(v).map(Value::Number)
}

fn medication_request(p: &Prescription, chart: &Chart, patient: &str, encounter: &str) -> Value {
    let ended = match (p.end, chart.encounter.discharge_date) {
        (Some(end), Some(discharge)) => end < discharge && !p.discharge,
        _ => false,
    };
    let instruction_text = [
        format!("{}{}", p.dose, p.unit),
        p.frequency.clone(),
        p.days.map(|d| format!("{d}日分")).unwrap_or_default(),
    ]
    .into_iter()
    .filter(|s| !s.trim().is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    let mut dosage = json!({ "text": if instruction_text.is_empty() { p.drug.clone() } else { instruction_text } });
    if !p.route.is_empty() {
        dosage["route"] = json!({ "text": p.route });
    }
    if !p.frequency.is_empty() {
        dosage["timing"] = json!({ "code": { "text": p.frequency } });
    }
    if let Some(value) = decimal(&p.dose) {
        let mut quantity = json!({ "value": value });
        if !p.unit.is_empty() {
            quantity["unit"] = Value::String(p.unit.clone());
        }
        dosage["doseAndRate"] = json!([{ "doseQuantity": quantity }]);
    }
    let mut resource = json!({
        "resourceType": "MedicationRequest",
        "identifier": [{ "system": format!("{KARTE_ID_SYSTEM}/prescription-id"), "value": p.id }],
        "status": if ended { "completed" } else { "active" },
        "intent": "order",
        "medicationCodeableConcept": { "text": p.drug },
        "subject": reference(patient),
        "encounter": reference(encounter),
        "dosageInstruction": [dosage],
    });
    if let Some(start) = p.start {
        resource["authoredOn"] = Value::String(start.format("%Y-%m-%d").to_string());
    }
    if let Some(days) = p.days {
        resource["dispenseRequest"] = json!({
            "expectedSupplyDuration": { "value": days, "unit": "日", "system": "http://unitsofmeasure.org", "code": "d" }
        });
    }
    resource
}

fn allergy(a: &Allergy, patient: &str) -> Value {
    let mut resource = json!({
        "resourceType": "AllergyIntolerance",
        "identifier": [{ "system": format!("{KARTE_ID_SYSTEM}/allergy-id"), "value": a.id }],
        "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active" }] },
        "verificationStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed" }] },
        "code": { "text": a.substance },
        "patient": reference(patient),
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

fn observation(l: &LabResult, patient: &str, encounter: &str) -> Value {
    let mut resource = json!({
        "resourceType": "Observation",
        "identifier": [{ "system": format!("{KARTE_ID_SYSTEM}/lab-id"), "value": l.id }],
        "status": "final",
        "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory" }] }],
        "code": { "text": l.item },
        "subject": reference(patient),
        "encounter": reference(encounter),
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
