//! Terminal safety. A chart file must never be able to rewrite the clinician's screen, so
//! files containing terminal control sequences are refused at load time, and every string
//! drawn from a file passes through [`for_terminal`] anyway (defence in depth).

use std::borrow::Cow;

/// The first control character that has no business in clinical text, with its char offset.
/// Allowed: tab, line feed, carriage return. Refused: ESC (CSI/OSC/DCS start with it), BEL,
/// other C0 controls, DEL and the C1 controls U+0080–U+009F (8-bit CSI/OSC).
pub fn find_control(text: &str) -> Option<(usize, char)> {
    text.chars()
        .enumerate()
        .find(|&(_, c)| is_forbidden_control(c))
}

pub fn is_forbidden_control(c: char) -> bool {
    match c {
        '\t' | '\n' | '\r' => false,
        c if (c as u32) < 0x20 => true,
        '\u{7f}'..='\u{9f}' => true,
        _ => false,
    }
}

/// Human name of a control character for error messages.
pub fn describe_control(c: char) -> String {
    match c {
        '\u{1b}' => "ESC (start of a terminal escape sequence)".into(),
        '\u{07}' => "BEL".into(),
        '\u{9b}' => "C1 CSI (U+009B)".into(),
        '\u{9d}' => "C1 OSC (U+009D)".into(),
        c => format!("control character U+{:04X}", c as u32),
    }
}

/// Text safe to hand to the terminal: forbidden controls become U+FFFD, carriage returns
/// are dropped, tabs become spaces. Newlines stay (the widgets split lines themselves).
pub fn for_terminal(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| is_forbidden_control(c) || c == '\r' || c == '\t')
    {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter(|&c| c != '\r')
            .map(|c| match c {
                '\t' => ' ',
                c if is_forbidden_control(c) => '\u{fffd}',
                c => c,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_escape_sequences_and_c1() {
        assert_eq!(find_control("発熱なし\n咳嗽あり\t"), None);
        assert_eq!(find_control("ab\u{1b}[2Jcd").map(|(i, _)| i), Some(2));
        assert!(find_control("\u{9b}31m").is_some());
        assert!(find_control("ring\u{07}").is_some());
        assert!(find_control("\u{1b}]52;c;AAAA\u{07}").is_some());
    }

    #[test]
    fn for_terminal_neutralizes_controls() {
        assert!(matches!(for_terminal("普通の文"), Cow::Borrowed(_)));
        let safe = for_terminal("a\u{1b}[2Jb\r\n\tc\u{9d}");
        assert_eq!(safe, "a\u{fffd}[2Jb\n c\u{fffd}");
        assert!(find_control(&safe).is_none());
    }
}
