//! End to end: the real `karte` binary in a real terminal (tmux), driven by keystrokes.
//! It moves through the queue, opens the help, resizes, sees a new file appear, quits — and
//! the terminal must be restored afterwards (alternate screen left, raw mode off), also when
//! the process is ended by SIGTERM or SIGHUP.
//!
//! Each test runs its own tmux server (`-L` with a unique socket name) and kills only that.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

mod e2e_support;

use e2e_support::{default_model, patient_names, Karte, Tmux};
use std::path::{Path, PathBuf};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);
const SESSION: &str = "e2e";

/// Starts karte (`KARTE_HOME` the temp home, no dictionary) on a copy of the demo queue in a
/// detached 100x30 tmux session; the wrapper prints karte's pid before and a marker, the exit
/// status and the tty modes after.
fn start(name: &str, model: &Path) -> Tmux {
    let tmux = Tmux::with_demo_copy(&format!("e2e-{name}"), WAIT);
    tmux.start(
        SESSION,
        &Karte {
            home: tmux.home.path(),
            queue: &tmux.queue,
            model,
            size: (100, 30),
            tty_modes: true,
        },
    );
    tmux
}

#[test]
fn browse_help_resize_new_file_and_quit_restore_the_terminal() {
    let tmux = start("browse", &default_model());
    let names = patient_names(&tmux.queue);
    assert!(names.len() >= 3);
    tmux.wait_for(SESSION, "the queue", |s| {
        s.contains("キュー") && s.contains(&names[0])
    });
    assert!(
        tmux.alternate_screen_on(SESSION),
        "full-screen mode while running"
    );

    // Two rows down: the chart pane shows the third patient's header.
    tmux.keys(SESSION, &["j", "j"]);
    tmux.wait_for(SESSION, "the third chart", |s| {
        s.lines().any(|l| l.contains(&names[2]) && l.contains("ID"))
    });
    tmux.keys(SESSION, &["2"]);
    tmux.wait_for(SESSION, "the labs tab", |s| s.contains("基準値"));

    // The Metrics screen (no signed documents yet: it says so) and back.
    tmux.keys(SESSION, &["m"]);
    tmux.wait_for(SESSION, "the metrics screen", |s| {
        s.contains("Metrics") && !s.contains("キュー")
    });
    tmux.keys(SESSION, &["m"]);
    tmux.wait_for(SESSION, "the queue again", |s| s.contains("キュー"));

    tmux.keys(SESSION, &["?"]);
    tmux.wait_for(SESSION, "the help", |s| {
        s.contains("キー操作") && s.contains("このヘルプを開く/閉じる")
    });
    tmux.keys(SESSION, &["Escape"]);
    tmux.wait_for(SESSION, "the help to close", |s| !s.contains("キー操作"));

    let resized = tmux.run(&["resize-window", "-t", SESSION, "-x", "200", "-y", "50"]);
    assert!(resized.status.success());
    tmux.wait_for(SESSION, "three columns", |s| {
        s.lines().next().is_some_and(|top| {
            top.contains("キュー") && top.contains("カルテ") && top.contains("下書き")
        })
    });
    // The engine loads the real model in the background; the draft pane reports it.
    tmux.wait_for(SESSION, "the model to load", |s| {
        s.contains("モデル準備完了")
    });
    tmux.run(&["resize-window", "-t", SESSION, "-x", "80", "-y", "24"]);
    tmux.wait_for(SESSION, "stacked panes at 80x24", |s| {
        s.lines().count() <= 24
            && s.lines()
                .next()
                .is_some_and(|top| top.contains("キュー") && !top.contains("カルテ"))
    });

    // A chart dropped into the directory shows up without a restart; a broken one as an error.
    let mut files: Vec<PathBuf> = std::fs::read_dir(&tmux.queue)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let renamed = text.replacen(&names[0], "新規 花子", 1);
    std::fs::write(tmux.queue.join("00-new.json"), renamed).unwrap();
    std::fs::write(tmux.queue.join("00-broken.json"), "{ not json").unwrap();
    tmux.wait_for(SESSION, "the new chart", |s| s.contains("新規 花子"));
    tmux.wait_for(SESSION, "the broken file's error row", |s| {
        s.contains("読込エラー 00-broken.json")
    });

    tmux.keys(SESSION, &["q"]);
    tmux.assert_restored(SESSION, 0);
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for (name, signal, rc) in [
        ("term", libc::SIGTERM, 128 + 15),
        ("hup", libc::SIGHUP, 128 + 1),
    ] {
        // A model path that does not exist: the screen says so and keeps running.
        let tmux = start(name, Path::new("/nonexistent/model.gguf"));
        tmux.wait_for(SESSION, "the queue", |s| {
            s.contains("キュー") && s.contains("未着手")
        });
        let pid = tmux.karte_pid(SESSION);
        // SAFETY: kill(2) on the pid of the karte process this test started.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        tmux.assert_restored(SESSION, rc);
    }
}
