//! Document templates are data (TOML): the built-ins are embedded, and a hospital replaces
//! one by putting a file of the same name in `<config dir>/templates/`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::DraftError;
use super::evidence::EvidenceRule;
use super::model::{DocumentKind, SectionKind};

const REFERRAL_TOML: &str = include_str!("templates/referral.toml");
const DISCHARGE_TOML: &str = include_str!("templates/discharge.toml");

/// Which structured records fill a factual section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactSource {
    /// 宛先: the chart's referral target.
    ReferralTarget,
    /// 氏名, カナ, 性別, 生年月日 (年齢), 患者ID.
    Patient,
    /// 入院日, 退院日, 診療科, 病棟, 主治医.
    Admission,
    /// Every diagnosis, main first.
    Diagnoses,
    /// 主病名 and 副病名 lines.
    MainAndSubDiagnoses,
    /// Prescriptions still running (no end date) or continued after discharge.
    CurrentPrescriptions,
    /// Prescriptions flagged as 退院時処方.
    DischargePrescriptions,
    Allergies,
    /// Lab results flagged H/L, and the latest value of every other item.
    Labs,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionTemplate {
    pub key: String,
    pub title: String,
    pub kind: SectionKind,
    /// Factual sections: the records that fill it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<FactSource>,
    /// Narrative sections: what to write (shown to the model before the section header).
    #[serde(default)]
    pub instruction: String,
    /// Narrative sections: words that make a note relevant to this section.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Narrative sections: note kinds (入院時記録, 経過記録 …) relevant to this section.
    #[serde(default)]
    pub note_kinds: Vec<String>,
    /// Narrative sections: the most tokens the model may write.
    #[serde(default)]
    pub max_tokens: usize,
    /// Narrative sections: where the evidence comes from, in priority order (note kinds and
    /// the sectionizer's segment labels). A hospital's template can rewire it.
    #[serde(default)]
    pub evidence: Vec<EvidenceRule>,
    /// Narrative sections: the most characters of evidence (and so of an `evidence`-mode
    /// section).
    #[serde(default = "default_evidence_chars")]
    pub evidence_chars: usize,
    /// Narrative sections: how the evidence is written.
    #[serde(default)]
    pub composer: Composer,
}

fn default_evidence_chars() -> usize {
    300
}

/// How a narrative section's evidence becomes text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Composer {
    /// The chosen sentences as prose, a new line per segment.
    #[default]
    Sentences,
    /// Each sentence on its own line after its note's date (procedures).
    Dated,
    /// The condensed, dated hospital course (`course.rs`).
    Course,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentTemplate {
    pub doc: DocumentKind,
    pub title: String,
    /// A short example of the section format, shown to base models before the chart.
    #[serde(default)]
    pub example: String,
    pub sections: Vec<SectionTemplate>,
}

impl DocumentTemplate {
    /// The built-in template of `doc`.
    pub fn builtin(doc: DocumentKind) -> Self {
        let (name, text) = match doc {
            DocumentKind::Referral => ("referral.toml", REFERRAL_TOML),
            DocumentKind::Discharge => ("discharge.toml", DISCHARGE_TOML),
        };
        // The built-ins are part of the source tree and checked by a unit test.
        Self::parse(text, Path::new(name))
            .unwrap_or_else(|e| panic!("built-in template {name}: {e}"))
    }

    /// `<config_dir>/templates/<doc>.toml` when it exists, else the built-in.
    pub fn load(doc: DocumentKind, config_dir: &Path) -> Result<Self, DraftError> {
        let path = Self::override_path(doc, config_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let template = Self::parse(&text, &path)?;
                if template.doc != doc {
                    return Err(DraftError::TemplateInvalid {
                        path,
                        message: format!(
                            "it is a template for \"{}\", expected \"{}\"",
                            template.doc.key(),
                            doc.key()
                        ),
                    });
                }
                Ok(template)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::builtin(doc)),
            Err(e) => Err(DraftError::TemplateUnreadable {
                path,
                message: e.to_string(),
            }),
        }
    }

    pub fn override_path(doc: DocumentKind, config_dir: &Path) -> PathBuf {
        config_dir
            .join("templates")
            .join(format!("{}.toml", doc.key()))
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, DraftError> {
        let invalid = |message: String| DraftError::TemplateInvalid {
            path: path.to_path_buf(),
            message,
        };
        let template: DocumentTemplate =
            toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if template.sections.is_empty() {
            return Err(invalid("it has no sections".into()));
        }
        let mut keys = HashSet::new();
        for s in &template.sections {
            if !keys.insert(s.key.as_str()) {
                return Err(invalid(format!("section key \"{}\" appears twice", s.key)));
            }
            match s.kind {
                SectionKind::Factual if s.source.is_none() => {
                    return Err(invalid(format!(
                        "factual section \"{}\" needs a `source`",
                        s.key
                    )))
                }
                SectionKind::Narrative if s.max_tokens == 0 => {
                    return Err(invalid(format!(
                        "narrative section \"{}\" needs `max_tokens` above 0",
                        s.key
                    )))
                }
                _ => {}
            }
        }
        Ok(template)
    }

    pub fn section(&self, key: &str) -> Option<&SectionTemplate> {
        self.sections.iter().find(|s| s.key == key)
    }

    /// The journal key of a section title: the template's key when the title is one of the
    /// template's, else the title itself (titles are unique within a document). A document
    /// written by hand or edited keeps the same keys as a drafted one, so it exports alike.
    pub fn section_key(&self, title: &str) -> String {
        self.sections
            .iter()
            .find(|s| s.title == title)
            .map_or_else(|| title.to_string(), |s| s.key.clone())
    }

    /// A blank document: every section title with an empty body, in order.
    pub fn blank_sections(&self) -> Vec<(String, String)> {
        self.sections
            .iter()
            .map(|s| (s.title.clone(), String::new()))
            .collect()
    }
}

/// The templates of both documents as this installation uses them: the config dir's own,
/// else the built-ins. Loaded once; the editor, the guard and drafting read the same ones.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentTemplates {
    referral: DocumentTemplate,
    discharge: DocumentTemplate,
}

impl Default for DocumentTemplates {
    /// The built-in templates.
    fn default() -> Self {
        Self {
            referral: DocumentTemplate::builtin(DocumentKind::Referral),
            discharge: DocumentTemplate::builtin(DocumentKind::Discharge),
        }
    }
}

impl DocumentTemplates {
    /// `<config_dir>/templates/<doc>.toml` for each document when it exists, else the built-in.
    pub fn load(config_dir: &Path) -> Result<Self, DraftError> {
        Ok(Self {
            referral: DocumentTemplate::load(DocumentKind::Referral, config_dir)?,
            discharge: DocumentTemplate::load(DocumentKind::Discharge, config_dir)?,
        })
    }

    pub fn get(&self, doc: DocumentKind) -> &DocumentTemplate {
        match doc {
            DocumentKind::Referral => &self.referral,
            DocumentKind::Discharge => &self.discharge,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_and_have_the_required_sections() {
        let referral = DocumentTemplate::builtin(DocumentKind::Referral);
        let titles: Vec<&str> = referral.sections.iter().map(|s| s.title.as_str()).collect();
        for t in [
            "宛先",
            "患者情報",
            "紹介目的",
            "傷病名",
            "既往歴・家族歴",
            "症状経過・検査結果・治療経過",
            "現在の処方",
            "アレルギー",
            "備考",
        ] {
            assert!(titles.contains(&t), "{t}");
        }
        let discharge = DocumentTemplate::builtin(DocumentKind::Discharge);
        let titles: Vec<&str> = discharge
            .sections
            .iter()
            .map(|s| s.title.as_str())
            .collect();
        for t in [
            "患者情報",
            "入院日・退院日",
            "主病名・副病名",
            "主訴",
            "現病歴",
            "既往歴",
            "アレルギー",
            "入院時所見",
            "入院後経過",
            "手術・処置",
            "退院時処方",
            "退院時の状態",
            "今後の方針",
        ] {
            assert!(titles.contains(&t), "{t}");
        }
    }

    #[test]
    fn section_keys_and_blank_sections_come_from_the_template() {
        let discharge = DocumentTemplate::builtin(DocumentKind::Discharge);
        assert_eq!(discharge.section_key("入院後経過"), "hospital_course");
        assert_eq!(discharge.section_key("独自"), "独自");
        let blank = DocumentTemplates::default()
            .get(DocumentKind::Referral)
            .blank_sections();
        assert_eq!(blank.len(), 10);
        assert!(blank.iter().all(|(_, body)| body.is_empty()));
    }

    #[test]
    fn an_override_in_the_config_dir_wins_and_bad_ones_are_named() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            DocumentTemplate::load(DocumentKind::Referral, dir.path()).unwrap(),
            DocumentTemplate::builtin(DocumentKind::Referral)
        );
        let path = DocumentTemplate::override_path(DocumentKind::Referral, dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            "doc = \"referral\"\ntitle = \"紹介状\"\n[[sections]]\nkey = \"p\"\ntitle = \"患者\"\nkind = \"factual\"\nsource = \"patient\"\n",
        )
        .unwrap();
        let t = DocumentTemplate::load(DocumentKind::Referral, dir.path()).unwrap();
        assert_eq!(t.title, "紹介状");
        std::fs::write(&path, "doc = \"referral\"\ntitle = \"x\"\n[[sections]]\nkey = \"p\"\ntitle = \"患者\"\nkind = \"narrative\"\n").unwrap();
        let err = DocumentTemplate::load(DocumentKind::Referral, dir.path()).unwrap_err();
        assert!(err.to_string().contains("max_tokens"), "{err}");
        assert!(err.to_string().contains("referral.toml"), "{err}");
        std::fs::write(&path, "doc = \"discharge\"\ntitle = \"x\"\n[[sections]]\nkey = \"p\"\ntitle = \"患者\"\nkind = \"factual\"\nsource = \"patient\"\n").unwrap();
        assert!(DocumentTemplate::load(DocumentKind::Referral, dir.path()).is_err());
    }
}
