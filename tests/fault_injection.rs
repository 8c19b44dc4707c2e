//! Faults under a clinician's feet, each ending in a clear Japanese message on screen and
//! nothing lost:
//! - the data dir on a full filesystem (a 256 KiB tmpfs; skipped, saying why, where the
//!   machine does not allow mounting);
//! - the data dir made read-only mid-session (a read-only bind mount over it; for a
//!   non-root user, its mode);
//! - the journal's directory removed mid-session;
//! - the metrics DB locked by another process;
//! - SIGKILL at every step of signing and of exporting (`KARTE_FAULT_KILL_AT`): the signed
//!   version is complete and verified or absent, no export is partial, no temp file stays;
//! - two processes of the same user on one chart: the second is read-only, the first keeps
//!   every character.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::metrics::{DocumentRef, EventKind, Recorder, RecorderOptions};
use karte::store::{self, DocKind, DocumentSession, LockDir, Opened, SessionContext, SignedStore};
use karte::tui::action::{Action, Effect};
use karte::tui::review::{self as review_service, ExportFormat};
use karte::tui::update;
use karte::tui::App;
use karte::tui::Command;
use karte::tui::DocumentService;
use karte::tui::EditKey;
use karte::tui::ModelState;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::time::{Duration, Instant};

mod tui_support;

fn context(data_dir: &Path, locks: &Path) -> SessionContext {
    SessionContext {
        data_dir: data_dir.to_path_buf(),
        locks: LockDir::new(locks),
        user: "山田".into(),
        session_id: store::new_session_id(),
    }
}

/// `update` with the storage effects carried out as the event loop does (a refusing journal
/// reported, not a test failure), signing included.
fn act(app: &mut App, docs: &mut DocumentService, action: Action) {
    let mut queue = vec![action];
    while let Some(action) = queue.pop() {
        for effect in tui_support::act_reporting(app, docs, action) {
            if let Effect::Sign {
                chart,
                document,
                sections,
                acknowledged,
            } = effect
            {
                queue.push(review_service::sign(
                    Some(docs),
                    &chart,
                    document,
                    &sections,
                    acknowledged,
                ));
            }
        }
    }
}

/// A session on the first demo chart with a blank letter holding `text`, saved to the
/// journal: what every fault below must not lose.
fn typed_and_saved(data: &Path, locks: &Path, text: &str) -> (App, DocumentService, String) {
    let mut docs = DocumentService::new(context(data, locks));
    let mut app = tui_support::app(100, 30, ModelState::Missing);
    let chart_id = app.selected_chart().unwrap().id.clone();
    act(&mut app, &mut docs, Action::Command(Command::NewDocument));
    act(
        &mut app,
        &mut docs,
        Action::Edit(EditKey::Type(text.into())),
    );
    docs.flush(Duration::from_secs(5)).unwrap();
    (app, docs, chart_id)
}

/// The journal's health as the event loop reports it, until `done` or `limit`.
fn poll_health(
    app: &mut App,
    docs: &mut DocumentService,
    limit: Duration,
    done: impl Fn(&App) -> bool,
) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(health) = docs.tick() {
            act(app, docs, Action::JournalHealth(health));
        }
        if done(app) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn editor_text(app: &App) -> String {
    app.current_edit()
        .and_then(|e| e.editor.as_ref())
        .map(|e| e.text().to_string())
        .unwrap_or_default()
}

fn status_line(app: &App) -> String {
    let buffer = tui_support::draw(app);
    tui_support::screen(&buffer)
}

fn journal_text(data_dir: &Path, chart_id: &str) -> String {
    store::recover(
        &store::DocumentStore::new(data_dir),
        chart_id,
        DocKind::Referral,
    )
    .unwrap()
    .and_then(|r| r.state.text)
    .unwrap_or_default()
}

/// A tmpfs of `size` at `dir`, unmounted on drop; `Err` says why it cannot be had here.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Self, String> {
        std::fs::create_dir_all(dir).unwrap();
        let out = Process::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Tmpfs(dir.to_path_buf()))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Process::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_reported_and_nothing_is_lost_once_space_is_freed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _tmpfs = match Tmpfs::mount(&data, "256k") {
        Ok(t) => t,
        Err(why) => {
            println!("SKIPPED: a full filesystem needs a size-limited tmpfs, and mounting is not permitted here: {why}");
            return;
        }
    };
    let (mut app, mut docs, chart_id) =
        typed_and_saved(&data, &dir.path().join("locks"), "満杯前の文章");
    // Fill the disk.
    let filler = data.join("filler");
    let _ = std::fs::write(&filler, vec![0u8; 512 * 1024]);
    for i in 0..40 {
        act(
            &mut app,
            &mut docs,
            Action::Edit(EditKey::Type(format!("満杯中の入力{i}。").repeat(20))),
        );
    }
    assert!(
        poll_health(&mut app, &mut docs, Duration::from_secs(10), |a| a
            .journal_problem
            .is_some()),
        "the full disk is reported"
    );
    let shown = status_line(&app);
    assert!(
        shown.contains("保存できません") && shown.contains("ディスクがいっぱい"),
        "{shown}"
    );
    // Space is freed: the draft kept in memory is saved, every character.
    std::fs::remove_file(&filler).unwrap();
    assert!(
        poll_health(&mut app, &mut docs, Duration::from_secs(10), |a| a
            .journal_problem
            .is_none()),
        "saving works again"
    );
    docs.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(journal_text(&data, &chart_id), editor_text(&app));
}

#[test]
fn a_data_dir_made_read_only_mid_session_refuses_signing_clearly_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let (mut app, mut docs, chart_id) =
        typed_and_saved(&data, &dir.path().join("locks"), "読み取り専用前");

    // Read-only from now on: a read-only bind mount over the data dir (root), or its mode.
    let read_only = match ReadOnly::make(&data) {
        Ok(read_only) => read_only,
        Err(why) => {
            println!("SKIPPED: root can make the data dir read-only only with a read-only bind mount, and mounting is not permitted here: {why}");
            return;
        }
    };
    act(
        &mut app,
        &mut docs,
        Action::Edit(EditKey::Type("、その後".into())),
    );
    let chart = app.selected_chart().unwrap().clone();
    let sections = app.current_edit().unwrap().section_texts();
    let answer = review_service::sign(Some(&docs), &chart, DocKind::Referral, &sections, vec![]);
    act(&mut app, &mut docs, answer);
    let shown = status_line(&app);
    assert!(
        shown.contains("署名できませんでした") && shown.contains("読み取り専用"),
        "{shown}"
    );
    assert!(
        SignedStore::new(&data)
            .load_latest(&chart_id, DocKind::Referral)
            .unwrap()
            .is_none(),
        "nothing half-signed"
    );
    // Writable again: every character is saved and signing works.
    drop(read_only);
    act(
        &mut app,
        &mut docs,
        Action::Edit(EditKey::Type("。".into())),
    );
    docs.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(journal_text(&data, &chart_id), editor_text(&app));
    let sections = app.current_edit().unwrap().section_texts();
    let answer = review_service::sign(Some(&docs), &chart, DocKind::Referral, &sections, vec![]);
    assert!(
        matches!(answer, Action::Signed { result: Ok(_), .. }),
        "{answer:?}"
    );
}

/// The data dir read-only until dropped.
enum ReadOnly {
    Mount(PathBuf),
    Mode(PathBuf),
}

impl ReadOnly {
    /// `Err` says why the data dir cannot be made read-only here (root without the right
    /// to mount: modes do not stop root).
    fn make(dir: &Path) -> Result<Self, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            set_mode_recursive(dir, true);
            return Ok(ReadOnly::Mode(dir.to_path_buf()));
        }
        let run = |args: &[&str]| {
            Process::new("mount")
                .args(args)
                .arg(dir)
                .arg(dir)
                .output()
                .map_err(|e| e.to_string())
                .and_then(|out| {
                    if out.status.success() {
                        Ok(())
                    } else {
                        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
                    }
                })
        };
        run(&["--bind"])?;
        let made = ReadOnly::Mount(dir.to_path_buf());
        Process::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(dir)
            .output()
            .map_err(|e| e.to_string())
            .and_then(|out| {
                if out.status.success() {
                    Ok(made)
                } else {
                    Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
                }
            })
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        match self {
            ReadOnly::Mount(dir) => {
                let _ = Process::new("umount").arg(&*dir).status();
            }
            ReadOnly::Mode(dir) => set_mode_recursive(dir, false),
        }
    }
}

fn set_mode_recursive(dir: &Path, read_only: bool) {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        if entry.path().is_dir() {
            set_mode_recursive(&entry.path(), read_only);
        }
    }
    let mode = if read_only { 0o500 } else { 0o700 };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn the_journal_directory_removed_mid_session_is_written_again_whole() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut app, mut docs, chart_id) =
        typed_and_saved(&data, &dir.path().join("locks"), "消される前の文章");
    std::fs::remove_dir_all(data.join("documents")).unwrap();
    act(
        &mut app,
        &mut docs,
        Action::Edit(EditKey::Type("、消された後の文章".into())),
    );
    docs.flush(Duration::from_secs(5)).unwrap();
    let text = journal_text(&data, &chart_id);
    assert!(
        text.contains("消される前の文章、消された後の文章"),
        "{text}"
    );
    assert_eq!(text, editor_text(&app));
}

/// The child processes of these tests: the test binary run again with
/// `KARTE_FAULT_CHILD=<role>`. Without the variable this test does nothing.
#[test]
fn child_process_entry() {
    let Ok(role) = std::env::var("KARTE_FAULT_CHILD") else {
        return;
    };
    let dir = PathBuf::from(std::env::var("KARTE_FAULT_DIR").unwrap());
    match role.as_str() {
        "hold-metrics-lock" => {
            let db = rusqlite::Connection::open(dir.join("metrics.sqlite3")).unwrap();
            db.execute_batch("BEGIN EXCLUSIVE").unwrap();
            std::fs::write(dir.join("locked"), b"").unwrap();
            while !dir.join("release").exists() {
                std::thread::sleep(Duration::from_millis(20));
            }
            db.execute_batch("COMMIT").unwrap();
        }
        "sign-and-export" => sign_and_export(&dir),
        other => panic!("unknown child role {other}"),
    }
}

fn child(role: &str, dir: &Path, kill_at: Option<&str>) -> std::process::Child {
    let mut command = Process::new(std::env::current_exe().unwrap());
    command
        .args([
            "child_process_entry",
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("KARTE_FAULT_CHILD", role)
        .env("KARTE_FAULT_DIR", dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(point) = kill_at {
        command.env("KARTE_FAULT_KILL_AT", point);
    }
    command.spawn().unwrap()
}

#[test]
fn a_metrics_db_locked_by_another_process_is_reported_and_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("metrics.sqlite3");
    let recorder = Recorder::start(RecorderOptions {
        db_path: db.clone(),
        clinician: "yamada".into(),
        buffer_capacity: 10_000,
        retry_interval: Duration::from_millis(50),
    });
    let document = DocumentRef::new("chart-1", "referral_letter", 1);
    recorder.record(&document, EventKind::OpenChart);
    assert!(recorder.flush(Duration::from_secs(10)));
    let mut holder = child("hold-metrics-lock", dir.path(), None);
    let start = Instant::now();
    while !dir.path().join("locked").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the other process locks the DB"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for _ in 0..20 {
        recorder.record(&document, EventKind::OpenChart);
    }
    assert!(!recorder.flush(Duration::from_secs(3)));
    let warning = recorder.health().warning().expect("a warning");
    // On screen, in Japanese, with the buffered count.
    let mut app = tui_support::app(120, 30, ModelState::Missing);
    update(&mut app, Action::MetricsHealth(Some(warning)));
    let shown = status_line(&app);
    assert!(shown.contains("計測データ"), "{shown}");
    std::fs::write(dir.path().join("release"), b"").unwrap();
    assert!(holder.wait().unwrap().success());
    let start = Instant::now();
    while !recorder.flush(Duration::from_secs(2)) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "written once released"
        );
    }
    drop(recorder);
    let count: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert!(count >= 21, "every event written: {count}");
}

const SIGNED_TEXT: &str = "署名される本文。ご高診のほどよろしくお願い申し上げます。";

/// The child: opens the document, journals, signs, exports text and FHIR.
fn sign_and_export(dir: &Path) {
    let chart =
        karte::chart::load(&tui_support::demo_dir().join("01-naika-pneumonia.json")).unwrap();
    let context = context(&dir.join("data"), &dir.join("locks"));
    let Ok(Opened::Editing { session, .. }) =
        DocumentSession::open(&context, &chart.id, DocKind::Referral)
    else {
        panic!("cannot open for editing");
    };
    let sections = vec![store::SectionText::new("purpose", "紹介目的", SIGNED_TEXT)];
    session
        .document_edited(format!("【紹介目的】\n{SIGNED_TEXT}"), sections.clone())
        .unwrap();
    let signed = session
        .sign(
            "診療情報提供書",
            &sections,
            Some(store::chart_fingerprint(&chart)),
            vec![],
        )
        .unwrap();
    for format in [ExportFormat::Text, ExportFormat::Fhir] {
        review_service::export_signed(&dir.join("data"), &signed, &chart, format, &hospital())
            .unwrap();
    }
}

#[test]
fn sigkill_at_every_step_of_signing_and_exporting_leaves_no_partial_file() {
    let chart =
        karte::chart::load(&tui_support::demo_dir().join("01-naika-pneumonia.json")).unwrap();
    for point in karte::fault::POINTS {
        let dir = tempfile::tempdir().unwrap();
        let status = child("sign-and-export", dir.path(), Some(point))
            .wait()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(libc::SIGKILL),
            "{point}: the child died there"
        );
        let data = dir.path().join("data");
        // The signed version: complete and verified, or absent.
        let signed = SignedStore::new(&data)
            .load_latest(&chart.id, DocKind::Referral)
            .unwrap_or_else(|e| panic!("{point}: a damaged signed version: {e}"));
        if let Some(signed) = &signed {
            assert_eq!(signed.sections[0].text, SIGNED_TEXT, "{point}");
        }
        // Exports: absent or whole.
        let exports = review_service::exports_dir(&data);
        for entry in std::fs::read_dir(&exports)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue; // a temp file: checked below, after the next run
            }
            let signed = signed.as_ref().expect("an export only of a signed version");
            let format = if name.ends_with(".json") {
                ExportFormat::Fhir
            } else {
                ExportFormat::Text
            };
            let bytes = std::fs::read(entry.path()).unwrap();
            let expected = expected_export(signed, &chart, format);
            assert_eq!(bytes, expected, "{point}: {name} is whole");
        }
        // The journal still holds the text.
        let text = journal_text(&data, &chart.id);
        assert!(text.contains(SIGNED_TEXT), "{point}: journal {text:?}");
        // The next run (the lock of the dead process is stale: take it over) signs and
        // exports, and no temp file of the killed one is left anywhere.
        let context = context(&data, &dir.path().join("locks"));
        let session = match DocumentSession::open(&context, &chart.id, DocKind::Referral).unwrap() {
            Opened::Editing { session, .. } => session,
            Opened::ReadOnly { session, held } => {
                assert!(held.stale, "{point}: the dead process's lock is stale");
                match session.take_over().unwrap() {
                    Opened::Editing { session, .. } => session,
                    Opened::ReadOnly { .. } => panic!("{point}: cannot take over"),
                }
            }
        };
        let sections = vec![store::SectionText::new("purpose", "紹介目的", SIGNED_TEXT)];
        let again = session
            .sign("診療情報提供書", &sections, None, vec![])
            .unwrap();
        for format in [ExportFormat::Text, ExportFormat::Fhir] {
            review_service::export_signed(&data, &again, &chart, format, &hospital()).unwrap();
        }
        assert_no_temp_files(&data, point);
    }
}

fn expected_export(
    signed: &store::SignedDocument,
    chart: &karte::chart::Chart,
    format: ExportFormat,
) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) =
        review_service::export_signed(dir.path(), signed, chart, format, &hospital()).unwrap();
    std::fs::read(path).unwrap()
}

fn assert_no_temp_files(dir: &Path, point: &str) {
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            assert_no_temp_files(&path, point);
        } else {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(
                !name.contains(".tmp"),
                "{point}: {} is left",
                path.display()
            );
        }
    }
}

#[test]
fn two_processes_of_one_user_on_one_chart_the_second_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let locks = dir.path().join("locks");
    let mut first_docs = DocumentService::new(context(&data, &locks));
    let mut first = tui_support::app(100, 30, ModelState::Missing);
    let chart_id = first.selected_chart().unwrap().id.clone();
    act(
        &mut first,
        &mut first_docs,
        Action::Command(Command::NewDocument),
    );
    act(
        &mut first,
        &mut first_docs,
        Action::Edit(EditKey::Type("一つ目の端末".into())),
    );
    first_docs.flush(Duration::from_secs(5)).unwrap();

    // The same user, a second karte (another SSH login): another session id.
    let mut second_docs = DocumentService::new(context(&data, &locks));
    let mut second = tui_support::app(100, 30, ModelState::Missing);
    act(
        &mut second,
        &mut second_docs,
        Action::Command(Command::EditDraft),
    );
    let shown = status_line(&second);
    assert!(shown.contains("読み取り専用"), "{shown}");
    second.edit_mode = true;
    act(
        &mut second,
        &mut second_docs,
        Action::Edit(EditKey::Type("二つ目".into())),
    );
    assert!(
        !editor_text(&second).contains("二つ目"),
        "the second cannot change it"
    );
    act(
        &mut first,
        &mut first_docs,
        Action::Edit(EditKey::Type("、続き".into())),
    );
    first_docs.flush(Duration::from_secs(5)).unwrap();
    assert_eq!(journal_text(&data, &chart_id), editor_text(&first));
    assert!(journal_text(&data, &chart_id).contains("一つ目の端末、続き"));
}

/// The hospital settings the FHIR export needs (fictional).
fn hospital() -> karte::export::HospitalConfig {
    karte::export::HospitalConfig {
        name: Some("さくら総合病院".into()),
        code: Some("1311234567".into()),
        postal_code: Some("100-0001".into()),
        address: Some("東京都千代田区千代田1-1".into()),
        phone: Some("03-0000-0000".into()),
        departments: Default::default(),
    }
}
