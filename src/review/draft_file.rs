//! A draft read back from a file, for `karte check`: a plain-text letter with 【section】
//! headings (what `karte draft` prints and the text export writes), or the JSON lines of
//! `karte draft --json` (its `section` events, with their provenance). Drafts written by
//! any other system in either form are read the same way.

use crate::chart::Source;
use std::ops::Range;

/// The key and title given to text that comes before the first 【heading】.
pub const LEADING_KEY: &str = "leading";
pub const LEADING_TITLE: &str = "（見出しの前）";

/// One section of a draft file.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftFileSection {
    /// The section's key (JSON: the template key; text: the heading).
    pub key: String,
    pub title: String,
    pub text: String,
    /// Spans copied from the chart (JSON lines only).
    pub provenance: Vec<(Range<usize>, Source)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftFormat {
    /// Plain text with 【section】 headings.
    Text,
    /// JSON lines of `karte draft --json`.
    JsonLines,
}

impl DraftFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DraftFormat::Text => "text",
            DraftFormat::JsonLines => "json",
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DraftFileError {
    #[error("line {line} is not valid JSON ({message})")]
    InvalidJson { line: usize, message: String },
    #[error("line {line}: {problem}")]
    BadSection { line: usize, problem: String },
    #[error("no sections found: {0}")]
    NoSections(&'static str),
}

impl DraftFileError {
    /// What to do about it (for the CLI's message).
    pub fn hint(&self) -> &'static str {
        match self {
            DraftFileError::InvalidJson { .. } | DraftFileError::BadSection { .. } => {
                "give the unmodified output of `karte draft --json`, or a plain-text letter"
            }
            DraftFileError::NoSections(_) => {
                "give a letter with 【section】 headings (as `karte draft` prints it) or the output of `karte draft --json`"
            }
        }
    }
}

/// Reads a draft, telling the two formats apart by the first character: `{` is JSON lines.
pub fn parse_draft(text: &str) -> Result<(DraftFormat, Vec<DraftFileSection>), DraftFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with('{') {
        Ok((DraftFormat::JsonLines, parse_json_lines(text)?))
    } else {
        Ok((DraftFormat::Text, parse_text(text)?))
    }
}

/// Sections of a plain-text letter. Text before the first heading is a leading section.
pub fn parse_text(text: &str) -> Result<Vec<DraftFileSection>, DraftFileError> {
    let mut sections: Vec<DraftFileSection> = Vec::new();
    let mut leading: Vec<&str> = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    let close = |current: Option<(String, Vec<&str>)>, sections: &mut Vec<DraftFileSection>| {
        if let Some((title, lines)) = current {
            sections.push(DraftFileSection {
                key: title.clone(),
                title,
                text: lines.join("\n").trim_matches('\n').trim_end().to_string(),
                provenance: Vec::new(),
            });
        }
    };
    for line in text.lines() {
        if let Some((title, rest)) = heading(line) {
            close(current.take(), &mut sections);
            let lines = if rest.is_empty() {
                Vec::new()
            } else {
                vec![rest]
            };
            current = Some((title.to_string(), lines));
        } else {
            match current.as_mut() {
                Some((_, lines)) => lines.push(line),
                None => leading.push(line),
            }
        }
    }
    close(current, &mut sections);
    if sections.is_empty() {
        return Err(DraftFileError::NoSections(
            "the text has no 【section】 heading",
        ));
    }
    let leading = leading.join("\n").trim().to_string();
    if !leading.is_empty() {
        sections.insert(
            0,
            DraftFileSection {
                key: LEADING_KEY.into(),
                title: LEADING_TITLE.into(),
                text: leading,
                provenance: Vec::new(),
            },
        );
    }
    Ok(sections)
}

/// `【title】rest` → (title, rest); a line that is not a heading → None.
fn heading(line: &str) -> Option<(&str, &str)> {
    let inner = line.trim_start().strip_prefix('【')?;
    let end = inner.find('】')?;
    let title = inner[..end].trim();
    if title.is_empty() {
        return None;
    }
    Some((title, inner[end + '】'.len_utf8()..].trim()))
}

/// Sections of `karte draft --json` output: its `section` events (a section drafted again
/// replaces the earlier one), or a line holding a whole draft (`{"sections": [...]}`).
pub fn parse_json_lines(text: &str) -> Result<Vec<DraftFileSection>, DraftFileError> {
    let mut sections: Vec<DraftFileSection> = Vec::new();
    let mut add =
        |section: DraftFileSection| match sections.iter().position(|s| s.key == section.key) {
            Some(i) => sections[i] = section,
            None => sections.push(section),
        };
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| DraftFileError::InvalidJson {
                line: line_no,
                message: e.to_string(),
            })?;
        let Some(object) = value.as_object() else {
            return Err(DraftFileError::BadSection {
                line: line_no,
                problem: "not a JSON object (karte draft --json prints one object per line)".into(),
            });
        };
        if object.get("event").and_then(|e| e.as_str()) == Some("section") {
            add(json_section(object, "section", line_no)?);
        } else if object.get("event").is_none() {
            // A whole draft: its sections carry their text.
            if let Some(list) = object.get("sections").and_then(|s| s.as_array()) {
                for item in list {
                    let Some(section) = item.as_object() else {
                        return Err(DraftFileError::BadSection {
                            line: line_no,
                            problem: "a section is not a JSON object".into(),
                        });
                    };
                    add(json_section(section, "key", line_no)?);
                }
            }
        }
    }
    if sections.is_empty() {
        return Err(DraftFileError::NoSections(
            "the JSON lines hold no \"section\" event",
        ));
    }
    Ok(sections)
}

fn json_section(
    object: &serde_json::Map<String, serde_json::Value>,
    key_field: &str,
    line: usize,
) -> Result<DraftFileSection, DraftFileError> {
    let bad = |problem: String| DraftFileError::BadSection { line, problem };
    let field = |name: &str| object.get(name).and_then(|v| v.as_str());
    let key = field(key_field)
        .ok_or_else(|| bad(format!("the section has no \"{key_field}\" string")))?
        .to_string();
    let text = field("text")
        .ok_or_else(|| bad(format!("section \"{key}\" has no \"text\" string")))?
        .to_string();
    let title = field("title").unwrap_or(&key).to_string();
    let provenance: Vec<(Range<usize>, Source)> = match object.get("provenance") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(value) => serde_json::from_value(value.clone()).map_err(|e| {
            bad(format!(
                "section \"{key}\": \"provenance\" is not a list of [{{\"start\", \"end\"}}, source] pairs ({e})"
            ))
        })?,
    };
    let chars = text.chars().count();
    if let Some((range, _)) = provenance
        .iter()
        .find(|(r, _)| r.start > r.end || r.end > chars)
    {
        return Err(bad(format!(
            "section \"{key}\": provenance span {}..{} is outside its text ({chars} characters)",
            range.start, range.end
        )));
    }
    Ok(DraftFileSection {
        key,
        title,
        text,
        provenance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_letters_split_at_headings_with_a_leading_section() {
        let (format, sections) =
            parse_draft("退院時サマリー\n\n【主訴】\n発熱。\n\n【現病歴】咳嗽あり。\n続き。\n")
                .unwrap();
        assert_eq!(format, DraftFormat::Text);
        let got: Vec<(&str, &str)> = sections
            .iter()
            .map(|s| (s.title.as_str(), s.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (LEADING_TITLE, "退院時サマリー"),
                ("主訴", "発熱。"),
                ("現病歴", "咳嗽あり。\n続き。")
            ]
        );
    }

    #[test]
    fn json_lines_keep_provenance_and_later_sections_win() {
        let input = concat!(
            r#"{"event":"model","name":"m"}"#,
            "\n",
            r#"{"event":"section","section":"diagnosis","title":"診断","text":"肺炎","provenance":[[{"start":0,"end":2},{"record":"diagnosis","id":"d1"}]]}"#,
            "\n",
            r#"{"event":"section","section":"course","title":"経過","text":"古い"}"#,
            "\n",
            r#"{"event":"section","section":"course","title":"経過","text":"新しい","provenance":[]}"#,
            "\n"
        );
        let (format, sections) = parse_draft(input).unwrap();
        assert_eq!(format, DraftFormat::JsonLines);
        assert_eq!(sections.len(), 2);
        assert_eq!(
            sections[0].provenance,
            vec![(0..2, Source::Diagnosis { id: "d1".into() })]
        );
        assert_eq!(sections[1].text, "新しい");
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        assert!(matches!(
            parse_draft("ただの文章。見出しなし。"),
            Err(DraftFileError::NoSections(_))
        ));
        assert!(matches!(
            parse_draft("{\"event\":\"section\"\n"),
            Err(DraftFileError::InvalidJson { line: 1, .. })
        ));
        assert!(matches!(
            parse_draft(r#"{"event":"finished"}"#),
            Err(DraftFileError::NoSections(_))
        ));
        let out_of_range = r#"{"event":"section","section":"a","text":"肺炎","provenance":[[{"start":0,"end":9},{"record":"patient"}]]}"#;
        assert!(matches!(
            parse_draft(out_of_range),
            Err(DraftFileError::BadSection { line: 1, .. })
        ));
    }
}
