//! The chart's structured summary as rows of the summary panel (issue 4's side panel):
//! problems with their certainty, medications, abnormal labs, allergies and procedures,
//! each row keeping the sources it came from so that selecting it shows them in the chart.

use crate::chart::{LabFlag, Source};
use crate::nlp::{Certainty, StructuredChart};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Heading,
    Problem(Certainty),
    Medication,
    AbnormalLab,
    Allergy,
    Procedure,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    pub kind: RowKind,
    pub text: String,
    pub sources: Vec<Source>,
}

impl SummaryRow {
    pub fn is_heading(&self) -> bool {
        self.kind == RowKind::Heading
    }
}

pub fn certainty_label(certainty: Certainty) -> &'static str {
    certainty.japanese()
}

fn heading(rows: &mut Vec<SummaryRow>, title: &str, count: usize) {
    rows.push(SummaryRow {
        kind: RowKind::Heading,
        text: format!("{title} ({count})"),
        sources: Vec::new(),
    });
}

/// Every row, headings included, in the panel's order.
pub fn summary_rows(summary: &StructuredChart) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    heading(&mut rows, "病名", summary.problems.len());
    for p in &summary.problems {
        rows.push(SummaryRow {
            kind: RowKind::Problem(p.certainty),
            text: format!(
                "{}{} [{}]",
                if p.main { "[主] " } else { "" },
                p.name,
                certainty_label(p.certainty)
            ),
            sources: p.sources.clone(),
        });
    }
    heading(&mut rows, "処方", summary.medications.len());
    for m in &summary.medications {
        let detail: Vec<&str> = [m.dose.as_str(), m.route.as_str(), m.frequency.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect();
        rows.push(SummaryRow {
            kind: RowKind::Medication,
            text: format!(
                "{}{} {}",
                if m.discharge { "[退院時] " } else { "" },
                m.name,
                detail.join(" ")
            )
            .trim_end()
            .to_string(),
            sources: m.sources.clone(),
        });
    }
    heading(&mut rows, "異常値", summary.abnormal_labs.len());
    for lab in &summary.abnormal_labs {
        let flag = match lab.flag {
            Some(LabFlag::H) => " H",
            Some(LabFlag::L) => " L",
            None => "",
        };
        let when = lab
            .datetime
            .map(|d| format!(" ({})", d.format("%m/%d")))
            .unwrap_or_default();
        rows.push(SummaryRow {
            kind: RowKind::AbnormalLab,
            text: format!("{} {}{}{flag}{when}", lab.item, lab.value, lab.unit),
            sources: lab.sources.clone(),
        });
    }
    heading(&mut rows, "アレルギー", summary.allergies.len());
    for a in &summary.allergies {
        rows.push(SummaryRow {
            kind: RowKind::Allergy,
            text: if a.reaction.is_empty() {
                a.substance.clone()
            } else {
                format!("{}（{}）", a.substance, a.reaction)
            },
            sources: a.sources.clone(),
        });
    }
    heading(&mut rows, "手術・処置", summary.procedures.len());
    for p in &summary.procedures {
        rows.push(SummaryRow {
            kind: RowKind::Procedure,
            text: match p.date {
                Some(d) => format!("{} ({})", p.name, d.format("%Y-%m-%d")),
                None => p.name.clone(),
            },
            sources: p.sources.clone(),
        });
    }
    rows
}

/// Indexes (into `rows`) of the rows that can be selected (not headings).
pub fn selectable(rows: &[SummaryRow]) -> Vec<usize> {
    rows.iter()
        .enumerate()
        .filter(|(_, r)| !r.is_heading())
        .map(|(i, _)| i)
        .collect()
}
