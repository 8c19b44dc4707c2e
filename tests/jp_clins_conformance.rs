//! JP-CLINS conformance: the checker (tests/jp_clins) proven on the official example and on
//! broken copies of it, then every demo chart's signed referral and discharge summary.
//! Reads the packages from ../shared/reference/jp-clins (see `jp_clins::reference_dir`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

mod jp_clins;

use jp_clins::{check_bundle, Finding, Packages};
use karte::chart::Chart;
use karte::draft::{DocumentTemplate, FactSource, SectionKind};
use karte::export::{document_bundle, HospitalConfig};
use karte::store::{DocKind, SectionText, SignRequest, SignedDocument, SignedStore};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

fn packages() -> &'static Packages {
    static PACKAGES: OnceLock<Packages> = OnceLock::new();
    PACKAGES.get_or_init(Packages::load)
}

fn example() -> Value {
    let path = jp_clins::reference_dir().join("Bundle-Bundle-CLINS-Referral-Example-01.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn listing(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("  {f}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The findings of a broken copy: it must fail, and with `expected` in a message.
fn fails_with(bundle: &Value, expected: &str) {
    let findings = check_bundle(bundle, packages());
    assert!(
        findings.iter().any(|f| f.to_string().contains(expected)),
        "expected a finding containing {expected:?}, got:\n{}",
        listing(&findings)
    );
}

#[test]
fn the_official_example_passes() {
    let findings = check_bundle(&example(), packages());
    assert!(findings.is_empty(), "{}", listing(&findings));
    let text_only: Value = serde_json::from_slice(
        &std::fs::read(
            jp_clins::reference_dir().join("Bundle-Bundle-CLINS-Referral-NoEntry-Example-01.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let findings = check_bundle(&text_only, packages());
    assert!(findings.is_empty(), "{}", listing(&findings));
}

fn structured_sections(bundle: &mut Value) -> &mut Vec<Value> {
    let sections = bundle["entry"][0]["resource"]["section"]
        .as_array_mut()
        .unwrap();
    let structured = sections
        .iter_mut()
        .find(|s| s["code"]["coding"][0]["code"] == "300")
        .unwrap();
    structured["section"].as_array_mut().unwrap()
}

#[test]
fn a_wrong_section_code_fails() {
    let mut b = example();
    let purpose = structured_sections(&mut b)
        .iter_mut()
        .find(|s| s["code"]["coding"][0]["code"] == "950")
        .unwrap();
    purpose["code"]["coding"][0]["code"] = "959".into();
    fails_with(&b, "section code 959 is not a section code");
    fails_with(&b, "missing required section 950");
}

#[test]
fn composition_not_first_fails() {
    let mut b = example();
    b["entry"].as_array_mut().unwrap().swap(0, 1);
    fails_with(&b, "Composition is not the first entry");
}

#[test]
fn a_bad_bundle_identifier_fails() {
    for bad in [
        "131881479^2024^0123",                                   // 9 digits
        "1318814790-2024-0123",                                  // the old hyphen form
        "1318814790^1999^0123",                                  // year out of range
        "1318814790^2024^番号",                                  // local id not [A-Za-z0-9-]
        "1318814790^2024^0123456789012345678901234567890123456", // 37 characters
    ] {
        let mut b = example();
        b["identifier"]["value"] = bad.into();
        fails_with(&b, "is not <医療機関コード10桁>^<year>^<local id>");
    }
    let mut b = example();
    b["identifier"]["system"] = "urn:ietf:rfc:3986".into();
    fails_with(&b, "Bundle.identifier.system");
}

#[test]
fn a_missing_required_section_fails() {
    let mut b = example();
    structured_sections(&mut b).retain(|s| s["code"]["coding"][0]["code"] != "340");
    fails_with(&b, "missing required section 340");
    let mut b = example();
    b["entry"][0]["resource"]["section"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["code"]["coding"][0]["code"] != "910");
    fails_with(&b, "missing required section 910");
}

#[test]
fn an_unresolved_reference_fails() {
    let mut b = example();
    b["entry"][0]["resource"]["subject"]["reference"] =
        "urn:uuid:00000000-0000-4000-8000-000000000000".into();
    fails_with(&b, "unresolved reference urn:uuid:00000000");
}

#[test]
fn fixed_values_and_cardinalities_are_enforced() {
    let mut b = example();
    b["entry"][0]["resource"]["type"]["coding"][0]["code"] = "18842-5".into();
    fails_with(&b, "Composition.type");
    let mut b = example();
    b["entry"][0]["resource"]["title"] = "紹介状".into();
    fails_with(&b, "Composition.title");
    let mut b = example();
    b["entry"][0]["resource"]["author"]
        .as_array_mut()
        .unwrap()
        .truncate(1);
    fails_with(&b, "Composition.author");
    let mut b = example();
    let patient_at = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .position(|e| e["resource"]["resourceType"] == "Patient")
        .unwrap();
    b["entry"].as_array_mut().unwrap().remove(patient_at);
    fails_with(&b, "Bundle.entry:patient");
}

// ---------------------------------------------------------------- karte's own Bundles

fn hospital() -> karte::export::Hospital {
    HospitalConfig {
        name: Some("かるて総合病院".into()),
        code: Some("1311234567".into()),
        postal_code: Some("100-0001".into()),
        address: Some("東京都千代田区千代田1-1".into()),
        phone: Some("03-1234-5678".into()),
        departments: [("呼吸器内科".to_string(), "01".to_string())].into(),
    }
    .resolve()
    .unwrap()
}

fn demo_charts() -> Vec<Chart> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| karte::chart::load::is_chart_file(p))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| karte::chart::load(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

/// The template's sections: factual ones filled from the chart, narrative ones with a
/// sentence of the chart's first note (the checker is about structure, not prose).
fn signed_document(store: &SignedStore, chart: &Chart, doc: DocKind) -> SignedDocument {
    let template = DocumentTemplate::builtin(doc);
    let note = chart
        .notes
        .first()
        .map(|n| n.text.chars().take(60).collect::<String>())
        .unwrap_or_else(|| "経過は良好。".into());
    let sections: Vec<SectionText> = template
        .sections
        .iter()
        .map(|s| {
            let text = match (s.kind, s.source) {
                // A chart without a referral record: the clinician types the addressee.
                (_, Some(FactSource::ReferralTarget)) if chart.referral.is_none() => {
                    "みなと総合病院 循環器内科 山田 太郎 先生 御侍史".to_string()
                }
                (SectionKind::Factual, Some(source)) => {
                    karte::draft::factual::fill(chart, source).0
                }
                _ => note.clone(),
            };
            SectionText::new(&s.key, &s.title, &text)
        })
        .collect();
    store
        .sign(&SignRequest {
            chart_id: &chart.id,
            doc,
            signer: "日下部　亮",
            title: doc.japanese_title(),
            sections: &sections,
            chart_sha256: Some(karte::store::chart_fingerprint(chart)),
            acknowledged: vec![],
        })
        .unwrap()
}

#[test]
fn every_demo_charts_documents_conform() {
    let dir = tempfile::tempdir().unwrap();
    let store = SignedStore::new(dir.path());
    let hospital = hospital();
    let hat = regex::Regex::new(r"^1311234567\^20[2-3][0-9]\^[A-Za-z0-9\-]{1,32}$").unwrap();
    let charts = demo_charts();
    assert!(charts.len() >= 10, "the demo queue has its charts");
    for chart in &charts {
        for doc in [DocKind::Referral, DocKind::Discharge] {
            let signed = signed_document(&store, chart, doc);
            let export = match document_bundle(&signed, chart, &hospital) {
                Ok(export) => export,
                Err(e) => panic!("{} {doc}: {e}", chart.id),
            };
            let findings = check_bundle(&export.bundle, packages());
            // Every finding is a required code the chart does not carry, and was reported.
            let unexplained: Vec<&Finding> = findings
                .iter()
                .filter(|f| {
                    !export
                        .missing
                        .iter()
                        .any(|m| f.element.starts_with(m.element))
                })
                .collect();
            assert!(
                unexplained.is_empty(),
                "{} {doc}:\n{}",
                chart.id,
                unexplained
                    .iter()
                    .map(|f| format!("  {f}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            // And nothing is reported that the checker does not see missing.
            for m in &export.missing {
                assert!(
                    findings.iter().any(|f| f.element.starts_with(m.element)),
                    "{} {doc}: reported {} ({}) but the Bundle has it",
                    chart.id,
                    m.what,
                    m.element
                );
            }
            let composition = &export.bundle["entry"][0]["resource"];
            let id = composition["identifier"]["value"].as_str().unwrap();
            assert!(hat.is_match(id), "Composition.identifier {id}");
            assert_eq!(export.bundle["identifier"]["value"].as_str(), Some(id));
        }
    }
}

#[test]
fn missing_codes_are_reported_not_invented() {
    let dir = tempfile::tempdir().unwrap();
    let store = SignedStore::new(dir.path());
    let chart = demo_charts()
        .into_iter()
        .find(|c| !c.diagnoses.is_empty() && !c.prescriptions.is_empty())
        .unwrap();
    let signed = signed_document(&store, &chart, DocKind::Referral);
    let export = document_bundle(&signed, &chart, &hospital()).unwrap();
    let text = serde_json::to_string(&export.bundle).unwrap();
    for invented in [
        "master-disease-keyNumber",
        "YJ-code",
        "master-JLAC10-17digits",
        "JP_Insurance_memberID",
    ] {
        assert!(!text.contains(invented), "{invented} appears in the Bundle");
    }
    let summary = export.missing_summary();
    assert!(
        summary.contains("MEDIS病名管理番号")
            && summary.contains("YJコード")
            && summary.contains("被保険者番号"),
        "{summary}"
    );
}

#[test]
fn an_empty_addressee_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = SignedStore::new(dir.path());
    let mut chart = demo_charts().remove(0);
    chart.referral = None;
    let mut signed = signed_document(&store, &chart, DocKind::Referral);
    // The addressee section left as the draft's placeholder.
    for s in &mut signed.sections {
        if s.key == "addressee" {
            s.text = karte::draft::factual::fill(&chart, FactSource::ReferralTarget).0;
        }
    }
    let error = document_bundle(&signed, &chart, &hospital()).unwrap_err();
    assert!(error.to_string().contains("宛先"), "{error}");
}

#[test]
fn the_edited_addressee_is_the_referral_to_organization() {
    let dir = tempfile::tempdir().unwrap();
    let store = SignedStore::new(dir.path());
    let mut chart = demo_charts().remove(0);
    chart.encounter.department = "呼吸器内科".into();
    let mut signed = signed_document(&store, &chart, DocKind::Referral);
    for s in &mut signed.sections {
        if s.key == "addressee" {
            // The clinician replaced the chart's addressee in the TUI.
            s.text = "医療機関: 東都大学病院\n診療科: 循環器内科\n医師: 山田　太郎 先生".into();
        }
    }
    let export = document_bundle(&signed, &chart, &hospital()).unwrap();
    assert!(check_bundle(&export.bundle, packages())
        .iter()
        .all(|f| export
            .missing
            .iter()
            .any(|m| f.element.starts_with(m.element))));
    let composition = &export.bundle["entry"][0]["resource"];
    let to = composition["section"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"]["coding"][0]["code"] == "910")
        .unwrap();
    let resource = |reference: &Value| {
        export.bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["fullUrl"] == reference["reference"])
            .map(|e| e["resource"].clone())
            .unwrap()
    };
    assert_eq!(resource(&to["entry"][0])["name"], "東都大学病院");
    assert_eq!(resource(&to["entry"][1])["name"][0]["text"], "山田 太郎");
    assert!(to["text"]["div"].as_str().unwrap().contains("循環器内科"));
    let from = composition["section"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"]["coding"][0]["code"] == "920")
        .unwrap();
    assert_eq!(resource(&from["entry"][0])["name"], "かるて総合病院");
    assert_eq!(
        resource(&from["entry"][0])["identifier"][0]["value"],
        "1311234567"
    );
    // The department, coded from [hospital.departments].
    let department = &resource(&from["entry"][0])["extension"][0];
    assert_eq!(
        department["url"],
        "http://jpfhir.jp/fhir/eCS/Extension/StructureDefinition/JP_eCS_Department"
    );
    assert_eq!(
        department["valueCodeableConcept"]["coding"][0]["code"],
        "01"
    );
    assert_eq!(
        department["valueCodeableConcept"]["coding"][0]["display"],
        "呼吸器内科"
    );
}
