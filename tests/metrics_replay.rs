//! Replays event logs with a known ground truth through the real recorder and DB, and checks
//! that the report gives exactly the expected active times and the 47.0 % reduction.
//!
//! Ground truth (idle threshold 30 s):
//! - manual document: 120 s reading in 10 s steps, a 400 s pause (counts 30 s), 84 edits 5 s
//!   apart (420 s), a 1000 s pause (counts 30 s), sign → 600 s active.
//! - the same with an SSH drop in the middle: one edit fewer (−5 s), a disconnect 5 s after an
//!   edit, a new session 20 min later that opens the chart, focuses the draft after 3 s and
//!   types after 2 s more (+5 s) → 600 s active.
//! - assisted document: 8 s reading, generate, 45 s model wait (counted in full), 7 s reading,
//!   40 edits 5 s apart (200 s), acknowledge a flag after 10 s, a 500 s pause (30 s), three
//!   edits 6 s apart (18 s), sign → 318 s active.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::metrics::{
    load_report, Arm, DocumentRef, EditKind, EventKind, FocusTarget, PseudonymKey, Recorder,
    RecorderOptions, ReportOptions, SignStats,
};
use std::path::Path;
use std::time::Duration;

const S: i64 = 1_000_000;
const STUDY: &str = "pilot-2026";
const AI_DRAFT: &str =
    "患者は2026年3月に肺炎で入院し、抗菌薬で軽快した。退院後は外来で経過観察とする。";
const SIGNED: &str =
    "患者は2026年3月に市中肺炎で入院し、抗菌薬投与で軽快した。退院後は当院外来で経過観察とする。";

/// One session of one clinician: events at offsets from the session start.
struct Session {
    recorder: Recorder,
    now_us: i64,
    wall_start_ms: i64,
}

impl Session {
    fn start(db: &Path, clinician: &str, wall_start_ms: i64) -> Self {
        Self {
            recorder: Recorder::start(RecorderOptions {
                db_path: db.to_path_buf(),
                clinician: clinician.into(),
                buffer_capacity: 10_000,
                retry_interval: Duration::from_millis(50),
            }),
            now_us: 0,
            wall_start_ms,
        }
    }

    /// Records `kind` `after_secs` after the previous event.
    fn at(&mut self, document: &DocumentRef, after_secs: i64, kind: EventKind) {
        self.now_us += after_secs * S;
        self.recorder.record_at(
            Some(document),
            kind,
            self.now_us,
            self.wall_start_ms + self.now_us / 1000,
        );
    }

    fn session_event(&mut self, after_secs: i64, kind: EventKind) {
        self.now_us += after_secs * S;
        self.recorder.record_at(
            None,
            kind,
            self.now_us,
            self.wall_start_ms + self.now_us / 1000,
        );
    }

    fn end(self) {
        assert!(self.recorder.flush(Duration::from_secs(10)));
        let health = self.recorder.health();
        assert!(health.is_ok(), "{health:?}");
    }
}

fn typed() -> EventKind {
    EventKind::Edit {
        kind: EditKind::Typed,
        chars: 2,
    }
}

fn manual_document(session: &mut Session, document: &DocumentRef) {
    session.at(document, 0, EventKind::OpenChart);
    for _ in 0..12 {
        session.at(document, 10, EventKind::Focus(FocusTarget::Chart));
    }
    session.at(document, 400, EventKind::Focus(FocusTarget::Draft));
    for _ in 0..84 {
        session.at(document, 5, typed());
    }
    session.at(
        document,
        1000,
        EventKind::Sign(SignStats::from_texts(None, SIGNED)),
    );
}

/// The manual document again, but the SSH connection drops after edit 40; returns the new
/// session, which finishes the document.
fn manual_document_with_reconnect(
    mut first: Session,
    document: &DocumentRef,
    db: &Path,
    clinician: &str,
) -> Session {
    first.at(document, 0, EventKind::OpenChart);
    for _ in 0..12 {
        first.at(document, 10, EventKind::Focus(FocusTarget::Chart));
    }
    first.at(document, 400, EventKind::Focus(FocusTarget::Draft));
    for _ in 0..40 {
        first.at(document, 5, typed());
    }
    first.session_event(5, EventKind::Disconnect);
    let reconnect_wall = first.wall_start_ms + first.now_us / 1000 + 20 * 60 * 1000;
    first.end();
    let mut second = Session::start(db, clinician, reconnect_wall);
    second.at(document, 0, EventKind::OpenChart);
    second.at(document, 3, EventKind::Focus(FocusTarget::Draft));
    for _ in 0..43 {
        second.at(
            document,
            if second.now_us == 3 * S { 2 } else { 5 },
            typed(),
        );
    }
    second.at(
        document,
        1000,
        EventKind::Sign(SignStats::from_texts(None, SIGNED)),
    );
    second
}

fn assisted_document(session: &mut Session, document: &DocumentRef) {
    session.at(document, 0, EventKind::OpenChart);
    session.at(document, 8, EventKind::Generate);
    session.at(document, 0, EventKind::ModelWaitStart);
    session.at(document, 45, EventKind::ModelWaitEnd);
    session.at(document, 0, EventKind::FlagRaised { count: 2 });
    session.at(document, 7, EventKind::Focus(FocusTarget::Draft));
    for _ in 0..40 {
        session.at(document, 5, typed());
    }
    session.at(document, 10, EventKind::AcknowledgeFlag);
    session.at(document, 0, EventKind::FlagFixed { count: 1 });
    session.at(document, 500, EventKind::AcceptSection);
    for _ in 0..2 {
        session.at(document, 6, typed());
    }
    session.at(
        document,
        6,
        EventKind::Sign(SignStats::from_texts(Some(AI_DRAFT), SIGNED)),
    );
}

fn doc(chart: &str, doc_type: &str, arm: Arm) -> DocumentRef {
    DocumentRef::new(chart, doc_type, 1).in_study(STUDY, arm)
}

/// Two clinicians, 3 manual + 3 assisted documents each (both document types), one manual
/// document split by a reconnect, one unsigned document, one document outside the study.
fn replay(db: &Path) {
    let day = 1_775_000_000_000; // 2026-03-31T23:33:20Z
    for (index, clinician) in ["sato", "suzuki"].into_iter().enumerate() {
        let base = day + index as i64 * 3_600_000;
        let mut session = Session::start(db, clinician, base);
        for n in 0..2 {
            let doc_type = if n == 0 {
                "referral_letter"
            } else {
                "discharge_summary"
            };
            manual_document(
                &mut session,
                &doc(&format!("{clinician}-m{n}"), doc_type, Arm::Manual),
            );
            assisted_document(
                &mut session,
                &doc(&format!("{clinician}-a{n}"), doc_type, Arm::Assisted),
            );
        }
        assisted_document(
            &mut session,
            &doc(&format!("{clinician}-a2"), "referral_letter", Arm::Assisted),
        );
        // Opened, never signed: not a finished document.
        session.at(
            &doc(&format!("{clinician}-open"), "referral_letter", Arm::Manual),
            5,
            EventKind::OpenChart,
        );
        // Outside any study (e.g. before the study began).
        manual_document(
            &mut session,
            &DocumentRef::new(&format!("{clinician}-free"), "referral_letter", 1),
        );
        let resumed = manual_document_with_reconnect(
            session,
            &doc(&format!("{clinician}-m2"), "discharge_summary", Arm::Manual),
            db,
            clinician,
        );
        resumed.end();
    }
}

fn options(study: Option<&str>) -> ReportOptions {
    ReportOptions {
        study: study.map(str::to_string),
        since: None,
        idle_threshold_secs: 30.0,
        bootstrap_resamples: 500,
        bootstrap_seed: 1,
    }
}

#[test]
fn replayed_logs_give_the_exact_ground_truth() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/metrics.sqlite3");
    replay(&db);
    let key = PseudonymKey::from_bytes([3; 32]);
    let report = load_report(&db, &options(Some(STUDY)), &key).unwrap();

    assert_eq!(report.documents.len(), 12);
    assert_eq!(report.unsigned_documents, 2);
    for row in &report.documents {
        let expected = if row.arm == Some(Arm::Manual) {
            600.0
        } else {
            318.0
        };
        assert_eq!(row.active_secs, expected, "{row:?}");
        assert_eq!(
            row.reading_secs + row.editing_secs + row.waiting_secs,
            expected
        );
        match row.arm {
            Some(Arm::Manual) if row.sessions == 2 => {
                assert_eq!((row.reading_secs, row.editing_secs), (153.0, 447.0));
                // Wall time includes the 20 minutes offline.
                assert!(row.wall_secs > 20.0 * 60.0 + 600.0, "{}", row.wall_secs);
                assert_eq!(row.keystrokes, 83);
            }
            Some(Arm::Manual) => {
                assert_eq!(
                    (row.reading_secs, row.editing_secs, row.waiting_secs),
                    (150.0, 450.0, 0.0)
                );
                assert_eq!(row.keystrokes, 84);
                assert_eq!(row.chars_inserted, 168);
                assert_eq!(row.edited_share, None);
            }
            Some(Arm::Assisted) => {
                assert_eq!(
                    (row.reading_secs, row.editing_secs, row.waiting_secs),
                    (15.0, 258.0, 45.0)
                );
                assert_eq!(
                    (row.flags_raised, row.flags_fixed, row.flags_acknowledged),
                    (2, 1, 1)
                );
                let stats = SignStats::from_texts(Some(AI_DRAFT), SIGNED);
                assert_eq!(row.edited_share, stats.edited_share());
                assert_eq!(row.retained_share, stats.retained_share());
                // The signer only inserted words: everything drafted was kept.
                let (ai, signed) = (
                    AI_DRAFT.chars().count() as f64,
                    SIGNED.chars().count() as f64,
                );
                assert!((row.edited_share.unwrap() - (signed - ai) / signed).abs() < 1e-12);
                assert!((row.retained_share.unwrap() - ai / signed).abs() < 1e-12);
            }
            None => panic!("a document outside the study is in the study report"),
        }
    }
    assert_eq!(
        report.documents.iter().filter(|d| d.sessions == 2).count(),
        2
    );

    let all_manual = report.group(Some(Arm::Manual), "all").unwrap();
    let all_assisted = report.group(Some(Arm::Assisted), "all").unwrap();
    assert_eq!((all_manual.n, all_assisted.n), (6, 6));
    assert_eq!(
        (all_manual.median_active_secs, all_manual.mean_active_secs),
        (600.0, 600.0)
    );
    assert_eq!(
        (
            all_assisted.median_active_secs,
            all_assisted.mean_active_secs
        ),
        (318.0, 318.0)
    );
    assert_eq!(all_assisted.flags_raised_per_document, 2.0);
    let reduction = report.reduction("all").unwrap();
    assert_eq!(format!("{:.1}%", reduction.of_means * 100.0), "47.0%");
    assert!((reduction.of_means - 0.47).abs() < 1e-12);
    assert!((reduction.of_medians - 0.47).abs() < 1e-12);
    let ci = reduction.ci.unwrap();
    assert!(
        (ci.low - 0.47).abs() < 1e-12 && (ci.high - 0.47).abs() < 1e-12,
        "{ci:?}"
    );
    for doc_type in ["referral_letter", "discharge_summary"] {
        let r = report.reduction(doc_type).unwrap();
        assert!((r.of_means - 0.47).abs() < 1e-12, "{doc_type}");
    }
    assert_eq!(report.clinicians.len(), 2);
    for clinician in &report.clinicians {
        assert_eq!((clinician.n_manual, clinician.n_assisted), (3, 3));
        assert!((clinician.reduction_of_means.unwrap() - 0.47).abs() < 1e-12);
    }
    let text = report.to_text();
    assert!(text.contains("47.0%"), "{text}");
    assert!(!text.contains("no crossover"), "{text}");

    // Without --study the free documents appear with no arm; the reduction is unchanged.
    let everything = load_report(&db, &options(None), &key).unwrap();
    assert_eq!(everything.documents.len(), 14);
    assert_eq!(everything.group(None, "all").unwrap().n, 2);
    assert!((everything.reduction("all").unwrap().of_means - 0.47).abs() < 1e-12);
}

#[test]
fn csv_and_figure_are_de_identified_and_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("metrics.sqlite3");
    replay(&db);
    let key = PseudonymKey::from_bytes([9; 32]);
    let report = load_report(&db, &options(Some(STUDY)), &key).unwrap();
    let csv = report.to_csv();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 13);
    assert!(lines[0].starts_with("document,clinician,study,arm,doc_type"));
    for forbidden in ["sato", "suzuki", "-m0", "-a1", "free"] {
        assert!(!csv.contains(forbidden), "{forbidden} in CSV:\n{csv}");
    }
    let columns = lines[0].split(',').count();
    assert!(lines.iter().all(|l| l.split(',').count() == columns));
    assert!(csv.contains(",600.000,") && csv.contains(",318.000,"));
    // The same key gives the same pseudonyms; another key, other ones.
    let again = load_report(&db, &options(Some(STUDY)), &key).unwrap();
    assert_eq!(again.to_csv(), csv);
    let other = load_report(
        &db,
        &options(Some(STUDY)),
        &PseudonymKey::from_bytes([1; 32]),
    )
    .unwrap();
    assert_ne!(other.documents[0].clinician, report.documents[0].clinician);

    let svg = report.to_svg().unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("47.0%"), "title with the reduction");
    assert!(svg.contains("manual") && svg.contains("assisted") && svg.contains("referral_letter"));
    assert!(svg.matches("<rect").count() > 6, "bars drawn");
}

#[test]
fn since_filters_by_sign_date() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("metrics.sqlite3");
    replay(&db);
    let key = PseudonymKey::from_bytes([3; 32]);
    let mut since = options(Some(STUDY));
    // Everything was signed on 2026-04-01 (UTC).
    since.since = chrono::NaiveDate::from_ymd_opt(2026, 4, 1);
    assert_eq!(load_report(&db, &since, &key).unwrap().documents.len(), 12);
    since.since = chrono::NaiveDate::from_ymd_opt(2026, 4, 2);
    let empty = load_report(&db, &since, &key).unwrap_err();
    assert!(empty.to_string().contains("since 2026-04-02"), "{empty}");
}
