//! End to end: the real `karte` binary in tmux with a time study configured. The clinician
//! opens a chart, moves to the draft and tries to generate; then the SSH connection drops
//! (SIGHUP). The metrics DB in the data dir must hold the session's events up to the
//! disconnect, and the status bar must have shown the document's arm.
//!
//! The test runs its own tmux server (`-L` with a unique socket name) and kills only that.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

mod e2e_support;
mod metrics_common;

use e2e_support::{Karte, Tmux, EXIT_MARKER};
use karte::metrics::{EventKind, FocusTarget};
use karte::paths::AppPaths;
use metrics_common::event_counts;
use std::path::Path;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);
const SESSION: &str = "e2e";

/// Starts karte on the demo queue with `KARTE_HOME` the tmux's temp home in a detached 120x30
/// tmux session; returns karte's pid once the queue is on screen.
fn launch(tmux: &Tmux, model: &Path) -> i32 {
    tmux.start(
        SESSION,
        &Karte {
            home: tmux.home.path(),
            queue: &tmux.queue,
            model,
            size: (120, 30),
            tty_modes: false,
        },
    );
    tmux.wait_for(SESSION, "the queue", |s| {
        s.contains("キュー") && s.contains("未着手")
    });
    tmux.karte_pid(SESSION)
}

#[test]
fn a_hang_up_records_the_session_up_to_the_disconnect() {
    let tmux = Tmux::empty("metrics-hangup", WAIT);
    let paths = AppPaths::under(tmux.home.path());
    std::fs::create_dir_all(&paths.config_dir).unwrap();
    std::fs::write(
        paths.config_file(),
        "[study]\nname = \"e2e\"\narms = [\"manual\", \"assisted\"]\nseed = 3\n",
    )
    .unwrap();
    let pid = launch(&tmux, Path::new("/nonexistent/model.gguf"));
    tmux.keys(SESSION, &["Enter"]);
    let screen = tmux.wait_for(SESSION, "the study arm in the status bar", |s| {
        s.contains("試験: manual") || s.contains("試験: assisted")
    });
    let manual = screen.contains("試験: manual");
    tmux.keys(SESSION, &["j", "j", "Tab"]);
    // Background messages (e.g. that highlights are off without a dictionary) may replace
    // the answer in the status bar: ask again until it shows.
    let answered = |s: &str| {
        if manual {
            s.contains("下書き生成は使えません")
        } else {
            // No model file: generation is refused with the model's state.
            s.contains("karte setup")
        }
    };
    let start = Instant::now();
    loop {
        tmux.keys(SESSION, &["d"]);
        std::thread::sleep(Duration::from_millis(300));
        if answered(&tmux.screen(SESSION)) {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "no answer to d:\n{}",
            tmux.screen(SESSION)
        );
    }
    // SAFETY: kill(2) on the pid of the karte process this test started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    tmux.wait_for(SESSION, "karte to exit", |s| s.contains(EXIT_MARKER));

    let count = event_counts(&paths);
    assert_eq!(count(EventKind::OpenChart), 1);
    assert_eq!(count(EventKind::Focus(FocusTarget::Chart)), 2, "j j");
    assert!(count(EventKind::Focus(FocusTarget::Draft)) >= 1, "tab, d");
    assert_eq!(count(EventKind::Generate), 0, "generation was refused");
    assert_eq!(count(EventKind::Disconnect), 1);
    assert_eq!(count(EventKind::Quit), 0);
    let db = rusqlite::Connection::open(karte::metrics::db_path(&paths)).unwrap();
    let arm: String = db
        .query_row("SELECT arm FROM documents", [], |row| row.get(0))
        .unwrap();
    assert_eq!(arm, if manual { "manual" } else { "assisted" });
}

/// With the real default model: a generation is recorded with its wait for the model, and
/// quitting with the key records a quit (no disconnect).
#[test]
fn a_real_generation_records_the_wait_for_the_model() {
    let model = AppPaths::discover()
        .unwrap()
        .models_dir()
        .join("gemma-3-270m-q4_k_m.gguf");
    assert!(
        model.is_file(),
        "{} missing: run `karte setup`",
        model.display()
    );
    let tmux = Tmux::empty("metrics-generation", WAIT);
    let paths = AppPaths::under(tmux.home.path());
    let _pid = launch(&tmux, &model);
    tmux.keys(SESSION, &["Enter"]);
    tmux.wait_for(SESSION, "the model", |s| s.contains("モデル準備完了"));
    tmux.keys(SESSION, &["d"]);
    let start = Instant::now();
    loop {
        let screen = tmux.screen(SESSION);
        // The draft's end: its footer or the status message (a later key may clear that).
        if screen.contains("下書きができました") || screen.contains("生成完了") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(400),
            "no finished draft:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    tmux.keys(SESSION, &["q"]);
    tmux.wait_for(SESSION, "karte to exit", |s| s.contains(EXIT_MARKER));

    let count = event_counts(&paths);
    assert_eq!(count(EventKind::OpenChart), 1);
    assert_eq!(count(EventKind::Generate), 1);
    assert_eq!(count(EventKind::ModelWaitStart), 1);
    assert_eq!(count(EventKind::ModelWaitEnd), 1);
    assert_eq!(count(EventKind::Quit), 1);
    assert_eq!(count(EventKind::Disconnect), 0);
}
