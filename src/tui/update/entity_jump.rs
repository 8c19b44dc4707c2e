//! `.` / `,`: step through the entities of the selected chart's notes, in the order the chart
//! pane shows them (notes by date, entities by position); each one is scrolled to and marked.

use super::review::show_source;
use crate::chart::Source;
use crate::nlp::{Certainty, Entity, EntityType};
use crate::tui::action::EntityTarget;
use crate::tui::state::app::App;
use crate::tui::state::review::SourceMark;

pub(super) fn jump(app: &mut App, forward: bool) {
    let Some(chart) = app.selected_chart().cloned() else {
        app.status = Some("カルテを読み込めた患者を選んでください".into());
        return;
    };
    // (note id, entity) in display order.
    let mut all: Vec<(String, &Entity)> = Vec::new();
    for note in chart.notes_by_date() {
        let target = EntityTarget::Note {
            chart_id: chart.id.clone(),
            note_id: note.id.clone(),
        };
        if let Some(entities) = app.note_entities.get(&target) {
            all.extend(entities.iter().map(|e| (note.id.clone(), e)));
        }
    }
    if all.is_empty() {
        app.status = Some("強調できる所見はまだありません (辞書の読み込み中か、所見なし)".into());
        return;
    }
    let position = |note_id: &str, start: usize| {
        all.iter()
            .position(|(id, e)| id == note_id && e.start == start)
    };
    let current = app
        .review
        .source_mark
        .as_ref()
        .filter(|m| m.chart_id == chart.id)
        .and_then(|m: &SourceMark| position(&m.note_id, m.start));
    let next = match (current, forward) {
        (None, true) => 0,
        (None, false) => all.len() - 1,
        (Some(i), true) => (i + 1) % all.len(),
        (Some(i), false) => (i + all.len() - 1) % all.len(),
    };
    let total = all.len();
    let (note_id, entity) = (all[next].0.clone(), all[next].1.clone());
    drop(all);
    let label = crate::tui::view::text::safe_line(&entity.text);
    show_source(
        app,
        &chart,
        &[Source::Note {
            id: note_id,
            start: entity.start,
            end: entity.end,
        }],
        &label,
    );
    let certainty = match entity.certainty {
        Some(Certainty::Negative) => " (否定)",
        Some(Certainty::Suspicious) => " (疑い)",
        Some(Certainty::General) => " (一般・家族歴)",
        Some(Certainty::Positive) | None => "",
    };
    app.status = Some(format!(
        "{}/{} {}{certainty}: {label} → {}",
        next + 1,
        total,
        kind_label(entity.kind),
        crate::tui::view::text::safe_line(&entity.normalized)
    ));
}

fn kind_label(kind: EntityType) -> &'static str {
    match kind {
        EntityType::Disease => "病名・所見",
        EntityType::Anatomy => "部位",
        EntityType::Medication => "薬剤",
        EntityType::Dose => "用量",
        EntityType::Test => "検査",
        EntityType::TestValue => "検査値",
        EntityType::Procedure => "処置",
        EntityType::Date => "日付",
    }
}
