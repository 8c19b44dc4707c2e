//! The problem list: diagnosis records first, then diseases found in the notes, one item
//! per canonical name, with the strongest certainty among its mentions.

use std::collections::HashMap;

use super::{note_source, Problem};
use crate::chart::{Chart, DiagnosisStatus, Note, Source};
use crate::nlp::{Certainty, Entity, EntityType, Pipeline};

fn certainty_strength(c: Certainty) -> u8 {
    match c {
        Certainty::Positive => 3,
        Certainty::Suspicious => 2,
        Certainty::Negative => 1,
        Certainty::General => 0,
    }
}

pub(super) fn problems(
    pipeline: &Pipeline,
    chart: &Chart,
    notes: &[(&Note, Vec<Entity>)],
) -> Vec<Problem> {
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
