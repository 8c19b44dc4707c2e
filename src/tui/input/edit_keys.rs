//! Keys while the draft pane is in edit mode. These are the keys every text editor uses
//! (arrows, Backspace, Ctrl+Z …), so they are fixed rather than configurable; every other
//! key that produces text is typed. Text committed by a Japanese IME arrives as characters
//! (one key event each) and is typed the same way.

use crate::editor::Motion;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditKey {
    /// Insert text (a typed character, Enter as a newline).
    Type(String),
    /// Move the cursor; `extend` grows the selection (Shift).
    Move {
        motion: Motion,
        extend: bool,
    },
    /// Move by a page of the draft pane (`up` = towards the start).
    Page {
        up: bool,
        extend: bool,
    },
    DeleteBackward,
    DeleteForward,
    DeleteWordBackward,
    Undo,
    Redo,
    Cut,
    Copy,
    Paste,
    SelectAll,
    /// Leave edit mode (the cursor stays where it is).
    Leave,
}

/// The edit-mode key table as the help shows it: (keys, what they do).
pub const EDIT_KEY_HELP: &[(&str, &str)] = &[
    ("文字 / IME", "入力"),
    ("← → ↑ ↓", "カーソル移動 (shift で選択)"),
    ("ctrl-← / ctrl-→", "単語単位で移動"),
    (
        "ctrl-↑ / ctrl-↓",
        "前/次のセクションへ (ctrl-pageup/pagedown も)",
    ),
    ("home / end", "行頭 / 行末 (ctrl で文書の先頭/末尾)"),
    ("pageup / pagedown", "1ページ移動"),
    ("backspace / delete", "削除"),
    ("ctrl-w", "前の単語を削除"),
    ("ctrl-z / ctrl-y", "元に戻す / やり直す"),
    (
        "ctrl-x / ctrl-c / ctrl-v",
        "切り取り / コピー / 貼り付け (アプリ内)",
    ),
    ("ctrl-a", "すべて選択"),
    ("esc", "編集モードを終える"),
];

/// The edit action for a key event, if the key means something while editing.
pub fn edit_key(event: &KeyEvent) -> Option<EditKey> {
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    let alt = event.modifiers.contains(KeyModifiers::ALT);
    let shift = event.modifiers.contains(KeyModifiers::SHIFT);
    let moving = |motion| {
        Some(EditKey::Move {
            motion,
            extend: shift,
        })
    };
    match event.code {
        KeyCode::Char(c) if ctrl && !alt => match c.to_ascii_lowercase() {
            'z' if shift => Some(EditKey::Redo),
            'z' => Some(EditKey::Undo),
            'y' => Some(EditKey::Redo),
            'x' => Some(EditKey::Cut),
            'c' => Some(EditKey::Copy),
            'v' => Some(EditKey::Paste),
            'a' => Some(EditKey::SelectAll),
            'w' | 'h' => Some(EditKey::DeleteWordBackward),
            _ => None,
        },
        KeyCode::Char(c) if !alt && !c.is_control() => Some(EditKey::Type(c.to_string())),
        KeyCode::Enter => Some(EditKey::Type("\n".into())),
        KeyCode::Esc => Some(EditKey::Leave),
        KeyCode::Backspace if ctrl || alt => Some(EditKey::DeleteWordBackward),
        KeyCode::Backspace => Some(EditKey::DeleteBackward),
        KeyCode::Delete => Some(EditKey::DeleteForward),
        KeyCode::Left if ctrl || alt => moving(Motion::WordLeft),
        KeyCode::Right if ctrl || alt => moving(Motion::WordRight),
        KeyCode::Up if ctrl => moving(Motion::PreviousSection),
        KeyCode::Down if ctrl => moving(Motion::NextSection),
        KeyCode::PageUp if ctrl => moving(Motion::PreviousSection),
        KeyCode::PageDown if ctrl => moving(Motion::NextSection),
        KeyCode::Left => moving(Motion::Left),
        KeyCode::Right => moving(Motion::Right),
        KeyCode::Up => moving(Motion::Up),
        KeyCode::Down => moving(Motion::Down),
        KeyCode::Home if ctrl => moving(Motion::DocumentStart),
        KeyCode::End if ctrl => moving(Motion::DocumentEnd),
        KeyCode::Home => moving(Motion::LineStart),
        KeyCode::End => moving(Motion::LineEnd),
        KeyCode::PageUp => Some(EditKey::Page {
            up: true,
            extend: shift,
        }),
        KeyCode::PageDown => Some(EditKey::Page {
            up: false,
            extend: shift,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Option<EditKey> {
        edit_key(&KeyEvent::new(code, modifiers))
    }

    #[test]
    fn editing_keys() {
        assert_eq!(
            key(KeyCode::Char('あ'), KeyModifiers::NONE),
            Some(EditKey::Type("あ".into()))
        );
        assert_eq!(
            key(KeyCode::Char('A'), KeyModifiers::SHIFT),
            Some(EditKey::Type("A".into()))
        );
        assert_eq!(
            key(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(EditKey::Copy)
        );
        assert_eq!(
            key(
                KeyCode::Char('Z'),
                KeyModifiers::CONTROL | KeyModifiers::SHIFT
            ),
            Some(EditKey::Redo)
        );
        assert_eq!(
            key(KeyCode::Left, KeyModifiers::SHIFT),
            Some(EditKey::Move {
                motion: Motion::Left,
                extend: true
            })
        );
        assert_eq!(
            key(KeyCode::Down, KeyModifiers::CONTROL),
            Some(EditKey::Move {
                motion: Motion::NextSection,
                extend: false
            })
        );
        assert_eq!(key(KeyCode::F(5), KeyModifiers::NONE), None);
        assert_eq!(key(KeyCode::Char('q'), KeyModifiers::CONTROL), None);
    }
}
