//! Time-study arms on the screen: which arm each document is in, what the arm allows (the
//! `manual` arm gets the blank template and no generation), and the arm in the status bar.
//! Pure data kept in `App`, so `update` stays testable; the assignment itself is
//! `metrics::Study` (seeded, reproducible across sessions).

use crate::draft::{DocumentTemplates, DraftError};
use crate::metrics::{Arm, DocumentRef, Study, StudyConfig};
use crate::tui::state::app::App;
use crate::tui::state::document_state::{DocRef, DocumentKind};
use crate::tui::state::draft_view::{DraftPhase, DraftSection, DraftView, SectionProgress};
use std::path::Path;

/// Version recorded for every document until signed versions (store/) number them.
pub const DOCUMENT_VERSION: u32 = 1;

/// The document type as recorded in the metrics DB and shown in reports: the crate's key
/// for it (`referral`, `discharge`, as in templates and signed versions).
pub fn doc_type(kind: DocumentKind) -> &'static str {
    kind.key()
}

/// The study this session runs under.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum StudySetting {
    /// No `[study]` in the config: every document is assisted, nothing is shown.
    #[default]
    NoStudy,
    Active {
        study: Study,
        /// The OS user; the assignment is keyed by clinician (crossover).
        clinician: String,
        /// The manual arm's blank templates.
        templates: BlankTemplates,
    },
    /// The `[study]` section is invalid (the message names the fix). Generation is refused
    /// until it is fixed: drafting outside the study's assignment would spoil its data.
    Invalid(String),
}

impl StudySetting {
    pub fn from_config(config: Option<&StudyConfig>, clinician: String) -> Self {
        match config.map(Study::from_config) {
            None => StudySetting::NoStudy,
            Some(Ok(study)) => StudySetting::Active {
                study,
                clinician,
                templates: BlankTemplates::default(),
            },
            Some(Err(error)) => StudySetting::Invalid(error.to_string()),
        }
    }

    /// The study of this session from the config, for the OS user, with the blank templates
    /// from the config dir; and what to say in the status bar when something is wrong.
    pub fn for_session(ctx: &crate::context::Context) -> (Self, Option<String>) {
        let mut setting = Self::from_config(
            ctx.config.study.as_ref(),
            crate::metrics::recorder::current_clinician(),
        );
        let problem = match &setting {
            StudySetting::NoStudy => None,
            StudySetting::Invalid(problem) => {
                tracing::warn!("invalid [study] config, generation refused: {problem}");
                Some(first_line(problem).to_string())
            }
            StudySetting::Active { .. } => match BlankTemplates::load(&ctx.paths.config_dir) {
                Ok(templates) => {
                    setting.set_templates(templates);
                    None
                }
                Err(error) => {
                    // The built-ins stay; drafting reads the same file and fails the same way.
                    tracing::warn!("blank templates: {error}");
                    Some(error.to_string())
                }
            },
        };
        (setting, problem)
    }

    /// Uses `templates` for the manual arm's blank drafts (in a study).
    pub fn set_templates(&mut self, loaded: BlankTemplates) {
        if let StudySetting::Active { templates, .. } = self {
            *templates = loaded;
        }
    }

    /// The document as the metrics recorder knows it (with its study and arm in a study).
    pub fn document(&self, chart_id: &str, kind: DocumentKind) -> DocumentRef {
        match self {
            StudySetting::Active {
                study, clinician, ..
            } => study.document(clinician, chart_id, doc_type(kind), DOCUMENT_VERSION),
            _ => DocumentRef::new(chart_id, doc_type(kind), DOCUMENT_VERSION),
        }
    }

    /// The arm of a document, in a study.
    pub fn arm(&self, chart_id: &str, kind: DocumentKind) -> Option<Arm> {
        match self {
            StudySetting::Active {
                study, clinician, ..
            } => {
                let document = DocumentRef::new(chart_id, doc_type(kind), DOCUMENT_VERSION);
                Some(study.arm_for(clinician, document.document_id()))
            }
            _ => None,
        }
    }

    /// Why generating (or regenerating) this document is not allowed, if it is not.
    pub fn generation_refusal(&self, chart_id: &str, kind: DocumentKind) -> Option<String> {
        match self {
            StudySetting::NoStudy => None,
            StudySetting::Invalid(message) => Some(format!(
                "試験設定が不正なため下書き生成はできません: {}",
                first_line(message)
            )),
            StudySetting::Active { .. } => {
                let arm = self.arm(chart_id, kind)?;
                // Short: it shares the status bar with the arm chip.
                (!arm.allows_generation()).then(|| {
                    "manual 群のため下書き生成は使えません (空のテンプレートに記入)".into()
                })
            }
        }
    }

    /// The status bar's study chip: the arm of the document on screen (`試験: manual`), the
    /// study's name when no document is selected, or that the study config is broken.
    pub fn status_label(&self, current: Option<(&str, DocumentKind)>) -> Option<String> {
        match self {
            StudySetting::NoStudy => None,
            StudySetting::Invalid(_) => Some("試験設定エラー".into()),
            StudySetting::Active { study, .. } => Some(
                match current.and_then(|(chart_id, kind)| self.arm(chart_id, kind)) {
                    Some(arm) => format!("試験: {}", arm.name()),
                    None => format!("試験: {}", study.name),
                },
            ),
        }
    }
}

/// The status bar's study chip for the document on screen (selected chart, current document).
pub fn study_chip(app: &App) -> Option<String> {
    let current = app
        .selected_chart()
        .map(|chart| (chart.id.as_str(), app.draft_document));
    app.study.status_label(current)
}

/// Whether generating the document on screen is refused (manual arm, broken study config).
pub fn generation_refused_on_screen(app: &App) -> bool {
    app.selected_chart().is_some_and(|chart| {
        app.study
            .generation_refusal(&chart.id, app.draft_document)
            .is_some()
    })
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// The section headings of each document's template: the manual arm's blank template.
/// Read once at startup (`update` does no I/O), so a hospital's own template in
/// `<config dir>/templates/` gives the same sections as it gives the AI draft.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlankTemplates {
    templates: std::sync::Arc<DocumentTemplates>,
}

impl From<DocumentTemplates> for BlankTemplates {
    fn from(templates: DocumentTemplates) -> Self {
        Self {
            templates: std::sync::Arc::new(templates),
        }
    }
}

impl BlankTemplates {
    /// The templates as drafting uses them: the config dir's own, else the built-ins.
    pub fn load(config_dir: &Path) -> Result<Self, DraftError> {
        DocumentTemplates::load(config_dir).map(Self::from)
    }

    /// The blank template of a document: its headings with empty bodies, complete.
    pub fn blank(&self, kind: DocumentKind) -> DraftView {
        DraftView {
            sections: self
                .templates
                .get(kind)
                .blank_sections()
                .into_iter()
                .map(|(title, text)| DraftSection {
                    title,
                    text,
                    // Written by the clinician, not filled from the chart (the pane labels
                    // `generated: false` sections "カルテから").
                    generated: true,
                    progress: SectionProgress::Done,
                    entities: Vec::new(),
                    sources: Vec::new(),
                    mode: None,
                    provenance: Vec::new(),
                })
                .collect(),
            phase: DraftPhase::Blank,
        }
    }
}

/// In the manual arm the draft pane starts from the blank template: gives the document on
/// screen its blank draft the first time it is shown (called by `update`).
pub fn prepare_blank_draft(app: &mut App) {
    let StudySetting::Active { templates, .. } = &app.study else {
        return;
    };
    let Some(chart_id) = app.selected_chart().map(|c| c.id.clone()) else {
        return;
    };
    let key = DocRef::new(chart_id, app.draft_document);
    // Runs on every action (streamed tokens too): the arm's hash only when there is no draft.
    if app.drafts.contains_key(&key) || app.study.arm(&key.chart_id, key.kind) != Some(Arm::Manual)
    {
        return;
    }
    let blank = templates.blank(key.kind);
    app.drafts.insert(key, blank);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study_config(seed: Option<u64>) -> StudyConfig {
        StudyConfig {
            name: "pilot".into(),
            arms: vec!["manual".into(), "assisted".into()],
            unit: None,
            seed,
        }
    }

    #[test]
    fn arms_refuse_generation_only_in_manual_and_for_a_broken_config() {
        let setting = StudySetting::from_config(Some(&study_config(Some(7))), "sato".into());
        let charts: Vec<String> = (0..20).map(|i| format!("chart-{i}")).collect();
        let arms: Vec<Arm> = charts
            .iter()
            .map(|c| setting.arm(c, DocumentKind::Referral).unwrap())
            .collect();
        assert!(arms.contains(&Arm::Manual) && arms.contains(&Arm::Assisted));
        for (chart, arm) in charts.iter().zip(&arms) {
            let refusal = setting.generation_refusal(chart, DocumentKind::Referral);
            assert_eq!(refusal.is_some(), *arm == Arm::Manual, "{chart}");
            assert_eq!(
                setting.status_label(Some((chart, DocumentKind::Referral))),
                Some(format!("試験: {}", arm.name()))
            );
            let document = setting.document(chart, DocumentKind::Referral);
            assert_eq!(document.info().arm, Some(*arm));
            assert!(!document.document_id().contains(chart.as_str()));
        }

        let broken = StudySetting::from_config(Some(&study_config(None)), "sato".into());
        let refusal = broken
            .generation_refusal("chart-1", DocumentKind::Discharge)
            .unwrap();
        assert!(refusal.contains("seed"), "{refusal}");
        assert_eq!(broken.status_label(None).as_deref(), Some("試験設定エラー"));
        assert_eq!(broken.arm("chart-1", DocumentKind::Discharge), None);

        let none = StudySetting::from_config(None, "sato".into());
        assert_eq!(
            none.generation_refusal("chart-1", DocumentKind::Referral),
            None
        );
        assert_eq!(none.status_label(None), None);
        assert_eq!(
            none.document("chart-1", DocumentKind::Referral).info().arm,
            None
        );
    }

    #[test]
    fn a_hospital_template_gives_the_blank_headings() {
        let config_dir = tempfile::tempdir().unwrap();
        let builtin = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/draft/templates/referral.toml"
        ))
        .unwrap();
        std::fs::create_dir(config_dir.path().join("templates")).unwrap();
        let own = config_dir.path().join("templates/referral.toml");
        std::fs::write(&own, builtin.replace("紹介目的", "ご紹介の目的")).unwrap();
        let templates = BlankTemplates::load(config_dir.path()).unwrap();
        let blank = templates.blank(DocumentKind::Referral);
        assert!(blank.sections.iter().any(|s| s.title == "ご紹介の目的"));
        assert!(!blank.sections.iter().any(|s| s.title == "紹介目的"));
        assert_eq!(
            templates.blank(DocumentKind::Discharge),
            BlankTemplates::default().blank(DocumentKind::Discharge)
        );

        std::fs::write(&own, "doc = \"referral\"\n[[sections]]\n").unwrap();
        let error = BlankTemplates::load(config_dir.path()).unwrap_err();
        assert!(error.to_string().contains("referral.toml"), "{error}");
    }

    #[test]
    fn a_session_says_what_is_wrong_with_its_study() {
        let root = tempfile::tempdir().unwrap();
        let context = |study: Option<StudyConfig>| crate::context::Context {
            paths: crate::paths::AppPaths::under(root.path()),
            config: crate::config::Config {
                study,
                ..Default::default()
            },
            config_path: root.path().join("config/config.toml"),
            queue_dir: root.path().join("queue"),
            model_path: root.path().join("model.gguf"),
        };
        assert_eq!(
            StudySetting::for_session(&context(None)),
            (StudySetting::NoStudy, None)
        );
        let (setting, problem) = StudySetting::for_session(&context(Some(study_config(None))));
        assert!(matches!(setting, StudySetting::Invalid(_)));
        assert!(problem.unwrap().contains("seed"));
        let (setting, problem) = StudySetting::for_session(&context(Some(study_config(Some(5)))));
        assert!(matches!(setting, StudySetting::Active { .. }));
        assert_eq!(problem, None);
        let templates = root.path().join("config/templates");
        std::fs::create_dir_all(&templates).unwrap();
        std::fs::write(templates.join("discharge.toml"), "not toml [").unwrap();
        let (setting, problem) = StudySetting::for_session(&context(Some(study_config(Some(5)))));
        assert!(
            matches!(setting, StudySetting::Active { .. }),
            "still a study"
        );
        assert!(problem.unwrap().contains("discharge.toml"));
    }

    #[test]
    fn the_blank_template_has_headings_and_nothing_streaming() {
        for kind in DocumentKind::ALL {
            let blank = BlankTemplates::default().blank(kind);
            assert!(blank.sections.len() >= 10);
            assert!(!blank.is_generating());
            assert_eq!(blank.phase, DraftPhase::Blank);
            assert!(blank.sections.iter().all(|s| s.text.is_empty()));
            assert!(blank.sections.iter().any(|s| s.title == "アレルギー"));
        }
    }
}
