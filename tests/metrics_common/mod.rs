//! Shared by the metrics integration tests: writes a small study through the real recorder.

#![allow(dead_code)]

use karte::metrics::{
    Arm, DocumentRef, EditKind, EventKind, FocusTarget, Recorder, RecorderOptions, SignStats,
};
use karte::paths::AppPaths;
use std::path::Path;
use std::time::Duration;

pub const STUDY: &str = "pilot";
/// 2026-04-01T09:00:00Z.
pub const WALL_START_MS: i64 = 1_775_034_000_000;

/// Records, for one clinician, `per_arm` manual documents of `manual_secs` active time and
/// `per_arm` assisted ones of `assisted_secs` (edits every 5 s; the times must be multiples of 5).
pub fn record_study(
    db: &Path,
    clinician: &str,
    per_arm: usize,
    manual_secs: i64,
    assisted_secs: i64,
) {
    let recorder = Recorder::start(RecorderOptions {
        db_path: db.to_path_buf(),
        clinician: clinician.into(),
        buffer_capacity: 100_000,
        retry_interval: Duration::from_millis(50),
    });
    let mut now_us = 0i64;
    for index in 0..per_arm * 2 {
        let (arm, active) = if index % 2 == 0 {
            (Arm::Manual, manual_secs)
        } else {
            (Arm::Assisted, assisted_secs)
        };
        let doc_type = if index % 4 < 2 {
            "referral_letter"
        } else {
            "discharge_summary"
        };
        let document = DocumentRef::new(&format!("{clinician}-chart-{index}"), doc_type, 1)
            .in_study(STUDY, arm);
        let mut at = |secs: i64, kind: EventKind| {
            now_us += secs * 1_000_000;
            recorder.record_at(Some(&document), kind, now_us, WALL_START_MS + now_us / 1000);
        };
        at(0, EventKind::OpenChart);
        at(0, EventKind::Focus(FocusTarget::Draft));
        for _ in 0..active / 5 - 1 {
            at(
                5,
                EventKind::Edit {
                    kind: EditKind::Typed,
                    chars: 1,
                },
            );
        }
        let sign = if arm == Arm::Assisted {
            SignStats::from_texts(
                Some("退院時処方は変更なし。"),
                "退院時処方は変更なし。外来で経過観察。",
            )
        } else {
            SignStats::from_texts(None, "退院時処方は変更なし。外来で経過観察。")
        };
        at(5, EventKind::Sign(sign));
    }
    assert!(
        recorder.flush(Duration::from_secs(10)),
        "{:?}",
        recorder.health()
    );
}

/// How many events of a kind the metrics DB under `paths` holds (the kind's fields are
/// ignored: the count is by its code).
pub fn event_counts(paths: &AppPaths) -> impl Fn(EventKind) -> i64 {
    let db = rusqlite::Connection::open(karte::metrics::db_path(paths)).unwrap();
    move |kind: EventKind| {
        db.query_row(
            "SELECT count(*) FROM events WHERE kind = ?1",
            [kind.code()],
            |row| row.get(0),
        )
        .unwrap()
    }
}
