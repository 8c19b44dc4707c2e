//! The provenance guard on screen: the panel under the draft (unsupported and contradicted
//! items with their explanation, then the chart facts the draft omits), the verdict marks
//! in the edited text, the counts for the status bar, the 署名済 banner and the sign
//! confirmation.

use crate::review::{GuardItem, GuardReport, Verdict};
use crate::tui::input::command::Command;
use crate::tui::state::app::App;
use crate::tui::state::document_edit::DocumentEdit;
use crate::tui::state::document_state::DocRef;
use crate::tui::state::review::{editor_ranges, guard_sections, GuardState, SignState};
use crate::tui::view::text;
use crate::tui::view::theme::UiPart;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;
use std::ops::Range;

fn current_key(app: &App) -> Option<DocRef> {
    Some(DocRef::new(
        app.selected_chart()?.id.clone(),
        app.draft_document,
    ))
}

/// The current document's guard state and its report, when the report is up to date.
fn current(app: &App) -> Option<(&GuardState, &GuardReport)> {
    let key = current_key(app)?;
    let state = app.review.guards.get(&key)?;
    let sections = guard_sections(
        app.templates.get(key.kind),
        app.edits.get(&key),
        app.drafts.get(&key),
    )?;
    let report = state.fresh_report(&sections)?;
    Some((state, report))
}

/// The theme part for an item's verdict (acknowledged flags look settled).
pub fn item_part(item: &GuardItem, acknowledged: bool) -> UiPart {
    match item.verdict {
        _ if acknowledged => UiPart::GuardAcknowledged,
        Verdict::Supported => UiPart::GuardSupported,
        Verdict::Unsupported => UiPart::GuardUnsupported,
        Verdict::Contradicted => UiPart::GuardContradicted,
    }
}

/// Verdict marks (byte ranges of the editor's text) for the edited document.
pub fn editor_marks(app: &App, edit: &DocumentEdit) -> Vec<(Range<usize>, Style)> {
    let Some((state, report)) = current(app) else {
        return Vec::new();
    };
    let mut marks: Vec<(Range<usize>, Style)> = editor_ranges(edit, report.items.iter())
        .into_iter()
        .map(|(item, range)| {
            let part = item_part(item, state.is_acknowledged(item));
            (range, app.theme.ui(part))
        })
        .collect();
    marks.sort_by_key(|(r, _)| r.start);
    marks
}

/// Verdict marks (char offsets) for one section of a finished, not yet edited draft.
pub fn section_marks(app: &App, heading: &str) -> Vec<(usize, usize, Style)> {
    let Some((state, report)) = current(app) else {
        return Vec::new();
    };
    let key = app.templates.get(app.draft_document).section_key(heading);
    report
        .items
        .iter()
        .filter(|item| item.section == key)
        .map(|item| {
            let part = item_part(item, state.is_acknowledged(item));
            (item.start, item.end, app.theme.ui(part))
        })
        .collect()
}

/// `未確認 n / 矛盾 n / 省略 n` for the status bar (acknowledged flags not counted).
pub fn status_counts(app: &App) -> Option<String> {
    let (state, report) = current(app)?;
    let mut unsupported = 0;
    let mut contradicted = 0;
    for item in report.blocking(&state.acknowledged) {
        match item.verdict {
            Verdict::Unsupported => unsupported += 1,
            Verdict::Contradicted => contradicted += 1,
            Verdict::Supported => {}
        }
    }
    Some(format!(
        "未確認 {unsupported} / 矛盾 {contradicted} / 省略 {}",
        report.omitted.len()
    ))
}

/// The current document is signed (read-only).
pub fn current_is_signed(app: &App) -> bool {
    current_key(app).is_some_and(|k| app.review.is_signed(&k))
}

/// The 署名済 banner (or the amendment in progress) above the document's text.
pub fn signed_banner(app: &App, width: usize) -> Vec<Line<'static>> {
    let Some(state) = current_key(app).and_then(|k| app.review.signed.get(&k)) else {
        return Vec::new();
    };
    let (message, part) = match state {
        SignState::Signed(doc) => (
            format!(
                "署名済 第{}版 {} {}{} — 読み取り専用",
                doc.version,
                text::safe_line(&doc.signer),
                crate::tui::update::signed_time(doc),
                doc.amends
                    .as_ref()
                    .map(|a| format!(" (第{}版の修正)", a.version))
                    .unwrap_or_default()
            ),
            UiPart::SignedBanner,
        ),
        SignState::Amending(doc) => (
            format!(
                "修正版 (第{}版) を作成中 — 第{}版は署名済 ({})",
                doc.version + 1,
                doc.version,
                text::safe_line(&doc.signer)
            ),
            UiPart::Warning,
        ),
    };
    text::wrap(&message, width)
        .into_iter()
        .map(|l| Line::styled(l, app.theme.ui(part)))
        .collect()
}

/// The panel's lines (wrapped to `width`), and the line of the selected flag.
pub fn panel_lines(app: &App, width: usize) -> (Vec<Line<'static>>, Option<usize>) {
    let theme = &app.theme;
    let muted = theme.ui(UiPart::Muted);
    let Some((state, report)) = current(app) else {
        let waiting = if current_key(app)
            .and_then(|k| {
                guard_sections(
                    app.templates.get(k.kind),
                    app.edits.get(&k),
                    app.drafts.get(&k),
                )
            })
            .is_some()
        {
            "照合中…"
        } else {
            "照合する下書きがありません"
        };
        return (vec![Line::styled(waiting, muted)], None);
    };
    let mut lines = Vec::new();
    let mut selected_line = None;
    let flagged: Vec<&GuardItem> = report.flagged().collect();
    if flagged.is_empty() {
        lines.push(Line::styled(
            "未確認・矛盾の記載はありません",
            theme.ui(UiPart::StateSigned),
        ));
    }
    for item in flagged {
        let acknowledged = state.is_acknowledged(item);
        let label = match item.verdict {
            Verdict::Unsupported => "未確認",
            Verdict::Contradicted => "矛盾",
            Verdict::Supported => "根拠あり",
        };
        let selected = state.selected.as_deref() == Some(item.id.as_str());
        if selected {
            selected_line = Some(lines.len());
        }
        let entry = format!(
            "{}{label} 「{}」 {}{}",
            if selected { "▶" } else { " " },
            text::safe_line(&item.text),
            text::safe_line(&item.explanation()),
            if acknowledged { " ✓確認済" } else { "" }
        );
        let style = if selected {
            theme.ui(UiPart::Selected)
        } else {
            theme.ui(item_part(item, acknowledged))
        };
        for line in text::wrap(&entry, width) {
            lines.push(Line::styled(line, style));
        }
    }
    if !report.omitted.is_empty() {
        lines.push(Line::styled(
            "省略 (カルテにあり下書きにない):",
            theme.ui(UiPart::Header),
        ));
        for fact in &report.omitted {
            let kind = match fact.kind {
                crate::review::ExpectedKind::ActiveProblem => "病名",
                crate::review::ExpectedKind::DischargeMedication => "退院時処方",
                crate::review::ExpectedKind::Allergy => "アレルギー",
            };
            let entry = format!(" {kind}: {}", text::safe_line(&fact.label));
            for line in text::wrap(&entry, width) {
                lines.push(Line::styled(line, theme.ui(UiPart::Warning)));
            }
        }
    }
    (lines, selected_line)
}

pub fn draw(app: &App, frame: &mut Frame, rect: Rect) {
    let theme = &app.theme;
    let mut title = vec![Span::raw(" 根拠照合 ")];
    if let Some(counts) = status_counts(app) {
        title.push(Span::styled(
            format!("{counts} "),
            theme.ui(UiPart::TitleFocused),
        ));
    }
    let hint = [
        (Command::NextFlag, "次"),
        (Command::AcknowledgeFlag, "確認"),
        (Command::JumpToSource, "根拠"),
    ]
    .iter()
    .filter_map(|(c, label)| {
        app.keymap
            .keys_for(*c)
            .first()
            .map(|k| format!("{k}:{label}"))
    })
    .collect::<Vec<_>>()
    .join(" ");
    title.push(Span::styled(format!("{hint} "), theme.ui(UiPart::Muted)));
    let block = Block::bordered()
        .border_style(theme.ui(UiPart::Border))
        .title(Line::from(title));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let (lines, selected) = panel_lines(app, usize::from(inner.width));
    let height = usize::from(inner.height);
    // Keep the selected flag in view.
    let skip = selected.map_or(0, |line| (line + 1).saturating_sub(height));
    let lines: Vec<Line<'static>> = lines.into_iter().skip(skip).take(height).collect();
    frame.render_widget(Paragraph::new(lines).style(theme.ui(UiPart::Base)), inner);
}

/// The sign confirmation, centred over the screen.
pub fn draw_sign_prompt(app: &App, frame: &mut Frame, area: Rect) {
    let Some(prompt) = &app.review.sign_prompt else {
        return;
    };
    let theme = &app.theme;
    let width = area.width.min(64);
    let lines = vec![
        Line::styled(
            format!(
                "{} 第{}版に署名します",
                prompt.key.kind.title(),
                prompt.version
            ),
            theme.ui(UiPart::Header),
        ),
        Line::raw(format!("署名者: {}", text::safe_line(&prompt.signer))),
        Line::styled(
            "署名後は読み取り専用になります (修正は新しい版として)",
            theme.ui(UiPart::Muted),
        ),
        Line::from(vec![
            Span::styled("y", theme.ui(UiPart::HelpKey)),
            Span::raw(": 署名する  "),
            Span::styled("n / esc", theme.ui(UiPart::HelpKey)),
            Span::raw(": やめる"),
        ]),
    ];
    let height = (lines.len() as u16 + 2).min(area.height);
    let rect = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .style(theme.ui(UiPart::Base))
            .wrap(Wrap { trim: false })
            .block(
                Block::bordered()
                    .border_style(theme.ui(UiPart::BorderFocused))
                    .title(" 署名の確認 "),
            ),
        rect,
    );
}
