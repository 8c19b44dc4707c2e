//! The report as plain text tables for the terminal.

use crate::metrics::report::{Report, ALL_DOC_TYPES};
use std::fmt::Write as _;

fn arm_label(arm: Option<crate::metrics::Arm>) -> &'static str {
    arm.map_or("none", |a| a.name())
}

fn share(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{:.1}%", v * 100.0))
}

fn secs(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{v:.1}"))
}

impl Report {
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let scope = match (&self.options.study, self.options.since) {
            (Some(study), Some(since)) => format!("study {study}, signed since {since}"),
            (Some(study), None) => format!("study {study}"),
            (None, Some(since)) => format!("all documents signed since {since}"),
            (None, None) => "all documents".to_string(),
        };
        let _ = writeln!(
            out,
            "karte report: {scope} — {} signed documents ({} unsigned not counted); idle threshold {} s",
            self.documents.len(),
            self.unsigned_documents,
            self.options.idle_threshold_secs
        );
        let _ = writeln!(out, "\nActive time per arm and document type (seconds)");
        let _ = writeln!(
            out,
            "{:<22} {:<9} {:>4} {:>9} {:>9} {:>8} {:>9} {:>9} {:>7} {:>7} {:>7}",
            "document type",
            "arm",
            "n",
            "median",
            "mean",
            "wait",
            "% edited",
            "retained",
            "flags",
            "fixed",
            "ack"
        );
        for group in &self.groups {
            let _ = writeln!(
                out,
                "{:<22} {:<9} {:>4} {:>9.1} {:>9.1} {:>8.1} {:>9} {:>9} {:>7.2} {:>7.2} {:>7.2}",
                group.doc_type,
                arm_label(group.arm),
                group.n,
                group.median_active_secs,
                group.mean_active_secs,
                group.median_waiting_secs,
                share(group.mean_edited_share),
                share(group.mean_retained_share),
                group.flags_raised_per_document,
                group.flags_fixed_per_document,
                group.flags_acknowledged_per_document
            );
        }
        let _ = writeln!(
            out,
            "\nReduction of active time, assisted vs manual: 1 - mean(assisted)/mean(manual), BCa bootstrap 95% CI ({} resamples, seed {})",
            self.options.bootstrap_resamples, self.options.bootstrap_seed
        );
        if self.reductions.is_empty() {
            let _ = writeln!(out, "  (needs signed documents in both arms)");
        }
        for reduction in &self.reductions {
            let ci = reduction
                .ci
                .map_or("CI needs ≥ 2 documents per arm".to_string(), |ci| {
                    format!("95% CI {:.1}% to {:.1}%", ci.low * 100.0, ci.high * 100.0)
                });
            let marker = if reduction.doc_type == ALL_DOC_TYPES {
                "*"
            } else {
                " "
            };
            let _ = writeln!(
                out,
                "{marker} {:<20} {:.1}%  ({ci}; n = {} manual, {} assisted; of medians {:.1}%)",
                reduction.doc_type,
                reduction.of_means * 100.0,
                reduction.n_manual,
                reduction.n_assisted,
                reduction.of_medians * 100.0
            );
        }
        let _ = writeln!(out, "\nPer clinician (pseudonymous ids)");
        let _ = writeln!(
            out,
            "{:<16} {:>8} {:>9} {:>6} {:>14} {:>16} {:>10}",
            "clinician",
            "manual",
            "assisted",
            "other",
            "median manual",
            "median assisted",
            "reduction"
        );
        for clinician in &self.clinicians {
            let _ = writeln!(
                out,
                "{:<16} {:>8} {:>9} {:>6} {:>14} {:>16} {:>10}",
                clinician.clinician,
                clinician.n_manual,
                clinician.n_assisted,
                clinician.n_other,
                secs(clinician.median_manual_secs),
                secs(clinician.median_assisted_secs),
                share(clinician.reduction_of_means)
            );
        }
        // Crossover: in a study every clinician should have done both arms.
        let one_armed: Vec<&str> = self
            .clinicians
            .iter()
            .filter(|c| (c.n_manual == 0) != (c.n_assisted == 0))
            .map(|c| c.clinician.as_str())
            .collect();
        if !one_armed.is_empty() {
            let _ = writeln!(
                out,
                "note: no crossover yet for {} (documents in one arm only)",
                one_armed.join(", ")
            );
        }
        out
    }
}
