//! The printable letter: an A4 PDF whose text (`pdftotext`) is the signed text, rendered to
//! PNG by `pdftoppm`, with every line inside the page margins (a page break never splits a
//! line), the version and SHA-256 in each footer, and bad input handled. Needs poppler-utils
//! and fonts-ipaexfont-gothic (scripts/setup-system.sh installs both).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::{Chart, Sex};
use karte::draft::{DocumentTemplate, FactSource, SectionKind};
use karte::export::pdf::{find_font, footer, letter_pdf, LetterPdf, REPLACEMENT};
use karte::export::{Hospital, HospitalConfig};
use karte::store::{DocKind, SectionText, SignRequest, SignedDocument, SignedStore};
use std::path::{Path, PathBuf};
use std::process::Command;

fn hospital() -> Hospital {
    HospitalConfig {
        name: Some("かるて総合病院".into()),
        code: Some("1311234567".into()),
        postal_code: Some("100-0001".into()),
        address: Some("東京都千代田区千代田1-1".into()),
        phone: Some("03-1234-5678".into()),
        departments: Default::default(),
    }
    .resolve()
    .unwrap()
}

fn chart(name: &str) -> Chart {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/demo")
        .join(name);
    karte::chart::load(&path).unwrap()
}

fn template_sections(chart: &Chart, doc: DocKind) -> Vec<SectionText> {
    let note = chart
        .notes
        .iter()
        .map(|n| n.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let note: String = note.chars().take(400).collect();
    DocumentTemplate::builtin(doc)
        .sections
        .iter()
        .map(|s| {
            let text = match (s.kind, s.source) {
                (SectionKind::Factual, Some(source)) => {
                    karte::draft::factual::fill(chart, source).0
                }
                _ => note.clone(),
            };
            SectionText::new(&s.key, &s.title, &text)
        })
        .collect()
}

fn sign(dir: &Path, chart: &Chart, doc: DocKind, sections: &[SectionText]) -> SignedDocument {
    SignedStore::new(dir)
        .sign(&SignRequest {
            chart_id: &chart.id,
            doc,
            signer: "日下部 亮",
            title: doc.japanese_title(),
            sections,
            chart_sha256: None,
            acknowledged: vec![],
        })
        .unwrap()
}

fn render(signed: &SignedDocument, chart: &Chart) -> LetterPdf {
    let font = find_font().unwrap_or_else(|e| panic!("{e}"));
    letter_pdf(signed, chart, &hospital(), &font).unwrap()
}

fn tool(name: &str) -> Command {
    let probe = Command::new(name).arg("-v").output();
    assert!(
        probe.is_ok(),
        "{name} is missing: install poppler-utils (scripts/setup-system.sh does)"
    );
    Command::new(name)
}

/// The PDF's text (pdftotext), footer lines removed, whitespace removed.
fn pdf_text(path: &Path) -> (String, String) {
    let out = tool("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(path)
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw = String::from_utf8(out.stdout).unwrap();
    let body: String = raw
        .lines()
        .filter(|l| !l.starts_with("karte "))
        .collect::<Vec<_>>()
        .join("\n");
    (raw, squash(&body))
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn write(dir: &Path, name: &str, pdf: &LetterPdf) -> PathBuf {
    let path = dir.join(name);
    karte::paths::write_private_atomic(&path, &pdf.bytes).unwrap();
    path
}

/// Every word's box lies inside the margins, except the footer's.
fn lines_inside_margins(path: &Path) {
    let out = tool("pdftotext")
        .arg("-bbox")
        .arg(path)
        .arg("-")
        .output()
        .unwrap();
    let html = String::from_utf8_lossy(&out.stdout);
    let re =
        regex::Regex::new(r#"yMin="([0-9.]+)" xMax="[0-9.]+" yMax="([0-9.]+)">([^<]*)<"#).unwrap();
    let mut words = 0;
    for c in re.captures_iter(&html) {
        let (top, bottom): (f32, f32) = (c[1].parse().unwrap(), c[2].parse().unwrap());
        // pdftotext measures from the top of the page: the footer sits below 800.
        if top > 800.0 {
            continue;
        }
        words += 1;
        assert!(
            top >= 56.7 - 4.0 && bottom <= 841.89 - 56.7 + 4.0,
            "a word outside the margins ({top}..{bottom}): {}",
            &c[3]
        );
    }
    assert!(words > 10, "pdftotext -bbox found the words");
}

#[test]
fn the_referral_letter_prints_the_signed_text() {
    let dir = tempfile::tempdir().unwrap();
    let chart = chart("01-naika-pneumonia.json");
    let signed = sign(
        dir.path(),
        &chart,
        DocKind::Referral,
        &template_sections(&chart, DocKind::Referral),
    );
    let started = std::time::Instant::now();
    let pdf = render(&signed, &chart);
    println!(
        "the referral letter: {} pages, {} bytes in {:?}",
        pdf.pages,
        pdf.bytes.len(),
        started.elapsed()
    );
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    assert!(pdf.replaced.is_empty(), "{:?}", pdf.replaced);
    let path = write(dir.path(), "referral.pdf", &pdf);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (raw, text) = pdf_text(&path);
    // Every signed section's text, in full.
    for s in signed.sections.iter().filter(|s| s.key != "addressee") {
        assert!(
            text.contains(&squash(&s.text)),
            "section {} is not in the PDF's text:\n{}\n---\n{raw}",
            s.key,
            s.text
        );
    }
    // 別紙様式11: the addressee, the date, 紹介元 and the patient.
    let to = chart.referral.as_ref().unwrap();
    for expected in [
        "診療情報提供書",
        to.facility.as_str(),
        "先生",
        "御侍史",
        "紹介元医療機関の所在地及び名称",
        "かるて総合病院",
        "東京都千代田区千代田1-1",
        "03-1234-5678",
        "医師氏名日下部亮",
        "■傷病名",
        "■紹介目的",
        "■既往歴・家族歴",
        "■現在の処方",
        "■備考",
    ] {
        assert!(
            text.contains(&squash(expected)),
            "{expected} missing:\n{raw}"
        );
    }
    // 傷病名 comes before 紹介目的 (the form's order), the footer on the page.
    assert!(text.find("■傷病名") < text.find("■紹介目的"));
    assert!(
        raw.contains(&footer(&signed, 1, pdf.pages)),
        "footer missing:\n{raw}"
    );
    lines_inside_margins(&path);

    // A page as PNG (looked at by hand while writing this; here: it renders, not blank).
    let png_prefix = dir.path().join("page");
    let status = tool("pdftoppm")
        .args(["-png", "-r", "40", "-f", "1", "-l", "1"])
        .arg(&path)
        .arg(&png_prefix)
        .status()
        .unwrap();
    assert!(status.success());
    let png = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .expect("pdftoppm wrote a PNG");
    assert!(std::fs::metadata(&png).unwrap().len() > 2_000);
    if let Ok(keep) = std::env::var("KARTE_KEEP_PDF") {
        std::fs::copy(&path, Path::new(&keep).join("referral.pdf")).unwrap();
        std::fs::copy(&png, Path::new(&keep).join("referral-1.png")).unwrap();
    }
}

#[test]
fn the_discharge_summary_prints_its_sections() {
    let dir = tempfile::tempdir().unwrap();
    let chart = chart("06-junkanki-myocardial-infarction.json");
    let signed = sign(
        dir.path(),
        &chart,
        DocKind::Discharge,
        &template_sections(&chart, DocKind::Discharge),
    );
    let pdf = render(&signed, &chart);
    let path = write(dir.path(), "discharge.pdf", &pdf);
    if let Ok(keep) = std::env::var("KARTE_KEEP_PDF") {
        std::fs::copy(&path, Path::new(&keep).join("discharge.pdf")).unwrap();
    }
    let (raw, text) = pdf_text(&path);
    assert!(text.contains("退院時サマリー"));
    for s in &signed.sections {
        assert!(
            text.contains(&squash(&s.text)),
            "section {} missing:\n{raw}",
            s.key
        );
    }
    lines_inside_margins(&path);
}

#[test]
fn a_ten_page_section_breaks_between_lines() {
    let dir = tempfile::tempdir().unwrap();
    let chart = chart("01-naika-pneumonia.json");
    let mut sections = template_sections(&chart, DocKind::Referral);
    let long: String = (1..=420)
        .map(|i| format!("第{i}病日: 発熱なく経過し、CRP は低下傾向。食事摂取は良好で、歩行も自立している。\n"))
        .collect();
    sections
        .iter_mut()
        .find(|s| s.key == "course")
        .unwrap()
        .text = long.clone();
    let signed = sign(dir.path(), &chart, DocKind::Referral, &sections);
    let started = std::time::Instant::now();
    let pdf = render(&signed, &chart);
    println!(
        "a {}-page letter: {} bytes in {:?}",
        pdf.pages,
        pdf.bytes.len(),
        started.elapsed()
    );
    assert!(pdf.pages >= 10, "{} pages", pdf.pages);
    let path = write(dir.path(), "long.pdf", &pdf);
    let (raw, text) = pdf_text(&path);
    assert!(text.contains(&squash(&long)), "the long section is cut");
    assert!(raw.contains(&footer(&signed, pdf.pages, pdf.pages)));
    lines_inside_margins(&path);
}

#[test]
fn missing_demographics_and_odd_characters() {
    let dir = tempfile::tempdir().unwrap();
    let mut chart = chart("01-naika-pneumonia.json");
    chart.patient.birth_date = None;
    chart.patient.sex = Sex::Unknown;
    let mut sections = template_sections(&chart, DocKind::Referral);
    sections.retain(|s| s.key != "patient");
    sections
        .iter_mut()
        .find(|s| s.key == "remarks")
        .unwrap()
        .text = "吉田（𠮷田）様、処方①②を継続。😀 髙橋 﨑".into();
    let signed = sign(dir.path(), &chart, DocKind::Referral, &sections);
    let pdf = render(&signed, &chart);
    let path = write(dir.path(), "odd.pdf", &pdf);
    let (raw, text) = pdf_text(&path);
    assert!(text.contains("生年月日記載なし"), "{raw}");
    assert!(text.contains("性別記載なし"), "{raw}");
    // The emoji is not in the font: printed as 〓 and reported; the rest as written.
    assert!(pdf.replaced.contains(&'😀'), "{:?}", pdf.replaced);
    let expected: String = "吉田（𠮷田）様、処方①②を継続。😀髙橋﨑"
        .chars()
        .map(|c| {
            if pdf.replaced.contains(&c) {
                REPLACEMENT
            } else {
                c
            }
        })
        .collect();
    assert!(text.contains(&expected), "{expected} not in:\n{raw}");
    // 𠮷 comes from the fallback font (IPAmj 明朝, installed by setup): only the emoji is lost.
    assert!(
        karte::export::pdf::find_fallback_font().is_some(),
        "fonts-ipamj-mincho is missing (scripts/setup-system.sh installs it)"
    );
    assert_eq!(pdf.replaced, vec!['😀']);
    assert!(text.contains("𠮷田"), "{raw}");
    if let Ok(keep) = std::env::var("KARTE_KEEP_PDF") {
        std::fs::copy(&path, Path::new(&keep).join("odd.pdf")).unwrap();
    }
}

#[test]
fn an_empty_addressee_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut chart = chart("01-naika-pneumonia.json");
    chart.referral = None;
    let mut sections = template_sections(&chart, DocKind::Referral);
    for s in &mut sections {
        if s.key == "addressee" {
            s.text = karte::draft::factual::fill(&chart, FactSource::ReferralTarget).0;
        }
    }
    let signed = sign(dir.path(), &chart, DocKind::Referral, &sections);
    let font = find_font().unwrap();
    let error = letter_pdf(&signed, &chart, &hospital(), &font).unwrap_err();
    assert!(error.to_string().contains("宛先"), "{error}");
}
