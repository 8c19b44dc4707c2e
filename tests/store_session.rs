//! A document session as the editor drives it: open (lock + journal), edit, crash, reopen
//! and recover, a second session read-only, sign, amend, and the audit trail.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::store::{
    AuditAction, AuditLog, DocKind, DocumentSession, LockDir, Opened, SectionText, SessionContext,
    SessionError,
};
use std::time::Duration;

fn context(root: &std::path::Path, user: &str, session: &str) -> SessionContext {
    SessionContext {
        data_dir: root.join("data"),
        locks: LockDir::beside_queue(&root.join("queue")),
        user: user.to_string(),
        session_id: session.to_string(),
    }
}

#[test]
fn edit_recover_read_only_sign_amend() {
    let tmp = tempfile::tempdir().unwrap();
    let yamada = context(tmp.path(), "山田", "s1");
    let Opened::Editing { session, recovered } =
        DocumentSession::open(&yamada, "DEMO-01", DocKind::Discharge).unwrap()
    else {
        panic!("a free chart opens for editing");
    };
    assert!(recovered.is_none());
    session
        .generated(
            SectionText::new("course", "入院経過", "AIの下書き"),
            Some("abc".into()),
        )
        .unwrap();
    session
        .edited(SectionText::new("course", "入院経過", "医師が直した経過"))
        .unwrap();
    session.acknowledge("g-0123", false).unwrap();
    session.flush(Duration::from_secs(5)).unwrap();
    assert!(session.journal_status().unwrap().all_saved());

    // Another session (same user, another terminal) sees the lock and gets read-only.
    let second = context(tmp.path(), "山田", "s2");
    let Opened::ReadOnly {
        session: viewer,
        held,
    } = DocumentSession::open(&second, "DEMO-01", DocKind::Discharge).unwrap()
    else {
        panic!("a locked chart must open read-only");
    };
    assert!(!held.stale);
    assert!(viewer.is_read_only());
    assert!(matches!(
        viewer.edited(SectionText::new("course", "", "x")),
        Err(SessionError::ReadOnly(_))
    ));
    drop(viewer);

    // The first session goes away without signing; reopening offers the recovered draft.
    drop(session);
    let Opened::Editing { session, recovered } =
        DocumentSession::open(&yamada, "DEMO-01", DocKind::Discharge).unwrap()
    else {
        panic!("released lock");
    };
    let recovered = recovered.unwrap();
    assert!(recovered.state.unsigned_changes);
    assert_eq!(
        recovered.state.section("course").unwrap().text,
        "医師が直した経過"
    );
    assert_eq!(recovered.state.ai_sections[0].text, "AIの下書き");
    assert!(recovered.state.acknowledged.contains("g-0123"));

    let sections = vec![SectionText::new("course", "入院経過", "医師が直した経過")];
    let v1 = session
        .sign("退院時サマリー", &sections, None, vec!["g-0123".into()])
        .unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(v1.signer, "山田");
    let v2 = session
        .sign("退院時サマリー", &sections, None, vec![])
        .unwrap();
    assert_eq!(v2.amends.as_ref().unwrap().version, 1);
    assert_eq!(session.signed_versions().unwrap(), vec![1, 2]);
    drop(session);

    // After signing, reopening has nothing unsigned to offer.
    let Opened::Editing { recovered, .. } =
        DocumentSession::open(&yamada, "DEMO-01", DocKind::Discharge).unwrap()
    else {
        panic!();
    };
    assert!(!recovered.unwrap().state.unsigned_changes);

    let (entries, bad) = AuditLog::new(&yamada.data_dir, "", "").read_all().unwrap();
    assert_eq!(bad, 0);
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| match &e.action {
            AuditAction::Opened => "opened",
            AuditAction::OpenedReadOnly { .. } => "read-only",
            AuditAction::Generated { .. } => "generated",
            AuditAction::Acknowledged { .. } => "acknowledged",
            AuditAction::Recovered { .. } => "recovered",
            AuditAction::Signed { .. } => "signed",
            _ => "other",
        })
        .collect();
    assert_eq!(
        actions,
        [
            "opened",
            "generated",
            "acknowledged",
            "read-only",
            "opened",
            "recovered",
            "signed",
            "signed",
            "opened"
        ]
    );
    let raw = std::fs::read_to_string(yamada.data_dir.join("audit.jsonl")).unwrap();
    assert!(
        !raw.contains("医師が直した経過") && !raw.contains("AIの下書き"),
        "chart text in the audit log"
    );
}

#[test]
fn an_unwritable_data_dir_keeps_the_draft_in_memory_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    // /sys refuses new entries to everyone (root included): a data dir that cannot be created.
    let context = SessionContext {
        data_dir: std::path::PathBuf::from(format!("/sys/karte-test-{}/data", std::process::id())),
        locks: LockDir::beside_queue(tmp.path()),
        user: "山田".into(),
        session_id: "s1".into(),
    };
    let Opened::Editing { session, recovered } =
        DocumentSession::open(&context, "DEMO-01", DocKind::Discharge).unwrap()
    else {
        panic!("the chart opens for editing even when the data dir is unusable");
    };
    assert!(recovered.is_none());
    let warnings = session.take_warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("journal") && w.contains("メモリ上に保持")),
        "{warnings:?}"
    );
    assert!(warnings.iter().any(|w| w.contains("audit")), "{warnings:?}");

    session
        .edited(SectionText::new("course", "入院経過", "書きかけの経過"))
        .unwrap();
    let err = session.flush(Duration::from_secs(5)).unwrap_err();
    assert!(
        err.contains("/sys/karte-test-") && err.contains("メモリ上に保持"),
        "{err}"
    );
    let status = session.journal_status().unwrap();
    assert!(!status.all_saved() && status.error.is_some());

    let sections = vec![SectionText::new("course", "入院経過", "書きかけの経過")];
    let err = session
        .sign("退院時サマリー", &sections, None, vec![])
        .unwrap_err();
    assert!(matches!(err, SessionError::Sign(_)), "{err}");
    assert!(err.to_string().contains("/sys/karte-test-"), "{err}");
}
