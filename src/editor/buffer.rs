//! The editable draft: text, cursor and selection (byte offsets on grapheme boundaries),
//! clipboard, history. Section headers are lines starting with 【 (【紹介目的】).

use super::history::{History, Snapshot};
use super::layout;
use super::words::{class_of, CharClass};
use std::ops::Range;
use unicode_segmentation::UnicodeSegmentation;

/// What an edit did, for the metrics (counts only, never the text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditKind {
    Typed,
    Deleted,
    Pasted,
    Cut,
    Undone,
    Redone,
    /// A section body replaced as a whole (regenerate, revert to the AI draft).
    Replaced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditOutcome {
    pub kind: EditKind,
    pub inserted_chars: usize,
    pub deleted_chars: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    Left,
    Right,
    Up,
    Down,
    LineStart,
    LineEnd,
    WordLeft,
    WordRight,
    PreviousSection,
    NextSection,
    DocumentStart,
    DocumentEnd,
}

#[derive(Debug, Clone, Default)]
pub struct Editor {
    text: String,
    cursor: usize,
    anchor: Option<usize>,
    /// Display column kept across vertical moves through shorter lines.
    preferred_column: Option<usize>,
    clipboard: String,
    history: History,
    read_only: bool,
}

pub const SECTION_MARK: char = '【';

impl Editor {
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            ..Self::default()
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Cursor as a byte offset.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Cursor as a character offset (the unit of entity spans and provenance).
    pub fn cursor_char(&self) -> usize {
        self.text[..self.cursor].chars().count()
    }

    pub fn set_read_only(&mut self, read_only: bool) {
        self.read_only = read_only;
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The selected byte range, if any and non-empty.
    pub fn selection(&self) -> Option<Range<usize>> {
        let anchor = self.anchor?;
        let range = anchor.min(self.cursor)..anchor.max(self.cursor);
        (!range.is_empty()).then_some(range)
    }

    pub fn clear_selection(&mut self) {
        self.anchor = None;
    }

    pub fn select_all(&mut self) {
        self.anchor = Some(0);
        self.cursor = self.text.len();
    }

    /// Moves the cursor; with `extend`, the selection grows from where it started.
    /// `wrap_width` is the draft pane's text width (vertical moves follow screen rows).
    pub fn move_cursor(&mut self, motion: Motion, extend: bool, wrap_width: usize) {
        if extend {
            self.anchor.get_or_insert(self.cursor);
        } else {
            self.anchor = None;
        }
        self.history.break_coalescing();
        if !matches!(motion, Motion::Up | Motion::Down) {
            self.preferred_column = None;
        }
        self.cursor = match motion {
            Motion::Left => self.previous_boundary(self.cursor),
            Motion::Right => self.next_boundary(self.cursor),
            Motion::Up | Motion::Down => self.vertical(motion == Motion::Up, wrap_width),
            Motion::LineStart => self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1),
            Motion::LineEnd => self.text[self.cursor..]
                .find('\n')
                .map_or(self.text.len(), |i| self.cursor + i),
            Motion::WordLeft => self.word_left(),
            Motion::WordRight => self.word_right(),
            Motion::PreviousSection => self.section_start_before(self.cursor),
            Motion::NextSection => self.section_start_after(self.cursor),
            Motion::DocumentStart => 0,
            Motion::DocumentEnd => self.text.len(),
        };
    }

    /// Puts the cursor at byte `position` (moved back to a character boundary, clamped to
    /// the text), clearing the selection: a jump to a guard finding.
    pub fn set_cursor(&mut self, position: usize) {
        let mut position = position.min(self.text.len());
        while !self.text.is_char_boundary(position) {
            position -= 1;
        }
        self.anchor = None;
        self.preferred_column = None;
        self.history.break_coalescing();
        self.cursor = position;
    }

    /// Inserts typed text (a key, or a string committed by a Japanese IME).
    pub fn type_text(&mut self, s: &str) -> Option<EditOutcome> {
        self.insert(s, EditKind::Typed)
    }

    /// Inserts pasted text (bracketed paste from the terminal). Line endings are unified
    /// and control characters dropped, so a paste cannot smuggle escapes into a document.
    pub fn paste_text(&mut self, s: &str) -> Option<EditOutcome> {
        let clean: String = s
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .filter(|&c| c == '\n' || !crate::chart::sanitize::is_forbidden_control(c))
            .collect();
        self.insert(&clean, EditKind::Pasted)
    }

    /// Pastes the in-app clipboard.
    pub fn paste_clipboard(&mut self) -> Option<EditOutcome> {
        let clip = self.clipboard.clone();
        self.insert(&clip, EditKind::Pasted)
    }

    fn insert(&mut self, s: &str, kind: EditKind) -> Option<EditOutcome> {
        if self.read_only || (s.is_empty() && self.selection().is_none()) {
            return None;
        }
        let typing = kind == EditKind::Typed && self.selection().is_none();
        self.history.before_change(self.snapshot(), typing);
        let deleted = self.delete_selection_raw();
        self.text.insert_str(self.cursor, s);
        self.cursor += s.len();
        self.preferred_column = None;
        Some(EditOutcome {
            kind,
            inserted_chars: s.chars().count(),
            deleted_chars: deleted,
        })
    }

    /// Backspace: deletes the selection, or the grapheme before the cursor.
    pub fn delete_backward(&mut self) -> Option<EditOutcome> {
        let start = self.previous_boundary(self.cursor);
        self.delete(start..self.cursor)
    }

    /// Delete: deletes the selection, or the grapheme after the cursor.
    pub fn delete_forward(&mut self) -> Option<EditOutcome> {
        let end = self.next_boundary(self.cursor);
        self.delete(self.cursor..end)
    }

    /// Deletes back to the start of the word (Ctrl-W / Ctrl-Backspace).
    pub fn delete_word_backward(&mut self) -> Option<EditOutcome> {
        let start = self.word_left();
        self.delete(start..self.cursor)
    }

    fn delete(&mut self, fallback: Range<usize>) -> Option<EditOutcome> {
        if self.read_only {
            return None;
        }
        let range = self.selection().unwrap_or(fallback);
        if range.is_empty() {
            return None;
        }
        self.history.before_change(self.snapshot(), false);
        let deleted = self.text[range.clone()].chars().count();
        self.text.replace_range(range.clone(), "");
        self.cursor = range.start;
        self.anchor = None;
        Some(EditOutcome {
            kind: EditKind::Deleted,
            inserted_chars: 0,
            deleted_chars: deleted,
        })
    }

    /// Copies the selection into the in-app clipboard; returns the copied text (the TUI
    /// may also offer it to the terminal clipboard on an explicit key).
    pub fn copy(&mut self) -> Option<&str> {
        let range = self.selection()?;
        self.clipboard = self.text[range].to_owned();
        Some(&self.clipboard)
    }

    pub fn cut(&mut self) -> Option<EditOutcome> {
        if self.read_only {
            return None;
        }
        self.copy()?;
        let mut outcome = self.delete(self.cursor..self.cursor)?;
        outcome.kind = EditKind::Cut;
        Some(outcome)
    }

    pub fn undo(&mut self) -> Option<EditOutcome> {
        if self.read_only {
            return None;
        }
        let previous = self.history.undo(self.snapshot())?;
        Some(self.restore(previous, EditKind::Undone))
    }

    pub fn redo(&mut self) -> Option<EditOutcome> {
        if self.read_only {
            return None;
        }
        let next = self.history.redo(self.snapshot())?;
        Some(self.restore(next, EditKind::Redone))
    }

    /// Replaces a byte range as one undoable step (regenerate or revert a section).
    pub fn replace_range(&mut self, range: Range<usize>, with: &str) -> Option<EditOutcome> {
        if self.read_only
            || range.end > self.text.len()
            || !self.text.is_char_boundary(range.start)
            || !self.text.is_char_boundary(range.end)
        {
            return None;
        }
        self.history.before_change(self.snapshot(), false);
        let deleted = self.text[range.clone()].chars().count();
        self.text.replace_range(range.clone(), with);
        self.cursor = range.start + with.len();
        self.anchor = None;
        Some(EditOutcome {
            kind: EditKind::Replaced,
            inserted_chars: with.chars().count(),
            deleted_chars: deleted,
        })
    }

    /// Replaces the whole text without history (loading a recovered or streamed draft).
    pub fn reset(&mut self, text: &str) {
        self.text = text.to_owned();
        self.cursor = self.cursor.min(self.text.len());
        while !self.text.is_char_boundary(self.cursor) {
            self.cursor -= 1;
        }
        self.anchor = None;
        self.history = History::default();
    }

    /// Sections: (header line text, byte range of the body after the header line).
    pub fn sections(&self) -> Vec<(String, Range<usize>)> {
        let mut headers: Vec<(usize, usize)> = Vec::new(); // (line start, body start)
        let mut line_start = 0;
        for line in self.text.split('\n') {
            if line.starts_with(SECTION_MARK) {
                headers.push((
                    line_start,
                    (line_start + line.len() + 1).min(self.text.len()),
                ));
            }
            line_start += line.len() + 1;
        }
        headers
            .iter()
            .enumerate()
            .map(|(i, &(start, body))| {
                let end = headers.get(i + 1).map_or(self.text.len(), |&(next, _)| {
                    next.saturating_sub(1).max(body)
                });
                let title = self.text[start..body].trim_end().to_owned();
                (title, body..end)
            })
            .collect()
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            text: self.text.clone(),
            cursor: self.cursor,
        }
    }

    fn restore(&mut self, snap: Snapshot, kind: EditKind) -> EditOutcome {
        let before = self.text.chars().count();
        let after = snap.text.chars().count();
        self.text = snap.text;
        self.cursor = snap.cursor.min(self.text.len());
        self.anchor = None;
        EditOutcome {
            kind,
            inserted_chars: after.saturating_sub(before),
            deleted_chars: before.saturating_sub(after),
        }
    }

    fn delete_selection_raw(&mut self) -> usize {
        let Some(range) = self.selection() else {
            return 0;
        };
        let deleted = self.text[range.clone()].chars().count();
        self.text.replace_range(range.clone(), "");
        self.cursor = range.start;
        self.anchor = None;
        deleted
    }

    fn previous_boundary(&self, pos: usize) -> usize {
        self.text[..pos]
            .grapheme_indices(true)
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self, pos: usize) -> usize {
        self.text[pos..]
            .graphemes(true)
            .next()
            .map_or(pos, |g| pos + g.len())
    }

    fn vertical(&mut self, up: bool, wrap_width: usize) -> usize {
        let rows = layout::wrap(&self.text, wrap_width);
        let (row, column) = layout::position_of(&self.text, &rows, self.cursor);
        let column = *self.preferred_column.get_or_insert(column);
        let target = if up {
            match row.checked_sub(1) {
                Some(r) => r,
                None => return 0,
            }
        } else if row + 1 < rows.len() {
            row + 1
        } else {
            return self.text.len();
        };
        layout::offset_at(&self.text, &rows, target, column)
    }

    /// Start of the previous word: skip spaces, then the run of one character class.
    fn word_left(&self) -> usize {
        let mut iter = self.text[..self.cursor].char_indices().rev().peekable();
        while iter
            .next_if(|&(_, c)| class_of(c) == CharClass::Space)
            .is_some()
        {}
        let Some(&(mut start, first)) = iter.peek() else {
            return 0;
        };
        let class = class_of(first);
        while let Some((i, _)) = iter.next_if(|&(_, c)| class_of(c) == class) {
            start = i;
        }
        start
    }

    /// Start of the next word: skip the current run, then spaces.
    fn word_right(&self) -> usize {
        let rest = &self.text[self.cursor..];
        let mut iter = rest.char_indices().peekable();
        if let Some(&(_, first)) = iter.peek() {
            let class = class_of(first);
            if class != CharClass::Space {
                while iter.next_if(|&(_, c)| class_of(c) == class).is_some() {}
            }
        }
        while iter
            .next_if(|&(_, c)| class_of(c) == CharClass::Space)
            .is_some()
        {}
        self.cursor + iter.peek().map_or(rest.len(), |&(i, _)| i)
    }

    fn section_starts(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(0)
            .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
            .filter(|&i| self.text[i..].starts_with(SECTION_MARK))
    }

    fn section_start_before(&self, pos: usize) -> usize {
        self.section_starts()
            .filter(|&s| s < pos)
            .last()
            .unwrap_or(0)
    }

    fn section_start_after(&self, pos: usize) -> usize {
        self.section_starts()
            .find(|&s| s > pos)
            .unwrap_or(self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DRAFT: &str = "【紹介目的】\n肺炎の精査加療\n【傷病名】\n市中肺炎";

    #[test]
    fn cursor_moves_by_grapheme_through_japanese_and_combining_marks() {
        let mut e = Editor::new("か\u{3099}肺炎");
        e.move_cursor(Motion::Right, false, 80);
        assert_eq!(e.cursor_char(), 2, "base + combining mark is one step");
        e.move_cursor(Motion::Right, false, 80);
        assert_eq!(&e.text()[..e.cursor()], "か\u{3099}肺");
        e.move_cursor(Motion::Left, false, 80);
        e.move_cursor(Motion::Left, false, 80);
        assert_eq!(e.cursor(), 0);
        e.move_cursor(Motion::Left, false, 80);
        assert_eq!(e.cursor(), 0, "stays at the start");
    }

    #[test]
    fn ime_commit_inserts_at_cursor_and_typing_undoes_as_one_step() {
        let mut e = Editor::new("発熱。");
        e.move_cursor(Motion::Right, false, 80);
        e.move_cursor(Motion::Right, false, 80);
        let out = e.type_text("なし").unwrap();
        assert_eq!(out.inserted_chars, 2);
        e.type_text("、").unwrap();
        assert_eq!(e.text(), "発熱なし、。");
        assert_eq!(e.undo().unwrap().kind, EditKind::Undone);
        assert_eq!(e.text(), "発熱。");
        e.redo().unwrap();
        assert_eq!(e.text(), "発熱なし、。");
    }

    #[test]
    fn vertical_moves_keep_display_column_across_wide_text() {
        let mut e = Editor::new("ab肺炎\nabcdef");
        e.move_cursor(Motion::LineEnd, false, 80); // after 肺炎: column 6
        e.move_cursor(Motion::Down, false, 80);
        assert_eq!(&e.text()[e.cursor()..], "");
        e.move_cursor(Motion::Up, false, 80);
        assert_eq!(e.cursor(), "ab肺炎".len());
        let mut e = Editor::new("肺炎肺炎\nab");
        e.move_cursor(Motion::Right, false, 80);
        e.move_cursor(Motion::Down, false, 80); // column 2 → between a and b? no: after "ab"
        assert_eq!(e.cursor(), "肺炎肺炎\nab".len());
    }

    #[test]
    fn word_jumps_follow_script_runs() {
        let mut e = Editor::new("右下肺野に浸潤影 CRP高値");
        e.move_cursor(Motion::WordRight, false, 80);
        assert_eq!(&e.text()[..e.cursor()], "右下肺野");
        e.move_cursor(Motion::WordRight, false, 80);
        assert_eq!(&e.text()[..e.cursor()], "右下肺野に");
        e.move_cursor(Motion::WordRight, false, 80);
        assert_eq!(&e.text()[..e.cursor()], "右下肺野に浸潤影 ");
        e.move_cursor(Motion::WordLeft, false, 80);
        assert_eq!(&e.text()[..e.cursor()], "右下肺野に");
    }

    #[test]
    fn selection_cut_paste_and_delete() {
        let mut e = Editor::new("アムロジピン5mg");
        e.move_cursor(Motion::DocumentEnd, false, 80);
        for _ in 0..3 {
            e.move_cursor(Motion::Left, true, 80);
        }
        assert_eq!(
            e.selection(),
            Some("アムロジピン".len().."アムロジピン5mg".len())
        );
        let cut = e.cut().unwrap();
        assert_eq!((cut.kind, cut.deleted_chars), (EditKind::Cut, 3));
        e.move_cursor(Motion::DocumentStart, false, 80);
        e.paste_clipboard().unwrap();
        assert_eq!(e.text(), "5mgアムロジピン");
        e.delete_backward().unwrap();
        assert_eq!(e.text(), "5mアムロジピン");
        e.move_cursor(Motion::DocumentEnd, false, 80);
        e.delete_word_backward().unwrap();
        assert_eq!(e.text(), "5m");
    }

    #[test]
    fn bracketed_paste_is_cleaned() {
        let mut e = Editor::new("");
        let out = e.paste_text("a\r\nb\u{1b}[2J\tc").unwrap();
        assert_eq!(e.text(), "a\nb[2J c");
        assert_eq!(out.kind, EditKind::Pasted);
    }

    #[test]
    fn sections_and_section_jumps() {
        let mut e = Editor::new(DRAFT);
        let sections = e.sections();
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[0].0, "【紹介目的】");
        assert_eq!(&DRAFT[sections[0].1.clone()], "肺炎の精査加療");
        assert_eq!(&DRAFT[sections[1].1.clone()], "市中肺炎");
        e.move_cursor(Motion::NextSection, false, 80);
        assert!(e.text()[e.cursor()..].starts_with("【傷病名】"));
        e.move_cursor(Motion::PreviousSection, false, 80);
        assert_eq!(e.cursor(), 0);
        let body = sections[0].1.clone();
        e.replace_range(body, "心不全の評価").unwrap();
        assert!(e
            .text()
            .starts_with("【紹介目的】\n心不全の評価\n【傷病名】"));
        e.undo().unwrap();
        assert_eq!(e.text(), DRAFT);
    }

    #[test]
    fn read_only_refuses_every_edit() {
        let mut e = Editor::new("署名済");
        e.set_read_only(true);
        e.select_all();
        assert!(e.type_text("x").is_none());
        assert!(e.delete_backward().is_none());
        assert!(e.cut().is_none());
        assert!(e.undo().is_none());
        assert_eq!(e.copy(), Some("署名済"), "copying is still allowed");
        assert_eq!(e.text(), "署名済");
    }
}
