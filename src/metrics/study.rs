//! Time studies: arms, a validated study config, and the seeded assignment of documents to arms.
//!
//! Assignment is a pure function of (seed, clinician, randomization unit): a reconnect, a restart
//! or a second terminal always gives a document the same arm, with no state to lose. Crossover:
//! the hash is keyed by the clinician, so each clinician's documents are split between the arms
//! independently (every clinician does both arms; `Report` lists per-clinician counts so a
//! study can check the balance).

use crate::metrics::config::StudyConfig;
use crate::metrics::event::DocumentRef;
use sha2::{Digest, Sha256};
use std::fmt;

/// An arm of a study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arm {
    /// Blank template, no AI draft, no generation keys.
    Manual,
    /// AI draft.
    Assisted,
}

impl Arm {
    pub const ALL: [Arm; 2] = [Arm::Manual, Arm::Assisted];

    pub fn name(self) -> &'static str {
        match self {
            Arm::Manual => "manual",
            Arm::Assisted => "assisted",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "manual" => Some(Arm::Manual),
            "assisted" => Some(Arm::Assisted),
            _ => None,
        }
    }

    /// Whether the UI may offer generation (draft, regenerate) in this arm.
    pub fn allows_generation(self) -> bool {
        self == Arm::Assisted
    }
}

impl fmt::Display for Arm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one random draw assigns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RandomizationUnit {
    /// Each document (chart × document type) on its own.
    Document,
    /// All documents of a chart share an arm.
    Chart,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StudyError {
    #[error("study config: the study has no name\n  set `name = \"...\"` in the [study] section of config.toml")]
    MissingName,
    #[error("study config {study:?}: unknown arm {arm:?}\n  arms are \"manual\" and \"assisted\"; fix `arms` in the [study] section of config.toml")]
    UnknownArm { study: String, arm: String },
    #[error("study config {study:?}: needs both arms, \"manual\" and \"assisted\" (got {arms:?})\n  set `arms = [\"manual\", \"assisted\"]` in the [study] section of config.toml")]
    NeedsBothArms { study: String, arms: Vec<String> },
    #[error("study config {study:?}: no seed, so the assignment of documents to arms would not be reproducible\n  set `seed = <a number>` in the [study] section of config.toml")]
    MissingSeed { study: String },
    #[error("study config {study:?}: unknown randomization unit {unit:?}\n  use `unit = \"document\"` or `unit = \"chart\"`")]
    UnknownUnit { study: String, unit: String },
}

/// A validated study.
#[derive(Debug, Clone, PartialEq)]
pub struct Study {
    pub name: String,
    pub arms: Vec<Arm>,
    pub unit: RandomizationUnit,
    pub seed: u64,
}

impl Study {
    pub fn from_config(config: &StudyConfig) -> Result<Self, StudyError> {
        let name = config.name.trim().to_string();
        if name.is_empty() {
            return Err(StudyError::MissingName);
        }
        let mut arms = Vec::new();
        for arm_name in &config.arms {
            let arm = Arm::parse(arm_name).ok_or_else(|| StudyError::UnknownArm {
                study: name.clone(),
                arm: arm_name.clone(),
            })?;
            if !arms.contains(&arm) {
                arms.push(arm);
            }
        }
        if arms.len() != Arm::ALL.len() {
            return Err(StudyError::NeedsBothArms {
                study: name,
                arms: config.arms.clone(),
            });
        }
        arms.sort();
        let unit = match config.unit.as_deref().map(str::trim) {
            None | Some("document") => RandomizationUnit::Document,
            Some("chart") => RandomizationUnit::Chart,
            Some(other) => {
                return Err(StudyError::UnknownUnit {
                    study: name,
                    unit: other.to_string(),
                })
            }
        };
        let seed = config.seed.ok_or_else(|| StudyError::MissingSeed {
            study: name.clone(),
        })?;
        Ok(Self {
            name,
            arms,
            unit,
            seed,
        })
    }

    /// The document as recorded in this study, with its arm for `clinician`.
    pub fn document(
        &self,
        clinician: &str,
        chart_id: &str,
        doc_type: &str,
        version: u32,
    ) -> DocumentRef {
        let document = DocumentRef::new(chart_id, doc_type, version);
        let arm = self.arm_for(clinician, document.document_id());
        document.in_study(&self.name, arm)
    }

    /// The arm of a document for a clinician. `document_id` is `DocumentRef::document_id()`
    /// (`<chart hash>:<doc type>:v<version>`); the version is ignored so that a new version of a
    /// document stays in its arm.
    pub fn arm_for(&self, clinician: &str, document_id: &str) -> Arm {
        let mut parts = document_id.split(':');
        let chart = parts.next().unwrap_or("");
        let doc_type = parts.next().unwrap_or("");
        let unit_key = match self.unit {
            RandomizationUnit::Document => format!("{chart}:{doc_type}"),
            RandomizationUnit::Chart => chart.to_string(),
        };
        let mut hasher = Sha256::new();
        hasher.update(self.seed.to_le_bytes());
        hasher.update(self.name.as_bytes());
        hasher.update([0]);
        hasher.update(clinician.as_bytes());
        hasher.update([0]);
        hasher.update(unit_key.as_bytes());
        let digest = hasher.finalize();
        let draw = u64::from_le_bytes([
            digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
        ]);
        let index = usize::try_from(draw % self.arms.len() as u64).unwrap_or(0);
        self.arms[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(arms: &[&str], seed: Option<u64>) -> StudyConfig {
        StudyConfig {
            name: "pilot".into(),
            arms: arms.iter().map(|s| s.to_string()).collect(),
            unit: None,
            seed,
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let unknown = Study::from_config(&config(&["manual", "autopilot"], Some(1))).unwrap_err();
        assert!(matches!(unknown, StudyError::UnknownArm { ref arm, .. } if arm == "autopilot"));
        assert!(unknown.to_string().contains("autopilot"));
        let no_seed = Study::from_config(&config(&["manual", "assisted"], None)).unwrap_err();
        assert!(no_seed.to_string().contains("seed"));
        assert!(matches!(
            Study::from_config(&config(&["manual"], Some(1))),
            Err(StudyError::NeedsBothArms { .. })
        ));
    }

    #[test]
    fn assignment_is_reproducible_and_crosses_over() {
        let study = Study::from_config(&config(&["assisted", "manual"], Some(42))).unwrap();
        let again = Study::from_config(&config(&["manual", "assisted"], Some(42))).unwrap();
        for clinician in ["sato", "suzuki", "takahashi"] {
            let arms: Vec<Arm> = (0..40)
                .map(|i| {
                    let doc = DocumentRef::new(&format!("chart-{i}"), "referral_letter", 1);
                    let arm = study.arm_for(clinician, doc.document_id());
                    assert_eq!(arm, again.arm_for(clinician, doc.document_id()));
                    arm
                })
                .collect();
            let manual = arms.iter().filter(|a| **a == Arm::Manual).count();
            assert!(
                (10..=30).contains(&manual),
                "{clinician}: {manual}/40 manual"
            );
        }
        // A new version keeps the arm; another seed changes some assignments.
        let v1 = DocumentRef::new("chart-1", "referral_letter", 1);
        let v2 = DocumentRef::new("chart-1", "referral_letter", 2);
        assert_eq!(
            study.arm_for("sato", v1.document_id()),
            study.arm_for("sato", v2.document_id())
        );
        let by_chart = Study::from_config(&StudyConfig {
            unit: Some("chart".into()),
            ..config(&["manual", "assisted"], Some(42))
        })
        .unwrap();
        for i in 0..20 {
            let letter = DocumentRef::new(&format!("chart-{i}"), "referral_letter", 1);
            let summary = DocumentRef::new(&format!("chart-{i}"), "discharge_summary", 1);
            assert_eq!(
                by_chart.arm_for("sato", letter.document_id()),
                by_chart.arm_for("sato", summary.document_id())
            );
        }
        let bad_unit = StudyConfig {
            unit: Some("ward".into()),
            ..config(&["manual", "assisted"], Some(1))
        };
        assert!(matches!(
            Study::from_config(&bad_unit),
            Err(StudyError::UnknownUnit { .. })
        ));
        let recorded = study.document("sato", "chart-1", "referral_letter", 1);
        assert_eq!(
            recorded.info().arm,
            Some(study.arm_for("sato", v1.document_id()))
        );
        assert_eq!(recorded.info().study.as_deref(), Some("pilot"));
        let other = Study::from_config(&config(&["manual", "assisted"], Some(43))).unwrap();
        assert!((0..40).any(|i| {
            let id = DocumentRef::new(&format!("chart-{i}"), "referral_letter", 1);
            study.arm_for("sato", id.document_id()) != other.arm_for("sato", id.document_id())
        }));
    }
}
