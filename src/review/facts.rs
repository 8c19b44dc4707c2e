//! From extracted entities to comparable facts: values attached to their heads (a dose to
//! the nearest preceding medication in the same sentence, a test value to its test),
//! laterality split off anatomy, dates parsed, and the context words of each date.
//! Used for the chart and the draft alike, so both sides are read the same way.

use crate::nlp::{Certainty, Entity, EntityType};

/// 右 / 左 / 両.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Right,
    Left,
    Both,
}

impl Side {
    pub fn japanese(self) -> &'static str {
        match self {
            Side::Right => "右",
            Side::Left => "左",
            Side::Both => "両",
        }
    }
}

/// Splits "右下肺野" into (Right, "下肺野").
pub fn split_side(normalized: &str) -> (Option<Side>, &str) {
    for (prefix, side) in [
        ("右側", Side::Right),
        ("左側", Side::Left),
        ("両側", Side::Both),
        ("右", Side::Right),
        ("左", Side::Left),
        ("両", Side::Both),
    ] {
        if let Some(rest) = normalized.strip_prefix(prefix) {
            if !rest.is_empty() {
                return (Some(side), rest);
            }
        }
    }
    (None, normalized)
}

/// The side of a disease: its own laterality (右膝痛, 左片麻痺) or that of the anatomical site
/// written right before it, which the annotation convention splits off (左大腿骨転子部 + 骨折,
/// 右中大脳動脈 + 閉塞, 両側下腿 + 浮腫). The key stays the disease without its side.
fn disease_side(entities: &[Entity], i: usize) -> (Option<Side>, &str) {
    let entity = &entities[i];
    let (own, base) = split_side(&entity.normalized);
    if own.is_some() {
        return (own, base);
    }
    let site = i
        .checked_sub(1)
        .map(|p| &entities[p])
        .filter(|p| p.kind == EntityType::Anatomy && p.end == entity.start);
    let site_side = site.and_then(|p| split_side(&p.normalized).0.or(split_side(&p.text).0));
    (site_side, base)
}

/// A date as the pipeline normalizes it: full, month-day, year-month or year.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DateValue {
    pub year: Option<i32>,
    pub month: Option<u32>,
    pub day: Option<u32>,
}

impl DateValue {
    /// "2026-01-14", "--01-24", "2026-01", "2026".
    pub fn parse(normalized: &str) -> Option<DateValue> {
        let s = normalized.trim();
        if let Some(md) = s.strip_prefix("--") {
            let (m, d) = md.split_once('-')?;
            return Some(DateValue {
                year: None,
                month: Some(m.parse().ok()?),
                day: Some(d.parse().ok()?),
            });
        }
        let mut parts = s.split('-');
        let year = Some(parts.next()?.parse().ok()?);
        let month = match parts.next() {
            Some(m) => Some(m.parse().ok()?),
            None => None,
        };
        let day = match parts.next() {
            Some(d) => Some(d.parse().ok()?),
            None => None,
        };
        Some(DateValue { year, month, day })
    }

    pub fn from_date(date: chrono::NaiveDate) -> DateValue {
        use chrono::Datelike;
        DateValue {
            year: Some(date.year()),
            month: Some(date.month()),
            day: Some(date.day()),
        }
    }

    /// Could both name the same day? Missing parts match anything.
    pub fn compatible(&self, other: &DateValue) -> bool {
        fn same<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
        }
        same(&self.year, &other.year)
            && same(&self.month, &other.month)
            && same(&self.day, &other.day)
    }

    pub fn display(&self) -> String {
        match (self.year, self.month, self.day) {
            (Some(y), Some(m), Some(d)) => format!("{y:04}-{m:02}-{d:02}"),
            (None, Some(m), Some(d)) => format!("{m}/{d}"),
            (Some(y), Some(m), None) => format!("{y:04}-{m:02}"),
            (Some(y), None, None) => format!("{y:04}"),
            _ => "?".into(),
        }
    }
}

/// Words that tie a date to an event when no entity sits beside it.
pub const DATE_EVENT_WORDS: &[&str] = &[
    "入院", "退院", "手術", "発症", "受診", "転院", "転棟", "開始", "終了", "中止", "再開", "切替",
    "再検", "施行", "増量", "減量", "外泊", "導入", "抜去", "挿入", "透析",
];

/// Event words whose date the encounter record states with authority.
pub const ENCOUNTER_WORDS: &[&str] = &["入院", "退院"];

/// A value's comparable form: "14,800" → "14800", "18.6 mg/dL" → "18.6", "5mg" → "5mg".
pub fn value_key(kind: EntityType, normalized: &str) -> String {
    let compact: String = normalized
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',')
        .collect::<String>()
        .to_lowercase();
    if kind == EntityType::TestValue {
        let numeric: String = compact
            .chars()
            .take_while(|c| {
                c.is_ascii_digit() || matches!(c, '.' | '/' | '<' | '>' | '≤' | '≥' | '+' | '-')
            })
            .collect();
        // "9800/μL" → "9800" (the slash belonged to the unit).
        let numeric = numeric.trim_end_matches(['/', '.', '-']);
        if numeric.chars().any(|c| c.is_ascii_digit()) {
            return numeric.to_string();
        }
    }
    compact
}

/// Do two value keys state the same value? (18.6 == 18.60)
pub fn same_value(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let number = |s: &str| -> Option<(f64, String)> {
        let end = s
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
            .map_or(s.len(), |(i, _)| i);
        let n: f64 = s[..end].parse().ok()?;
        Some((n, s[end..].to_string()))
    };
    match (number(a), number(b)) {
        (Some((x, ux)), Some((y, uy))) => (x - y).abs() < 1e-9 && ux == uy,
        _ => false,
    }
}

/// One entity, read in its sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub entity: Entity,
    /// Key used to look the fact up: the normalized form (anatomy without its side).
    pub key: String,
    pub side: Option<Side>,
    /// For doses and test values: the normalized form of their head (medication / test).
    pub head: Option<String>,
    /// The head as written.
    pub head_text: Option<String>,
    /// For doses and test values: the comparable value.
    pub value: Option<String>,
    pub date: Option<DateValue>,
    /// For dates: normalized entities and event words of the same clause (else sentence).
    pub date_context: Vec<String>,
    /// For dates: event words of the same clause only (入院, 退院 …).
    pub date_clause_words: Vec<String>,
    /// The sentence speaks of an allergy or adverse reaction (アレルギー, 禁忌, 蕁麻疹 …).
    pub allergy_context: bool,
}

/// Words that put a drug mentioned in the same sentence in an allergy context.
pub const ALLERGY_CUES: &[&str] = &[
    "アレルギー",
    "過敏",
    "禁忌",
    "禁",
    "副作用",
    "避け",
    "蕁麻疹",
    "皮疹",
    "発疹",
    "膨疹",
    "薬疹",
    "アナフィラキシー",
    "掻痒",
];

/// Character ranges of sentences (ended by 。 or a line break; not by ．, which is a
/// full-width decimal point in "３６．５").
pub fn sentence_spans(text: &str) -> Vec<(usize, usize)> {
    split_spans(text, |c| matches!(c, '。' | '\n'))
}

fn clause_spans(text: &str) -> Vec<(usize, usize)> {
    split_spans(text, |c| {
        matches!(c, '。' | '\n' | '、' | '，' | '　' | ';' | '；')
    })
}

fn split_spans(text: &str, is_end: impl Fn(char) -> bool) -> Vec<(usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, &c) in chars.iter().enumerate() {
        // "。\n" ends one sentence, not two.
        let next_also_ends = chars.get(i + 1).is_some_and(|&n| is_end(n));
        if is_end(c) && !next_also_ends {
            spans.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < chars.len() {
        spans.push((start, chars.len()));
    }
    spans
}

fn span_of(spans: &[(usize, usize)], at: usize) -> (usize, usize) {
    spans
        .iter()
        .copied()
        .find(|(s, e)| *s <= at && at < *e)
        .unwrap_or((at, at + 1))
}

/// Reads the entities of `text` (offsets into `text`) as facts.
pub fn facts_of(text: &str, entities: &[Entity]) -> Vec<Fact> {
    let sentences = sentence_spans(text);
    let clauses = clause_spans(text);
    let chars: Vec<char> = text.chars().collect();
    let slice = |(s, e): (usize, usize)| -> String {
        chars[s.min(chars.len())..e.min(chars.len())]
            .iter()
            .collect()
    };
    let mut facts = Vec::with_capacity(entities.len());
    for (i, entity) in entities.iter().enumerate() {
        let sentence = span_of(&sentences, entity.start);
        let in_sentence_before = |kind: EntityType| {
            entities[..i]
                .iter()
                .rev()
                .take_while(|e| e.start >= sentence.0)
                .find(|e| e.kind == kind)
        };
        let (side, base) = match entity.kind {
            EntityType::Anatomy => split_side(&entity.normalized),
            EntityType::Disease => disease_side(entities, i),
            _ => (None, entity.normalized.as_str()),
        };
        let mut fact = Fact {
            entity: entity.clone(),
            key: base.to_string(),
            side,
            head: None,
            head_text: None,
            value: None,
            date: None,
            date_context: Vec::new(),
            date_clause_words: Vec::new(),
            allergy_context: {
                let text = slice(sentence);
                ALLERGY_CUES.iter().any(|cue| text.contains(cue))
            },
        };
        match entity.kind {
            EntityType::Dose => {
                let head = in_sentence_before(EntityType::Medication);
                fact.head = head.map(|h| h.normalized.clone());
                fact.head_text = head.map(|h| h.text.clone());
                fact.value = Some(value_key(entity.kind, &entity.normalized));
            }
            EntityType::TestValue => {
                let head = in_sentence_before(EntityType::Test);
                fact.head = head.map(|h| h.normalized.clone());
                fact.head_text = head.map(|h| h.text.clone());
                fact.value = Some(value_key(entity.kind, &entity.normalized));
            }
            EntityType::Date => {
                fact.date = DateValue::parse(&entity.normalized);
                let clause = span_of(&clauses, entity.start);
                let clause_text = slice(clause);
                fact.date_clause_words = DATE_EVENT_WORDS
                    .iter()
                    .filter(|w| clause_text.contains(*w))
                    .map(|w| w.to_string())
                    .collect();
                let mut context = context_in(entities, clause, &clause_text);
                if context.is_empty() {
                    context = context_in(entities, sentence, &slice(sentence));
                }
                fact.date_context = context;
            }
            _ => {}
        }
        facts.push(fact);
    }
    facts
}

/// Entities (diseases, procedures, medications, tests) and event words inside `span`.
fn context_in(entities: &[Entity], span: (usize, usize), span_text: &str) -> Vec<String> {
    let mut context: Vec<String> = entities
        .iter()
        .filter(|e| e.start >= span.0 && e.end <= span.1)
        .filter(|e| {
            matches!(
                e.kind,
                EntityType::Disease
                    | EntityType::Procedure
                    | EntityType::Medication
                    | EntityType::Test
            )
        })
        .map(|e| e.normalized.clone())
        .collect();
    context.extend(
        DATE_EVENT_WORDS
            .iter()
            .filter(|w| span_text.contains(*w))
            .map(|w| w.to_string()),
    );
    context.sort();
    context.dedup();
    context
}

/// Is a draft certainty incompatible with every certainty the chart gives the same finding?
/// Asserted in the draft but only negated (or only family history / general) in the chart,
/// or negated in the draft but never negated in the chart.
pub fn certainty_conflict(draft: Option<Certainty>, chart: &[Certainty]) -> bool {
    let Some(draft) = draft else {
        return false;
    };
    if chart.is_empty() {
        return false;
    }
    let chart_has = |c: Certainty| chart.contains(&c);
    match draft {
        Certainty::Positive => !chart_has(Certainty::Positive) && !chart_has(Certainty::Suspicious),
        Certainty::Negative => !chart_has(Certainty::Negative),
        Certainty::Suspicious | Certainty::General => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_split_off_anatomy() {
        assert_eq!(split_side("右下肺野"), (Some(Side::Right), "下肺野"));
        assert_eq!(split_side("左側"), (Some(Side::Left), "側"));
        assert_eq!(split_side("肺"), (None, "肺"));
        assert_eq!(split_side("右"), (None, "右"));
    }

    #[test]
    fn dates_parse_and_match_partially() {
        let full = DateValue::parse("2026-01-14").unwrap();
        let md = DateValue::parse("--01-14").unwrap();
        let other = DateValue::parse("--01-15").unwrap();
        let month = DateValue::parse("2026-01").unwrap();
        assert!(full.compatible(&md) && md.compatible(&full));
        assert!(!full.compatible(&other));
        assert!(month.compatible(&full));
        assert!(DateValue::parse("令和").is_none());
    }

    #[test]
    fn values_compare_by_number() {
        assert_eq!(value_key(EntityType::TestValue, "14,800"), "14800");
        assert_eq!(value_key(EntityType::TestValue, "18.6mg/dL"), "18.6");
        assert_eq!(value_key(EntityType::TestValue, "9800/μL"), "9800");
        assert_eq!(value_key(EntityType::TestValue, "120/80mmHg"), "120/80");
        assert_eq!(value_key(EntityType::TestValue, "陰性"), "陰性");
        assert_eq!(value_key(EntityType::Dose, "1,000 mL"), "1000ml");
        assert!(same_value("18.6", "18.60"));
        assert!(same_value("5mg", "5.0mg"));
        assert!(!same_value("5mg", "10mg"));
        assert!(!same_value("5mg", "5g"));
    }

    #[test]
    fn certainty_conflicts_only_on_opposite_polarity() {
        use Certainty::*;
        assert!(certainty_conflict(Some(Positive), &[Negative]));
        assert!(!certainty_conflict(Some(Positive), &[Negative, Positive]));
        assert!(certainty_conflict(Some(Negative), &[Positive, Suspicious]));
        assert!(certainty_conflict(Some(Negative), &[Positive, General]));
        assert!(certainty_conflict(Some(Positive), &[General]));
        assert!(!certainty_conflict(Some(Suspicious), &[Negative]));
        assert!(!certainty_conflict(None, &[Negative]));
    }

    #[test]
    fn sentence_spans_cover_text() {
        assert_eq!(sentence_spans("あ。い\nう"), vec![(0, 2), (2, 4), (4, 5)]);
        assert_eq!(sentence_spans("あ。\nい"), vec![(0, 3), (3, 4)]);
    }
}
