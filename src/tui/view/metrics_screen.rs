//! The Metrics tab: the same report as `karte report`, drawn with ratatui charts — median
//! active time per document type and arm (bar chart) and the distribution of active times
//! per arm (histogram as a bar-type chart). Labels are Japanese; the arm names (`manual`,
//! `assisted`) stay verbatim, as in the study config and the status bar.

use crate::draft::DocumentKind;
use crate::metrics::report::{Report, ALL_DOC_TYPES};
use crate::metrics::Arm;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Block, Chart, Dataset, GraphType, Paragraph,
};
use ratatui::Frame;

const MANUAL: Color = Color::Blue;
const ASSISTED: Color = Color::Magenta;
const OTHER: Color = Color::Gray;
const BINS: usize = 12;
/// The screen's title.
const TITLE: &str = " 計測結果 (Metrics) ";

fn arm_color(arm: Option<Arm>) -> Color {
    match arm {
        Some(Arm::Manual) => MANUAL,
        Some(Arm::Assisted) => ASSISTED,
        None => OTHER,
    }
}

fn arm_label(arm: Option<Arm>) -> &'static str {
    arm.map_or("群なし", |a| a.name())
}

/// A document type as clinicians call it (`all` is every type); an unknown one verbatim.
fn doc_type_label(doc_type: &str) -> String {
    if doc_type == ALL_DOC_TYPES {
        return "全体".to_string();
    }
    DocumentKind::parse(doc_type)
        .map_or_else(|| doc_type.to_string(), |k| k.heading(false).to_string())
}

fn arms_present(report: &Report) -> Vec<Option<Arm>> {
    [Some(Arm::Manual), Some(Arm::Assisted), None]
        .into_iter()
        .filter(|arm| report.documents.iter().any(|d| d.arm == *arm))
        .collect()
}

/// Draws the Metrics tab for `report` into `area`.
pub fn draw_metrics_tab(frame: &mut Frame, area: Rect, report: &Report) {
    let [summary_area, charts_area] =
        Layout::vertical([Constraint::Length(4), Constraint::Min(6)]).areas(area);
    let [bars_area, histogram_area] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
            .areas(charts_area);
    frame.render_widget(summary(report), summary_area);
    frame.render_widget(median_bars(report), bars_area);
    draw_histogram(frame, histogram_area, report);
}

/// Draws the Metrics tab when there is no report to show: `message` is the report error's
/// text (no DB yet, nothing signed in range, DB locked or corrupt…), shown as it is.
pub fn draw_metrics_message(frame: &mut Frame, area: Rect, message: &str) {
    let lines: Vec<Line> = message.lines().map(|l| Line::from(l.to_string())).collect();
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(Block::bordered().title(TITLE)),
        area,
    );
}

fn summary(report: &Report) -> Paragraph<'static> {
    let headline = match report.reduction(ALL_DOC_TYPES) {
        Some(reduction) => {
            let ci = reduction
                .ci
                .map_or(String::from("信頼区間は各群 2 件から"), |ci| {
                    format!(
                        "95% 信頼区間 {:.1}%〜{:.1}%",
                        ci.low * 100.0,
                        ci.high * 100.0
                    )
                });
            format!(
                "実作業時間の短縮 (assisted 対 manual、平均): {:.1}% ({ci}、n = manual {} 件・assisted {} 件)",
                reduction.of_means * 100.0,
                reduction.n_manual,
                reduction.n_assisted
            )
        }
        None => "短縮率: 両群 (manual・assisted) に署名済みの文書が要ります".to_string(),
    };
    let scope = format!(
        "署名済み {} 件、未署名 {} 件、無操作 {} 秒で中断とみなす{}",
        report.documents.len(),
        report.unsigned_documents,
        report.options.idle_threshold_secs,
        report
            .options
            .study
            .as_deref()
            .map(|s| format!("、試験 {s}"))
            .unwrap_or_default()
    );
    Paragraph::new(vec![Line::from(headline).bold(), Line::from(scope)])
        .block(Block::bordered().title(TITLE))
}

fn median_bars(report: &Report) -> BarChart<'static> {
    let arms = arms_present(report);
    let mut doc_types: Vec<&str> = report
        .groups
        .iter()
        .map(|g| g.doc_type.as_str())
        .filter(|t| *t != ALL_DOC_TYPES)
        .collect();
    doc_types.dedup();
    doc_types.push(ALL_DOC_TYPES);
    let mut chart = BarChart::default()
        .block(Block::bordered().title(" 文書種別ごとの実作業時間の中央値 (秒) "))
        .bar_width(8)
        .bar_gap(1)
        .group_gap(3);
    for doc_type in doc_types {
        let bars: Vec<Bar<'static>> = arms
            .iter()
            .filter_map(|arm| report.group(*arm, doc_type))
            .map(|group| {
                let seconds = group.median_active_secs.round().max(0.0) as u64;
                Bar::default()
                    .value(seconds)
                    .text_value(format!("{seconds}"))
                    .label(Line::from(arm_label(group.arm)))
                    .style(Style::new().fg(arm_color(group.arm)))
            })
            .collect();
        if !bars.is_empty() {
            chart = chart.data(BarGroup::new(bars).label(Line::from(doc_type_label(doc_type))));
        }
    }
    chart
}

fn draw_histogram(frame: &mut Frame, area: Rect, report: &Report) {
    let arms = arms_present(report);
    let x_max = report
        .documents
        .iter()
        .map(|d| d.active_secs)
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.05;
    let bin_width = x_max / BINS as f64;
    // One point per bin and arm, shifted a little per arm so bars stand side by side.
    let series: Vec<Vec<(f64, f64)>> = arms
        .iter()
        .enumerate()
        .map(|(index, arm)| {
            let mut counts = [0usize; BINS];
            for document in report.documents.iter().filter(|d| d.arm == *arm) {
                counts[((document.active_secs / bin_width) as usize).min(BINS - 1)] += 1;
            }
            counts
                .iter()
                .enumerate()
                .filter(|(_, count)| **count > 0)
                .map(|(bin, count)| {
                    let x = (bin as f64 + 0.3 + 0.4 * index as f64 / arms.len().max(1) as f64)
                        * bin_width;
                    (x, *count as f64)
                })
                .collect()
        })
        .collect();
    let y_max = series
        .iter()
        .flatten()
        .map(|(_, y)| *y)
        .fold(0.0, f64::max)
        .max(1.0);
    let datasets: Vec<Dataset> = arms
        .iter()
        .zip(&series)
        .map(|(arm, points)| {
            Dataset::default()
                .name(arm_label(*arm))
                .marker(Marker::HalfBlock)
                .graph_type(GraphType::Bar)
                .style(Style::new().fg(arm_color(*arm)))
                .data(points)
        })
        .collect();
    let chart = Chart::new(datasets)
        .block(Block::bordered().title(" 実作業時間の分布 (区間ごとの文書数) "))
        .x_axis(Axis::default().title("秒").bounds([0.0, x_max]).labels([
            "0".to_string(),
            format!("{:.0}", x_max / 2.0),
            format!("{x_max:.0}"),
        ]))
        .y_axis(
            Axis::default()
                .title("件")
                .bounds([0.0, y_max])
                .labels(["0".to_string(), format!("{y_max:.0}")]),
        );
    frame.render_widget(chart, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_types_show_as_clinicians_call_them() {
        assert_eq!(doc_type_label(DocumentKind::Referral.key()), "紹介状");
        assert_eq!(
            doc_type_label(DocumentKind::Discharge.key()),
            "退院サマリー"
        );
        assert_eq!(doc_type_label(ALL_DOC_TYPES), "全体");
        assert_eq!(doc_type_label("referral_letter"), "referral_letter");
        assert_eq!(arm_label(None), "群なし");
    }
}
