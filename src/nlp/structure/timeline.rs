//! The timeline: admission, discharge, procedures, prescription starts and ends, and dated
//! findings in the notes; relative dates resolved against the note and the admission.

use chrono::{Duration, NaiveDate};

use super::note_text::NoteText;
use super::{note_source, ProcedureItem, TimelineEvent, TimelineKind};
use crate::chart::{Chart, Note, Source};
use crate::nlp::{Certainty, Entity, EntityType};

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

pub(super) fn timeline(
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
}
