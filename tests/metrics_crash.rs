//! kill -9 in the middle of writing: the DB must pass `PRAGMA integrity_check` and every
//! committed event must be whole (its session, document and sign statistics present, and each
//! session's events numbered without gaps, i.e. transactions committed entirely or not at all).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::metrics::{
    load_report, DocumentRef, EditKind, EventKind, PseudonymKey, Recorder, RecorderOptions,
    ReportOptions, SignStats,
};
use rusqlite::Connection;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const DB_ENV: &str = "KARTE_METRICS_CRASH_DB";
const CHILD_TEST: &str = "child_writes_until_killed";

/// Run in a child process by the test below (with `--ignored --exact`); writes as fast as it
/// can until it is killed (or for 60 s at most).
#[test]
#[ignore = "helper process for kill_nine_mid_write_leaves_a_consistent_db"]
fn child_writes_until_killed() {
    let db = std::env::var_os(DB_ENV).expect("run by kill_nine_mid_write_leaves_a_consistent_db");
    let recorder = Recorder::start(RecorderOptions {
        db_path: db.into(),
        clinician: "crash-test".into(),
        buffer_capacity: 100_000,
        retry_interval: Duration::from_millis(20),
    });
    let started = Instant::now();
    let mut round = 0u32;
    while started.elapsed() < Duration::from_secs(60) {
        let document = DocumentRef::new(
            &format!("crash-chart-{}-{round}", std::process::id()),
            "referral_letter",
            1,
        );
        for i in 0..3_000 {
            recorder.record(
                &document,
                EventKind::Edit {
                    kind: EditKind::Typed,
                    chars: i % 5 + 1,
                },
            );
        }
        recorder.record(
            &document,
            EventKind::Sign(SignStats::from_texts(Some("下書き"), "署名文")),
        );
        assert!(recorder.flush(Duration::from_secs(30)));
        println!("committed {round}");
        round += 1;
    }
}

#[test]
fn kill_nine_mid_write_leaves_a_consistent_db() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("metrics.sqlite3");
    let me = std::env::current_exe().unwrap();
    for (attempt, delay_ms) in [37u64, 113, 251, 5].into_iter().enumerate() {
        let mut child = Command::new(&me)
            .args([
                "--ignored",
                "--exact",
                CHILD_TEST,
                "--nocapture",
                "--test-threads=1",
            ])
            .env(DB_ENV, &db)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Wait until it has committed at least once, then kill it while it writes on.
        let committed = lines
            .by_ref()
            .map_while(Result::ok)
            .any(|line| line.starts_with("committed"));
        assert!(committed, "attempt {attempt}: the child never committed");
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "attempt {attempt}: the child ended by itself"
        );
    }

    // The report reads the crashed DB as it is (read-only, WAL recovery included).
    let report = load_report(
        &db,
        &ReportOptions::default(),
        &PseudonymKey::from_bytes([4; 32]),
    )
    .unwrap();
    assert!(
        report.documents.len() >= 4,
        "a signed document per child at least"
    );
    assert!(report.documents.iter().all(|d| d.keystrokes == 3_000));

    let connection = Connection::open(&db).unwrap();
    let integrity: String = connection
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let sessions: Vec<(i64, i64, i64, i64)> = connection
        .prepare("SELECT session, COUNT(*), MIN(seq), MAX(seq) FROM events GROUP BY session")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(sessions.len(), 4, "one session per child");
    for (session, count, min_seq, max_seq) in &sessions {
        assert_eq!(
            (*min_seq, *max_seq),
            (0, count - 1),
            "session {session}: a gap in the sequence"
        );
        assert!(
            *count >= 3_001,
            "session {session}: at least one round committed"
        );
    }
    let orphans: i64 = connection
        .query_row(
            "SELECT COUNT(*) FROM events e
             LEFT JOIN sessions s ON s.id = e.session
             LEFT JOIN documents d ON d.id = e.document
             WHERE s.id IS NULL OR (e.document IS NOT NULL AND d.id IS NULL) OR e.kind NOT BETWEEN 1 AND 21",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
    let signs_without_stats: i64 = connection
        .query_row(
            "SELECT COUNT(*) FROM events e LEFT JOIN sign_stats s ON s.event = e.id WHERE e.kind = 18 AND s.event IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let stats_without_sign: i64 = connection
        .query_row(
            "SELECT COUNT(*) FROM sign_stats s LEFT JOIN events e ON e.id = s.event WHERE e.id IS NULL OR e.kind != 18",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!((signs_without_stats, stats_without_sign), (0, 0));
    // After the crashes the DB is still writable by a new session.
    drop(connection);
    let recorder = Recorder::start(RecorderOptions {
        db_path: db.clone(),
        clinician: "after".into(),
        buffer_capacity: 10,
        retry_interval: Duration::from_millis(20),
    });
    recorder.record_session(EventKind::Quit);
    assert!(recorder.flush(Duration::from_secs(10)));
    assert!(recorder.health().is_ok());
}
