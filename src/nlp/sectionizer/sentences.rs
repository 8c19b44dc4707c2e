//! Sentences of a segment: what evidence is chosen and quoted by.

use std::ops::Range;

/// The sentences of `text[range]` (char offsets), trimmed of spaces and list bullets,
/// empty ones left out. A sentence ends at 。！？!? or a line break, and at a `.` followed by a
/// space (English); a `.` or `．` between digits is a decimal point.
pub fn sentences(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let chars: Vec<char> = text.chars().collect();
    let end = range.end.min(chars.len());
    let mut out = Vec::new();
    let mut start = range.start.min(end);
    let mut i = start;
    while i < end {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let ends = match c {
            '。' | '！' | '？' | '!' | '?' | '\n' => true,
            '.' | '．' => next.is_none_or(|n| n == ' ' || n == '\n' || n == '\u{3000}'),
            _ => false,
        };
        if ends {
            let stop = if c == '\n' { i } else { i + 1 };
            push_trimmed(&chars, start..stop, &mut out);
            start = i + 1;
        }
        i += 1;
    }
    push_trimmed(&chars, start..end, &mut out);
    out
}

fn push_trimmed(chars: &[char], range: Range<usize>, out: &mut Vec<Range<usize>>) {
    let (mut s, mut e) = (range.start, range.end);
    while s < e
        && (chars[s].is_whitespace()
            || matches!(chars[s], '・' | '-' | '*' | '●' | '○' | '■' | '□'))
    {
        s += 1;
    }
    while e > s && chars[e - 1].is_whitespace() {
        e -= 1;
    }
    if e > s {
        out.push(s..e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        sentences(text, 0..chars.len())
            .into_iter()
            .map(|r| chars[r].iter().collect())
            .collect()
    }

    #[test]
    fn japanese_english_and_decimals() {
        assert_eq!(
            texts("発熱あり。CRP 12.5 と上昇！\n・抗菌薬開始\nPt was stable. Discharged home"),
            [
                "発熱あり。",
                "CRP 12.5 と上昇！",
                "抗菌薬開始",
                "Pt was stable.",
                "Discharged home"
            ]
        );
        assert_eq!(texts("Ｈｂ　１０．２へ低下。"), ["Ｈｂ　１０．２へ低下。"]);
        assert!(texts("  \n ").is_empty());
    }
}
