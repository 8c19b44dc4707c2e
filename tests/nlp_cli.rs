//! `karte extract` through the real binary: the CLI contract (keys, --lines, --format,
//! chart files, stdin) and bad input (invalid UTF-8, empty input).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn karte(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_karte"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "karte failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Checks the contract for one document: exact keys, offsets slicing to text.
fn check_entities(document: &str, array: &serde_json::Value) {
    let chars: Vec<char> = document.chars().collect();
    for entity in array.as_array().unwrap() {
        let object = entity.as_object().unwrap();
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(
            keys,
            ["certainty", "end", "normalized", "start", "text", "type"]
        );
        let start = object["start"].as_u64().unwrap() as usize;
        let end = object["end"].as_u64().unwrap() as usize;
        let slice: String = chars[start..end].iter().collect();
        assert_eq!(object["text"].as_str().unwrap(), slice);
        let is_disease = object["type"] == "disease";
        assert_eq!(object["certainty"].is_null(), !is_disease, "{entity}");
    }
}

const NOTE: &str = "ＣＲＰ １２．５㎎／ｄＬ、発熱なし。肺炎疑い。ｱﾑﾛｼﾞﾋﾟﾝ 5mg 1日1回";

#[test]
fn whole_document_as_json_and_jsonl() {
    let out = stdout(&karte(&["extract", "-"], NOTE.as_bytes()));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1);
    let array: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    check_entities(NOTE, &array);
    let types: Vec<&str> = array
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "test",
            "test_value",
            "disease",
            "disease",
            "medication",
            "dose",
            "dose"
        ]
    );
    let fever = &array[2];
    assert_eq!(fever["text"], "発熱");
    assert_eq!(fever["certainty"], "negative");
    assert_eq!(array[3]["certainty"], "suspicious");
    assert_eq!(array[1]["normalized"], "12.5mg/dL");

    let jsonl = stdout(&karte(&["extract", "--format", "jsonl"], NOTE.as_bytes()));
    let objects: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(serde_json::Value::Array(objects), array);
}

#[test]
fn lines_give_one_output_line_per_input_line() {
    let input = "発熱なし\n\nBP 120/80mmHg\n特になし\n";
    let out = stdout(&karte(&["extract", "--lines", "-"], input.as_bytes()));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[1], "[]");
    assert_eq!(lines[3], "[]");
    for (document, line) in input.lines().zip(&lines) {
        check_entities(document, &serde_json::from_str(line).unwrap());
    }
    let bp: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    assert_eq!(bp[1]["text"], "120/80mmHg");
}

#[test]
fn a_file_and_a_chart_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("note.txt");
    std::fs::write(&file, NOTE).unwrap();
    let out = stdout(&karte(&["extract", file.to_str().unwrap()], b""));
    check_entities(NOTE, &serde_json::from_str(out.trim()).unwrap());

    let chart = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo/01-naika-pneumonia.json"
    );
    let out = stdout(&karte(&["extract", chart], b""));
    let loaded = karte::chart::load(std::path::Path::new(chart)).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), loaded.notes.len());
    for (note, line) in loaded.notes.iter().zip(lines) {
        check_entities(&note.text, &serde_json::from_str(line).unwrap());
    }

    // jsonl for a chart: the contract's keys plus the note's id.
    let out = stdout(&karte(&["extract", "--format", "jsonl", chart], b""));
    let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let note = loaded.note(first["note"].as_str().unwrap()).unwrap();
    let mut object = first.as_object().unwrap().clone();
    object.remove("note");
    check_entities(&note.text, &serde_json::Value::Array(vec![object.into()]));
}

#[test]
fn bad_input_is_reported_not_fatal() {
    let mut bytes = "発熱なし ".as_bytes().to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, 0x80]);
    bytes.extend_from_slice(" 肺炎".as_bytes());
    let output = karte(&["extract"], &bytes);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
    let decoded = String::from_utf8_lossy(&bytes).into_owned();
    check_entities(
        &decoded,
        &serde_json::from_str(stdout(&output).trim()).unwrap(),
    );

    assert_eq!(stdout(&karte(&["extract"], b"")).trim(), "[]");
    assert_eq!(stdout(&karte(&["extract", "--lines"], b"")), "");

    let missing = karte(&["extract", "/nonexistent/note.txt"], b"");
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("/nonexistent/note.txt"), "{stderr}");
}
