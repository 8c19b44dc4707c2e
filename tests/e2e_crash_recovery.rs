//! Crash recovery with the real binary: type Japanese text into a document in tmux, wait a
//! little over the journal's 1 s save limit, `kill -9` karte, start it again, open the same
//! document, take over the lock the dead session left, accept recovery (復元): the text is
//! there.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

mod e2e_support;

use e2e_support::{first_patient, Tmux};
use std::time::Duration;

const TYPED: &str = "東京都立病院 内科 御侍史。発熱と咳嗽が続いています";

#[test]
fn typed_text_survives_kill_9_and_is_recovered() {
    let tmux = Tmux::new("crash");
    let patient = first_patient(&tmux.queue);
    tmux.start_karte("first");
    tmux.wait_for("first", "the queue", |s| s.contains(&patient));

    // A blank referral letter: it opens in edit mode in the body of its first section.
    tmux.keys("first", &["n"]);
    tmux.wait_for("first", "the blank document", |s| {
        s.contains("【宛先】") && s.contains("編集終了")
    });
    tmux.type_text("first", TYPED);
    tmux.wait_for("first", "the typed text", |s| {
        s.contains("発熱と咳嗽が続いています")
    });
    // The journal saves when typing pauses and at least once a second.
    std::thread::sleep(Duration::from_millis(1500));

    let pid = tmux.karte_pid("first");
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is the karte started above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    // The terminal is left as the dead process had it (raw, alternate screen), so wait for
    // the pid to be gone rather than for the wrapper's marker.
    let start = std::time::Instant::now();
    // SAFETY: as above; signal 0 only checks that the process exists.
    while unsafe { libc::kill(pid, 0) } == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "karte survived kill -9"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    tmux.start_karte("second");
    tmux.wait_for("second", "the queue again", |s| s.contains(&patient));
    tmux.keys("second", &["i"]);
    // The dead session's lock is detected as stale and can be taken over.
    tmux.wait_for("second", "the stale lock", |s| {
        s.contains("読み取り専用") && s.contains("引き継")
    });
    tmux.keys("second", &["T"]);
    tmux.wait_for("second", "the recovery prompt", |s| {
        s.contains("下書きの復元") && s.contains("破棄")
    });
    tmux.keys("second", &["y"]);
    let screen = tmux.wait_for("second", "the recovered text", |s| {
        s.contains("復元しました") && s.contains("【宛先】")
    });
    let joined: String = screen.lines().map(str::trim_end).collect();
    assert!(
        joined.contains(TYPED) || screen.contains(TYPED),
        "every character typed more than a second before the kill is back:\n{screen}"
    );
}

#[test]
fn sighup_saves_the_journal_before_exit() {
    let tmux = Tmux::new("hup");
    let patient = first_patient(&tmux.queue);
    tmux.start_karte("first");
    tmux.wait_for("first", "the queue", |s| s.contains(&patient));
    tmux.keys("first", &["n"]);
    tmux.wait_for("first", "the blank document", |s| s.contains("編集終了"));
    const LAST_WORDS: &str = "接続が切れる直前の入力";
    tmux.type_text("first", LAST_WORDS);
    tmux.wait_for("first", "the typed text", |s| s.contains(LAST_WORDS));
    // The SSH connection drops right away: no pause for the periodic save.
    let pid = tmux.karte_pid("first");
    // SAFETY: kill(2) has no memory-safety preconditions; the pid is the karte started above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    tmux.wait_for("first", "karte to exit", |s| s.contains("KARTE-EXITED"));

    tmux.start_karte("second");
    tmux.wait_for("second", "the queue again", |s| s.contains(&patient));
    // A clean exit released the lock: opening offers the recovery at once.
    tmux.keys("second", &["i"]);
    tmux.wait_for("second", "the recovery prompt", |s| {
        s.contains("下書きの復元")
    });
    tmux.keys("second", &["Enter"]);
    tmux.wait_for("second", "the text typed just before the hang-up", |s| {
        s.contains("復元しました") && s.contains(LAST_WORDS)
    });
}
