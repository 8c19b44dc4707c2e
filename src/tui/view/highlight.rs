//! Text with entity highlights: wraps the ORIGINAL text by display width and styles the
//! characters each entity covers (char offsets, end exclusive). Control characters are
//! replaced here character by character, so offsets stay those of the original text.

use crate::chart::sanitize::is_forbidden_control;
use crate::nlp::{Certainty, Entity, EntityType};
use crate::tui::view::theme::{EntityKind, Theme};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

const TAB_WIDTH: usize = 4;

/// The theme entry for an entity: diseases by certainty, the rest by type.
pub fn entity_kind(entity: &Entity) -> EntityKind {
    match (entity.kind, entity.certainty) {
        (EntityType::Disease, Some(Certainty::Negative)) => EntityKind::DiseaseNegative,
        (EntityType::Disease, Some(Certainty::Suspicious)) => EntityKind::DiseaseSuspicious,
        (EntityType::Disease, Some(Certainty::General)) => EntityKind::DiseaseGeneral,
        (EntityType::Disease, _) => EntityKind::DiseasePositive,
        (EntityType::Anatomy, _) => EntityKind::Anatomy,
        (EntityType::Medication, _) => EntityKind::Medication,
        (EntityType::Dose, _) => EntityKind::Dose,
        (EntityType::Test, _) => EntityKind::Test,
        (EntityType::TestValue, _) => EntityKind::TestValue,
        (EntityType::Procedure, _) => EntityKind::Procedure,
        (EntityType::Date, _) => EntityKind::Date,
    }
}

struct LineBuilder {
    lines: Vec<Line<'static>>,
    spans: Vec<Span<'static>>,
    run: String,
    run_style: Style,
    used: usize,
}

impl LineBuilder {
    fn flush_run(&mut self) {
        if !self.run.is_empty() {
            self.spans
                .push(Span::styled(std::mem::take(&mut self.run), self.run_style));
        }
    }

    fn end_line(&mut self) {
        self.flush_run();
        self.lines.push(Line::from(std::mem::take(&mut self.spans)));
        self.used = 0;
    }

    fn push(&mut self, piece: &str, cells: usize, style: Style) {
        if style != self.run_style {
            self.flush_run();
            self.run_style = style;
        }
        self.run.push_str(piece);
        self.used += cells;
    }
}

/// `text` wrapped to `width` cells, in `base` style with entities highlighted from `theme`.
/// Breaks at any character (Japanese has no spaces), keeps line breaks, expands tabs.
pub fn wrap_highlighted(
    text: &str,
    width: usize,
    base: Style,
    entities: &[Entity],
    theme: &Theme,
) -> Vec<Line<'static>> {
    let marks: Vec<(usize, usize, Style)> = entities
        .iter()
        .map(|e| (e.start, e.end, theme.entity(entity_kind(e))))
        .collect();
    wrap_marked(text, width, base, &marks)
}

/// `text` wrapped to `width` cells in `base` style, with each mark `(start, end, style)`
/// (char offsets, end exclusive) patched over it; the first mark wins where they overlap.
pub fn wrap_marked(
    text: &str,
    width: usize,
    base: Style,
    marks: &[(usize, usize, Style)],
) -> Vec<Line<'static>> {
    let width = width.max(2);
    let count = text.chars().count();
    let mut styles: Vec<Option<Style>> = vec![None; count];
    for &(start, end, style) in marks {
        for slot in styles.iter_mut().take(end.min(count)).skip(start) {
            slot.get_or_insert(style);
        }
    }
    let mut out = LineBuilder {
        lines: Vec::new(),
        spans: Vec::new(),
        run: String::new(),
        run_style: base,
        used: 0,
    };
    for (index, c) in text.chars().enumerate() {
        match c {
            '\n' => {
                out.end_line();
                continue;
            }
            '\r' => continue,
            _ => {}
        }
        let style = styles[index].map_or(base, |s| base.patch(s));
        let (piece, cells) = if c == '\t' {
            let spaces = TAB_WIDTH - out.used % TAB_WIDTH;
            (" ".repeat(spaces), spaces)
        } else if is_forbidden_control(c) {
            ("\u{FFFD}".to_string(), 1)
        } else {
            (c.to_string(), c.width().unwrap_or(0))
        };
        if out.used + cells > width && out.used > 0 {
            out.end_line();
        }
        out.push(&piece, cells, style);
    }
    out.end_line();
    out.lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::view::text;

    fn entity(kind: EntityType, start: usize, end: usize, certainty: Option<Certainty>) -> Entity {
        Entity {
            kind,
            text: String::new(),
            start,
            end,
            normalized: String::new(),
            certainty,
        }
    }

    fn plain(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn wraps_like_the_plain_wrapper() {
        let theme = Theme::built_in("dark").unwrap();
        let note = "主訴：発熱\r\n現病歴：3日前より38℃台の発熱と咳嗽。\tCRP 12.5。";
        for width in [6, 10, 17, 40] {
            let lines = wrap_highlighted(note, width, Style::default(), &[], &theme);
            let plain_lines: Vec<String> = lines.iter().map(plain).collect();
            assert_eq!(
                plain_lines,
                text::wrap(&note.replace('\r', ""), width),
                "width {width}"
            );
        }
    }

    #[test]
    fn entities_are_styled_at_their_char_offsets() {
        let theme = Theme::built_in("dark").unwrap();
        let note = "\u{1b}肺炎なし。CRP 12.5";
        // "肺炎" is chars 1..3 (after the ESC, which is replaced, not removed).
        let entities = [
            entity(EntityType::Disease, 1, 3, Some(Certainty::Negative)),
            entity(EntityType::TestValue, 10, 14, None),
        ];
        let lines = wrap_highlighted(note, 40, Style::default(), &entities, &theme);
        let spans = &lines[0].spans;
        let negative = theme.entity(EntityKind::DiseaseNegative);
        let value = theme.entity(EntityKind::TestValue);
        assert!(
            spans
                .iter()
                .any(|s| s.content == "肺炎" && s.style == negative),
            "{spans:?}"
        );
        assert!(
            spans
                .iter()
                .any(|s| s.content == "12.5" && s.style == value),
            "{spans:?}"
        );
        assert!(plain(&lines[0]).starts_with('\u{FFFD}'));
        // Offsets past the end are ignored, not a panic.
        wrap_highlighted(
            "短い",
            10,
            Style::default(),
            &[entity(EntityType::Date, 1, 99, None)],
            &theme,
        );
    }
}
