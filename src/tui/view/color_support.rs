//! How many colours the terminal can show, from `NO_COLOR`, `COLORTERM` and `TERM`.

/// How many colours the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorSupport {
    /// `NO_COLOR` is set (<https://no-color.org>) or TERM=dumb.
    None,
    /// 8 or 16 colours.
    Basic,
    /// The xterm 256-colour palette (theme colours are mapped to the nearest entry).
    Indexed256,
    /// 24-bit colour.
    TrueColor,
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
        let true_color_terms = [
            "truecolor",
            "direct",
            "kitty",
            "alacritty",
            "wezterm",
            "foot",
        ];
        if colorterm == "truecolor"
            || colorterm == "24bit"
            || true_color_terms.iter().any(|t| term.contains(t))
        {
            ColorSupport::TrueColor
        } else if term.contains("256color") {
            ColorSupport::Indexed256
        } else {
            ColorSupport::Basic
        }
    }
}

/// The xterm 256-colour palette entry nearest to an RGB colour (6x6x6 cube or grey ramp).
pub fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let cube_index = |v: u8| -> usize {
        CUBE.iter()
            .enumerate()
            .min_by_key(|(_, c)| (i32::from(**c) - i32::from(v)).abs())
            .map_or(0, |(i, _)| i)
    };
    let (ri, gi, bi) = (cube_index(r), cube_index(g), cube_index(b));
    let cube = (CUBE[ri], CUBE[gi], CUBE[bi]);
    let grey_level = (u32::from(r) + u32::from(g) + u32::from(b)) / 3;
    // Grey ramp 232..=255 is 8, 18, …, 238.
    let grey_index = (grey_level.saturating_sub(3) / 10).min(23);
    let grey = u8::try_from(8 + grey_index * 10).unwrap_or(238);
    let distance = |(cr, cg, cb): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        d(cr, r) + d(cg, g) + d(cb, b)
    };
    if distance((grey, grey, grey)) < distance(cube) {
        232 + u8::try_from(grey_index).unwrap_or(23)
    } else {
        16 + u8::try_from(36 * ri + 6 * gi + bi).unwrap_or(0)
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
            ColorSupport::Indexed256
        );
        assert_eq!(
            ColorSupport::from_env(None, s("xterm"), s("truecolor")),
            ColorSupport::TrueColor
        );
        assert_eq!(
            ColorSupport::from_env(s(""), s("tmux-256color"), None),
            ColorSupport::Indexed256
        );
    }

    #[test]
    fn rgb_maps_to_the_nearest_palette_entry() {
        assert_eq!(nearest_256(0, 0, 0), 16);
        assert_eq!(nearest_256(255, 255, 255), 231);
        assert_eq!(nearest_256(0x5f, 0xaf, 0xff), 16 + 36 + 6 * 3 + 5); // #5fafff is cube (1,3,5)
        assert_eq!(nearest_256(0x26, 0x26, 0x26), 235); // dark grey → grey ramp
        assert_eq!(nearest_256(0xff, 0x5f, 0x5f), 16 + 36 * 5 + 6 + 1);
    }
}
