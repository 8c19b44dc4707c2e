//! `karte draft --json` on a demo chart: JSON lines with every section, the factual ones
//! carrying provenance, the generated ones streamed as tokens first (`--mode free`); and
//! `--mode evidence` without a model: the document on stdout, every narrative sentence quoted
//! with its source.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::process::Command;

#[test]
fn karte_draft_json_streams_every_section() {
    let chart = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo/01-naika-pneumonia.json"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_karte"))
        .args([
            "draft",
            chart,
            "--doc",
            "referral",
            "--json",
            "--seed",
            "3",
            "--max-tokens",
            "6",
            // The whole-chart prompt: what streams is what the section says.
            "--mode",
            "free",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let events: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events[0], "model");
    assert_eq!(events[1], "started");
    assert_eq!(*events.last().unwrap(), "finished");
    let sections: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["event"] == "section").collect();
    let template = karte::draft::DocumentTemplate::builtin(karte::draft::DocumentKind::Referral);
    assert_eq!(sections.len(), template.sections.len());
    for (s, t) in sections.iter().zip(&template.sections) {
        assert_eq!(s["section"], t.key.as_str());
        match s["origin"].as_str().unwrap() {
            "generated" => {
                assert!(!s["text"].as_str().unwrap().is_empty(), "{s}");
                assert!(s["timing"]["ttft_ms"].as_f64().unwrap() > 0.0);
                let streamed: String = lines
                    .iter()
                    .filter(|l| l["event"] == "token" && l["section"] == t.key.as_str())
                    .map(|l| l["text"].as_str().unwrap())
                    .collect();
                // What streamed is the section, less any text of the template's format
                // example (never copied into a draft).
                let text = s["text"].as_str().unwrap();
                assert!(
                    streamed.trim().contains(text) || streamed.trim() == text,
                    "{streamed:?} vs {text:?}"
                );
            }
            "factual" => {}
            other => panic!("origin {other}"),
        }
    }
    let allergies = sections
        .iter()
        .find(|s| s["section"] == "allergies")
        .unwrap();
    assert!(allergies["text"]
        .as_str()
        .unwrap()
        .contains("ロキソプロフェン"));
    assert_eq!(allergies["provenance"][0][1]["record"], "allergy");
}

#[test]
fn karte_draft_in_evidence_mode_needs_no_model() {
    let chart = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/demo/02-geka-cholecystitis.json"
    );
    let home = tempfile::tempdir().unwrap();
    // An empty KARTE_HOME has no model: evidence mode does not ask for one.
    let run = |json: bool| {
        let mut args = vec!["draft", chart, "--doc", "discharge", "--mode", "evidence"];
        if json {
            args.push("--json");
        }
        Command::new(env!("CARGO_BIN_EXE_karte"))
            .args(&args)
            .env("KARTE_HOME", home.path())
            .output()
            .unwrap()
    };
    let out = run(false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("退院時サマリー\n"), "{text}");
    assert!(text.contains("【主訴】\n右季肋部痛、発熱\n"), "{text}");
    assert!(
        text.contains("【手術・処置】\n6/9 腹腔鏡下胆嚢摘出術"),
        "{text}"
    );

    let out = run(true);
    assert!(out.status.success());
    let sections: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["event"] == "section" && l["origin"] == "evidence")
        .collect();
    assert!(sections.len() >= 6);
    for s in &sections {
        assert_eq!(s["mode"], "evidence");
        assert!(!s["provenance"].as_array().unwrap().is_empty(), "{s}");
    }
}
