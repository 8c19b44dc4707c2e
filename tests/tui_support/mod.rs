//! TestBackend helpers shared by the `tui_*` screen tests: an `App` over the demo queue,
//! drawing it, and reading the drawn buffer back as text (a wide character once).

// Each test binary compiles this module separately and uses only some of it.
#![allow(dead_code)]

use karte::chart::Queue;
use karte::tui::text;
use karte::tui::update;
use karte::tui::view;
use karte::tui::App;
use karte::tui::DocumentService;
use karte::tui::Keymap;
use karte::tui::Theme;
use karte::tui::{Action, Effect, QueueRow};
use karte::tui::{DraftEvent, SectionStart};
use karte::tui::{ModelState, ModelStatus};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::Terminal;
use std::path::{Path, PathBuf};

pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo")
}

/// An `App` with the default keymap and the dark theme, its queue loaded from the demo charts.
pub fn app(width: u16, height: u16, state: ModelState) -> App {
    let demo = demo_dir();
    let model = ModelStatus {
        file_name: "gemma-3-270m-q4_k_m.gguf".into(),
        state,
    };
    let mut app = App::new(
        Keymap::default(),
        Theme::built_in("dark").unwrap(),
        demo.clone(),
        model,
        width,
        height,
    );
    update(
        &mut app,
        Action::QueueLoaded(QueueRow::from_queue(&Queue::scan(&demo).unwrap())),
    );
    app
}

pub fn draw(app: &App) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(app.width, app.height)).unwrap();
    terminal.draw(|frame| view(app, frame)).unwrap();
    terminal.backend().buffer().clone()
}

/// The row as it looks on screen: a wide character once, its trailing cell skipped.
pub fn row_text(buffer: &Buffer, y: u16) -> String {
    let mut out = String::new();
    let mut x = 0;
    while x < buffer.area.width {
        let symbol = buffer[(x, y)].symbol();
        out.push_str(symbol);
        x += u16::try_from(text::width(symbol).max(1)).unwrap();
    }
    out
}

/// Every row as it looks on screen.
pub fn screen_lines(buffer: &Buffer) -> Vec<String> {
    (0..buffer.area.height)
        .map(|y| row_text(buffer, y))
        .collect()
}

/// The whole screen as text, each row followed by a newline.
pub fn screen(buffer: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buffer.area.height {
        out.push_str(&row_text(buffer, y));
        out.push('\n');
    }
    out
}

/// A draft starting with two sections: 傷病名 (factual, filled) and 経過 (to be generated).
pub fn started_diagnosis_and_course() -> DraftEvent {
    DraftEvent::Started {
        sections: vec![
            SectionStart {
                title: "傷病名".into(),
                text: "市中肺炎".into(),
                generated: false,
            },
            SectionStart {
                title: "経過".into(),
                text: String::new(),
                generated: true,
            },
        ],
    }
}

/// Runs `action` through `update` and carries out the storage effects the way the event
/// loop does, feeding the answers back; a journal that refuses text fails the test.
pub fn act(app: &mut App, docs: &mut DocumentService, action: Action) -> Vec<Effect> {
    act_with(app, docs, action, |problem| {
        panic!("the journal refused: {problem}")
    })
}

/// Like `act`, but a journal that refuses text is reported to the screen as the event loop
/// reports it (`JournalHealth`), for tests that break the storage on purpose.
pub fn act_reporting(app: &mut App, docs: &mut DocumentService, action: Action) -> Vec<Effect> {
    act_with(app, docs, action, |problem| {
        Action::JournalHealth(Some(problem))
    })
}

/// The storage effects carried out; `refused` turns a journal's refusal into the next action.
fn act_with(
    app: &mut App,
    docs: &mut DocumentService,
    action: Action,
    refused: impl Fn(String) -> Action,
) -> Vec<Effect> {
    let mut queue = vec![action];
    let mut other = Vec::new();
    while let Some(action) = queue.pop() {
        for effect in update(app, action) {
            match effect {
                Effect::OpenDocument { chart_id, document } => {
                    let opened = docs.open(&chart_id, document);
                    queue.push(Action::DocumentOpened {
                        chart_id,
                        document,
                        opened,
                    });
                }
                Effect::JournalSections {
                    chart_id,
                    document,
                    sections,
                    generated,
                } => {
                    if let Err(problem) = docs.journal(&chart_id, document, sections, generated) {
                        queue.push(refused(problem));
                    }
                }
                Effect::JournalDocument {
                    chart_id,
                    document,
                    text,
                    sections,
                } => {
                    if let Err(problem) = docs.journal_document(&chart_id, document, text, sections)
                    {
                        queue.push(refused(problem));
                    }
                }
                Effect::MarkAccepted {
                    chart_id,
                    document,
                    heading,
                    accepted,
                } => {
                    let problem = karte::tui::mark_accepted(
                        Some(docs),
                        &chart_id,
                        document,
                        &heading,
                        accepted,
                    );
                    assert!(problem.is_none(), "{problem:?}");
                }
                other_effect => other.push(other_effect),
            }
        }
    }
    other
}
