//! The Metrics tab widget renders the report with ratatui (TestBackend).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

mod metrics_common;
mod tui_support;

use karte::metrics::{load_report, PseudonymKey, ReportOptions};
use ratatui::backend::TestBackend;
use ratatui::Terminal;

#[test]
fn metrics_tab_shows_reduction_bars_and_distribution() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("metrics.sqlite3");
    metrics_common::record_study(&db, "mori", 4, 600, 320);
    let report = load_report(
        &db,
        &ReportOptions::default(),
        &PseudonymKey::from_bytes([2; 32]),
    )
    .unwrap();
    let mut terminal = Terminal::new(TestBackend::new(140, 30)).unwrap();
    terminal
        .draw(|frame| karte::tui::draw_metrics_tab(frame, frame.area(), &report))
        .unwrap();
    // Read as it looks on screen: a wide character once.
    let screen = tui_support::screen(terminal.backend().buffer());
    // 1 - 320/600 = 46.7 %
    assert!(screen.contains("46.7%"), "{screen}");
    assert!(screen.contains("実作業時間の中央値"), "{screen}");
    assert!(screen.contains("実作業時間の分布"), "{screen}");
    assert!(
        screen.contains("600") && screen.contains("320"),
        "bar values:\n{screen}"
    );
    assert!(
        screen.contains("manual") && screen.contains("assisted"),
        "{screen}"
    );

    if std::env::var_os("KARTE_SHOW_TAB").is_some() {
        println!("{screen}");
    }
    // A tiny area must not panic.
    let mut small = Terminal::new(TestBackend::new(10, 4)).unwrap();
    small
        .draw(|frame| karte::tui::draw_metrics_tab(frame, frame.area(), &report))
        .unwrap();

    // Without a report the tab shows why.
    let error = load_report(
        &dir.path().join("none.sqlite3"),
        &ReportOptions::default(),
        &PseudonymKey::from_bytes([2; 32]),
    )
    .unwrap_err();
    let mut terminal = Terminal::new(TestBackend::new(100, 8)).unwrap();
    terminal
        .draw(|frame| karte::tui::draw_metrics_message(frame, frame.area(), &error.to_string()))
        .unwrap();
    let first_line = tui_support::row_text(terminal.backend().buffer(), 1);
    assert!(
        first_line.contains("no metrics recorded yet"),
        "{first_line}"
    );
}
