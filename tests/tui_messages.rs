//! What a clinician reads about a file that cannot be loaded is Japanese: the queue's error
//! row and the chart pane's 問題 / 対処 lines (file names verbatim); the parser's own words
//! stay available as 詳細 for whoever fixes the file.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::Queue;
use karte::tui::{update, Action, Command, ModelState, QueueRow};

mod tui_support;
use tui_support::{draw, screen_lines};

/// Whether `line` has a run of `min` or more ASCII letters (an English word or phrase).
fn has_english_word(line: &str, min: usize) -> bool {
    line.split(|c: char| !c.is_ascii_alphabetic())
        .any(|word| word.len() >= min)
}

#[test]
fn file_errors_in_the_queue_and_the_chart_pane_are_japanese() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a-broken.json"),
        "{\"id\": \"x\", \"patient\": ",
    )
    .unwrap();
    std::fs::write(dir.path().join("b-binary.json"), [0u8, 159, 146, 0, 1]).unwrap();
    std::fs::write(dir.path().join("c-escape.txt"), "経過良好\u{1b}[2J").unwrap();
    let rows = QueueRow::from_queue(&Queue::scan(dir.path()).unwrap());
    let mut app = tui_support::app(120, 30, ModelState::Missing);
    update(&mut app, Action::QueueLoaded(rows));
    for index in 0..3 {
        let error = app
            .selected_row()
            .unwrap()
            .chart
            .as_ref()
            .unwrap_err()
            .clone();
        let screen = screen_lines(&draw(&app));
        let row = screen
            .iter()
            .find(|l| l.contains("読込エラー") && l.contains(&error.file_name()))
            .unwrap_or_else(|| panic!("no error row for {}", error.file_name()));
        let after_name = &row[row.find(&error.file_name()).unwrap() + error.file_name().len()..];
        // The queue pane's cell only (the chart pane beside it shows the path).
        let after_name = after_name.split('│').next().unwrap();
        assert!(!has_english_word(after_name, 6), "row {index}: {row}");
        let pane = screen.join("\n");
        let start: String = error.summary.chars().take(8).collect();
        assert!(pane.contains(&format!("問題: {start}")), "{pane}");
        assert!(pane.contains("対処: "), "{pane}");
        assert!(!has_english_word(&error.summary, 6), "{}", error.summary);
        assert!(
            !has_english_word(&error.hint.replace("README.md", ""), 6),
            "{}",
            error.hint
        );
        update(&mut app, Action::Command(Command::MoveDown));
    }
}
