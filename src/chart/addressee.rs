//! The referral's addressee (宛先) as text the clinician edits, and back.
//!
//! The draft's 【宛先】 section is prefilled from the chart's `referral` record as labelled
//! lines; the clinician edits it like any section (so it is journaled and signed with the
//! document). The letter and the JP-CLINS 紹介先 read it back with [`ReferralTarget::parse`],
//! which also takes the free forms clinicians type (`東京病院 内科 山田 先生 御侍史`).

use super::model::ReferralTarget;

pub const FACILITY_LABEL: &str = "医療機関";
pub const DEPARTMENT_LABEL: &str = "診療科";
pub const DOCTOR_LABEL: &str = "医師";

/// Honorifics and closing words that are not part of a name.
const HONORIFICS: &[&str] = &[
    "御侍史",
    "御机下",
    "侍史",
    "机下",
    "御中",
    "殿",
    "様",
    "先生",
    "宛",
];

fn strip_honorifics(s: &str) -> String {
    let mut s = s.trim().to_string();
    loop {
        let before = s.len();
        for h in HONORIFICS {
            if let Some(rest) = s.strip_suffix(h) {
                s = rest.trim_end().to_string();
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

fn labelled<'a>(line: &'a str, label: &str) -> Option<&'a str> {
    let rest = line.trim().strip_prefix(label)?;
    let rest = rest.trim_start();
    rest.strip_prefix(':')
        .or_else(|| rest.strip_prefix('：'))
        .map(str::trim)
}

/// A line that only asks for input (the draft's placeholder), not an addressee.
fn is_placeholder(line: &str) -> bool {
    let line = line.trim();
    line.starts_with('（') && line.contains("記入してください")
}

impl ReferralTarget {
    /// The section text the draft starts from: one labelled line per known part.
    pub fn section_text(&self) -> String {
        let mut lines = Vec::new();
        if !self.facility.trim().is_empty() {
            lines.push(format!("{FACILITY_LABEL}: {}", self.facility.trim()));
        }
        if !self.department.trim().is_empty() {
            lines.push(format!("{DEPARTMENT_LABEL}: {}", self.department.trim()));
        }
        if !self.doctor.trim().is_empty() {
            lines.push(format!("{DOCTOR_LABEL}: {} 先生", self.doctor.trim()));
        }
        lines.join("\n")
    }

    /// Nothing to address the letter to.
    pub fn is_empty(&self) -> bool {
        self.facility.trim().is_empty()
            && self.department.trim().is_empty()
            && self.doctor.trim().is_empty()
    }

    /// Reads an addressee back from the section text: labelled lines (`医療機関:`, `診療科:`,
    /// `医師:`) first; otherwise a free line `病院 [診療科] [医師 先生] [御侍史]`.
    pub fn parse(text: &str) -> ReferralTarget {
        let mut target = ReferralTarget::default();
        let mut free = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.trim().is_empty() && !is_placeholder(l))
        {
            if let Some(v) = labelled(line, FACILITY_LABEL) {
                target.facility = strip_honorifics(v);
            } else if let Some(v) = labelled(line, DEPARTMENT_LABEL) {
                target.department = strip_honorifics(v);
            } else if let Some(v) = labelled(line, DOCTOR_LABEL) {
                target.doctor = strip_honorifics(v);
            } else {
                free.push(line.trim());
            }
        }
        if target.is_empty() && !free.is_empty() {
            target = Self::parse_free(&free.join(" "));
        }
        target
    }

    fn parse_free(line: &str) -> ReferralTarget {
        let tokens: Vec<&str> = line
            .split([' ', '\u{3000}', '\t'])
            .filter(|t| !t.is_empty())
            .collect();
        // Words up to the first honorific; a doctor is named only before 先生.
        let has_doctor = tokens.iter().any(|t| t.ends_with("先生"));
        let words: Vec<String> = tokens
            .iter()
            .map(|t| strip_honorifics(t))
            .take_while(|t| !t.is_empty())
            .collect();
        let mut target = ReferralTarget::default();
        let Some((facility, rest)) = words.split_first() else {
            return target;
        };
        target.facility = facility.clone();
        let rest: Vec<&String> = rest.iter().collect();
        let department_at = rest
            .iter()
            .position(|w| w.ends_with('科') || w.ends_with("センター") || w.ends_with('部'));
        let doctor_words: Vec<&String> = match department_at {
            Some(i) => {
                target.department = rest[..=i]
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                rest[i + 1..].to_vec()
            }
            None if has_doctor => rest,
            None => {
                target.department = rest
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                Vec::new()
            }
        };
        if has_doctor {
            target.doctor = doctor_words
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ");
        }
        target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(f: &str, d: &str, doc: &str) -> ReferralTarget {
        ReferralTarget {
            facility: f.into(),
            department: d.into(),
            doctor: doc.into(),
        }
    }

    #[test]
    fn labelled_text_round_trips() {
        let t = target("東京病院", "循環器内科", "山田 太郎");
        assert_eq!(
            t.section_text(),
            "医療機関: 東京病院\n診療科: 循環器内科\n医師: 山田 太郎 先生"
        );
        assert_eq!(ReferralTarget::parse(&t.section_text()), t);
        assert_eq!(
            ReferralTarget::parse("医療機関：東京病院 御中\n医師：佐藤先生"),
            target("東京病院", "", "佐藤")
        );
    }

    #[test]
    fn free_lines_are_read() {
        assert_eq!(
            ReferralTarget::parse("東京病院 内科 御侍史"),
            target("東京病院", "内科", "")
        );
        assert_eq!(
            ReferralTarget::parse("東京病院 消化器内科 山田 太郎 先生 御侍史"),
            target("東京病院", "消化器内科", "山田 太郎")
        );
        assert_eq!(
            ReferralTarget::parse("みなと診療所 田中先生"),
            target("みなと診療所", "", "田中")
        );
    }

    #[test]
    fn placeholders_and_blanks_are_empty() {
        assert!(ReferralTarget::parse("（宛先の記録なし：記入してください）").is_empty());
        assert!(ReferralTarget::parse("  \n").is_empty());
        assert!(ReferralTarget::parse("御侍史").is_empty());
    }
}
