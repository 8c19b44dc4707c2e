//! The Metrics tab widget renders the report with ratatui (TestBackend).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

mod metrics_common;

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
    let buffer = terminal.backend().buffer();
    let screen: String = (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect::<String>()
                + "\n"
        })
        .collect();
    // 1 - 320/600 = 46.7 %
    assert!(screen.contains("46.7%"), "{screen}");
    assert!(screen.contains("Median active time"), "{screen}");
    assert!(screen.contains("Distribution of active time"), "{screen}");
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
    let buffer = terminal.backend().buffer();
    let first_line: String = (0..buffer.area.width)
        .map(|x| buffer[(x, 1)].symbol().to_string())
        .collect();
    assert!(
        first_line.contains("no metrics recorded yet"),
        "{first_line}"
    );
}
