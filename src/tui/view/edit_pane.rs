//! The draft pane while a document is edited: the editor's text soft-wrapped by display
//! width (CJK characters take two cells), section headers styled with their review state,
//! the selection reversed, and the terminal cursor placed on the cell of the edit position.

use crate::editor::layout::{self, VisualRow};
use crate::tui::input::command::Command;
use crate::tui::state::app::App;
use crate::tui::state::document_edit::{heading_of, Access, DocumentEdit};
use crate::tui::view::text;
use crate::tui::view::theme::UiPart;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::Frame;

/// Lines above the text saying who may write (read-only holder, memory only …).
pub fn banner(app: &App, edit: &DocumentEdit, width: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let key = |command| {
        app.keymap
            .keys_for(command)
            .first()
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    let (message, part) = match &edit.access {
        Access::ReadOnly { holder, stale } => (
            if *stale {
                format!(
                    "読み取り専用 — {holder} がロック中 (応答なし: {} で引き継ぎ)",
                    key(Command::TakeOverLock)
                )
            } else {
                format!("読み取り専用 — {holder} が編集中")
            },
            UiPart::Warning,
        ),
        Access::MemoryOnly { problem } => (
            format!("保存できません (メモリ上のみ): {problem}"),
            UiPart::Error,
        ),
        Access::Closed => (
            format!(
                "閉じています — {} で開き直して編集",
                key(Command::EditDraft)
            ),
            UiPart::Muted,
        ),
        Access::Opening => ("開いています…".to_string(), UiPart::Muted),
        Access::Editing => return Vec::new(),
    };
    text::wrap(&text::safe_line(&message), width)
        .into_iter()
        .map(|l| Line::styled(l, theme.ui(part)))
        .collect()
}

/// The editor's rows (wrapped to `width`) as styled lines.
pub fn text_lines(app: &App, edit: &DocumentEdit, width: usize) -> Vec<Line<'static>> {
    let Some(editor) = &edit.editor else {
        return Vec::new();
    };
    let theme = &app.theme;
    let base = theme.ui(UiPart::Base);
    let header_style = theme.ui(UiPart::DraftSection);
    let text = editor.text();
    let selection = if app.is_editing() {
        editor.selection()
    } else {
        None
    };
    let marks = super::guard_panel::editor_marks(app, edit);
    let mut lines = Vec::new();
    let mut in_header = false;
    for row in layout::wrap(text, width) {
        let starts_line = row.start == 0 || text.as_bytes().get(row.start - 1) == Some(&b'\n');
        if starts_line {
            in_header = text[row.start..].starts_with('【');
        }
        let style = if in_header { header_style } else { base };
        let mut spans = row_spans(text, row, selection.clone(), style, &marks);
        if in_header && starts_line {
            let line_end = text[row.start..]
                .find('\n')
                .map_or(text.len(), |i| row.start + i);
            let heading = heading_of(&text[row.start..line_end]);
            if edit.reviewed.contains(&heading) {
                spans.push(Span::styled(" ✓確認済", theme.ui(UiPart::StateInReview)));
            }
            if edit.regenerating.contains(&heading) {
                spans.push(Span::styled(" 再生成中…", theme.ui(UiPart::StateDrafting)));
            }
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// One row split around the selection (drawn reversed) and the guard's verdict marks
/// (byte ranges, sorted, patched over `style`); tabs drawn as one space.
fn row_spans(
    text: &str,
    row: VisualRow,
    selection: Option<std::ops::Range<usize>>,
    style: ratatui::style::Style,
    marks: &[(std::ops::Range<usize>, ratatui::style::Style)],
) -> Vec<Span<'static>> {
    let clean = |s: &str| s.replace('\t', " ");
    let selection = selection.filter(|s| s.start < row.end.max(row.start + 1) && s.end > row.start);
    // Cut points: the row's ends, the selection's ends and the marks' ends inside the row.
    let mut cuts = vec![row.start, row.end];
    let inside = |p: usize| p > row.start && p < row.end;
    for range in selection.iter().chain(marks.iter().map(|(r, _)| r)) {
        cuts.extend([range.start, range.end].into_iter().filter(|&p| inside(p)));
    }
    cuts.sort_unstable();
    cuts.dedup();
    let mut spans = Vec::new();
    for pair in cuts.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        let Some(piece) = text.get(from..to).filter(|p| !p.is_empty()) else {
            continue;
        };
        let mut piece_style = marks
            .iter()
            .find(|(r, _)| r.start <= from && to <= r.end)
            .map_or(style, |(_, mark)| style.patch(*mark));
        if selection
            .as_ref()
            .is_some_and(|s| s.start <= from && to <= s.end)
        {
            piece_style = piece_style.add_modifier(Modifier::REVERSED);
        }
        spans.push(Span::styled(clean(piece), piece_style));
    }
    if let Some(sel) = &selection {
        let empty_here = sel.start.clamp(row.start, row.end) == sel.end.clamp(row.start, row.end);
        if empty_here && sel.end > row.end {
            // The selection runs over the line break: show it as a reversed cell.
            spans.push(Span::styled(" ", style.add_modifier(Modifier::REVERSED)));
        }
    }
    if spans.is_empty() {
        spans.push(Span::styled(String::new(), style));
    }
    spans
}

/// (row, column in cells) of the cursor in the wrapped text.
pub fn cursor_cell(edit: &DocumentEdit, width: usize) -> Option<(usize, usize)> {
    let editor = edit.editor.as_ref()?;
    let rows = layout::wrap(editor.text(), width);
    Some(layout::position_of(editor.text(), &rows, editor.cursor()))
}

/// Places the terminal cursor on the edit position when it is on screen.
pub fn place_cursor(frame: &mut Frame, inner: Rect, line: usize, column: usize, scroll: usize) {
    let Some(visible_row) = line.checked_sub(scroll) else {
        return;
    };
    if visible_row >= usize::from(inner.height) || inner.width == 0 {
        return;
    }
    let x = inner.x
        + u16::try_from(column)
            .unwrap_or(u16::MAX)
            .min(inner.width - 1);
    let y = inner.y + u16::try_from(visible_row).unwrap_or(0);
    frame.set_cursor_position((x, y));
}
