//! Procedures done (not those said to be skipped), dated by the nearest date on their line.

use super::note_text::NoteText;
use super::timeline::{resolve_date, DateAnchors};
use super::{note_source, ProcedureItem};
use crate::chart::{Chart, Note};
use crate::nlp::{Entity, EntityType};

/// Words after a procedure saying it was not done.
const NOT_DONE: &[&str] = &["なし", "せず", "は行わず", "は施行せず", "不要", "見送り"];

pub(super) fn procedures(chart: &Chart, notes: &[(&Note, Vec<Entity>)]) -> Vec<ProcedureItem> {
    let mut list: Vec<ProcedureItem> = Vec::new();
    for (note, entities) in notes {
        let note_date = note.datetime.date();
        let anchors = DateAnchors::for_note(chart, note);
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
                .and_then(|e| resolve_date(&e.normalized, anchors))
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
