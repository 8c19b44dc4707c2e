//! The report as an SVG figure (plotters) for a paper: left, median active time per document
//! type and arm with interquartile whiskers; right, the distribution of active times per arm.

use crate::metrics::report::{Report, ALL_DOC_TYPES};
use crate::metrics::study::Arm;
use plotters::prelude::*;

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 520;
const MANUAL: RGBColor = RGBColor(0x44, 0x77, 0xAA);
const ASSISTED: RGBColor = RGBColor(0xEE, 0x66, 0x77);
const OTHER: RGBColor = RGBColor(0xBB, 0xBB, 0xBB);
const HISTOGRAM_BINS: usize = 20;

#[derive(Debug, thiserror::Error)]
#[error("cannot draw the figure: {0}")]
pub struct PlotError(String);

fn arm_color(arm: Option<Arm>) -> RGBColor {
    match arm {
        Some(Arm::Manual) => MANUAL,
        Some(Arm::Assisted) => ASSISTED,
        None => OTHER,
    }
}

fn arm_label(arm: Option<Arm>) -> &'static str {
    arm.map_or("no study", |a| a.name())
}

/// Arms present in the report, in a fixed order.
/// The longest active time of any document (at least 1 s), which both axes scale to.
fn longest_active_secs(report: &Report) -> f64 {
    report
        .documents
        .iter()
        .map(|d| d.active_secs)
        .fold(0.0, f64::max)
        .max(1.0)
}

fn arms_present(report: &Report) -> Vec<Option<Arm>> {
    [Some(Arm::Manual), Some(Arm::Assisted), None]
        .into_iter()
        .filter(|arm| report.documents.iter().any(|d| d.arm == *arm))
        .collect()
}

fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let position = p * (sorted.len() - 1) as f64;
    let (lower, upper) = (position.floor() as usize, position.ceil() as usize);
    sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower as f64)
}

impl Report {
    /// The figure as an SVG document.
    pub fn to_svg(&self) -> Result<String, PlotError> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root).map_err(|e| PlotError(e.to_string()))?;
            root.present().map_err(|e| PlotError(e.to_string()))?;
        }
        Ok(svg)
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let title = match self.reduction(ALL_DOC_TYPES) {
            Some(r) => match r.ci {
                Some(ci) => format!(
                    "Active time per document — reduction {:.1}% (95% CI {:.1}% to {:.1}%)",
                    r.of_means * 100.0,
                    ci.low * 100.0,
                    ci.high * 100.0
                ),
                None => format!(
                    "Active time per document — reduction {:.1}%",
                    r.of_means * 100.0
                ),
            },
            None => "Active time per document".to_string(),
        };
        let root = root.titled(&title, ("sans-serif", 20))?;
        let (left, right) = root.split_horizontally(WIDTH / 2);
        self.draw_medians(&left)?;
        self.draw_distribution(&right)
    }

    fn draw_medians<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let doc_types: Vec<String> = {
            let mut types: Vec<String> =
                self.documents.iter().map(|d| d.doc_type.clone()).collect();
            types.sort();
            types.dedup();
            types
        };
        let arms = arms_present(self);
        let y_max = longest_active_secs(self) * 1.1;
        let categories = doc_types.len().max(1);
        let labels = doc_types.clone();
        let mut chart = ChartBuilder::on(area)
            .margin(15)
            .caption(
                "Median active time (whiskers: interquartile range)",
                ("sans-serif", 15),
            )
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..(categories as f64 - 0.5), 0f64..y_max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(0)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .x_labels(categories)
            .x_label_formatter(&|x| {
                let index = x.round();
                if (x - index).abs() < 1e-6 && index >= 0.0 {
                    labels.get(index as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc("active time (s)")
            .draw()?;
        let bar_width = 0.8 / arms.len().max(1) as f64;
        for (arm_index, arm) in arms.iter().enumerate() {
            let mut bars = Vec::new();
            let mut whiskers = Vec::new();
            for (type_index, doc_type) in doc_types.iter().enumerate() {
                let mut values: Vec<f64> = self
                    .documents
                    .iter()
                    .filter(|d| d.arm == *arm && &d.doc_type == doc_type)
                    .map(|d| d.active_secs)
                    .collect();
                if values.is_empty() {
                    continue;
                }
                values.sort_by(f64::total_cmp);
                let left = type_index as f64 - 0.4 + arm_index as f64 * bar_width;
                let centre = left + bar_width / 2.0;
                bars.push(Rectangle::new(
                    [
                        (left + 0.01, 0.0),
                        (left + bar_width - 0.01, quantile(&values, 0.5)),
                    ],
                    arm_color(*arm).filled(),
                ));
                whiskers.push(PathElement::new(
                    vec![
                        (centre, quantile(&values, 0.25)),
                        (centre, quantile(&values, 0.75)),
                    ],
                    BLACK.stroke_width(2),
                ));
            }
            let color = arm_color(*arm);
            chart
                .draw_series(bars)?
                .label(arm_label(*arm))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
            chart.draw_series(whiskers)?;
        }
        draw_legend(&mut chart)
    }

    fn draw_distribution<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let arms = arms_present(self);
        let x_max = longest_active_secs(self) * 1.05;
        let bin_width = x_max / HISTOGRAM_BINS as f64;
        let counts: Vec<Vec<usize>> = arms
            .iter()
            .map(|arm| {
                let mut bins = vec![0usize; HISTOGRAM_BINS];
                for document in self.documents.iter().filter(|d| d.arm == *arm) {
                    let bin = ((document.active_secs / bin_width) as usize).min(HISTOGRAM_BINS - 1);
                    bins[bin] += 1;
                }
                bins
            })
            .collect();
        let y_max = counts.iter().flatten().copied().max().unwrap_or(1).max(1) as f64 * 1.15;
        let mut chart = ChartBuilder::on(area)
            .margin(15)
            .caption(
                "Distribution of active time per document",
                ("sans-serif", 15),
            )
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..x_max, 0f64..y_max)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .x_desc("active time (s)")
            .y_desc("documents")
            .draw()?;
        for (arm, bins) in arms.iter().zip(&counts) {
            let color = arm_color(*arm);
            chart
                .draw_series(
                    bins.iter()
                        .enumerate()
                        .filter(|(_, c)| **c > 0)
                        .map(|(i, c)| {
                            let x0 = i as f64 * bin_width;
                            Rectangle::new(
                                [(x0, 0.0), (x0 + bin_width, *c as f64)],
                                color.mix(0.55).filled(),
                            )
                        }),
                )?
                .label(arm_label(*arm))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.mix(0.55).filled())
                });
        }
        draw_legend(&mut chart)
    }
}

/// The legend of the arms, as both panels draw it: upper right, on a light box.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .draw()
}
