//! Two karte processes contend for one chart: the second sees who holds the lock and since
//! when, and gets the document read-only (the holder's journaled text, unchangeable); once
//! the holder quits, opening again gives the second process the lock and edit mode.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

mod e2e_support;

use e2e_support::{first_patient, Tmux, EXIT_MARKER};
use std::time::Duration;

#[test]
fn a_second_process_sees_the_holder_and_opens_read_only() {
    let tmux = Tmux::new("lock");
    let patient = first_patient(&tmux.queue);
    tmux.start_karte("holder");
    tmux.wait_for("holder", "the queue", |s| s.contains(&patient));
    tmux.keys("holder", &["n"]);
    tmux.wait_for("holder", "the blank document", |s| s.contains("【宛先】"));
    tmux.type_text("holder", "保持者の文章");
    tmux.wait_for("holder", "the typed text", |s| s.contains("保持者の文章"));
    std::thread::sleep(Duration::from_millis(1200));
    let holder_pid = tmux.karte_pid("holder");

    tmux.start_karte("reader");
    tmux.wait_for("reader", "the queue", |s| s.contains(&patient));
    tmux.keys("reader", &["i"]);
    let screen = tmux.wait_for("reader", "the read-only banner", |s| {
        s.contains("読み取り専用")
    });
    let joined: String = screen.lines().map(str::trim_end).collect();
    assert!(
        joined.contains(&format!("pid {holder_pid}")) && joined.contains("since"),
        "who holds the lock and since when:\n{screen}"
    );
    assert!(
        screen.contains("保持者の文章"),
        "the holder's text, read-only:\n{screen}"
    );
    assert!(!screen.contains("編集終了"), "not in edit mode:\n{screen}");

    // The holder leaves (esc, q): its lock is released; opening again now edits. Sent in one
    // write, as a slow SSH link delivers them, so karte reads them as alt+q.
    tmux.keys("holder", &["Escape", "q"]);
    tmux.wait_for("holder", "the holder to quit", |s| {
        s.contains(&format!("{EXIT_MARKER} rc=0"))
    });
    tmux.keys("reader", &["i"]);
    tmux.wait_for("reader", "edit mode", |s| s.contains("編集終了"));
    tmux.keys("reader", &["Down", "End"]);
    tmux.type_text("reader", "追記");
    tmux.wait_for("reader", "the reader's edit", |s| {
        s.contains("保持者の文章追記")
    });
}
