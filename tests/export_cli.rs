//! `karte export` with the real binary: refuses unsigned documents, exports signed ones as
//! text or FHIR (to stdout or a 0600 file), and records the export in the audit log.

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

    // FHIR to a file.
    let out = home.path().join("bundle.json");
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
    let bundle: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(bundle["type"], "document");
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

    // Both successful exports are in the audit log, without any chart text.
    let (entries, bad) = AuditLog::new(&paths.data_dir, "", "").read_all().unwrap();
    assert_eq!(bad, 0);
    let exports: Vec<_> = entries
        .iter()
        .filter(|e| matches!(e.action, AuditAction::Exported { .. }))
        .collect();
    assert_eq!(exports.len(), 2);
    let raw = std::fs::read_to_string(paths.data_dir.join("audit.jsonl")).unwrap();
    assert!(!raw.contains("軽快") && !raw.contains("藤巻"));
}
