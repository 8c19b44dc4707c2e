//! Key translation: a terminal event becomes the actions it means — the y/n answers of the
//! recovery and sign prompts, edit keys in edit mode, otherwise the keymap's commands.

use crate::tui::action::Action;
use crate::tui::input::edit_keys;
use crate::tui::state::app::App;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// A terminal event as actions (none when it means nothing here). The recovery prompt and
/// edit mode take keys directly; otherwise keys go through the keymap.
pub fn translate(app: &App, event: Event) -> Vec<Action> {
    let action = match event {
        Event::Key(key) if key.kind != KeyEventKind::Release && app.recovery.is_some() => {
            match key.code {
                KeyCode::Char('y' | 'Y') | KeyCode::Enter => Some(Action::RecoveryChoice(true)),
                KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::RecoveryChoice(false)),
                _ => None,
            }
        }
        Event::Key(key)
            if key.kind != KeyEventKind::Release && app.review.sign_prompt.is_some() =>
        {
            match key.code {
                KeyCode::Char('y' | 'Y') => Some(Action::SignAnswer(true)),
                KeyCode::Char('n' | 'N') | KeyCode::Esc => Some(Action::SignAnswer(false)),
                _ => None,
            }
        }
        Event::Key(key) if key.kind != KeyEventKind::Release && app.is_editing() => {
            match edit_keys::edit_key(&key) {
                Some(edit) => Some(Action::Edit(edit)),
                None => return escape_then_key(app, key),
            }
        }
        Event::Key(key) if key.kind != KeyEventKind::Release => {
            match app.keymap.command_for(&key) {
                Some(command) => Some(Action::Command(command)),
                None => return escape_then_key(app, key),
            }
        }
        Event::Paste(text) if app.is_editing() => Some(Action::Paste(text)),
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    };
    action.into_iter().collect()
}

/// Esc and the next key arriving in one read (a slow SSH link coalesces them; a terminal
/// that sends Meta as an Esc prefix does the same) reach us as alt+key. An alt letter that
/// means nothing here is read as the two keys the user pressed: esc (leave edit mode, close
/// a panel), then the key's command.
fn escape_then_key(app: &App, key: KeyEvent) -> Vec<Action> {
    let alt_only =
        key.modifiers.contains(KeyModifiers::ALT) && !key.modifiers.contains(KeyModifiers::CONTROL);
    if !alt_only || !matches!(key.code, KeyCode::Char(_)) {
        return Vec::new();
    }
    let escape = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
    let mut actions: Vec<Action> = if app.is_editing() {
        vec![Action::Edit(edit_keys::EditKey::Leave)]
    } else {
        app.keymap
            .command_for(&escape)
            .map(Action::Command)
            .into_iter()
            .collect()
    };
    let plain = KeyEvent::new(key.code, key.modifiers - KeyModifiers::ALT);
    actions.extend(app.keymap.command_for(&plain).map(Action::Command));
    actions
}
