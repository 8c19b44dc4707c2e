//! Edit-time metrics in the review screen: which actions become which metrics events, study
//! arms (the manual arm's blank template and refused generation, the arm in the status bar),
//! the recorder's warning, and a whole session recorded by a real `Recorder` into a
//! temporary data dir, read back with SQL and `metrics::load_report`, shown on the Metrics
//! screen.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::editor::{EditKind as EditorEditKind, EditOutcome};
use karte::metrics::{
    load_report, Arm, EditKind, EventKind, FocusTarget, MetricsConfig, PseudonymKey, Recorder,
    RecorderOptions, ReportOptions, StudyConfig,
};
use karte::paths::AppPaths;
use karte::tui::update;
use karte::tui::Command;
use karte::tui::DocumentKind;
use karte::tui::DraftEvent;
use karte::tui::Exit;
use karte::tui::Keymap;
use karte::tui::ModelState;
use karte::tui::StudySetting;
use karte::tui::{events_for, BeforeAction, EventTarget, HookState, MetricsHooks};
use karte::tui::{Action, Effect};
use karte::tui::{App, Pane};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

mod metrics_common;
mod tui_support;
use tui_support::{screen_lines, started_diagnosis_and_course};

const CLINICIAN: &str = "test-clinician";

fn app(width: u16, height: u16) -> App {
    tui_support::app(
        width,
        height,
        ModelState::Ready {
            name: "gemma-3-270m".into(),
        },
    )
}

fn draw(app: &App) -> Vec<String> {
    screen_lines(&tui_support::draw(app))
}

fn study_config(seed: Option<u64>) -> StudyConfig {
    StudyConfig {
        name: "pilot".into(),
        arms: vec!["manual".into(), "assisted".into()],
        unit: None,
        seed,
    }
}

/// Rows of the demo queue whose referral letter is in the manual and in the assisted arm.
fn rows_by_arm(app: &App) -> (usize, usize) {
    let arm_of = |index: usize| {
        let chart = app.rows()[index].chart.as_ref().ok()?;
        app.study.arm(&chart.id, DocumentKind::Referral)
    };
    let manual = (0..app.rows().len()).find(|&i| arm_of(i) == Some(Arm::Manual));
    let assisted = (0..app.rows().len()).find(|&i| arm_of(i) == Some(Arm::Assisted));
    (manual.unwrap(), assisted.unwrap())
}

fn select(app: &mut App, row: usize) {
    update(app, Action::Command(Command::Back));
    update(app, Action::Command(Command::GoTop));
    for _ in 0..row {
        update(app, Action::Command(Command::MoveDown));
    }
    assert_eq!(app.selected, row);
}

/// Applies an action the way the event loop does: a look before, `update`, then the hooks.
fn act(app: &mut App, hooks: &mut MetricsHooks, action: Action) -> Vec<Effect> {
    let before = BeforeAction::of(app, &action);
    let effects = update(app, action);
    hooks.observe(&before, app, &effects);
    effects
}

fn draft_event(chart_id: &str, event: DraftEvent) -> Action {
    Action::Draft {
        chart_id: chart_id.to_string(),
        document: DocumentKind::Referral,
        event,
    }
}

fn text_event(text: &str) -> DraftEvent {
    DraftEvent::Text {
        section: 1,
        text: text.into(),
    }
}

#[test]
fn actions_map_to_metrics_events() {
    let mut app = app(120, 30);
    let mut state = HookState::default();
    let mut step = |app: &mut App, action: Action| {
        let before = BeforeAction::of(app, &action);
        let effects = update(app, action);
        events_for(&before, app, &effects, &mut state)
    };
    let chart_id = app.selected_chart().unwrap().id.clone();
    let referral = EventTarget::Document(chart_id.clone(), DocumentKind::Referral);
    let discharge = EventTarget::Document(chart_id.clone(), DocumentKind::Discharge);
    let command = |c| Action::Command(c);

    // Browsing the queue is not work on a document.
    assert_eq!(step(&mut app, command(Command::MoveDown)), vec![]);
    assert_eq!(step(&mut app, command(Command::MoveUp)), vec![]);
    assert_eq!(
        step(&mut app, command(Command::Open)),
        vec![(referral.clone(), EventKind::OpenChart)]
    );
    // Reading (scrolling) is input on the focused pane.
    assert_eq!(
        step(&mut app, command(Command::MoveDown)),
        vec![(referral.clone(), EventKind::Focus(FocusTarget::Chart))]
    );
    assert_eq!(
        step(&mut app, command(Command::FocusNext)),
        vec![(referral.clone(), EventKind::Focus(FocusTarget::Draft))]
    );
    // Another document of the chart is opened when its tab is first shown.
    assert_eq!(
        step(&mut app, command(Command::NextTab)),
        vec![
            (discharge.clone(), EventKind::OpenChart),
            (discharge.clone(), EventKind::Focus(FocusTarget::Draft)),
        ]
    );
    assert_eq!(
        step(&mut app, command(Command::PrevTab)),
        vec![(referral.clone(), EventKind::Focus(FocusTarget::Draft))]
    );
    // The help is not the document.
    assert_eq!(step(&mut app, command(Command::ToggleHelp)), vec![]);
    assert_eq!(step(&mut app, command(Command::MoveDown)), vec![]);
    assert_eq!(step(&mut app, command(Command::ToggleHelp)), vec![]);

    assert_eq!(
        step(&mut app, command(Command::GenerateDraft)),
        vec![
            (referral.clone(), EventKind::Generate),
            (referral.clone(), EventKind::ModelWaitStart),
        ]
    );
    assert_eq!(
        step(
            &mut app,
            draft_event(&chart_id, started_diagnosis_and_course())
        ),
        vec![]
    );
    assert_eq!(
        step(&mut app, draft_event(&chart_id, text_event("入院後"))),
        vec![],
        "streaming text is still the model's time"
    );
    assert_eq!(
        step(&mut app, draft_event(&chart_id, text_event("解熱。"))),
        vec![]
    );
    assert_eq!(
        step(&mut app, draft_event(&chart_id, DraftEvent::Finished)),
        vec![(referral.clone(), EventKind::ModelWaitEnd)],
        "the finished draft ends the wait"
    );
    // A second generation of a document with a draft is a regenerate.
    assert_eq!(
        step(&mut app, command(Command::GenerateDraft)),
        vec![
            (referral.clone(), EventKind::Regenerate),
            (referral.clone(), EventKind::ModelWaitStart),
        ]
    );
    assert_eq!(
        step(
            &mut app,
            draft_event(&chart_id, started_diagnosis_and_course())
        ),
        vec![]
    );
    assert_eq!(
        step(&mut app, command(Command::CancelDraft)),
        vec![(referral.clone(), EventKind::Cancel)]
    );
    assert_eq!(
        step(&mut app, draft_event(&chart_id, DraftEvent::Cancelled)),
        vec![],
        "the cancel already ended the wait"
    );
    // A generation that fails before any text still ends the wait.
    step(&mut app, command(Command::GenerateDraft));
    assert_eq!(
        step(
            &mut app,
            draft_event(
                &chart_id,
                DraftEvent::Failed {
                    message: "context full".into()
                }
            )
        ),
        vec![(referral.clone(), EventKind::ModelWaitEnd)]
    );
    // The Metrics screen is not the document either; leaving it is back to the draft.
    assert_eq!(step(&mut app, command(Command::ShowMetrics)), vec![]);
    assert_eq!(step(&mut app, command(Command::MoveDown)), vec![]);
    assert_eq!(
        step(&mut app, command(Command::ShowMetrics)),
        vec![(referral.clone(), EventKind::Focus(FocusTarget::Draft))]
    );
    assert_eq!(
        step(&mut app, command(Command::Quit)),
        vec![(EventTarget::Session, EventKind::Quit)]
    );

    // An edit reported by `update` as an effect is recorded for the document on screen,
    // instead of the key's plain `Focus`.
    let before = BeforeAction::of(&app, &command(Command::MoveDown));
    let typed = Effect::DraftEdited(EditOutcome {
        kind: EditorEditKind::Typed,
        inserted_chars: 2,
        deleted_chars: 0,
    });
    assert_eq!(
        events_for(&before, &app, &[typed], &mut state),
        vec![(
            referral.clone(),
            EventKind::Edit {
                kind: EditKind::Typed,
                chars: 2
            }
        )]
    );
}

#[test]
fn the_manual_arm_gets_the_blank_template_and_no_generation() {
    let mut app = app(120, 30);
    app.study = StudySetting::from_config(Some(&study_config(Some(11))), CLINICIAN.into());
    let (manual, assisted) = rows_by_arm(&app);

    select(&mut app, manual);
    update(&mut app, Action::Command(Command::Open));
    let effects = update(&mut app, Action::Command(Command::GenerateDraft));
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::GenerateDraft { .. })),
        "{effects:?}"
    );
    let status = app.status.clone().unwrap();
    assert!(
        status.contains("manual") && status.contains("下書き生成は使えません"),
        "{status}"
    );
    let blank = app.current_draft().unwrap();
    assert!(!blank.is_generating());
    assert!(blank.sections.iter().all(|s| s.text.is_empty()));
    assert!(blank.sections.iter().any(|s| s.title == "紹介目的"));
    let shown = draw(&app);
    assert!(
        shown.iter().any(|line| line.contains("紹介目的")),
        "the blank template's headings are in the draft pane:\n{}",
        shown.join("\n")
    );
    assert!(
        shown.last().unwrap().contains("試験: manual"),
        "{}",
        shown.last().unwrap()
    );
    // In the draft pane the status bar offers no generation key here; the end of the
    // draft says what it is.
    update(&mut app, Action::Command(Command::FocusNext));
    assert_eq!(app.focus, Pane::Draft);
    update(&mut app, Action::Command(Command::GoBottom));
    let shown = draw(&app);
    let hints = shown.last().unwrap();
    assert!(!hints.contains("d 生成"), "{hints}");
    assert!(
        shown.iter().any(|line| line.contains("空のテンプレート")),
        "{}",
        shown.join("\n")
    );

    select(&mut app, assisted);
    update(&mut app, Action::Command(Command::Open));
    assert!(app.current_draft().is_none(), "no blank template here");
    let effects = update(&mut app, Action::Command(Command::GenerateDraft));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::GenerateDraft { .. })),
        "{effects:?}"
    );
    assert_eq!(app.focus, Pane::Draft);
    update(&mut app, Action::Command(Command::MoveDown));
    let status_line = draw(&app).last().unwrap().clone();
    assert!(status_line.contains("試験: assisted"), "{status_line}");
    assert!(status_line.contains("d 生成"), "{status_line}");
}

#[test]
fn a_broken_study_config_refuses_generation_and_says_why() {
    let mut app = app(160, 30);
    app.study = StudySetting::from_config(Some(&study_config(None)), CLINICIAN.into());
    update(&mut app, Action::Command(Command::Open));
    let effects = update(&mut app, Action::Command(Command::GenerateDraft));
    assert!(effects.is_empty(), "{effects:?}");
    let status = app.status.clone().unwrap();
    assert!(
        status.contains("試験設定") && status.contains("seed"),
        "{status}"
    );
    assert!(draw(&app).last().unwrap().contains("試験設定エラー"));
    // Without a study nothing about studies shows.
    let plain = self::app(160, 30);
    assert!(!draw(&plain).last().unwrap().contains("試験"));
}

#[test]
fn an_unusable_metrics_db_shows_in_the_status_bar() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let recorder = Recorder::start(RecorderOptions {
        db_path: not_a_dir.join("metrics.sqlite3"),
        clinician: CLINICIAN.into(),
        buffer_capacity: 100,
        retry_interval: Duration::from_millis(50),
    });
    let mut hooks = MetricsHooks::with_recorder(Some(recorder));
    let mut app = app(160, 30);
    act(&mut app, &mut hooks, Action::Command(Command::Open));
    assert!(!hooks.recorder().unwrap().flush(Duration::from_secs(2)));
    let warning = hooks.warning_change().expect("the warning is new").unwrap();
    assert!(warning.contains("buffered"), "{warning}");
    assert_eq!(hooks.warning_change(), None, "reported once");
    update(&mut app, Action::MetricsHealth(Some(warning)));
    let status_line = draw(&app).last().unwrap().clone();
    assert!(status_line.contains("metrics:"), "{status_line}");
    update(&mut app, Action::MetricsHealth(None));
    assert!(!draw(&app).last().unwrap().contains("metrics:"));
    // Quitting does not hang on the unusable DB: the writer stops within the limit.
    let started = std::time::Instant::now();
    assert!(
        !hooks.finish(Duration::from_millis(500)),
        "nothing could be written"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(hooks.recorder().is_none());
}

#[test]
fn a_session_is_recorded_in_the_metrics_db_and_reported() {
    let home = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(home.path());
    std::fs::create_dir_all(&paths.data_dir).unwrap();
    let config = MetricsConfig::default();
    let mut hooks = MetricsHooks::with_recorder(Recorder::start_for(&paths, &config));
    assert!(hooks.recorder().is_some());

    let mut app = app(140, 36);
    let chart = app.selected_chart().unwrap().clone();
    let draft_text = "入院後セフトリアキソンで加療し解熱した。";
    act(&mut app, &mut hooks, Action::Command(Command::Open));
    act(&mut app, &mut hooks, Action::Command(Command::MoveDown));
    act(&mut app, &mut hooks, Action::Command(Command::FocusNext));
    let effects = act(
        &mut app,
        &mut hooks,
        Action::Command(Command::GenerateDraft),
    );
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::GenerateDraft { .. })));
    act(
        &mut app,
        &mut hooks,
        draft_event(&chart.id, started_diagnosis_and_course()),
    );
    act(
        &mut app,
        &mut hooks,
        draft_event(&chart.id, text_event(draft_text)),
    );
    act(
        &mut app,
        &mut hooks,
        draft_event(&chart.id, DraftEvent::Finished),
    );
    // The editor reports its edits (typed 3 chars, deleted 1, pasted 5).
    for (kind, inserted, deleted) in [
        (EditorEditKind::Typed, 1, 0),
        (EditorEditKind::Typed, 2, 0),
        (EditorEditKind::Deleted, 0, 1),
        (EditorEditKind::Pasted, 5, 0),
    ] {
        hooks.record_edit(&EditOutcome {
            kind,
            inserted_chars: inserted,
            deleted_chars: deleted,
        });
    }
    for kind in [EventKind::AcceptSection, EventKind::AcknowledgeFlag] {
        hooks.record_document_event(kind);
    }
    let document = app.study.document(&chart.id, DocumentKind::Referral);
    hooks.record_sign(
        &document,
        Some(draft_text.to_string()),
        format!("{draft_text}退院とした。"),
    );
    hooks.record_document_event(EventKind::Export);
    let effects = act(&mut app, &mut hooks, Action::Command(Command::Quit));
    assert_eq!(effects, vec![Effect::Quit]);
    hooks.session_ended(Some(Exit::Quit));
    assert!(hooks.finish(Duration::from_secs(5)), "all written");

    // A second session ends with an SSH drop.
    let mut hooks = MetricsHooks::with_recorder(Recorder::start_for(&paths, &config));
    let mut app2 = self::app(140, 36);
    act(&mut app2, &mut hooks, Action::Command(Command::Open));
    hooks.session_ended(Some(Exit::Signal(libc::SIGHUP)));
    assert!(hooks.finish(Duration::from_secs(5)));

    let db_path = karte::metrics::db_path(&paths);
    let db = rusqlite::Connection::open(&db_path).unwrap();
    let count = metrics_common::event_counts(&paths);
    let edit = |kind| EventKind::Edit { kind, chars: 0 };
    assert_eq!(count(EventKind::OpenChart), 2);
    assert_eq!(count(EventKind::Focus(FocusTarget::Chart)), 1);
    assert_eq!(count(EventKind::Focus(FocusTarget::Draft)), 1);
    assert_eq!(count(EventKind::Generate), 1);
    assert_eq!(count(EventKind::ModelWaitStart), 1);
    assert_eq!(count(EventKind::ModelWaitEnd), 1);
    assert_eq!(count(edit(EditKind::Typed)), 2);
    assert_eq!(count(edit(EditKind::Deleted)), 1);
    assert_eq!(count(edit(EditKind::Pasted)), 1);
    assert_eq!(count(EventKind::AcceptSection), 1);
    assert_eq!(count(EventKind::AcknowledgeFlag), 1);
    assert_eq!(count(EventKind::Sign(Default::default())), 1);
    assert_eq!(count(EventKind::Export), 1);
    assert_eq!(count(EventKind::Quit), 1);
    assert_eq!(count(EventKind::Disconnect), 1);
    let sessions: i64 = db
        .query_row("SELECT count(*) FROM sessions", [], |row| row.get(0))
        .unwrap();
    assert_eq!(sessions, 2);
    drop(db);

    // No chart text anywhere in the DB files: ids, names and draft text stay out.
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&paths.data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("metrics.sqlite3") {
            bytes.extend(std::fs::read(path).unwrap());
        }
    }
    let haystack = String::from_utf8_lossy(&bytes);
    for secret in [
        chart.id.as_str(),
        chart.patient.name.as_str(),
        chart.patient.id.as_str(),
        "セフトリアキソン",
    ] {
        assert!(
            !haystack.contains(secret),
            "{secret:?} is in the metrics DB"
        );
    }

    let key = PseudonymKey::load_or_create(&paths.data_dir).unwrap();
    let report = load_report(&db_path, &ReportOptions::from_config(&config, None), &key).unwrap();
    assert_eq!(report.documents.len(), 1);
    let row = &report.documents[0];
    assert_eq!(row.doc_type, "referral");
    assert_eq!(row.keystrokes, 4);
    assert_eq!(row.chars_inserted, 3);
    assert_eq!(row.chars_deleted, 1);
    assert_eq!(row.chars_pasted, 5);
    assert_eq!(row.flags_acknowledged, 1);
    assert!(row.edited_share.unwrap() > 0.0);
    assert!(row.active_secs > 0.0);

    // The Metrics screen shows the report once it has loaded.
    let mut screen_app = self::app(140, 36);
    update(&mut screen_app, Action::Command(Command::ShowMetrics));
    assert!(draw(&screen_app).join("\n").contains("読み込み中"));
    update(&mut screen_app, Action::MetricsLoaded(Ok(Arc::new(report))));
    let shown = draw(&screen_app).join("\n");
    assert!(shown.contains("実作業時間の中央値"), "{shown}");
    assert!(shown.contains("実作業時間の分布"), "{shown}");
    assert!(
        shown.contains("紹介状"),
        "the document type in Japanese: {shown}"
    );
}

#[test]
fn keys_in_the_config_can_rebind_the_metrics_screen() {
    let mut keys = BTreeMap::new();
    keys.insert("metrics".to_string(), "M".to_string());
    let keymap = Keymap::with_overrides(&keys).unwrap();
    let bound: Vec<String> = keymap
        .keys_for(Command::ShowMetrics)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(bound, ["M"]);
}
