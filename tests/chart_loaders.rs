//! Chart loading through the public API: every format, every encoding, every kind of bad
//! input, and the queue picking up new files.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::{load, Queue};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

const CHART_JSON: &str = r#"{
  "id": "T-01",
  "patient": {"id": "P-1", "name": "試験 太郎", "kana": "シケン タロウ", "sex": "male", "birth_date": "1950-01-02"},
  "encounter": {"department": "内科", "ward": "5東", "attending": "架空 医師", "admission_date": "2026-10-01", "discharge_date": "2026-10-12"},
  "notes": [
    {"id": "n1", "datetime": "2026-10-01T10:00", "author_role": "医師", "kind": "入院時記録", "text": "発熱と咳嗽で入院。ＣＲＰ １２．５。右下肺野に浸潤影。"},
    {"id": "n2", "datetime": "2026-10-03 09:30", "author_role": "看護師", "kind": "看護記録", "text": "BT 37.2℃、SpO2 96%（室内気）。"}
  ],
  "labs": [{"id": "l1", "datetime": "2026-10-01T08:00", "item": "CRP", "value": "12.5", "unit": "mg/dL", "reference_range": "0.00-0.14", "flag": "H"}],
  "prescriptions": [{"id": "rx1", "drug": "アムロジピン錠5mg", "dose": "1", "unit": "錠", "route": "内服", "frequency": "1日1回朝食後", "days": 14, "discharge": true}],
  "allergies": [{"id": "a1", "substance": "ペニシリン", "reaction": "発疹"}],
  "diagnoses": [{"id": "d1", "name": "市中肺炎", "icd10": "J18.9", "main": true}]
}"#;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn karte_json_in_every_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let utf8 = load(&write(dir.path(), "a.json", CHART_JSON.as_bytes())).unwrap();
    assert_eq!(utf8.patient.name, "試験 太郎");
    assert_eq!(utf8.notes[0].text.chars().count(), 27);
    for (name, enc) in [
        ("sjis.json", encoding_rs::SHIFT_JIS),
        ("euc.json", encoding_rs::EUC_JP),
    ] {
        let (bytes, _, lossy) = enc.encode(CHART_JSON);
        assert!(!lossy);
        let chart = load(&write(dir.path(), name, &bytes)).unwrap();
        assert_eq!(chart, utf8, "{name} decodes to the same chart");
    }
}

#[test]
fn plain_text_is_one_note_kept_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let text = "外来メモ\r\n#1 高血圧症\t内服継続。\n";
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(text);
    let chart = load(&write(dir.path(), "memo.txt", &sjis)).unwrap();
    assert_eq!(chart.notes.len(), 1);
    assert_eq!(
        chart.notes[0].text, text,
        "original text, offsets depend on it"
    );
    assert_eq!(chart.id, "memo");
}

#[test]
fn fhir_bundle_loads_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = serde_json::json!({
        "resourceType": "Bundle", "type": "collection",
        "entry": [{"resource": {"resourceType": "Patient", "id": "p", "name": [{"family": "架空", "given": ["花子"]}], "gender": "female"}}]
    });
    let chart = load(&write(
        dir.path(),
        "b.fhir.json",
        bundle.to_string().as_bytes(),
    ))
    .unwrap();
    assert_eq!(chart.patient.name, "架空 花子");
    assert_eq!(chart.id, "b.fhir", "falls back to the file stem");
}

#[test]
fn bad_inputs_name_the_file_and_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases: Vec<(PathBuf, &str)> = vec![
        (write(d, "broken.json", b"{\"id\": \"x\", "), "invalid JSON"),
        (
            write(d, "image.json", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            "binary",
        ),
        (
            write(d, "garbage.txt", &[0x82, 0xFF, 0xFE, 0x81, 0x40]),
            "not valid UTF-8",
        ),
        (
            write(d, "escape.txt", "発熱\u{1b}]0;pwned\u{07}".as_bytes()),
            "terminal control sequence",
        ),
        (
            write(
                d,
                "csi.json",
                CHART_JSON.replace("発熱と", "発熱と\u{1b}[2J").as_bytes(),
            ),
            "ESC",
        ),
        (write(d, "c1.txt", "x\u{9b}31m".as_bytes()), "C1 CSI"),
        (
            write(d, "wrong.json", br#"{"patients": []}"#),
            "not a karte chart",
        ),
    ];
    for (path, expected) in cases {
        let err = load(&path).unwrap_err();
        let message = err.to_string();
        assert!(message.contains(expected), "{message}");
        assert!(message.contains(path.file_name().unwrap().to_str().unwrap()));
        assert!(!err.hint.is_empty());
        assert!(
            !message.contains('\u{1b}') && !message.contains('\u{9b}'),
            "messages never carry the control characters themselves"
        );
    }
}

#[test]
fn oversized_file_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    let file = fs::File::create(&path).unwrap();
    file.set_len(karte::chart::MAX_CHART_BYTES + 1).unwrap();
    let err = load(&path).unwrap_err();
    assert!(err.problem.contains("larger than the 20 MB limit"), "{err}");
}

#[test]
fn queue_keeps_error_rows_and_picks_up_new_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "01-good.json", CHART_JSON.as_bytes());
    write(dir.path(), "02-bad.json", b"not json");
    write(dir.path(), "notes.md", b"ignored: not a chart extension");
    write(dir.path(), ".hidden.json", b"ignored: hidden");
    let mut queue = Queue::scan(dir.path()).unwrap();
    let names: Vec<_> = queue
        .entries()
        .iter()
        .map(|e| e.file_name.as_str())
        .collect();
    assert_eq!(names, ["01-good.json", "02-bad.json"]);
    assert!(queue.entries()[0].chart.is_ok());
    assert!(queue.entries()[1].chart.is_err());
    assert!(!queue.rescan(), "nothing changed");

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _watcher = karte::chart::watch(dir.path(), tx).unwrap();
    write(dir.path(), "03-new.txt", "追加された記録".as_bytes());
    let notified = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        rx.try_recv().is_ok()
    });
    assert!(notified, "the watcher reports the new file");
    assert!(queue.rescan());
    assert_eq!(queue.entries().len(), 3);
    fs::remove_file(dir.path().join("02-bad.json")).unwrap();
    assert!(queue.rescan());
    assert_eq!(queue.entries().len(), 2);
}

#[test]
fn missing_queue_directory_is_a_clear_error() {
    let err = Queue::scan(Path::new("/nonexistent/karte-queue")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/karte-queue"));
}

#[test]
fn every_demo_chart_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo");
    let queue = Queue::scan(&dir).unwrap();
    assert!(
        queue.entries().len() >= 14,
        "the demo queue has at least 14 charts"
    );
    for entry in queue.entries() {
        let chart = entry.chart.as_ref().unwrap_or_else(|e| panic!("{e}"));
        assert!(!chart.notes.is_empty(), "{}", entry.file_name);
        assert!(!chart.patient.name.is_empty(), "{}", entry.file_name);
    }
    let fhir = queue
        .entries()
        .iter()
        .find(|e| e.file_name.contains("fhir"))
        .and_then(|e| e.chart.as_ref().ok())
        .unwrap();
    assert_eq!(fhir.id, "DEMO-14");
    assert!(fhir.notes.len() >= 3 && !fhir.labs.is_empty() && !fhir.prescriptions.is_empty());
    assert!(fhir.notes.iter().all(|n| !n.author_role.is_empty()));
    assert!(fhir.diagnoses.iter().any(|d| d.main));
    assert!(fhir
        .prescriptions
        .iter()
        .any(|p| p.discharge && p.start.is_some()));
}
