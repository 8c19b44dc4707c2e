//! Keys → commands: built-in defaults, overridden per command by the config file's
//! `[keys]` table, e.g. `move_down = "j down"` (several keys separated by spaces; an empty
//! string unbinds). Key strings: a character (`j`, `G`, `?`), a named key (`enter`, `esc`,
//! `tab`, `space`, `up`, `pagedown`, `f1` …), optionally prefixed by `ctrl-`, `alt-`, `shift-`.

use crate::tui::input::command::Command;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// One key with its modifiers, normalized so that a config string and a terminal event
/// for the same key compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl Key {
    fn new(code: KeyCode, modifiers: KeyModifiers) -> Self {
        let mut modifiers =
            modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            // A character already carries its case; terminals differ in also reporting SHIFT.
            KeyCode::Char(_) | KeyCode::BackTab => {
                modifiers.remove(KeyModifiers::SHIFT);
                code
            }
            KeyCode::Tab if modifiers.contains(KeyModifiers::SHIFT) => {
                modifiers.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Self { code, modifiers }
    }

    pub fn from_event(event: &KeyEvent) -> Self {
        Self::new(event.code, event.modifiers)
    }

    /// Parses `ctrl-c`, `shift-tab`, `G`, `?`, `pagedown`, `f5`, `-` …
    pub fn parse(text: &str) -> Option<Self> {
        let mut rest = text;
        let mut modifiers = KeyModifiers::NONE;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (prefix, flag) = if lower.starts_with("ctrl-") {
                ("ctrl-", KeyModifiers::CONTROL)
            } else if lower.starts_with("alt-") {
                ("alt-", KeyModifiers::ALT)
            } else if lower.starts_with("shift-") {
                ("shift-", KeyModifiers::SHIFT)
            } else {
                break;
            };
            if rest.len() == prefix.len() {
                break; // e.g. "ctrl-" alone is not a key
            }
            modifiers |= flag;
            rest = &rest[prefix.len()..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => named_key(&rest.to_ascii_lowercase())?,
        };
        Some(Self::new(code, modifiers))
    }
}

fn named_key(name: &str) -> Option<KeyCode> {
    Some(match name {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "insert" | "ins" => KeyCode::Insert,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" | "pgup" => KeyCode::PageUp,
        "pagedown" | "pgdn" => KeyCode::PageDown,
        f if f.starts_with('f') => {
            KeyCode::F(f[1..].parse().ok().filter(|n| (1..=24).contains(n))?)
        }
        _ => return None,
    })
}

impl fmt::Display for Key {
    /// Written in the config syntax, so the help teaches what to write.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            f.write_str("shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Delete => f.write_str("delete"),
            KeyCode::Insert => f.write_str("insert"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::PageUp => f.write_str("pageup"),
            KeyCode::PageDown => f.write_str("pagedown"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KeymapError {
    #[error("[keys] in the config file names an unknown command \"{name}\" — use one of: {known}")]
    UnknownCommand { name: String, known: String },
    #[error("[keys] {command} = \"{key}\": \"{key}\" is not a key — write e.g. \"j\", \"ctrl-g\", \"shift-tab\", \"pagedown\", \"f1\"")]
    BadKey { command: String, key: String },
    #[error("[keys]: \"{key}\" is bound to both {first} and {second} — give each key one command")]
    Conflict {
        key: String,
        first: String,
        second: String,
    },
}

/// The active bindings.
#[derive(Debug, Clone)]
pub struct Keymap {
    by_key: HashMap<Key, Command>,
    /// Keys of each command, in the order written (the first is shown in the status bar).
    by_command: BTreeMap<Command, Vec<Key>>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self::with_overrides(&BTreeMap::new()).unwrap_or_else(|_| Self::empty())
    }
}

impl Keymap {
    fn empty() -> Self {
        Self {
            by_key: HashMap::new(),
            by_command: BTreeMap::new(),
        }
    }

    /// The defaults with the user's `[keys]` table applied: a command named there gets exactly
    /// the keys given; a key the user gives to one command is taken away from any other.
    pub fn with_overrides(user: &BTreeMap<String, String>) -> Result<Self, KeymapError> {
        let mut user_bindings: Vec<(Command, Vec<Key>)> = Vec::new();
        for (name, keys) in user {
            let command = Command::from_name(name).ok_or_else(|| KeymapError::UnknownCommand {
                name: name.clone(),
                known: Command::ALL.map(|c| c.name()).join(", "),
            })?;
            let keys = parse_keys(command, keys)?;
            user_bindings.push((command, keys));
        }
        let mut map = Self::empty();
        let mut user_keys: HashMap<Key, Command> = HashMap::new();
        for (command, keys) in &user_bindings {
            for key in keys {
                if let Some(first) = user_keys.insert(*key, *command) {
                    if first != *command {
                        return Err(KeymapError::Conflict {
                            key: key.to_string(),
                            first: first.name().into(),
                            second: command.name().into(),
                        });
                    }
                }
            }
        }
        // The built-in bindings: each command's default keys from the command table.
        for command in Command::ALL {
            if user_bindings.iter().any(|(c, _)| *c == command) {
                continue;
            }
            let keys = parse_keys(command, command.default_keys())?
                .into_iter()
                .filter(|k| !user_keys.contains_key(k))
                .collect();
            map.bind(command, keys);
        }
        for (command, keys) in user_bindings {
            map.bind(command, keys);
        }
        Ok(map)
    }

    fn bind(&mut self, command: Command, keys: Vec<Key>) {
        for key in &keys {
            self.by_key.insert(*key, command);
        }
        self.by_command.entry(command).or_default().extend(keys);
    }

    pub fn command_for(&self, event: &KeyEvent) -> Option<Command> {
        self.by_key.get(&Key::from_event(event)).copied()
    }

    pub fn keys_for(&self, command: Command) -> &[Key] {
        self.by_command
            .get(&command)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// All keys of a command, as the help shows them ("j / down").
    pub fn describe_keys(&self, command: Command) -> String {
        let keys: Vec<String> = self.keys_for(command).iter().map(Key::to_string).collect();
        keys.join(" / ")
    }
}

fn parse_keys(command: Command, keys: &str) -> Result<Vec<Key>, KeymapError> {
    keys.split_whitespace()
        .map(|k| {
            Key::parse(k).ok_or_else(|| KeymapError::BadKey {
                command: command.name().into(),
                key: k.into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn every_command_has_a_default_key() {
        let map = Keymap::default();
        for c in Command::ALL {
            assert!(!map.keys_for(c).is_empty(), "{} has no key", c.name());
        }
    }

    #[test]
    fn key_strings_parse_and_print_back() {
        for s in [
            "j",
            "G",
            "?",
            "ctrl-c",
            "shift-tab",
            "enter",
            "pagedown",
            "f1",
            "alt-x",
            "space",
            "-",
            "ctrl--",
        ] {
            let key = Key::parse(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(Key::parse(&key.to_string()), Some(key), "{s}");
        }
        assert_eq!(Key::parse("ctrl-"), None);
        assert_eq!(Key::parse("f99"), None);
        assert_eq!(Key::parse("banana"), None);
    }

    #[test]
    fn terminal_events_match_config_strings() {
        let map = Keymap::default();
        assert_eq!(
            map.command_for(&event(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Command::GoBottom)
        );
        assert_eq!(
            map.command_for(&event(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            Some(Command::ToggleHelp)
        );
        assert_eq!(
            map.command_for(&event(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Command::FocusPrev)
        );
        assert_eq!(
            map.command_for(&event(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(
            map.command_for(&event(KeyCode::Char('z'), KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn user_overrides_replace_and_steal_keys() {
        let user = BTreeMap::from([
            ("quit".to_string(), "ctrl-q".to_string()),
            ("move_down".to_string(), "n".to_string()),
            ("generate_draft".to_string(), "j".to_string()),
        ]);
        let map = Keymap::with_overrides(&user).unwrap();
        assert_eq!(
            map.command_for(&event(KeyCode::Char('q'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            map.command_for(&event(KeyCode::Char('q'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(
            map.command_for(&event(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some(Command::GenerateDraft)
        );
        assert_eq!(map.describe_keys(Command::MoveDown), "n");
        assert_eq!(
            map.command_for(&event(KeyCode::Char('d'), KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn the_config_files_keys_table_reaches_the_keymap() {
        let config =
            crate::config::Config::parse("[keys]\nquit = \"ctrl-q\"\nhelp = \"f1\"\n").unwrap();
        let map = Keymap::with_overrides(&config.keys).unwrap();
        assert_eq!(map.describe_keys(Command::Quit), "ctrl-q");
        assert_eq!(map.describe_keys(Command::ToggleHelp), "f1");
    }

    #[test]
    fn bad_user_keys_are_clear_errors() {
        let unknown = BTreeMap::from([("qiut".to_string(), "q".to_string())]);
        let err = Keymap::with_overrides(&unknown).unwrap_err().to_string();
        assert!(err.contains("qiut") && err.contains("quit"), "{err}");
        let bad = BTreeMap::from([("quit".to_string(), "ctrl-banana".to_string())]);
        assert!(Keymap::with_overrides(&bad)
            .unwrap_err()
            .to_string()
            .contains("ctrl-banana"));
        let clash = BTreeMap::from([
            ("quit".to_string(), "x".to_string()),
            ("help".to_string(), "x".to_string()),
        ]);
        assert!(matches!(
            Keymap::with_overrides(&clash),
            Err(KeymapError::Conflict { .. })
        ));
    }
}
