//! Text for the screen: every file-derived string passes through [`safe`] before it is drawn
//! (no control character from a chart ever reaches the terminal), and is measured, cut and
//! wrapped by display width (CJK characters take two cells; a wide character is never split).

use std::borrow::Cow;
use unicode_width::UnicodeWidthChar;

/// Cells a tab advances to in chart text (tabs are expanded, never written raw).
const TAB_WIDTH: usize = 4;
const ELLIPSIS: char = '…';

/// A file-derived string made safe for one line of the screen: control characters replaced,
/// tabs and line breaks turned into spaces.
pub fn safe_line(text: &str) -> String {
    safe(text)
        .chars()
        .map(|c| if c == '\n' || c == '\t' { ' ' } else { c })
        .collect()
}

/// A file-derived string made safe for the screen (controls replaced, tabs to spaces); keeps `\n`.
pub fn safe(text: &str) -> Cow<'_, str> {
    crate::chart::sanitize::for_terminal(text)
}

/// Display width in terminal cells (control characters count zero; callers pass safe text).
pub fn width(text: &str) -> usize {
    text.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    if c == '\t' {
        TAB_WIDTH
    } else {
        c.width().unwrap_or(0)
    }
}

/// Cuts `text` to at most `max` cells, ending in `…` when something was cut.
pub fn truncate(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = char_width(c);
        // Leave one cell for the ellipsis.
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push(ELLIPSIS);
    out
}

/// Cuts or pads `text` with spaces to exactly `cells` cells (a wide character that would
/// straddle the edge is replaced by the ellipsis, never split).
pub fn fit(text: &str, cells: usize) -> String {
    let mut out = truncate(text, cells);
    let w = width(&out);
    out.extend(std::iter::repeat_n(' ', cells.saturating_sub(w)));
    out
}

/// Like [`fit`] but right-aligned (numbers).
pub fn fit_right(text: &str, cells: usize) -> String {
    let cut = truncate(text, cells);
    let w = width(&cut);
    let mut out: String = std::iter::repeat_n(' ', cells.saturating_sub(w)).collect();
    out.push_str(&cut);
    out
}

/// Wraps `text` into lines of at most `max` cells. Japanese has no spaces between words, so
/// lines break at any character; existing line breaks are kept; tabs become spaces.
pub fn wrap(text: &str, max: usize) -> Vec<String> {
    let max = max.max(2);
    let mut lines = Vec::new();
    for source_line in text.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for c in source_line.chars() {
            if c == '\r' {
                continue;
            }
            let (piece, w): (Cow<str>, usize) = if c == '\t' {
                let spaces = TAB_WIDTH - used % TAB_WIDTH;
                (Cow::Owned(" ".repeat(spaces)), spaces)
            } else {
                (Cow::Owned(c.to_string()), char_width(c))
            };
            if used + w > max && used > 0 {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push_str(&piece);
            used += w;
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_cjk_as_two() {
        assert_eq!(width("山田 太郎"), 9);
        assert_eq!(width("abc"), 3);
        assert_eq!(width("ｱｲｳ"), 3, "half-width kana are narrow");
    }

    #[test]
    fn truncate_never_splits_a_wide_char() {
        assert_eq!(truncate("山田太郎", 8), "山田太郎");
        assert_eq!(truncate("山田太郎", 7), "山田太…");
        assert_eq!(truncate("山田太郎", 6), "山田…");
        assert_eq!(width(&truncate("山田太郎", 6)), 5);
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn fit_pads_to_exact_cells() {
        for cells in 0..12 {
            assert_eq!(width(&fit("循環器内科", cells)), cells, "cells={cells}");
            assert_eq!(width(&fit_right("12.5", cells)), cells);
        }
        assert_eq!(fit("5東", 5), "5東  ");
        assert_eq!(fit_right("12", 4), "  12");
    }

    #[test]
    fn wrap_breaks_by_display_width_and_keeps_line_breaks() {
        let lines = wrap("あいうえおかき\nabc", 6);
        assert_eq!(lines, vec!["あいう", "えおか", "き", "abc"]);
        assert!(wrap("a\tb", 10)[0].starts_with("a   b"));
        for line in wrap("発熱、咳嗽あり。CRP 12.5 mg/dL と上昇。", 7) {
            assert!(width(&line) <= 7, "{line}");
        }
    }

    #[test]
    fn safe_line_has_no_controls_or_breaks() {
        let line = safe_line("ab\u{1b}[2Jcd\nef\u{9b}g\u{7}");
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        assert!(line.contains("ab") && line.contains("ef"));
    }
}
