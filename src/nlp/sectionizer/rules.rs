//! The heading rules (`headings.toml`): which names mean which label, in which note kinds.

use std::sync::OnceLock;

use serde::Deserialize;

use super::fold;

const HEADINGS_TOML: &str = include_str!("headings.toml");

/// The S/O/A/P labels: inside them a `#1` line belongs to the part, not to a problem list.
pub const SOAP_LABELS: [&str; 4] = ["subjective", "objective", "assessment", "plan"];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadingRow {
    label: String,
    names: Vec<String>,
    #[serde(default)]
    kinds: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HeadingFile {
    heading: Vec<HeadingRow>,
}

/// Heading names by label, folded (full-width letters as ASCII).
#[derive(Debug, Clone)]
pub struct HeadingRules {
    rows: Vec<HeadingRow>,
}

impl HeadingRules {
    /// The built-in rules (parsed once; a unit test checks the file).
    pub fn builtin() -> &'static HeadingRules {
        static RULES: OnceLock<HeadingRules> = OnceLock::new();
        RULES.get_or_init(|| {
            Self::parse(HEADINGS_TOML).unwrap_or_else(|e| {
                tracing::error!(error = %e, "built-in headings.toml does not parse");
                HeadingRules { rows: Vec::new() }
            })
        })
    }

    pub fn parse(text: &str) -> Result<HeadingRules, String> {
        let file: HeadingFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let rows = file
            .heading
            .into_iter()
            .map(|mut row| {
                row.names = row
                    .names
                    .iter()
                    .map(|n| n.chars().map(fold).collect())
                    .collect();
                row
            })
            .collect();
        Ok(HeadingRules { rows })
    }

    /// Every label the rules can give (and `problem`, the SOAP labels, `none`).
    pub fn labels(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.rows.iter().map(|r| r.label.as_str()).collect();
        out.extend(SOAP_LABELS);
        out.extend(["problem", super::UNLABELLED]);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The label of a heading name (already folded). `delimited`: the name was followed
    /// by a colon or enclosed in brackets, which lets a longer name that ends with a known
    /// one count (「胸部造影CT：」) and a bare SOAP letter count (「【S】」).
    pub(crate) fn classify(&self, name: &str, note_kind: &str, delimited: bool) -> Option<String> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        if delimited {
            if let Some(label) = name.chars().next().filter(|_| name.chars().count() == 1) {
                if let Some(l) = match label {
                    'S' => Some("subjective"),
                    'O' => Some("objective"),
                    'A' => Some("assessment"),
                    'P' => Some("plan"),
                    _ => None,
                } {
                    return Some(l.to_string());
                }
            }
        }
        let applies = |row: &HeadingRow| {
            row.kinds.is_empty() || row.kinds.iter().any(|k| note_kind.contains(k.as_str()))
        };
        for row in self.rows.iter().filter(|r| applies(r)) {
            if row.names.iter().any(|n| n == name) {
                return Some(row.label.clone());
            }
        }
        if !delimited {
            return None;
        }
        let name_len = name.chars().count();
        for row in self.rows.iter().filter(|r| applies(r)) {
            for n in &row.names {
                let n_len = n.chars().count();
                if n_len < 2 || name_len > n_len + 8 || !name.ends_with(n.as_str()) {
                    continue;
                }
                let prefix = &name[..name.len() - n.len()];
                let ascii_join = n.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && prefix.ends_with(|c: char| c.is_ascii_alphanumeric());
                if !ascii_join && !prefix.contains(['。', '、', ' ']) {
                    return Some(row.label.clone());
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_parse() {
        let rules = HeadingRules::parse(HEADINGS_TOML).unwrap();
        assert!(rules.rows.len() > 20);
        assert!(rules.labels().contains(&"chief_complaint"));
    }
}
