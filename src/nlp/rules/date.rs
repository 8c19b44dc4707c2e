//! Dates: 西暦 (2026年4月1日, 2026/4/1, 4/1), 和暦 (令和8年4月1日, R8.4.1, 昭和45年) and
//! relative dates (入院3日目, 術後5日目, 第2病日, 3日前, 1週間前). Clock times and vague
//! words (今朝, 昨日) are not dates here. Absolute dates normalize to ISO 8601
//! (2026-04-01, 2026-04, 2026, --04-01 without a year).

use std::sync::LazyLock;

use regex::{Captures, Regex};

use super::{compile, glued_after, glued_before};
use crate::nlp::candidate::{rank, Candidate};
use crate::nlp::EntityType;

static DATE: LazyLock<Regex> = LazyLock::new(|| {
    compile(concat!(
        // 1: era, 2: year, 3: month, 4: day
        r"(令和|平成|昭和|大正)(元|[0-9]{1,2})年(?:([0-9]{1,2})月(?:([0-9]{1,2})日)?)?",
        // 5: era letter, 6: year, 7: month, 8: day
        r"|([RHSTrhst])([0-9]{1,2})[./]([0-9]{1,2})[./]([0-9]{1,2})",
        // 9: year, 10: month, 11: day
        r"|([0-9]{4})年(?:([0-9]{1,2})月(?:([0-9]{1,2})日)?)?",
        // 12: year, 13: month, 14: day
        r"|([0-9]{4})[/.-]([0-9]{1,2})[/.-]([0-9]{1,2})",
        // 15: month, 16: day
        r"|([0-9]{1,2})月([0-9]{1,2})日",
        // 17: month, 18: day (4/1: checked below, 120/80 is not a date)
        r"|([0-9]{1,2})/([0-9]{1,2})",
        // relative
        r"|第[0-9]+(?:病日|日|週)",
        r"|(?:入院|術後|手術|発症|治療開始|投与開始|退院)(?:後)?[0-9]+(?:日|週|週間|か月|ヶ月|カ月|ヵ月|年)目",
        r"|[0-9]+(?:日|週|週間|か月|ヶ月|カ月|ヵ月|年)(?:前|後)",
        r"|POD\s?[0-9]+",
    ))
});

/// Characters after a bare m/d that show it is a ratio or amount, not a date.
const NOT_AFTER_BARE_MONTH_DAY: &[char] = &['/', '錠', '包', '回', '分', 'm', '%', '.'];

/// Finds dates in `text` (normalized).
pub fn find(text: &str, out: &mut Vec<Candidate>) {
    for caps in DATE.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        if glued_before(text, whole.start()) || glued_after(text, whole.end()) {
            continue;
        }
        if caps.get(17).is_some() {
            let next = text[whole.end()..].chars().next();
            if next.is_some_and(|c| NOT_AFTER_BARE_MONTH_DAY.contains(&c) || c.is_ascii_digit()) {
                continue;
            }
        }
        let Some(normalized) = normalize(&caps) else {
            continue;
        };
        out.push(
            Candidate::new(EntityType::Date, whole.start(), whole.end(), rank::RULE)
                .with_normalized(normalized),
        );
    }
}

fn number(caps: &Captures, group: usize) -> Option<u32> {
    caps.get(group).and_then(|m| m.as_str().parse().ok())
}

fn era_offset(era: &str) -> Option<u32> {
    match era {
        "令和" | "R" | "r" => Some(2018),
        "平成" | "H" | "h" => Some(1988),
        "昭和" | "S" | "s" => Some(1925),
        "大正" | "T" | "t" => Some(1911),
        _ => None,
    }
}

/// ISO form of an absolute date; the surface for a relative one; `None` when invalid.
fn normalize(caps: &Captures) -> Option<String> {
    let iso = |year: u32, month: Option<u32>, day: Option<u32>| -> Option<String> {
        match (month, day) {
            (Some(m), Some(d)) => chrono::NaiveDate::from_ymd_opt(year as i32, m, d)
                .map(|date| date.format("%Y-%m-%d").to_string()),
            (Some(m), None) if (1..=12).contains(&m) => Some(format!("{year:04}-{m:02}")),
            (None, _) => Some(format!("{year:04}")),
            _ => None,
        }
    };
    if let Some(era) = caps.get(1) {
        let year = match caps.get(2)?.as_str() {
            "元" => 1,
            digits => digits.parse().ok()?,
        };
        return iso(
            era_offset(era.as_str())? + year,
            number(caps, 3),
            number(caps, 4),
        );
    }
    if let Some(era) = caps.get(5) {
        let year = era_offset(era.as_str())? + number(caps, 6)?;
        return iso(year, number(caps, 7), number(caps, 8));
    }
    if caps.get(9).is_some() {
        return iso(number(caps, 9)?, number(caps, 10), number(caps, 11));
    }
    if caps.get(12).is_some() {
        return iso(number(caps, 12)?, number(caps, 13), number(caps, 14));
    }
    let month_day = |m: u32, d: u32| {
        // Validate against a leap year so that 2/29 is accepted.
        chrono::NaiveDate::from_ymd_opt(2024, m, d).map(|_| format!("--{m:02}-{d:02}"))
    };
    if caps.get(15).is_some() {
        return month_day(number(caps, 15)?, number(caps, 16)?);
    }
    if caps.get(17).is_some() {
        return month_day(number(caps, 17)?, number(caps, 18)?);
    }
    caps.get(0).map(|m| m.as_str().replace(' ', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        find(text, &mut out);
        out.iter()
            .map(|c| {
                (
                    text[c.start..c.end].to_string(),
                    c.normalized.clone().unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn absolute_dates_normalize_to_iso() {
        let pairs = found("2026/4/3 令和8年7月2日 R8.5.12 昭和45年 2019年 4/7より 令和元年5月");
        let expected = [
            ("2026/4/3", "2026-04-03"),
            ("令和8年7月2日", "2026-07-02"),
            ("R8.5.12", "2026-05-12"),
            ("昭和45年", "1970"),
            ("2019年", "2019"),
            ("4/7", "--04-07"),
            ("令和元年5月", "2019-05"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn relative_dates() {
        let texts: Vec<String> = found("入院3日目 術後2日目まで 第5病日 3日前から 1週間前 POD3")
            .into_iter()
            .map(|(t, _)| t)
            .collect();
        assert_eq!(
            texts,
            [
                "入院3日目",
                "術後2日目",
                "第5病日",
                "3日前",
                "1週間前",
                "POD3"
            ]
        );
    }

    #[test]
    fn ratios_and_pressures_are_not_dates() {
        assert!(found("BP 120/80 1/2錠 13/5/2").is_empty());
        assert!(found("7日分 3日間 22:00").is_empty());
    }
}
