//! A hospital's own template (`<config dir>/templates/referral.toml`) works in the editor:
//! a blank document has its headings, and what is journaled — section texts and accept
//! marks — carries its section keys (before, the editor knew only the built-in keys and
//! journaled a hospital's sections under their headings, so they exported unlike a draft).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may (Cargo.toml [lints])

use karte::draft::{DocumentKind, DocumentTemplates};
use karte::editor::Motion;
use karte::store::{self, LockDir, SessionContext};
use karte::tui::{guard_sections, Action, Command, DocumentService, ModelState};
use karte::tui::{App, EditKey};
use std::path::Path;
use std::time::Duration;

mod tui_support;
use tui_support::act;

const HOSPITAL_REFERRAL: &str = r#"
doc = "referral"
title = "紹介状 (当院様式)"

[[sections]]
key = "to"
title = "紹介先"
kind = "factual"
source = "referral_target"

[[sections]]
key = "request"
title = "ご依頼内容"
kind = "narrative"
instruction = "紹介の目的を書く。"
max_tokens = 64
"#;

fn hospital_templates(config_dir: &Path) -> DocumentTemplates {
    std::fs::create_dir_all(config_dir.join("templates")).unwrap();
    std::fs::write(
        config_dir.join("templates/referral.toml"),
        HOSPITAL_REFERRAL,
    )
    .unwrap();
    DocumentTemplates::load(config_dir).unwrap()
}

fn service(dir: &Path, templates: &DocumentTemplates) -> DocumentService {
    DocumentService::new(SessionContext {
        data_dir: dir.join("data"),
        locks: LockDir::new(dir.join("locks")),
        user: "山田".into(),
        session_id: store::new_session_id(),
    })
    .with_templates(templates.clone())
}

fn app(templates: &DocumentTemplates) -> App {
    let mut app = tui_support::app(80, 24, ModelState::Missing);
    app.templates = templates.clone();
    app
}

#[test]
fn a_hospital_template_gives_the_editor_its_headings_and_section_keys() {
    let dir = tempfile::tempdir().unwrap();
    let templates = hospital_templates(&dir.path().join("config"));
    {
        let mut docs = service(dir.path(), &templates);
        let mut app = app(&templates);
        act(&mut app, &mut docs, Action::Command(Command::NewDocument));
        assert!(app.is_editing());
        let edit = app.current_edit().unwrap();
        let headings: Vec<String> = edit.sections().into_iter().map(|(h, _)| h).collect();
        assert_eq!(headings, ["紹介先", "ご依頼内容"]);

        let down = EditKey::Move {
            motion: Motion::Down,
            extend: false,
        };
        // The blank document opens with the cursor in the first section's body (issue 10).
        let _ = down;
        act(
            &mut app,
            &mut docs,
            Action::Edit(EditKey::Type("東京病院".into())),
        );
        act(&mut app, &mut docs, Action::Edit(EditKey::Leave));
        let edit = app.current_edit().unwrap();
        let keys: Vec<String> =
            guard_sections(app.templates.get(DocumentKind::Referral), Some(edit), None)
                .unwrap()
                .into_iter()
                .map(|(key, _)| key)
                .collect();
        assert_eq!(
            keys,
            ["to", "request"],
            "the guard checks by the template's keys"
        );
        // The cursor is in 紹介先: mark it accepted.
        act(&mut app, &mut docs, Action::Command(Command::AcceptSection));
        docs.flush(Duration::from_secs(5)).unwrap();
    }
    // The next session finds the journal: sections and the accept mark under the keys.
    let mut docs = service(dir.path(), &templates);
    let mut app = app(&templates);
    act(&mut app, &mut docs, Action::Command(Command::EditDraft));
    let recovered = &app.recovery.as_ref().expect("the journal is offered").draft;
    let keys: Vec<&str> = recovered.sections.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["to", "request"]);
    assert_eq!(
        recovered.accepted.iter().collect::<Vec<_>>(),
        ["to"],
        "the accept mark is journaled under the template's key"
    );
}
