//! Screens drawn with ratatui's TestBackend at 80x24 and 200x50, from the demo charts and
//! from bad files: layout, CJK alignment, error rows, the help overlay, no control
//! characters on screen.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::chart::{Chart, Queue};
use karte::tui::text;
use karte::tui::update;
use karte::tui::Command;
use karte::tui::Keymap;
use karte::tui::Theme;
use karte::tui::{Action, QueueRow};
use karte::tui::{App, Pane};
use karte::tui::{ModelState, ModelStatus};
use ratatui::style::Color;
use std::collections::BTreeMap;
use std::sync::Arc;

mod tui_support;
use tui_support::{demo_dir, draw, screen_lines as screen_text};

fn demo_rows() -> Vec<QueueRow> {
    QueueRow::from_queue(&Queue::scan(&demo_dir()).unwrap())
}

fn app_with(rows: Vec<QueueRow>, width: u16, height: u16, keymap: Keymap, theme: &str) -> App {
    let model = ModelStatus {
        file_name: "gemma-3-270m-q4_k_m.gguf".into(),
        state: ModelState::Ready {
            name: "gemma-3-270m".into(),
        },
    };
    let mut app = App::new(
        keymap,
        Theme::built_in(theme).unwrap(),
        demo_dir(),
        model,
        width,
        height,
    );
    update(&mut app, Action::QueueLoaded(rows));
    app
}

fn app(rows: Vec<QueueRow>, width: u16, height: u16) -> App {
    app_with(rows, width, height, Keymap::default(), "dark")
}

/// Display column (cells) where `needle` starts in `line`.
fn column_of(line: &str, needle: &str) -> Option<usize> {
    line.find(needle).map(|byte| text::width(&line[..byte]))
}

/// What `line` shows from display column `column` on.
fn from_column(line: &str, column: usize) -> &str {
    let mut used = 0;
    for (byte, c) in line.char_indices() {
        if used >= column {
            return &line[byte..];
        }
        used += text::width(&c.to_string());
    }
    ""
}

fn press(app: &mut App, command: Command) {
    update(app, Action::Command(command));
}

fn loaded_charts(rows: &[QueueRow]) -> Vec<Arc<Chart>> {
    rows.iter()
        .filter_map(|r| r.chart.as_ref().ok().cloned())
        .collect()
}

#[test]
fn queue_columns_stay_aligned_with_cjk_names_at_80x24_and_200x50() {
    let rows = demo_rows();
    let charts = loaded_charts(&rows);
    assert!(charts.len() >= 6, "demo queue has charts");
    for (width, height) in [(80, 24), (200, 50)] {
        let app = app(rows.clone(), width, height);
        let screen = screen_text(&draw(&app));
        let header = screen
            .iter()
            .find(|l| l.contains("患者") && l.contains("病棟"))
            .expect("queue header");
        let ward_column = column_of(header, "病棟").unwrap();
        let referral_column = column_of(header, "紹介状").unwrap();
        let visible_rows = screen.iter().filter(|l| l.contains("未着手")).count();
        assert!(
            visible_rows >= 5,
            "{width}x{height}: rows shown: {visible_rows}"
        );
        for chart in charts.iter().take(visible_rows) {
            // The start of the name (long names are cut to fit the column).
            let name: String = text::safe_line(&chart.patient.name)
                .chars()
                .take(4)
                .collect();
            // Queue rows start at the left border (the queue is the left or top pane).
            let line = screen
                .iter()
                .find(|l| l.starts_with(&format!("│{name}")))
                .unwrap_or_else(|| panic!("{width}x{height}: no row for {name}"));
            let ward: String = chart.encounter.ward.chars().take(2).collect();
            if !ward.is_empty() {
                assert!(
                    from_column(line, ward_column).starts_with(&ward),
                    "{width}x{height}: ward of {name} under its heading: {line}"
                );
            }
            assert_eq!(
                from_column(line, referral_column).get(..9),
                Some("未着手"),
                "{width}x{height}: state of {name}"
            );
        }
        for line in &screen {
            assert_eq!(
                text::width(line),
                usize::from(width),
                "every row fills the width exactly: {line}"
            );
        }
    }
}

#[test]
fn eighty_columns_stack_panes_and_two_hundred_show_three_columns() {
    let rows = demo_rows();
    let first = loaded_charts(&rows)[0].clone();
    let narrow = screen_text(&draw(&app(rows.clone(), 80, 24)));
    let queue_title = narrow.iter().position(|l| l.contains("キュー")).unwrap();
    let chart_title = narrow
        .iter()
        .position(|l| l.contains("カルテ") && l.contains("経過記録"))
        .unwrap();
    assert!(
        queue_title < chart_title,
        "queue above the chart at 80 columns"
    );
    assert!(
        !narrow
            .iter()
            .any(|l| l.contains("下書き") && l.contains("診療情報提供書")),
        "draft pane collapsed"
    );
    assert!(
        narrow[23].contains("終了"),
        "status bar on the last line: {}",
        narrow[23]
    );
    assert!(
        narrow
            .iter()
            .any(|l| l.contains(&first.patient.name) && l.contains("ID")),
        "patient header"
    );

    let wide = screen_text(&draw(&app(rows, 200, 50)));
    let top = &wide[0];
    let (queue_x, chart_x, draft_x) = (
        column_of(top, "キュー").unwrap(),
        column_of(top, "カルテ").unwrap(),
        column_of(top, "下書き").unwrap(),
    );
    assert!(
        queue_x < chart_x && chart_x < draft_x,
        "three columns: {top}"
    );
    assert!(wide.iter().any(|l| l.contains("下書きはまだありません")));
}

#[test]
fn notes_labs_and_prescriptions_tabs_show_the_chart() {
    let rows = demo_rows();
    let chart = loaded_charts(&rows)[0].clone();
    let mut app = app(rows, 200, 50);
    let notes = screen_text(&draw(&app)).join("\n");
    let first_note = &chart.notes_by_date()[0];
    assert!(notes.contains(&first_note.datetime.format("%Y-%m-%d %H:%M").to_string()));
    press(&mut app, Command::ShowLabs);
    let labs = screen_text(&draw(&app)).join("\n");
    if let Some(lab) = chart.labs.first() {
        assert!(labs.contains("基準値"));
        assert!(labs.contains(&lab.value), "lab value {} shown", lab.value);
    }
    press(&mut app, Command::ShowPrescriptions);
    let rx = screen_text(&draw(&app)).join("\n");
    assert!(rx.contains("処方") && rx.contains("アレルギー") && rx.contains("病名"));
    if let Some(p) = chart.prescriptions.first() {
        let drug: String = p.drug.chars().take(4).collect();
        assert!(rx.contains(&drug), "drug {drug} shown");
    }
}

#[test]
fn broken_files_show_as_error_rows_and_the_app_keeps_going() {
    let dir = tempfile::tempdir().unwrap();
    // Only the chart files: `make demo` leaves the queue's lock directory beside them.
    for entry in std::fs::read_dir(demo_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(
        dir.path().join("00-broken.json"),
        "{\"id\": \"x\", \"patient\": ",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("00-escape.txt"),
        "経過良好\u{1b}]0;pwned\u{7}\u{1b}[2J",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("00-binary.json"),
        [0u8, 159, 146, 150, 0, 1, 2, 255],
    )
    .unwrap();
    let rows = QueueRow::from_queue(&Queue::scan(dir.path()).unwrap());
    assert_eq!(rows.iter().filter(|r| r.chart.is_err()).count(), 3);

    for (width, height) in [(80, 24), (200, 50)] {
        let mut app = app(rows.clone(), width, height);
        let buffer = draw(&app);
        let screen = screen_text(&buffer);
        for name in ["00-binary.json", "00-broken.json", "00-escape.txt"] {
            let row = screen
                .iter()
                .find(|l| l.starts_with(&format!("│読込エラー {name}")))
                .unwrap_or_else(|| panic!("{width}x{height}: no error row for {name}"));
            assert!(
                row.contains("JSON") || row.contains("制御") || row.contains(':'),
                "{row}"
            );
        }
        assert!(screen[0].contains("読込エラー 3件"), "{}", screen[0]);
        // The selected error row shows the whole message in the chart pane.
        let selected = app.selected_row().unwrap().clone();
        let error = selected.chart.as_ref().unwrap_err();
        let chart_pane = screen_text(&draw(&app)).join("");
        assert!(chart_pane.contains("を読み込めませんでした"));
        let hint_start: String = error.hint.chars().take(6).collect();
        assert!(chart_pane.contains(&hint_start), "hint shown: {hint_start}");
        // Moving past the error rows reaches charts; nothing panics.
        for _ in 0..rows.len() + 2 {
            press(&mut app, Command::MoveDown);
            draw(&app);
        }
        assert_eq!(app.selected, rows.len() - 1);
    }
}

#[test]
fn control_characters_from_a_chart_never_reach_the_screen() {
    let rows = demo_rows();
    let mut chart = (*loaded_charts(&rows)[0]).clone();
    chart.patient.name = "悪意\u{1b}[31m太郎\u{9b}2J".into();
    chart.encounter.ward = "5\u{7}東".into();
    chart.notes[0].text = "本文\u{1b}]52;c;ZXZpbA==\u{7}続き\r\n\t次行".into();
    let row = QueueRow {
        file_name: "evil\u{1b}[2J.json".into(),
        chart: Ok(Arc::new(chart)),
    };
    for (width, height) in [(80, 24), (200, 50)] {
        let mut app = app(vec![row.clone()], width, height);
        // ratatui itself drops control characters; karte replaces them visibly first, so a
        // hostile file is noticed rather than silently rewritten.
        let screen = screen_text(&draw(&app)).join("\n");
        assert!(
            screen.contains("悪意\u{FFFD}[31m"),
            "{width}x{height}: name sanitized by karte"
        );
        assert!(
            screen.contains("5\u{FFFD}東"),
            "{width}x{height}: ward sanitized by karte"
        );
        assert!(
            screen.contains("本文\u{FFFD}]52;"),
            "{width}x{height}: note sanitized by karte"
        );
        for command in [
            Command::Open,
            Command::ShowNotes,
            Command::FocusNext,
            Command::ToggleHelp,
        ] {
            let buffer = draw(&app);
            for cell in buffer.content() {
                assert!(
                    !cell.symbol().chars().any(char::is_control),
                    "{width}x{height}: control character {:?} on screen",
                    cell.symbol()
                );
            }
            press(&mut app, command);
        }
    }
}

#[test]
fn help_lists_every_binding_from_the_active_keymap() {
    let user = BTreeMap::from([("quit".to_string(), "ctrl-q".to_string())]);
    let keymap = Keymap::with_overrides(&user).unwrap();
    let mut app = app_with(demo_rows(), 200, 50, keymap, "dark");
    press(&mut app, Command::ToggleHelp);
    let screen = screen_text(&draw(&app)).join("\n");
    assert!(screen.contains("キー操作"));
    for command in Command::ALL {
        assert!(
            screen.contains(command.description()),
            "help lists {}",
            command.name()
        );
        assert!(
            screen.contains(command.name()),
            "help names {} for the config",
            command.name()
        );
    }
    assert!(screen.contains("ctrl-q"), "user binding shown");
    assert!(!screen.contains("q / ctrl-c"), "replaced default not shown");

    // At 80x24 the help scrolls to show everything.
    let mut small = app_with(demo_rows(), 80, 24, Keymap::default(), "dark");
    press(&mut small, Command::ToggleHelp);
    let top = screen_text(&draw(&small)).join("\n");
    assert!(top.contains(Command::ALL[0].description()));
    press(&mut small, Command::GoBottom);
    let bottom = screen_text(&draw(&small)).join("\n");
    assert!(bottom.contains(Command::Quit.description()) && bottom.contains("テーマ"));
    // Keys go to the help while it is open, and it closes with esc.
    let selected = small.selected;
    press(&mut small, Command::MoveDown);
    assert_eq!(small.selected, selected);
    press(&mut small, Command::Back);
    assert!(!small.help_open);
    assert!(!screen_text(&draw(&small)).join("\n").contains("キー操作"));
}

#[test]
fn resizing_relayouts_and_keeps_the_selection_visible() {
    let rows = demo_rows();
    let last = loaded_charts(&rows).last().unwrap().patient.name.clone();
    let mut app = app(rows, 200, 50);
    press(&mut app, Command::GoBottom);
    update(
        &mut app,
        Action::Resize {
            width: 80,
            height: 24,
        },
    );
    let screen = screen_text(&draw(&app));
    assert!(
        screen.iter().any(|l| l.starts_with(&format!("│{last}"))),
        "selected row visible after shrinking"
    );
    update(
        &mut app,
        Action::Resize {
            width: 30,
            height: 8,
        },
    );
    let tiny = screen_text(&draw(&app)).join("");
    assert!(tiny.contains("小さすぎます"));
    update(
        &mut app,
        Action::Resize {
            width: 120,
            height: 40,
        },
    );
    let back = screen_text(&draw(&app));
    assert!(back[0].contains("下書き"), "three columns from 120 on");
}

#[test]
fn focus_scroll_and_rescan_behave() {
    let rows = demo_rows();
    let mut app = app(rows.clone(), 80, 24);
    press(&mut app, Command::MoveDown);
    assert_eq!(app.selected, 1);
    press(&mut app, Command::Open);
    assert_eq!(app.focus, Pane::Chart);
    for _ in 0..1000 {
        press(&mut app, Command::MoveDown);
    }
    let at_end = app.chart_scroll;
    assert!(at_end > 0, "long notes scroll");
    press(&mut app, Command::MoveUp);
    assert_eq!(
        app.chart_scroll,
        at_end - 1,
        "no invisible offset past the end"
    );
    press(&mut app, Command::FocusNext);
    assert_eq!((app.focus, app.detail), (Pane::Draft, Pane::Draft));
    let draft = screen_text(&draw(&app)).join("\n");
    assert!(draft.contains("診療情報提供書") && draft.contains("下書きはまだありません"));
    press(&mut app, Command::NextTab);
    assert!(screen_text(&draw(&app))
        .join("\n")
        .contains("退院時サマリー —"));
    press(&mut app, Command::Back);
    assert_eq!(app.focus, Pane::Queue);

    // A rescan that adds a file before the selected one keeps the same chart selected.
    let selected_file = app.selected_row().unwrap().file_name.clone();
    let mut more = rows.clone();
    let mut extra = rows[0].clone();
    extra.file_name = "00-new.json".into();
    more.insert(0, extra);
    update(&mut app, Action::QueueLoaded(more));
    assert_eq!(app.selected_row().unwrap().file_name, selected_file);
    assert!(
        update(&mut app, Action::Command(Command::Rescan)).contains(&karte::tui::Effect::Rescan)
    );
    assert!(update(&mut app, Action::Command(Command::Quit)).contains(&karte::tui::Effect::Quit));
}

#[test]
fn monochrome_theme_draws_without_colours() {
    let app = app_with(demo_rows(), 80, 24, Keymap::default(), "monochrome");
    for cell in draw(&app).content() {
        assert_eq!(cell.fg, Color::Reset);
        assert_eq!(cell.bg, Color::Reset);
    }
}
