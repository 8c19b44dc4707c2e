//! Numbers that are not a typed entity: counts, durations, scores (「3回」, 「7日間」,
//! 「A-DROP 2点」, 「NRS 5」). The pipeline types doses, lab values and dates; every other
//! number of a draft sentence must still appear somewhere in the chart, compared
//! normalized (full-width → half-width, 1,500 = 1500, 38.0 = 38).
//!
//! Not numbers of this kind: digits glued to a Latin letter (ICD-10 codes such as K80.0,
//! names such as SpO2, HbA1c, COVID-19), section numbering at the start of a line
//! (「1.」, 「(2)」, 「#3」), ward names (「4西」, 「5東病棟」, 「3階」), room numbers.

/// One number found in a text (character offsets, end exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberSpan {
    pub start: usize,
    pub end: usize,
    /// Comparable form: "1500", "38", "0.5".
    pub key: String,
    /// The number with the counter or unit that follows it, as written (「7日間」).
    pub text: String,
    /// What the counter counts (days, times, points …); `None` for a bare number.
    pub family: Option<&'static str>,
}

/// What a counter counts: 「7日間」 and 「7日目」 both count days, 「3回」 and 「3回目」
/// times. A draft's 「7日間」 is found in the chart only as seven of some day counter.
fn family_of(counter: &str) -> &'static str {
    match counter {
        "日間" | "日目" | "病日" | "日分" | "日" | "泊" => "day",
        "週間" | "週" => "week",
        "ヶ月間" | "か月間" | "カ月間" | "ヵ月間" | "ヶ月" | "か月" | "カ月" | "ヵ月" | "月" => {
            "month"
        }
        "年間" | "年" => "year",
        "時間" => "hour",
        "回" | "回目" => "time",
        "点" | "段階" => "score",
        "歳" => "age",
        "%" | "％" => "percent",
        "箇所" | "か所" | "ヶ所" => "place",
        "人" | "名" => "person",
        "mL" | "ml" | "cc" => "mL",
        other => COUNTERS
            .iter()
            .find(|c| **c == other)
            .copied()
            .unwrap_or("other"),
    }
}

/// Counters and units shown with a number (longest first, so 「日間」 wins over 「日」).
const COUNTERS: &[&str] = &[
    "ヶ月間",
    "か月間",
    "カ月間",
    "ヵ月間",
    "ヶ月",
    "か月",
    "カ月",
    "ヵ月",
    "日間",
    "日目",
    "週間",
    "年間",
    "時間",
    "病日",
    "回目",
    "mmHg",
    "mg",
    "kg",
    "cm",
    "mm",
    "mL",
    "ml",
    "μg",
    "cc",
    "回",
    "点",
    "日",
    "週",
    "歳",
    "年",
    "月",
    "分",
    "秒",
    "度",
    "℃",
    "%",
    "％",
    "錠",
    "本",
    "個",
    "枚",
    "包",
    "単位",
    "箇所",
    "か所",
    "ヶ所",
    "人",
    "名",
    "件",
    "段階",
    "日分",
    "泊",
    "L",
    "g",
];

/// Characters that, right after a number, make it a place rather than a quantity
/// (ward 4西, 5東病棟, 3階, room 501号室).
const PLACE_AFTER: &[&str] = &["東", "西", "南", "北", "階", "号室", "号棟", "F病棟"];

fn half_width(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
        '．' => '.',
        '，' => ',',
        'Ａ'..='Ｚ' => char::from_u32(c as u32 - 'Ａ' as u32 + 'A' as u32).unwrap_or(c),
        'ａ'..='ｚ' => char::from_u32(c as u32 - 'ａ' as u32 + 'a' as u32).unwrap_or(c),
        '－' | '‐' | '−' => '-',
        '（' => '(',
        '）' => ')',
        '＃' => '#',
        _ => c,
    }
}

/// The comparable form of a written number ("１，５００" → "1500", "38.0" → "38").
pub fn number_key(written: &str) -> Option<String> {
    let plain: String = written
        .chars()
        .map(half_width)
        .filter(|c| *c != ',')
        .collect();
    if plain.is_empty() || !plain.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let (whole, fraction) = match plain.split_once('.') {
        Some((w, f)) => (w, f.trim_end_matches('0')),
        None => (plain.as_str(), ""),
    };
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    Some(if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    })
}

/// Every number of `text`, plain or part of a code, in order (the chart side: anything
/// written there counts).
pub fn all_numbers(text: &str) -> Vec<NumberSpan> {
    scan(text, false)
}

/// The numbers of a draft `text` that say a quantity: not part of a code or name, not
/// section numbering, not a ward or room.
pub fn quantities(text: &str) -> Vec<NumberSpan> {
    scan(text, true)
}

fn scan(text: &str, quantities_only: bool) -> Vec<NumberSpan> {
    let original: Vec<char> = text.chars().collect();
    let chars: Vec<char> = original.iter().copied().map(half_width).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut end = i;
        while end < chars.len() {
            let c = chars[end];
            if c.is_ascii_digit() {
                end += 1;
            } else if c == ','
                && (1..=3).all(|k| chars.get(end + k).is_some_and(|d| d.is_ascii_digit()))
                && !chars.get(end + 4).is_some_and(|d| d.is_ascii_digit())
            {
                end += 4;
            } else if c == '.' && chars.get(end + 1).is_some_and(|d| d.is_ascii_digit()) {
                end += 1;
                while end < chars.len() && chars[end].is_ascii_digit() {
                    end += 1;
                }
                break;
            } else {
                break;
            }
        }
        i = end;
        let written: String = chars[start..end].iter().collect();
        let Some(key) = number_key(&written) else {
            continue;
        };
        if quantities_only && !is_quantity(&chars, start, end) {
            continue;
        }
        let rest: String = chars[end..].iter().take(6).collect();
        let counter = COUNTERS
            .iter()
            .filter(|c| rest.starts_with(*c))
            .max_by_key(|c| c.chars().count());
        let counter_len = counter.map_or(0, |c| c.chars().count());
        out.push(NumberSpan {
            start,
            end,
            key,
            text: original[start..end + counter_len].iter().collect(),
            family: counter.map(|c| family_of(c)),
        });
    }
    out
}

fn is_quantity(chars: &[char], start: usize, end: usize) -> bool {
    let before = start.checked_sub(1).map(|i| chars[i]);
    let before2 = start.checked_sub(2).map(|i| chars[i]);
    // K80.0, SpO2, HbA1c, COVID-19, #3, No.5.
    if before.is_some_and(|c| c.is_ascii_alphabetic() || c == '#' || c == '_') {
        return false;
    }
    if before == Some('-') && before2.is_some_and(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    if before == Some('.') && before2.is_some_and(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    let after: String = chars[end..].iter().take(4).collect();
    // Part of a Latin name after it (5-FU).
    let mut next = after.chars();
    if next.next() == Some('-') && next.next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    if PLACE_AFTER.iter().any(|p| after.starts_with(p)) {
        return false;
    }
    // Section numbering: at the start of a line, optionally in brackets, then 「.」「)」「、」.
    let line_start = chars[..start]
        .iter()
        .rposition(|c| *c == '\n')
        .map_or(0, |p| p + 1);
    let lead: String = chars[line_start..start].iter().collect();
    let lead = lead.trim();
    if lead.is_empty() || lead == "(" || lead == "【" || lead == "[" {
        let next = chars.get(end).copied();
        let next2 = chars.get(end + 1).copied();
        let numbering = match next {
            Some(')' | '、' | ']' | '】') => true,
            Some('.') => !next2.is_some_and(|c| c.is_ascii_digit()),
            Some(' ' | '　') => lead == "(",
            _ => false,
        };
        if numbering {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<String> {
        quantities(text).into_iter().map(|n| n.key).collect()
    }

    #[test]
    fn numbers_compare_normalized() {
        assert_eq!(number_key("１，５００").as_deref(), Some("1500"));
        assert_eq!(number_key("1,500").as_deref(), Some("1500"));
        assert_eq!(number_key("38.0").as_deref(), Some("38"));
        assert_eq!(number_key("３８．５").as_deref(), Some("38.5"));
        assert_eq!(number_key("0.50").as_deref(), Some("0.5"));
        assert_eq!(number_key("007").as_deref(), Some("7"));
        assert_eq!(number_key("abc"), None);
    }

    #[test]
    fn quantities_keep_their_counter() {
        let found = quantities("抗菌薬を7日間投与し、嘔吐は3回、A-DROP 2点、NRS 5。");
        let texts: Vec<&str> = found.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(texts, ["7日間", "3回", "2点", "5"]);
        assert_eq!(keys("体温３８．０℃"), ["38"]);
        assert_eq!(keys("1,500mL"), ["1500"]);
        let families: Vec<_> = quantities("7日間、7日目、3回目、82歳、14日分、5")
            .into_iter()
            .map(|n| n.family)
            .collect();
        assert_eq!(
            families,
            [
                Some("day"),
                Some("day"),
                Some("time"),
                Some("age"),
                Some("day"),
                None
            ]
        );
    }

    #[test]
    fn codes_names_numbering_and_wards_are_not_quantities() {
        assert!(keys("胆石症 (K80.0)、肺炎 J13、E11.9").is_empty());
        assert!(keys("SpO2、HbA1c、COVID-19").is_empty());
        assert!(keys("#1 肺炎\n1. 経過\n(2) 方針\n２）退院").is_empty());
        assert!(keys("4西病棟、5東病棟、3階、501号室").is_empty());
        // A line that starts with a quantity is still one.
        assert_eq!(keys("3日目に解熱"), ["3"]);
        assert_eq!(keys("1.5倍"), ["1.5"]);
    }

    #[test]
    fn chart_side_reads_every_number() {
        let all: Vec<String> = all_numbers("K80.0 SpO2 96%")
            .into_iter()
            .map(|n| n.key)
            .collect();
        assert_eq!(all, ["80", "2", "96"]);
    }
}
