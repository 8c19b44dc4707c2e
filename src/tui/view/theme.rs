//! Themes: TOML files with a style for every part of the screen (`[ui]`) and for every kind
//! of highlighted entity (`[entity]`). Built-in themes live in `themes/` (compiled in); a user
//! theme `<config_dir>/themes/<name>.toml` may `inherits = "dark"` and set only some keys.
//! Monochrome is chosen automatically when `NO_COLOR` is set or the terminal has fewer than
//! 256 colours (TERM=xterm, linux, vt100 …).

use crate::tui::view::color_support::nearest_256;
pub use crate::tui::view::color_support::ColorSupport;
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub const DEFAULT_THEME: &str = "dark";
pub const MONOCHROME: &str = "monochrome";

const BUILT_IN: [(&str, &str); 4] = [
    ("dark", include_str!("../../../themes/dark.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    (
        "monochrome",
        include_str!("../../../themes/monochrome.toml"),
    ),
];

/// Parts of the screen a theme styles (`[ui]` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UiPart {
    Base,
    Border,
    BorderFocused,
    Title,
    TitleFocused,
    Header,
    Selected,
    SelectedUnfocused,
    Muted,
    Error,
    Warning,
    TabActive,
    TabInactive,
    NoteHeader,
    LabHigh,
    LabLow,
    StatusBar,
    StatusKey,
    StatusMessage,
    HelpKey,
    DraftSection,
    StateNotStarted,
    StateDrafting,
    StateInReview,
    StateSigned,
    GuardUnsupported,
    GuardContradicted,
    GuardSupported,
    GuardAcknowledged,
    SourceMark,
    SignedBanner,
}

impl UiPart {
    pub const ALL: [UiPart; 31] = [
        UiPart::Base,
        UiPart::Border,
        UiPart::BorderFocused,
        UiPart::Title,
        UiPart::TitleFocused,
        UiPart::Header,
        UiPart::Selected,
        UiPart::SelectedUnfocused,
        UiPart::Muted,
        UiPart::Error,
        UiPart::Warning,
        UiPart::TabActive,
        UiPart::TabInactive,
        UiPart::NoteHeader,
        UiPart::LabHigh,
        UiPart::LabLow,
        UiPart::StatusBar,
        UiPart::StatusKey,
        UiPart::StatusMessage,
        UiPart::HelpKey,
        UiPart::DraftSection,
        UiPart::StateNotStarted,
        UiPart::StateDrafting,
        UiPart::StateInReview,
        UiPart::StateSigned,
        UiPart::GuardUnsupported,
        UiPart::GuardContradicted,
        UiPart::GuardSupported,
        UiPart::GuardAcknowledged,
        UiPart::SourceMark,
        UiPart::SignedBanner,
    ];

    pub fn key(self) -> &'static str {
        match self {
            UiPart::Base => "base",
            UiPart::Border => "border",
            UiPart::BorderFocused => "border_focused",
            UiPart::Title => "title",
            UiPart::TitleFocused => "title_focused",
            UiPart::Header => "header",
            UiPart::Selected => "selected",
            UiPart::SelectedUnfocused => "selected_unfocused",
            UiPart::Muted => "muted",
            UiPart::Error => "error",
            UiPart::Warning => "warning",
            UiPart::TabActive => "tab_active",
            UiPart::TabInactive => "tab_inactive",
            UiPart::NoteHeader => "note_header",
            UiPart::LabHigh => "lab_high",
            UiPart::LabLow => "lab_low",
            UiPart::StatusBar => "status_bar",
            UiPart::StatusKey => "status_key",
            UiPart::StatusMessage => "status_message",
            UiPart::HelpKey => "help_key",
            UiPart::DraftSection => "draft_section",
            UiPart::StateNotStarted => "state_not_started",
            UiPart::StateDrafting => "state_drafting",
            UiPart::StateInReview => "state_in_review",
            UiPart::StateSigned => "state_signed",
            UiPart::GuardUnsupported => "guard_unsupported",
            UiPart::GuardContradicted => "guard_contradicted",
            UiPart::GuardSupported => "guard_supported",
            UiPart::GuardAcknowledged => "guard_acknowledged",
            UiPart::SourceMark => "source_mark",
            UiPart::SignedBanner => "signed_banner",
        }
    }
}

/// Kinds of clinical entity the NLP highlights (`[entity]` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EntityKind {
    DiseasePositive,
    DiseaseNegative,
    DiseaseSuspicious,
    DiseaseGeneral,
    Anatomy,
    Medication,
    Dose,
    Test,
    TestValue,
    Procedure,
    Date,
}

impl EntityKind {
    pub const ALL: [EntityKind; 11] = [
        EntityKind::DiseasePositive,
        EntityKind::DiseaseNegative,
        EntityKind::DiseaseSuspicious,
        EntityKind::DiseaseGeneral,
        EntityKind::Anatomy,
        EntityKind::Medication,
        EntityKind::Dose,
        EntityKind::Test,
        EntityKind::TestValue,
        EntityKind::Procedure,
        EntityKind::Date,
    ];

    pub fn key(self) -> &'static str {
        match self {
            EntityKind::DiseasePositive => "disease_positive",
            EntityKind::DiseaseNegative => "disease_negative",
            EntityKind::DiseaseSuspicious => "disease_suspicious",
            EntityKind::DiseaseGeneral => "disease_general",
            EntityKind::Anatomy => "anatomy",
            EntityKind::Medication => "medication",
            EntityKind::Dose => "dose",
            EntityKind::Test => "test",
            EntityKind::TestValue => "test_value",
            EntityKind::Procedure => "procedure",
            EntityKind::Date => "date",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("theme \"{name}\" not found: no built-in theme of that name and no file {path} — use one of dark, light, high-contrast, monochrome or create the file")]
    NotFound { name: String, path: PathBuf },
    #[error("cannot read theme file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("theme {origin} is not valid: {message} — fix the file (see themes/dark.toml for every key)")]
    Invalid { origin: String, message: String },
    #[error("theme {origin} inherits from itself through \"{name}\" — make the chain end at a built-in theme")]
    InheritanceLoop { origin: String, name: String },
}

/// One style as written in a theme file: `{ fg = "#rrggbb", bg = "236", bold = true }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underline: bool,
    #[serde(default)]
    reversed: bool,
    #[serde(default)]
    dim: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    inherits: Option<String>,
    #[serde(default)]
    ui: BTreeMap<String, StyleSpec>,
    #[serde(default)]
    entity: BTreeMap<String, StyleSpec>,
}

/// A resolved theme: a ratatui `Style` for every part and entity kind.
#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    ui: BTreeMap<UiPart, Style>,
    entity: BTreeMap<EntityKind, Style>,
}

impl Theme {
    pub fn ui(&self, part: UiPart) -> Style {
        self.ui.get(&part).copied().unwrap_or_default()
    }

    pub fn entity(&self, kind: EntityKind) -> Style {
        self.entity.get(&kind).copied().unwrap_or_default()
    }

    /// The same theme with every RGB colour replaced by its nearest xterm-256 entry, for
    /// terminals that do not take 24-bit colour.
    pub fn to_256_colors(mut self) -> Self {
        let map = |color: Option<Color>| match color {
            Some(Color::Rgb(r, g, b)) => Some(Color::Indexed(nearest_256(r, g, b))),
            other => other,
        };
        let convert = |style: &mut Style| {
            style.fg = map(style.fg);
            style.bg = map(style.bg);
        };
        self.ui.values_mut().for_each(convert);
        self.entity.values_mut().for_each(convert);
        self
    }

    /// A built-in theme by name.
    pub fn built_in(name: &str) -> Result<Self, ThemeError> {
        Self::load(name, None)
    }

    /// Loads `name`: the user's `<user_dir>/<name>.toml` first, else the built-in one.
    pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Self, ThemeError> {
        // Follow `inherits` up to a built-in theme; `origin` tells user files from built-ins.
        let mut chain: Vec<(String, ThemeFile)> = Vec::new();
        let mut next = Some(name.to_string());
        while let Some(current) = next.take() {
            let user_file_used = chain.iter().any(|(origin, _)| {
                user_dir.is_some_and(|d| {
                    *origin == d.join(format!("{current}.toml")).display().to_string()
                })
            });
            if user_file_used && !is_built_in(&current) {
                return Err(ThemeError::InheritanceLoop {
                    origin: name.into(),
                    name: current,
                });
            }
            // A user file may inherit from the built-in theme of the same name.
            let (origin, text) = find_theme_text(&current, user_dir.filter(|_| !user_file_used))?;
            let file: ThemeFile = toml::from_str(&text).map_err(|e| ThemeError::Invalid {
                origin: origin.clone(),
                message: e.to_string(),
            })?;
            let built_in = origin.starts_with("built-in");
            next = match (&file.inherits, built_in) {
                (_, true) => None,
                (Some(parent), false) => Some(parent.clone()),
                // A user theme without `inherits` starts from the default.
                (None, false) => Some(DEFAULT_THEME.into()),
            };
            chain.push((origin, file));
        }
        let mut theme = Theme {
            name: name.into(),
            ui: BTreeMap::new(),
            entity: BTreeMap::new(),
        };
        // Apply from the root of the chain to the leaf, so the leaf wins.
        for (theme_name, file) in chain.iter().rev() {
            let theme_name = theme_name.as_str();
            for (key, spec) in &file.ui {
                let part = UiPart::ALL
                    .into_iter()
                    .find(|p| p.key() == key)
                    .ok_or_else(|| unknown_key(theme_name, "ui", key))?;
                theme.ui.insert(part, to_style(spec, theme_name)?);
            }
            for (key, spec) in &file.entity {
                let kind = EntityKind::ALL
                    .into_iter()
                    .find(|k| k.key() == key)
                    .ok_or_else(|| unknown_key(theme_name, "entity", key))?;
                theme.entity.insert(kind, to_style(spec, theme_name)?);
            }
        }
        Ok(theme)
    }

    /// Picks the theme for this terminal: monochrome without colour support, else the
    /// configured one (default dark).
    pub fn select(
        configured: Option<&str>,
        user_dir: Option<&Path>,
        colors: ColorSupport,
    ) -> Result<Self, ThemeError> {
        match colors {
            ColorSupport::None | ColorSupport::Basic => Self::load(MONOCHROME, user_dir),
            ColorSupport::Indexed256 => {
                Ok(Self::load(configured.unwrap_or(DEFAULT_THEME), user_dir)?.to_256_colors())
            }
            ColorSupport::TrueColor => Self::load(configured.unwrap_or(DEFAULT_THEME), user_dir),
        }
    }
}

fn is_built_in(name: &str) -> bool {
    BUILT_IN.iter().any(|(n, _)| *n == name)
}

fn find_theme_text(name: &str, user_dir: Option<&Path>) -> Result<(String, String), ThemeError> {
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if let Some(dir) = user_dir.filter(|_| valid_name) {
        let path = dir.join(format!("{name}.toml"));
        match std::fs::read_to_string(&path) {
            Ok(text) => return Ok((path.display().to_string(), text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(ThemeError::Read { path, source }),
        }
    }
    BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| (format!("built-in \"{n}\""), text.to_string()))
        .ok_or_else(|| ThemeError::NotFound {
            name: name.into(),
            path: user_dir
                .unwrap_or(Path::new("themes"))
                .join(format!("{name}.toml")),
        })
}

fn unknown_key(theme: &str, table: &str, key: &str) -> ThemeError {
    ThemeError::Invalid {
        origin: theme.to_string(),
        message: format!("unknown key [{table}] {key}"),
    }
}

fn to_style(spec: &StyleSpec, theme: &str) -> Result<Style, ThemeError> {
    let color = |text: &Option<String>| -> Result<Option<Color>, ThemeError> {
        text.as_deref()
            .map(|t| {
                Color::from_str(t).map_err(|_| ThemeError::Invalid {
                    origin: theme.to_string(),
                    message: format!(
                        "\"{t}\" is not a colour (write \"#rrggbb\", 0-255 or a name like \"red\")"
                    ),
                })
            })
            .transpose()
    };
    let mut style = Style::default();
    if let Some(fg) = color(&spec.fg)? {
        style = style.fg(fg);
    }
    if let Some(bg) = color(&spec.bg)? {
        style = style.bg(bg);
    }
    let flags = [
        (spec.bold, Modifier::BOLD),
        (spec.italic, Modifier::ITALIC),
        (spec.underline, Modifier::UNDERLINED),
        (spec.reversed, Modifier::REVERSED),
        (spec.dim, Modifier::DIM),
    ];
    for (on, modifier) in flags {
        if on {
            style = style.add_modifier(modifier);
        }
    }
    Ok(style)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_theme_styles_every_part() {
        for (name, text) in BUILT_IN {
            let file: ThemeFile = toml::from_str(text).unwrap();
            for part in UiPart::ALL {
                assert!(
                    file.ui.contains_key(part.key()),
                    "{name}: [ui] {}",
                    part.key()
                );
            }
            for kind in EntityKind::ALL {
                assert!(
                    file.entity.contains_key(kind.key()),
                    "{name}: [entity] {}",
                    kind.key()
                );
            }
            Theme::built_in(name).unwrap();
        }
    }

    #[test]
    fn monochrome_has_no_colours() {
        let mono = Theme::built_in(MONOCHROME).unwrap();
        for part in UiPart::ALL {
            let s = mono.ui(part);
            assert!(s.fg.is_none() && s.bg.is_none(), "{}", part.key());
        }
        for kind in EntityKind::ALL {
            let s = mono.entity(kind);
            assert!(s.fg.is_none() && s.bg.is_none(), "{}", kind.key());
        }
    }

    #[test]
    fn without_256_colours_the_theme_is_monochrome() {
        let basic = Theme::select(Some("light"), None, ColorSupport::Basic).unwrap();
        assert_eq!(basic.name, MONOCHROME);
        let none = Theme::select(Some("light"), None, ColorSupport::None).unwrap();
        assert_eq!(none.name, MONOCHROME);
        let full = Theme::select(Some("light"), None, ColorSupport::TrueColor).unwrap();
        assert_eq!(full.name, "light");
        let indexed = Theme::select(Some("light"), None, ColorSupport::Indexed256).unwrap();
        for part in UiPart::ALL {
            let style = indexed.ui(part);
            for color in [style.fg, style.bg].into_iter().flatten() {
                assert!(
                    !matches!(color, Color::Rgb(..)),
                    "{}: {color:?}",
                    part.key()
                );
            }
        }
    }

    #[test]
    fn user_theme_inherits_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ward.toml"),
            "inherits = \"light\"\n[ui]\nerror = { fg = \"#ff0000\", bold = true }\n",
        )
        .unwrap();
        let theme = Theme::load("ward", Some(dir.path())).unwrap();
        assert_eq!(theme.ui(UiPart::Error).fg, Some(Color::Rgb(255, 0, 0)));
        let light = Theme::built_in("light").unwrap();
        assert_eq!(theme.ui(UiPart::Border), light.ui(UiPart::Border));
        // A user file with the name of a built-in theme may inherit from it.
        std::fs::write(
            dir.path().join("dark.toml"),
            "inherits = \"dark\"\n[ui]\nmuted = { fg = \"1\" }\n",
        )
        .unwrap();
        let dark = Theme::load("dark", Some(dir.path())).unwrap();
        assert_eq!(dark.ui(UiPart::Muted).fg, Some(Color::Indexed(1)));
    }

    #[test]
    fn bad_themes_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("typo.toml"),
            "[ui]\nbordr = { fg = \"red\" }\n",
        )
        .unwrap();
        let err = Theme::load("typo", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bordr"), "{err}");
        std::fs::write(
            dir.path().join("colour.toml"),
            "[ui]\nborder = { fg = \"reddish\" }\n",
        )
        .unwrap();
        let err = Theme::load("colour", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("reddish"), "{err}");
        std::fs::write(dir.path().join("a.toml"), "inherits = \"b\"\n").unwrap();
        std::fs::write(dir.path().join("b.toml"), "inherits = \"a\"\n").unwrap();
        assert!(matches!(
            Theme::load("a", Some(dir.path())),
            Err(ThemeError::InheritanceLoop { .. })
        ));
        let err = Theme::load("nope", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("nope.toml"), "{err}");
    }
}
