//! Plain-text export and the OSC 52 clipboard sequence of a signed document.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use base64::Engine as _;
use karte::export::{document_text, osc52_sequence, osc52_tmux_sequence};
use karte::store::{DocKind, SectionText, SignRequest, SignedStore};
use std::path::PathBuf;

fn chart() -> karte::chart::Chart {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/01-naika-pneumonia.json");
    karte::chart::load(&path).unwrap()
}

#[test]
fn referral_letter_text_is_laid_out_for_pasting() {
    let chart = chart();
    let dir = tempfile::tempdir().unwrap();
    let store = SignedStore::new(dir.path());
    let sections = vec![
        SectionText::new(
            "purpose",
            "紹介目的",
            "退院後の経過観察をお願いいたします。",
        ),
        SectionText::new("diagnoses", "傷病名", "市中肺炎（肺炎球菌性）"),
        SectionText::new("remarks", "", ""),
    ];
    let signed = store
        .sign(&SignRequest {
            chart_id: &chart.id,
            doc: DocKind::Referral,
            signer: "日下部 亮",
            title: "診療情報提供書",
            sections: &sections,
            chart_sha256: None,
            acknowledged: vec![],
        })
        .unwrap();
    let text = document_text(&signed, &chart);
    println!("{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "診療情報提供書");
    let to = chart.referral.as_ref().unwrap();
    assert!(text.contains(&format!("紹介先: {} {}", to.facility, to.department)));
    assert!(text.contains(&format!("{} 先生 御侍史", to.doctor)));
    assert!(text.contains(&format!(
        "患者氏名: {}（{}） 様",
        chart.patient.name, chart.patient.kana
    )));
    assert!(text.contains("生年月日: 1943年8月21日"));
    // Sections in order, with headings; an empty one says so; a missing heading uses the key.
    let purpose = text.find("【紹介目的】").unwrap();
    let diagnoses = text.find("【傷病名】").unwrap();
    assert!(purpose < diagnoses);
    assert!(text.contains("【remarks】\n特記事項なし"));
    assert!(text.contains("記載医師: 総合内科 日下部 亮"));
    assert!(text.contains("第1版"));
    // Only the letter's own text: no chart notes leak into it.
    assert!(!text.contains(&chart.notes[0].text[..30]));
}

#[test]
fn discharge_summary_text_has_the_stay() {
    let chart = chart();
    let dir = tempfile::tempdir().unwrap();
    let store = SignedStore::new(dir.path());
    let sections = vec![SectionText::new(
        "hospital_course",
        "入院経過",
        "軽快し退院。",
    )];
    let request = SignRequest {
        chart_id: &chart.id,
        doc: DocKind::Discharge,
        signer: "日下部 亮",
        title: "",
        sections: &sections,
        chart_sha256: None,
        acknowledged: vec![],
    };
    store.sign(&request).unwrap();
    let v2 = store.sign(&request).unwrap();
    let text = document_text(&v2, &chart);
    assert!(text.starts_with("退院時サマリー\n"));
    assert!(text.contains("入院日: 2026年1月14日　退院日: 2026年1月24日　（在院11日）"));
    assert!(text.contains("主治医: 日下部 亮"));
    assert!(text.contains("第2版、第1版の修正"));

    // When the document has its own patient section (the draft templates do), the header
    // does not repeat the chart's.
    let with_patient = vec![
        SectionText::new("patient", "患者情報", "藤巻 スミ子 様 82歳 女性"),
        SectionText::new("hospital_course", "入院経過", "軽快し退院。"),
    ];
    let v3 = store
        .sign(&SignRequest {
            sections: &with_patient,
            ..request.clone()
        })
        .unwrap();
    let text3 = document_text(&v3, &chart);
    assert!(!text3.contains("患者氏名:"), "{text3}");
    assert!(text3.contains("【患者情報】\n藤巻 スミ子 様 82歳 女性"));

    // The same text goes to the clipboard through OSC 52, plain or wrapped for tmux.
    let seq = osc52_sequence(&text).unwrap();
    let payload = seq
        .strip_prefix("\x1b]52;c;")
        .unwrap()
        .strip_suffix('\x07')
        .unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), text);
    let tmux = osc52_tmux_sequence(&text).unwrap();
    assert!(tmux.starts_with("\x1bPtmux;\x1b\x1b]52;c;") && tmux.ends_with("\x07\x1b\\"));
}
