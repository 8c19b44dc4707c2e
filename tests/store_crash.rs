//! A process typing into the journal is killed with SIGKILL; recovery loses at most the
//! last second of typing. Also: a full disk is reported and nothing is lost once it clears.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::store::{Journal, JournalWriter, SectionText};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD_JOURNAL: &str = "KARTE_TEST_JOURNAL";
const KEY_INTERVAL: Duration = Duration::from_millis(20);

/// Run only as a child: type one character every 20 ms forever, reporting each keystroke.
#[test]
#[ignore = "helper process for the crash test"]
fn typing_child() {
    let Some(path) = std::env::var_os(CHILD_JOURNAL) else {
        return;
    };
    let (journal, _) = Journal::open(Path::new(&path)).unwrap();
    let writer = JournalWriter::spawn(journal).unwrap();
    let mut text = String::new();
    for n in 1.. {
        text.push(if n % 2 == 0 { 'あ' } else { '漢' });
        writer.section_edited(SectionText::new("course", "入院経過", text.clone()));
        println!("CHILD:{n}");
        std::thread::sleep(KEY_INTERVAL);
    }
}

#[test]
fn sigkill_loses_at_most_the_last_second() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("doc/journal.log");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "typing_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_JOURNAL, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let started = Instant::now();
    let mut typed = 0usize;
    let mut line = String::new();
    while started.elapsed() < Duration::from_millis(2500) {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        // libtest may print "test typing_child ... " before the first one.
        if let Some(at) = line.find("CHILD:") {
            typed = line[at + "CHILD:".len()..].trim().parse().unwrap();
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let recovered = karte::store::journal::recover_file(&path).unwrap().unwrap();
    assert!(recovered.damage.is_none(), "{:?}", recovered.damage);
    let saved = recovered
        .state
        .section("course")
        .map(|s| s.text.chars().count())
        .unwrap_or(0);
    let per_second = (1000 / KEY_INTERVAL.as_millis()) as usize;
    println!("typed {typed} characters, recovered {saved} after SIGKILL");
    assert!(saved > 0);
    // One second of typing plus scheduling slack on a loaded machine.
    assert!(
        saved + per_second + per_second / 4 >= typed,
        "lost more than a second: typed {typed}, recovered {saved}"
    );
}

#[test]
fn full_disk_is_reported_and_the_draft_is_saved_once_space_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("journal.log");
    let (journal, _) = Journal::open(&path).unwrap();
    // The journal file is not created until the first save; make that save hit a full disk.
    std::os::unix::fs::symlink("/dev/full", &path).unwrap();
    let writer = JournalWriter::spawn(journal).unwrap();
    writer.section_edited(SectionText::new("plan", "今後の方針", "外来で経過観察"));
    let err = writer.flush_blocking(Duration::from_secs(5)).unwrap_err();
    assert!(err.contains("disk is full"), "{err}");
    assert!(err.contains("メモリ上に保持"), "{err}");
    let status = writer.status();
    assert!(!status.all_saved());
    assert!(status.error.is_some());

    // Space comes back (the link goes away): the next save writes everything.
    std::fs::remove_file(&path).unwrap();
    writer.section_edited(SectionText::new("plan", "今後の方針", "外来で経過観察する"));
    writer.flush_blocking(Duration::from_secs(5)).unwrap();
    assert!(writer.status().all_saved());
    drop(writer);
    let recovered = karte::store::journal::recover_file(&path).unwrap().unwrap();
    assert!(recovered.damage.is_none());
    assert_eq!(
        recovered.state.section("plan").unwrap().text,
        "外来で経過観察する"
    );
}
