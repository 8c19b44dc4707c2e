//! Linked evidence in the TUI (TestBackend, no model): an evidence-first referral of the first
//! demo chart is shown in the draft pane; `v` on a sentence of a narrative section marks its
//! span in the chart pane and names the note and date; `M` switches the section's drafting
//! mode and asks for it again in the next mode; a factual section has no mode.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use std::path::Path;

use karte::draft::{DocumentTemplate, DraftMode, DraftRequest, DraftSession, SectionKind};
use karte::editor::Motion;
use karte::store::{self, LockDir, SessionContext};
use karte::tui::{
    section_sources, Action, Command, DocumentKind, DocumentService, DraftEvent, EditKey, Effect,
    ModelState, SectionStart,
};
use karte::tui::{App, Pane};

mod tui_support;
use tui_support::act;

/// The first demo chart's referral drafted in `evidence` mode, fed to the screen as the
/// draft worker does; then opened for editing.
fn editing_evidence_referral(dir: &Path) -> (DocumentService, App, karte::draft::Draft) {
    let mut docs = DocumentService::new(SessionContext {
        data_dir: dir.join("data"),
        locks: LockDir::new(dir.join("locks")),
        user: "山田".into(),
        session_id: store::new_session_id(),
    });
    let mut app = tui_support::app(120, 40, ModelState::Missing);
    let chart = app.selected_chart().unwrap().clone();
    let mut request = DraftRequest::new(
        (*chart).clone(),
        DocumentTemplate::builtin(karte::draft::DocumentKind::Referral),
        karte::llm::ModelManifest::default_model().sampling_defaults(),
    );
    request.mode = DraftMode::Evidence;
    let mut session = DraftSession::start_without_model(request);
    let draft = loop {
        match session.events.blocking_recv() {
            Some(karte::draft::DraftEvent::Finished(d)) => break d,
            Some(_) => {}
            None => panic!("no draft"),
        }
    };
    let mut events = vec![DraftEvent::Started {
        sections: draft
            .sections
            .iter()
            .map(|s| SectionStart {
                title: s.title.clone(),
                text: String::new(),
                generated: s.kind == SectionKind::Narrative,
            })
            .collect(),
    }];
    for (i, s) in draft.sections.iter().enumerate() {
        events.push(DraftEvent::SectionDone {
            section: i,
            text: Some(s.text.clone()),
        });
        if s.kind == SectionKind::Narrative {
            events.push(DraftEvent::Evidence {
                section: i,
                sources: section_sources(s),
                mode: s.mode,
                replaced: s.fallbacks.len(),
            });
        }
    }
    events.push(DraftEvent::Finished);
    for event in events {
        act(
            &mut app,
            &mut docs,
            Action::Draft {
                chart_id: chart.id.clone(),
                document: DocumentKind::Referral,
                event,
            },
        );
    }
    app.focus = Pane::Draft;
    act(&mut app, &mut docs, Action::Command(Command::EditDraft));
    assert!(app.is_editing());
    (docs, app, draft)
}

/// Puts the cursor on the first body line of section number `index` (0-based).
fn into_section(app: &mut App, docs: &mut DocumentService, index: usize) {
    let mv = |app: &mut App, docs: &mut DocumentService, motion| {
        act(
            app,
            docs,
            Action::Edit(EditKey::Move {
                motion,
                extend: false,
            }),
        );
    };
    mv(app, docs, Motion::DocumentStart);
    for _ in 0..index {
        mv(app, docs, Motion::NextSection);
    }
    mv(app, docs, Motion::Down);
    mv(app, docs, Motion::LineStart);
    mv(app, docs, Motion::Right);
    mv(app, docs, Motion::Right);
}

#[test]
fn v_shows_the_note_span_behind_a_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let (mut docs, mut app, draft) = editing_evidence_referral(dir.path());
    let index = draft
        .sections
        .iter()
        .position(|s| s.key == "history")
        .unwrap();
    let section = &draft.sections[index];
    let (_, karte::chart::Source::Note { id, start, end }) = section.provenance[0].clone() else {
        panic!("{:?}", section.provenance)
    };
    into_section(&mut app, &mut docs, index);
    act(&mut app, &mut docs, Action::Command(Command::ShowEvidence));
    let mark = app.review.source_mark.clone().expect("the span is marked");
    assert_eq!(
        (mark.note_id.as_str(), mark.start, mark.end),
        (id.as_str(), start, end)
    );
    let status = app.status.clone().unwrap_or_default();
    assert!(status.contains("の根拠: 入院時記録 1/14 (n1)"), "{status}");

    // After an edit elsewhere in the section the link still holds (found by its text).
    act(
        &mut app,
        &mut docs,
        Action::Edit(EditKey::Move {
            motion: Motion::LineStart,
            extend: false,
        }),
    );
    act(
        &mut app,
        &mut docs,
        Action::Edit(EditKey::Type("追記。".into())),
    );
    act(
        &mut app,
        &mut docs,
        Action::Edit(EditKey::Move {
            motion: Motion::LineEnd,
            extend: false,
        }),
    );
    app.review.source_mark = None;
    act(&mut app, &mut docs, Action::Command(Command::ShowEvidence));
    assert!(app.review.source_mark.is_some(), "{:?}", app.status);

    // Text the clinician typed has no evidence.
    act(
        &mut app,
        &mut docs,
        Action::Edit(EditKey::Move {
            motion: Motion::LineStart,
            extend: false,
        }),
    );
    act(
        &mut app,
        &mut docs,
        Action::Edit(EditKey::Move {
            motion: Motion::Right,
            extend: false,
        }),
    );
    app.review.source_mark = None;
    act(&mut app, &mut docs, Action::Command(Command::ShowEvidence));
    assert!(app.review.source_mark.is_none());
    assert!(app
        .status
        .clone()
        .unwrap_or_default()
        .contains("見つかりません"));
}

#[test]
fn m_switches_the_sections_mode_and_asks_for_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let (mut docs, mut app, draft) = editing_evidence_referral(dir.path());
    let purpose = draft
        .sections
        .iter()
        .position(|s| s.key == "purpose")
        .unwrap();
    into_section(&mut app, &mut docs, purpose);
    let effects = act(
        &mut app,
        &mut docs,
        Action::Command(Command::CycleSectionMode),
    );
    let asked: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::RegenerateSection { heading, mode, .. } => Some((heading.clone(), *mode)),
            _ => None,
        })
        .collect();
    assert_eq!(
        asked,
        vec![("紹介目的".to_string(), Some(DraftMode::Grounded))]
    );
    assert!(app
        .status
        .clone()
        .unwrap_or_default()
        .contains("根拠から生成"));

    // A factual section is copied from the records: no mode to switch.
    let diagnoses = draft
        .sections
        .iter()
        .position(|s| s.key == "diagnoses")
        .unwrap();
    into_section(&mut app, &mut docs, diagnoses);
    let effects = act(
        &mut app,
        &mut docs,
        Action::Command(Command::CycleSectionMode),
    );
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::RegenerateSection { .. })));
    assert!(app.status.clone().unwrap_or_default().contains("転記"));
}
