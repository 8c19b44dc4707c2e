//! FHIR R4 Bundle → Chart. Reads the resources a Japanese EHR export carries: Patient,
//! Encounter, Condition, MedicationRequest, Observation, AllergyIntolerance, and notes as
//! DocumentReference (inline base64 attachment) or Composition (narrative sections).
//! Unknown resources are skipped; malformed ones are errors naming the entry.

use super::model::{flexible_datetime, LabFlag};
use super::{
    Allergy, Chart, Diagnosis, DiagnosisStatus, Encounter, LabResult, Note, Patient, Prescription,
    Sex,
};
use base64::Engine as _;
use chrono::NaiveDate;
use serde_json::Value;

pub const SUMMARY: &str = "FHIR Bundle として読めません";
pub const HINT: &str = "Patient リソースを含む FHIR R4 Bundle (JSON) で書き出すか、karte のカルテ形式に変換してください";

pub fn from_bundle_json(text: &str, stem: &str) -> Result<Chart, String> {
    let bundle: Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        )
    })?;
    if str_at(&bundle, "resourceType") != Some("Bundle") {
        return Err(format!(
            "FHIR resource is a {}, not a Bundle",
            str_at(&bundle, "resourceType").unwrap_or("(missing resourceType)")
        ));
    }
    let entries = bundle
        .get("entry")
        .and_then(Value::as_array)
        .ok_or("the Bundle has no \"entry\" array")?;

    let mut chart = Chart {
        id: str_at(&bundle, "id").unwrap_or(stem).to_owned(),
        patient: Patient::default(),
        encounter: Encounter::default(),
        notes: Vec::new(),
        labs: Vec::new(),
        prescriptions: Vec::new(),
        allergies: Vec::new(),
        diagnoses: Vec::new(),
        referral: None,
    };
    let mut has_patient = false;
    for (index, entry) in entries.iter().enumerate() {
        let Some(resource) = entry.get("resource") else {
            continue;
        };
        let id = str_at(resource, "id")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("entry{}", index + 1));
        let label = format!("Bundle entry {} ({id})", index + 1);
        let what = |e: String| format!("{label}: {e}");
        match str_at(resource, "resourceType") {
            Some("Patient") => {
                chart.patient = patient(resource, &id);
                has_patient = true;
            }
            Some("Encounter") => {
                chart.encounter = encounter(resource);
                if let Some(id) =
                    path(resource, &["identifier", "0", "value"]).and_then(Value::as_str)
                {
                    chart.id = id.to_owned();
                }
            }
            Some("Condition") => chart.diagnoses.push(condition(resource, id)),
            Some("MedicationRequest") => chart.prescriptions.push(medication(resource, id)),
            Some("Observation") => chart.labs.push(observation(resource, id).map_err(what)?),
            Some("AllergyIntolerance") => chart.allergies.push(allergy(resource, id)),
            Some("DocumentReference") => chart
                .notes
                .push(document_reference(resource, id).map_err(what)?),
            Some("Composition") => chart
                .notes
                .extend(composition(resource, &id).map_err(what)?),
            _ => {}
        }
    }
    if !has_patient {
        return Err("the Bundle has no Patient resource".into());
    }
    Ok(chart)
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn path<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, k| match k.parse::<usize>() {
        Ok(i) => v.get(i),
        Err(_) => v.get(*k),
    })
}

fn text_at(v: &Value, keys: &[&str]) -> String {
    path(v, keys)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A CodeableConcept's text, else its first coding's display, else its code.
fn concept_text(v: Option<&Value>) -> String {
    let Some(v) = v else { return String::new() };
    str_at(v, "text")
        .or_else(|| path(v, &["coding", "0", "display"]).and_then(Value::as_str))
        .or_else(|| path(v, &["coding", "0", "code"]).and_then(Value::as_str))
        .unwrap_or_default()
        .to_owned()
}

fn date(v: Option<&Value>) -> Option<NaiveDate> {
    let s = v?.as_str()?;
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

fn human_name(name: &Value) -> String {
    if let Some(text) = str_at(name, "text") {
        return text.to_owned();
    }
    let family = str_at(name, "family").unwrap_or_default();
    let given: Vec<&str> = name
        .get("given")
        .and_then(Value::as_array)
        .map(|g| g.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    [family.to_owned(), given.join(" ")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_kana(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| matches!(c, '\u{30A0}'..='\u{30FF}' | '\u{FF66}'..='\u{FF9F}' | ' ' | '　'))
}

fn patient(r: &Value, id: &str) -> Patient {
    let names: Vec<String> = r
        .get("name")
        .and_then(Value::as_array)
        .map(|n| n.iter().map(human_name).collect())
        .unwrap_or_default();
    let kana = names
        .iter()
        .find(|n| is_kana(n))
        .cloned()
        .unwrap_or_default();
    let name = names
        .iter()
        .find(|n| !is_kana(n))
        .or(names.first())
        .cloned()
        .unwrap_or_default();
    let sex = match str_at(r, "gender") {
        Some("male") => Sex::Male,
        Some("female") => Sex::Female,
        Some("other") => Sex::Other,
        _ => Sex::Unknown,
    };
    let patient_id = path(r, &["identifier", "0", "value"])
        .and_then(Value::as_str)
        .unwrap_or(id)
        .to_owned();
    Patient {
        id: patient_id,
        name,
        kana,
        sex,
        birth_date: date(r.get("birthDate")),
    }
}

fn encounter(r: &Value) -> Encounter {
    let department = [
        concept_text(r.get("serviceType")),
        concept_text(path(r, &["type", "0"])),
    ]
    .into_iter()
    .find(|s| !s.is_empty())
    .unwrap_or_default();
    Encounter {
        department,
        ward: text_at(r, &["location", "0", "location", "display"]),
        attending: text_at(r, &["participant", "0", "individual", "display"]),
        admission_date: date(path(r, &["period", "start"])),
        discharge_date: date(path(r, &["period", "end"])),
    }
}

fn condition(r: &Value, id: String) -> Diagnosis {
    let icd10 = r
        .get("code")
        .and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .and_then(|codings| {
            codings
                .iter()
                .find(|c| str_at(c, "system").is_some_and(|s| s.contains("icd-10")))
        })
        .and_then(|c| str_at(c, "code"))
        .map(str::to_owned);
    let verification = concept_code(r.get("verificationStatus"));
    let clinical = concept_code(r.get("clinicalStatus"));
    let status = if matches!(
        verification.as_deref(),
        Some("provisional" | "differential")
    ) {
        DiagnosisStatus::Suspected
    } else if matches!(
        clinical.as_deref(),
        Some("resolved" | "inactive" | "remission")
    ) {
        DiagnosisStatus::Resolved
    } else {
        DiagnosisStatus::Active
    };
    let main = r
        .get("category")
        .and_then(Value::as_array)
        .is_some_and(|cats| {
            cats.iter()
                .any(|c| concept_text(Some(c)).contains("主病名"))
        });
    Diagnosis {
        id,
        name: concept_text(r.get("code")),
        icd10,
        main,
        status,
        start: None,
        end: None,
        outcome: String::new(),
        codes: Vec::new(),
    }
}

fn concept_code(v: Option<&Value>) -> Option<String> {
    path(v?, &["coding", "0", "code"])
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn number_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn medication(r: &Value, id: String) -> Prescription {
    let dosage = path(r, &["dosageInstruction", "0"]);
    let dose = dosage.and_then(|d| path(d, &["doseAndRate", "0", "doseQuantity"]));
    let days = path(r, &["dispenseRequest", "expectedSupplyDuration", "value"])
        .and_then(Value::as_f64)
        .filter(|d| *d >= 0.0 && *d < 100_000.0)
        .map(|d| d as u32);
    let discharge = r
        .get("category")
        .and_then(Value::as_array)
        .is_some_and(|cats| {
            cats.iter().any(|c| {
                let t = concept_text(Some(c));
                t.contains("退院") || t == "discharge"
            })
        });
    Prescription {
        id,
        drug: concept_text(r.get("medicationCodeableConcept")),
        dose: number_text(dose.and_then(|q| q.get("value"))),
        unit: dose
            .and_then(|q| str_at(q, "unit"))
            .unwrap_or_default()
            .to_owned(),
        route: concept_text(dosage.and_then(|d| d.get("route"))),
        frequency: dosage
            .map(|d| {
                let timing = concept_text(path(d, &["timing", "code"]));
                if timing.is_empty() {
                    text_at(d, &["text"])
                } else {
                    timing
                }
            })
            .unwrap_or_default(),
        days,
        start: dosage
            .and_then(|d| date(path(d, &["timing", "repeat", "boundsPeriod", "start"])))
            .or_else(|| date(r.get("authoredOn")))
            .or_else(|| date(path(r, &["dispenseRequest", "validityPeriod", "start"]))),
        end: dosage
            .and_then(|d| date(path(d, &["timing", "repeat", "boundsPeriod", "end"])))
            .or_else(|| date(path(r, &["dispenseRequest", "validityPeriod", "end"]))),
        discharge,
        codes: Vec::new(),
    }
}

fn observation(r: &Value, id: String) -> Result<LabResult, String> {
    let when = str_at(r, "effectiveDateTime")
        .or_else(|| str_at(r, "issued"))
        .ok_or("Observation without effectiveDateTime")?;
    let datetime = flexible_datetime::parse(when)
        .ok_or_else(|| format!("Observation date \"{when}\" is not a FHIR dateTime"))?;
    let (value, unit) = if let Some(q) = r.get("valueQuantity") {
        let comparator = str_at(q, "comparator").unwrap_or_default();
        (
            format!("{comparator}{}", number_text(q.get("value"))),
            str_at(q, "unit").unwrap_or_default().to_owned(),
        )
    } else if let Some(s) = str_at(r, "valueString") {
        (s.to_owned(), String::new())
    } else {
        (concept_text(r.get("valueCodeableConcept")), String::new())
    };
    let flag = match concept_code(path(r, &["interpretation", "0"])).as_deref() {
        Some("H" | "HH" | "HU") => Some(LabFlag::H),
        Some("L" | "LL" | "LU") => Some(LabFlag::L),
        _ => None,
    };
    let range = path(r, &["referenceRange", "0"])
        .map(|rr| {
            str_at(rr, "text").map(str::to_owned).unwrap_or_else(|| {
                format!(
                    "{}-{}",
                    number_text(path(rr, &["low", "value"])),
                    number_text(path(rr, &["high", "value"]))
                )
            })
        })
        .unwrap_or_default();
    Ok(LabResult {
        id,
        datetime,
        item: concept_text(r.get("code")),
        value,
        unit,
        reference_range: range,
        flag,
        codes: Vec::new(),
    })
}

fn allergy(r: &Value, id: String) -> Allergy {
    Allergy {
        id,
        substance: concept_text(r.get("code")),
        reaction: concept_text(path(r, &["reaction", "0", "manifestation", "0"])),
        severity: str_at(r, "criticality").unwrap_or_default().to_owned(),
        codes: Vec::new(),
    }
}

fn document_reference(r: &Value, id: String) -> Result<Note, String> {
    let attachment =
        path(r, &["content", "0", "attachment"]).ok_or("DocumentReference without content")?;
    let text = match str_at(attachment, "data") {
        Some(data) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|e| format!("attachment data is not base64 ({e})"))?;
            String::from_utf8(bytes).map_err(|_| "attachment text is not UTF-8".to_string())?
        }
        None => return Err("DocumentReference has no inline attachment data".into()),
    };
    super::sanitize::find_control(&text).map_or(Ok(()), |(_, c)| {
        Err(format!(
            "note text contains {}",
            super::sanitize::describe_control(c)
        ))
    })?;
    let when = str_at(r, "date").or_else(|| str_at(attachment, "creation"));
    Ok(Note {
        id,
        datetime: when.and_then(flexible_datetime::parse).unwrap_or_default(),
        author_role: concept_text(path(r, &["category", "0"])),
        author: text_at(r, &["author", "0", "display"]),
        kind: concept_text(r.get("type")),
        text,
    })
}

/// Composition sections carry XHTML narrative; tags are stripped to plain text.
fn composition(r: &Value, id: &str) -> Result<Vec<Note>, String> {
    let datetime = str_at(r, "date")
        .and_then(flexible_datetime::parse)
        .unwrap_or_default();
    let author = text_at(r, &["author", "0", "display"]);
    let sections = r.get("section").and_then(Value::as_array);
    Ok(sections
        .into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, s)| {
            let div = path(s, &["text", "div"]).and_then(Value::as_str)?;
            Some(Note {
                id: format!("{id}-s{}", i + 1),
                datetime,
                author_role: String::new(),
                author: author.clone(),
                kind: str_at(s, "title").unwrap_or("記録").to_owned(),
                text: strip_tags(div),
            })
        })
        .collect())
}

fn strip_tags(xhtml: &str) -> String {
    let mut out = String::with_capacity(xhtml.len());
    let mut in_tag = false;
    for c in xhtml.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn bundle() -> String {
        serde_json::json!({
          "resourceType": "Bundle", "id": "B1", "type": "collection",
          "entry": [
            {"resource": {"resourceType": "Patient", "id": "p1",
              "identifier": [{"value": "P-77"}],
              "name": [{"text": "架空 一郎"}, {"use": "usual", "text": "カクウ イチロウ"}],
              "gender": "male", "birthDate": "1950-04-01"}},
            {"resource": {"resourceType": "Encounter", "id": "e1",
              "serviceType": {"text": "内科"}, "period": {"start": "2026-10-01", "end": "2026-10-10"},
              "location": [{"location": {"display": "5東"}}],
              "participant": [{"individual": {"display": "医師 架空"}}]}},
            {"resource": {"resourceType": "Condition", "id": "c1",
              "code": {"text": "肺炎", "coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "J18.9"}]},
              "verificationStatus": {"coding": [{"code": "confirmed"}]}}},
            {"resource": {"resourceType": "MedicationRequest", "id": "m1",
              "medicationCodeableConcept": {"text": "アムロジピン錠5mg"},
              "category": [{"text": "退院時処方"}],
              "dosageInstruction": [{"text": "1日1回朝食後", "route": {"text": "内服"},
                 "doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg"}}]}],
              "dispenseRequest": {"expectedSupplyDuration": {"value": 14}}}},
            {"resource": {"resourceType": "Observation", "id": "o1", "code": {"text": "CRP"},
              "valueQuantity": {"value": 12.5, "unit": "mg/dL"}, "effectiveDateTime": "2026-10-01T08:00:00+09:00",
              "interpretation": [{"coding": [{"code": "H"}]}], "referenceRange": [{"text": "0.00-0.14"}]}},
            {"resource": {"resourceType": "AllergyIntolerance", "id": "a1", "code": {"text": "ペニシリン"},
              "reaction": [{"manifestation": [{"text": "蕁麻疹"}]}]}},
            {"resource": {"resourceType": "DocumentReference", "id": "d1", "type": {"text": "入院時記録"},
              "date": "2026-10-01T10:00:00+09:00",
              "content": [{"attachment": {"contentType": "text/plain", "data": b64("発熱と咳嗽で入院。")}}]}}
          ]
        })
        .to_string()
    }

    #[test]
    fn bundle_maps_every_resource() {
        let c = from_bundle_json(&bundle(), "x").unwrap();
        assert_eq!(c.id, "B1");
        assert_eq!(c.patient.name, "架空 一郎");
        assert_eq!(c.patient.kana, "カクウ イチロウ");
        assert_eq!(c.patient.id, "P-77");
        assert_eq!(c.encounter.ward, "5東");
        assert_eq!(c.diagnoses[0].icd10.as_deref(), Some("J18.9"));
        assert_eq!(c.prescriptions[0].dose, "5");
        assert!(c.prescriptions[0].discharge);
        assert_eq!(c.prescriptions[0].days, Some(14));
        assert_eq!(c.labs[0].value, "12.5");
        assert_eq!(c.labs[0].flag, Some(LabFlag::H));
        assert_eq!(c.allergies[0].reaction, "蕁麻疹");
        assert_eq!(c.notes[0].text, "発熱と咳嗽で入院。");
        assert_eq!(c.notes[0].kind, "入院時記録");
    }

    #[test]
    fn malformed_bundles_are_explained() {
        assert!(from_bundle_json("{}", "x")
            .unwrap_err()
            .contains("not a Bundle"));
        let no_patient = r#"{"resourceType":"Bundle","entry":[]}"#;
        assert!(from_bundle_json(no_patient, "x")
            .unwrap_err()
            .contains("no Patient"));
        let bad_doc = bundle().replace(&b64("発熱と咳嗽で入院。"), "%%%");
        assert!(from_bundle_json(&bad_doc, "x")
            .unwrap_err()
            .contains("base64"));
        let escape = bundle().replace(&b64("発熱と咳嗽で入院。"), &b64("x\u{1b}[2J"));
        assert!(from_bundle_json(&escape, "x").unwrap_err().contains("ESC"));
    }
}
