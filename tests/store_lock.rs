//! Two (and more) real processes contend for one chart's lock.
//!
//! The child processes are this test binary re-run with `--exact child_process --ignored`
//! and instructions in environment variables.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::store::{LockAttempt, LockDir};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_DIR: &str = "KARTE_TEST_LOCK_DIR";
const CHILD_START_FILE: &str = "KARTE_TEST_LOCK_START";

fn spawn_child(lock_dir: &Path, start_file: Option<&Path>) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "child_process",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_DIR, lock_dir)
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    if let Some(start) = start_file {
        cmd.env(CHILD_START_FILE, start);
    }
    cmd.spawn().unwrap()
}

/// Reads the child's stdout until its `CHILD:` line.
fn child_says(child: &mut Child) -> String {
    let out = child.stdout.as_mut().unwrap();
    let mut reader = BufReader::new(out);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            panic!("child ended without a CHILD: line");
        }
        // libtest may print "test child_process ... " before it on the same line.
        if let Some(at) = line.find("CHILD:") {
            return line[at + "CHILD:".len()..].trim().to_string();
        }
    }
}

/// Run only as a child: try the lock, say what happened, hold it until stdin closes.
#[test]
#[ignore = "helper process for the lock tests"]
fn child_process() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    if let Some(start) = std::env::var_os(CHILD_START_FILE) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !Path::new(&start).exists() && Instant::now() < deadline {
            std::thread::yield_now();
        }
    }
    let locks = LockDir::new(dir);
    let session = karte::store::new_session_id();
    let attempt = locks.try_acquire("chart-7", "child", &session).unwrap();
    match &attempt {
        LockAttempt::Acquired(_) => println!("CHILD:ACQUIRED {}", std::process::id()),
        LockAttempt::Held(_) => println!("CHILD:HELD"),
    }
    // Hold until the parent closes our stdin (or kills us).
    let mut sink = String::new();
    let _ = std::io::stdin().read_line(&mut sink);
    drop(attempt);
}

#[test]
fn a_second_process_sees_the_holder_and_takes_over_after_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let locks = LockDir::beside_queue(tmp.path());
    let mut child = spawn_child(locks.path(), None);
    let said = child_says(&mut child);
    assert_eq!(said, format!("ACQUIRED {}", child.id()));

    // This process is the second clinician.
    let LockAttempt::Held(held) = locks.try_acquire("chart-7", "second", "s-parent").unwrap()
    else {
        panic!("the lock was granted to two processes");
    };
    assert!(!held.stale, "a live holder must not look stale");
    let holder = held.holder.clone().unwrap();
    assert_eq!(holder.pid, child.id());
    assert_eq!(holder.user, "child");
    println!("read-only banner: held by {}", held.describe());
    // Taking over a live lock is refused.
    assert!(matches!(
        locks
            .take_over("chart-7", &held, "second", "s-parent")
            .unwrap(),
        LockAttempt::Held(_)
    ));

    // The holder crashes (SIGKILL: no cleanup runs).
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        locks.lock_path("chart-7").exists(),
        "the crashed session's lock is left behind"
    );
    let LockAttempt::Held(stale) = locks.try_acquire("chart-7", "second", "s-parent").unwrap()
    else {
        panic!("a crashed session's lock must be shown before it is taken over");
    };
    assert!(stale.stale, "a lock whose process is gone must be stale");
    let LockAttempt::Acquired(mine) = locks
        .take_over("chart-7", &stale, "second", "s-parent")
        .unwrap()
    else {
        panic!("takeover of a crashed session's lock failed");
    };
    assert_eq!(mine.holder().pid, std::process::id());

    // A third process now sees this one.
    let mut third = spawn_child(locks.path(), None);
    assert_eq!(child_says(&mut third), "HELD");
    drop(third.stdin.take());
    third.wait().unwrap();
}

#[test]
fn processes_racing_for_a_free_lock_get_it_exactly_once() {
    let tmp = tempfile::tempdir().unwrap();
    let locks = LockDir::beside_queue(tmp.path());
    std::fs::create_dir_all(locks.path()).unwrap();
    let start = tmp.path().join("go");
    let mut children: Vec<Child> = (0..4)
        .map(|_| spawn_child(locks.path(), Some(&start)))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&start, b"").unwrap();
    let answers: Vec<String> = children.iter_mut().map(child_says).collect();
    let winners = answers.iter().filter(|a| a.starts_with("ACQUIRED")).count();
    assert_eq!(winners, 1, "answers: {answers:?}");
    for mut child in children {
        drop(child.stdin.take());
        assert!(child.wait().unwrap().success());
    }
    // Every holder released on exit.
    assert!(locks.holder("chart-7").unwrap().is_none());
}
