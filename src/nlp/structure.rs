//! Stage 6: one chart's facts, structured: problems (with certainty), medications (merged
//! from the prescription records and the notes), latest and abnormal labs, allergies,
//! procedures and a timeline. Every item lists the records it came from ([`Source`]), with
//! character offsets for facts found in a note's text.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::normalize::normalize_str;
use super::{Certainty, Entity, EntityType, Pipeline};
use crate::chart::{Chart, DiagnosisStatus, LabFlag, LabResult, Note, Source};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StructuredChart {
    pub problems: Vec<Problem>,
    pub medications: Vec<Medication>,
    /// The most recent result of every lab item.
    pub latest_labs: Vec<LabItem>,
    /// Every result flagged H/L or outside its reference range, oldest first.
    pub abnormal_labs: Vec<LabItem>,
    pub allergies: Vec<AllergyItem>,
    pub procedures: Vec<ProcedureItem>,
    /// Dated events, oldest first.
    pub timeline: Vec<TimelineEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Canonical name (the lexicon's preferred term).
    pub name: String,
    /// As first written.
    pub text: String,
    /// From a diagnosis record when there is one, else the strongest mention in the notes
    /// (positive, then suspicious, negative, general).
    pub certainty: Certainty,
    /// 主病名 in the diagnosis records.
    pub main: bool,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Medication {
    /// Generic name when the lexicon knows the brand.
    pub name: String,
    /// As first written.
    pub text: String,
    /// Amount per dose with unit (5mg, 2錠), as recorded.
    pub dose: String,
    /// 内服, 静注, 点滴 …
    pub route: String,
    /// 1日1回 朝食後, 分3 毎食後 …
    pub frequency: String,
    /// Continued after discharge (退院時処方).
    pub discharge: bool,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabItem {
    pub item: String,
    pub value: String,
    pub unit: String,
    pub reference_range: String,
    pub flag: Option<LabFlag>,
    pub datetime: Option<NaiveDateTime>,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllergyItem {
    pub substance: String,
    pub reaction: String,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcedureItem {
    pub name: String,
    pub text: String,
    pub date: Option<NaiveDate>,
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Admission,
    Discharge,
    Procedure,
    MedicationStart,
    MedicationEnd,
    /// A dated sentence of a note (「1/11 より湿性咳嗽」).
    NoteEvent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub date: NaiveDate,
    pub kind: TimelineKind,
    pub label: String,
    pub sources: Vec<Source>,
}

/// Route words looked for after a medication in a note.
const ROUTES: &[&str] = &[
    "点滴静注",
    "持続静注",
    "静注",
    "点滴",
    "筋注",
    "皮下注",
    "内服",
    "経口",
    "外用",
    "吸入",
    "貼付",
    "点眼",
    "坐剤",
    "舌下",
    "経管",
];

/// Words after a procedure saying it was not done.
const NOT_DONE: &[&str] = &["なし", "せず", "は行わず", "は施行せず", "不要", "見送り"];

impl Pipeline {
    /// Structures one chart: runs `extract` on every note once and merges with the records.
    pub fn structure(&self, chart: &Chart) -> StructuredChart {
        let notes: Vec<(&Note, Vec<Entity>)> = chart
            .notes_by_date()
            .into_iter()
            .map(|note| (note, self.extract(&note.text)))
            .collect();
        let mut structured = StructuredChart {
            problems: problems(self, chart, &notes),
            medications: medications(self, chart, &notes),
            allergies: allergies(self, chart, &notes),
            procedures: procedures(chart, &notes),
            ..Default::default()
        };
        let (latest, abnormal) = labs(chart);
        structured.latest_labs = latest;
        structured.abnormal_labs = abnormal;
        structured.timeline = timeline(chart, &notes, &structured.procedures);
        structured
    }

    /// The lexicon's canonical form of a name written in a record, else the name itself.
    fn canonical(&self, written: &str) -> String {
        let normalized = normalize_str(written.trim());
        self.lexicon()
            .lookup(&normalized)
            .map(|entry| entry.normalized.clone())
            .unwrap_or(normalized)
    }
}

fn note_source(note: &Note, entity: &Entity) -> Source {
    Source::Note {
        id: note.id.clone(),
        start: entity.start,
        end: entity.end,
    }
}

fn certainty_strength(c: Certainty) -> u8 {
    match c {
        Certainty::Positive => 3,
        Certainty::Suspicious => 2,
        Certainty::Negative => 1,
        Certainty::General => 0,
    }
}

fn problems(pipeline: &Pipeline, chart: &Chart, notes: &[(&Note, Vec<Entity>)]) -> Vec<Problem> {
    let mut list: Vec<Problem> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut recorded: Vec<bool> = Vec::new();
    for diagnosis in &chart.diagnoses {
        let name = pipeline.canonical(&diagnosis.name);
        let certainty = match diagnosis.status {
            DiagnosisStatus::Suspected => Certainty::Suspicious,
            DiagnosisStatus::Active | DiagnosisStatus::Resolved => Certainty::Positive,
        };
        let source = Source::Diagnosis {
            id: diagnosis.id.clone(),
        };
        if let Some(&i) = index.get(&name) {
            list[i].sources.push(source);
            list[i].main |= diagnosis.main;
            continue;
        }
        index.insert(name.clone(), list.len());
        recorded.push(true);
        list.push(Problem {
            name,
            text: diagnosis.name.clone(),
            certainty,
            main: diagnosis.main,
            sources: vec![source],
        });
    }
    for (note, entities) in notes {
        for entity in entities.iter().filter(|e| e.kind == EntityType::Disease) {
            let certainty = entity.certainty.unwrap_or(Certainty::Positive);
            let source = note_source(note, entity);
            match index.get(&entity.normalized) {
                Some(&i) => {
                    let problem = &mut list[i];
                    problem.sources.push(source);
                    if !recorded[i]
                        && certainty_strength(certainty) > certainty_strength(problem.certainty)
                    {
                        problem.certainty = certainty;
                    }
                }
                None => {
                    index.insert(entity.normalized.clone(), list.len());
                    recorded.push(false);
                    list.push(Problem {
                        name: entity.normalized.clone(),
                        text: entity.text.clone(),
                        certainty,
                        main: false,
                        sources: vec![source],
                    });
                }
            }
        }
    }
    list
}

fn medications(
    pipeline: &Pipeline,
    chart: &Chart,
    notes: &[(&Note, Vec<Entity>)],
) -> Vec<Medication> {
    let mut list: Vec<Medication> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for prescription in &chart.prescriptions {
        // "アムロジピン錠5mg": the name is the medication entity inside the drug field.
        let name = pipeline
            .extract(&prescription.drug)
            .into_iter()
            .find(|e| e.kind == EntityType::Medication)
            .map(|e| e.normalized)
            .unwrap_or_else(|| pipeline.canonical(&prescription.drug));
        let dose = format!("{}{}", prescription.dose.trim(), prescription.unit.trim());
        let source = Source::Prescription {
            id: prescription.id.clone(),
        };
        if let Some(&i) = index.get(&name) {
            let medication = &mut list[i];
            medication.sources.push(source);
            medication.discharge |= prescription.discharge;
            continue;
        }
        index.insert(name.clone(), list.len());
        list.push(Medication {
            name,
            text: prescription.drug.clone(),
            dose,
            route: prescription.route.clone(),
            frequency: prescription.frequency.clone(),
            discharge: prescription.discharge,
            sources: vec![source],
        });
    }
    for (note, entities) in notes {
        let text = NoteText::new(&note.text);
        for (i, entity) in entities.iter().enumerate() {
            if entity.kind != EntityType::Medication {
                continue;
            }
            let details = medication_details(&text, entities, i);
            let source = note_source(note, entity);
            match index.get(&entity.normalized) {
                Some(&k) => {
                    let medication = &mut list[k];
                    medication.sources.push(source);
                    fill_if_empty(&mut medication.dose, details.dose);
                    fill_if_empty(&mut medication.route, details.route);
                    fill_if_empty(&mut medication.frequency, details.frequency);
                }
                None => {
                    index.insert(entity.normalized.clone(), list.len());
                    list.push(Medication {
                        name: entity.normalized.clone(),
                        text: entity.text.clone(),
                        dose: details.dose,
                        route: details.route,
                        frequency: details.frequency,
                        discharge: false,
                        sources: vec![source],
                    });
                }
            }
        }
    }
    list
}

fn fill_if_empty(field: &mut String, value: String) {
    if field.trim().is_empty() {
        *field = value;
    }
}

struct MedicationDetails {
    dose: String,
    route: String,
    frequency: String,
}

/// Character-indexed access to a note's text, built once per note (no quadratic scans).
struct NoteText<'a> {
    text: &'a str,
    byte_of_char: Vec<usize>,
}

impl<'a> NoteText<'a> {
    fn new(text: &'a str) -> Self {
        let mut byte_of_char: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        byte_of_char.push(text.len());
        NoteText { text, byte_of_char }
    }

    fn byte(&self, char_index: usize) -> usize {
        self.byte_of_char
            .get(char_index)
            .copied()
            .unwrap_or(self.text.len())
    }

    fn char_of_byte(&self, byte: usize) -> usize {
        self.byte_of_char.partition_point(|&b| b < byte)
    }

    /// The text from character `char_index` on.
    fn from(&self, char_index: usize) -> &'a str {
        &self.text[self.byte(char_index)..]
    }

    /// Character bounds of the line holding character `at` (without the line break).
    fn line_bounds(&self, at: usize) -> (usize, usize) {
        let byte = self.byte(at);
        let start = self.text[..byte].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let end = self.text[byte..]
            .find('\n')
            .map(|i| byte + i)
            .unwrap_or(self.text.len());
        (self.char_of_byte(start), self.char_of_byte(end))
    }

    fn line(&self, at: usize) -> &'a str {
        let (start, end) = self.line_bounds(at);
        &self.text[self.byte(start)..self.byte(end)]
    }
}

/// Doses and schedules after medication `i`, up to the next medication or the end of the
/// line/sentence; the route is the first route word in that stretch.
fn medication_details(text: &NoteText, entities: &[Entity], i: usize) -> MedicationDetails {
    let entity = &entities[i];
    let rest = text.from(entity.end);
    let stretch_end = rest.find(['。', '\n', '、']).unwrap_or(rest.len());
    let stretch = &rest[..stretch_end];
    let limit = entity.end + stretch.chars().count();
    let (mut amounts, mut schedules) = (Vec::new(), Vec::new());
    for next in &entities[i + 1..] {
        if next.start >= limit || next.kind == EntityType::Medication {
            break;
        }
        if next.kind == EntityType::Dose {
            let is_amount = next.normalized.starts_with(|c: char| c.is_ascii_digit());
            if is_amount {
                amounts.push(next.text.clone());
            } else {
                schedules.push(next.text.clone());
            }
        }
    }
    let stretch = normalize_str(stretch);
    let route = ROUTES
        .iter()
        .find(|r| stretch.contains(*r))
        .map(|r| r.to_string())
        .unwrap_or_default();
    MedicationDetails {
        dose: amounts.join(" "),
        route,
        frequency: schedules.join(" "),
    }
}

/// Latest result per item, and every abnormal result.
fn labs(chart: &Chart) -> (Vec<LabItem>, Vec<LabItem>) {
    let mut sorted: Vec<&LabResult> = chart.labs.iter().collect();
    sorted.sort_by_key(|lab| lab.datetime);
    let item = |lab: &LabResult| LabItem {
        item: lab.item.clone(),
        value: lab.value.clone(),
        unit: lab.unit.clone(),
        reference_range: lab.reference_range.clone(),
        flag: lab
            .flag
            .or_else(|| flag_from_range(&lab.value, &lab.reference_range)),
        datetime: Some(lab.datetime),
        sources: vec![Source::Lab { id: lab.id.clone() }],
    };
    let mut latest: Vec<LabItem> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut abnormal = Vec::new();
    for lab in sorted {
        let current = item(lab);
        if current.flag.is_some() {
            abnormal.push(current.clone());
        }
        let key = normalize_str(&lab.item).to_ascii_lowercase();
        match index.get(&key) {
            Some(&i) => latest[i] = current,
            None => {
                index.insert(key, latest.len());
                latest.push(current);
            }
        }
    }
    (latest, abnormal)
}

/// H or L when a numeric value lies outside a "low-high", "≤x" or "≥x" reference range.
fn flag_from_range(value: &str, range: &str) -> Option<LabFlag> {
    let number = |s: &str| normalize_str(s.trim()).replace(',', "").parse::<f64>().ok();
    let value = number(value)?;
    let range = normalize_str(range);
    if let Some(high) = range.strip_prefix('≤').or_else(|| range.strip_prefix("<=")) {
        return (value > number(high)?).then_some(LabFlag::H);
    }
    if let Some(low) = range.strip_prefix('≥').or_else(|| range.strip_prefix(">=")) {
        return (value < number(low)?).then_some(LabFlag::L);
    }
    let (low, high) = range.split_once(['-', '~'])?;
    let (low, high) = (number(low)?, number(high)?);
    if value < low {
        Some(LabFlag::L)
    } else if value > high {
        Some(LabFlag::H)
    } else {
        None
    }
}

fn allergies(
    pipeline: &Pipeline,
    chart: &Chart,
    notes: &[(&Note, Vec<Entity>)],
) -> Vec<AllergyItem> {
    let mut list: Vec<AllergyItem> = chart
        .allergies
        .iter()
        .map(|allergy| AllergyItem {
            // "ロキソプロフェン（ロキソニン）" → ロキソプロフェン, to meet the notes' mentions.
            substance: pipeline
                .extract(&allergy.substance)
                .into_iter()
                .find(|e| e.kind == EntityType::Medication)
                .map(|e| e.normalized)
                .unwrap_or_else(|| allergy.substance.clone()),
            reaction: allergy.reaction.clone(),
            sources: vec![Source::Allergy {
                id: allergy.id.clone(),
            }],
        })
        .collect();
    // In notes: 「ペニシリンアレルギー」, or on an アレルギー/副作用 line a drug followed by
    // で + a reaction (「アレルギー：ロキソニンで蕁麻疹」).
    for (note, entities) in notes {
        let text = NoteText::new(&note.text);
        for entity in entities.iter().filter(|e| e.kind == EntityType::Medication) {
            let after: String = text.from(entity.end).chars().take(8).collect();
            let after = normalize_str(&after);
            let after = after.trim_start_matches([')', '）', ' ']);
            let named = after.starts_with("アレルギー");
            let line = text.line(entity.start);
            let reaction = reaction_after(entities, entity);
            let listed = (line.contains("アレルギー") || line.contains("副作用"))
                && (after.starts_with('で') || after.starts_with("にて"))
                && !reaction.is_empty();
            if !(named || listed) {
                continue;
            }
            let substance = entity.normalized.clone();
            let source = note_source(note, entity);
            match list.iter_mut().find(|a| a.substance == substance) {
                Some(existing) => existing.sources.push(source),
                None => list.push(AllergyItem {
                    substance,
                    reaction,
                    sources: vec![source],
                }),
            }
        }
    }
    list
}

/// The first disease written after `entity` on its line (ロキソニンで蕁麻疹 → 蕁麻疹).
fn reaction_after(entities: &[Entity], entity: &Entity) -> String {
    entities
        .iter()
        .find(|e| {
            e.kind == EntityType::Disease && e.start >= entity.end && e.start - entity.end < 15
        })
        .map(|e| e.text.clone())
        .unwrap_or_default()
}

fn procedures(chart: &Chart, notes: &[(&Note, Vec<Entity>)]) -> Vec<ProcedureItem> {
    let admission = chart.encounter.admission_date;
    let mut list: Vec<ProcedureItem> = Vec::new();
    for (note, entities) in notes {
        let note_date = note.datetime.date();
        let text = NoteText::new(&note.text);
        for (i, entity) in entities.iter().enumerate() {
            if entity.kind != EntityType::Procedure {
                continue;
            }
            let after = text.from(entity.end);
            if NOT_DONE.iter().any(|w| after.starts_with(w)) {
                continue;
            }
            // The nearest date written before it on the same line, else the note's date.
            let (line_start, _) = text.line_bounds(entity.start);
            let date = entities[..i]
                .iter()
                .rev()
                .take_while(|e| e.start >= line_start)
                .find(|e| e.kind == EntityType::Date)
                .and_then(|e| resolve_date(&e.normalized, note_date, admission))
                .or(Some(note_date));
            let source = note_source(note, entity);
            match list
                .iter_mut()
                .find(|p| p.name == entity.normalized && p.date == date)
            {
                Some(existing) => existing.sources.push(source),
                None => list.push(ProcedureItem {
                    name: entity.normalized.clone(),
                    text: entity.text.clone(),
                    date,
                    sources: vec![source],
                }),
            }
        }
    }
    list
}

/// An ISO date, a month-day (year from the note), or 入院N日目 / N日前 / N週間前.
pub fn resolve_date(
    normalized: &str,
    note_date: NaiveDate,
    admission: Option<NaiveDate>,
) -> Option<NaiveDate> {
    if let Ok(date) = NaiveDate::parse_from_str(normalized, "%Y-%m-%d") {
        return Some(date);
    }
    if let Some(month_day) = normalized.strip_prefix("--") {
        let (month, day) = month_day.split_once('-')?;
        let (month, day): (u32, u32) = (month.parse().ok()?, day.parse().ok()?);
        let year = chrono::Datelike::year(&note_date);
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        // A month-day later than the note is from the year before (12/28 in a January note).
        return if date > note_date + Duration::days(31) {
            NaiveDate::from_ymd_opt(year - 1, month, day)
        } else {
            Some(date)
        };
    }
    let digits: String = normalized.chars().filter(|c| c.is_ascii_digit()).collect();
    let n: i64 = digits.parse().ok()?;
    if normalized.starts_with("入院") && normalized.ends_with("日目") {
        return admission.map(|a| a + Duration::days(n - 1));
    }
    if normalized.ends_with("日前") {
        return Some(note_date - Duration::days(n));
    }
    if normalized.ends_with("週間前") || normalized.ends_with("週前") {
        return Some(note_date - Duration::days(7 * n));
    }
    None
}

fn timeline(
    chart: &Chart,
    notes: &[(&Note, Vec<Entity>)],
    procedures: &[ProcedureItem],
) -> Vec<TimelineEvent> {
    let mut events = Vec::new();
    let encounter = &chart.encounter;
    if let Some(date) = encounter.admission_date {
        events.push(TimelineEvent {
            date,
            kind: TimelineKind::Admission,
            label: format!("入院 {}", encounter.department).trim().to_string(),
            sources: vec![Source::Encounter],
        });
    }
    if let Some(date) = encounter.discharge_date {
        events.push(TimelineEvent {
            date,
            kind: TimelineKind::Discharge,
            label: "退院".into(),
            sources: vec![Source::Encounter],
        });
    }
    for procedure in procedures {
        if let Some(date) = procedure.date {
            events.push(TimelineEvent {
                date,
                kind: TimelineKind::Procedure,
                label: procedure.name.clone(),
                sources: procedure.sources.clone(),
            });
        }
    }
    for prescription in &chart.prescriptions {
        let source = Source::Prescription {
            id: prescription.id.clone(),
        };
        if let Some(date) = prescription.start {
            events.push(TimelineEvent {
                date,
                kind: TimelineKind::MedicationStart,
                label: format!("{} 開始", prescription.drug),
                sources: vec![source.clone()],
            });
        }
        if let Some(date) = prescription.end {
            events.push(TimelineEvent {
                date,
                kind: TimelineKind::MedicationEnd,
                label: format!("{} 終了", prescription.drug),
                sources: vec![source],
            });
        }
    }
    // Dated findings in the notes: a date followed by diseases on the same line.
    for (note, entities) in notes {
        let text = NoteText::new(&note.text);
        for (i, date_entity) in entities.iter().enumerate() {
            if date_entity.kind != EntityType::Date {
                continue;
            }
            let Some(date) = resolve_date(
                &date_entity.normalized,
                note.datetime.date(),
                encounter.admission_date,
            ) else {
                continue;
            };
            let (_, line_end) = text.line_bounds(date_entity.start);
            let findings: Vec<&Entity> = entities[i + 1..]
                .iter()
                .take_while(|e| e.start < line_end && e.kind != EntityType::Date)
                .filter(|e| {
                    e.kind == EntityType::Disease && e.certainty == Some(Certainty::Positive)
                })
                .collect();
            if findings.is_empty() {
                continue;
            }
            let label = findings
                .iter()
                .map(|e| e.normalized.as_str())
                .collect::<Vec<_>>()
                .join("、");
            let mut sources = vec![note_source(note, date_entity)];
            sources.extend(findings.iter().map(|e| note_source(note, e)));
            events.push(TimelineEvent {
                date,
                kind: TimelineKind::NoteEvent,
                label,
                sources,
            });
        }
    }
    events.sort_by_key(|e| e.date);
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_ranges_flag_values() {
        assert_eq!(flag_from_range("18.6", "≤0.14"), Some(LabFlag::H));
        assert_eq!(flag_from_range("43.1", "≥60"), Some(LabFlag::L));
        assert_eq!(flag_from_range("134", "138-145"), Some(LabFlag::L));
        assert_eq!(flag_from_range("12.4", "11.6-14.8"), None);
        assert_eq!(flag_from_range("陽性", "陰性"), None);
    }

    #[test]
    fn dates_resolve_against_note_and_admission() {
        let note = NaiveDate::from_ymd_opt(2026, 1, 14).unwrap();
        let admission = NaiveDate::from_ymd_opt(2026, 1, 14);
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(
            resolve_date("2026-01-11", note, admission),
            day(2026, 1, 11)
        );
        assert_eq!(resolve_date("--01-11", note, admission), day(2026, 1, 11));
        assert_eq!(resolve_date("--12-28", note, admission), day(2025, 12, 28));
        assert_eq!(resolve_date("入院3日目", note, admission), day(2026, 1, 16));
        assert_eq!(resolve_date("3日前", note, admission), day(2026, 1, 11));
        assert_eq!(resolve_date("1週間前", note, admission), day(2026, 1, 7));
        assert_eq!(resolve_date("第2病日", note, admission), None);
    }

    #[test]
    fn lines_are_found_by_character_offset() {
        let text = NoteText::new("一行目\nアレルギー:ロキソニン\n三行目");
        assert_eq!(text.line(8), "アレルギー:ロキソニン");
        assert_eq!(text.line_bounds(8), (4, 15));
        assert_eq!(text.line(0), "一行目");
        assert_eq!(text.line(3), "一行目");
        assert_eq!(text.from(17), "行目");
        assert_eq!(text.from(99), "");
    }
}
