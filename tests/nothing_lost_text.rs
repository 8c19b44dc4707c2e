//! Every character on screen is in the journal, in recovery, in the guard's input, in the
//! signed version and in the export — also text above the first heading, under a heading
//! whose `【` line was typed over, after a heading's `】`, and under a repeated heading
//! (issue 10, defect 1: such text showed on screen but was never journaled). Journals written
//! before (sections only) still recover.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use chrono::Utc;
use karte::editor::Motion;
use karte::store::{self, JournalRecord, LockDir, SectionText, SessionContext};
use karte::tui::action::Action;
use karte::tui::guard_sections;
use karte::tui::review as review_service;
use karte::tui::App;
use karte::tui::Command;
use karte::tui::DocumentService;
use karte::tui::EditKey;
use karte::tui::ModelState;
use std::path::Path;
use std::time::Duration;

mod tui_support;
use tui_support::act;

fn service(dir: &Path) -> DocumentService {
    DocumentService::new(SessionContext {
        data_dir: dir.join("data"),
        locks: LockDir::new(dir.join("locks")),
        user: "山田".into(),
        session_id: store::new_session_id(),
    })
}

fn edit(app: &mut App, docs: &mut DocumentService, key: EditKey) {
    act(app, docs, Action::Edit(key));
}

fn to(app: &mut App, docs: &mut DocumentService, motion: Motion) {
    edit(
        app,
        docs,
        EditKey::Move {
            motion,
            extend: false,
        },
    );
}

fn editor_text(app: &App) -> String {
    app.current_edit()
        .and_then(|e| e.editor.as_ref())
        .map(|e| e.text().to_string())
        .unwrap()
}

fn journaled(dir: &Path, chart_id: &str) -> store::DraftState {
    store::recover(
        &store::DocumentStore::new(&dir.join("data")),
        chart_id,
        store::DocKind::Referral,
    )
    .unwrap()
    .unwrap()
    .state
}

#[test]
fn a_blank_template_opens_with_the_cursor_in_the_first_body() {
    let dir = tempfile::tempdir().unwrap();
    let mut docs = service(dir.path());
    let mut app = tui_support::app(100, 30, ModelState::Missing);
    act(&mut app, &mut docs, Action::Command(Command::NewDocument));
    assert!(app.is_editing());
    edit(&mut app, &mut docs, EditKey::Type("内科 御侍史".into()));
    assert!(
        editor_text(&app).starts_with("【宛先】\n内科 御侍史\n【患者情報】"),
        "{}",
        editor_text(&app)
    );
}

#[test]
fn text_outside_every_section_is_journaled_recovered_guarded_signed_and_exported() {
    let dir = tempfile::tempdir().unwrap();
    let chart_id;
    let typed;
    {
        let mut docs = service(dir.path());
        let mut app = tui_support::app(100, 30, ModelState::Missing);
        chart_id = app.selected_chart().unwrap().id.clone();
        act(&mut app, &mut docs, Action::Command(Command::NewDocument));
        edit(&mut app, &mut docs, EditKey::Type("東京病院 内科".into()));
        // Above the first heading (typed over its `【`: 宛先's heading line is text now).
        to(&mut app, &mut docs, Motion::DocumentStart);
        edit(&mut app, &mut docs, EditKey::Type("至急".into()));
        // After the `】` of a heading, on its own line.
        to(&mut app, &mut docs, Motion::NextSection);
        to(&mut app, &mut docs, Motion::LineEnd);
        edit(&mut app, &mut docs, EditKey::Type(" 見出し行の追記".into()));
        // A repeated heading with its own text, and a mistyped one at the end.
        to(&mut app, &mut docs, Motion::DocumentEnd);
        act(
            &mut app,
            &mut docs,
            Action::Paste("\n【患者情報】\n二つ目の患者情報\n【備孝】\n誤字見出しの本文".into()),
        );
        typed = editor_text(&app);
        docs.flush(Duration::from_secs(5)).unwrap();

        // The journal holds the exact text, and its sections hold every character.
        let state = journaled(dir.path(), &chart_id);
        assert_eq!(state.text.as_deref(), Some(typed.as_str()));
        let preamble = state
            .section(store::PREAMBLE_KEY)
            .expect("a leading section");
        assert_eq!(preamble.text, "至急【宛先】\n東京病院 内科");
        let all: String = state.sections.iter().map(|s| s.text.as_str()).collect();
        for words in ["見出し行の追記", "二つ目の患者情報", "誤字見出しの本文"]
        {
            assert!(
                all.contains(words),
                "{words} journaled: {:?}",
                state.sections
            );
        }

        // Dropped without quitting (the session object ends; the lock is released).
    }

    // The next run offers the journaled text and restores it character for character.
    let mut docs = service(dir.path());
    let mut app = tui_support::app(100, 30, ModelState::Missing);
    act(&mut app, &mut docs, Action::Command(Command::EditDraft));
    assert!(app.recovery.is_some(), "the journaled text is offered");
    act(&mut app, &mut docs, Action::RecoveryChoice(true));
    assert_eq!(
        editor_text(&app),
        typed,
        "recovered character for character"
    );

    // The guard checks the same sections.
    let guarded = guard_sections(
        app.templates.get(store::DocKind::Referral),
        app.current_edit(),
        app.current_draft(),
    )
    .unwrap();
    let guarded_text: String = guarded.iter().map(|(_, t)| t.as_str()).collect();
    for words in [
        "至急",
        "見出し行の追記",
        "二つ目の患者情報",
        "誤字見出しの本文",
    ] {
        assert!(guarded_text.contains(words), "{words} guarded");
    }

    // Signed and exported.
    let chart = app.selected_chart().unwrap().clone();
    let sections = app.current_edit().unwrap().section_texts();
    let action = review_service::sign(
        Some(&docs),
        &chart,
        store::DocKind::Referral,
        &sections,
        Vec::new(),
    );
    let Action::Signed {
        result: Ok(signed), ..
    } = action
    else {
        panic!("signing failed: {action:?}");
    };
    let exported = karte::export::text::document_text(&signed, &chart);
    for words in [
        "至急【宛先】",
        "東京病院 内科",
        "見出し行の追記",
        "二つ目の患者情報",
        "誤字見出しの本文",
    ] {
        assert!(exported.contains(words), "{words} exported:\n{exported}");
    }
}

#[test]
fn a_journal_with_sections_only_still_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut docs = service(dir.path());
    let mut app = tui_support::app(100, 30, ModelState::Missing);
    let chart_id = app.selected_chart().unwrap().id.clone();
    // What karte wrote before whole-text records existed.
    let path = store::DocumentStore::new(&dir.path().join("data"))
        .journal_path(&chart_id, store::DocKind::Referral);
    let (mut journal, _) = store::Journal::open(&path).unwrap();
    for (key, heading, text) in [
        ("addressee", "宛先", "旧形式の宛先"),
        ("purpose", "紹介目的", "旧形式の目的"),
    ] {
        journal
            .append(&JournalRecord::Edited {
                at: Utc::now(),
                section: SectionText::new(key, heading, text),
            })
            .unwrap();
    }
    journal.flush_and_sync().unwrap();
    drop(journal);
    act(&mut app, &mut docs, Action::Command(Command::EditDraft));
    assert!(app.recovery.is_some());
    act(&mut app, &mut docs, Action::RecoveryChoice(true));
    assert_eq!(
        editor_text(&app),
        "【宛先】\n旧形式の宛先\n【紹介目的】\n旧形式の目的"
    );
    // From now on the whole text is journaled.
    edit(&mut app, &mut docs, EditKey::Type("追".into()));
    docs.flush(Duration::from_secs(5)).unwrap();
    let state = journaled(dir.path(), &chart_id);
    assert_eq!(state.text.as_deref(), Some(editor_text(&app).as_str()));
}
