//! How a document's text splits into sections: `【heading】` lines, each followed by its body,
//! and the text above the first heading as a section of its own (`PREAMBLE_KEY`, no heading).
//! Every character of the text belongs to exactly one section's heading or body, so whatever
//! the clinician typed — above the first heading, after a heading's `】` on the same line,
//! under a mistyped or repeated heading — is journaled, checked, signed and exported.

use std::ops::Range;

/// One section of a document's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionSpan {
    /// The heading inside `【…】`; empty for the text above the first heading.
    pub heading: String,
    /// Byte range of the `【…】` line (`None` for the text above the first heading).
    pub header: Option<Range<usize>>,
    /// Byte range of the body in the text (trailing newlines excluded). Text typed after
    /// `】` on the heading's own line starts the body.
    pub body: Range<usize>,
}

impl SectionSpan {
    /// The whole span, heading line included.
    pub fn full(&self) -> Range<usize> {
        self.header.as_ref().map_or(self.body.start, |h| h.start)..self.body.end
    }
}

/// The heading inside a header line and the byte offset (within the line) where the rest
/// of the line begins: `【紹介目的】 追記` → (`紹介目的`, 18).
pub fn split_header_line(line: &str) -> (String, usize) {
    let line = line.trim_end_matches('\r');
    let inner_start = if line.starts_with('【') {
        '【'.len_utf8()
    } else {
        0
    };
    let inner = &line[inner_start..];
    match inner.find('】') {
        Some(end) => (
            inner[..end].trim().to_string(),
            inner_start + end + '】'.len_utf8(),
        ),
        None => (inner.trim().to_string(), line.len()),
    }
}

/// The sections of `text`, in order. The text above the first heading is a section only
/// when it holds more than whitespace.
pub fn split_sections(text: &str) -> Vec<SectionSpan> {
    // (line start, line end) of every header line.
    let mut headers: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for line in text.split('\n') {
        if line.starts_with('【') {
            headers.push((start, start + line.len()));
        }
        start += line.len() + 1;
    }
    let mut spans = Vec::with_capacity(headers.len() + 1);
    let preamble_end = headers.first().map_or(text.len(), |&(s, _)| s);
    let preamble = trim_newlines(text, 0..preamble_end);
    if !text[preamble.clone()].trim().is_empty() {
        spans.push(SectionSpan {
            heading: String::new(),
            header: None,
            body: preamble,
        });
    }
    for (i, &(line_start, line_end)) in headers.iter().enumerate() {
        let (heading, rest) = split_header_line(&text[line_start..line_end]);
        let rest_start = line_start + rest;
        let rest_text = &text[rest_start..line_end];
        let body_start = if rest_text.trim().is_empty() {
            (line_end + 1).min(text.len())
        } else {
            // Text after `】` on the heading's line starts the body (spaces before it not).
            rest_start + (rest_text.len() - rest_text.trim_start().len())
        };
        let end = headers.get(i + 1).map_or(text.len(), |&(next, _)| next);
        let body = trim_newlines(text, body_start..end.max(body_start));
        spans.push(SectionSpan {
            heading,
            header: Some(line_start..line_end),
            body,
        });
    }
    spans
}

fn trim_newlines(text: &str, range: Range<usize>) -> Range<usize> {
    let trimmed = text[range.clone()].trim_end_matches(['\n', '\r']);
    range.start..range.start + trimmed.len()
}

/// The text of `sections` (heading, body): the inverse of [`split_sections`] up to blank
/// lines at the end of a body. An empty heading writes its body without a heading line.
pub fn compose_sections(sections: &[(String, String)]) -> String {
    let mut text = String::new();
    for (i, (heading, body)) in sections.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        if !heading.is_empty() || i > 0 {
            text.push('【');
            text.push_str(heading);
            text.push_str("】\n");
        }
        text.push_str(body.trim_end_matches('\n'));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bodies(text: &str) -> Vec<(String, String)> {
        split_sections(text)
            .into_iter()
            .map(|s| (s.heading, text[s.body].to_string()))
            .collect()
    }

    #[test]
    fn text_above_the_first_heading_is_a_section() {
        assert_eq!(
            bodies("前置き\n【宛先】\n内科\n【紹介目的】\n精査"),
            vec![
                (String::new(), "前置き".into()),
                ("宛先".into(), "内科".into()),
                ("紹介目的".into(), "精査".into()),
            ]
        );
        assert_eq!(
            bodies("見出しなし"),
            vec![(String::new(), "見出しなし".into())]
        );
        assert_eq!(
            bodies("\n\n【宛先】\n"),
            vec![("宛先".into(), String::new())]
        );
        assert!(bodies("").is_empty());
    }

    #[test]
    fn text_after_the_closing_bracket_starts_the_body() {
        assert_eq!(
            bodies("【宛先】 内科 御侍史\n二行目"),
            vec![("宛先".into(), "内科 御侍史\n二行目".into())]
        );
        assert_eq!(
            bodies("【宛先】  \n本文"),
            vec![("宛先".into(), "本文".into())]
        );
        assert_eq!(
            bodies("【宛先 閉じ忘れ\n本文"),
            vec![("宛先 閉じ忘れ".into(), "本文".into())]
        );
    }

    #[test]
    fn repeated_headings_stay_apart() {
        assert_eq!(
            bodies("【備考】\n一\n【備考】\n二"),
            vec![("備考".into(), "一".into()), ("備考".into(), "二".into())]
        );
    }

    #[test]
    fn every_non_whitespace_character_is_in_a_heading_or_a_body() {
        let text = "頭\n【A】尾\n中\n\n【B\n【】\nx\n";
        let mut covered = vec![false; text.len()];
        for span in split_sections(text) {
            for i in span.full() {
                covered[i] = true;
            }
        }
        for (i, c) in text.char_indices() {
            if !c.is_whitespace() {
                assert!(covered[i], "{c} at {i} is in no section");
            }
        }
    }

    #[test]
    fn compose_round_trips() {
        let sections = vec![
            (String::new(), "前置き".to_string()),
            ("宛先".to_string(), "内科".to_string()),
            ("備考".to_string(), String::new()),
        ];
        let text = compose_sections(&sections);
        assert_eq!(text, "前置き\n【宛先】\n内科\n【備考】\n");
        assert_eq!(bodies(&text), sections);
    }
}
