//! Soft wrapping by display width: CJK characters take two cells, combining marks none,
//! and a grapheme is never split across rows. Offsets are byte offsets into the text.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// One screen row of wrapped text: `text[start..end]` (without the newline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisualRow {
    pub start: usize,
    pub end: usize,
}

/// Display width of a grapheme; tabs count as one cell (they are drawn as a space).
pub fn grapheme_width(g: &str) -> usize {
    if g == "\t" {
        1
    } else {
        g.width()
    }
}

/// Wraps `text` into rows of at most `width` cells (at least one grapheme per row).
pub fn wrap(text: &str, width: usize) -> Vec<VisualRow> {
    let width = width.max(2);
    let mut rows = Vec::new();
    let mut line_start = 0;
    for line in text.split('\n') {
        let mut row_start = line_start;
        let mut used = 0;
        for (offset, g) in line.grapheme_indices(true) {
            let w = grapheme_width(g);
            if used + w > width && used > 0 {
                rows.push(VisualRow {
                    start: row_start,
                    end: line_start + offset,
                });
                row_start = line_start + offset;
                used = 0;
            }
            used += w;
        }
        rows.push(VisualRow {
            start: row_start,
            end: line_start + line.len(),
        });
        line_start += line.len() + 1;
    }
    rows
}

/// The (row, column in cells) of byte offset `pos`. A position at a row's end that is
/// also the next row's start belongs to the next row (the cursor is drawn there).
pub fn position_of(text: &str, rows: &[VisualRow], pos: usize) -> (usize, usize) {
    let row = rows
        .iter()
        .rposition(|r| r.start <= pos)
        .unwrap_or(0)
        .min(rows.len().saturating_sub(1));
    let r = rows
        .get(row)
        .copied()
        .unwrap_or(VisualRow { start: 0, end: 0 });
    let end = pos.min(r.end).max(r.start);
    (row, text.get(r.start..end).map(cells).unwrap_or(0))
}

/// The byte offset on `row` closest to display column `column` (never inside a grapheme).
pub fn offset_at(text: &str, rows: &[VisualRow], row: usize, column: usize) -> usize {
    let Some(r) = rows.get(row) else {
        return text.len();
    };
    let mut used = 0;
    for (offset, g) in text[r.start..r.end].grapheme_indices(true) {
        let w = grapheme_width(g);
        if used + w > column {
            return r.start + offset;
        }
        used += w;
    }
    r.end
}

/// Display width of a string in cells.
pub fn cells(s: &str) -> usize {
    s.graphemes(true).map(grapheme_width).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_characters_wrap_without_splitting() {
        let text = "肺炎にて入院"; // 6 chars, 12 cells
        let rows = wrap(text, 5);
        let pieces: Vec<&str> = rows.iter().map(|r| &text[r.start..r.end]).collect();
        assert_eq!(pieces, ["肺炎", "にて", "入院"]);
        assert_eq!(position_of(text, &rows, "肺炎に".len()), (1, 2));
        assert_eq!(offset_at(text, &rows, 1, 3), "肺炎".len() + "に".len());
    }

    #[test]
    fn newlines_make_rows_and_empty_lines_count() {
        let text = "ab\n\ncd";
        let rows = wrap(text, 10);
        assert_eq!(rows.len(), 3);
        assert_eq!(position_of(text, &rows, 3), (1, 0));
        assert_eq!(position_of(text, &rows, text.len()), (2, 2));
    }

    #[test]
    fn combining_marks_stay_with_their_base() {
        let text = "か\u{3099}き"; // が as base + combining dakuten
        assert_eq!(cells(text), 4);
        let rows = wrap(text, 2);
        assert_eq!(&text[rows[0].start..rows[0].end], "か\u{3099}");
    }
}
