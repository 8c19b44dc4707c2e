//! Medications: the prescription records, merged with the drugs named in the notes (dose,
//! route and schedule read from the words after the name).

use std::collections::HashMap;

use super::note_text::NoteText;
use super::{note_source, Medication};
use crate::chart::{Chart, Note, Source};
use crate::nlp::normalize::normalize_str;
use crate::nlp::{Entity, EntityType, Pipeline};

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

pub(super) fn medications(
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
