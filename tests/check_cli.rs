//! `karte check CHART DRAFT [--json]` with the real binary, dictionary and demo charts:
//! exit 0 when nothing blocks signing, 1 when something does (the item printed with its
//! verdict, reason and source), 2 on bad input with a message naming the file; both input
//! formats (a plain-text letter with 【section】 headings, `karte draft --json` lines).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::Chart;
use karte::draft::{factual, DocumentKind, DocumentTemplate, SectionKind};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn chart_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/01-naika-pneumonia.json")
}

fn chart() -> Chart {
    karte::chart::load(&chart_path()).unwrap()
}

fn karte(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_karte"))
        .arg("check")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn check_file(draft: &Path, json: bool) -> Output {
    let chart = chart_path();
    let mut args = vec![chart.to_str().unwrap(), draft.to_str().unwrap()];
    if json {
        args.push("--json");
    }
    karte(&args, b"")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// (key, title, text, provenance JSON) of the discharge summary's factual sections.
fn factual_sections(chart: &Chart) -> Vec<(String, String, String, serde_json::Value)> {
    DocumentTemplate::builtin(DocumentKind::Discharge)
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Factual)
        .filter_map(|s| {
            let (text, provenance) = factual::fill(chart, s.source?);
            Some((
                s.key.clone(),
                s.title.clone(),
                text,
                serde_json::to_value(provenance).unwrap(),
            ))
        })
        .collect()
}

/// A letter as `karte draft` prints it: title, then 【title】 and body per section.
fn letter(sections: &[(String, String)]) -> String {
    let mut out = String::from("退院時サマリー\n\n");
    for (title, body) in sections {
        out.push_str(&format!("【{title}】\n{body}\n\n"));
    }
    out
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

/// A sentence of the chart's first note, copied verbatim (faithful narrative).
fn copied_sentence(chart: &Chart) -> String {
    let note = &chart.notes[0].text;
    let line = note.lines().find(|l| l.starts_with("現病歴")).unwrap();
    line.split('。').nth(1).unwrap().to_string() + "。"
}

const INVENTED: &str = "ワルファリン";

#[test]
fn a_faithful_letter_passes_and_an_invented_drug_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let chart = chart();
    let mut sections: Vec<(String, String)> = factual_sections(&chart)
        .into_iter()
        .map(|(_, title, text, _)| (title, text))
        .collect();
    sections.push(("入院後経過".into(), copied_sentence(&chart)));
    let faithful = write(dir.path(), "faithful.txt", &letter(&sections));
    let out = check_file(&faithful, false);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("【入院後経過】"), "{stdout}");
    assert!(stdout.contains("supported"), "{stdout}");
    assert!(stdout.contains("nothing blocks signing"), "{stdout}");
    // Sources are shown: a record id, and a note with its date and span text.
    assert!(stdout.contains("← diagnosis "), "{stdout}");
    assert!(stdout.contains("← note "), "{stdout}");

    sections.push(("今後の方針".into(), format!("{INVENTED}を開始する。")));
    let invented = write(dir.path(), "invented.txt", &letter(&sections));
    let out = check_file(&invented, false);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let line = stdout
        .lines()
        .find(|l| l.contains(INVENTED))
        .unwrap_or_else(|| panic!("the invented drug is listed: {stdout}"));
    assert!(line.contains("UNSUPPORTED"), "{line}");
    assert!(line.contains("カルテに記載なし"), "{line}");
    // Grouped under its section.
    let section_at = stdout.find("【今後の方針】").unwrap();
    assert!(stdout.find(line).unwrap() > section_at);
    assert!(stdout.contains("signing is blocked"), "{stdout}");

    // Text before the first heading is checked as a leading section.
    let leading = format!("{INVENTED}内服中。\n\n{}", letter(&sections[..1]));
    let out = check_file(&write(dir.path(), "leading.txt", &leading), false);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("【（見出しの前）】"), "{stdout}");

    // The same from standard input.
    let out = karte(
        &[chart_path().to_str().unwrap(), "-"],
        letter(&sections).as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}

/// JSON lines as `karte draft --json` prints them.
fn json_lines(sections: &[(String, String, String, serde_json::Value)]) -> String {
    let mut out = String::new();
    out.push_str(&serde_json::json!({"event": "model", "name": "test"}).to_string());
    out.push('\n');
    for (key, title, text, provenance) in sections {
        out.push_str(
            &serde_json::json!({"event": "token", "section": key, "text": text}).to_string(),
        );
        out.push('\n');
        out.push_str(
            &serde_json::json!({"event": "section", "section": key, "title": title,
                "origin": "factual", "text": text, "provenance": provenance,
                "finish": null, "timing": null})
            .to_string(),
        );
        out.push('\n');
    }
    out.push_str(&serde_json::json!({"event": "finished", "chart_id": "x"}).to_string());
    out.push('\n');
    out
}

#[test]
fn json_lines_with_provenance_and_a_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let chart = chart();
    let mut sections = factual_sections(&chart);
    let faithful = write(dir.path(), "draft.jsonl", &json_lines(&sections));
    let out = check_file(&faithful, true);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["can_sign"], true);
    assert_eq!(report["format"], "json");
    let first = &report["sections"][0];
    assert!(first["provenance_spans"].as_u64().unwrap() > 0, "{first}");
    let item = &first["items"][0];
    assert_eq!(item["verdict"], "supported", "{item}");
    assert_eq!(item["reason"], "copied_from_chart", "{item}");
    assert!(item["evidence"][0]["record"].is_string(), "{item}");

    // A narrative section with an invented drug and no provenance blocks signing…
    let sentence = format!("{INVENTED}を開始する。");
    sections.push((
        "plan".into(),
        "今後の方針".into(),
        sentence.clone(),
        serde_json::json!([]),
    ));
    let invented = write(dir.path(), "invented.jsonl", &json_lines(&sections));
    let out = check_file(&invented, true);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["can_sign"], false);
    let plan = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "plan")
        .unwrap();
    let flagged = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["text"] == INVENTED)
        .unwrap();
    assert_eq!(flagged["verdict"], "unsupported");
    assert_eq!(flagged["kind"], "medication");
    assert!(flagged["explanation"]
        .as_str()
        .unwrap()
        .contains("カルテに記載なし"));

    // …unless its provenance says it was copied from a note: supported by construction.
    let note = &chart.notes[0];
    let last = sections.last_mut().unwrap();
    last.3 = serde_json::json!([[{"start": 0, "end": sentence.chars().count()},
        {"record": "note", "id": note.id, "start": 0, "end": 12}]]);
    let copied = write(dir.path(), "copied.jsonl", &json_lines(&sections));
    let out = check_file(&copied, false);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let line = stdout.lines().find(|l| l.contains(INVENTED)).unwrap();
    assert!(line.contains("カルテから転記"), "{line}");
    let date = note.datetime.format("%Y-%m-%d").to_string();
    assert!(
        stdout.contains(&format!("← note {} ({date}", note.id)),
        "the note's id and date: {stdout}"
    );
}

#[test]
fn bad_input_exits_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "prose.txt",
            "見出しのない文章です。".to_string(),
            "no sections found",
        ),
        (
            "broken.jsonl",
            "{\"event\": \"section\",".to_string(),
            "not valid JSON",
        ),
        (
            "events.jsonl",
            "{\"event\": \"finished\"}\n".to_string(),
            "no sections found",
        ),
        ("empty.txt", String::new(), "no sections found"),
    ];
    for (name, content, expected) in cases {
        let path = write(dir.path(), name, &content);
        let out = check_file(&path, false);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(
            stderr.contains(name),
            "{name}: the message names the file: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{name}");
    }

    let draft = write(dir.path(), "ok.txt", "【診断】\n肺炎\n");
    let missing = dir.path().join("no-such-draft.txt");
    let out = check_file(&missing, false);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no-such-draft.txt"));

    let missing_chart = dir.path().join("no-such-chart.json");
    let out = karte(
        &[missing_chart.to_str().unwrap(), draft.to_str().unwrap()],
        b"",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no-such-chart.json"), "{stderr}");
    assert!(stderr.contains("chart"), "{stderr}");

    let binary = dir.path().join("binary.bin");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0]).unwrap();
    let out = check_file(&binary, false);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("binary.bin"));
}
