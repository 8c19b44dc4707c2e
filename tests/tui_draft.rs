//! The draft pane and highlights driven through `Action`s the way drafting and NLP workers
//! will drive them: streaming sections, follow-scrolling, the end of a generation, model
//! states, and entity highlights at character offsets of the original note text.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::nlp::{Certainty, Entity, EntityType};
use karte::tui::text;
use karte::tui::update;
use karte::tui::Command;
use karte::tui::DocumentKind;
use karte::tui::EntityKind;
use karte::tui::ModelState;
use karte::tui::{Action, Effect, EntityTarget};
use karte::tui::{App, Pane};
use karte::tui::{DraftEvent, SectionStart};

mod tui_support;
use tui_support::{app, draw, screen, started_diagnosis_and_course};

fn press(app: &mut App, command: Command) -> Vec<Effect> {
    update(app, Action::Command(command))
}

fn draft(app: &mut App, chart_id: &str, event: DraftEvent) {
    update(
        app,
        Action::Draft {
            chart_id: chart_id.into(),
            document: DocumentKind::Referral,
            event,
        },
    );
}

#[test]
fn a_streaming_draft_shows_sections_follows_the_end_and_finishes() {
    let mut app = app(
        80,
        24,
        ModelState::Ready {
            name: "gemma".into(),
        },
    );
    let effects = press(&mut app, Command::GenerateDraft);
    let chart = app.selected_chart().unwrap().clone();
    assert!(
        effects.iter().any(|e| matches!(e, Effect::GenerateDraft { chart: c, document: DocumentKind::Referral } if c.id == chart.id)),
        "{effects:?}"
    );
    assert_eq!(app.focus, Pane::Draft, "the draft pane comes forward");

    draft(&mut app, &chart.id, started_diagnosis_and_course());
    let started = screen(&draw(&app));
    assert!(
        started.contains("【傷病名】")
            && started.contains("市中肺炎")
            && started.contains("【経過】")
    );
    assert!(started.contains("【経過】 待機中"), "{started}");
    assert!(
        started.contains("作成中"),
        "queue shows the document as being drafted"
    );

    draft(
        &mut app,
        &chart.id,
        DraftEvent::SectionStarted { section: 1 },
    );
    assert!(screen(&draw(&app)).contains("【経過】 生成中…"));

    // Enough text to overflow the pane: the newest line stays in view while streaming.
    for day in 1..=40 {
        draft(
            &mut app,
            &chart.id,
            DraftEvent::Text {
                section: 1,
                text: format!("第{day}病日、経過良好。\n"),
            },
        );
    }
    let streaming = screen(&draw(&app));
    assert!(
        streaming.contains("第40病日"),
        "follows the end:\n{streaming}"
    );
    assert!(!streaming.contains("第1病日、"), "older text scrolled away");

    // Scrolling up stops following; new text does not yank the view back.
    for _ in 0..5 {
        press(&mut app, Command::MoveUp);
    }
    draft(
        &mut app,
        &chart.id,
        DraftEvent::Text {
            section: 1,
            text: "第41病日。\n".into(),
        },
    );
    assert!(!screen(&draw(&app)).contains("第41病日"));
    press(&mut app, Command::GoBottom);

    assert!(
        press(&mut app, Command::GenerateDraft).is_empty(),
        "no second generation while one runs"
    );
    let cancel = press(&mut app, Command::CancelDraft);
    assert!(matches!(
        &cancel[..],
        [Effect::CancelDraft {
            document: DocumentKind::Referral,
            ..
        }]
    ));

    draft(
        &mut app,
        &chart.id,
        DraftEvent::SectionDone {
            section: 1,
            text: None,
        },
    );
    draft(&mut app, &chart.id, DraftEvent::Finished);
    let done = screen(&draw(&app));
    assert!(done.contains("生成完了"), "{done}");
    assert!(!done.contains("生成中…"));
    press(&mut app, Command::Back);
    assert!(
        screen(&draw(&app)).contains("確認中"),
        "queue shows the document in review"
    );
}

#[test]
fn a_failed_draft_says_why_and_drafts_of_other_charts_stay_apart() {
    let mut app = app(
        200,
        50,
        ModelState::Ready {
            name: "gemma".into(),
        },
    );
    let chart = app.selected_chart().unwrap().clone();
    let sections = vec![SectionStart {
        title: "経過".into(),
        text: String::new(),
        generated: true,
    }];
    draft(&mut app, &chart.id, DraftEvent::Started { sections });
    draft(
        &mut app,
        &chart.id,
        DraftEvent::Text {
            section: 0,
            text: "入院後".into(),
        },
    );
    draft(
        &mut app,
        &chart.id,
        DraftEvent::Failed {
            message: "context window full".into(),
        },
    );
    let failed = screen(&draw(&app));
    assert!(
        failed.contains("生成に失敗しました: context window full") && failed.contains("入院後")
    );
    press(&mut app, Command::MoveDown);
    let other = screen(&draw(&app));
    assert!(
        other.contains("下書きはまだありません"),
        "the next chart has no draft"
    );
}

#[test]
fn model_state_gates_drafting_and_shows_in_the_draft_pane() {
    let mut missing = app(200, 50, ModelState::Missing);
    assert!(press(&mut missing, Command::GenerateDraft)
        .iter()
        .all(|e| !matches!(e, Effect::GenerateDraft { .. })));
    let shown = screen(&draw(&missing));
    assert!(shown.contains("karte setup"), "{shown}");

    let mut loading = app(200, 50, ModelState::NotLoaded);
    update(
        &mut loading,
        Action::Model(ModelState::Loading { progress: 0.4 }),
    );
    assert!(screen(&draw(&loading)).contains("モデル読込中… 40%"));
    // Asking while it loads is accepted: the drafter waits for the model.
    assert!(press(&mut loading, Command::GenerateDraft)
        .iter()
        .any(|e| matches!(e, Effect::GenerateDraft { .. })));
    update(
        &mut loading,
        Action::Model(ModelState::Ready {
            name: "gemma-3-270m".into(),
        }),
    );
    press(&mut loading, Command::NextTab);
    assert!(screen(&draw(&loading)).contains("モデル準備完了 (gemma-3-270m)"));
}

#[test]
fn note_entities_are_highlighted_at_their_character_offsets() {
    let mut app = app(
        200,
        50,
        ModelState::Ready {
            name: "gemma".into(),
        },
    );
    let chart = app.selected_chart().unwrap().clone();
    let note = chart.notes_by_date()[0].clone();
    // Highlight the first run of 2 CJK characters on the note's first line.
    let chars: Vec<char> = note.text.chars().collect();
    let start = (0..chars.len() - 1)
        .find(|&i| {
            text::width(&chars[i].to_string()) == 2 && text::width(&chars[i + 1].to_string()) == 2
        })
        .unwrap();
    let word: String = chars[start..start + 2].iter().collect();
    let entity = Entity {
        kind: EntityType::Disease,
        text: word.clone(),
        start,
        end: start + 2,
        normalized: word.clone(),
        certainty: Some(Certainty::Suspicious),
    };
    update(
        &mut app,
        Action::Entities {
            target: EntityTarget::Note {
                chart_id: chart.id.clone(),
                note_id: note.id.clone(),
            },
            entities: vec![entity],
        },
    );
    let buffer = draw(&app);
    let expected = app.theme.entity(EntityKind::DiseaseSuspicious);
    let styled: Vec<String> = buffer
        .content()
        .iter()
        .filter(|c| c.fg == expected.fg.unwrap() && !c.symbol().trim().is_empty())
        .map(|c| c.symbol().to_string())
        .collect();
    assert_eq!(
        styled.concat(),
        word,
        "exactly the entity's characters carry its style"
    );
}

#[test]
fn each_chart_is_sent_for_entity_extraction_once() {
    let mut app = app(80, 24, ModelState::NotLoaded);
    let analyzed_first = app.analyzed.len();
    assert_eq!(analyzed_first, 1, "the first chart on load");
    let effects = press(&mut app, Command::MoveDown);
    assert!(effects.iter().any(|e| matches!(e, Effect::AnalyzeChart(_))));
    let effects = press(&mut app, Command::MoveUp);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::AnalyzeChart(_))),
        "not twice"
    );
}

#[test]
fn the_metrics_screen_loads_in_the_background_and_closes_again() {
    let mut app = app(100, 30, ModelState::NotLoaded);
    let effects = press(&mut app, Command::ShowMetrics);
    assert!(effects.contains(&Effect::LoadMetrics), "{effects:?}");
    assert!(screen(&draw(&app)).contains("計測データを読み込み中"));
    // The review keys do nothing underneath.
    let selected = app.selected;
    press(&mut app, Command::MoveDown);
    assert_eq!(app.selected, selected);
    update(
        &mut app,
        Action::MetricsLoaded(Err("nothing to report: no signed document\u{1b}[2J".into())),
    );
    let shown = screen(&draw(&app));
    assert!(
        shown.contains("nothing to report") && shown.contains('\u{FFFD}'),
        "{shown}"
    );
    assert!(shown.contains("閉じる"), "status bar says how to leave");
    press(&mut app, Command::Back);
    assert!(screen(&draw(&app)).contains("キュー"));
}

#[test]
fn a_finished_draft_section_is_sent_for_highlighting_and_shows_them() {
    let mut app = app(
        200,
        50,
        ModelState::Ready {
            name: "gemma".into(),
        },
    );
    let chart = app.selected_chart().unwrap().clone();
    press(&mut app, Command::GenerateDraft);
    let sections = vec![SectionStart {
        title: "経過".into(),
        text: String::new(),
        generated: true,
    }];
    draft(&mut app, &chart.id, DraftEvent::Started { sections });
    let effects = update(
        &mut app,
        Action::Draft {
            chart_id: chart.id.clone(),
            document: DocumentKind::Referral,
            event: DraftEvent::SectionDone {
                section: 0,
                text: Some("肺炎は軽快した。".into()),
            },
        },
    );
    let target = EntityTarget::DraftSection {
        chart_id: chart.id.clone(),
        document: DocumentKind::Referral,
        section: 0,
    };
    assert!(
        effects.contains(&Effect::AnalyzeText {
            target: target.clone(),
            text: "肺炎は軽快した。".into()
        }),
        "{effects:?}"
    );
    let entity = Entity {
        kind: EntityType::Disease,
        text: "肺炎".into(),
        start: 0,
        end: 2,
        normalized: "肺炎".into(),
        certainty: Some(Certainty::Positive),
    };
    update(
        &mut app,
        Action::Entities {
            target,
            entities: vec![entity],
        },
    );
    let expected = app.theme.entity(EntityKind::DiseasePositive).fg.unwrap();
    let styled: String = draw(&app)
        .content()
        .iter()
        .filter(|c| c.fg == expected && !c.symbol().trim().is_empty())
        .map(|c| c.symbol().to_string())
        .collect();
    assert!(styled.contains("肺炎"), "{styled}");
}

#[test]
fn esc_in_the_draft_pane_cancels_a_streaming_draft_and_otherwise_goes_back() {
    let mut app = app(
        80,
        24,
        ModelState::Ready {
            name: "gemma".into(),
        },
    );
    press(&mut app, Command::GenerateDraft);
    let chart = app.selected_chart().unwrap().clone();
    draft(
        &mut app,
        &chart.id,
        DraftEvent::Started {
            sections: vec![SectionStart {
                title: "経過".into(),
                text: String::new(),
                generated: true,
            }],
        },
    );
    assert_eq!(app.focus, Pane::Draft);
    let effects = press(&mut app, Command::Back);
    assert!(
        effects.iter().any(|e| matches!(e, Effect::CancelDraft { chart_id, document: DocumentKind::Referral } if *chart_id == chart.id)),
        "{effects:?}"
    );
    assert_eq!(app.focus, Pane::Draft, "cancelling keeps the draft in view");

    let mut idle = app_with_queue_focus();
    idle.focus = Pane::Draft;
    assert!(press(&mut idle, Command::Back).is_empty());
    assert_eq!(
        idle.focus,
        Pane::Queue,
        "with nothing streaming, esc goes back"
    );
}

fn app_with_queue_focus() -> App {
    app(
        80,
        24,
        ModelState::Ready {
            name: "gemma".into(),
        },
    )
}

#[test]
fn entity_keys_step_through_the_chart_and_mark_each_entity() {
    let mut app = app(
        200,
        50,
        ModelState::Ready {
            name: "gemma".into(),
        },
    );
    let chart = app.selected_chart().unwrap().clone();
    let pipeline =
        karte::nlp::Pipeline::load(&karte::paths::AppPaths::discover().unwrap().ipadic_dir())
            .unwrap();
    let notes = chart.notes_by_date();
    for note in &notes[..2] {
        update(
            &mut app,
            Action::Entities {
                target: EntityTarget::Note {
                    chart_id: chart.id.clone(),
                    note_id: note.id.clone(),
                },
                entities: pipeline.extract(&note.text),
            },
        );
    }
    let first = pipeline.extract(&notes[0].text);
    let second_note = pipeline.extract(&notes[1].text);
    let total = first.len() + second_note.len();
    assert!(first.len() >= 2 && !second_note.is_empty());

    press(&mut app, Command::NextEntity);
    let mark = app.review.source_mark.clone().unwrap();
    assert_eq!(
        (mark.note_id.as_str(), mark.start),
        (notes[0].id.as_str(), first[0].start)
    );
    assert!(app
        .status
        .as_deref()
        .unwrap()
        .starts_with(&format!("1/{total} ")));
    press(&mut app, Command::NextEntity);
    assert_eq!(
        app.review.source_mark.clone().unwrap().start,
        first[1].start
    );

    // Backwards from the first wraps to the last entity of the second note.
    press(&mut app, Command::PrevEntity);
    press(&mut app, Command::PrevEntity);
    let mark = app.review.source_mark.clone().unwrap();
    assert_eq!(
        (mark.note_id.as_str(), mark.start),
        (notes[1].id.as_str(), second_note.last().unwrap().start)
    );
    assert!(app
        .status
        .as_deref()
        .unwrap()
        .starts_with(&format!("{total}/{total} ")));
}
