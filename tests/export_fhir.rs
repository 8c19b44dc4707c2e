//! The FHIR R4 document Bundle of a signed document, checked by a structural validator:
//! required elements, reference resolution inside the Bundle, document type and section
//! codes, FHIR JSON rules (no nulls, no empty strings/arrays/objects). The JP-CLINS profiles
//! themselves are checked by tests/jp_clins_conformance.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::Chart;
use karte::export::sections::SECTION_SYSTEM;
use karte::export::HospitalConfig;
use karte::store::{DocKind, SectionText, SignRequest, SignedDocument, SignedStore};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const DOC_TYPES: &str = "http://jpfhir.jp/fhir/Common/CodeSystem/doc-typecodes";

fn document_bundle(signed: &SignedDocument, chart: &Chart) -> Value {
    let hospital = HospitalConfig {
        name: Some("かるて総合病院".into()),
        code: Some("1311234567".into()),
        address: Some("東京都千代田区千代田1-1".into()),
        phone: Some("03-1234-5678".into()),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    karte::export::document_bundle(signed, chart, &hospital)
        .unwrap()
        .bundle
}

fn chart(name: &str) -> Chart {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/demo")
        .join(name);
    karte::chart::load(&path).unwrap()
}

fn sections(doc: DocKind) -> Vec<SectionText> {
    let mut s = vec![
        SectionText::new(
            "diagnoses",
            "傷病名",
            "#1 市中肺炎（肺炎球菌性）\n#2 2型糖尿病",
        ),
        SectionText::new(
            "hospital_course",
            "入院経過",
            "セフトリアキソンで加療し軽快した。<改善>",
        ),
        SectionText::new("lab_results", "検査所見", "CRP 18.6 → 3.2 mg/dL"),
        SectionText::new("allergies", "アレルギー", "ロキソプロフェン（蕁麻疹）"),
        SectionText::new("remarks", "備考", ""),
    ];
    match doc {
        DocKind::Discharge => s.insert(
            3,
            SectionText::new(
                "discharge_medications",
                "退院時処方",
                "ジャヌビア錠50mg 1錠 1日1回朝食後",
            ),
        ),
        DocKind::Referral => {
            s.insert(
                0,
                SectionText::new("purpose", "紹介目的", "退院後の経過観察をお願いします。"),
            );
            s.insert(
                3,
                SectionText::new("medications", "処方", "ジャヌビア錠50mg 1錠 1日1回朝食後"),
            );
            // The addressee as the clinician typed it (charts without a referral record too).
            s.push(SectionText::new(
                "addressee",
                "宛先",
                "みなと総合病院 循環器内科 山田 太郎 先生 御侍史",
            ));
        }
    }
    s
}

fn sign(store: &SignedStore, chart: &Chart, doc: DocKind, body: &[SectionText]) -> SignedDocument {
    store
        .sign(&SignRequest {
            chart_id: &chart.id,
            doc,
            signer: "日下部 亮",
            title: doc.japanese_title(),
            sections: body,
            chart_sha256: Some(karte::store::chart_fingerprint(chart)),
            acknowledged: vec![],
        })
        .unwrap()
}

// ---------------------------------------------------------------- validator

fn is_datetime(s: &str) -> bool {
    regex::Regex::new(
        r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$",
    )
    .unwrap()
    .is_match(s)
}

fn is_instant(s: &str) -> bool {
    regex::Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
        .unwrap()
        .is_match(s)
}

fn is_date(s: &str) -> bool {
    regex::Regex::new(r"^\d{4}(-\d{2}(-\d{2})?)?$")
        .unwrap()
        .is_match(s)
}

/// FHIR JSON: no null, no empty string / array / object anywhere.
fn check_json_rules(v: &Value, path: &str, errors: &mut Vec<String>) {
    match v {
        Value::Null => errors.push(format!("{path}: null is not allowed in FHIR JSON")),
        Value::String(s) if s.is_empty() => errors.push(format!("{path}: empty string")),
        Value::Array(a) => {
            if a.is_empty() {
                errors.push(format!("{path}: empty array"));
            }
            for (i, x) in a.iter().enumerate() {
                check_json_rules(x, &format!("{path}[{i}]"), errors);
            }
        }
        Value::Object(o) => {
            if o.is_empty() {
                errors.push(format!("{path}: empty object"));
            }
            for (k, x) in o {
                check_json_rules(x, &format!("{path}.{k}"), errors);
            }
        }
        _ => {}
    }
}

fn collect_references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == "reference" {
                    if let Value::String(s) = x {
                        out.push(s.clone());
                    }
                } else {
                    collect_references(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_references(x, out)),
        _ => {}
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn has_coding(v: &Value, system: &str) -> bool {
    v.get("coding").and_then(Value::as_array).is_some_and(|c| {
        c.iter()
            .any(|c| c["system"] == system && c["code"].is_string())
    })
}

/// Errors of a FHIR R4 document Bundle (empty when valid).
fn validate_document_bundle(bundle: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    check_json_rules(bundle, "Bundle", &mut errors);
    let mut require = |ok: bool, what: &str| {
        if !ok {
            errors.push(what.to_string());
        }
    };
    require(
        bundle["resourceType"] == "Bundle",
        "resourceType must be Bundle",
    );
    require(bundle["type"] == "document", "Bundle.type must be document");
    require(
        str_at(bundle, "/identifier/system").is_some()
            && str_at(bundle, "/identifier/value").is_some(),
        "bdl-9: a document has Bundle.identifier (system + value)",
    );
    require(
        str_at(bundle, "/timestamp").is_some_and(is_instant),
        "bdl-10: a document has Bundle.timestamp (instant)",
    );
    let Some(entries) = bundle["entry"].as_array() else {
        errors.push("Bundle.entry missing".into());
        return errors;
    };
    let mut full_urls = BTreeSet::new();
    let uuid = regex::Regex::new(
        r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
    )
    .unwrap();
    for (i, e) in entries.iter().enumerate() {
        let url = e["fullUrl"].as_str().unwrap_or_default();
        if !uuid.is_match(url) {
            errors.push(format!("entry[{i}].fullUrl is not a urn:uuid: {url}"));
        }
        if !full_urls.insert(url.to_string()) {
            errors.push(format!("bdl-7: duplicate fullUrl {url}"));
        }
        let r = &e["resource"];
        if !r["resourceType"].is_string() || !r["id"].is_string() {
            errors.push(format!("entry[{i}] resource lacks resourceType or id"));
        }
        if url.strip_prefix("urn:uuid:") != r["id"].as_str() {
            errors.push(format!("entry[{i}]: id does not match fullUrl"));
        }
    }
    // Every reference resolves inside the Bundle; every resource but the Composition is referenced.
    let mut references = Vec::new();
    collect_references(bundle, &mut references);
    for r in &references {
        if !full_urls.contains(r) {
            errors.push(format!("reference {r} does not resolve inside the Bundle"));
        }
    }
    let referenced: BTreeSet<&String> = references.iter().collect();
    for e in entries.iter().skip(1) {
        let url = e["fullUrl"].as_str().unwrap_or_default().to_string();
        if !referenced.contains(&url) {
            errors.push(format!(
                "{} {url} is not referenced from the document",
                e["resource"]["resourceType"]
            ));
        }
    }

    let composition = &entries[0]["resource"];
    let mut require = |ok: bool, what: &str| {
        if !ok {
            errors.push(what.to_string());
        }
    };
    require(
        composition["resourceType"] == "Composition",
        "bdl-11: the first entry is a Composition",
    );
    require(
        composition["status"] == "final",
        "Composition.status must be final",
    );
    let type_ok = composition["type"]["coding"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["system"] == DOC_TYPES && (c["code"] == "57133-1" || c["code"] == "18842-5"))
    });
    require(type_ok, "Composition.type must be 57133-1 or 18842-5");
    require(
        str_at(composition, "/subject/reference").is_some(),
        "Composition.subject",
    );
    require(
        str_at(composition, "/encounter/reference").is_some(),
        "Composition.encounter",
    );
    require(
        str_at(composition, "/date").is_some_and(is_datetime),
        "Composition.date (dateTime)",
    );
    require(
        composition["author"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "Composition.author 1..*",
    );
    require(str_at(composition, "/title").is_some(), "Composition.title");
    let mut sections = composition["section"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    require(!sections.is_empty(), "Composition.section");
    // Sub-sections (under 300 構造情報) are checked like the top level.
    let nested: Vec<Value> = sections
        .iter()
        .flat_map(|s| s["section"].as_array().cloned().unwrap_or_default())
        .collect();
    sections.retain(|s| s.get("section").is_none());
    sections.extend(nested);
    for (i, s) in sections.iter().enumerate() {
        require(
            has_coding(&s["code"], SECTION_SYSTEM),
            &format!("section[{i}].code must be in the JP-CLINS section CodeSystem"),
        );
        require(s["title"].is_string(), &format!("section[{i}].title"));
        let div = s["text"]["div"].as_str().unwrap_or_default();
        require(
            div.starts_with("<div xmlns=\"http://www.w3.org/1999/xhtml\">")
                && div.ends_with("</div>"),
            &format!("section[{i}].text.div must be XHTML"),
        );
        let inner = div
            .strip_prefix("<div xmlns=\"http://www.w3.org/1999/xhtml\">")
            .and_then(|d| d.strip_suffix("</div>"))
            .unwrap_or_default()
            .replace("<br/>", "");
        require(
            !inner.contains(['<', '>']),
            &format!("section[{i}] narrative must be escaped text"),
        );
        require(
            ["generated", "extensions", "additional", "empty"]
                .contains(&s["text"]["status"].as_str().unwrap_or_default()),
            &format!("section[{i}].text.status"),
        );
    }

    for e in entries.iter().skip(1) {
        let r = &e["resource"];
        let t = r["resourceType"].as_str().unwrap_or_default();
        let mut require = |ok: bool, what: &str| {
            if !ok {
                errors.push(format!("{t}: {what}"));
            }
        };
        match t {
            "Patient" => {
                require(r["identifier"][0]["value"].is_string(), "identifier");
                require(r["name"][0]["text"].is_string(), "name");
                require(
                    ["male", "female", "other", "unknown"]
                        .contains(&r["gender"].as_str().unwrap_or_default()),
                    "gender code",
                );
                require(
                    r.get("birthDate")
                        .is_none_or(|d| d.as_str().is_some_and(is_date)),
                    "birthDate",
                );
            }
            "Encounter" => {
                require(
                    [
                        "planned",
                        "arrived",
                        "triaged",
                        "in-progress",
                        "onleave",
                        "finished",
                        "cancelled",
                        "entered-in-error",
                        "unknown",
                    ]
                    .contains(&r["status"].as_str().unwrap_or_default()),
                    "status 1..1",
                );
                require(
                    r["class"]["system"].is_string() && r["class"]["code"].is_string(),
                    "class 1..1 (Coding)",
                );
            }
            "Practitioner" => require(r["name"][0]["text"].is_string(), "name"),
            "Organization" => require(r["name"].is_string(), "name"),
            "DocumentReference" => require(
                r["content"][0]["attachment"]["data"].is_string(),
                "content.attachment",
            ),
            "Condition" => {
                require(str_at(r, "/subject/reference").is_some(), "subject 1..1");
                require(
                    has_coding(
                        &r["clinicalStatus"],
                        "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    ),
                    "clinicalStatus",
                );
                require(
                    has_coding(
                        &r["verificationStatus"],
                        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    ),
                    "verificationStatus",
                );
                require(r["code"]["text"].is_string(), "code");
            }
            "MedicationRequest" => {
                require(
                    [
                        "active",
                        "on-hold",
                        "cancelled",
                        "completed",
                        "entered-in-error",
                        "stopped",
                        "draft",
                        "unknown",
                    ]
                    .contains(&r["status"].as_str().unwrap_or_default()),
                    "status 1..1",
                );
                require(r["intent"] == "order", "intent 1..1");
                require(
                    r["medicationCodeableConcept"]["text"].is_string(),
                    "medication[x] 1..1",
                );
                require(str_at(r, "/subject/reference").is_some(), "subject 1..1");
            }
            "AllergyIntolerance" => {
                require(str_at(r, "/patient/reference").is_some(), "patient 1..1");
                if let Some(reactions) = r["reaction"].as_array() {
                    require(
                        reactions
                            .iter()
                            .all(|x| x["manifestation"].as_array().is_some_and(|m| !m.is_empty())),
                        "reaction.manifestation 1..*",
                    );
                }
            }
            "Observation" => {
                require(
                    ["registered", "preliminary", "final", "amended"]
                        .contains(&r["status"].as_str().unwrap_or_default()),
                    "status 1..1",
                );
                require(r["code"]["text"].is_string(), "code 1..1");
                let values = ["valueQuantity", "valueString", "valueCodeableConcept"]
                    .iter()
                    .filter(|k| r.get(**k).is_some())
                    .count();
                require(values <= 1, "at most one value[x]");
                require(
                    str_at(r, "/effectiveDateTime").is_some_and(is_datetime),
                    "effectiveDateTime",
                );
            }
            other => errors.push(format!("unexpected resource type {other}")),
        }
    }
    errors
}

// ---------------------------------------------------------------- tests

fn resource_types(bundle: &Value) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in bundle["entry"].as_array().unwrap() {
        *counts
            .entry(e["resource"]["resourceType"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    counts
}

#[test]
fn discharge_summary_bundle_is_a_valid_fhir_document() {
    let chart = chart("01-naika-pneumonia.json");
    let dir = tempfile::tempdir().unwrap();
    let store = SignedStore::new(dir.path());
    let signed = sign(
        &store,
        &chart,
        DocKind::Discharge,
        &sections(DocKind::Discharge),
    );
    let bundle = document_bundle(&signed, &chart);
    let errors = validate_document_bundle(&bundle);
    assert!(errors.is_empty(), "{errors:#?}");
    let types = resource_types(&bundle);
    println!("discharge summary bundle: {types:?}");
    for t in [
        "Composition",
        "Patient",
        "Encounter",
        "Practitioner",
        "Condition",
        "MedicationRequest",
        "AllergyIntolerance",
        "Observation",
    ] {
        assert!(types.contains_key(t), "no {t} in the bundle");
    }
    let composition = &bundle["entry"][0]["resource"];
    assert_eq!(composition["type"]["coding"][0]["code"], "18842-5");
    // Discharge medications section lists only prescriptions continued after discharge.
    let discharge_rx = chart.prescriptions.iter().filter(|p| p.discharge).count();
    assert_eq!(types["MedicationRequest"], discharge_rx);
    assert_eq!(types["Observation"], chart.labs.len());
    // Sections: JP-CLINS codes under 300; narrative escaped.
    let codes: Vec<(&str, &str)> = composition["section"][0]["section"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["code"]["coding"][0]["system"].as_str().unwrap(),
                s["code"]["coding"][0]["code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        composition["section"][0]["code"]["coding"][0]["code"],
        "300"
    );
    for code in ["333", "444", "344", "510", "623"] {
        assert!(codes.contains(&(SECTION_SYSTEM, code)), "{code}: {codes:?}");
    }
    let text = serde_json::to_string(&bundle).unwrap();
    assert!(text.contains("&lt;改善&gt;") && !text.contains("<改善>"));
    // Exporting the same version twice gives the same document.
    assert_eq!(document_bundle(&signed, &chart), bundle);
}

#[test]
fn referral_and_amended_versions() {
    let chart = chart("01-naika-pneumonia.json");
    let dir = tempfile::tempdir().unwrap();
    let store = SignedStore::new(dir.path());
    let v1 = sign(
        &store,
        &chart,
        DocKind::Referral,
        &sections(DocKind::Referral),
    );
    let mut amended = sections(DocKind::Referral);
    amended[0].text.push_str("（追記）");
    let v2 = sign(&store, &chart, DocKind::Referral, &amended);
    let b1 = document_bundle(&v1, &chart);
    let b2 = document_bundle(&v2, &chart);
    for b in [&b1, &b2] {
        let errors = validate_document_bundle(b);
        assert!(errors.is_empty(), "{errors:#?}");
        assert_eq!(
            b["entry"][0]["resource"]["type"]["coding"][0]["code"],
            "57133-1"
        );
    }
    assert_ne!(
        b1["identifier"], b2["identifier"],
        "each version is its own document"
    );
    let relates = &b2["entry"][0]["resource"]["relatesTo"][0];
    assert_eq!(relates["code"], "replaces");
    assert_eq!(
        relates["targetIdentifier"]["value"],
        b1["entry"][0]["resource"]["identifier"]["value"]
    );
    // 現在の処方: the prescriptions not ended (or continued after discharge).
    assert_eq!(
        resource_types(&b1)["MedicationRequest"],
        chart
            .prescriptions
            .iter()
            .filter(|p| p.end.is_none() || p.discharge)
            .count()
    );
}

#[test]
fn every_demo_chart_exports_a_valid_bundle() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let tmp = tempfile::tempdir().unwrap();
    let store = SignedStore::new(tmp.path());
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if !karte::chart::load::is_chart_file(&path) {
            continue;
        }
        let chart = karte::chart::load(&path).unwrap();
        for doc in DocKind::ALL {
            let signed = sign(&store, &chart, doc, &sections(doc));
            let errors = validate_document_bundle(&document_bundle(&signed, &chart));
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
            n += 1;
        }
    }
    assert!(n >= 20);
}

#[test]
fn the_validator_catches_broken_bundles() {
    let chart = chart("01-naika-pneumonia.json");
    let tmp = tempfile::tempdir().unwrap();
    let signed = sign(
        &SignedStore::new(tmp.path()),
        &chart,
        DocKind::Discharge,
        &sections(DocKind::Discharge),
    );
    let good = document_bundle(&signed, &chart);
    let mut dangling = good.clone();
    dangling["entry"][0]["resource"]["subject"]["reference"] =
        "urn:uuid:00000000-0000-4000-8000-000000000000".into();
    assert!(validate_document_bundle(&dangling)
        .iter()
        .any(|e| e.contains("does not resolve")));
    let mut untyped = good.clone();
    untyped["entry"][0]["resource"]["type"]["coding"][0]["code"] = "11111-1".into();
    assert!(validate_document_bundle(&untyped)
        .iter()
        .any(|e| e.contains("Composition.type")));
    let mut nulls = good.clone();
    nulls["entry"][1]["resource"]["gender"] = Value::Null;
    assert!(!validate_document_bundle(&nulls).is_empty());
    let mut orphan = good;
    orphan["entry"].as_array_mut().unwrap().push(serde_json::json!({
        "fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
        "resource": { "resourceType": "Practitioner", "id": "11111111-1111-4111-8111-111111111111", "name": [{ "text": "x" }] }
    }));
    assert!(validate_document_bundle(&orphan)
        .iter()
        .any(|e| e.contains("not referenced")));
}
