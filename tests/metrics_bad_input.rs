//! A corrupt, locked or unwritable metrics DB: the recorder keeps the events (bounded),
//! says what is wrong, and writes them once the DB is usable again; the report fails with a
//! message naming the file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

mod metrics_common;

use karte::metrics::schema::DbError;
use karte::metrics::{
    load_report, DocumentRef, EditKind, EventKind, PseudonymKey, Recorder, RecorderOptions,
    ReportError, ReportOptions,
};
use rusqlite::Connection;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

fn recorder(db: &Path, capacity: usize) -> Recorder {
    Recorder::start(RecorderOptions {
        db_path: db.to_path_buf(),
        clinician: "tanaka".into(),
        buffer_capacity: capacity,
        retry_interval: Duration::from_millis(30),
    })
}

fn typed() -> EventKind {
    EventKind::Edit {
        kind: EditKind::Typed,
        chars: 1,
    }
}

fn event_count(db: &Path) -> i64 {
    Connection::open(db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap()
}

/// Flushes until the writer reports success or `limit` passes.
fn flush_until_written(recorder: &Recorder, limit: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if recorder.flush(Duration::from_secs(5)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(40));
    }
    false
}

#[test]
fn recorder_writes_privately_with_monotonic_times() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/metrics.sqlite3");
    let recorder = recorder(&db, 100);
    let document = DocumentRef::new("chart-1", "referral_letter", 1);
    let before = karte::metrics::recorder::wall_clock_ms();
    for _ in 0..20 {
        recorder.record(&document, typed());
    }
    recorder.record_sign(
        &document,
        Some("肺炎にて入院。抗菌薬で改善。".into()),
        "市中肺炎にて入院。抗菌薬で改善し退院。".into(),
    );
    recorder.record_session(EventKind::Quit);
    assert!(recorder.flush(Duration::from_secs(10)));
    let health = recorder.health();
    assert_eq!(
        (health.written, health.dropped, health.buffered),
        (22, 0, 0)
    );
    assert_eq!(health.warning(), None);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(db.parent().unwrap()), 0o700);
    let connection = Connection::open(&db).unwrap();
    let times: Vec<(i64, i64)> = connection
        .prepare("SELECT mono_us, wall_ms FROM events ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(times.len(), 22);
    assert!(
        times.windows(2).all(|w| w[0].0 <= w[1].0),
        "monotonic offsets"
    );
    assert!(times
        .iter()
        .all(|(_, wall)| *wall >= before && *wall <= before + 60_000));
    let sign: (i64, i64, i64, i64) = connection
        .query_row(
            "SELECT ai_draft_chars, signed_chars, edit_distance, retained_chars FROM sign_stats",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(sign, (14, 19, 5, 14));
    let journal: String = connection
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
    // No chart id and no text anywhere in the DB file.
    let bytes = std::fs::read(&db).unwrap();
    let wal = std::fs::read(db.with_extension("sqlite3-wal")).unwrap_or_default();
    for haystack in [&bytes, &wal] {
        let text = String::from_utf8_lossy(haystack);
        assert!(!text.contains("肺炎") && !text.contains("chart-1"));
    }
    let ids: Vec<String> = connection
        .prepare("SELECT document_id || chart_hash FROM documents")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(ids.iter().all(|id| !id.contains("chart-1")));
}

#[test]
fn corrupt_db_buffers_then_recovers_when_moved_away() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("metrics.sqlite3");
    std::fs::write(&db, vec![b'x'; 8192]).unwrap();
    let recorder = recorder(&db, 1_000);
    let document = DocumentRef::new("chart-2", "discharge_summary", 1);
    for _ in 0..50 {
        recorder.record(&document, typed());
    }
    assert!(!recorder.flush(Duration::from_secs(5)));
    let health = recorder.health();
    let problem = health.problem.clone().unwrap();
    assert!(
        problem.contains("not a valid SQLite database") && problem.contains("metrics.sqlite3"),
        "{problem}"
    );
    assert_eq!((health.buffered, health.written), (50, 0));
    assert!(health.warning().unwrap().contains("50 buffered"));

    let report = load_report(
        &db,
        &ReportOptions::default(),
        &PseudonymKey::from_bytes([0; 32]),
    )
    .unwrap_err();
    assert!(
        matches!(report, ReportError::Db(DbError::Corrupt { .. })),
        "{report}"
    );
    assert!(report.to_string().contains("move it away"));

    std::fs::rename(&db, dir.path().join("metrics.sqlite3.bad")).unwrap();
    for _ in 0..5 {
        recorder.record(&document, typed());
    }
    assert!(flush_until_written(&recorder, Duration::from_secs(10)));
    let health = recorder.health();
    assert!(health.is_ok(), "{health:?}");
    assert_eq!(event_count(&db), 55);
}

#[test]
fn locked_db_buffers_then_writes_when_released() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("metrics.sqlite3");
    let recorder = recorder(&db, 1_000);
    let document = DocumentRef::new("chart-3", "referral_letter", 1);
    recorder.record(&document, EventKind::OpenChart);
    assert!(recorder.flush(Duration::from_secs(10)));

    let other = Connection::open(&db).unwrap();
    other.execute_batch("BEGIN EXCLUSIVE").unwrap();
    for _ in 0..30 {
        recorder.record(&document, typed());
    }
    assert!(!recorder.flush(Duration::from_secs(5)));
    let health = recorder.health();
    assert!(
        health.problem.as_deref().unwrap().contains("locked"),
        "{health:?}"
    );
    assert_eq!(health.buffered, 30);
    other.execute_batch("COMMIT").unwrap();
    assert!(flush_until_written(&recorder, Duration::from_secs(10)));
    assert!(recorder.health().is_ok());
    assert_eq!(event_count(&db), 31);

    // A process holding the DB in exclusive locking mode keeps even readers out.
    drop(recorder);
    other
        .execute_batch(
            "PRAGMA locking_mode=EXCLUSIVE; BEGIN EXCLUSIVE; DELETE FROM sign_stats; COMMIT;",
        )
        .unwrap();
    let report = load_report(
        &db,
        &ReportOptions::default(),
        &PseudonymKey::from_bytes([0; 32]),
    )
    .unwrap_err();
    assert!(report.to_string().contains("locked"), "{report}");
}

#[test]
fn buffer_is_bounded_and_drops_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the data directory should be: nothing can be created there.
    let blocker = dir.path().join("data");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let recorder = recorder(&blocker.join("metrics.sqlite3"), 100);
    let document = DocumentRef::new("chart-4", "referral_letter", 1);
    let started = Instant::now();
    for _ in 0..1_000 {
        recorder.record(&document, typed());
    }
    // The UI thread never waits for the disk, even with the DB down.
    assert!(started.elapsed() < Duration::from_millis(500));
    assert!(!recorder.flush(Duration::from_secs(5)));
    let health = recorder.health();
    assert_eq!(health.buffered, 100);
    assert_eq!(health.dropped, 900);
    assert!(health.problem.unwrap().contains("cannot be written"));
}

#[test]
fn empty_range_and_missing_db_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("metrics.sqlite3");
    let key = PseudonymKey::from_bytes([0; 32]);
    let missing = load_report(&db, &ReportOptions::default(), &key).unwrap_err();
    assert!(
        missing.to_string().contains("no metrics recorded yet"),
        "{missing}"
    );
    metrics_common::record_study(&db, "kato", 2, 600, 320);
    let options = ReportOptions {
        study: Some("another-study".into()),
        ..ReportOptions::default()
    };
    let empty = load_report(&db, &options, &key).unwrap_err();
    assert!(matches!(empty, ReportError::Empty { .. }));
    assert!(empty.to_string().contains("\"another-study\""), "{empty}");
}
