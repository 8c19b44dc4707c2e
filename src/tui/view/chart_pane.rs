//! The chart of the selected row: a patient header, then notes by date, labs, or
//! prescriptions/allergies/diagnoses (tabs), scrollable. A row whose file failed to load
//! shows the loader's error here in full.

use super::highlight::{entity_kind, wrap_marked};
use super::{pane_block, render_lines, tab_spans, visible};
use crate::chart::{Chart, LabFlag};
use crate::tui::action::EntityTarget;
use crate::tui::input::command::Command;
use crate::tui::state::app::{App, ChartTab, Pane};
use crate::tui::view::layout::{Panes, CHART_HEADER_LINES};
use crate::tui::view::text;
use crate::tui::view::theme::{Theme, UiPart};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

pub fn draw(app: &App, frame: &mut Frame, rect: Rect, panes: &Panes) {
    let theme = &app.theme;
    let tabs: Vec<String> = ChartTab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| {
            // Narrow panes get the short names so every tab stays visible.
            let name = if rect.width < 70 {
                t.short_title()
            } else {
                t.title()
            };
            format!("{} {name}", i + 1)
        })
        .collect();
    let active = ChartTab::ALL
        .iter()
        .position(|t| *t == app.chart_tab)
        .unwrap_or(0);
    let mut title = vec![Span::raw(" カルテ")];
    title.extend(tab_spans(app, &tabs, active));
    if !panes.three_columns() {
        if let Some(key) = app.keymap.keys_for(Command::FocusNext).first() {
            title.push(Span::styled(
                format!("{key}→下書き "),
                theme.ui(UiPart::Muted),
            ));
        }
    }
    let block = pane_block(app, Pane::Chart, title);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let width = usize::from(inner.width);

    let Some(row) = app.selected_row() else {
        let lines = vec![Line::styled(
            "患者が選択されていません",
            theme.ui(UiPart::Muted),
        )];
        render_lines(frame, inner, lines, theme.ui(UiPart::Base));
        return;
    };
    let chart = match &row.chart {
        Ok(chart) => chart,
        Err(error) => {
            let mut lines = vec![Line::styled(
                text::truncate(
                    &format!("{} を読み込めませんでした", text::safe_line(&row.file_name)),
                    width,
                ),
                theme.ui(UiPart::Error),
            )];
            lines.push(Line::raw(""));
            let parts = [
                ("ファイル", error.path.display().to_string(), UiPart::Base),
                ("問題", error.summary.clone(), UiPart::Error),
                ("対処", error.hint.clone(), UiPart::Base),
                // The parser's own words, for whoever fixes the file (verbatim).
                ("詳細", error.problem.clone(), UiPart::Muted),
            ];
            for (label, value, part) in parts {
                let entry = format!("{label}: {}", text::safe_line(&value));
                for line in text::wrap(&entry, width) {
                    lines.push(Line::styled(line, theme.ui(part)));
                }
            }
            render_lines(frame, inner, lines, theme.ui(UiPart::Base));
            return;
        }
    };
    let header_height = CHART_HEADER_LINES.min(inner.height);
    let header_rect = Rect::new(inner.x, inner.y, inner.width, header_height);
    render_lines(
        frame,
        header_rect,
        header_lines(chart, theme, width),
        theme.ui(UiPart::Base),
    );
    let body_rect = Rect::new(
        inner.x,
        inner.y + header_height,
        inner.width,
        inner.height - header_height,
    );
    let lines = body_lines(app, chart, app.chart_tab, width);
    let lines = visible(lines, app.chart_scroll, usize::from(body_rect.height));
    render_lines(frame, body_rect, lines, theme.ui(UiPart::Base));
}

fn header_lines(chart: &Chart, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let patient = &chart.patient;
    let encounter = &chart.encounter;
    let age = encounter
        .admission_date
        .and_then(|d| chart.age_on(d))
        .map(|a| format!(" {a}歳"))
        .unwrap_or_default();
    let kana = if patient.kana.is_empty() {
        String::new()
    } else {
        format!("（{}）", text::safe_line(&patient.kana))
    };
    let name = format!(
        "{}{kana} {}{age}  ID {}",
        text::safe_line(&patient.name),
        patient.sex.japanese(),
        text::safe_line(&patient.id)
    );
    let date = |d: Option<chrono::NaiveDate>| {
        d.map_or("—".to_string(), |d| d.format("%Y-%m-%d").to_string())
    };
    let stay = format!(
        "{} {}  入院 {} 〜 退院 {}  主治医 {}",
        text::safe_line(&encounter.department),
        text::safe_line(&encounter.ward),
        date(encounter.admission_date),
        date(encounter.discharge_date),
        text::safe_line(&encounter.attending)
    );
    let allergy_line = if chart.allergies.is_empty() {
        Line::styled(
            text::truncate("アレルギー: 記録なし", width),
            theme.ui(UiPart::Muted),
        )
    } else {
        let list: Vec<String> = chart
            .allergies
            .iter()
            .map(|a| {
                if a.reaction.is_empty() {
                    text::safe_line(&a.substance)
                } else {
                    format!(
                        "{}（{}）",
                        text::safe_line(&a.substance),
                        text::safe_line(&a.reaction)
                    )
                }
            })
            .collect();
        Line::styled(
            text::truncate(&format!("アレルギー: {}", list.join("、")), width),
            theme.ui(UiPart::Warning),
        )
    };
    vec![
        Line::styled(text::truncate(&name, width), theme.ui(UiPart::Header)),
        Line::styled(text::truncate(&stay, width), theme.ui(UiPart::Base)),
        allergy_line,
    ]
}

/// Every line of the scrollable body of `tab`, wrapped to `width` cells.
pub fn body_lines(app: &App, chart: &Chart, tab: ChartTab, width: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    match tab {
        ChartTab::Notes => note_lines(app, chart, width),
        ChartTab::Labs => lab_lines(chart, width, theme),
        ChartTab::Prescriptions => prescription_lines(chart, width, theme),
    }
}

fn note_lines(app: &App, chart: &Chart, width: usize) -> Vec<Line<'static>> {
    let theme = &app.theme;
    let mut lines = Vec::new();
    if chart.notes.is_empty() {
        lines.push(Line::styled("記録がありません", theme.ui(UiPart::Muted)));
    }
    for note in chart.notes_by_date() {
        let author = [note.author_role.as_str(), note.author.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| text::safe_line(s))
            .collect::<Vec<_>>()
            .join(" ");
        let heading = format!(
            "{} {} {}",
            note.datetime.format("%Y-%m-%d %H:%M"),
            text::safe_line(&note.kind),
            author
        );
        lines.push(Line::styled(
            text::truncate(heading.trim_end(), width),
            theme.ui(UiPart::NoteHeader),
        ));
        let target = EntityTarget::Note {
            chart_id: chart.id.clone(),
            note_id: note.id.clone(),
        };
        let entities = app
            .note_entities
            .get(&target)
            .filter(|_| app.highlights)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        // The span a jump to a source points at comes first (it wins over entities).
        let mut marks: Vec<(usize, usize, ratatui::style::Style)> = app
            .review
            .source_mark
            .iter()
            .filter(|m| m.chart_id == chart.id && m.note_id == note.id)
            .map(|m| (m.start, m.end, theme.ui(UiPart::SourceMark)))
            .collect();
        marks.extend(
            entities
                .iter()
                .map(|e| (e.start, e.end, theme.entity(entity_kind(e)))),
        );
        lines.extend(wrap_marked(
            &note.text,
            width,
            theme.ui(UiPart::Base),
            &marks,
        ));
        lines.push(Line::raw(""));
    }
    lines
}

/// The body line (Notes tab, wrapped to `width`) where char `start` of note `note_id` is.
pub fn note_span_line(chart: &Chart, note_id: &str, start: usize, width: usize) -> Option<usize> {
    let base = ratatui::style::Style::default();
    let mut line = 0;
    for note in chart.notes_by_date() {
        line += 1; // the note's heading
        if note.id == note_id {
            let prefix: String = note.text.chars().take(start).collect();
            return Some(line + wrap_marked(&prefix, width, base, &[]).len() - 1);
        }
        line += wrap_marked(&note.text, width, base, &[]).len() + 1;
    }
    None
}

fn lab_lines(chart: &Chart, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    if chart.labs.is_empty() {
        return vec![Line::styled(
            "検査結果がありません",
            theme.ui(UiPart::Muted),
        )];
    }
    const WHEN: usize = 11;
    const VALUE: usize = 8;
    const FLAG: usize = 1;
    const UNIT: usize = 8;
    // The item column fits the longest item, within reason.
    let longest = chart
        .labs
        .iter()
        .map(|l| text::width(&text::safe_line(&l.item)))
        .max()
        .unwrap_or(0);
    let item_width = longest.clamp(6, (width / 3).max(6));
    let range = width.saturating_sub(WHEN + item_width + VALUE + FLAG + UNIT + 5);
    let heading = [
        text::fit("日時", WHEN),
        text::fit("項目", item_width),
        text::fit_right("値", VALUE),
        text::fit("", FLAG),
        text::fit("単位", UNIT),
        text::fit("基準値", range),
    ]
    .join(" ");
    let mut lines = vec![Line::styled(
        text::truncate(&heading, width),
        theme.ui(UiPart::Header),
    )];
    let mut labs: Vec<_> = chart.labs.iter().collect();
    labs.sort_by_key(|l| l.datetime);
    for lab in labs {
        let (flag, value_style) = match lab.flag {
            Some(LabFlag::H) => ("H", theme.ui(UiPart::LabHigh)),
            Some(LabFlag::L) => ("L", theme.ui(UiPart::LabLow)),
            None => ("", theme.ui(UiPart::Base)),
        };
        let spans = vec![
            Span::raw(text::fit(
                &lab.datetime.format("%m/%d %H:%M").to_string(),
                WHEN,
            )),
            Span::raw(" "),
            Span::raw(text::fit(&text::safe_line(&lab.item), item_width)),
            Span::raw(" "),
            Span::styled(
                text::fit_right(&text::safe_line(&lab.value), VALUE),
                value_style,
            ),
            Span::raw(" "),
            Span::styled(text::fit(flag, FLAG), value_style),
            Span::raw(" "),
            Span::raw(text::fit(&text::safe_line(&lab.unit), UNIT)),
            Span::raw(" "),
            Span::styled(
                text::fit(&text::safe_line(&lab.reference_range), range),
                theme.ui(UiPart::Muted),
            ),
        ];
        lines.push(Line::from(spans));
    }
    lines
}

fn prescription_lines(chart: &Chart, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let section = |lines: &mut Vec<Line<'static>>, title: &str| {
        if !lines.is_empty() {
            lines.push(Line::raw(""));
        }
        lines.push(Line::styled(title.to_string(), theme.ui(UiPart::Header)));
    };
    let wrapped = |lines: &mut Vec<Line<'static>>, entry: String, style| {
        for line in text::wrap(&entry, width) {
            lines.push(Line::styled(line, style));
        }
    };

    section(&mut lines, "処方");
    if chart.prescriptions.is_empty() {
        lines.push(Line::styled("処方がありません", theme.ui(UiPart::Muted)));
    }
    for rx in &chart.prescriptions {
        let days = rx.days.map(|d| format!(" {d}日分")).unwrap_or_default();
        let period = match (rx.start, rx.end) {
            (None, None) => String::new(),
            (start, end) => format!(
                " {}〜{}",
                start
                    .map(|d| d.format("%m/%d").to_string())
                    .unwrap_or_default(),
                end.map(|d| d.format("%m/%d").to_string())
                    .unwrap_or_default()
            ),
        };
        let entry = format!(
            "{}{} {}{} {} {}{days}{period}",
            if rx.discharge { "[退院時] " } else { "" },
            text::safe_line(&rx.drug),
            text::safe_line(&rx.dose),
            text::safe_line(&rx.unit),
            text::safe_line(&rx.route),
            text::safe_line(&rx.frequency),
        );
        wrapped(&mut lines, entry, theme.ui(UiPart::Base));
    }

    section(&mut lines, "アレルギー");
    if chart.allergies.is_empty() {
        lines.push(Line::styled("記録なし", theme.ui(UiPart::Muted)));
    }
    for allergy in &chart.allergies {
        let mut entry = text::safe_line(&allergy.substance);
        for extra in [&allergy.reaction, &allergy.severity] {
            if !extra.is_empty() {
                entry.push_str(&format!(" {}", text::safe_line(extra)));
            }
        }
        wrapped(&mut lines, entry, theme.ui(UiPart::Warning));
    }

    section(&mut lines, "病名");
    if chart.diagnoses.is_empty() {
        lines.push(Line::styled("記録なし", theme.ui(UiPart::Muted)));
    }
    for diagnosis in &chart.diagnoses {
        let status = match diagnosis.status {
            crate::chart::DiagnosisStatus::Active => "",
            crate::chart::DiagnosisStatus::Resolved => " (治癒)",
            crate::chart::DiagnosisStatus::Suspected => " (疑い)",
        };
        let entry = format!(
            "{}{}{}{status}",
            if diagnosis.main { "[主] " } else { "" },
            text::safe_line(&diagnosis.name),
            diagnosis
                .icd10
                .as_deref()
                .map(|c| format!(" {}", text::safe_line(c)))
                .unwrap_or_default(),
        );
        wrapped(&mut lines, entry, theme.ui(UiPart::Base));
    }
    lines
}
