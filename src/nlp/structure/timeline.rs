//! The timeline: admission, discharge, procedures, prescription starts and ends, and dated
//! findings in the notes; relative dates resolved against the note and the admission.

use chrono::{Duration, NaiveDate};

use super::note_text::NoteText;
use super::{note_source, ProcedureItem, TimelineEvent, TimelineKind};
use crate::chart::{Chart, Note, Source};
use crate::nlp::{Certainty, Entity, EntityType};

/// The note kind of an operative record: its date is the operation day (術後0日目).
pub const OPERATIVE_NOTE: &str = "手術記録";

/// What a relative date is counted from: the note's own date, the admission, and the
/// operation day (the latest operative record on or before the note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateAnchors {
    pub note: NaiveDate,
    pub admission: Option<NaiveDate>,
    pub operation: Option<NaiveDate>,
}

impl DateAnchors {
    pub fn for_note(chart: &Chart, note: &Note) -> Self {
        let note_date = note.datetime.date();
        Self {
            note: note_date,
            admission: chart.encounter.admission_date,
            operation: chart
                .notes
                .iter()
                .filter(|n| n.kind.trim() == OPERATIVE_NOTE)
                .map(|n| n.datetime.date())
                .filter(|d| *d <= note_date)
                .max(),
        }
    }
}

/// An ISO date, a month-day (year from the note), 入院N日目 (day 1 = admission), 術後N日目 /
/// PODN (day 0 = operation), N日前 / N週間前. 第N病日 counts from the onset, which a chart
/// does not record reliably, so it stays unresolved rather than guessed.
pub fn resolve_date(normalized: &str, anchors: DateAnchors) -> Option<NaiveDate> {
    let DateAnchors {
        note: note_date,
        admission,
        operation,
    } = anchors;
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
    let post_operative = (normalized.starts_with("術後") && normalized.ends_with("日目"))
        || normalized.to_ascii_uppercase().starts_with("POD");
    if post_operative {
        return operation.map(|o| o + Duration::days(n));
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
        let anchors = DateAnchors::for_note(chart, note);
        for (i, date_entity) in entities.iter().enumerate() {
            if date_entity.kind != EntityType::Date {
                continue;
            }
            let Some(date) = resolve_date(&date_entity.normalized, anchors) else {
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
    fn dates_resolve_against_note_admission_and_operation() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        let anchors = DateAnchors {
            note: day(2026, 1, 14).unwrap(),
            admission: day(2026, 1, 14),
            operation: day(2026, 1, 10),
        };
        assert_eq!(resolve_date("2026-01-11", anchors), day(2026, 1, 11));
        assert_eq!(resolve_date("--01-11", anchors), day(2026, 1, 11));
        assert_eq!(resolve_date("--12-28", anchors), day(2025, 12, 28));
        assert_eq!(resolve_date("入院3日目", anchors), day(2026, 1, 16));
        assert_eq!(resolve_date("3日前", anchors), day(2026, 1, 11));
        assert_eq!(resolve_date("1週間前", anchors), day(2026, 1, 7));
        assert_eq!(resolve_date("術後2日目", anchors), day(2026, 1, 12));
        assert_eq!(resolve_date("POD3", anchors), day(2026, 1, 13));
        assert_eq!(resolve_date("第2病日", anchors), None, "onset unknown");
        let no_operation = DateAnchors {
            operation: None,
            ..anchors
        };
        assert_eq!(resolve_date("術後2日目", no_operation), None);
    }

    #[test]
    fn the_operation_day_is_the_latest_operative_record_before_the_note() {
        let chart: Chart = serde_json::from_str(
            r#"{"id":"C","patient":{"id":"P","name":"N"},
              "encounter":{"admission_date":"2026-03-01"},
              "notes":[
              {"id":"op1","datetime":"2026-03-02T10:00","kind":"手術記録","text":"手術"},
              {"id":"p1","datetime":"2026-03-04T09:00","kind":"経過記録","text":"術後2日目"},
              {"id":"op2","datetime":"2026-03-06T10:00","kind":"手術記録","text":"再手術"},
              {"id":"p2","datetime":"2026-03-07T09:00","kind":"経過記録","text":"術後1日目"}]}"#,
        )
        .unwrap();
        let note = |id: &str| chart.notes.iter().find(|n| n.id == id).unwrap();
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d);
        assert_eq!(
            DateAnchors::for_note(&chart, note("p1")).operation,
            day(3, 2)
        );
        assert_eq!(
            DateAnchors::for_note(&chart, note("p2")).operation,
            day(3, 6)
        );
        assert_eq!(
            resolve_date("術後1日目", DateAnchors::for_note(&chart, note("p2"))),
            day(3, 7)
        );
    }
}
