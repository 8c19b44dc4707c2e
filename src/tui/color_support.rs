//! How many colours the terminal can show, from `NO_COLOR`, `COLORTERM` and `TERM`.

/// How many colours the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorSupport {
    /// `NO_COLOR` is set (<https://no-color.org>) or TERM=dumb.
    None,
    /// 8 or 16 colours.
    Basic,
    /// 256 colours or true colour.
    Full,
}

impl ColorSupport {
    /// From the environment of this process.
    pub fn detect() -> Self {
        let var = |name: &str| std::env::var(name).ok();
        Self::from_env(var("NO_COLOR"), var("TERM"), var("COLORTERM"))
    }

    pub fn from_env(
        no_color: Option<String>,
        term: Option<String>,
        colorterm: Option<String>,
    ) -> Self {
        if no_color.is_some_and(|v| !v.is_empty()) {
            return ColorSupport::None;
        }
        let term = term.unwrap_or_default();
        if term.is_empty() || term == "dumb" {
            return ColorSupport::None;
        }
        let colorterm = colorterm.unwrap_or_default();
        if colorterm == "truecolor" || colorterm == "24bit" {
            return ColorSupport::Full;
        }
        if [
            "256color",
            "truecolor",
            "direct",
            "kitty",
            "alacritty",
            "wezterm",
            "foot",
        ]
        .iter()
        .any(|t| term.contains(t))
        {
            ColorSupport::Full
        } else {
            ColorSupport::Basic
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_support_follows_no_color_and_term() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            ColorSupport::from_env(s("1"), s("xterm-256color"), None),
            ColorSupport::None
        );
        assert_eq!(
            ColorSupport::from_env(None, s("xterm"), None),
            ColorSupport::Basic
        );
        assert_eq!(
            ColorSupport::from_env(None, s("linux"), None),
            ColorSupport::Basic
        );
        assert_eq!(
            ColorSupport::from_env(None, s("xterm-256color"), None),
            ColorSupport::Full
        );
        assert_eq!(
            ColorSupport::from_env(None, s("xterm"), s("truecolor")),
            ColorSupport::Full
        );
        assert_eq!(
            ColorSupport::from_env(s(""), s("tmux-256color"), None),
            ColorSupport::Full
        );
    }
}
