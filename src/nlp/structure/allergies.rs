//! Allergies: the allergy records, and drugs the notes name with アレルギー or a reaction.

use super::note_text::NoteText;
use super::{note_source, AllergyItem};
use crate::chart::{Chart, Note, Source};
use crate::nlp::normalize::normalize_str;
use crate::nlp::{Entity, EntityType, Pipeline};

pub(super) fn allergies(
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
