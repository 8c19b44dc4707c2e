//! `karte export` with the real binary: refuses unsigned documents, exports signed ones as
//! text, JP-CLINS FHIR or a PDF letter (to stdout or a 0600 file; FHIR and PDF need
//! `[hospital]` in the config), and records the export in the audit log.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::paths::AppPaths;
use karte::store::{AuditAction, AuditLog, DocKind, SectionText, SignRequest, SignedStore};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/01-naika-pneumonia.json")
}

fn karte(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_karte"))
        .args(args)
        .env("KARTE_HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap()
}

#[test]
fn export_signed_documents_headless() {
    let home = tempfile::tempdir().unwrap();
    let chart_file = fixture();
    let chart_arg = chart_file.to_str().unwrap();

    let unsigned = karte(
        home.path(),
        &[
            "export",
            chart_arg,
            "--doc",
            "discharge",
            "--format",
            "text",
        ],
    );
    assert!(!unsigned.status.success());
    let err = String::from_utf8_lossy(&unsigned.stderr);
    assert!(err.contains("has not been signed yet"), "{err}");

    let paths = AppPaths::under(home.path());
    let store = SignedStore::new(&paths.data_dir);
    let sections = vec![SectionText::new(
        "hospital_course",
        "入院経過",
        "抗菌薬で軽快した。",
    )];
    store
        .sign(&SignRequest {
            chart_id: "DEMO-01",
            doc: DocKind::Discharge,
            signer: "日下部 亮",
            title: "退院時サマリー",
            sections: &sections,
            chart_sha256: None,
            acknowledged: vec![],
        })
        .unwrap();

    // Text to stdout, the chart given by id in the queue.
    let queue = fixture().parent().unwrap().to_path_buf();
    let text = karte(
        home.path(),
        &[
            "--queue",
            queue.to_str().unwrap(),
            "export",
            "DEMO-01",
            "--doc",
            "discharge",
        ],
    );
    assert!(
        text.status.success(),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    let stdout = String::from_utf8(text.stdout).unwrap();
    assert!(stdout.starts_with("退院時サマリー") && stdout.contains("抗菌薬で軽快した。"));

    // FHIR without [hospital]: one message naming every missing setting and the file.
    let out = home.path().join("bundle.json");
    let fhir_args = [
        "export",
        chart_arg,
        "--doc",
        "discharge",
        "--format",
        "fhir",
        "--version",
        "1",
        "-o",
        out.to_str().unwrap(),
    ];
    let no_hospital = karte(home.path(), &fhir_args);
    assert!(!no_hospital.status.success());
    let err = String::from_utf8_lossy(&no_hospital.stderr);
    assert!(
        err.contains("config.toml")
            && err.contains("[hospital]")
            && err.contains("name, code, address, phone"),
        "{err}"
    );
    assert!(!out.exists(), "no broken document is written");
    let config = paths.config_file();
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[hospital]\ncode = \"131123456\"\n").unwrap();
    let bad_code = karte(home.path(), &fhir_args);
    assert!(!bad_code.status.success());
    let err = String::from_utf8_lossy(&bad_code.stderr);
    assert!(
        err.contains("config.toml") && err.contains("131123456") && err.contains("10桁"),
        "{err}"
    );
    std::fs::write(
        &config,
        "[hospital]\nname = \"かるて総合病院\"\ncode = \"1311234567\"\naddress = \"東京都千代田区千代田1-1\"\nphone = \"03-1234-5678\"\n",
    )
    .unwrap();

    // FHIR to a file; the required codes the chart lacks are named on stderr.
    let fhir = karte(
        home.path(),
        &[
            "export",
            chart_arg,
            "--doc",
            "discharge",
            "--format",
            "fhir",
            "--version",
            "1",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        fhir.status.success(),
        "{}",
        String::from_utf8_lossy(&fhir.stderr)
    );
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let warning = String::from_utf8_lossy(&fhir.stderr);
    assert!(
        warning.contains("MEDIS病名管理番号") && warning.contains("被保険者番号"),
        "{warning}"
    );
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(bundle["type"], "document");
    assert!(bundle["identifier"]["value"]
        .as_str()
        .unwrap()
        .starts_with("1311234567^20"));

    // The PDF letter to a 0600 file.
    let pdf_out = home.path().join("letter.pdf");
    let pdf = karte(
        home.path(),
        &[
            "export",
            chart_arg,
            "--doc",
            "discharge",
            "--format",
            "pdf",
            "-o",
            pdf_out.to_str().unwrap(),
        ],
    );
    assert!(
        pdf.status.success(),
        "{}",
        String::from_utf8_lossy(&pdf.stderr)
    );
    assert!(std::fs::read(&pdf_out).unwrap().starts_with(b"%PDF-"));
    assert_eq!(
        std::fs::metadata(&pdf_out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        bundle["entry"][0]["resource"]["type"]["coding"][0]["code"],
        "18842-5"
    );

    // A version that does not exist, and the other document, are refused clearly.
    let missing = karte(
        home.path(),
        &["export", chart_arg, "--doc", "discharge", "--version", "7"],
    );
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr)
        .contains("no signed version 7 (signed versions: 1)"));
    let referral = karte(home.path(), &["export", chart_arg, "--doc", "referral"]);
    assert!(!referral.status.success());

    // A signed file edited by hand is detected, not exported.
    let signed_path = store.version_path("DEMO-01", DocKind::Discharge, 1);
    let edited = std::fs::read_to_string(&signed_path)
        .unwrap()
        .replace("軽快した", "増悪した");
    std::fs::set_permissions(&signed_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&signed_path, edited).unwrap();
    let tampered = karte(home.path(), &["export", chart_arg, "--doc", "discharge"]);
    assert!(!tampered.status.success());
    assert!(String::from_utf8_lossy(&tampered.stderr).contains("modified after signing"));

    // The three successful exports are in the audit log, without any chart text.
    let (entries, bad) = AuditLog::new(&paths.data_dir, "", "").read_all().unwrap();
    assert_eq!(bad, 0);
    let exports: Vec<_> = entries
        .iter()
        .filter(|e| matches!(e.action, AuditAction::Exported { .. }))
        .collect();
    assert_eq!(exports.len(), 3);
    let raw = std::fs::read_to_string(paths.data_dir.join("audit.jsonl")).unwrap();
    assert!(!raw.contains("軽快") && !raw.contains("藤巻"));
}
