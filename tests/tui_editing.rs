//! Editing Japanese text in the draft pane, drawn on a TestBackend: the terminal cursor sits
//! on the right cell with double-width characters (also after soft wrapping), the selection
//! is drawn reversed, a bracketed paste replaces it, undo restores. Storage is real: the
//! document service takes the chart lock and journals into a temp data dir, so the same
//! test shows recovery (復元) and a second session opening the chart read-only.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::editor::Motion;
use karte::store::{self, LockDir, SessionContext};
use karte::tui::view;
use karte::tui::Command;
use karte::tui::DocumentService;
use karte::tui::EditKey;
use karte::tui::ModelState;
use karte::tui::Panes;
use karte::tui::{Action, Effect};
use karte::tui::{App, Pane};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::Modifier;
use ratatui::Terminal;
use std::path::Path;
use std::time::Duration;

mod tui_support;
use tui_support::{act, screen};

const WIDTH: u16 = 80;
const HEIGHT: u16 = 24;

fn app() -> App {
    tui_support::app(WIDTH, HEIGHT, ModelState::Missing)
}

fn service(dir: &Path, user: &str) -> DocumentService {
    DocumentService::new(SessionContext {
        data_dir: dir.join("data"),
        locks: LockDir::new(dir.join("locks")),
        user: user.into(),
        session_id: store::new_session_id(),
    })
}

/// 山田's session with a blank referral letter open in edit mode.
fn blank_document(dir: &Path) -> (DocumentService, App) {
    let mut docs = service(dir, "山田");
    let mut app = app();
    act(&mut app, &mut docs, Action::Command(Command::NewDocument));
    assert!(app.is_editing());
    (docs, app)
}

fn key(app: &mut App, docs: &mut DocumentService, key: EditKey) {
    act(app, docs, Action::Edit(key));
}

fn motion(app: &mut App, docs: &mut DocumentService, motion: Motion, extend: bool) {
    key(app, docs, EditKey::Move { motion, extend });
}

fn draw(app: &App) -> (Buffer, Option<Position>) {
    let mut terminal = Terminal::new(TestBackend::new(app.width, app.height)).unwrap();
    let frame = terminal.draw(|frame| view(app, frame)).unwrap();
    let buffer = frame.buffer.clone();
    let cursor = app
        .is_editing()
        .then(|| terminal.backend().cursor_position());
    (buffer, cursor)
}

/// The draft pane's text area (inside its border).
fn draft_inner(app: &App) -> Rect {
    let panes = Panes::compute(
        Rect::new(0, 0, app.width, app.height),
        app.detail,
        app.rows().len(),
    );
    let rect = panes.draft.expect("the draft pane is shown");
    Rect::new(rect.x + 1, rect.y + 1, rect.width - 2, rect.height - 2)
}

/// Screen position of text row `row`, cell `column` of the edited text.
fn cell(app: &App, row: usize, column: usize) -> Position {
    let inner = draft_inner(app);
    // Two lines of document heading precede the text.
    let line = 2 + row - app.draft_scroll;
    Position::new(
        inner.x + u16::try_from(column).unwrap(),
        inner.y + u16::try_from(line).unwrap(),
    )
}

fn editor_text(app: &App) -> String {
    app.current_edit()
        .and_then(|e| e.editor.as_ref())
        .map(|e| e.text().to_string())
        .unwrap()
}

#[test]
fn japanese_typing_cursor_selection_paste_and_undo_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    let mut docs = service(dir.path(), "山田");
    let mut app = app();
    act(&mut app, &mut docs, Action::Command(Command::NewDocument));
    assert!(app.is_editing(), "a blank document opens in edit mode");
    assert_eq!(app.focus, Pane::Draft);
    let (buffer, cursor) = draw(&app);
    assert!(screen(&buffer).contains("【宛先】"), "{}", screen(&buffer));
    assert_eq!(
        cursor,
        Some(cell(&app, 1, 0)),
        "the cursor starts in the (empty) body of 【宛先】"
    );

    // Type as an IME commits: a string at once.
    key(&mut app, &mut docs, EditKey::Type("日本語です".into()));
    let (buffer, cursor) = draw(&app);
    assert_eq!(
        cursor,
        Some(cell(&app, 1, 10)),
        "five wide chars = 10 cells"
    );
    let row = cell(&app, 1, 0);
    assert_eq!(buffer[(row.x, row.y)].symbol(), "日");
    assert_eq!(buffer[(row.x + 2, row.y)].symbol(), "本");

    // Shift+← twice selects です (drawn reversed), the rest is not.
    motion(&mut app, &mut docs, Motion::Left, true);
    motion(&mut app, &mut docs, Motion::Left, true);
    let (buffer, cursor) = draw(&app);
    assert_eq!(cursor, Some(cell(&app, 1, 6)));
    let reversed = |x: u16| buffer[(x, row.y)].modifier.contains(Modifier::REVERSED);
    assert!(
        reversed(row.x + 6) && reversed(row.x + 8),
        "です is selected"
    );
    assert!(!reversed(row.x + 4) && !reversed(row.x + 10));

    // A bracketed paste (CRLF from the terminal) replaces the selection.
    act(&mut app, &mut docs, Action::Paste("追記\r\n二行目".into()));
    assert!(
        editor_text(&app).starts_with("【宛先】\n日本語追記\n二行目\n【患者情報】"),
        "{}",
        editor_text(&app)
    );
    let (buffer, cursor) = draw(&app);
    assert_eq!(cursor, Some(cell(&app, 2, 6)));
    assert!(screen(&buffer).contains("日本語追記"));

    // Undo takes the paste back (selection replaced as one step).
    key(&mut app, &mut docs, EditKey::Undo);
    assert!(editor_text(&app).starts_with("【宛先】\n日本語です\n【患者情報】"));
    key(&mut app, &mut docs, EditKey::Redo);
    assert!(editor_text(&app).contains("日本語追記\n二行目"));

    // A long line soft-wraps by display width: 78 cells hold 39 wide characters.
    let width = usize::from(draft_inner(&app).width);
    assert_eq!(width, 78);
    motion(&mut app, &mut docs, Motion::LineEnd, false);
    key(&mut app, &mut docs, EditKey::Type("あ".repeat(40)));
    // Row 2 holds 二行目 (3) + 36 あ, row 3 the remaining 4.
    let (_, cursor) = draw(&app);
    assert_eq!(cursor, Some(cell(&app, 3, 8)));

    // Copy / paste within the app, word delete, and the journal has every change.
    key(&mut app, &mut docs, EditKey::SelectAll);
    key(&mut app, &mut docs, EditKey::Copy);
    motion(&mut app, &mut docs, Motion::DocumentEnd, false);
    key(&mut app, &mut docs, EditKey::DeleteWordBackward);
    docs.flush(Duration::from_secs(5)).unwrap();
    let recovered = store::recover(
        &store::DocumentStore::new(&dir.path().join("data")),
        &app.selected_chart().unwrap().id,
        store::DocKind::Referral,
    )
    .unwrap()
    .unwrap();
    let addressee = recovered.state.section("addressee").unwrap();
    assert_eq!(addressee.heading, "宛先");
    assert_eq!(
        addressee.text,
        format!("日本語追記\n二行目{}", "あ".repeat(40))
    );

    // Esc leaves edit mode; keys are commands again, the cursor is no longer drawn.
    key(&mut app, &mut docs, EditKey::Leave);
    assert!(!app.is_editing());
    assert_eq!(draw(&app).1, None);
}

/// 山田's session editing a finished referral draft on the first chart; its id.
fn editing_finished_draft(dir: &Path) -> (DocumentService, App, String) {
    let mut docs = service(dir, "山田");
    let mut app = app();
    finish_referral_draft(&mut app, &mut docs);
    let chart_id = app.selected_chart().unwrap().id.clone();
    act(&mut app, &mut docs, Action::Command(Command::FocusPrev));
    app.focus = Pane::Draft;
    act(&mut app, &mut docs, Action::Command(Command::EditDraft));
    (docs, app, chart_id)
}

/// A finished referral draft (紹介目的 generated, 傷病名 factual) on the first chart.
fn finish_referral_draft(app: &mut App, docs: &mut DocumentService) {
    use karte::tui::DocumentKind;
    use karte::tui::{DraftEvent, SectionStart};
    let chart_id = app.selected_chart().unwrap().id.clone();
    for event in [
        DraftEvent::Started {
            sections: vec![
                SectionStart {
                    title: "紹介目的".into(),
                    text: String::new(),
                    generated: true,
                },
                SectionStart {
                    title: "傷病名".into(),
                    text: "市中肺炎".into(),
                    generated: false,
                },
            ],
        },
        DraftEvent::Text {
            section: 0,
            text: "精査加療のお願い。".into(),
        },
        DraftEvent::SectionDone {
            section: 0,
            text: None,
        },
        DraftEvent::Finished,
    ] {
        act(
            app,
            docs,
            Action::Draft {
                chart_id: chart_id.clone(),
                document: DocumentKind::Referral,
                event,
            },
        );
    }
}

#[test]
fn accept_and_revert_sections_of_a_finished_draft() {
    use karte::tui::DocumentKind;
    let dir = tempfile::tempdir().unwrap();
    let (mut docs, mut app, chart_id) = editing_finished_draft(dir.path());
    assert!(app.is_editing());
    assert_eq!(
        editor_text(&app),
        "【紹介目的】\n精査加療のお願い。\n【傷病名】\n市中肺炎"
    );

    motion(&mut app, &mut docs, Motion::Down, false);
    motion(&mut app, &mut docs, Motion::LineEnd, false);
    let effects = act(
        &mut app,
        &mut docs,
        Action::Edit(EditKey::Type("至急。".into())),
    );
    // (The provenance guard is asked to re-check too: `Effect::CheckGuard`.)
    let edits: Vec<&Effect> = effects
        .iter()
        .filter(|e| matches!(e, Effect::DraftEdited(_)))
        .collect();
    assert!(
        matches!(edits.as_slice(), [Effect::DraftEdited(outcome)] if outcome.inserted_chars == 3),
        "one edit reported for the metrics: {effects:?}"
    );
    key(&mut app, &mut docs, EditKey::Leave);
    act(&mut app, &mut docs, Action::Command(Command::AcceptSection));
    let shown = screen(&draw(&app).0);
    assert!(shown.contains("【紹介目的】 ✓確認済"), "{shown}");

    act(&mut app, &mut docs, Action::Command(Command::RevertSection));
    assert_eq!(
        editor_text(&app),
        "【紹介目的】\n精査加療のお願い。\n【傷病名】\n市中肺炎"
    );
    assert!(
        !screen(&draw(&app).0).contains("✓確認済"),
        "revert clears the review mark"
    );

    // Regenerating needs a drafter that can write one section; without one it says so.
    let effects = act(
        &mut app,
        &mut docs,
        Action::Command(Command::RegenerateSection),
    );
    assert!(
        matches!(effects.as_slice(), [Effect::RegenerateSection { heading, .. }] if heading == "紹介目的")
    );
    act(
        &mut app,
        &mut docs,
        Action::SectionRegenerated {
            chart_id: chart_id.clone(),
            document: DocumentKind::Referral,
            heading: "紹介目的".into(),
            result: Ok("専門的な精査をお願いします。".into()),
        },
    );
    assert_eq!(
        editor_text(&app),
        "【紹介目的】\n専門的な精査をお願いします。\n【傷病名】\n市中肺炎"
    );
    // The regenerated text is the new AI draft: undo goes back, revert returns to it.
    docs.flush(Duration::from_secs(5)).unwrap();
    let recovered = store::recover(
        &store::DocumentStore::new(&dir.path().join("data")),
        &chart_id,
        store::DocKind::Referral,
    )
    .unwrap()
    .unwrap();
    let ai = recovered
        .state
        .ai_sections
        .iter()
        .find(|s| s.key == "purpose")
        .unwrap();
    assert_eq!(ai.text, "専門的な精査をお願いします。");
}

#[test]
fn a_journaled_draft_is_offered_after_restart_and_a_second_session_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut docs = service(dir.path(), "山田");
        let mut app = app();
        act(&mut app, &mut docs, Action::Command(Command::NewDocument));
        key(
            &mut app,
            &mut docs,
            EditKey::Type("東京病院 内科 御侍史".into()),
        );
        // 宛先 is marked accepted; 患者情報 is marked and the mark taken back.
        key(&mut app, &mut docs, EditKey::Leave);
        act(&mut app, &mut docs, Action::Command(Command::AcceptSection));
        act(&mut app, &mut docs, Action::Command(Command::EditDraft));
        motion(&mut app, &mut docs, Motion::NextSection, false);
        key(&mut app, &mut docs, EditKey::Leave);
        act(&mut app, &mut docs, Action::Command(Command::AcceptSection));
        assert!(app
            .status
            .as_deref()
            .unwrap()
            .contains("【患者情報】を確認済み"));
        act(&mut app, &mut docs, Action::Command(Command::AcceptSection));
        docs.flush(Duration::from_secs(5)).unwrap();
        // No signature: the next start finds unsigned changes. (Dropping releases the lock.)
    }
    let mut docs = service(dir.path(), "山田");
    let mut app = app();
    act(&mut app, &mut docs, Action::Command(Command::EditDraft));
    assert!(app.recovery.is_some(), "the journaled draft is offered");
    let shown = screen(&draw(&app).0);
    assert!(shown.contains("下書きの復元") && shown.contains("復元") && shown.contains("破棄"));
    act(&mut app, &mut docs, Action::RecoveryChoice(true));
    assert!(app.is_editing());
    assert!(editor_text(&app).contains("【宛先】\n東京病院 内科 御侍史\n【患者情報】"));
    let reviewed = &app.current_edit().unwrap().reviewed;
    assert_eq!(
        reviewed.iter().collect::<Vec<_>>(),
        ["宛先"],
        "accept marks come back with the draft"
    );

    // Another session (another clinician) opens the same chart: read-only, holder shown.
    let mut other_docs = service(dir.path(), "佐藤");
    let mut other = app_with_selection(&app);
    act(
        &mut other,
        &mut other_docs,
        Action::Command(Command::EditDraft),
    );
    let shown = screen(&draw(&other).0);
    assert!(shown.contains("読み取り専用"), "{shown}");
    assert!(shown.contains("山田"), "the holder is named: {shown}");
    assert!(!other.is_editing());
    let before = other
        .current_edit()
        .and_then(|e| e.editor.as_ref())
        .map(|e| e.text().to_string());
    other.edit_mode = true;
    act(
        &mut other,
        &mut other_docs,
        Action::Edit(EditKey::Type("改ざん".into())),
    );
    let after = other
        .current_edit()
        .and_then(|e| e.editor.as_ref())
        .map(|e| e.text().to_string());
    assert_eq!(before, after, "a read-only document cannot be changed");
    // The holder is alive: no takeover.
    let effects = act(
        &mut other,
        &mut other_docs,
        Action::Command(Command::TakeOverLock),
    );
    assert!(effects.is_empty());
}

fn app_with_selection(like: &App) -> App {
    let mut app = app();
    app.selected = like.selected;
    app
}

#[test]
fn an_unusable_data_dir_keeps_the_draft_in_memory_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // The data dir is a file: nothing can be created below it (fails for root too).
    std::fs::write(dir.path().join("data"), b"not a directory").unwrap();
    let mut docs = service(dir.path(), "山田");
    let mut app = app();
    act(&mut app, &mut docs, Action::Command(Command::NewDocument));
    assert!(app.is_editing(), "editing goes on in memory");
    key(&mut app, &mut docs, EditKey::Type("メモリ上の文章".into()));
    assert!(editor_text(&app).contains("メモリ上の文章"));
    let shown = screen(&draw(&app).0);
    assert!(shown.contains("保存できません"), "{shown}");
    assert!(app
        .journal_problem
        .as_deref()
        .is_some_and(|p| p.contains("data")));
}

#[test]
fn a_damaged_journal_is_recovered_up_to_the_last_good_record_and_reported() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let chart_id;
    {
        let mut docs = service(dir.path(), "山田");
        let mut app = app();
        chart_id = app.selected_chart().unwrap().id.clone();
        act(&mut app, &mut docs, Action::Command(Command::NewDocument));
        key(&mut app, &mut docs, EditKey::Type("残る文章".into()));
        docs.flush(Duration::from_secs(5)).unwrap();
    }
    // Power loss mid-record: a frame header promising more bytes than follow.
    let path = store::DocumentStore::new(&dir.path().join("data"))
        .journal_path(&chart_id, store::DocKind::Referral);
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(&[200, 0, 0, 0, 1, 2, 3, 4, b'{']).unwrap();
    drop(file);

    let mut docs = service(dir.path(), "山田");
    let mut app = app();
    act(&mut app, &mut docs, Action::Command(Command::EditDraft));
    let shown = screen(&draw(&app).0);
    assert!(
        shown.contains("壊れていた") || shown.contains("壊れていま"),
        "the damage is reported: {shown}"
    );
    act(&mut app, &mut docs, Action::RecoveryChoice(true));
    assert!(editor_text(&app).contains("【宛先】\n残る文章"));
}

#[test]
fn a_lock_taken_over_elsewhere_turns_the_editor_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let (mut docs, mut app) = blank_document(dir.path());
    let chart_id = app.selected_chart().unwrap().id.clone();
    // Another session replaces the lock file (as a takeover of a "dead" session does).
    let locks = LockDir::new(dir.path().join("locks"));
    let lock_path = locks.lock_path(&chart_id);
    std::fs::remove_file(&lock_path).unwrap();
    let mut other = service(dir.path(), "佐藤");
    let _held = other.open(&chart_id, karte::tui::DocumentKind::Referral);
    let (id, document, opened) = docs.lock_taken_over().expect("the loss is noticed");
    assert!(docs.lock_taken_over().is_none(), "reported once");
    act(
        &mut app,
        &mut docs,
        Action::DocumentOpened {
            chart_id: id,
            document,
            opened,
        },
    );
    let shown = screen(&draw(&app).0);
    assert!(
        shown.contains("読み取り専用") && shown.contains("佐藤"),
        "{shown}"
    );
    let before = editor_text(&app);
    app.edit_mode = true;
    key(&mut app, &mut docs, EditKey::Type("書けない".into()));
    assert_eq!(editor_text(&app), before);
}

/// Esc then q arriving in one read (a slow SSH link) reaches crossterm as alt+q: it must
/// still leave edit mode and quit, not be swallowed as an unknown key.
#[test]
fn esc_and_a_key_coalesced_into_alt_key_leave_edit_mode_then_run_the_key() {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    use karte::tui::translate;
    let dir = tempfile::tempdir().unwrap();
    let (mut docs, mut app) = blank_document(dir.path());
    let alt = |c| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::ALT));

    let actions = translate(&app, alt('q'));
    assert!(
        matches!(
            actions.as_slice(),
            [Action::Edit(EditKey::Leave), Action::Command(Command::Quit)]
        ),
        "{actions:?}"
    );
    let mut effects = Vec::new();
    for action in actions {
        effects.extend(act(&mut app, &mut docs, action));
    }
    assert!(!app.is_editing(), "edit mode left");
    assert!(effects.contains(&Effect::Quit), "{effects:?}");

    // Plain letters while editing are still text; ctrl keys are still edit commands.
    act(&mut app, &mut docs, Action::Command(Command::EditDraft));
    assert!(app.is_editing());
    let plain = translate(
        &app,
        Event::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)),
    );
    assert!(
        matches!(plain.as_slice(), [Action::Edit(EditKey::Type(t))] if t == "q"),
        "{plain:?}"
    );
    // alt with a key that is no command only leaves edit mode.
    let unbound = translate(&app, alt('Z'));
    assert!(
        matches!(unbound.as_slice(), [Action::Edit(EditKey::Leave)]),
        "{unbound:?}"
    );
}

/// Outside edit mode the same coalescing gives esc's command, then the key's.
#[test]
fn esc_and_a_key_coalesced_outside_edit_mode_run_both_commands() {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    use karte::tui::translate;
    let app = app();
    assert!(!app.is_editing());
    let actions = translate(
        &app,
        Event::Key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::ALT)),
    );
    assert!(
        matches!(
            actions.as_slice(),
            [
                Action::Command(Command::Back),
                Action::Command(Command::MoveDown)
            ]
        ),
        "{actions:?}"
    );
    // ctrl+alt is no coalesced esc: nothing.
    let none = translate(
        &app,
        Event::Key(KeyEvent::new(
            KeyCode::Char('j'),
            KeyModifiers::ALT | KeyModifiers::CONTROL,
        )),
    );
    assert!(none.is_empty(), "{none:?}");
}

/// `R`: the model's new text replaces the section; the metrics see a regeneration and the
/// wait for it, not an edit by the clinician.
#[test]
fn a_regenerated_section_is_the_models_text_not_an_edit() {
    use karte::metrics::EventKind;
    use karte::tui::DocumentKind;
    use karte::tui::{events_for, BeforeAction, EventTarget, HookState};
    let dir = tempfile::tempdir().unwrap();
    let (mut docs, mut app, chart_id) = editing_finished_draft(dir.path());
    motion(&mut app, &mut docs, Motion::Down, false);
    key(&mut app, &mut docs, EditKey::Leave);

    let mut state = HookState::default();
    let mut step = |app: &mut App, docs: &mut DocumentService, action: Action| {
        let before = BeforeAction::of(app, &action);
        let effects = act(app, docs, action);
        (
            effects.clone(),
            events_for(&before, app, &effects, &mut state),
        )
    };
    let referral = EventTarget::Document(chart_id.clone(), DocumentKind::Referral);
    // The first key this session opens the document for the metrics.
    let (_, events) = step(
        &mut app,
        &mut docs,
        Action::Command(Command::ToggleHighlights),
    );
    assert_eq!(events[0], (referral.clone(), EventKind::OpenChart));
    let (effects, events) = step(
        &mut app,
        &mut docs,
        Action::Command(Command::RegenerateSection),
    );
    assert!(
        effects.iter().any(
            |e| matches!(e, Effect::RegenerateSection { heading, .. } if heading == "紹介目的")
        ),
        "{effects:?}"
    );
    assert_eq!(
        events,
        vec![
            (referral.clone(), EventKind::Regenerate),
            (referral.clone(), EventKind::ModelWaitStart),
        ]
    );
    let (effects, events) = step(
        &mut app,
        &mut docs,
        Action::SectionRegenerated {
            chart_id: chart_id.clone(),
            document: DocumentKind::Referral,
            heading: "紹介目的".into(),
            result: Ok("貴院での精査をお願いします。".into()),
        },
    );
    assert!(editor_text(&app).contains("貴院での精査をお願いします。"));
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::DraftEdited(_))),
        "{effects:?}"
    );
    assert_eq!(events, vec![(referral, EventKind::ModelWaitEnd)]);
}
