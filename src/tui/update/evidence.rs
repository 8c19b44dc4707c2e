//! Linked evidence: `v` shows the chart text behind the sentence at the cursor (its note and
//! date, the span marked in the chart pane), and `M` switches how the section at the cursor
//! is drafted (根拠抜粋 → 根拠から生成 → 自由生成) and writes it again that way.

use crate::chart::{Chart, Source};
use crate::draft::DraftMode;
use crate::tui::action::Effect;
use crate::tui::state::app::App;

/// `v`: the evidence of the sentence at the cursor.
pub(super) fn show_evidence(app: &mut App) {
    let Some((key, heading, body)) = super::sections::section_here(app) else {
        return;
    };
    let Some(chart) = app.selected_chart().cloned() else {
        return;
    };
    let Some(edit) = app.edits.get(&key) else {
        return;
    };
    let Some(editor) = edit.editor.as_ref() else {
        return;
    };
    let text = editor.text();
    let body_text = text.get(body.clone()).unwrap_or("");
    let cursor = editor.cursor().clamp(body.start, body.end);
    let at = text[body.start..cursor].chars().count();
    let sources = app
        .drafts
        .get(&key)
        .and_then(|view| view.sections.iter().find(|s| s.title == heading))
        .map(|s| s.sources.clone())
        .unwrap_or_default();
    if sources.is_empty() {
        app.status = Some(format!(
            "【{heading}】には根拠の記録がありません (手入力、カルテの構造化データ、または以前の起動で作成された下書き)"
        ));
        return;
    }
    let Some((quoted, source)) = source_at(body_text, at, &sources) else {
        app.status = Some(
            "カーソルのある文に根拠の記録が見つかりません (編集された文、または自由生成の文)"
                .into(),
        );
        return;
    };
    let label = crate::tui::view::text::safe_line(&quoted.chars().take(24).collect::<String>());
    super::review::show_source(app, &chart, std::slice::from_ref(&source), &label);
    if let Some(where_) = describe(&chart, &source) {
        app.status = Some(format!("「{label}」の根拠: {where_}"));
    }
}

/// The linked span that contains char offset `at` of `body` (found by its text, so edits
/// elsewhere in the section do not break the link).
fn source_at(body: &str, at: usize, sources: &[(String, Source)]) -> Option<(String, Source)> {
    let chars: Vec<char> = body.chars().collect();
    let mut best: Option<(usize, &(String, Source))> = None;
    for entry in sources {
        let needle: Vec<char> = entry.0.chars().collect();
        if needle.is_empty() || needle.len() > chars.len() {
            continue;
        }
        for start in 0..=chars.len() - needle.len() {
            let end = start + needle.len();
            if chars[start..end] == needle[..] && start <= at && at <= end {
                // The shortest span that holds the cursor is the most precise.
                if best.is_none_or(|(len, _)| needle.len() < len) {
                    best = Some((needle.len(), entry));
                }
            }
        }
    }
    best.map(|(_, (text, source))| (text.clone(), source.clone()))
}

/// 「入院時記録 6/8 (n1)」 for a note; the record kind for others.
fn describe(chart: &Chart, source: &Source) -> Option<String> {
    use chrono::Datelike;
    match source {
        Source::Note { id, .. } => chart.note(id).map(|n| {
            let d = n.datetime.date();
            format!("{} {}/{} ({})", n.kind, d.month(), d.day(), n.id)
        }),
        Source::Lab { id } => Some(format!("検査結果 ({id})")),
        Source::Prescription { id } => Some(format!("処方 ({id})")),
        Source::Allergy { id } => Some(format!("アレルギー ({id})")),
        Source::Diagnosis { id } => Some(format!("病名 ({id})")),
        Source::Patient | Source::Encounter => None,
    }
}

/// `M`: the next drafting mode for the section at the cursor, and that section written
/// again in it.
pub(super) fn cycle_section_mode(app: &mut App) -> Vec<Effect> {
    let Some((key, heading, _)) = super::sections::section_here(app) else {
        return Vec::new();
    };
    let section = app
        .drafts
        .get(&key)
        .and_then(|view| view.sections.iter().find(|s| s.title == heading));
    let narrative = section.is_some_and(|s| s.generated);
    if !narrative {
        app.status = Some(format!(
            "【{heading}】はカルテの記録から転記する項目です (作成方式はありません)"
        ));
        return Vec::new();
    }
    let current = section
        .and_then(|s| s.mode)
        .or_else(|| {
            app.edits
                .get(&key)
                .and_then(|e| e.section_modes.get(&heading).copied())
        })
        .unwrap_or_default();
    let next = current.next();
    if let Some(edit) = app.edits.get_mut(&key) {
        edit.section_modes.insert(heading.clone(), next);
    }
    let effects = super::sections::regenerate_section(app);
    if !effects.is_empty() {
        app.status = Some(format!(
            "【{heading}】を「{}」で書き直します{}",
            next.japanese(),
            match next {
                DraftMode::Evidence => " (カルテの文をそのまま引用)",
                DraftMode::Grounded => " (根拠だけをモデルが言い換え、根拠にない文は原文に戻す)",
                DraftMode::Free => " (カルテ全体からモデルが作文。ガードの確認が必要)",
            }
        ));
    }
    effects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortest_span_under_the_cursor_wins() {
        let n = |id: &str| Source::Note {
            id: id.into(),
            start: 0,
            end: 1,
        };
        let sources = vec![
            ("右季肋部痛、発熱".to_string(), n("n1")),
            ("発熱".to_string(), n("n2")),
        ];
        let body = "追記。右季肋部痛、発熱";
        assert_eq!(source_at(body, 4, &sources).map(|s| s.1), Some(n("n1")));
        assert_eq!(source_at(body, 11, &sources).map(|s| s.1), Some(n("n2")));
        assert_eq!(source_at(body, 1, &sources), None);
    }
}
