//! Note sectionizer: splits a clinical note into labelled segments (主訴, 現病歴, S/O/A/P,
//! 手術記録 fields, 退院時記録 fields …) with character offsets into the ORIGINAL text.
//!
//! medspaCy's sectionizer in spirit: the headings are data (`headings.toml`), the matcher is
//! small. Drafting uses the segments to pick the evidence for each narrative section (the
//! 主訴 of an admission note, the last P of the stay …) instead of the whole chart.
//!
//! A segment starts at its heading marker (「主訴：」, 「S)」, 「【O】」, 「＃１」 are part of it)
//! and runs until the next heading starts; text before the first heading, and a note without
//! headings, is one segment labelled [`UNLABELLED`]. Headings are recognized
//! - at the start of a line: `name：`, `name:`, `【name】`, `＜name＞`, `■name`, a name alone on
//!   its line, a name followed by a wide space or a tab, and the SOAP letters as `S)`, `S：`,
//!   `Ｓ）`, `【S】`, `S＞`, `(S)`;
//! - inside a line, after a space or 。/、: `name：` (「麻酔：全身麻酔　出血量：20mL」) and `【name】`;
//! - `#1` / `＃２` problem lines start a `problem` segment, except inside S/O/A/P, where they
//!   belong to that part.
//!
//! Words that only look like headings are not: 「主訴は改善」, 「A型肝炎」, 「S状結腸」, 「所見なし」,
//! 「P:72」 (a pulse) — a heading needs its delimiter, and a SOAP letter inside a line needs one
//! that is not followed by a digit.

mod rules;
mod sentences;

use std::ops::Range;

pub use rules::{HeadingRules, SOAP_LABELS};
pub use sentences::sentences;

/// The label of text that is under no heading.
pub const UNLABELLED: &str = "none";

/// One labelled part of a note. Offsets are character offsets into the note's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSegment {
    /// A label key from `headings.toml` (`chief_complaint`, `subjective`, `op_procedure` …)
    /// or [`UNLABELLED`].
    pub label: String,
    /// Where the segment starts: its heading marker, when it has one.
    pub start: usize,
    /// Where its body starts (after the marker and its delimiter).
    pub body_start: usize,
    /// End, exclusive: where the next heading starts.
    pub end: usize,
}

impl NoteSegment {
    pub fn body(&self) -> Range<usize> {
        self.body_start..self.end
    }
}

/// Splits `text` (a note of kind `note_kind`, e.g. 入院時記録) into segments covering it
/// whole, in order, with the built-in heading rules.
pub fn sectionize(text: &str, note_kind: &str) -> Vec<NoteSegment> {
    HeadingRules::builtin().sectionize(text, note_kind)
}

/// Full-width ASCII and the ideographic space folded to ASCII, one char for one char (so
/// offsets are unchanged).
pub(crate) fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// What a heading found in a line looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeadingMatch {
    pub label: String,
    /// Char offsets within the line.
    pub start: usize,
    pub body_start: usize,
}

impl HeadingRules {
    pub fn sectionize(&self, text: &str, note_kind: &str) -> Vec<NoteSegment> {
        let chars: Vec<char> = text.chars().collect();
        let folded: Vec<char> = chars.iter().map(|&c| fold(c)).collect();
        let mut starts: Vec<(usize, usize, String)> = Vec::new(); // (start, body_start, label)
        let mut current = UNLABELLED.to_string();
        let mut line_start = 0;
        while line_start <= chars.len() {
            let line_end = folded[line_start..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |p| line_start + p);
            let line = &folded[line_start..line_end];
            let original = &chars[line_start..line_end];
            for m in self.headings_in_line(line, original, note_kind, &current) {
                current = m.label.clone();
                starts.push((line_start + m.start, line_start + m.body_start, m.label));
            }
            if line_end == chars.len() {
                break;
            }
            line_start = line_end + 1;
        }
        let mut segments = Vec::new();
        let first = starts.first().map_or(chars.len(), |s| s.0);
        if first > 0 || starts.is_empty() {
            segments.push(NoteSegment {
                label: UNLABELLED.to_string(),
                start: 0,
                body_start: 0,
                end: first,
            });
        }
        for (i, (start, body_start, label)) in starts.iter().enumerate() {
            let end = starts.get(i + 1).map_or(chars.len(), |s| s.0);
            segments.push(NoteSegment {
                label: label.clone(),
                start: *start,
                body_start: (*body_start).min(end),
                end,
            });
        }
        segments
    }

    /// Every heading of one line, in order. `current` is the label in force before the line.
    fn headings_in_line(
        &self,
        line: &[char],
        original: &[char],
        note_kind: &str,
        current: &str,
    ) -> Vec<HeadingMatch> {
        let mut found = Vec::new();
        let mut from = 0;
        if let Some(m) = self.line_start_heading(line, original, note_kind, current) {
            from = m.body_start;
            found.push(m);
        }
        // A label at the very start of a heading's body is part of that body (「■画像　頭部MRI：…」).
        let mut p = if found.is_empty() { 1 } else { from + 1 };
        while p < line.len() {
            if let Some(m) = self.inline_heading(line, p, note_kind) {
                p = m.body_start.max(p + 1);
                found.push(m);
            } else {
                p += 1;
            }
        }
        found
    }

    fn line_start_heading(
        &self,
        line: &[char],
        original: &[char],
        note_kind: &str,
        current: &str,
    ) -> Option<HeadingMatch> {
        let mut j = 0;
        while j < line.len() && line[j].is_whitespace() {
            j += 1;
        }
        let start = j;
        while j < line.len() && is_bullet(line[j]) {
            j += 1;
            while j < line.len() && line[j] == ' ' {
                j += 1;
            }
        }
        let c = *line.get(j)?;
        // 【name】, ＜name＞, [name], (S)
        if let Some(close) = closing_bracket(c) {
            let end = line[j + 1..]
                .iter()
                .take(24)
                .position(|&x| x == close)
                .map(|p| j + 1 + p)?;
            let inner: String = line[j + 1..end].iter().collect();
            let label = self.classify(inner.trim(), note_kind, true)?;
            return Some(HeadingMatch {
                label,
                start,
                body_start: skip_delimiters(line, end + 1),
            });
        }
        // #1 / ＃２ / #転倒リスク problem lines: a problem segment of their own unless they sit
        // in a labelled part of the note (A), 【病名】 …), which they belong to.
        if c == '#' {
            let next = line.get(j + 1).copied().unwrap_or(' ');
            let problem_line =
                !next.is_whitespace() || line.get(j + 2).is_some_and(|d| d.is_ascii_digit());
            if problem_line && (current == UNLABELLED || current == "problem") {
                return Some(HeadingMatch {
                    label: "problem".into(),
                    start,
                    body_start: start,
                });
            }
            return None;
        }
        // S) S: S＞ S】
        if let Some(label) = soap_label(c) {
            if line
                .get(j + 1)
                .is_some_and(|&d| matches!(d, ')' | ':' | '>' | '】' | '〉' | '＞'))
            {
                return Some(HeadingMatch {
                    label: label.into(),
                    start,
                    body_start: skip_delimiters(line, j + 2),
                });
            }
        }
        // English headings of several words: "Chief complaint:", "Hospital course:"
        if c.is_ascii_alphabetic() {
            let mut k = j;
            while k < line.len()
                && k - j <= 30
                && (line[k].is_ascii_alphanumeric() || matches!(line[k], ' ' | '/' | '-'))
            {
                k += 1;
            }
            if line.get(k) == Some(&':') {
                let name: String = line[j..k].iter().collect();
                if let Some(label) = self.classify(name.trim(), note_kind, true) {
                    return Some(HeadingMatch {
                        label,
                        start,
                        body_start: skip_delimiters(line, k + 1),
                    });
                }
            }
        }
        // name： / name alone / name + wide space
        let mut k = j;
        while k < line.len() && k - j <= 24 && !is_name_end(line[k]) {
            k += 1;
        }
        if k == j || k - j > 24 {
            return None;
        }
        let name: String = line[j..k].iter().collect();
        let name = name.trim_end();
        match line.get(k) {
            Some(':') => {
                let label = self.classify(name, note_kind, true)?;
                Some(HeadingMatch {
                    label,
                    start,
                    body_start: skip_delimiters(line, k + 1),
                })
            }
            None => {
                let label = self.classify(name, note_kind, false)?;
                Some(HeadingMatch {
                    label,
                    start,
                    body_start: k,
                })
            }
            Some(' ') if original[k] == '\u{3000}' || original[k] == '\t' => {
                if name.chars().count() < 2 {
                    return None;
                }
                let label = self.classify(name, note_kind, false)?;
                Some(HeadingMatch {
                    label,
                    start,
                    body_start: skip_delimiters(line, k),
                })
            }
            Some('\t') => {
                let label = self.classify(name, note_kind, false)?;
                Some(HeadingMatch {
                    label,
                    start,
                    body_start: skip_delimiters(line, k),
                })
            }
            _ => None,
        }
    }

    /// A heading that starts at `p` inside a line (after a space, 。 or 、).
    fn inline_heading(&self, line: &[char], p: usize, note_kind: &str) -> Option<HeadingMatch> {
        let before = line[p - 1];
        let c = line[p];
        if c == '【' {
            let end = line[p + 1..]
                .iter()
                .take(24)
                .position(|&x| x == '】')
                .map(|q| p + 1 + q)?;
            let inner: String = line[p + 1..end].iter().collect();
            let label = self.classify(inner.trim(), note_kind, true)?;
            return Some(HeadingMatch {
                label,
                start: p,
                body_start: skip_delimiters(line, end + 1),
            });
        }
        if !(before == ' ' || before == '。' || before == '、' || before == ',') {
            return None;
        }
        if let Some(label) = soap_label(c) {
            let delim = line.get(p + 1).copied();
            let after = line.get(p + 2).copied();
            if matches!(delim, Some(')' | '>' | '】' | ':'))
                && !after.is_some_and(|a| a.is_ascii_digit() || a == ' ' && delim == Some(':'))
            {
                return Some(HeadingMatch {
                    label: label.into(),
                    start: p,
                    body_start: skip_delimiters(line, p + 2),
                });
            }
        }
        let mut k = p;
        while k < line.len() && k - p <= 12 && !is_name_end(line[k]) && line[k] != ' ' {
            k += 1;
        }
        // One letter before a colon inside a line is a value's name (「P:72」), not a heading.
        if k < p + 2 || line.get(k) != Some(&':') {
            return None;
        }
        let name: String = line[p..k].iter().collect();
        let label = self.classify(&name, note_kind, true)?;
        Some(HeadingMatch {
            label,
            start: p,
            body_start: skip_delimiters(line, k + 1),
        })
    }
}

fn is_bullet(c: char) -> bool {
    matches!(
        c,
        '■' | '□'
            | '●'
            | '○'
            | '◆'
            | '◇'
            | '▼'
            | '▽'
            | '▶'
            | '◎'
            | '★'
            | '☆'
            | '・'
            | '*'
            | '-'
    )
}

fn closing_bracket(c: char) -> Option<char> {
    match c {
        '【' => Some('】'),
        '<' => Some('>'),
        '＜' => Some('＞'),
        '〈' => Some('〉'),
        '《' => Some('》'),
        '[' => Some(']'),
        '(' => Some(')'),
        '〔' => Some('〕'),
        _ => None,
    }
}

/// Chars that end a heading name at the start of a line.
fn is_name_end(c: char) -> bool {
    matches!(
        c,
        ':' | '。' | '、' | ',' | '\t' | '(' | ')' | '「' | '」' | '=' | '→'
    ) || (c == ' ')
}

fn soap_label(c: char) -> Option<&'static str> {
    match c {
        'S' => Some("subjective"),
        'O' => Some("objective"),
        'A' => Some("assessment"),
        'P' => Some("plan"),
        _ => None,
    }
}

/// The body starts after delimiters and spaces that follow a heading.
fn skip_delimiters(line: &[char], mut i: usize) -> usize {
    while i < line.len() && matches!(line[i], ':' | ' ' | '>' | ')' | '】' | '\t' | '-') {
        i += 1;
    }
    i.min(line.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str, kind: &str) -> Vec<(String, String)> {
        let chars: Vec<char> = text.chars().collect();
        sectionize(text, kind)
            .into_iter()
            .map(|s| {
                (
                    s.label,
                    chars[s.body_start..s.end]
                        .iter()
                        .collect::<String>()
                        .trim()
                        .to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn labelled_admission_note() {
        let got = labels(
            "主訴：胸痛\n現病歴：3日前から労作時に胸部圧迫感。\n既往歴：高血圧\n【身体所見】\nBP 150/90\n■採血\nCRP 0.3",
            "入院時記録",
        );
        let l: Vec<&str> = got.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            l,
            [
                "chief_complaint",
                "present_illness",
                "past_history",
                "physical_exam",
                "labs"
            ]
        );
        assert_eq!(got[0].1, "胸痛");
        assert_eq!(got[3].1, "BP 150/90");
    }

    #[test]
    fn soap_in_every_spelling() {
        for (s, o) in [
            ("S)", "O)"),
            ("S:", "O:"),
            ("Ｓ）", "Ｏ）"),
            ("【S】", "【O】"),
            ("S＞", "O＞"),
            ("(S)", "(O)"),
            ("S：", "O："),
        ] {
            let text = format!("{s}腰が痛い\n{o}体温36.5℃\nA)#1 腰痛症\nP)経過観察");
            let l: Vec<String> = labels(&text, "経過記録").into_iter().map(|x| x.0).collect();
            assert_eq!(l, ["subjective", "objective", "assessment", "plan"], "{s}");
        }
    }

    #[test]
    fn look_alikes_are_not_headings() {
        for text in [
            "主訴は改善している。",
            "A型肝炎の既往はない。",
            "S状結腸に憩室を認める。",
            "経過良好にて退院とした。",
            "Pの値は正常範囲。",
        ] {
            let got = labels(text, "経過記録");
            assert_eq!(got.len(), 1, "{text}: {got:?}");
            assert_eq!(got[0].0, UNLABELLED, "{text}");
        }
        let got = labels("O)BT 36.5 P:72 BP 120/70 所見なし", "経過記録");
        assert_eq!(got.len(), 1, "{got:?}");
    }

    #[test]
    fn operation_fields_inline_and_problem_lines() {
        let got = labels(
            "術式：腹腔鏡下虫垂切除術\n術者：山本　助手：佐藤\n麻酔：全身麻酔　手術時間：1時間　出血量：少量\n所見：虫垂は腫大。\n合併症：なし",
            "手術記録",
        );
        let l: Vec<&str> = got.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(
            l,
            [
                "op_procedure",
                "op_operators",
                "op_anesthesia",
                "op_blood_loss",
                "op_findings",
                "op_complications"
            ]
        );
        assert_eq!(got[2].1, "全身麻酔　手術時間：1時間");
        let got = labels(
            "#1 肺炎\n抗菌薬継続\n#2 糖尿病\nA)#3 貧血\n#4 便秘",
            "経過記録",
        );
        let l: Vec<&str> = got.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(l, ["problem", "problem", "assessment"]);
    }

    #[test]
    fn unlabelled_text_and_offsets_cover_the_note() {
        let text = "昨夜から発熱あり。\n主訴：発熱";
        let segs = sectionize(text, "経過記録");
        assert_eq!(segs[0].label, UNLABELLED);
        assert_eq!(segs[0].start, 0);
        assert_eq!(segs.last().map(|s| s.end), Some(text.chars().count()));
        for w in segs.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
        assert!(sectionize("", "x").len() == 1);
    }

    #[test]
    fn kind_specific_and_suffix_headings() {
        assert_eq!(labels("所見：異常なし", "手術記録")[0].0, "op_findings");
        assert_eq!(labels("所見：異常なし", "入院時記録")[0].0, "physical_exam");
        assert_eq!(labels("胸部造影CT：腫瘤なし", "入院時記録")[0].0, "imaging");
        assert_eq!(
            labels("入院時身体所見：特記なし", "入院時記録")[0].0,
            "physical_exam"
        );
        assert_eq!(labels("HCT：38", "入院時記録")[0].0, UNLABELLED);
    }
}
